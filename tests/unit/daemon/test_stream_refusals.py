"""Refusal accounting: once per cause per interval, one spelling, counted for status and fleet.

Real: ``StreamRefusals`` and Python logging (captured). Faked: the clock (seconds the test sets).
"""

from __future__ import annotations

import logging

import pytest

from daemon.inputs.stream_refusals import RefusalCause, StreamRefusals


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "daemon.inputs.streaming"]


def test_each_cause_is_logged_once_per_interval_with_what_was_suppressed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    refusals = StreamRefusals(interval_s=5.0, clock=clock)
    with caplog.at_level(logging.INFO):
        for _ in range(300):  # a NaN producer at 50 Hz for 6 s
            refusals.refuse("non_finite", "joint_pos: contains NaN or infinity")
            refusals.refuse(RefusalCause.PROTOCOL_UNSUPPORTED, "v4 needs SONIC")
            clock.t += 0.02
    logged = lines(caplog)
    assert len(logged) == 4, logged  # two causes, at 0 s and at 5 s
    assert logged[0] == "stream refused [non_finite]: joint_pos: contains NaN or infinity"
    assert logged[2].endswith("more since the last report)"), logged[2]
    assert refusals.total == 600
    snapshot = refusals.snapshot()
    assert snapshot["by_cause"]["non_finite"]["count"] == 300
    assert snapshot["last"] == {"cause": "protocol_unsupported", "detail": "v4 needs SONIC"}


def test_recent_refusals_are_what_the_fleet_state_shows() -> None:
    clock = Clock()
    refusals = StreamRefusals(clock=clock)
    refusals.refuse(RefusalCause.NOT_HOLDING, "mode is DAMP")
    clock.t += 30.0
    refusals.refuse(RefusalCause.PLANNER_MODE, "planner mode")
    refusals.refuse("non_finite", "joint_pos: contains NaN or infinity")
    assert refusals.recent(10.0) == [
        ("non_finite", "malformed messages (non_finite)"),
        ("planner_mode", "the producer is in planner mode (no planner here)"),
    ], "fixed per cause: the fleet state is not re-sent per refused message"


def test_a_version_change_is_an_error_the_rest_warnings(caplog: pytest.LogCaptureFixture) -> None:
    refusals = StreamRefusals(clock=Clock())
    with caplog.at_level(logging.INFO):
        refusals.refuse(RefusalCause.VERSION_CHANGED, "v1 -> v3")
        refusals.refuse(RefusalCause.NOT_HOLDING, "mode is DAMP")
    levels = [r.levelno for r in caplog.records if r.name == "daemon.inputs.streaming"]
    assert levels == [logging.ERROR, logging.WARNING]
    assert all(getattr(r, "CAUSE", None) for r in caplog.records)
