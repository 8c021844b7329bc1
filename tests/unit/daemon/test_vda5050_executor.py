"""``StepRunner`` with the ``FleetState`` model against in-memory fakes, on a real event loop.

Real: the model, the runner, asyncio timing. Faked: the control process (``FakeControlLink``,
a simple mode machine on loop time) and the motion library. No sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from typing import Any

from controller.estop_latch import EstopOrigin
from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.actions import parse_instant_actions
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.executor import StepRunner
from daemon.fleet.vda5050.fleet_state import FleetState, Step
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import encode, instant_action, instant_actions_message
from estimators.track import ReferenceTrack
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary

CONFIG = FleetConfig(manufacturer="Acme", serial_number="T-1")


class Rig:
    """The service's pipeline without MQTT: events -> model -> steps -> runner -> link."""

    def __init__(self, link: FakeControlLink, library: Any) -> None:
        self.link = link
        self.state = FleetState(config=CONFIG)
        self.state.on_status(link.status())
        self.queue: asyncio.Queue[Step] = asyncio.Queue()
        self.runner = StepRunner(state=self.state, link=link, library=library)
        self.headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")

    async def pump(self) -> None:
        async def events() -> None:
            async for event in self.link.events():
                for step in self.state.on_event(event):
                    self.queue.put_nowait(step)

        async def steps() -> None:
            while True:
                await self.runner.run(await self.queue.get())

        await asyncio.gather(events(), steps())

    def send(self, kind: str, action_id: str, **parameters: Any) -> None:
        message = instant_actions_message(
            self.headers,
            [instant_action(kind, action_id, parameters or None)],
            datetime.now(timezone.utc),
        )
        parsed = parse_instant_actions(encode(message), manufacturer="Acme", serial_number="T-1")
        for step in self.state.receive(parsed).steps:
            self.queue.put_nowait(step)

    def status_of(self, action_id: str) -> str | None:
        for entry in self.state.tracker.states():
            if entry["actionId"] == action_id:
                return str(entry["actionStatus"])
        return None

    async def until(self, condition: Callable[[], bool], timeout_s: float = 2.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not condition():
            assert loop.time() < deadline, "condition not reached in time"
            await asyncio.sleep(0.002)


def run(body: Callable[[Rig], Coroutine[Any, Any, None]], rig_factory: Callable[[], Rig]) -> None:
    async def main() -> None:
        rig = rig_factory()
        pump = asyncio.create_task(rig.pump())
        try:
            await asyncio.wait_for(body(rig), 5.0)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    asyncio.run(main())


def make(frames: int = 10, **library: Any) -> Callable[[], Rig]:
    return lambda: Rig(FakeControlLink(), FakeMotionLibrary({"wave": frames}, **library))


def test_start_motion_from_passive_runs_to_finished_through_ramp_hold_track() -> None:
    async def body(rig: Rig) -> None:
        rig.send("startMotion", "m1", packageId="wave")
        await rig.until(lambda: rig.status_of("m1") == "RUNNING")
        assert rig.link.mode == "TRACK"
        await rig.until(lambda: rig.status_of("m1") == "FINISHED")
        assert rig.link.names() == ["load_track", "enable", "start_track"]
        assert rig.link.mode == "HOLD"

    run(body, make())


def test_unknown_package_fails_start_motion_without_touching_the_robot() -> None:
    async def body(rig: Rig) -> None:
        rig.send("startMotion", "m1", packageId="nope")
        await rig.until(lambda: rig.status_of("m1") == "FAILED")
        (error,) = rig.state.tracker.errors()
        assert error["errorType"] == "unknownMotionPackage"
        assert rig.link.calls == []

    run(body, make())


def test_a_library_failure_fails_the_action_with_its_message() -> None:
    class BrokenLibrary(FakeMotionLibrary):
        async def track(self, package_id: str) -> ReferenceTrack:
            raise OSError("disk on fire")

    async def body(rig: Rig) -> None:
        rig.send("loadMotion", "l1", packageId="wave")
        await rig.until(lambda: rig.status_of("l1") == "FAILED")
        assert "disk on fire" in rig.state.tracker.errors()[0]["errorDescription"]

    run(body, lambda: Rig(FakeControlLink(), BrokenLibrary({"wave": 3})))


def test_pause_resume_and_stop_follow_the_fake_supervisor() -> None:
    async def body(rig: Rig) -> None:
        rig.send("startMotion", "m1", packageId="wave")
        await rig.until(lambda: rig.status_of("m1") == "RUNNING")
        rig.send("startPause", "p1")
        await rig.until(lambda: rig.status_of("m1") == "PAUSED")
        assert rig.state.is_paused
        assert rig.link.paused_frame >= 0
        rig.send("stopPause", "r1")
        await rig.until(lambda: rig.status_of("m1") == "RUNNING")
        rig.send("stopMotion", "s1")
        await rig.until(lambda: rig.status_of("s1") == "FINISHED")
        assert rig.status_of("m1") == "FAILED"
        assert rig.link.mode == "HOLD"

    run(body, make(frames=500))


def test_estop_reset_then_start_enables_from_damp() -> None:
    async def body(rig: Rig) -> None:
        await rig.link.estop(EstopOrigin.FLEET)
        rig.send("resetEmergencyStop", "r1")
        await rig.until(lambda: rig.status_of("r1") == "FINISHED")
        assert rig.link.mode == "DAMP"
        rig.send("startMotion", "m1", packageId="wave")
        await rig.until(lambda: rig.status_of("m1") == "FINISHED")

    run(body, make(frames=3))


def test_fault_during_the_motion_fails_it() -> None:
    async def body(rig: Rig) -> None:
        rig.send("startMotion", "m1", packageId="wave")
        await rig.until(lambda: rig.status_of("m1") == "RUNNING")
        rig.link.trip("DAMP", "JOINT_VELOCITY")
        await rig.until(lambda: rig.status_of("m1") == "FAILED")
        rig.state.on_status(rig.link.status())
        assert rig.state.state_body()["errors"][0]["errorType"] == "safetyFault"

    run(body, make(frames=500))


def test_fake_link_status_reports_progress() -> None:
    async def body(rig: Rig) -> None:
        rig.send("startMotion", "m1", packageId="wave")
        await rig.until(lambda: rig.link.status().track_frame > 2)
        status: ControlStatus = rig.link.status()
        assert (status.mode, status.loaded_package, status.track_frames) == ("TRACK", "wave", 50)

    run(body, make(frames=50))
