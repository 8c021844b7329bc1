#!/usr/bin/env python3
"""Benchmark: identical package replays against the real service, and what they cost the loop.

Starts a real mosquitto on loopback and ``exoactor-edge run`` (simulated G1, real-time mode) as
a subprocess, uploads the demo package once over ZeroMQ, then sends it ``--replays`` more times
back to back (each waits for its answer) and measures the replays' wall time (total, median and
p99 per replay) and the control loop's timing over the same ticks (missed ticks: work ended
after the next deadline; lateness p99), next to an idle window of the same length. A replay of
a stored package is answered "already stored" from its envelope alone; before ids were
immutable, each replay was decoded, validated, precomputed and rewritten. The script uses only
the service's public surfaces (ZeroMQ upload, the control process's timing query), so it runs
unchanged against an older checkout for the "before" figure.

Usage: scripts/bench_package_replay.py [--replays 1000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the same broker launcher the tests use

from controller.ipc import COMMAND_SOCKET, STATUS_SOCKET, endpoint
from controller.ipc.wire import pack, unpack
from daemon.inputs.ingest_zmq import upload
from estimators.demo_motion import make_demo_package
from tests.support.mosquitto import MosquittoBroker, find_mosquitto, free_port
from tests.support.service_config import write_service_config

PERIOD_S = 0.02


async def timing(run_dir: Path, ticks: int) -> dict[str, Any]:
    """The control process's timing summary over its last ``ticks`` ticks."""
    ctx = zmq.asyncio.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(endpoint(str(run_dir), COMMAND_SOCKET))
    try:
        await dealer.send(pack({"kind": "timing_summary", "id": 1, "ticks": ticks}))
        while True:
            answer = unpack(await asyncio.wait_for(dealer.recv(), 10.0))
            if answer.get("kind") == "ack" and answer.get("data"):
                return dict(answer["data"])
    finally:
        dealer.close(0)
        ctx.term()


async def measure(args: argparse.Namespace, ingest: str, run_dir: Path) -> dict[str, Any]:
    package = make_demo_package()
    first = await upload(ingest, package, timeout_s=60.0)
    if not first.accepted:
        raise SystemExit(f"the demo package was refused: {first.code} {first.detail}")
    await asyncio.sleep(2.0)  # let the first precompute's after-effects settle
    per_replay_ms: list[float] = []
    already_stored = 0
    start = time.perf_counter()
    for _ in range(args.replays):
        t0 = time.perf_counter()
        answer = await upload(ingest, package, timeout_s=60.0)
        per_replay_ms.append((time.perf_counter() - t0) * 1e3)
        if not answer.accepted:
            raise SystemExit(f"a replay was refused: {answer.code} {answer.detail}")
        already_stored += bool(getattr(answer, "already_stored", False))
    replay_s = time.perf_counter() - start
    ticks = max(1, round(replay_s / PERIOD_S))
    during = await timing(run_dir, ticks)
    await asyncio.sleep(replay_s)
    idle = await timing(run_dir, ticks)
    ordered = sorted(per_replay_ms)
    return {
        "replays": args.replays,
        "package_bytes": len(package),
        "replay_total_s": round(replay_s, 3),
        "replay_ms_p50": round(statistics.median(ordered), 3),
        "replay_ms_p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "already_stored_answers": already_stored,
        "window_ticks": ticks,
        "missed_ticks_replays": during["misses"],
        "missed_ticks_idle": idle["misses"],
        "lateness_p99_replays_ms": round(during["lateness_p99_ms"], 3),
        "lateness_p99_idle_ms": round(idle["lateness_p99_ms"], 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("bench_package_replay: mosquitto not found (apt-get install mosquitto)")
    work = Path(tempfile.mkdtemp(prefix="exo-bench-replay-"))
    broker = MosquittoBroker(workdir=work, binary=binary)
    broker.start()
    ingest_port = free_port()
    config_path = write_service_config(work, broker_port=broker.port, ingest_port=ingest_port)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-c",
        "from daemon.cli.edge_cli import main; raise SystemExit(main())",
    ]
    with (work / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen(
            [*command, "run", "--config", str(config_path)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        try:
            status_sock = work / "run" / STATUS_SOCKET
            deadline = time.monotonic() + 60
            while not status_sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2.0)  # the ingest endpoint opens after the control process
            ingest = f"tcp://127.0.0.1:{ingest_port}"
            return asyncio.run(measure(args, ingest, work / "run"))
        finally:
            daemon.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.wait(10)
            broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replays", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    r = run(args)
    print(
        f"{r['replays']} replays of a {r['package_bytes']}-byte package: "
        f"{r['replay_total_s']:.2f} s in all, per replay p50 {r['replay_ms_p50']:.2f} ms, "
        f"p99 {r['replay_ms_p99']:.2f} ms ({r['already_stored_answers']} 'already stored')"
    )
    print(
        f"control loop over {r['window_ticks']} ticks: missed {r['missed_ticks_replays']} "
        f"during the replays vs {r['missed_ticks_idle']} idle; lateness p99 "
        f"{r['lateness_p99_replays_ms']:.3f} ms vs {r['lateness_p99_idle_ms']:.3f} ms idle"
    )
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
