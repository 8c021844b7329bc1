"""sd_notify over a real datagram socket, the watchdog pinger, and journal/stderr logging.

Real: an ``AF_UNIX``/``SOCK_DGRAM`` socket bound by the test (a path in tmp_path and an
abstract-namespace name) standing where systemd's notify socket would be, read with ``recv``;
the asyncio pinger task; ``logging`` with a real ``StructuredFormatter`` on a string stream; and
systemd-python's ``JournalHandler`` when installed. Faked: journald itself (not running here):
the journal handler's send function is replaced by one that records the fields.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from daemon.system.logging_setup import (
    LogTarget,
    journal_module,
    log_fields,
    make_journal_handler,
    setup_logging,
)
from daemon.system.sd_notify import SdNotifier

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=10))


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(2.0)
    yield sock, path
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every datagram waiting on the socket."""
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2.0)
    return messages


def test_ready_status_watchdog_stopping_reach_the_socket(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    notifier = SdNotifier(notify_socket=path)
    assert notifier.ready(status="HOLD, package demo")
    assert notifier.status("TRACK demo\nframe 10")
    assert notifier.watchdog()
    assert notifier.stopping()
    assert notifier.extend_timeout(1.5)
    assert received(sock) == [
        "READY=1\nSTATUS=HOLD, package demo",
        "STATUS=TRACK demo frame 10",  # one line: a newline would start a bogus assignment
        "WATCHDOG=1",
        "STOPPING=1",
        "EXTEND_TIMEOUT_USEC=1500000",
    ]


def test_abstract_namespace_socket() -> None:
    name = f"exoactor-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    try:
        assert SdNotifier(notify_socket="@" + name).ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = SdNotifier.from_environment({})
    assert not notifier.is_enabled
    assert not notifier.ready()
    assert not notifier.watchdog()
    assert not notifier.stopping()
    assert notifier.watchdog_interval_s is None


def test_a_vanished_socket_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SdNotifier(notify_socket=str(tmp_path / "gone.sock"))
    assert not notifier.ready()
    assert not notifier.watchdog()
    assert sum("sd_notify" in r.message for r in caplog.records) == 1


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    notifier = SdNotifier.from_environment(env)
    assert notifier.watchdog_timeout_s == pytest.approx(2.0)
    assert notifier.watchdog_interval_s == pytest.approx(1.0)


def test_watchdog_meant_for_another_pid_is_off() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
    assert SdNotifier.from_environment(env).watchdog_interval_s is None


def test_pinger_pings_only_while_the_control_loop_is_healthy(
    notify_socket: tuple[socket.socket, str],
) -> None:
    """A stuck control loop stops the pings (systemd then restarts the service)."""
    sock, path = notify_socket
    healthy = True

    async def scenario() -> tuple[list[str], list[str]]:
        nonlocal healthy
        notifier = SdNotifier(notify_socket=path, watchdog_usec=40_000, is_healthy=lambda: healthy)
        async with notifier:
            await asyncio.sleep(0.15)
            while_healthy = received(sock)
            healthy = False
            await asyncio.sleep(0.05)
            received(sock)  # a ping may have been in flight at the switch
            await asyncio.sleep(0.15)
            while_stuck = received(sock)
        return while_healthy, while_stuck

    while_healthy, while_stuck = run(scenario())
    assert len(while_healthy) >= 3
    assert set(while_healthy) == {"WATCHDOG=1"}
    assert while_stuck == []


def test_no_pinger_without_a_watchdog(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket

    async def scenario() -> None:
        async with SdNotifier(notify_socket=path):
            await asyncio.sleep(0.05)

    run(scenario())
    assert received(sock) == []


# ---------------------------------------------------------------------- logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_stderr_logging_appends_structured_fields() -> None:
    stream = io.StringIO()
    target = setup_logging(target=LogTarget.STDERR, stream=stream)
    assert target is LogTarget.STDERR
    logging.getLogger("daemon.test").warning(
        "tilt beyond limit", extra=log_fields(mode="DAMP", package_id="demo", cause="TILT")
    )
    line = stream.getvalue().strip()
    assert line.endswith("tilt beyond limit [CAUSE=TILT MODE=DAMP PACKAGE_ID=demo]")


@pytest.mark.usefixtures("restore_root_logger")
def test_setup_logging_replaces_its_own_handler(tmp_path: Path) -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging(target=LogTarget.STDERR, stream=first)
    setup_logging(target=LogTarget.STDERR, stream=second)
    logging.getLogger("daemon.test").warning("once")
    assert first.getvalue() == ""
    assert "once" in second.getvalue()


@pytest.mark.usefixtures("restore_root_logger")
def test_auto_uses_stderr_when_journald_is_absent(tmp_path: Path) -> None:
    target = setup_logging(stream=io.StringIO(), journal_socket=tmp_path / "no-journal")
    assert target is LogTarget.STDERR


def test_log_fields_upper_cases_names_and_drops_none() -> None:
    assert log_fields(mode="TRACK", package_id=None, cause="OK") == {"MODE": "TRACK", "CAUSE": "OK"}


@pytest.mark.skipif(
    journal_module() is None, reason="systemd-python (optional extra) not installed"
)
def test_journal_handler_sends_structured_fields_and_nothing_lower_case() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(message: str, **fields: Any) -> None:
        sent.append((message, fields))

    handler = make_journal_handler(identifier="exoactor-test", sender=record)
    logger = logging.getLogger("daemon.journal-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("e-stop engaged", extra=log_fields(mode="ESTOP", cause="MQTT"))
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    ((message, fields),) = sent
    assert message == "e-stop engaged"
    assert fields["MODE"] == "ESTOP"
    assert fields["CAUSE"] == "MQTT"
    assert fields["SYSLOG_IDENTIFIER"] == "exoactor-test"
    assert fields["PRIORITY"] == "3"
    assert all(name.isupper() for name in fields)
