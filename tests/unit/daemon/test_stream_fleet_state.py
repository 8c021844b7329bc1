"""Streaming in the VDA 5050 state: refusals as information, a stream fault as an error.

Real: ``FleetState`` building the state body, the streaming input's refusal accounting, and the
official VDA 5050 JSON schema when available. Faked: the control status (set by hand).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from daemon.control.control_link import ControlStatus
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.fleet_state import FleetState, relevant_part
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import encode, state_message
from daemon.fleet.vda5050.robot_view import RobotExtras
from daemon.inputs.stream_refusals import RefusalCause, StreamRefusals, fleet_information
from tests.support.vda5050_schemas import check_if_available

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)


def body_with(refusals: StreamRefusals, status: ControlStatus) -> dict[str, object]:
    state = FleetState(config=FleetConfig(manufacturer="Acme", serial_number="T-1"))
    state.on_status(status)
    body = state.state_body(RobotExtras(information=fleet_information(refusals)))
    headers = HeaderFactory(manufacturer="Acme", serial_number="T-1")
    check_if_available("state", json.loads(encode(state_message(headers, body, NOW))))
    return body


def test_refusals_show_in_the_state_and_repeats_change_nothing_relevant() -> None:
    refusals = StreamRefusals()
    refusals.refuse(RefusalCause.NOT_HOLDING, "mode is DAMP; a stream starts from HOLD")
    status = ControlStatus(is_alive=True, mode="DAMP", last_cause="DAMP_REQUESTED")
    first = body_with(refusals, status)
    infos = [i for i in first["information"] if i["infoType"] == "streamRefusal"]  # type: ignore[attr-defined,index]
    assert [i["infoDescriptor"] for i in infos] == [
        "[not_holding] the robot is not holding: streams start from HOLD"
    ]
    for _ in range(100):
        refusals.refuse(RefusalCause.NOT_HOLDING, "mode is DAMP; a stream starts from HOLD")
    assert relevant_part(body_with(refusals, status)) == relevant_part(first)


def test_a_protocol_change_within_a_stream_reads_as_a_safety_fault() -> None:
    status = ControlStatus(is_alive=True, mode="HOLD", last_cause="STREAM_PROTOCOL_CHANGED")
    body = body_with(StreamRefusals(), status)
    (error,) = body["errors"]  # type: ignore[misc]
    assert "changed protocol version within a stream" in error["errorDescription"]
    assert error["errorLevel"] == "URGENT"
