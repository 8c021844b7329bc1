"""The parsers under fuzz, what counts as a typed outcome for each, and the runner.

An input ends in acceptance or in the parser's own typed rejection (``PackageRejectedError``
with a ``PackageErrorCode``, ``StreamDecodeError`` with a ``StreamErrorCode``,
``JsonRejectedError`` with a ``JsonErrorCode``, for instantActions a ``ParsedInstantActions``
whose rejections carry an ``ErrorType``, for orders an ``Order`` or an ``OrderRejection`` with
an ``OrderErrorType`` and a JSON-ready error entry). Anything else raised, or an outcome of
the wrong shape, is a crash. ``run_target`` counts outcomes per code and keeps the first
crashing inputs.
"""

from __future__ import annotations

import random
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from daemon.fleet.vda5050.actions import (
    ErrorType,
    InstantAction,
    ParsedInstantActions,
    parse_instant_actions,
)
from daemon.fleet.vda5050.messages import encode
from daemon.fleet.vda5050.orders import Order, OrderErrorType, OrderRejection, parse_order
from daemon.fleet.vda5050.strict_json import JsonErrorCode, JsonRejectedError, load_json
from daemon.inputs.stream_frames import FrameBuilder
from daemon.inputs.stream_messages import decode_pose_message
from daemon.inputs.stream_session import RobotView, StepKind, StreamSession
from daemon.inputs.stream_wire import StreamDecodeError, StreamErrorCode
from estimators.package import (
    PackageErrorCode,
    PackageIdentity,
    PackageRejectedError,
    decode_package,
    peek_identity,
)
from tests.fuzz.json_inputs import MANUFACTURER, MAX_BYTES, SERIAL_NUMBER, instant_actions_input
from tests.fuzz.order_inputs import STATION, order_input
from tests.fuzz.package_inputs import CONFIGS, package_input
from tests.fuzz.sonic_inputs import SEEDS as SONIC_SEEDS
from tests.fuzz.sonic_inputs import sonic_input

ACCEPTED = "accepted"


class BadOutcomeError(AssertionError):
    """A parser returned something that is neither an acceptance nor a typed rejection."""


def classify_instant_actions(payload: bytes) -> str:
    parsed = parse_instant_actions(
        payload, manufacturer=MANUFACTURER, serial_number=SERIAL_NUMBER, max_bytes=MAX_BYTES
    )
    if not isinstance(parsed, ParsedInstantActions):
        raise BadOutcomeError(f"returned {type(parsed).__name__}")
    for action in parsed.actions:
        if not isinstance(action, InstantAction):
            raise BadOutcomeError(f"an action of type {type(action).__name__}")
    for rejected in parsed.rejected:
        if not isinstance(rejected.error_type, ErrorType) or not rejected.description:
            raise BadOutcomeError(f"an untyped rejection {rejected!r:.200}")
    if parsed.is_message_valid and not parsed.rejected:
        return ACCEPTED  # an empty actions list is a valid message too
    if not parsed.rejected:
        raise BadOutcomeError("an invalid message without a rejection")
    scope = "action" if parsed.is_message_valid else "message"
    return f"{scope}:{parsed.rejected[0].error_type.value}"


def classify_order(payload: bytes) -> str:
    outcome = parse_order(
        payload,
        manufacturer=MANUFACTURER,
        serial_number=SERIAL_NUMBER,
        station_node_id=STATION,
        max_bytes=MAX_BYTES,
    )
    if isinstance(outcome, Order):
        for action in outcome.node.actions:
            if not isinstance(action, InstantAction):
                raise BadOutcomeError(f"a node action of type {type(action).__name__}")
        return ACCEPTED
    if not isinstance(outcome, OrderRejection):
        raise BadOutcomeError(f"returned {type(outcome).__name__}")
    if not isinstance(outcome.error_type, OrderErrorType) or not outcome.description:
        raise BadOutcomeError(f"an untyped rejection {outcome!r:.200}")
    encode(outcome.error())  # the error entry must be publishable (strict JSON)
    return f"rejected:{outcome.error_type.value}"


def classify_json(payload: bytes) -> str:
    try:
        load_json(payload, max_bytes=MAX_BYTES)
    except JsonRejectedError as exc:
        if not isinstance(exc.code, JsonErrorCode):
            raise BadOutcomeError(f"untyped code {exc.code!r}") from None
        return exc.code.value
    return ACCEPTED


def classify_package(data: bytes) -> str:
    """The replay fast path (``peek_identity``) and the full decode, under both policies."""
    codes = []
    for config in CONFIGS:
        try:
            identity = peek_identity(data, config)
            if identity is not None and not isinstance(identity, PackageIdentity):
                raise BadOutcomeError(f"peek returned {type(identity).__name__}")
            decode_package(data, config)
            codes.append(ACCEPTED)
        except PackageRejectedError as exc:
            if not isinstance(exc.code, PackageErrorCode):
                raise BadOutcomeError(f"untyped code {exc.code!r}") from None
            codes.append(exc.code.value)
    return codes[0] if codes[0] == codes[1] else f"{codes[0]}|{codes[1]}"


def classify_sonic(message: bytes) -> str:
    """The decoder, the stream lifecycle (fresh, and following a v1 stream) and, for what is
    accepted, the frame building for both controllers (any exception there is a crash)."""
    codes = []
    holding = RobotView(mode="HOLD")
    for primed in (False, True):
        session = StreamSession(unsupported={})
        if primed:
            session.on_pose(decode_pose_message(SONIC_SEEDS[0]), 0.0, holding)
            session.opened(True)
        try:
            decoded = decode_pose_message(message)
        except StreamDecodeError as exc:
            if not isinstance(exc.code, StreamErrorCode):
                raise BadOutcomeError(f"untyped code {exc.code!r}") from None
            codes.append(exc.code.value)
            continue
        step = session.on_pose(decoded, 0.01, holding)
        if step.kind is StepKind.FORWARD:
            for maps_body in (True, False):
                FrameBuilder(maps_body=maps_body).build(decoded)
            codes.append(ACCEPTED)
        elif step.cause is None:
            raise BadOutcomeError(f"a {step.kind.value} step without a cause")
        else:
            codes.append(step.cause.value)
    return codes[0] if codes[0] == codes[1] else f"{codes[0]}|{codes[1]}"


@dataclass(frozen=True)
class FuzzTarget:
    """One parser: how to make an input and how to judge the outcome."""

    name: str
    generate: Callable[[random.Random], bytes]
    classify: Callable[[bytes], str]


TARGETS: dict[str, FuzzTarget] = {
    t.name: t
    for t in (
        FuzzTarget("instant_actions", instant_actions_input, classify_instant_actions),
        FuzzTarget("order", order_input, classify_order),
        FuzzTarget("json", instant_actions_input, classify_json),
        FuzzTarget("motion_package", package_input, classify_package),
        FuzzTarget("sonic_stream", sonic_input, classify_sonic),
    )
}


@dataclass
class Crash:
    """One input that ended in something other than a typed outcome."""

    data: bytes
    error: str
    trace: str


@dataclass
class FuzzReport:
    """Outcome counts per code, and the crashes (the first few kept in full)."""

    target: str
    inputs: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    kept: list[Crash] = field(default_factory=list)


def run_target(target: FuzzTarget, n: int, seed: int, keep: int = 5) -> FuzzReport:
    """Generate and judge ``n`` inputs from ``seed`` (the same seed gives the same inputs)."""
    rng = random.Random(f"{target.name}:{seed}")
    report = FuzzReport(target.name)
    for _ in range(n):
        data = target.generate(rng)
        report.inputs += 1
        try:
            report.counts[target.classify(data)] += 1
        except Exception as exc:  # the point of the fuzzer: anything untyped is a crash
            report.crashes += 1
            report.counts[f"CRASH:{type(exc).__name__}"] += 1
            if len(report.kept) < keep:
                report.kept.append(Crash(data, repr(exc)[:500], traceback.format_exc()))
    return report
