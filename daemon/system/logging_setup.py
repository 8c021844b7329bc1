"""Logging for the daemon: the journal with structured fields, or stderr with the fields appended.

Structured fields are passed as upper-case ``extra`` keys::

    log.warning("tilt beyond limit", extra=log_fields(mode="DAMP", cause="TILT"))

which become journal fields ``MODE=DAMP CAUSE=TILT`` (query with ``journalctl -u exoactor-edge
CAUSE=TILT``) or, on stderr, ``... tilt beyond limit [MODE=DAMP CAUSE=TILT]``. The journal is
used through ``systemd.journal.JournalHandler`` when systemd-python (an optional extra; it
builds against libsystemd-dev) is importable and journald's socket exists; ``journal.send``
drops messages silently without journald, so stderr is used then (under systemd, stderr
reaches the journal too, without the fields).
"""

from __future__ import annotations

import enum
import importlib
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
SYSLOG_IDENTIFIER = "exoactor-edge"
_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
"""journald field names: upper-case letters, digits, underscores, not starting with ``_``."""
_HANDLER_MARK = "_exoactor_handler"
_STDERR_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogTarget(enum.Enum):
    AUTO = "auto"
    """The journal when systemd-python and journald are there, else stderr."""
    JOURNAL = "journal"
    STDERR = "stderr"


def log_fields(**fields: object) -> dict[str, object]:
    """``extra=`` for structured fields: ``log_fields(mode="TRACK", package_id="x")`` ->
    ``{"MODE": "TRACK", "PACKAGE_ID": "x"}``; None values are left out."""
    return {name.upper(): value for name, value in fields.items() if value is not None}


def structured_fields(record: logging.LogRecord) -> dict[str, object]:
    """The upper-case structured fields a record carries (from ``extra=``)."""
    return {k: v for k, v in vars(record).items() if _FIELD_NAME.fullmatch(k) is not None}


class StructuredFormatter(logging.Formatter):
    """Plain text with the record's structured fields appended as ``[KEY=value ...]``."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = structured_fields(record)
        if not fields:
            return text
        pairs = " ".join(f"{k}={_one_line(v)}" for k, v in sorted(fields.items()))
        return f"{text} [{pairs}]"


def _one_line(value: object) -> str:
    return " ".join(str(value).splitlines())


def journal_module() -> Any | None:
    """``systemd.journal`` when systemd-python is installed, else None."""
    try:
        return importlib.import_module("systemd.journal")
    except ImportError:
        return None


def make_journal_handler(
    *, identifier: str = SYSLOG_IDENTIFIER, sender: Callable[..., object] | None = None
) -> logging.Handler:
    """A ``JournalHandler`` that sends only the message, the standard fields and the
    structured (upper-case) ``extra`` fields.

    Args:
        identifier: ``SYSLOG_IDENTIFIER``.
        sender: replaces ``systemd.journal.send`` (tests).

    Raises:
        ImportError: systemd-python is not installed.
    """
    journal = journal_module()
    if journal is None:
        raise ImportError("systemd-python is not installed: pip install 'systemd-python'")
    send = sender if sender is not None else journal.send

    def send_fields(message: str, /, **fields: object) -> object:
        # JournalHandler passes every LogRecord attribute; journald would drop the lower-case
        # ones, but only after they crossed the socket.
        kept = {k: v for k, v in fields.items() if _FIELD_NAME.fullmatch(k) is not None}
        return send(message, **kept)

    handler: logging.Handler = journal.JournalHandler(
        SYSLOG_IDENTIFIER=identifier, sender_function=send_fields
    )
    return handler


def setup_logging(
    *,
    level: int = logging.INFO,
    target: LogTarget = LogTarget.AUTO,
    identifier: str = SYSLOG_IDENTIFIER,
    stream: TextIO | None = None,
    journal_socket: Path = JOURNAL_SOCKET,
) -> LogTarget:
    """Install the daemon's handler on the root logger (replacing one installed before).

    Args:
        level: root log level.
        target: where to log; AUTO picks the journal when it can.
        identifier: ``SYSLOG_IDENTIFIER`` in the journal.
        stream: the stderr stream (tests pass their own).
        journal_socket: journald's socket, whose presence AUTO checks.

    Returns:
        Where logs go (JOURNAL or STDERR).

    Raises:
        ImportError: JOURNAL was asked for without systemd-python.
    """
    use_journal = target is LogTarget.JOURNAL or (
        target is LogTarget.AUTO and journal_module() is not None and journal_socket.exists()
    )
    handler: logging.Handler
    if use_journal:
        handler = make_journal_handler(identifier=identifier)
    else:
        handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
        handler.setFormatter(StructuredFormatter(_STDERR_FORMAT))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    return LogTarget.JOURNAL if use_journal else LogTarget.STDERR
