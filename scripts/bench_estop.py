#!/usr/bin/env python3
"""Benchmark: e-stop latency from an MQTT publish to the damping command written, and control-loop
lateness with the daemon idle vs flooded — all against the real service.

Starts a real mosquitto on loopback and ``exoactor-edge run`` (simulated G1 in real-time mode)
as a subprocess. A VDA 5050 fleet client publishes ``emergencyStop`` instant actions through the
broker; the control process reports (on its status socket, read here by a second subscriber) the
monotonic time at which it handed the damping command to the robot. Both clocks are the same
CLOCK_MONOTONIC, so ``written - published`` is the end-to-end latency. Between trials the e-stop
is reset over MQTT. Then loop lateness over equal windows: daemon idle, and daemon flooded with
1000 MQTT messages/s (``stateRequest`` instant actions) plus back-to-back package uploads.

Usage: scripts/bench_estop.py [--trials 200] [--window-s 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import zmq
import zmq.asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the same broker launcher the tests use

from controller.ipc import COMMAND_SOCKET, STATUS_SOCKET, endpoint
from controller.ipc.wire import pack, unpack
from daemon.config import load_config
from daemon.ingest_zmq import upload
from daemon.vda5050.fleet_client import FleetClient
from estimators.demo_motion import make_demo_package
from tests.support.mosquitto import MosquittoBroker, find_mosquitto, free_port


def write_config(work: Path, broker_port: int, ingest_port: int) -> Path:
    config = work / "edge.toml"
    config.write_text(
        f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[fleet.broker]
host = "127.0.0.1"
port = {broker_port}
[ingest]
endpoints = ["tcp://127.0.0.1:{ingest_port}"]
[robot]
use_official_model = false
"""
    )
    return config


class ControlTap:
    """A second subscriber on the control process's status socket, plus a command connection."""

    def __init__(self, run_dir: Path) -> None:
        self._ctx = zmq.asyncio.Context()
        self.sub = self._ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(endpoint(str(run_dir), STATUS_SOCKET))
        self.dealer = self._ctx.socket(zmq.DEALER)
        self.dealer.connect(endpoint(str(run_dir), COMMAND_SOCKET))
        self.mode = ""
        self.estop_written_ns = 0
        self._task = asyncio.create_task(self._read(), name="control-tap")

    async def _read(self) -> None:
        while True:
            message = unpack(await self.sub.recv())
            if message["kind"] in ("event", "status"):
                self.mode = str(message["mode"])
                self.estop_written_ns = int(message.get("estop_written_ns", 0))

    async def wait_mode(self, mode: str, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.mode != mode:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mode {self.mode}, waited for {mode}")
            await asyncio.sleep(0.001)

    async def timing(self, ticks: int) -> dict[str, Any]:
        await self.dealer.send(pack({"kind": "timing_summary", "id": 1, "ticks": ticks}))
        while True:
            answer = unpack(await self.dealer.recv())
            if answer.get("kind") == "ack" and answer.get("data"):
                return dict(answer["data"])

    def close(self) -> None:
        self._task.cancel()
        self.sub.close(0)
        self.dealer.close(0)
        self._ctx.term()


async def estop_trials(fleet: FleetClient, tap: ControlTap, trials: int) -> list[float]:
    latencies = []
    for _ in range(trials):
        previous = tap.estop_written_ns
        t0 = time.monotonic_ns()
        await fleet.instant_action("emergencyStop", {})
        deadline = time.monotonic() + 5.0
        while tap.estop_written_ns in (0, previous):
            if time.monotonic() > deadline:
                raise TimeoutError("no damping reported for an e-stop")
            await asyncio.sleep(0.0002)
        latencies.append((tap.estop_written_ns - t0) * 1e-6)
        await tap.wait_mode("ESTOP")
        await fleet.instant_action("resetEmergencyStop", {})
        await tap.wait_mode("DAMP")
    return latencies


async def flood(fleet: FleetClient, ingest: str, seconds: float, package: bytes) -> tuple[int, int]:
    """1000 MQTT messages/s and back-to-back uploads, for ``seconds``."""
    sent = uploads = 0
    end = time.monotonic() + seconds

    async def mqtt() -> None:
        nonlocal sent
        next_t = time.monotonic()
        while time.monotonic() < end:
            await fleet.instant_action("stateRequest", {})
            sent += 1
            next_t += 0.001
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))

    async def packages() -> None:
        nonlocal uploads
        while time.monotonic() < end:
            await upload(ingest, package, timeout_s=10.0)
            uploads += 1

    await asyncio.gather(mqtt(), packages())
    return sent, uploads


async def measure(args: argparse.Namespace, config_path: Path, run_dir: Path) -> dict[str, Any]:
    config = load_config(config_path)
    tap = ControlTap(run_dir)
    try:
        async with FleetClient(config=config.fleet) as fleet:
            await fleet.wait_connection("ONLINE", 30.0)
            await asyncio.sleep(1.0)
            print(f"e-stop: {args.trials} trials ...", file=sys.stderr)
            latencies = await estop_trials(fleet, tap, args.trials)
            ticks = int(args.window_s / 0.02)
            print(f"lateness: {args.window_s:.0f} s idle ...", file=sys.stderr)
            await asyncio.sleep(args.window_s)
            idle = await tap.timing(ticks)
            print(f"lateness: {args.window_s:.0f} s flooded ...", file=sys.stderr)
            sent, uploads = await flood(
                fleet, config.ingest.endpoints[0], args.window_s, make_demo_package()
            )
            flooded = await tap.timing(ticks)
    finally:
        tap.close()
    lat = np.array(latencies)
    return {
        "estop_ms_p50": float(np.percentile(lat, 50)),
        "estop_ms_p99": float(np.percentile(lat, 99)),
        "estop_ms_max": float(lat.max()),
        "estop_trials": len(latencies),
        "lateness_p99_idle_ms": idle["lateness_p99_ms"],
        "lateness_p99_flood_ms": flooded["lateness_p99_ms"],
        "lateness_max_idle_ms": idle["lateness_max_ms"],
        "lateness_max_flood_ms": flooded["lateness_max_ms"],
        "flood_mqtt_messages_per_s": sent / args.window_s,
        "flood_uploads": uploads,
        "window_ticks": ticks,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("bench_estop: mosquitto not found (apt-get install mosquitto)")
    work = Path(tempfile.mkdtemp(prefix="exo-bench-estop-"))
    broker = MosquittoBroker(workdir=work, binary=binary)
    broker.start()
    config_path = write_config(work, broker.port, free_port())
    with (work / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "exoactor-edge"), "run", "--config", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            status_sock = work / "run" / STATUS_SOCKET
            deadline = time.monotonic() + 60
            while not status_sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return asyncio.run(measure(args, config_path, work / "run"))
        finally:
            daemon.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.wait(10)
            broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--window-s", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = run(args)
    print(f"\ne-stop, MQTT publish -> damping written ({result['estop_trials']} trials): "
          f"p50 {result['estop_ms_p50']:.2f} ms, p99 {result['estop_ms_p99']:.2f} ms, "
          f"max {result['estop_ms_max']:.2f} ms")  # fmt: skip
    ratio = result["lateness_p99_flood_ms"] / max(result["lateness_p99_idle_ms"], 1e-9)
    print(f"control-loop lateness p99: idle {result['lateness_p99_idle_ms']:.3f} ms, flooded "
          f"{result['lateness_p99_flood_ms']:.3f} ms ({result['flood_mqtt_messages_per_s']:.0f} "
          f"MQTT msg/s + {result['flood_uploads']} uploads); ratio {ratio:.2f}")  # fmt: skip
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
