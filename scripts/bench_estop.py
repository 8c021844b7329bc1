#!/usr/bin/env python3
"""Benchmark: e-stop latency from an MQTT publish to the damping command written, and control-loop
lateness with the daemon idle vs flooded — all against the real service.

Starts a real mosquitto on loopback and ``exoactor-edge run`` (simulated G1 in real-time mode)
as a subprocess. A VDA 5050 fleet client publishes ``emergencyStop`` instant actions through the
broker; the control process reports (on its status socket, read here by a second subscriber) the
monotonic time at which it handed the damping command to the robot. Both clocks are the same
CLOCK_MONOTONIC, so ``written - published`` is the end-to-end latency. Between trials the e-stop
is reset over MQTT. Then loop lateness over equal windows: daemon idle, and daemon busy with
1000 MQTT messages/s (``stateRequest`` instant actions) plus back-to-back package uploads.

Then the hostile flood: a separate process publishes ``--flood-messages`` (30,000) messages to
the robot's instantActions topic as fast as its MQTT client can send (garbage bytes, 60 KB of
``[[[[``, oversize payloads, stale and misaddressed commands, valid ``stateRequest``s), repeated
``--flood-rounds`` times; meanwhile the fleet client publishes ``emergencyStop`` again and again
(reset between trials straight on the control process's command socket, so the flood cannot
hold a reset back) and the loop lateness over each flood window is read. The daemon's RSS is
read before and after (the inbound lanes are bounded).

Usage: scripts/bench_estop.py [--trials 200] [--window-s 10] [--flood-messages 30000]
                              [--flood-rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
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
from daemon.fleet.vda5050.fleet_client import FleetClient
from daemon.inputs.ingest_zmq import upload
from estimators.demo_motion import make_demo_motion
from estimators.package import encode_package
from tests.support.mosquitto import MosquittoBroker, find_mosquitto, free_port
from tests.support.service_config import write_service_config


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
        await fleet.emergency_stop()
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


async def flood(
    fleet: FleetClient, ingest: str, seconds: float, packages_: list[bytes]
) -> tuple[int, int]:
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
            # A new id each time: a replay of a stored package is answered from its envelope
            # alone, which would make this load light.
            await upload(ingest, packages_[uploads % len(packages_)], timeout_s=10.0)
            uploads += 1

    await asyncio.gather(mqtt(), packages())
    return sent, uploads


def distinct_packages(count: int) -> list[bytes]:
    """``count`` demo packages under distinct ids (the motion is the same)."""
    motion = make_demo_motion()
    out = []
    for i in range(count):
        meta = motion.meta.model_copy(update={"package_id": f"bench-{i}"})
        out.append(encode_package(dataclasses.replace(motion, meta=meta)))
    return out


def hostile_messages(topic_serial: str, count: int, seed: int = 7) -> list[bytes]:
    """What the flooder sends: a fixed mix of hostile and harmless instantActions payloads."""
    rng = np.random.default_rng(seed)
    stale = "2020-01-01T00:00:00.000Z"

    def message(kind: str, serial: str = topic_serial, stamp: str | None = None) -> bytes:
        return json.dumps({
            "headerId": int(rng.integers(0, 2**31)),
            "timestamp": stamp or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "version": "3.0.0", "manufacturer": "ExoActor", "serialNumber": serial,
            "actions": [{"actionId": f"f{rng.integers(0, 2**62)}", "actionType": kind,
                         "blockingType": "NONE"}],
        }).encode()  # fmt: skip

    kinds = [
        lambda: rng.bytes(int(rng.integers(20, 400))),  # garbage
        lambda: b"[" * 2000,  # nesting beyond any sane depth
        lambda: message("startPause", stamp=stale),  # a day-old command
        lambda: message("startMotion", serial="SOMEONE-ELSE"),  # misaddressed
        lambda: message("stateRequest"),  # valid and harmless, but each asks for a state
        lambda: b'{"headerId": 1e400, "actions": [' + b"9" * 5000 + b"]}",  # huge numbers
    ]
    out = [kinds[i % len(kinds)]() for i in range(count)]
    for i in range(0, count, 1000):
        out[i] = b"[" * 60_000  # deep nesting, the payload that once killed the fleet task
        if i + 500 < count:
            out[i + 500] = b"x" * 100_000  # over the instantActions size limit
    return out


def flooder(host: str, port: int, topic: str, payload_file: Path) -> None:
    """The flood child process: publish every payload, QoS 0, as fast as paho can."""
    import msgpack
    import paho.mqtt.client as mqtt

    payloads = msgpack.unpackb(payload_file.read_bytes())
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(host, port)
    client.loop_start()
    for payload in payloads:
        while client.publish(topic, payload, qos=0).rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            time.sleep(0.0001)
    while client.want_write():
        time.sleep(0.01)
    time.sleep(0.2)
    client.disconnect()
    client.loop_stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_flooder(broker_port: int, topic: str, payload_file: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--flooder", str(broker_port), topic, str(payload_file)]
    return subprocess.Popen(command)


async def reset_direct(tap: ControlTap, trial: int) -> None:
    """Reset on the control process's command socket (the fleet path is what is flooded)."""
    await tap.dealer.send(pack({"kind": "reset_estop", "id": 1000 + trial,
                                "sent_ns": time.monotonic_ns(), "requester": "robot"}))  # fmt: skip
    await tap.wait_mode("DAMP", 10.0)


async def flood_trials(
    args: argparse.Namespace, fleet: FleetClient, tap: ControlTap, broker_port: int, work: Path
) -> dict[str, Any]:
    import msgpack

    config = fleet._config  # the robot's identity and topics, as the daemon has them
    topic = f"{config.topics.instant_actions}"
    payload_file = work / "flood.msgpack"
    payload_file.write_bytes(
        msgpack.packb(hostile_messages(config.serial_number, args.flood_messages))
    )
    latencies: list[float] = []
    lateness_p99: list[float] = []
    idle_p99: list[float] = []
    rates: list[float] = []
    trial = 0
    for round_ in range(args.flood_rounds):
        print(f"flood round {round_ + 1}/{args.flood_rounds} ...", file=sys.stderr)
        child = start_flooder(broker_port, topic, payload_file)
        started = time.monotonic()
        await asyncio.sleep(0.3)  # the child connects and starts sending
        while child.poll() is None:
            previous = tap.estop_written_ns
            t0 = time.monotonic_ns()
            # Its own topic only: a copy on the flooded instantActions topic would arrive
            # (if at all) after the reset below and engage again.
            await fleet.emergency_stop(also_as_instant_action=False)
            deadline = time.monotonic() + 10.0
            while tap.estop_written_ns in (0, previous):
                if time.monotonic() > deadline:
                    raise TimeoutError("no damping reported for an e-stop during the flood")
                await asyncio.sleep(0.0002)
            latencies.append((tap.estop_written_ns - t0) * 1e-6)
            await tap.wait_mode("ESTOP", 10.0)
            trial += 1
            await reset_direct(tap, trial)
            await asyncio.sleep(0.01)
        rates.append(args.flood_messages / (time.monotonic() - started))
    # Lateness: a flood without e-stops (each e-stop and reset writes the latch with fsync,
    # between ticks; that is the e-stop's own cost, not the flood's), beside an idle window of
    # the same length measured just before.
    for round_ in range(args.flood_rounds):
        child = start_flooder(broker_port, topic, payload_file)
        started = time.monotonic()
        await asyncio.to_thread(child.wait)
        elapsed = time.monotonic() - started
        window = await tap.timing(int(elapsed / 0.02))
        lateness_p99.append(float(window["lateness_p99_ms"]))
        await asyncio.sleep(elapsed)
        idle_window = await tap.timing(int(elapsed / 0.02))
        idle_p99.append(float(idle_window["lateness_p99_ms"]))
        print(f"lateness round {round_ + 1}: flood {lateness_p99[-1]:.3f} ms, idle "
              f"{idle_p99[-1]:.3f} ms", file=sys.stderr)  # fmt: skip
    lat = np.array(latencies)
    return {
        "estop_ms_p50_flood": float(np.percentile(lat, 50)),
        "estop_ms_p99_flood": float(np.percentile(lat, 99)),
        "estop_ms_max_flood": float(lat.max()),
        "estop_trials_flood": len(latencies),
        "lateness_p99_flood_ms": float(np.median(lateness_p99)),
        "lateness_p99_flood_ms_worst_round": float(max(lateness_p99)),
        "lateness_p99_idle_beside_flood_ms": float(np.median(idle_p99)),
        "flood_messages": args.flood_messages * args.flood_rounds,
        "flood_messages_per_s": float(np.median(rates)),
    }


async def measure(args: argparse.Namespace, config_path: Path, run_dir: Path,
                  broker_port: int, daemon_pid: int) -> dict[str, Any]:  # fmt: skip
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
            print(f"lateness: {args.window_s:.0f} s busy ...", file=sys.stderr)
            sent, uploads = await flood(
                fleet, config.ingest.endpoints[0], args.window_s, distinct_packages(400)
            )
            busy = await tap.timing(ticks)
            rss_before = rss_mb(daemon_pid)
            hostile = await flood_trials(args, fleet, tap, broker_port, run_dir.parent)
            rss_after = rss_mb(daemon_pid)
            state_after = fleet.latest_state or {}
    finally:
        tap.close()
    lat = np.array(latencies)
    return {
        **hostile,
        "daemon_rss_mb_before_flood": rss_before,
        "daemon_rss_mb_after_flood": rss_after,
        "fleet_errors_after_flood": len(state_after.get("errors", [])),
        "estop_ms_p50": float(np.percentile(lat, 50)),
        "estop_ms_p99": float(np.percentile(lat, 99)),
        "estop_ms_max": float(lat.max()),
        "estop_trials": len(latencies),
        "lateness_p99_idle_ms": idle["lateness_p99_ms"],
        "lateness_p99_busy_ms": busy["lateness_p99_ms"],
        "lateness_max_idle_ms": idle["lateness_max_ms"],
        "lateness_max_busy_ms": busy["lateness_max_ms"],
        "busy_mqtt_messages_per_s": sent / args.window_s,
        "busy_uploads": uploads,
        "window_ticks": ticks,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("bench_estop: mosquitto not found (apt-get install mosquitto)")
    work = Path(tempfile.mkdtemp(prefix="exo-bench-estop-"))
    control_cpu = None
    if args.isolate_control_cpu:
        # The deployment a robot should use: the control process alone on its core (on the
        # robot, also isolcpus= for it); everything else (this script, the broker, the daemon,
        # the flooder, all inheriting this mask) on the others.
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("bench_estop: --isolate-control-cpu needs two CPUs")
        control_cpu = cpus[-1]
        os.sched_setaffinity(0, cpus[:-1])
    broker = MosquittoBroker(workdir=work, binary=binary)
    broker.start()
    config_path = write_service_config(
        work, broker_port=broker.port, ingest_port=free_port(), control_cpu=control_cpu
    )
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
            return asyncio.run(measure(args, config_path, work / "run", broker.port, daemon.pid))
        finally:
            daemon.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.wait(10)
            broker.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--window-s", type=float, default=10.0)
    parser.add_argument("--flood-messages", type=int, default=30_000)
    parser.add_argument("--flood-rounds", type=int, default=4)
    parser.add_argument(
        "--isolate-control-cpu",
        action="store_true",
        help="run the control process alone on the last CPU, everything else on the others",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--flooder", nargs=3, metavar=("PORT", "TOPIC", "PAYLOADS"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.flooder:
        port, topic, payloads = args.flooder
        flooder("127.0.0.1", int(port), topic, Path(payloads))
        return 0
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    result = run(args)
    result["isolated_control_cpu"] = bool(args.isolate_control_cpu)
    print(f"\ne-stop, MQTT publish -> damping written ({result['estop_trials']} trials): "
          f"p50 {result['estop_ms_p50']:.2f} ms, p99 {result['estop_ms_p99']:.2f} ms, "
          f"max {result['estop_ms_max']:.2f} ms")  # fmt: skip
    idle = max(result["lateness_p99_idle_ms"], 1e-9)
    beside = max(result["lateness_p99_idle_beside_flood_ms"], 1e-9)
    print(f"control-loop lateness p99: idle {result['lateness_p99_idle_ms']:.3f} ms, busy "
          f"{result['lateness_p99_busy_ms']:.3f} ms ({result['busy_mqtt_messages_per_s']:.0f} "
          f"MQTT msg/s + {result['busy_uploads']} uploads); ratio "
          f"{result['lateness_p99_busy_ms'] / idle:.2f}")  # fmt: skip
    print(f"hostile flood ({result['flood_messages']} messages at "
          f"{result['flood_messages_per_s']:.0f}/s): e-stop p50 "
          f"{result['estop_ms_p50_flood']:.2f} ms, p99 {result['estop_ms_p99_flood']:.2f} ms, "
          f"max {result['estop_ms_max_flood']:.2f} ms ({result['estop_trials_flood']} trials); "
          f"loop lateness p99 {result['lateness_p99_flood_ms']:.3f} ms vs idle beside it "
          f"{result['lateness_p99_idle_beside_flood_ms']:.3f} ms (ratio "
          f"{result['lateness_p99_flood_ms'] / beside:.2f}); daemon RSS "
          f"{result['daemon_rss_mb_before_flood']:.0f} -> "
          f"{result['daemon_rss_mb_after_flood']:.0f} MB")  # fmt: skip
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
