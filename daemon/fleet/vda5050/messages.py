"""Builders for every message on the wire: VDA 5050 ``connection``, ``state``, ``factsheet``,
``instantActions`` and ``order`` (fleet side), and the non-VDA ``telemetry`` and package
answers.

Each builder returns a JSON-ready dict; ``encode`` turns one into the payload bytes. Headers come
from a ``HeaderFactory`` so headerIds count per topic.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.actions import ACTION_SPECS, ActionSpec, ActionType
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.header import HeaderFactory, Topic
from daemon.fleet.vda5050.orders import ORDER_ACTION_TYPES
from daemon.library.motion_library import IngestResult


class ConnectionState(enum.Enum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    CONNECTION_BROKEN = "CONNECTION_BROKEN"


def encode(message: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; refuses NaN/Infinity, which are not JSON."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")


def connection_message(
    headers: HeaderFactory, state: ConnectionState, now: datetime
) -> dict[str, Any]:
    return {**headers.header(Topic.CONNECTION, now), "connectionState": state.value}


def state_message(headers: HeaderFactory, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A ``state`` message: ``FleetState.state_body`` under a fresh header."""
    return {**headers.header(Topic.STATE, now), **body}


def instant_actions_message(
    headers: HeaderFactory, actions: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    return {**headers.header(Topic.INSTANT_ACTIONS, now), "actions": actions}


def order_message(
    headers: HeaderFactory,
    *,
    order_id: str,
    order_update_id: int,
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """An ``order`` (fleet side)."""
    return {
        **headers.header(Topic.ORDER, now),
        "orderId": order_id,
        "orderUpdateId": order_update_id,
        "nodes": nodes,
        "edges": edges or [],
    }


def order_node(
    node_id: str,
    actions: list[dict[str, Any]],
    *,
    sequence_id: int = 0,
    is_released: bool = True,
) -> dict[str, Any]:
    """One entry of ``order.nodes``; ``actions`` from ``node_action``."""
    return {
        "nodeId": node_id,
        "sequenceId": sequence_id,
        "released": is_released,
        "actions": actions,
    }


def node_action(
    action_type: str,
    action_id: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    blocking_type: str = "HARD",
) -> dict[str, Any]:
    """One entry of a node's ``actions`` (this robot runs them one after another)."""
    action = instant_action(action_type, action_id, parameters)
    action["blockingType"] = blocking_type
    return action


def instant_action(
    action_type: str,
    action_id: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    descriptor: str | None = None,
) -> dict[str, Any]:
    """One entry of ``instantActions.actions``."""
    action: dict[str, Any] = {
        "actionId": action_id,
        "actionType": action_type,
        "blockingType": "NONE",
    }
    if parameters:
        action["actionParameters"] = [{"key": k, "value": v} for k, v in parameters.items()]
    if descriptor is not None:
        action["actionDescriptor"] = descriptor
    return action


def telemetry_message(
    headers: HeaderFactory, status: ControlStatus, now: datetime
) -> dict[str, Any]:
    """The non-VDA ``telemetry`` message (10 Hz): loop timing and tracking figures.

    Units are in the keys; a figure that is not known (e.g. state age before the first robot
    state) is null.
    """
    timing = status.timing
    return {
        **headers.header(Topic.TELEMETRY, now),
        "isAlive": status.is_alive,
        "mode": status.mode,
        "lastCause": status.last_cause,
        "isEstopped": status.is_estopped,
        "isPaused": status.is_paused,
        "packageId": status.loaded_package,
        "trackFrame": status.track_frame,
        "trackFrames": status.track_frames,
        "trackingRmsRad": _finite(status.tracking_rms_rad),
        "ticks": status.ticks,
        "stateAgeMs": _finite(status.state_age_ms),
        "restarts": status.restarts,
        "timing": {
            "latenessP50Ms": _finite(timing.lateness_p50_ms),
            "latenessP99Ms": _finite(timing.lateness_p99_ms),
            "latenessMaxMs": _finite(timing.lateness_max_ms),
            "computeP99Ms": _finite(timing.compute_p99_ms),
            "misses": timing.misses,
            "ticks": timing.ticks,
        },
    }


def package_answer_message(
    headers: HeaderFactory,
    result: IngestResult,
    now: datetime,
    *,
    sha256: str,
    size_bytes: int,
    correlation: str | None,
) -> dict[str, Any]:
    """The answer to one motion package upload (non-VDA).

    ``accepted`` with ``packageId`` (``alreadyStored`` when that very package was stored
    before: ids are immutable), or rejected with the validation ``code`` (and ``field``,
    ``detail``). ``sha256`` (hex, of the uploaded bytes) and ``correlation`` (the MQTT 5
    correlation data, hex) let an uploader match the answer to its upload.
    """
    return {
        **headers.header(Topic.PACKAGE_ANSWERS, now),
        "accepted": result.accepted,
        "packageId": result.package_id,
        "alreadyStored": result.already_stored,
        "code": result.code,
        "field": result.field,
        "detail": result.detail,
        "sha256": sha256,
        "sizeBytes": size_bytes,
        "correlation": correlation,
    }


def factsheet_message(
    headers: HeaderFactory,
    config: FleetConfig,
    now: datetime,
    *,
    versions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``factsheet``: the custom actions with their parameters, limits and timing.

    The G1 is a humanoid that this daemon does not navigate: an order is one node (the
    robot's station) with no edges, and no maps or zones; speeds are 0 because the robot does
    not drive under fleet control.
    """
    return {
        **headers.header(Topic.FACTSHEET, now),
        "typeSpecification": {
            "seriesName": config.series_name,
            "seriesDescription": (
                "Unitree G1 humanoid running exoactor-edge: whole-body motions from motion "
                "packages under an on-robot safety supervisor"
            ),
            "mobileRobotKinematics": "LEGGED",
            "mobileRobotClass": "HUMANOID",
            "maximumLoadMass": config.maximum_load_mass_kg,
            "localizationTypes": [],
            "navigationTypes": [],
        },
        "physicalParameters": {
            "minimumSpeed": 0.0,
            "maximumSpeed": 0.0,
            "maximumAcceleration": 0.0,
            "maximumDeceleration": 0.0,
            "minimumHeight": config.height_m,
            "maximumHeight": config.height_m,
            "width": config.width_m,
            "length": config.length_m,
        },
        "protocolLimits": {
            "maximumStringLengths": {"maximumMessageLength": config.max_message_bytes},
            "maximumArrayLengths": {
                "instantActions": config.max_actions_per_message,
                "state.instantActionStates": config.instant_action_history,
                "order.nodes": 1,
                "order.edges": 0,
                "node.actions": config.max_actions_per_message,
                "edge.actions": 0,
                "state.nodeStates": 0,
                "state.edgeStates": 0,
                "state.actionStates": config.max_actions_per_message,
            },
            "timing": {
                "minimumOrderInterval": 0.0,
                "minimumStateInterval": config.min_state_interval_s,
                "defaultStateInterval": config.state_interval_s,
            },
        },
        "protocolFeatures": {
            "optionalParameters": [],
            "mobileRobotActions": [_action_entry(t, s) for t, s in ACTION_SPECS.items()],
        },
        "mobileRobotGeometry": {},
        "loadSpecification": {},
        "mobileRobotConfiguration": {
            "versions": [{"key": k, "value": v} for k, v in (versions or {}).items()],
        },
    }


def _action_entry(action_type: ActionType, spec: ActionSpec) -> dict[str, Any]:
    is_node_action = action_type in ORDER_ACTION_TYPES
    entry: dict[str, Any] = {
        "actionType": action_type.value,
        "actionDescription": spec.description,
        "actionScopes": ["INSTANT", "NODE"] if is_node_action else ["INSTANT"],
        # On a node any blocking type is accepted; node actions run one after another.
        "blockingTypes": ["NONE", "SOFT", "SINGLE", "HARD"] if is_node_action else ["NONE"],
        "pauseAllowed": spec.is_pause_allowed,
        "cancelAllowed": spec.is_cancel_allowed,
        "actionResult": spec.result,
    }
    if spec.parameters:
        entry["actionParameters"] = [
            {
                "key": p.key,
                "valueDataType": p.value_type.value,
                "description": p.description,
                "isOptional": p.is_optional,
            }
            for p in spec.parameters
        ]
    return entry


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
