"""Message headers and builders: connection, factsheet, state, telemetry, package answers.

Real: the builders and the official VDA 5050 schemas (connection, factsheet, state,
instantActions). Nothing is faked.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from daemon.control.control_link import ControlStatus, TimingFigures
from daemon.fleet.vda5050.actions import ACTION_SPECS, ActionType
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.fleet_state import FleetState
from daemon.fleet.vda5050.header import HeaderFactory, Topic, iso_timestamp
from daemon.fleet.vda5050.messages import (
    ConnectionState,
    encode,
    factsheet_message,
    instant_action,
    instant_actions_message,
    package_answer_message,
    state_message,
    telemetry_message,
)
from daemon.fleet.vda5050.robot_view import FAULT_CAUSES, describe_cause
from daemon.library.motion_library import IngestResult
from tests.support.vda5050_schemas import assert_valid

NOW = datetime(2026, 11, 21, 12, 0, 5, 987654, tzinfo=timezone.utc)


def headers() -> HeaderFactory:
    return HeaderFactory(manufacturer="Unitree", serial_number="G1-0001")


def roundtrip(message: dict[str, object]) -> dict[str, object]:
    decoded = json.loads(encode(message))
    assert isinstance(decoded, dict)
    return decoded


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NOW, "2026-11-21T12:00:05.987Z"),
        (NOW.astimezone(timezone(timedelta(hours=9))), "2026-11-21T12:00:05.987Z"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05.000Z"),
    ],
)
def test_timestamps_are_utc_with_milliseconds(moment: datetime, text: str) -> None:
    assert iso_timestamp(moment) == text


def test_header_ids_count_per_topic_and_wrap_as_uint32() -> None:
    factory = headers()
    ids = [factory.header(Topic.STATE, NOW)["headerId"] for _ in range(3)]
    assert ids == [0, 1, 2]
    assert factory.header(Topic.CONNECTION, NOW)["headerId"] == 0
    factory._next_ids[Topic.STATE] = 2**32 - 1
    assert factory.header(Topic.STATE, NOW)["headerId"] == 2**32 - 1
    assert factory.header(Topic.STATE, NOW)["headerId"] == 0
    header = factory.header(Topic.FACTSHEET, NOW)
    assert header["version"] == "3.0.0"
    assert (header["manufacturer"], header["serialNumber"]) == ("Unitree", "G1-0001")


@pytest.mark.parametrize("state", list(ConnectionState))
def test_connection_messages_validate(state: ConnectionState) -> None:
    from daemon.fleet.vda5050.messages import connection_message

    message = roundtrip(connection_message(headers(), state, NOW))
    assert_valid("connection", message)
    assert message["connectionState"] == state.value


def test_factsheet_validates_and_describes_every_action_with_its_parameters() -> None:
    config = FleetConfig()
    message = roundtrip(factsheet_message(headers(), config, NOW, versions={"exoactor-edge": "1"}))
    assert_valid("factsheet", message)
    actions = {a["actionType"]: a for a in message["protocolFeatures"]["mobileRobotActions"]}  # type: ignore[index]
    assert set(actions) == {t.value for t in ActionType}
    assert {"startPause", "stopPause", "cancelOrder"} <= set(actions)
    (parameter,) = actions["loadMotion"]["actionParameters"]
    assert parameter == {
        "key": "packageId",
        "valueDataType": "STRING",
        "description": ACTION_SPECS[ActionType.LOAD_MOTION].parameters[0].description,
        "isOptional": False,
    }
    assert actions["startMotion"]["actionParameters"][0]["isOptional"] is True
    assert actions["startMotion"]["cancelAllowed"] is True
    timing = message["protocolLimits"]["timing"]  # type: ignore[index]
    assert timing["defaultStateInterval"] == config.state_interval_s


def test_state_of_a_fresh_robot_validates() -> None:
    state = FleetState(config=FleetConfig())
    assert_valid("state", roundtrip(state_message(headers(), state.state_body(), NOW)))


def test_instant_actions_built_by_the_fleet_side_validate() -> None:
    actions = [
        instant_action("startMotion", "a1", {"packageId": "wave"}, descriptor="wave hello"),
        instant_action("stopMotion", "a2"),
    ]
    assert_valid("instantActions", roundtrip(instant_actions_message(headers(), actions, NOW)))


def test_telemetry_writes_unknown_figures_as_null_not_infinity() -> None:
    status = ControlStatus(is_alive=True, mode="TRACK", timing=TimingFigures(0.1, 0.5, 0.9, 2.0))
    message = roundtrip(telemetry_message(headers(), status, NOW))
    assert message["stateAgeMs"] is None
    assert message["timing"]["latenessP99Ms"] == 0.5  # type: ignore[index]
    assert message["mode"] == "TRACK"


def test_encode_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode({"x": float("nan")})


def test_package_answers_carry_the_code_or_the_id() -> None:
    rejected = roundtrip(
        package_answer_message(
            headers(),
            IngestResult(False, code="bad_shape", field="arrays.body_pose", detail="(3, 2)"),
            NOW,
            sha256="ab",
            size_bytes=10,
            correlation=None,
        )
    )
    assert (rejected["accepted"], rejected["code"], rejected["field"]) == (
        False,
        "bad_shape",
        "arrays.body_pose",
    )
    accepted = roundtrip(
        package_answer_message(
            headers(),
            IngestResult(True, package_id="p1"),
            NOW,
            sha256="ab",
            size_bytes=1,
            correlation="0a",
        )
    )
    assert (accepted["accepted"], accepted["packageId"], accepted["correlation"]) == (
        True,
        "p1",
        "0a",
    )
    assert accepted["alreadyStored"] is False
    replay = package_answer_message(
        headers(),
        IngestResult(True, package_id="p1", already_stored=True),
        NOW,
        sha256="ab",
        size_bytes=1,
        correlation=None,
    )
    assert roundtrip(replay)["alreadyStored"] is True


def test_every_supervisor_cause_has_a_description() -> None:
    from controller.safety import Cause

    for cause in Cause:
        assert describe_cause(cause.name) != cause.name, cause.name
    assert set(FAULT_CAUSES) <= {c.name for c in Cause}
