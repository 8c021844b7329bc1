"""A small VDA 5050 v3 fleet controller for one exoactor-edge robot, over MQTT 5.

Usage: python scripts/fleet_sim.py [--host H --port P --interface I --manufacturer M
       --serial S] COMMAND ...

Commands:
  upload FILE        upload a motion package; prints the answer (package id or reason)
  load PACKAGE_ID    load a stored package into the control process
  start [PACKAGE_ID] start a motion (loads it first when given); follows it to the end
  stop | cancel      stop the motion (stopMotion | cancelOrder)
  pause | resume     startPause | stopPause
  estop | reset      emergencyStop | resetEmergencyStop
  watch              print a line whenever the robot's state changes (Ctrl-C ends)
  factsheet          request and print the factsheet

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

from daemon.vda5050.config import BrokerConfig, FleetConfig, TlsConfig
from daemon.vda5050.errors import FleetConfigError, FleetTimeoutError
from daemon.vda5050.fleet_client import (
    FleetClient,
    action_progress,
    action_state,
    errors_for,
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
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upload", help="upload a motion package").add_argument("file", type=Path)
    commands.add_parser("load", help="load a stored package").add_argument("package_id")
    start = commands.add_parser("start", help="start a motion and follow it")
    start.add_argument("package_id", nargs="?")
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
        parameters: dict[str, Any] = {}
        if args.command in ("load", "start") and args.package_id:
            parameters["packageId"] = args.package_id
        action_type = {"load": "loadMotion", "start": "startMotion"}.get(
            args.command, SIMPLE_ACTIONS.get(args.command, "")
        )
        if action_type == "emergencyStop":
            action_id = await fleet.emergency_stop()  # its own topic, then instantActions
        else:
            action_id = await fleet.instant_action(action_type, parameters)
        until = "RUNNING" if getattr(args, "no_wait", False) else ""
        return await follow(fleet, action_id, args.timeout, until=until)


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
