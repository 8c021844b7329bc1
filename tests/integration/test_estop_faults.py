"""Faults at the e-stop, injected into the real service: every one ends in a safe state.

Real: ``exoactor-edge run`` as a subprocess with its control process and e-stop relay, MuJoCo
(built-in G1, real time), mosquitto on loopback, the fleet side (``FleetClient``), the admin
socket (``exoactor-edge`` CLI path), ZeroMQ ipc, and the kernel's own faults: the state
directory is a 256 KiB tmpfs filled until ENOSPC or remounted read-only (skipped, with the
reason, where mounting is not permitted), SIGKILL of the control process. Nothing is faked.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from daemon.config import load_config
from daemon.fleet.vda5050.fleet_client import FleetClient
from estimators.demo_motion import make_demo_package
from tests.support.faulty_fs import SmallFs, small_fs
from tests.support.mosquitto import MosquittoBroker, find_mosquitto, free_port

from .test_daemon_e2e import EXE, Service, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Faulty(Service):
    fs: SmallFs | None = None

    def status(self) -> dict[str, Any]:
        return self.admin("status")["status"]  # type: ignore[return-value]

    def wait_status(self, predicate: Any, what: str, timeout_s: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while not predicate(status := self.status()):
            assert time.monotonic() < deadline, f"waited for {what}; status {status}"
            time.sleep(0.05)
        return status

    def control_pid(self) -> int:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid and b"controller.process" in cmdline:
                return int(entry.name)
        raise AssertionError("no control process found")

    def kill_control(self) -> None:
        pid = self.control_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15.0
        while True:
            assert time.monotonic() < deadline, "the control process was not restarted"
            try:
                if self.control_pid() != pid and self.status()["restarts"] >= 1:
                    return
            except AssertionError:
                pass
            time.sleep(0.05)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    (tmp_path / "broker").mkdir()
    broker = MosquittoBroker(workdir=tmp_path / "broker", binary=binary)
    broker.start()
    yield broker
    broker.stop()


def start_service(tmp_path: Path, broker: MosquittoBroker, *, latch: str | None = None) -> Faulty:
    config = write_config(tmp_path, broker.port, free_port())
    if latch is not None:
        (tmp_path / "state").mkdir(exist_ok=True)
        (tmp_path / "state" / "estop.json").write_text(latch)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock"))
    with (tmp_path / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [str(EXE), "run", "--config", str(config)], stderr=log, stdout=log, env=env
        )
    service = Faulty(tmp_path, config, process, notify, 0)
    deadline = time.monotonic() + 60
    while not any("READY=1" in n for n in service.notifications()):
        assert process.poll() is None, (tmp_path / "daemon.log").read_text()
        assert time.monotonic() < deadline, "no READY=1 within 60 s"
        time.sleep(0.05)
    return service


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[ExitStack]:
    with ExitStack() as exits:
        yield exits


def stop(service: Service) -> None:
    if service.process.poll() is None:
        service.process.kill()
        service.process.wait(10)
    service.notify.close()


def fleet_estop(service: Service) -> None:
    async def send() -> None:
        config = load_config(service.config)
        async with FleetClient(config=config.fleet) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            await fleet.emergency_stop()

    asyncio.run(send())


def fleet_state_after(service: Service, action: str, parameters: dict[str, Any] | None = None
                      ) -> dict[str, Any]:  # fmt: skip
    """Send an instant action from the fleet; the first state that answers it."""

    async def send() -> dict[str, Any]:
        config = load_config(service.config)
        async with FleetClient(config=config.fleet) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            action_id = await fleet.instant_action(action, parameters)
            await fleet.wait_action(action_id, {"FINISHED", "FAILED"}, 10.0)
            state = fleet.latest_state
            assert state is not None
            return dict(state)

    return asyncio.run(send())


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_latch_that_cannot_be_written_keeps_the_estop_across_a_control_restart(
    tmp_path: Path, broker: MosquittoBroker, fault: str
) -> None:
    with small_fs(tmp_path / "state", size_kib=256) as fs:
        service = start_service(tmp_path, broker)
        try:
            if fault == "full":
                fs.fill()
            else:
                fs.read_only()
            fleet_estop(service)
            status = service.wait_status(lambda s: s["mode"] == "ESTOP", "ESTOP")
            status = service.wait_status(lambda s: not s["is_latch_durable"], "not durable")
            assert status["latch_error"]
            state = fleet_state_after(service, "stateRequest")
            assert "estopLatchNotDurable" in [e["errorType"] for e in state["errors"]]
            assert state["safetyState"]["activeEmergencyStop"] == "REMOTE"
            answer = service.admin("reset")
            assert answer["ok"] is False
            assert "not durable" in str(answer["reason"])
            assert service.admin("enable")["ok"] is False

            service.kill_control()  # the latch is not on disk: the daemon carries the e-stop
            status = service.wait_status(lambda s: s["is_alive"], "restarted")
            assert status["mode"] == "ESTOP", status
            assert status["estop_origin"] == "fleet"

            if fault == "full":
                fs.free()
            else:
                fs.read_write()
            service.wait_status(lambda s: s["is_latch_durable"], "durable", timeout_s=15.0)
            assert service.admin("reset")["ok"] is True
            assert service.wait_status(lambda s: s["mode"] == "DAMP", "DAMP")["mode"] == "DAMP"
        finally:
            stop(service)


@pytest.mark.parametrize("content", ['{"engaged": null}', "0", "[]", '{"engaged": false}'])
def test_a_corrupt_or_foreign_latch_starts_in_estop_that_only_the_robot_side_clears(
    tmp_path: Path, broker: MosquittoBroker, content: str
) -> None:
    service = start_service(tmp_path, broker, latch=content)
    try:
        status = service.status()
        assert status["mode"] == "ESTOP"
        assert status["estop_origin"] == "unknown"
        state = fleet_state_after(service, "resetEmergencyStop")
        assert state["safetyState"]["activeEmergencyStop"] == "MANUAL"
        assert service.status()["mode"] == "ESTOP", "the fleet cannot clear it"
        assert service.admin("reset")["ok"] is True
        assert service.wait_status(lambda s: s["mode"] == "DAMP", "DAMP")["mode"] == "DAMP"
    finally:
        stop(service)


def test_sigkill_of_the_control_process_in_track_restarts_damped_and_says_why(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    service = start_service(tmp_path, broker)
    try:

        async def start_motion() -> None:
            config = load_config(service.config)
            async with FleetClient(config=config.fleet) as fleet:
                await fleet.wait_connection("ONLINE", 10.0)
                answer = await fleet.upload(make_demo_package(duration_s=20.0))
                assert answer.accepted, answer
                action = await fleet.instant_action("startMotion", {"packageId": answer.package_id})
                await fleet.wait_action(action, {"RUNNING"}, 15.0)

        asyncio.run(start_motion())
        assert service.status()["mode"] == "TRACK"
        service.kill_control()
        status = service.wait_status(lambda s: s["is_alive"], "restarted")
        assert status["mode"] == "DAMP", "never limp (PASSIVE), never moving"
        assert status["last_cause"] == "RESTARTED"
        time.sleep(0.5)
        assert service.status()["mode"] == "DAMP", "stays damped until an explicit enable"
        state = fleet_state_after(service, "stateRequest")
        assert any("restarted" in e["errorDescription"] for e in state["errors"]), state["errors"]
        assert service.admin("enable")["ok"] is True
    finally:
        stop(service)


def test_sigkill_of_the_control_process_in_estop_keeps_the_estop_and_its_origin(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    service = start_service(tmp_path, broker)
    try:
        assert service.admin("estop")["ok"] is True  # local: only the robot side may clear it
        service.wait_status(lambda s: s["mode"] == "ESTOP" and s["is_latch_durable"], "ESTOP")
        service.kill_control()
        status = service.wait_status(lambda s: s["is_alive"], "restarted")
        assert status["mode"] == "ESTOP"
        assert status["estop_origin"] == "local"
        state = fleet_state_after(service, "resetEmergencyStop")
        assert state["safetyState"]["activeEmergencyStop"] == "MANUAL"
        assert service.status()["mode"] == "ESTOP"
    finally:
        stop(service)


def test_broker_down_during_an_estop_the_local_estop_holds_and_the_fleet_sees_it_after(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    service = start_service(tmp_path, broker)
    try:
        broker.stop(kill=True)
        assert service.admin("estop")["ok"] is True
        assert service.wait_status(lambda s: s["mode"] == "ESTOP", "ESTOP")["mode"] == "ESTOP"
        broker.start()
        state = fleet_state_after(service, "stateRequest")
        assert state["safetyState"]["activeEmergencyStop"] == "MANUAL"
        assert any(e["errorType"] == "emergencyStop" for e in state["errors"])
    finally:
        stop(service)


def test_a_killed_daemon_leaves_no_relay_and_no_control_process_behind(
    tmp_path: Path, broker: MosquittoBroker
) -> None:
    """SIGKILL of the daemon: its children must not drive or listen on their own (the control
    process damps, then exits; the relay exits), or a restarted daemon would share the robot."""
    service = start_service(tmp_path, broker)
    try:
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent_of(entry) == service.process.pid
        ]
        assert len(children) >= 2, "control process and e-stop relay"
        service.process.kill()
        service.process.wait(10)
        deadline = time.monotonic() + 5.0
        while alive := [pid for pid in children if Path(f"/proc/{pid}").exists() and
                        b"zombie" not in _state(pid)]:  # fmt: skip
            assert time.monotonic() < deadline, f"still running: {alive}"
            time.sleep(0.05)
    finally:
        stop(service)


def _parent_of(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/status").read_bytes()
    except OSError:
        return b"zombie"
