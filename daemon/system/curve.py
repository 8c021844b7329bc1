"""ZeroMQ CURVE for the daemon's network-facing sockets: keys from files, clients by allow-list.

Why: the upload ROUTER stores motion packages the robot may later execute, and the SONIC stream
SUB feeds references straight into the control loop. Without CURVE anyone who can reach the
port can do both. With CURVE the traffic is encrypted, the server proves it holds the robot's
secret key, and a ZAP handler (pyzmq's ``AsyncioAuthenticator``) admits only client public keys
on an allow-list; an unknown key or a plaintext client fails the handshake and never gets a
message through.

The server's secret key never appears in the configuration: ``CurveConfig`` only says where it
lives (a file, or a systemd credential under ``$CREDENTIALS_DIRECTORY``), and an inline key is
refused when the configuration is validated. A key file is either a ``zmq.auth`` secret
certificate (``NAME.key_secret``, what ``exoactor-edge zmq keygen`` writes) or one line with the
40-character z85 secret key. Allowed clients are z85 public keys in the configuration (public,
so they may be inline) and/or a folder of ``zmq.auth`` public certificates (``*.key``).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.asyncio
import zmq.auth
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.auth.thread import ThreadAuthenticator

_LOG = logging.getLogger(__name__)

Z85_KEY_LEN = 40
_MAX_KEY_FILE_BYTES = 16 * 1024
_HANDSHAKE_FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH,
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL,
)


class CurveConfigError(ValueError):
    """A CURVE setting is malformed. Attributes: ``field``, ``detail``."""

    def __init__(self, field_name: str, detail: str) -> None:
        self.field = field_name
        self.detail = detail
        super().__init__(f"curve.{field_name}: {detail}")


class CurveKeyError(RuntimeError):
    """A CURVE key could not be loaded. Never carries key material.

    Attributes:
        source: where the key was to come from (a path, or ``credential:<name>``).
        detail: why it could not be used.
    """

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"CURVE key from {source}: {detail}")


def is_z85_key(value: bytes) -> bool:
    """True for a 40-character z85 string that decodes to a 32-byte key."""
    if len(value) != Z85_KEY_LEN:
        return False
    try:
        zmq.utils.z85.decode(value)
    except (ValueError, KeyError):
        return False
    return True


def check_z85_key(name: str, key: bytes) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``key`` is a z85-encoded CURVE key."""
    if len(key) != Z85_KEY_LEN:
        raise ValueError(f"{name}: a CURVE key is 40 z85 characters, got {len(key)} bytes")
    if not is_z85_key(key):
        raise ValueError(f"{name}: not a z85-encoded key")


@dataclass(frozen=True)
class CurveConfig:
    """CURVE on one server socket (TOML ``[ingest.curve]`` or ``[streaming.curve]``)."""

    secret_key_file: Path | None = None
    """The server's secret key: a ``zmq.auth`` ``.key_secret`` certificate or a z85 line."""
    secret_key_credential: str | None = None
    """A systemd credential name (``LoadCredential=``): ``$CREDENTIALS_DIRECTORY/<name>``."""
    authorized_keys: tuple[str, ...] = ()
    """z85 public keys of the clients allowed in."""
    authorized_keys_dir: Path | None = None
    """A folder of ``zmq.auth`` public certificates (``*.key``) of the clients allowed in."""
    secret_key: str | None = None
    """Refused when set: a secret never goes in the configuration file."""

    def __post_init__(self) -> None:
        if self.secret_key is not None:
            raise CurveConfigError(
                "secret_key",
                "an inline secret key is refused; put it in a file (secret_key_file) or a "
                "systemd credential (secret_key_credential)",
            )
        if (self.secret_key_file is None) == (self.secret_key_credential is None):
            raise CurveConfigError(
                "secret_key_file", "set exactly one of secret_key_file or secret_key_credential"
            )
        if self.secret_key_file is not None and is_z85_key(str(self.secret_key_file).encode()):
            raise CurveConfigError(
                "secret_key_file", "this looks like the key itself; name the file that holds it"
            )
        credential = self.secret_key_credential
        if credential is not None and (not credential or "/" in credential):
            raise CurveConfigError("secret_key_credential", "must be a plain credential name")
        for key in self.authorized_keys:
            if not is_z85_key(key.encode()):
                raise CurveConfigError(
                    "authorized_keys", f"{key[:8]!r}...: not a 40-character z85 public key"
                )
        if not self.authorized_keys and self.authorized_keys_dir is None:
            raise CurveConfigError(
                "authorized_keys",
                "CURVE needs a client allow-list (authorized_keys and/or authorized_keys_dir)",
            )

    @property
    def secret_source(self) -> str:
        """Where the secret key comes from, for messages (never the key)."""
        if self.secret_key_file is not None:
            return str(self.secret_key_file)
        return f"credential:{self.secret_key_credential}"


@dataclass(frozen=True)
class CurveServerKeys:
    """Loaded CURVE material of a server socket (z85, as ``zmq.auth`` files hold it)."""

    public_key: bytes
    secret_key: bytes = field(repr=False)
    authorized_clients: frozenset[bytes] = frozenset()
    """Client public keys allowed in; an empty set admits nobody."""

    def __post_init__(self) -> None:
        check_z85_key("public_key", self.public_key)
        check_z85_key("secret_key", self.secret_key)
        for key in self.authorized_clients:
            check_z85_key("authorized_clients", key)


@dataclass(frozen=True)
class CurveClientKeys:
    """CURVE for a client: its own key pair and the server's public key (z85)."""

    server_public_key: bytes
    public_key: bytes
    secret_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_z85_key("server_public_key", self.server_public_key)
        check_z85_key("public_key", self.public_key)
        check_z85_key("secret_key", self.secret_key)


# ---------------------------------------------------------------------- loading keys


def read_key_pair(path: Path, source: str | None = None) -> tuple[bytes, bytes]:
    """(public, secret) from a secret certificate or a one-line z85 secret key file.

    Raises:
        CurveKeyError: missing, unreadable, too large, or not a secret key.
    """
    where = source or str(path)
    try:
        size = path.stat().st_size
        if size > _MAX_KEY_FILE_BYTES:
            raise CurveKeyError(where, f"larger than {_MAX_KEY_FILE_BYTES} bytes")
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CurveKeyError(where, "does not exist") from None
    except OSError as exc:
        raise CurveKeyError(where, exc.strerror or type(exc).__name__) from None
    if mode & stat.S_IROTH:
        _LOG.warning("CURVE secret key %s is readable by every user; chmod o-r it", where)
    line = raw.strip()
    if is_z85_key(line):
        return zmq.curve_public(line), line
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError):
        raise CurveKeyError(where, "neither a z85 secret key nor a zmq certificate") from None
    if secret is None:
        raise CurveKeyError(where, "a public certificate; the server needs the .key_secret file")
    if not is_z85_key(secret) or zmq.curve_public(secret) != public:
        raise CurveKeyError(where, "the certificate's secret and public keys do not match")
    return public, secret


def read_public_key(value: str) -> bytes:
    """A z85 public key given inline or as the path of a ``zmq.auth`` certificate.

    Raises:
        CurveKeyError: neither.
    """
    if is_z85_key(value.encode()):
        return value.encode()
    try:
        public, _ = zmq.auth.load_certificate(value)
    except (OSError, ValueError):
        raise CurveKeyError(value, "neither a z85 public key nor a zmq certificate") from None
    if not is_z85_key(public):
        raise CurveKeyError(value, "the certificate's public key is not z85")
    return public


def _allow_list(config: CurveConfig) -> frozenset[bytes]:
    keys = {key.encode() for key in config.authorized_keys}
    folder = config.authorized_keys_dir
    if folder is not None:
        if not folder.is_dir():
            raise CurveKeyError(str(folder), "the authorized_keys_dir does not exist")
        for cert in sorted(folder.glob("*.key")):
            try:
                public, _ = zmq.auth.load_certificate(cert)
            except (OSError, ValueError):
                raise CurveKeyError(str(cert), "not a zmq public certificate") from None
            if not is_z85_key(public):
                raise CurveKeyError(str(cert), "its public key is not z85")
            keys.add(public)
    if not keys:
        raise CurveKeyError(str(folder), "no client keys: nobody could connect")
    return frozenset(keys)


def load_server_keys(config: CurveConfig, environ: Mapping[str, str]) -> CurveServerKeys:
    """Read the server's key pair and the client allow-list that ``config`` names.

    Args:
        config: where the keys are.
        environ: where ``CREDENTIALS_DIRECTORY`` is looked up.

    Raises:
        CurveKeyError: a key is missing or malformed; the error names the source only.
    """
    if config.secret_key_file is not None:
        path = config.secret_key_file
    else:
        directory = environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise CurveKeyError(
                config.secret_source,
                "$CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit?)",
            )
        path = Path(directory) / str(config.secret_key_credential)
    public, secret = read_key_pair(path, config.secret_source)
    return CurveServerKeys(public, secret, _allow_list(config))


class _AllowListedKeys:
    """ZAP credentials provider: a fixed set of z85 client public keys."""

    def __init__(self, keys: frozenset[bytes]) -> None:
        self._keys = keys
        self.refused = 0

    def callback(self, domain: str, key: bytes) -> bool:
        if key in self._keys:
            return True
        self.refused += 1
        # An attacker can make this fire at will: the first few, then one in a hundred.
        if self.refused <= 5 or self.refused % 100 == 0:
            _LOG.warning(
                "CURVE client key refused (%d so far): %s",
                self.refused,
                key.decode("ascii", "replace"),
                extra={"CAUSE": "curve_refused"},
            )
        return False


def start_curve_server(
    context: zmq.asyncio.Context, sock: zmq.asyncio.Socket, keys: CurveServerKeys
) -> AsyncioAuthenticator:
    """Make ``sock`` a CURVE server whose clients must be on ``keys.authorized_clients``.

    Call before bind/connect. The ZAP handler belongs to ``context``: give each CURVE server a
    context of its own so that one allow-list never applies to another socket. The caller
    stops the returned authenticator when it closes the socket.
    """
    auth = AsyncioAuthenticator(context)
    auth.start()
    auth.configure_curve_callback("*", _AllowListedKeys(keys.authorized_clients))
    sock.curve_secretkey = keys.secret_key
    sock.curve_publickey = keys.public_key
    sock.curve_server = True
    return auth


def start_curve_server_thread(
    context: zmq.Context[zmq.Socket[bytes]], sock: zmq.Socket[bytes], keys: CurveServerKeys
) -> ThreadAuthenticator:
    """``start_curve_server`` for a socket used outside the event loop (the stream relay's
    thread): the ZAP handler runs in a thread of its own instead of on the event loop."""
    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve_callback("*", _AllowListedKeys(keys.authorized_clients))
    sock.curve_secretkey = keys.secret_key
    sock.curve_publickey = keys.public_key
    sock.curve_server = True
    return auth


def apply_client_keys(sock: zmq.Socket[bytes] | zmq.asyncio.Socket, keys: CurveClientKeys) -> None:
    """Make ``sock`` a CURVE client of the server whose public key ``keys`` names."""
    sock.curve_serverkey = keys.server_public_key
    sock.curve_publickey = keys.public_key
    sock.curve_secretkey = keys.secret_key


def handshake_refusal(event: int) -> str | None:
    """Why a monitor event means the peer refused us, or None when it does not."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return "the server refused this client's CURVE key (not on its allow-list)"
    if event in _HANDSHAKE_FAILURES:
        return (
            "the security handshake failed: the server expects CURVE with other keys, or "
            "this client speaks CURVE to a plaintext server"
        )
    return None


# ---------------------------------------------------------------------- key generation


def generate_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """Write ``NAME.key`` (public, shareable) and ``NAME.key_secret`` (0600) into ``directory``.

    Raises:
        CurveKeyError: a file of that name exists already (keys are never overwritten) or
            the folder cannot be written.
    """
    if not name or "/" in name or name.startswith("."):
        raise CurveKeyError(name, "a key name is a plain file name")
    public_path = directory / f"{name}.key"
    secret_path = directory / f"{name}.key_secret"
    for path in (public_path, secret_path):
        if path.exists():
            raise CurveKeyError(str(path), "exists already; keys are never overwritten")
    old_umask = os.umask(0o077)  # the secret file is never readable by others, not even briefly
    try:
        directory.mkdir(parents=True, exist_ok=True)
        public_name, secret_name = zmq.auth.create_certificates(directory, name)
    except OSError as exc:
        raise CurveKeyError(str(directory), exc.strerror or type(exc).__name__) from None
    finally:
        os.umask(old_umask)
    Path(public_name).chmod(0o644)
    Path(secret_name).chmod(0o600)
    return Path(public_name), Path(secret_name)
