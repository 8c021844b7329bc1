"""Parsing instantActions: what is accepted, what fails as a whole, what fails alone.

Real: the parser and the official VDA 5050 ``instantActions`` schema, which the parser must
never be more lenient than (checked with generated messages). Nothing is faked.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.fleet.vda5050.actions import (
    ActionType,
    ErrorType,
    Freshness,
    parse_instant_actions,
    parse_timestamp,
)
from tests.support.vda5050_schemas import schema_errors


def envelope(actions: Any, **overrides: Any) -> dict[str, Any]:
    message = {
        "headerId": 3,
        "timestamp": "2026-11-21T12:00:00.000Z",
        "version": "3.0.0",
        "manufacturer": "Acme",
        "serialNumber": "T-1",
        "actions": actions,
    }
    message.update(overrides)
    return message


def action(kind: str, action_id: str, **parameters: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"actionId": action_id, "actionType": kind, "blockingType": "NONE"}
    if parameters:
        entry["actionParameters"] = [{"key": k, "value": v} for k, v in parameters.items()]
    return entry


def parse(message: Any, **limits: int) -> Any:
    raw = message if isinstance(message, bytes) else json.dumps(message).encode()
    return parse_instant_actions(raw, manufacturer="Acme", serial_number="T-1", **limits)


def test_every_supported_action_with_valid_parameters_parses() -> None:
    message = envelope(
        [action("startMotion", "a1", packageId="wave"), action("startMotion", "a2")]
        + [
            action(t.value, f"b{i}")
            for i, t in enumerate(ActionType)
            if t.value not in ("loadMotion", "generateMotion")  # these need parameters
        ]
        + [action("loadMotion", "l1", packageId="wave")]
        + [action("generateMotion", "g1", instruction="wave", view="back", autoStart=True)]
    )
    message["actions"] = message["actions"][:16]
    assert schema_errors("instantActions", message) == []
    parsed = parse(message)
    assert parsed.is_message_valid
    assert parsed.rejected == ()
    assert parsed.header_id == 3
    assert parsed.actions[0].text("packageId") == "wave"
    assert parsed.actions[1].parameters == {}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not a JSON document"),
        (b"{nope", "not a JSON document"),
        (b"[]", "not a JSON object"),
        (json.dumps(envelope([], serialNumber="T-2")).encode(), "addressed to Acme/T-2"),
        (json.dumps(envelope([], version="2.1.0")).encode(), "is not 3.x"),
        (json.dumps(envelope([], headerId="3")).encode(), "headerId must be an integer"),
        (json.dumps({"actions": []}).encode(), "'headerId' is missing"),
        (json.dumps(envelope({})).encode(), "actions must be an array"),
    ],
)
def test_envelope_failures_reject_the_whole_message(raw: bytes, reason: str) -> None:
    parsed = parse(raw)
    assert not parsed.is_message_valid
    assert parsed.actions == ()
    (rejected,) = parsed.rejected
    assert rejected.error_type is ErrorType.VALIDATION
    assert reason in rejected.description
    assert rejected.action_id == "message-0"


@pytest.mark.parametrize(
    ("actions", "reason"),
    [
        ([{"actionId": "a1", "actionType": "stopMotion"}], "'blockingType' is missing"),
        ([dict(action("stopMotion", "a1"), blockingType="HARD")], "must be NONE"),
        ([action("stopMotion", "a1"), action("stateRequest", "a1")], "appears twice"),
        ([action("stopMotion", "")], "empty"),
        ([dict(action("stopMotion", "a1"), actionParameters=[{"key": "k"}])], "key and value"),
        ([dict(action("stopMotion", "a1"), actionParameters=[{"key": 1, "value": 2}])], "key"),
        ([action("stopMotion", "a1", x=None)], "must not be null"),
        ([action("stopMotion", f"a{i}") for i in range(17)], "exceed the limit of 16"),
    ],
)
def test_malformed_actions_fail_every_action_of_the_message(
    actions: list[Any], reason: str
) -> None:
    parsed = parse(envelope(actions))
    assert not parsed.is_message_valid
    assert parsed.actions == ()
    assert all(r.error_type is ErrorType.VALIDATION for r in parsed.rejected)
    assert reason in parsed.rejected[0].description
    ids = {a["actionId"] for a in actions if a.get("actionId")}
    assert {r.action_id for r in parsed.rejected} == (ids or {"message-0"})


def test_oversized_message_is_refused_unread() -> None:
    parsed = parse(envelope([action("stopMotion", "a1")]), max_bytes=50)
    assert not parsed.is_message_valid
    assert "exceeds 50" in parsed.rejected[0].description


@pytest.mark.parametrize(
    ("entry", "error_type", "reason"),
    [
        (action("dance", "a1"), ErrorType.UNSUPPORTED_ACTION, "not supported"),
        (action("loadMotion", "a1"), ErrorType.INVALID_PARAMETER, "'packageId' is required"),
        (action("loadMotion", "a1", packageId=3), ErrorType.INVALID_PARAMETER, "STRING"),
        (action("loadMotion", "a1", packageId=""), ErrorType.INVALID_PARAMETER, "empty"),
        (action("startMotion", "a1", packageID="w"), ErrorType.INVALID_PARAMETER, "unknown"),
        (action("stopMotion", "a1", force=True), ErrorType.INVALID_PARAMETER, "unknown"),
    ],
)
def test_unknown_types_and_bad_parameters_fail_that_action_alone(
    entry: dict[str, Any], error_type: ErrorType, reason: str
) -> None:
    parsed = parse(envelope([entry, action("stateRequest", "ok")]))
    assert parsed.is_message_valid
    assert [a.action_id for a in parsed.actions] == ["ok"]
    (rejected,) = parsed.rejected
    assert (rejected.action_id, rejected.error_type) == ("a1", error_type)
    assert reason in rejected.description
    assert rejected.hint


def test_duplicate_parameter_keys_fail_the_action() -> None:
    entry = action("loadMotion", "a1", packageId="w")
    entry["actionParameters"].append({"key": "packageId", "value": "v"})
    (rejected,) = parse(envelope([entry])).rejected
    assert "twice" in rejected.description


def test_emergency_stop_is_seen_even_in_a_message_that_fails_as_a_whole() -> None:
    message = envelope([action("emergencyStop", "e1"), {"actionType": "x"}], headerId="bad")
    parsed = parse(message)
    assert not parsed.is_message_valid
    assert parsed.has_emergency_stop
    assert not parse(envelope([action("stopMotion", "s1")])).has_emergency_stop


_json_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
_valid_actions = st.lists(
    st.fixed_dictionaries(
        {
            "actionId": st.sampled_from(["a", "b", "c", ""]),
            "actionType": st.sampled_from(["stopMotion", "dance", "loadMotion"]),
            "blockingType": st.just("NONE"),
        },
        optional={
            "actionParameters": st.lists(
                st.fixed_dictionaries(
                    {
                        "key": st.sampled_from(["packageId", "x"]),
                        "value": st.sampled_from(["w", 1, True, [1], {}]),
                    }
                ),
                max_size=2,
            ),
            "actionDescriptor": st.text(max_size=3),
        },
    ),
    max_size=3,
)
_valid_messages = st.fixed_dictionaries(
    {
        "headerId": st.integers(0, 9),
        "timestamp": st.just("2026-11-21T12:00:00.000Z"),
        "version": st.sampled_from(["3.0.0", "3.1.0", "2.1.0"]),
        "manufacturer": st.just("Acme"),
        "serialNumber": st.just("T-1"),
        "actions": _valid_actions,
    }
)


@st.composite
def _messages(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking message with up to two fields deleted or replaced by random JSON."""
    message: dict[str, Any] = draw(_valid_messages)
    for _ in range(draw(st.integers(0, 2))):
        target: Any = message
        actions = message.get("actions")
        if isinstance(actions, list) and actions and draw(st.booleans()):
            target = draw(st.sampled_from(actions))
            parameters = target.get("actionParameters") if isinstance(target, dict) else None
            if isinstance(parameters, list) and parameters and draw(st.booleans()):
                target = draw(st.sampled_from(parameters))
        if not isinstance(target, dict) or not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.booleans()):
            del target[key]
        else:
            target[key] = draw(_json)
    return message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_messages())
def test_parser_is_never_more_lenient_than_the_official_schema(message: dict[str, Any]) -> None:
    """A message the schema rejects never runs an action; one it accepts is judged per action
    (whole-message checks beyond the schema: unique non-empty ids, major version 3, addressed
    to this robot). The
    timestamp's format is not enforced: fleet controllers differ in their precision."""
    parsed = parse(message)
    if schema_errors("instantActions", message, is_timestamp_checked=False):
        assert not parsed.is_message_valid
        assert parsed.actions == ()
    else:
        ids = [a["actionId"] for a in message["actions"]]
        extra_rules_hold = (
            len(set(ids)) == len(ids)
            and all(ids)
            and message["version"].split(".")[0] == "3"
            and (message["manufacturer"], message["serialNumber"]) == ("Acme", "T-1")
        )
        assert parsed.is_message_valid == extra_rules_hold


ISSUED = datetime(2026, 11, 21, 12, 0, 0, tzinfo=timezone.utc)
"""The timestamp ``envelope`` writes."""


@pytest.mark.parametrize(
    ("arrived_after", "is_refused", "reason"),
    [
        (timedelta(seconds=1), False, ""),
        (timedelta(seconds=-1), False, ""),
        (timedelta(hours=1), True, "stale"),
        (timedelta(days=1), True, "stale"),
        (timedelta(seconds=11), True, "stale"),
        (timedelta(hours=-1), True, "in the future"),
        (timedelta(seconds=-3), True, "in the future"),
    ],
)
def test_commands_outside_the_freshness_window_are_refused(
    arrived_after: timedelta, is_refused: bool, reason: str
) -> None:
    raw = json.dumps(envelope([action("startPause", "p1")])).encode()
    freshness = Freshness(now=ISSUED + arrived_after, max_age_s=10, max_future_s=2.0)
    parsed = parse_instant_actions(
        raw, manufacturer="Acme", serial_number="T-1", freshness=freshness
    )
    assert parsed.is_stale is is_refused
    assert parsed.is_message_valid is not is_refused
    if is_refused:
        (rejected,) = parsed.rejected
        assert rejected.error_type is ErrorType.VALIDATION
        assert reason in rejected.description


def test_a_stale_message_still_carries_its_emergency_stop() -> None:
    raw = json.dumps(envelope([action("emergencyStop", "e1")])).encode()
    freshness = Freshness(now=ISSUED + timedelta(days=1), max_age_s=10)
    parsed = parse_instant_actions(
        raw, manufacturer="Acme", serial_number="T-1", freshness=freshness
    )
    assert parsed.is_stale
    assert parsed.has_emergency_stop


@pytest.mark.parametrize(
    "stamp", ["yesterday", "2026-11-21T12:00:00", "", "9" * 100, "2026-13-40T99:00:00Z"]
)
def test_a_timestamp_that_is_not_iso_8601_utc_is_refused(stamp: str) -> None:
    raw = json.dumps(envelope([action("startPause", "p1")], timestamp=stamp)).encode()
    parsed = parse_instant_actions(
        raw,
        manufacturer="Acme",
        serial_number="T-1",
        freshness=Freshness(now=ISSUED, max_age_s=10),
    )
    assert not parsed.is_message_valid
    assert "ISO 8601" in parsed.rejected[0].description


def test_vda_timestamps_parse_with_z_and_offsets() -> None:
    assert parse_timestamp("2026-11-21T12:00:00.000Z") == ISSUED
    assert parse_timestamp("2026-11-21T13:00:00.000+01:00") == ISSUED


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 60_000,
        b'{"a":' * 20_000,
        json.dumps(
            envelope(
                [
                    action(
                        "startPause",
                        "p1",
                        deep=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
                    )
                ]
            )
        ).encode(),
    ],
)
def test_deep_nesting_is_a_typed_rejection_not_a_crash(raw: bytes) -> None:
    parsed = parse_instant_actions(raw, manufacturer="Acme", serial_number="T-1", max_bytes=200_000)
    assert not parsed.is_message_valid
    assert "nested deeper" in parsed.rejected[0].description
