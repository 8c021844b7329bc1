"""HS256 JSON Web Tokens (RFC 7519) with the standard library, for Kling's API keys.

Kling authenticates with a JWT signed by the secret key: header ``{"alg":"HS256","typ":"JWT"}``,
payload ``{"iss": access_key, "exp": now + 1800, "nbf": now - 5}``. ``decode_hs256`` exists for
the local fake service, which checks tokens the way the real API does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenInvalidError(ValueError):
    """A token that is malformed or whose signature does not match."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def encode_hs256(claims: dict[str, Any], secret: str) -> str:
    """``header.payload.signature`` for ``claims``, signed with ``secret``."""
    signing_input = f"{_b64url(_json(_HEADER))}.{_b64url(_json(claims))}"
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def decode_hs256(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token signed with ``secret`` (times are not checked here).

    Raises:
        TokenInvalidError: malformed, not HS256, or a wrong signature.
    """
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64url(header_b64))
        claims = json.loads(_unb64url(payload_b64))
        signature = _unb64url(signature_b64)
    except ValueError:
        raise TokenInvalidError("malformed token") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenInvalidError("not an HS256 token")
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    expected = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise TokenInvalidError("signature mismatch")
    if not isinstance(claims, dict):
        raise TokenInvalidError("claims are not an object")
    return claims
