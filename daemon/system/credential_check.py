"""Which secrets a configuration needs, and which of them are missing (``config check``).

Why: a missing secret shows up late otherwise. The broker password fails every connection
attempt (the robot stays offline to the fleet), a missing CURVE key stops the service at start,
and a missing cloud key fails the first ``generateMotion``. ``exoactor-edge config check`` lists
each missing one on one line before anything runs.

A secret is referenced either by file path or by systemd credential name. For a credential the
check looks, in order, in ``$CREDENTIALS_DIRECTORY`` (under systemd), in the unit's
``LoadCredential=ID:PATH`` lines when a unit file is given (the ID must be there and its PATH
must exist: systemd refuses to start a unit whose absolute credential path is missing), else in
``/etc/exoactor/credentials/<name>``, where the shipped unit loads them from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.system.curve import CurveConfig

if TYPE_CHECKING:
    from daemon.config import EdgeConfig

DEFAULT_CREDENTIALS_SOURCE = Path("/etc/exoactor/credentials")
DEFAULT_UNIT_PATH = Path("/etc/systemd/system/exoactor-edge.service")


@dataclass(frozen=True)
class SecretNeed:
    """One secret the configuration refers to."""

    key: str
    """The configuration key that names it (``fleet.broker.password_credential``)."""
    credential: str | None
    """A systemd credential name, or None when ``path`` is a plain file."""
    path: Path | None
    purpose: str
    """What fails without it."""
    is_needed_at_start: bool
    """True: the service cannot work without it; False: one feature fails when used."""


def needed_secrets(config: EdgeConfig) -> list[SecretNeed]:
    """Every secret ``config`` refers to, in configuration order."""
    needs: list[SecretNeed] = []
    broker = config.fleet.broker
    if broker.password_credential is not None:
        needs.append(
            SecretNeed(
                "fleet.broker.password_credential",
                broker.password_credential,
                None,
                "the fleet broker refuses the connection",
                True,
            )
        )
    elif broker.password_file is not None:
        needs.append(
            SecretNeed(
                "fleet.broker.password_file",
                None,
                broker.password_file,
                "the fleet broker refuses the connection",
                True,
            )
        )
    tls = broker.tls
    if tls is not None:
        for name in ("ca_file", "cert_file", "key_file"):
            path = getattr(tls, name)
            if path is not None:
                needs.append(
                    SecretNeed(
                        f"fleet.broker.tls.{name}", None, path, "TLS to the broker fails", True
                    )
                )
    if config.ingest.curve is not None:
        needs.append(_curve_need("ingest.curve", config.ingest.curve, "the upload endpoint"))
    if config.streaming is not None and config.streaming.curve is not None:
        needs.append(_curve_need("streaming.curve", config.streaming.curve, "SONIC streaming"))
    generation = config.generation
    refs = [
        ("generation.gemini.api_key_credential", generation.gemini.api_key_credential),
        ("generation.openai.api_key_credential", generation.openai.api_key_credential),
        ("generation.kling.access_key_credential", generation.kling.access_key_credential),
        ("generation.kling.secret_key_credential", generation.kling.secret_key_credential),
        ("generation.estimation.token_credential", generation.estimation.token_credential),
    ]
    for key, ref in refs:
        if ref is not None:
            needs.append(SecretNeed(key, ref.credential, ref.file, "generateMotion fails", False))
    return needs


def _curve_need(key: str, curve: CurveConfig, what: str) -> SecretNeed:
    if curve.secret_key_credential is not None:
        return SecretNeed(
            f"{key}.secret_key_credential",
            curve.secret_key_credential,
            None,
            f"{what} does not start",
            True,
        )
    return SecretNeed(
        f"{key}.secret_key_file", None, curve.secret_key_file, f"{what} does not start", True
    )


def unit_credentials(unit_text: str) -> dict[str, Path | None]:
    """``LoadCredential=ID[:PATH]`` lines of a unit: ID -> absolute PATH (None: searched)."""
    loaded: dict[str, Path | None] = {}
    for line in unit_text.splitlines():
        stripped = line.strip()
        for prefix in ("LoadCredential=", "LoadCredentialEncrypted="):
            if stripped.startswith(prefix):
                ident, _, source = stripped[len(prefix) :].partition(":")
                path = Path(source) if source.startswith("/") else None
                loaded[ident] = path
    return loaded


def _exists(path: Path) -> str | None:
    """None when ``path`` exists, else why not (one phrase)."""
    try:
        path.stat()
    except FileNotFoundError:
        return f"{path} does not exist"
    except PermissionError:
        return f"{path} cannot be checked (permission denied; run as root)"
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    return None


def missing_secrets(
    needs: list[SecretNeed],
    *,
    credentials_dir: Path | None,
    unit: Mapping[str, Path | None] | None,
    source_dir: Path = DEFAULT_CREDENTIALS_SOURCE,
) -> list[str]:
    """One line per secret in ``needs`` that is not where it must be.

    Args:
        needs: from ``needed_secrets``.
        credentials_dir: ``$CREDENTIALS_DIRECTORY`` when run under systemd, else None.
        unit: the unit's loaded credentials (``unit_credentials``), or None without a unit.
        source_dir: where credentials are looked for with neither of the above.
    """
    lines = []
    for need in needs:
        problem = _problem(need, credentials_dir, unit, source_dir)
        if problem is not None:
            when = "needed at start" if need.is_needed_at_start else "needed when used"
            what = f"credential {need.credential!r}" if need.credential else "secret file"
            lines.append(
                f"{what} ({need.key}, {when}: without it {need.purpose}) is missing: {problem}"
            )
    return lines


def _problem(
    need: SecretNeed,
    credentials_dir: Path | None,
    unit: Mapping[str, Path | None] | None,
    source_dir: Path,
) -> str | None:
    if need.credential is None:
        return _exists(need.path) if need.path is not None else None
    name = need.credential
    if credentials_dir is not None:
        return _exists(credentials_dir / name)
    if unit is not None:
        if name not in unit:
            return (
                f"the unit has no LoadCredential={name}:{source_dir / name} "
                "(add it with `systemctl edit exoactor-edge`)"
            )
        source = unit[name]
        return _exists(source) if source is not None else None
    return _exists(source_dir / name)
