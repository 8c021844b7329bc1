"""Reading a robot's VDA 5050 ``state`` message: action states, errors, mode, one-line summary.

Pure functions over the JSON dicts a fleet client receives (``daemon.fleet.vda5050.fleet_client``,
``scripts/fleet_sim.py``, tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the client uses these read-outs; only the annotation needs it back
    from daemon.fleet.vda5050.fleet_client import FleetClient

Message = dict[str, Any]


def action_state(state: Message, action_id: str) -> Message | None:
    """The ``instantActionStates`` entry of ``action_id`` in a state message."""
    for entry in state.get("instantActionStates", []):
        if entry.get("actionId") == action_id:
            return dict(entry)
    return None


def action_status(state: Message, action_id: str) -> str | None:
    entry = action_state(state, action_id)
    return entry.get("actionStatus") if entry else None


def order_action_state(state: Message, action_id: str) -> Message | None:
    """The ``actionStates`` entry (an order's node action) of ``action_id``."""
    for entry in state.get("actionStates", []):
        if entry.get("actionId") == action_id:
            return dict(entry)
    return None


def order_action_status(state: Message, action_id: str) -> str | None:
    entry = order_action_state(state, action_id)
    return entry.get("actionStatus") if entry else None


def control_mode(state: Message) -> str | None:
    """The supervisor mode this daemon reports in ``state.information`` (controlMode)."""
    for info in state.get("information", []):
        if info.get("infoType") == "controlMode":
            descriptor = info.get("infoDescriptor")
            return descriptor if isinstance(descriptor, str) else None
    return None


def errors_for(state: Message, action_id: str) -> list[Message]:
    """The ``errors`` entries that reference ``action_id``."""
    return [
        dict(error)
        for error in state.get("errors", [])
        if {"referenceKey": "actionId", "referenceValue": action_id}
        in error.get("errorReferences", [])
    ]


def summarize_state(state: Message) -> str:
    """One line: supervisor mode, package, pause, e-stop, order, errors, live actions."""
    mode, cause, package = "?", "?", ""
    for info in state.get("information", []):
        if info.get("infoType") == "controlMode":
            mode = str(info.get("infoDescriptor"))
            refs = {r["referenceKey"]: r["referenceValue"] for r in info.get("infoReferences", [])}
            cause, package = refs.get("cause", "?"), refs.get("package", "")
    estop = state.get("safetyState", {}).get("activeEmergencyStop", "?")
    errors = ",".join(f"{e['errorType']}/{e['errorLevel']}" for e in state.get("errors", []))
    live = ",".join(
        f"{a.get('actionType', '?')}:{a['actionStatus']}"
        for a in [*state.get("actionStates", []), *state.get("instantActionStates", [])]
        if a.get("actionStatus") not in ("FINISHED", "FAILED")
    )
    order = state.get("orderId") or "-"
    return (
        f"mode={mode} cause={cause} package={package or '-'} "
        f"paused={'yes' if state.get('paused') else 'no'} estop={estop} order={order} "
        f"errors=[{errors}] running=[{live}]"
    )


async def action_progress(
    fleet: FleetClient, action_id: str, timeout_s: float
) -> AsyncIterator[Message]:
    """Each state message in which the action's status changed, until FINISHED or FAILED.

    Raises:
        FleetTimeoutError: the action did not end within ``timeout_s``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: str | None = None
    while True:
        state = await fleet.wait_state(
            _status_changed(action_id, last), max(deadline - loop.time(), 0.0)
        )
        last = action_status(state, action_id)
        yield state
        if last in ("FINISHED", "FAILED"):
            return


def _status_changed(action_id: str, seen: str | None) -> Callable[[Message], bool]:
    return lambda m: action_status(m, action_id) not in (None, seen)
