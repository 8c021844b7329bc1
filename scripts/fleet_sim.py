"""A small VDA 5050 v3 fleet controller for one exoactor-edge robot, over MQTT 5.

Usage: python scripts/fleet_sim.py [--host H --port P --interface I --manufacturer M
       --serial S] [--orders] COMMAND ...

Commands:
  upload FILE        upload a motion package; prints the answer (package id or reason)
  load PACKAGE_ID    load a stored package into the control process
  start [PACKAGE_ID] start a motion (loads it first when given); follows it to the end
                     (with --orders: several ids run one after another in one order)
  stop | cancel      stop the motion (stopMotion | cancelOrder)
  pause | resume     startPause | stopPause
  estop | reset      emergencyStop | resetEmergencyStop
  watch              print a line whenever the robot's state changes (Ctrl-C ends)
  factsheet          request and print the factsheet

--orders sends load and start as VDA 5050 orders, as master controls such as openTCS do: one
node, the robot's station (its ``lastNodeId``), carrying the actions; the robot runs them in
turn and reports them in ``actionStates``. ``cancel`` then cancels the order.

The e-stop here is a convenience stop: VDA 5050 is not a safety standard, and the robot's own
supervisor (and its remote's e-stop key) stay the authority. Exit status: 0 when the action
FINISHED (or the upload was accepted), 1 when it FAILED or was rejected, 2 on usage errors or
time-outs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig, TlsConfig
from daemon.fleet.vda5050.errors import FleetConfigError, FleetTimeoutError
from daemon.fleet.vda5050.fleet_client import (
    FleetClient,
    action_progress,
    action_state,
    errors_for,
    order_action_state,
    summarize_state,
)

SIMPLE_ACTIONS = {
    "stop": "stopMotion",
    "cancel": "cancelOrder",
    "pause": "startPause",
    "resume": "stopPause",
    "estop": "emergencyStop",
    "reset": "resetEmergencyStop",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker host")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--interface", default="vda5050", help="VDA 5050 interfaceName")
    parser.add_argument("--manufacturer", default="Unitree")
    parser.add_argument("--serial", default="G1-0001", help="the robot's serialNumber")
    parser.add_argument("--username")
    parser.add_argument("--password-file", type=Path, help="file holding the broker password")
    parser.add_argument("--ca-file", type=Path, help="CA bundle: connect with TLS")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait (default 120)"
    )
    parser.add_argument(
        "--orders",
        action="store_true",
        help="send load/start as a one-node order at the robot's station (not instant actions)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upload", help="upload a motion package").add_argument("file", type=Path)
    commands.add_parser("load", help="load a stored package").add_argument("package_id")
    start = commands.add_parser("start", help="start a motion and follow it")
    start.add_argument("package_id", nargs="*", help="with --orders, several run in turn")
    start.add_argument("--no-wait", action="store_true", help="return once it runs")
    for name, action_type in SIMPLE_ACTIONS.items():
        commands.add_parser(name, help=action_type)
    watch = commands.add_parser("watch", help="print state changes")
    watch.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: never)")
    commands.add_parser("factsheet", help="request and print the factsheet")
    return parser


def fleet_config(args: argparse.Namespace) -> FleetConfig:
    return FleetConfig(
        interface_name=args.interface,
        manufacturer=args.manufacturer,
        serial_number=args.serial,
        broker=BrokerConfig(
            host=args.host,
            port=args.port,
            username=args.username,
            password_file=args.password_file,
            tls=TlsConfig(ca_file=args.ca_file) if args.ca_file else None,
            reconnect_max_s=2.0,
        ),
    )


async def follow(fleet: FleetClient, action_id: str, timeout_s: float, *, until: str = "") -> int:
    """Print each status of the action; 0 when FINISHED (or ``until`` reached), 1 when FAILED."""
    async for state in action_progress(fleet, action_id, timeout_s):
        entry = action_state(state, action_id) or {}
        status = entry.get("actionStatus")
        result = entry.get("actionResult")
        print(f"{action_id}: {status}" + (f" ({result})" if result else ""))
        print(f"  {summarize_state(state)}")
        if status == "FAILED":
            for error in errors_for(state, action_id):
                print(f"  error {error['errorType']}: {error.get('errorDescription', '')}")
                if error.get("errorHint"):
                    print(f"  hint: {error['errorHint']}")
            return 1
        if status == until:
            return 0
    return 0


async def run(args: argparse.Namespace) -> int:
    async with FleetClient(config=fleet_config(args)) as fleet:
        if args.command == "upload":
            answer = await fleet.upload(args.file.read_bytes(), timeout_s=args.timeout)
            if answer.accepted:
                print(f"accepted: {answer.package_id}")
                return 0
            print(f"rejected [{answer.code}] {answer.field or ''}: {answer.detail}")
            return 1
        if args.command == "watch":
            return await watch(fleet, args.duration)
        if args.command == "factsheet":
            action_id = await fleet.instant_action("factsheetRequest")
            await fleet.wait_action(action_id, {"FINISHED"}, args.timeout)
            factsheet = await fleet.wait_for("factsheet", lambda m: True, args.timeout)
            print(json.dumps(factsheet, indent=2))
            return 0
        if args.orders and args.command in ("load", "start"):
            return await run_order(fleet, args)
        if args.command == "start" and len(args.package_id) > 1:
            print("fleet_sim: several packages need --orders", file=sys.stderr)
            return 2
        parameters: dict[str, Any] = {}
        if args.command == "load":
            parameters["packageId"] = args.package_id
        elif args.command == "start" and args.package_id:
            parameters["packageId"] = args.package_id[0]
        action_type = {"load": "loadMotion", "start": "startMotion"}.get(
            args.command, SIMPLE_ACTIONS.get(args.command, "")
        )
        if action_type == "emergencyStop":
            action_id = await fleet.emergency_stop()  # its own topic, then instantActions
        else:
            action_id = await fleet.instant_action(action_type, parameters)
        until = "RUNNING" if getattr(args, "no_wait", False) else ""
        return await follow(fleet, action_id, args.timeout, until=until)


async def run_order(fleet: FleetClient, args: argparse.Namespace) -> int:
    """Send load/start as one order at the robot's station and follow its actions."""
    await fleet.wait_state(lambda m: True, args.timeout)  # its lastNodeId: where to send it
    if args.command == "load":
        actions: list[tuple[str, dict[str, Any] | None]] = [
            ("loadMotion", {"packageId": args.package_id})
        ]
    else:
        ids = args.package_id or [None]
        actions = [("startMotion", {"packageId": p} if p else None) for p in ids]
    order_id, action_ids = await fleet.order(actions)
    listed = ", ".join(f"{kind} {i}" for (kind, _), i in zip(actions, action_ids, strict=True))
    print(f"order {order_id}: {listed}")
    return await follow_order(fleet, order_id, action_ids, args.timeout)


async def follow_order(
    fleet: FleetClient, order_id: str, action_ids: list[str], timeout_s: float
) -> int:
    """Print each change of the order's action states; 0 when all FINISHED, 1 when one FAILED
    or the order was rejected."""
    seen: dict[str, str | None] = {}

    async def follow() -> int:
        async for state in fleet.states():
            for error in state.get("errors", []):
                refs = {r["referenceKey"]: r["referenceValue"] for r in error["errorReferences"]}
                if refs.get("orderId") == order_id and state.get("orderId") != order_id:
                    print(f"order rejected: {error['errorType']}: {error['errorDescription']}")
                    if error.get("errorHint"):
                        print(f"  hint: {error['errorHint']}")
                    return 1
            for action_id in action_ids:
                entry = order_action_state(state, action_id) or {}
                status = entry.get("actionStatus")
                if status is not None and seen.get(action_id) != status:
                    seen[action_id] = status
                    result = entry.get("actionResult")
                    print(f"{action_id}: {status}" + (f" ({result})" if result else ""))
                    print(f"  {summarize_state(state)}")
            statuses = [seen.get(a) for a in action_ids]
            if all(s in ("FINISHED", "FAILED") for s in statuses):
                return 0 if all(s == "FINISHED" for s in statuses) else 1
        return 1

    try:
        return await asyncio.wait_for(follow(), timeout_s)
    except asyncio.TimeoutError:
        raise FleetTimeoutError(f"the end of order {order_id}", timeout_s) from None


async def watch(fleet: FleetClient, duration_s: float) -> int:
    async def lines() -> None:
        last = ""
        async for state in fleet.states():
            line = summarize_state(state)
            if line != last:
                print(f"{state.get('timestamp', '')} {line}", flush=True)
                last = line

    if duration_s > 0:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(lines(), duration_s)
    else:
        await lines()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(run(args))
    except (FleetTimeoutError, FleetConfigError, OSError) as exc:
        print(f"fleet_sim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
