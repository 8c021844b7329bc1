"""Secrets for the cloud clients: read from a file or a systemd credential, never shown.

A ``Secret`` prints as ``***`` (``repr``, ``str``, f-strings, logging, tracebacks) and refuses
to be pickled; only ``reveal()`` returns the value, and only the code that builds a request
header calls it. ``scrub`` removes every secret a client holds from text that came back from a
provider before that text goes into an error reason.

systemd: ``LoadCredential=gemini-api-key:/etc/exoactor/credentials/gemini-api-key`` in the unit
puts the file under ``$CREDENTIALS_DIRECTORY``; ``daemon.config.service_environment()`` hands
that directory down, so this module reads no environment itself.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from daemon.generation.config import CredentialRef
from daemon.generation.errors import CredentialError
from daemon.generation.progress import Stage

log = logging.getLogger(__name__)

_MAX_SECRET_BYTES = 16 * 1024
_MASK = "***"


class Secret:
    """A credential value that does not show itself."""

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: str) -> None:
        if not value:
            raise ValueError(f"secret {name} is empty")
        self.name = name
        self._value = value

    def reveal(self) -> str:
        """The value, for building a request header. Never log or store the result."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, {_MASK!r})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def scrub(text: str, secrets: Iterable[Secret]) -> str:
    """``text`` with every occurrence of each secret's value replaced by ``***``."""
    for secret in secrets:
        value = secret.reveal()
        if value in text:
            text = text.replace(value, _MASK)
    return text


def read_credential(
    ref: CredentialRef, *, credentials_dir: Path | None, stage: Stage, name: str
) -> Secret:
    """Read one secret (surrounding whitespace and the trailing newline stripped).

    Args:
        ref: a file path or a systemd credential name.
        credentials_dir: ``$CREDENTIALS_DIRECTORY`` when running under systemd, else None.
        stage: the stage that needs it (for the error).
        name: what it is, e.g. "gemini api key" (for the error and the Secret's repr).

    Raises:
        CredentialError: missing, unreadable, empty or too large; the message names the path,
            never the content.
    """
    if ref.file is not None:
        path = ref.file
    else:
        if credentials_dir is None:
            _fail(
                stage,
                name,
                f"systemd credential {ref.credential!r} asked for, but the "
                "service has no CREDENTIALS_DIRECTORY (LoadCredential= missing?)",
            )
        path = credentials_dir / str(ref.credential)
    try:
        info = path.stat()
        if info.st_size > _MAX_SECRET_BYTES:
            _fail(stage, name, f"{path} is larger than {_MAX_SECRET_BYTES} bytes")
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(stage, name, f"{path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(stage, name, f"{path} cannot be read ({type(exc).__name__})")
    if info.st_mode & stat.S_IROTH:
        log.warning("credential file %s is readable by every user; chmod o-r it", path)
    value = raw.strip()
    if not value:
        _fail(stage, name, f"{path} is empty")
    return Secret(name, value)


def _fail(stage: Stage, name: str, reason: str) -> NoReturn:
    raise CredentialError(stage, name, reason)
