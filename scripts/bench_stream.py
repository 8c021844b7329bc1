#!/usr/bin/env python3
"""Benchmark: streaming latency through the real daemon, a v1 and a v3 producer, quiet and loaded.

Starts ``exoactor-edge run`` (simulated G1 in real-time mode, PD tracker, fleet off) as a
subprocess with ``[streaming]`` pointing at a producer PUB this script binds, and the control
process's per-tick robot state published on a second socket (``daemon.state_publish_endpoint``).
Two producers stream in turn, each a sinusoidal arm motion at 50 Hz:

- v1: one frame per message (G1 joint positions), as webcam-style producers send;
- v3: five frames per message (a sliding window, one new frame each), SMPL pose and joints, as
  SONIC's PICO streamer sends.

Each stream ends with the producer's planner command (a graceful blend out); the next starts
after a pause (a new stream may use another protocol). Figures per stream (after a 2 s settle):

- ``lag_ms_p50`` / ``lag_ms_p99``: newest frame -> command lag: for every tick, the time the
  command was written minus the time the producer sent the frame that tick plays (the stream
  cursor, interpolated between frames). Same CLOCK_MONOTONIC on both sides;
- ``starved_ticks``: ticks the jitter buffer ran dry (the control process's count);
- ``measured_lag_ms_p50``: how far the measured joint trails the command, from 2 s windows of
  the left elbow (least-squares alignment, parabolic sub-tick refinement);
- ``map_ms_per_msg``: daemon CPU milliseconds per message to build frames (p50; p99 beside).

``--load`` runs the same streams again with a busy process on each core (``while True: pass``)
and prints both side by side. The daemon runs as configured for the robot: its stream relay
thread at SCHED_FIFO ``realtime.stream_relay_priority`` where permitted (``relay_sched`` says
which ran); this script (the producer, standing in for another machine) at normal priority.
SONIC itself is not in this loop: its weights are not available here (see
``scripts/bench_policy.py`` for the policy's cost on stand-in models).

Usage: scripts/bench_stream.py [--seconds 12] [--load] [--target-delay-ms 40] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq
import zmq.asyncio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controller.embodiment import g1
from controller.ipc.wire import unpack
from daemon.control.admin import admin_request
from daemon.inputs.stream_messages import pack_command_message, pack_pose_message
from estimators.fk import root_local_joints
from estimators.rotations import axis_angle_to_matrix
from estimators.skeleton import CanonicalAdultSkeleton
from estimators.smpl import joint

PERIOD_S = 0.02
ELBOW = g1.joint_index("left_elbow")
SETTLE_S = 2.0
SKELETON = CanonicalAdultSkeleton().load()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(work: Path, stream_port: int, state_port: int, target_delay_ms: float) -> Path:
    config = work / "edge.toml"
    config.write_text(
        f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
state_publish_endpoint = "tcp://127.0.0.1:{state_port}"
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[safety.supervisor]
ramp_time_s = 1.0
[fleet]
enabled = false
[ingest]
endpoints = ["tcp://127.0.0.1:{free_port()}"]
[streaming]
endpoint = "tcp://127.0.0.1:{stream_port}"
[streaming.playback]
target_delay_s = {target_delay_ms / 1000.0}
[robot]
use_official_model = false
"""
    )
    return config


# ----------------------------------------------------------------------------- producers
def elbow_at(frame: int) -> float:
    """The streamed left elbow flexion (rad): 0.5 Hz, 0.2..1.0 rad."""
    return 0.6 + 0.4 * math.sin(2.0 * math.pi * 0.5 * frame * PERIOD_S)


def v1_message(frame: int) -> bytes:
    q_isaac = g1.Q_DEFAULT[g1.ISAAC_TO_HW].astype(np.float32)
    q_isaac[list(g1.ISAAC_TO_HW).index(ELBOW)] = math.pi / 2 - elbow_at(frame)
    return pack_pose_message(1, {
        "joint_pos": q_isaac[None], "joint_vel": np.zeros((1, 29), np.float32),
        "body_quat": np.array([[1.0, 0.0, 0.0, 0.0]], np.float32),
        "frame_index": np.array([frame], np.int64),
    })  # fmt: skip


class V3Producer:
    """PICO-like: the last five frames each message, SMPL pose and joints of an arm motion."""

    def __init__(self) -> None:
        self._pose: dict[int, np.ndarray] = {}
        self._joints: dict[int, np.ndarray] = {}

    def _frame(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        if frame not in self._pose:
            pose = np.zeros((21, 3), np.float32)
            pose[joint("left_shoulder") - 1, 2] = -1.3  # arms down
            pose[joint("right_shoulder") - 1, 2] = 1.3
            pose[joint("left_elbow") - 1, 1] = -elbow_at(frame)
            local = np.tile(np.eye(3), (1, 24, 1, 1))
            local[0, 1:22] = axis_angle_to_matrix(pose.astype(np.float64))
            self._pose[frame] = pose
            self._joints[frame] = root_local_joints(local, SKELETON)[0].astype(np.float32)
        return self._pose[frame], self._joints[frame]

    def message(self, frame: int) -> bytes:
        frames = list(range(max(0, frame - 4), frame + 1))
        pose, joints = zip(*(self._frame(f) for f in frames), strict=True)
        n = len(frames)
        return pack_pose_message(3, {
            "joint_pos": np.zeros((n, 29), np.float32), "joint_vel": np.zeros((n, 29), np.float32),
            "body_quat": np.tile(np.array([1.0, 0.0, 0.0, 0.0], np.float32), (n, 1)),
            "frame_index": np.array(frames, np.int64),
            "smpl_joints": np.stack(joints), "smpl_pose": np.stack(pose),
        })  # fmt: skip


@dataclass
class Run:
    sent_ns: dict[int, int] = field(default_factory=dict)
    """Producer frame -> when it was first sent as the newest frame."""
    ticks: list[tuple[int, float, float, float]] = field(default_factory=list)
    """(t_ns, stream_frame, commanded elbow, measured elbow) per TRACK tick."""


async def produce(pub: zmq.asyncio.Socket, make: Any, seconds: float, run: Run) -> None:
    start = time.monotonic()
    frames = int(seconds / PERIOD_S)
    for frame in range(frames):
        deadline = start + frame * PERIOD_S
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        message = make(frame)
        run.sent_ns[frame] = time.monotonic_ns()
        await pub.send(message)


async def record(sub: zmq.asyncio.Socket, run: Run, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if not await sub.poll(50):
            continue
        message = unpack(await sub.recv())
        frame = float(message.get("stream_frame", -1.0))
        if message.get("mode") != "TRACK" or frame < 0.0:
            continue
        q = np.frombuffer(message["q"], np.float64)
        target = np.frombuffer(message["q_target"], np.float64)
        run.ticks.append((int(message["t_ns"]), frame, float(target[ELBOW]), float(q[ELBOW])))


# ----------------------------------------------------------------------------- figures
def lags_ms(run: Run) -> np.ndarray:
    """Command time minus the send time of the frame played (interpolated), per tick."""
    frames = np.array(sorted(run.sent_ns))
    sent = np.array([run.sent_ns[f] for f in frames], dtype=np.float64)
    ticks = np.array(run.ticks, dtype=np.float64)
    t0 = ticks[0, 0]
    keep = ticks[:, 0] >= t0 + SETTLE_S * 1e9
    ticks = ticks[keep]
    played = np.interp(ticks[:, 1], frames, sent)
    out: np.ndarray = (ticks[:, 0] - played) * 1e-6
    return out


def measured_lags_ms(run: Run, window: int = 100) -> np.ndarray:
    """Per 2 s window (one period of the motion): the delay of the measured elbow behind the
    commanded one that best aligns them (least squares, offsets removed; parabolic refinement
    between ticks)."""
    ticks = np.array(run.ticks, dtype=np.float64)
    ticks = ticks[ticks[:, 0] >= ticks[0, 0] + SETTLE_S * 1e9]
    command, measured = ticks[:, 2], ticks[:, 3]
    max_shift = 15  # 300 ms
    lags = []
    for start in range(0, len(command) - window - max_shift, window // 2):
        a = command[start : start + window]
        a = a - a.mean()
        errors = []
        for shift in range(max_shift + 1):
            b = measured[start + shift : start + shift + window]
            errors.append(float(np.mean((a - (b - b.mean())) ** 2)))
        best = int(np.argmin(errors))
        offset = 0.0
        if 0 < best < max_shift:
            left, mid, right = errors[best - 1], errors[best], errors[best + 1]
            denominator = left - 2.0 * mid + right
            offset = 0.5 * (left - right) / denominator if denominator > 0 else 0.0
        lags.append((best + offset) * PERIOD_S * 1e3)
    return np.array(lags)


async def stream_once(
    name: str, make: Any, seconds: float, pub: zmq.asyncio.Socket, sub: zmq.asyncio.Socket,
    run_dir: Path,
) -> dict[str, Any]:  # fmt: skip
    run = Run()
    stop = asyncio.Event()
    recorder = asyncio.create_task(record(sub, run, stop))
    await produce(pub, make, seconds, run)
    status = (await admin_request(run_dir, "status"))["status"]
    stop.set()
    await recorder
    await pub.send(pack_command_message(start=False, stop=False, planner=True))  # graceful end
    streaming = status["streaming"]
    lags = lags_ms(run)
    measured = measured_lags_ms(run)
    return {
        "protocol": name,
        "lag_ms_p50": float(np.percentile(lags, 50)),
        "lag_ms_p99": float(np.percentile(lags, 99)),
        "lag_ms_max": float(lags.max()),
        "starved_ticks": int(streaming["playback"].get("starved_ticks", -1)),
        "catch_up_jumps": int(streaming["playback"].get("jumps", -1)),
        "measured_lag_ms_p50": float(np.percentile(measured, 50)) if len(measured) else math.nan,
        "map_ms_per_msg": float(streaming.get("map_ms_p50", math.nan)),
        "map_ms_p99": float(streaming.get("map_ms_p99", math.nan)),
        "ticks": len(lags),
        "messages": int(seconds / PERIOD_S),
        "refused": int(streaming["refusals"]["refused"]),
        "relay_sched": str(streaming.get("relay_sched", "")),
    }


async def wait_mode(run_dir: Path, mode: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            status = (await admin_request(run_dir, "status", timeout_s=1.0))["status"]
            if status["is_alive"] and status["mode"] == mode:
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the robot did not reach {mode}")


async def measure(
    args: argparse.Namespace, run_dir: Path, ports: tuple[int, int]
) -> dict[str, Any]:
    ctx = zmq.asyncio.Context()
    pub = ctx.socket(zmq.PUB)
    pub.bind(f"tcp://127.0.0.1:{ports[0]}")
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{ports[1]}")
    try:
        await wait_mode(run_dir, "PASSIVE", 60.0)
        answer = await admin_request(run_dir, "enable")
        if not answer.get("ok"):
            raise RuntimeError(f"enable refused: {answer}")
        await wait_mode(run_dir, "HOLD")
        results: dict[str, Any] = {}
        phases = [("quiet", False)] + ([("load", True)] if args.load else [])
        for phase, loaded in phases:
            hogs = start_load() if loaded else []
            try:
                for name, make in (("v1", v1_message), ("v3", V3Producer().message)):
                    print(f"{phase}: {name} stream, {args.seconds:.0f} s ...", file=sys.stderr)
                    results.setdefault(phase, {})[name] = await stream_once(
                        name, make, args.seconds, pub, sub, run_dir
                    )
                    await wait_mode(run_dir, "HOLD")
                    await asyncio.sleep(1.5)  # longer than new_session_gap_s: a new stream next
                    await pub.send(pack_command_message(start=False, stop=False, planner=False))
                    await asyncio.sleep(0.1)
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
        return results
    finally:
        pub.close(0)
        sub.close(0)
        ctx.term()


def start_load() -> list[subprocess.Popen[bytes]]:
    """A busy process on each core."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)]  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="exo-bench-stream-"))
    ports = (free_port(), free_port())
    config = write_config(work, *ports, args.target_delay_ms)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    exe = Path(sys.executable).with_name("exoactor-edge")
    with (work / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([str(exe), "run", "--config", str(config)], stdout=log,
                                  stderr=log, env=env)  # fmt: skip
        try:
            result = asyncio.run(measure(args, work / "run", ports))
        finally:
            daemon.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.wait(10)
    result["target_delay_ms"] = args.target_delay_ms
    result["cpus"] = os.cpu_count()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per stream")
    parser.add_argument("--load", action="store_true", help="also with a busy process per core")
    parser.add_argument("--target-delay-ms", type=float, default=40.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.seconds < SETTLE_S + 2.0:
        parser.error(f"--seconds must be at least {SETTLE_S + 2.0}")
    result = run(args)
    for phase in ("quiet", "load"):
        for name, figures in result.get(phase, {}).items():
            print(f"{phase:5s} {name}: lag p50 {figures['lag_ms_p50']:.1f} ms, p99 "
                  f"{figures['lag_ms_p99']:.1f} ms; starved ticks {figures['starved_ticks']}; "
                  f"measured joint lag p50 {figures['measured_lag_ms_p50']:.1f} ms; mapping "
                  f"{figures['map_ms_per_msg']:.2f} ms/msg (p99 {figures['map_ms_p99']:.2f})",
                  file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
