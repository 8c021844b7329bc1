"""The Unitree DDS backend against the simulator bridge, over real Cyclone DDS on loopback.

Real: Cyclone DDS 0.10.2 (Debian's C library, the Python binding built against it), the
SDK's IDL types, ``exoactor-edge sim-bridge`` as its own process (MuJoCo, built-in G1 model,
gantry), the backend's reader/writer threads, and a bus probe that listens like any other node.
Each test module uses its own random DDS domain. Nothing is faked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from controller.assembly import StackConfig
from controller.clock import MonotonicClock
from controller.robot.base import RobotCommand, RobotState
from controller.robot.model_source import ModelKind, ModelSource
from controller.robot.unitree_config import SIM_BRIDGE_CONFIG, UnitreeDdsConfig
from controller.safety import SupervisorConfig
from tests.support.dds import Bridge, bus_probe, random_domain, require_robot_extra, sim_bridge

pytestmark = pytest.mark.integration

BUILTIN = ModelSource(ModelKind.BUILTIN, None, ())


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    require_robot_extra()
    with sim_bridge(tmp_path_factory.mktemp("bridge"), random_domain()) as running:
        yield running


def robot_config(domain: int, **changes: object) -> UnitreeDdsConfig:
    return replace(SIM_BRIDGE_CONFIG, domain_id=domain, **changes)  # type: ignore[arg-type]


def open_backend(domain: int, **changes: object):  # type: ignore[no-untyped-def]
    from controller.robot.unitree_dds import UnitreeDdsBackend

    return UnitreeDdsBackend(robot_config(domain, **changes), clock=MonotonicClock())


def test_no_lowcmd_before_the_first_lowstate_then_mode_machine_echoed(tmp_path: Path) -> None:
    require_robot_extra()
    domain = random_domain()
    started: list[object] = []
    with bus_probe(domain) as probe:
        thread = threading.Thread(
            target=lambda: started.append(open_backend(domain, start_timeout_s=30.0))
        )
        thread.start()
        time.sleep(1.0)
        assert probe.snapshot()[1] == [], "no rt/lowcmd while no robot has spoken"
        with sim_bridge(tmp_path, domain) as bridge:
            thread.join(30)
            backend = started[0]
            try:
                time.sleep(0.3)
                states, commands = probe.snapshot()
                assert commands, "lowcmd flows from the first state on, before any tick"
                assert commands[0].t_ns > states[0].t_ns
                assert {c.mode_machine for c in commands} == {5}
                stats = bridge.stats()
                assert stats["mode_machines"] == [5]
                assert stats["mode_pr"] == [0]
                assert stats["lowcmd_bad_crc"] == 0, "the bridge accepted every CRC"
                assert stats["lowcmds"] > 0
            finally:
                backend.close()  # type: ignore[attr-defined]


def test_corrupt_crc_lowstate_is_dropped_and_counted(bridge: Bridge) -> None:
    backend = open_backend(bridge.domain)
    try:
        state = RobotState()
        before = backend.counters.bad_crc
        assert bridge.request({"cmd": "corrupt", "count": 250})["ok"]  # 0.5 s of bad CRCs
        time.sleep(0.4)
        backend.read_state(state)
        age_s = (time.monotonic_ns() - state.stamp_ns) * 1e-9
        assert age_s > 0.2, "no corrupt sample refreshed the state"
        time.sleep(0.3)
        dropped = backend.counters.bad_crc - before
        assert 200 <= dropped <= 250
        backend.read_state(state)
        assert (time.monotonic_ns() - state.stamp_ns) * 1e-9 < 0.05, "good samples are used again"
        assert backend.diagnostics()["bad_crc"] == backend.counters.bad_crc
    finally:
        backend.close()


def test_dex3_mode_byte_and_slot_order_per_hand(bridge: Bridge) -> None:
    backend = open_backend(bridge.domain)
    try:
        command = RobotCommand()
        command.kd.fill(2.0)  # body damped, the gantry holds it
        command.hand_q[0] = [0.3, 0.4, 0.5, -0.6, -0.7, -0.2, -0.3]  # left slots, in limits
        command.hand_q[1] = [-0.3, -0.4, -0.5, 0.6, 0.7, 0.2, 0.3]  # right: mirrored limits
        command.hand_kp.fill(1.5)
        command.hand_kd.fill(0.1)
        for _ in range(75):  # 1.5 s of ticks
            backend.write_command(command)
            time.sleep(0.02)
        stats = bridge.stats()
        for side in range(2):
            assert stats["hand_modes"][side] == [0x10 | slot for slot in range(7)]
            np.testing.assert_allclose(stats["hand_q"][side], command.hand_q[side], atol=1e-6)
        state = RobotState()
        backend.read_state(state)
        assert state.has_hands
        np.testing.assert_allclose(state.hand_q, command.hand_q, atol=0.1)
    finally:
        backend.close()


def test_wrong_domain_is_one_line_naming_the_fix_and_touches_nothing(bridge: Bridge) -> None:
    from controller.robot.unitree_dds import NoLowStateError

    lowcmds = bridge.stats()["lowcmds"]
    wrong = bridge.domain + 1 if bridge.domain < 232 else bridge.domain - 1
    with pytest.raises(NoLowStateError, match=r"domain .*\[robot\.unitree\] domain_id") as info:
        open_backend(wrong, start_timeout_s=1.0)
    assert "\n" not in str(info.value)
    assert bridge.stats()["lowcmds"] == lowcmds


def test_a_robot_that_is_not_a_29dof_g1_is_refused_without_a_lowcmd(tmp_path: Path) -> None:
    require_robot_extra()
    from controller.robot.unitree_dds import UnsupportedRobotError

    with sim_bridge(tmp_path, random_domain(), "--mode-machine", "4") as bridge:
        with pytest.raises(UnsupportedRobotError, match=r"mode_machine 4 .*accepted_mode_machines"):
            open_backend(bridge.domain)
        time.sleep(0.2)
        assert bridge.stats()["lowcmds"] == 0


@pytest.mark.parametrize("behaviour", ["never", "releases"])
def test_motion_switcher_release(tmp_path: Path, behaviour: str) -> None:
    """A switcher that never lets go stops start-up with the fix named and no lowcmd; one that
    releases lets the backend start."""
    require_robot_extra()
    from controller.robot.motion_switcher import MotionSwitcherError

    with sim_bridge(tmp_path, random_domain(), "--motion-switcher", behaviour) as bridge:
        options = {"release_motion_control": True, "motion_switcher_timeout_s": 2.5}
        if behaviour == "never":
            with pytest.raises(MotionSwitcherError, match=r"still runs mode 'ai'.*debug mode"):
                open_backend(bridge.domain, **options)
            time.sleep(0.2)
            stats = bridge.stats()
            assert stats["lowcmds"] == 0
            assert stats["switcher_requests"] > 0
        else:
            backend = open_backend(bridge.domain, **options)
            try:
                time.sleep(0.2)
                stats = bridge.stats()
                assert stats["switcher_mode"] == ""
                assert stats["lowcmds"] > 0
            finally:
                backend.close()


@pytest.mark.slow
def test_demo_through_the_bridge_tracks_like_the_in_process_run(
    bridge: Bridge, tmp_path: Path
) -> None:
    """The demo motion over DDS (real time) tracks within 1.2x the in-process lock-step RMS."""
    from daemon.demo.motion import build_demo_track
    from daemon.demo.runner import run_demo

    config = StackConfig(supervisor=SupervisorConfig(ramp_time_s=1.0))
    track = build_demo_track()
    runs = {}
    for name, robot in (("in_process", None), ("bridge", robot_config(bridge.domain))):
        run = run_demo(
            BUILTIN, config, track, latch_path=tmp_path / name / "estop.json",
            show_progress=False, robot=robot,
        )  # fmt: skip
        assert run.failure is None, (name, run.failure)
        runs[name] = run.recorder.tracking_rms_rad()
    print(  # noqa: T201 - the figures are the point of this test
        f"tracking RMS in-process {runs['in_process']:.5f} rad, bridge {runs['bridge']:.5f}"
    )
    assert runs["bridge"] <= 1.2 * runs["in_process"]
