"""Releasing the G1's built-in motion controller before low-level control (the motion switcher).

The G1 runs its own locomotion controller; ``rt/lowcmd`` from us would fight it. Unitree's
examples release it through the ``motion_switcher`` RPC service: ``CheckMode`` (api 1001)
returns the active mode's name, ``ReleaseMode`` (1003) releases it, repeated until the name is
empty (../shared/reference/unitree-g1.md §1.6). Requests and responses are
``unitree_api Request_/Response_`` on ``rt/api/motion_switcher/{request,response}``, matched by
``header.identity.id``.

This client speaks that protocol on our own participant (the SDK's client needs the SDK's
process-wide singleton participant). Anything short of a confirmed release is a
``MotionSwitcherError`` naming what to do; no ``rt/lowcmd`` is written before it succeeds.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from controller.robot.dds_transport import DdsDomain, DdsSetupError

SERVICE = "motion_switcher"
REQUEST_TOPIC = f"rt/api/{SERVICE}/request"
RESPONSE_TOPIC = f"rt/api/{SERVICE}/response"
API_CHECK_MODE = 1001
API_RELEASE_MODE = 1003
_CALL_TIMEOUT_S = 1.0
_RETRY_PAUSE_S = 1.0  # Unitree's Python example waits 1 s between releases


class MotionSwitcherError(DdsSetupError):
    """The built-in controller could not be released; the message says what to do."""


class MotionSwitcherClient:
    """Minimal ``motion_switcher`` RPC client (CheckMode, ReleaseMode)."""

    def __init__(self, domain: DdsDomain, types: Any) -> None:
        self._types = types
        self._writer = domain.writer(REQUEST_TOPIC, types.Request_)
        self._responses: dict[int, Any] = {}
        self._arrived = threading.Condition()
        domain.raw_reader(RESPONSE_TOPIC, types.Response_, self._on_response, keep_last=16)

    def _on_response(self, sample: bytes) -> None:
        response = self._types.Response_.deserialize(sample)
        with self._arrived:
            self._responses[int(response.header.identity.id)] = response
            self._arrived.notify_all()

    def call(self, api_id: int, timeout_s: float = _CALL_TIMEOUT_S) -> tuple[int, str] | None:
        """(status code, data) of one call, or None when no answer came in time."""
        t = self._types
        request_id = time.monotonic_ns()
        header = t.RequestHeader_(
            t.RequestIdentity_(request_id, api_id), t.RequestLease_(0), t.RequestPolicy_(0, False)
        )
        self._writer.write(t.Request_(header, "{}", []))
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while request_id not in self._responses:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._arrived.wait(remaining)
            response = self._responses.pop(request_id)
        return int(response.header.status.code), str(response.data)

    def release(self, timeout_s: float) -> None:
        """CheckMode / ReleaseMode until no mode is active; raises ``MotionSwitcherError``."""
        deadline = time.monotonic() + timeout_s
        mode: str | None = None
        while time.monotonic() < deadline:
            answer = self.call(API_CHECK_MODE)
            if answer is None:
                continue  # no service matched yet, or a lost answer: ask again
            code, data = answer
            mode = _mode_name(data) if code == 0 else mode
            if code == 0 and not mode:
                return
            self.call(API_RELEASE_MODE)
            time.sleep(min(_RETRY_PAUSE_S, max(0.0, deadline - time.monotonic())))
        if mode is None:
            raise MotionSwitcherError(
                f"no answer from the robot's motion_switcher service within {timeout_s:g} s: "
                "check that the robot is booted and on this network; for the simulator set "
                "[robot.unitree] release_motion_control = false"
            )
        raise MotionSwitcherError(
            f"the motion switcher still runs mode {mode!r} after {timeout_s:g} s of release "
            "requests: with the robot hanging at zero torque, enter debug mode on its remote "
            "(L2+R2), then start again"
        )


def _mode_name(data: str) -> str:
    try:
        return str(json.loads(data).get("name", "")) if data else ""
    except (ValueError, AttributeError):
        return ""
