"""The e-stop latch fails closed: unreadable content, write errors and restarts never release it.

Real: the supervisor, the latch file, and the kernel's own errors (a 64 KiB tmpfs filled until
ENOSPC, remounted read-only; the tests skip where mounting is not permitted). Faked: robot
states and time (integers), as in test_safety.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.estop_latch import EstopLatch, EstopOrigin, ResetRequester
from controller.remote import RemoteKey
from controller.safety import Cause, Mode, Supervisor, SupervisorConfig, SupervisorStart
from tests.support.faulty_fs import small_fs

from .test_safety import Harness, assert_damping

RELEASED = '{"schema": 2, "engaged": false}'


@pytest.mark.parametrize(
    "content",
    [
        '{"engaged": null}',
        "0",
        "[]",
        "null",
        '""',
        "",
        "{not json",
        '{"engaged": false}',  # schema 1: an unknown schema counts as engaged
        '{"schema": 2, "engaged": 0}',
        '{"schema": 2.0, "engaged": false}',
        '{"schema": true, "engaged": false}',
        '{"schema": 3, "engaged": false}',
        '{"schema": 2, "engaged": false, "cause": "x"}',
        '{"schema": 2, "engaged": "false"}',
        '{"schema": 2}',
    ],
)
def test_anything_but_an_exact_released_latch_reads_as_engaged(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "estop.json"
    path.write_text(content)
    state = EstopLatch(path).load()
    assert state.engaged
    assert state.origin is EstopOrigin.UNKNOWN


def test_undecodable_bytes_read_as_engaged(tmp_path: Path) -> None:
    path = tmp_path / "estop.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert EstopLatch(path).load().engaged


def test_only_the_exact_released_content_or_no_file_reads_as_released(tmp_path: Path) -> None:
    path = tmp_path / "estop.json"
    assert not EstopLatch(path).load().engaged
    path.write_text(RELEASED)
    assert not EstopLatch(path).load().engaged


@pytest.mark.parametrize("main_file", [None, RELEASED])
def test_a_leftover_tmp_file_reads_as_engaged(tmp_path: Path, main_file: str | None) -> None:
    """An interrupted write may have been an engage: fail closed."""
    path = tmp_path / "estop.json"
    if main_file is not None:
        path.write_text(main_file)
    (tmp_path / "estop.json.tmp").write_bytes(b"")
    state = EstopLatch(path).load()
    assert state.engaged
    assert state.origin is EstopOrigin.UNKNOWN


def test_the_origin_survives_a_restart_and_decides_who_may_reset(tmp_path: Path) -> None:
    path = tmp_path / "estop.json"
    first = Harness(SupervisorConfig(), path)
    first.tick()
    first.state.remote_keys = int(RemoteKey.SELECT)
    assert first.tick() is Mode.ESTOP
    on_disk = json.loads(path.read_text())
    assert on_disk["origin"] == "remote_key"
    assert on_disk["cause"] == "ESTOP_REMOTE"

    restarted = Harness(SupervisorConfig(), path)
    assert restarted.sup.estop_origin is EstopOrigin.REMOTE_KEY, "not REMOTE after a restart"
    refusal = restarted.sup.reset_estop(restarted.now, ResetRequester.FLEET)
    assert "at the robot" in refusal
    assert restarted.sup.mode is Mode.ESTOP
    assert restarted.sup.reset_estop(restarted.now, ResetRequester.ROBOT) == ""
    assert restarted.sup.mode is Mode.DAMP
    assert json.loads(path.read_text()) == json.loads(RELEASED)


@pytest.mark.parametrize(
    ("origin", "fleet_may_reset_robot_side", "fleet_may_reset"),
    [
        (EstopOrigin.FLEET, False, True),
        (EstopOrigin.REMOTE_KEY, False, False),
        (EstopOrigin.LOCAL, False, False),
        (EstopOrigin.UNKNOWN, False, False),
        (EstopOrigin.REMOTE_KEY, True, True),
        (EstopOrigin.LOCAL, True, True),
    ],
)
def test_who_may_reset_which_estop(
    tmp_path: Path, origin: EstopOrigin, fleet_may_reset_robot_side: bool, fleet_may_reset: bool
) -> None:
    config = SupervisorConfig(fleet_may_reset_robot_side_estop=fleet_may_reset_robot_side)
    h = Harness(config, tmp_path / "estop.json")
    h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, origin)
    h.tick()
    assert (h.sup.reset_estop(h.now, ResetRequester.FLEET) == "") is fleet_may_reset
    if not fleet_may_reset:
        assert h.sup.reset_estop(h.now, ResetRequester.ROBOT) == ""
    assert h.sup.mode is Mode.DAMP


def test_a_second_estop_does_not_change_who_may_reset(tmp_path: Path) -> None:
    h = Harness(SupervisorConfig(), tmp_path / "estop.json")
    h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, EstopOrigin.LOCAL)
    h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, EstopOrigin.FLEET)
    h.tick()
    assert h.sup.estop_origin is EstopOrigin.LOCAL
    assert h.sup.reset_estop(h.now, ResetRequester.FLEET) != ""


def test_latch_write_error_on_a_full_disk_keeps_the_estop_until_durable(tmp_path: Path) -> None:
    with small_fs(tmp_path / "state") as fs:
        path = fs.path / "estop.json"
        h = Harness(SupervisorConfig(), path)
        h.to_hold()
        fs.fill()
        h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, EstopOrigin.FLEET)
        for _ in range(3):
            assert h.tick() is Mode.ESTOP, "a failed latch write must not cost the e-stop"
            assert_damping(h.command)
        latch = h.sup.latch
        assert not latch.is_durable
        assert "No space left" in latch.write_error
        assert "not durable" in h.sup.reset_estop(h.now, ResetRequester.ROBOT)
        assert not h.sup.request_enable(h.now)
        assert h.sup.mode is Mode.ESTOP
        # What a restart would find: never a released latch.
        assert EstopLatch(path).load().engaged

        fs.free()
        latch._retry_at_ns = 0  # the retry is due (it waits retry_s between attempts)
        h.tick()
        assert latch.is_durable
        assert latch.write_error == ""
        assert json.loads(path.read_text())["origin"] == "fleet"
        assert h.sup.reset_estop(h.now, ResetRequester.FLEET) == ""
        assert h.sup.mode is Mode.DAMP


def test_latch_on_a_read_only_disk_keeps_the_estop_and_refuses_reset(tmp_path: Path) -> None:
    with small_fs(tmp_path / "state") as fs:
        path = fs.path / "estop.json"
        h = Harness(SupervisorConfig(), path)
        h.to_track()
        fs.read_only()
        h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, EstopOrigin.FLEET)
        assert h.tick() is Mode.ESTOP
        assert_damping(h.command)
        assert "Read-only" in h.sup.latch.write_error
        assert h.sup.reset_estop(h.now, ResetRequester.ROBOT) != ""
        assert not (fs.path / "estop.json.tmp").exists() or EstopLatch(path).load().engaged
        fs.read_write()
        h.sup.latch._retry_at_ns = 0
        h.tick()
        assert h.sup.latch.is_durable
        assert EstopLatch(path).load().engaged


def test_a_failed_release_keeps_the_estop(tmp_path: Path) -> None:
    with small_fs(tmp_path / "state") as fs:
        path = fs.path / "estop.json"
        h = Harness(SupervisorConfig(), path)
        h.sup.engage_estop(h.now, Cause.ESTOP_COMMAND, EstopOrigin.FLEET)
        h.tick()
        assert h.sup.latch.is_durable
        fs.read_only()
        refusal = h.sup.reset_estop(h.now, ResetRequester.FLEET)
        assert "cannot write the released latch" in refusal
        assert h.sup.mode is Mode.ESTOP
        fs.read_write()
        assert EstopLatch(path).load().engaged


def test_a_restarted_supervisor_starts_damped_not_limp() -> None:
    sup = Supervisor(SupervisorConfig(), EstopLatch(None), start=SupervisorStart(is_restart=True))
    assert sup.mode is Mode.DAMP
    assert sup.log.since(0)[-1].cause is Cause.RESTARTED
    h = Harness(SupervisorConfig())
    h.sup = sup
    h.tick()
    assert_damping(h.command)
    assert h.command.kd.min() > 0, "kd > 0: damped, not limp"
    assert h.tick(5) is Mode.DAMP, "stays damped until an explicit enable"
    assert sup.request_enable(h.now)


def test_an_estop_carried_over_a_restart_starts_in_estop_and_is_persisted(tmp_path: Path) -> None:
    path = tmp_path / "estop.json"
    sup = Supervisor(
        SupervisorConfig(),
        EstopLatch(path),
        start=SupervisorStart(is_restart=True, carried_estop=EstopOrigin.REMOTE_KEY),
    )
    assert sup.mode is Mode.ESTOP
    assert sup.estop_origin is EstopOrigin.REMOTE_KEY
    sup.after_write()
    assert json.loads(path.read_text())["origin"] == "remote_key"


def test_a_carried_origin_replaces_the_unknown_one_of_an_interrupted_latch(tmp_path: Path) -> None:
    path = tmp_path / "estop.json"
    (tmp_path / "estop.json.tmp").write_bytes(b"")
    sup = Supervisor(
        SupervisorConfig(),
        EstopLatch(path),
        start=SupervisorStart(is_restart=True, carried_estop=EstopOrigin.FLEET),
    )
    assert sup.mode is Mode.ESTOP
    assert sup.estop_origin is EstopOrigin.FLEET
    sup.after_write()
    assert json.loads(path.read_text())["origin"] == "fleet"
