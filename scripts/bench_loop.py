#!/usr/bin/env python3
"""Benchmark: our real-time 50 Hz loop against a naive "work, then sleep(0.02)" loop, one run.

Both loops run the same tick (MuJoCo backend in real-time mode, PD tracker following the demo
motion on repeat, safety supervisor). Ours uses absolute deadlines, sleep-then-spin, SCHED_FIFO,
mlockall and a frozen GC; the naive one is how unitree_rl_gym's Python deploy times itself.
Lateness is measured against the ideal schedule t0 + k·20 ms for both, so the naive loop's
drift shows up as growing lateness.

Usage: scripts/bench_loop.py [--seconds 30] [--load] [--json]
"""

from __future__ import annotations

import os

# numpy's BLAS worker threads are not real-time: keep the control process single-threaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import multiprocessing
import sys
import time
from typing import Any

from controller.assembly import ControlStack, StackConfig, build_sim_stack
from controller.loop import ControlLoop, LoopConfig
from controller.realtime import RealtimeConfig
from controller.robot.model_source import resolve_model
from controller.robot.mujoco_backend import SimConfig, SimMode
from controller.safety import Mode, SupervisorConfig
from controller.timing import summarize
from daemon.demo.motion import build_demo_track

PERIOD_S = 0.02
KEYS = ("period_mean_ms", "drift_ms", "lateness_p50_ms", "lateness_p99_ms", "lateness_p999_ms",
        "lateness_max_ms", "misses", "compute_p50_ms", "compute_p99_ms")  # fmt: skip


def _busy() -> None:
    while True:
        pass


def _stack(realtime: RealtimeConfig | None, seconds: float) -> ControlStack:
    config = StackConfig(
        sim=SimConfig(mode=SimMode.REALTIME),
        supervisor=SupervisorConfig(ramp_time_s=1.0),
        loop=LoopConfig(
            period_s=PERIOD_S, realtime=realtime, timing_capacity=int(seconds / PERIOD_S) + 500
        ),
    )
    stack = build_sim_stack(resolve_model(None), config, latch_path=None)
    loop = stack.loop
    loop.load_track(build_demo_track())

    def keep_tracking(running: ControlLoop) -> None:  # replay the motion whenever it ends
        if stack.supervisor.mode is Mode.HOLD and running.ticks > 60:
            running.start_track()

    loop.observer = keep_tracking
    stack.supervisor.request_enable(stack.clock.now_ns())
    return stack


def _measure(stack: ControlStack, start_tick: int) -> dict[str, Any]:
    rows = stack.loop.timing.rows()[start_tick:]
    s = summarize(rows, round(PERIOD_S * 1e9))
    out = {key: getattr(s, key) for key in KEYS if hasattr(s, key)}
    # "compute" here is the whole tick's work: read state + supervisor/PD tracker + write.
    out["compute_p50_ms"] = s.work_p50_ms
    out["compute_p99_ms"] = s.work_p99_ms
    out["ticks"] = s.ticks
    out["final_mode"] = stack.supervisor.mode.name
    return out


def run_ours(seconds: float) -> dict[str, Any]:
    realtime = RealtimeConfig(use_fifo=True, lock_memory=True, freeze_gc=True)
    stack = _stack(realtime, seconds)
    try:
        stack.loop.run(max_ticks=int(seconds / PERIOD_S))
    finally:
        stack.close()
    result = _measure(stack, 0)
    report = stack.loop.realtime_report
    result["sched"] = report.sched.value if report else "other"
    result["memory_locked"] = bool(report and report.memory_locked)
    return result


def run_naive(seconds: float) -> dict[str, Any]:
    stack = _stack(None, seconds)
    loop = stack.loop
    period_ns = round(PERIOD_S * 1e9)
    try:
        t0 = time.monotonic_ns()
        for k in range(int(seconds / PERIOD_S)):
            loop.tick(t0 + k * period_ns)  # the deadline it *should* have met
            time.sleep(PERIOD_S)  # then sleep a full period: work + sleep per tick
    finally:
        stack.close()
    result = _measure(stack, 0)
    result["sched"] = "other"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each loop")
    parser.add_argument("--load", action="store_true", help="a busy process on every core")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    workers = []
    if args.load:
        for _ in range(os.cpu_count() or 1):
            worker = multiprocessing.Process(target=_busy, daemon=True)
            worker.start()
            workers.append(worker)
    try:
        print(f"running our loop for {args.seconds:.0f} s ...", file=sys.stderr)
        ours = run_ours(args.seconds)
        print(f"running the naive loop for {args.seconds:.0f} s ...", file=sys.stderr)
        naive = run_naive(args.seconds)
    finally:
        for worker in workers:
            worker.terminate()
    load = f"with a busy process on each of {len(workers)} cores" if workers else "idle machine"
    print(f"\n50 Hz loop, {args.seconds:.0f} s each, {load}; ours ran {ours['sched'].upper()}")
    print(f"{'figure':<22}{'ours':>14}{'naive':>14}")
    for key in KEYS:
        a, b = ours[key], naive[key]
        fmt = "{:>14d}" if isinstance(a, int) else "{:>14.4f}"
        print(f"{key:<22}" + fmt.format(a) + fmt.format(b))
    print(f"{'final mode':<22}{ours['final_mode']:>14}{naive['final_mode']:>14}")
    if args.json:
        print(
            json.dumps({"rt": ours, "naive": naive, "sched": ours["sched"], "load": bool(workers)})
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
