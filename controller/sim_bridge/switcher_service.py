"""A ``motion_switcher`` service for the simulator, so the release path can be exercised.

Unitree's simulators have no services (unitree_mujoco #9); the robot's does. This one answers
CheckMode (1001) with ``{"name": ...}`` and ReleaseMode (1003) per ``SwitcherBehaviour``, on the
same topics and types as the robot's service (../shared/reference/unitree-g1.md §1.6).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from controller.robot.dds_transport import DdsDomain, SdkTypes
from controller.robot.motion_switcher import (
    API_CHECK_MODE,
    API_RELEASE_MODE,
    REQUEST_TOPIC,
    RESPONSE_TOPIC,
)
from controller.sim_bridge.config import SwitcherBehaviour

_BUILT_IN_MODE = "ai"


class MotionSwitcherService:
    def __init__(self, domain: DdsDomain, types: SdkTypes, behaviour: SwitcherBehaviour) -> None:
        self._types = types
        self._behaviour = behaviour
        self._lock = threading.Lock()
        self.mode = _BUILT_IN_MODE
        self.requests = 0
        self._writer = domain.writer(RESPONSE_TOPIC, types.Response_)
        domain.raw_reader(REQUEST_TOPIC, types.Request_, self._on_request, keep_last=16)

    def _on_request(self, sample: bytes) -> None:
        t = self._types
        request: Any = t.Request_.deserialize(sample)
        identity = request.header.identity
        with self._lock:
            self.requests += 1
            if (
                identity.api_id == API_RELEASE_MODE
                and self._behaviour is SwitcherBehaviour.RELEASES
            ):
                self.mode = ""
            data = json.dumps({"name": self.mode}) if identity.api_id == API_CHECK_MODE else ""
        header = t.ResponseHeader_(
            t.RequestIdentity_(identity.id, identity.api_id), t.ResponseStatus_(0)
        )
        self._writer.write(t.Response_(header, data, []))
