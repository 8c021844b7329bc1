#!/usr/bin/env python3
"""Benchmark the G1's DDS path: CRC, command writer, round trip, and what the writer costs the tick.

All over real Cyclone DDS on loopback against ``exoactor-edge sim-bridge`` (its own process,
built-in G1 model, gantry; a random DDS domain):

- CRC per LowCmd and per LowState: ours (vectorised over the CDR bytes) vs the SDK's (struct
  packing + its ctypes library), p50 over many calls;
- round trip: a LowCmd written -> the bridge applies it before its next physics step -> the first
  LowState that carries that command's CRC in ``reserve[0]`` (the bridge's marker), p50/p99;
- the control loop of the control process, run here (SCHED_FIFO where permitted) while
  tracking the demo motion, with the SONIC policy's cost on the CPU every tick (stand-in ONNX
  models with SONIC's contract and widths, ``models.fixtures``; the PD tracker's proposal is
  what is sent, so the robot in the bridge tracks sensibly): tick lateness p99, the writer's
  |period - nominal| p99, and this process's CPU share (% of one core; the simulator runs in
  the bridge and is excluded), with the writer off (each tick sends its command itself) and
  on at each rate in ``--rates``.

``--json`` prints one JSON object as the last line.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np

from controller.assembly import StackConfig
from controller.loop import ControlLoop, LoopConfig
from controller.pd_tracker import PdTracker
from controller.realtime import RealtimeConfig
from controller.robot.base import RobotCommand, RobotState
from controller.robot.model_source import ModelKind, ModelSource
from controller.robot.unitree_config import SIM_BRIDGE_CONFIG, UnitreeDdsConfig
from controller.robot_assembly import build_unitree_stack
from controller.safety import Mode, SupervisorConfig
from controller.timing import summarize
from controller.tracking import ControllerKind
from daemon.demo.motion import build_demo_track
from estimators.track import TrackView

PERIOD_S = 0.02
BUILTIN = ModelSource(ModelKind.BUILTIN, None, ())


def pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q))


# ----------------------------------------------------------------------------- CRC
def bench_crc(reps: int) -> dict[str, float]:
    from unitree_sdk2py.idl.unitree_hg.msg import dds_ as hg
    from unitree_sdk2py.utils.crc import CRC

    from controller.robot.unitree_codec import LowCmdEncoder, LowStateEncoder
    from controller.robot.unitree_crc import low_cmd_crc, low_state_crc

    cmd_sample = LowCmdEncoder().encode(RobotCommand(), 5)
    state_sample = LowStateEncoder(5).encode(RobotState(), 1)
    results = {}
    for name, crc, sample, sdk_type in (
        ("crc_us", low_cmd_crc(), cmd_sample, hg.LowCmd_),
        ("lowstate_crc_us", low_state_crc(), state_sample, hg.LowState_),
    ):
        payload = np.frombuffer(sample, dtype=np.uint8)[4:].copy()
        results[f"{name}_p50"] = _time_us(lambda c=crc, p=payload: c.compute(p), reps)
        message = sdk_type.deserialize(sample)
        sdk = CRC()
        results[f"sdk_{name}_p50"] = _time_us(lambda s=sdk, m=message: s.Crc(m), reps // 5)
    return results


def _time_us(call: Any, reps: int) -> float:
    for _ in range(50):
        call()
    samples = np.empty(reps)
    for i in range(reps):
        t0 = time.perf_counter_ns()
        call()
        samples[i] = time.perf_counter_ns() - t0
    return pct(samples, 50) * 1e-3


# ----------------------------------------------------------------------------- bridge
class BridgeProcess:
    def __init__(self, domain: int, workdir: Path) -> None:
        self.domain = domain
        self.control = f"ipc://{workdir / 'bridge.sock'}"
        self._log = (workdir / "bridge.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daemon.cli.edge_cli", "sim-bridge", "--builtin-model",
             "--domain", str(domain), "--control", self.control],
            stdout=self._log, stderr=self._log,
        )  # fmt: skip
        from controller.sim_bridge.control import bridge_request

        deadline = time.monotonic() + 60
        while True:
            try:
                if bridge_request(self.control, {"cmd": "stats"})["stats"]["lowstates_sent"]:
                    return
            except TimeoutError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the bridge did not start (log: {workdir / 'bridge.log'})")
            time.sleep(0.1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._log.close()


# ----------------------------------------------------------------------------- round trip
def bench_roundtrip(domain: int, samples: int) -> dict[str, float]:
    """LowCmd written -> applied by the bridge -> LowState carrying its CRC."""
    from controller.robot.dds_transport import DdsDomain, load_sdk_types
    from controller.robot.unitree_codec import LowCmdEncoder, LowStateDecoder

    types = load_sdk_types()
    dds = DdsDomain(domain, "lo")
    decoder = LowStateDecoder()
    sent: dict[int, int] = {}
    trips: list[int] = []
    lock = threading.Lock()

    def on_state(sample: bytes) -> None:
        now = time.monotonic_ns()
        if decoder.check(sample):
            with lock:
                t_sent = sent.pop(decoder.applied_crc, None)
                if t_sent is not None:
                    trips.append(now - t_sent)

    dds.raw_reader("rt/lowstate", types.LowState_, on_state, keep_last=64)
    writer = dds.raw_writer("rt/lowcmd", types.LowCmd_)
    encoder = LowCmdEncoder()
    command = RobotCommand()
    command.kd.fill(2.0)  # damped: the gantry holds the robot, nothing moves much
    time.sleep(1.0)  # discovery
    rng = np.random.default_rng(0)
    for _ in range(samples):
        command.q[:] = rng.uniform(-0.01, 0.01, 29)  # a new CRC each time
        sample = encoder.encode(command, 5)
        crc = int(np.frombuffer(sample[-4:], dtype="<u4")[0])
        with lock:
            sent[crc] = time.monotonic_ns()
        writer.write(sample)
        time.sleep(0.01 + rng.uniform(0.0, 0.002))  # not phase-locked to the bridge's 2 ms
    time.sleep(0.2)
    dds.close()
    ms = np.array(trips, dtype=np.float64) * 1e-6
    return {"roundtrip_ms_p50": pct(ms, 50), "roundtrip_ms_p99": pct(ms, 99),
            "roundtrip_samples": len(trips)}  # fmt: skip


# ----------------------------------------------------------------------------- the loop
class SonicCostTracker:
    """Pays SONIC's full step every tick (stand-in models) and proposes the PD tracker's pose."""

    kind = ControllerKind.PD_TRACKER

    def __init__(self, sonic: Any, pd: PdTracker) -> None:
        self._sonic, self._pd = sonic, pd
        self._scratch = RobotCommand()

    @property
    def last_fault_cause(self) -> Any:
        return self._pd.last_fault_cause

    def stream_refusal(self, protocol: int) -> str:
        return str(self._pd.stream_refusal(protocol))

    def prepare(self, track: TrackView) -> None:
        self._sonic.prepare(track)
        self._pd.prepare(track)

    def start(self, track: TrackView, state: RobotState) -> None:
        self._sonic.start(track, state)
        self._pd.start(track, state)

    def step(self, state: RobotState, frame: int, out: RobotCommand) -> None:
        self._sonic.step(state, frame, self._scratch)
        self._pd.step(state, frame, out)


def bench_loop(
    domain: int, rate_hz: float | None, seconds: float, sonic: Any, priorities: tuple[int, int]
) -> dict[str, Any]:
    """``rate_hz`` None: no writer thread, each tick sends its command itself."""
    robot: UnitreeDdsConfig = replace(
        SIM_BRIDGE_CONFIG,
        domain_id=domain,
        command_rate_hz=rate_hz or 250.0,
        writer_fifo_priority=priorities[0],
        reader_fifo_priority=priorities[1],
    )
    ticks = int(seconds / PERIOD_S)
    config = StackConfig(
        supervisor=SupervisorConfig(ramp_time_s=1.0),
        loop=LoopConfig(
            period_s=PERIOD_S,
            realtime=RealtimeConfig(use_fifo=True, lock_memory=False, freeze_gc=True),
            timing_capacity=ticks + 500,
        ),
    )
    stack = build_unitree_stack(BUILTIN, config, robot, latch_path=None)
    loop, sup, writer = stack.loop, stack.supervisor, stack.backend.writer
    assert writer is not None
    loop.controller = SonicCostTracker(sonic, PdTracker(stack.dynamics, config.pd_tracker))
    loop.load_track(build_demo_track())
    if rate_hz is None:
        writer.stop()
    track_start = [0]

    def observe(running: ControlLoop) -> None:
        if rate_hz is None:
            writer.send_now()
        if sup.mode is Mode.HOLD and running.ticks > 60:  # replay the motion whenever it ends
            if not track_start[0]:
                track_start[0] = running.ticks
            running.start_track()

    loop.observer = observe
    sup.request_enable(stack.clock.now_ns())
    try:
        loop.run(max_ticks=int(1.6 / PERIOD_S))  # ramp, then tracking begins
        cpu0, wall0, sends0 = time.process_time(), time.monotonic(), writer.scheduled
        loop.run(max_ticks=ticks)
        cpu_pct = 100.0 * (time.process_time() - cpu0) / (time.monotonic() - wall0)
    finally:
        stack.close()
    rows = loop.timing.rows()[track_start[0] :]
    timing = summarize(rows, round(PERIOD_S * 1e9))
    result: dict[str, Any] = {
        "rate_hz": rate_hz,
        "tick_lateness_p50_ms": timing.lateness_p50_ms,
        "tick_lateness_p99_ms": timing.lateness_p99_ms,
        "tick_work_p99_ms": timing.work_p99_ms,
        "cpu_pct_of_one_core": cpu_pct,
        "final_mode": sup.mode.name,
        "final_cause": sup.log.since(sup.log.count - 1)[-1].cause.name,
        "sched": loop.realtime_report.sched.value if loop.realtime_report else "other",
    }
    if rate_hz is not None:
        sends = writer.send_times_ns()[sends0:]
        dev_ms = np.abs(np.diff(sends) - 1e9 / rate_hz) * 1e-6
        result["writer_period_p50_dev_ms"] = pct(dev_ms, 50)
        result["writer_period_p99_dev_ms"] = pct(dev_ms, 99)
        result["writer_period_max_dev_ms"] = float(np.max(dev_ms))
    return result


def _median_run(group: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of repeated runs: the median of each number, the last run's words."""
    out = dict(group[-1])
    for key, value in group[-1].items():
        if isinstance(value, float):
            out[key] = float(np.median([run[key] for run in group]))
    out["repeats"] = len(group)
    if len(group) > 1:
        out["tick_lateness_p99_ms_each"] = [run["tick_lateness_p99_ms"] for run in group]
    return out


def load_sonic(tmp: Path) -> Any:
    from controller.sonic import SonicConfig, load_sonic_policy
    from models import BackendKind, SessionConfig, fixtures

    decoder = fixtures.sonic_decoder_fixture(tmp / "model_decoder.onnx")
    encoder = fixtures.sonic_encoder_fixture(tmp / "model_encoder.onnx")
    session = SessionConfig(backend=BackendKind.ORT_CPU, intra_op_threads=1)
    policy = load_sonic_policy(SonicConfig(decoder, encoder, session=session))
    policy.warm_up()
    return policy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="tracking time per run")
    parser.add_argument(
        "--rates", default="250,500,100", help="writer rates to compare (Hz); the first is the "
        "default whose figures are the summary's"
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="run the off/on configurations this many times, interleaved; figures are medians",
    )  # fmt: skip
    parser.add_argument("--roundtrips", type=int, default=400)
    parser.add_argument("--crc-reps", type=int, default=20000)
    parser.add_argument(
        "--priorities", default="85,84", help="SCHED_FIFO of the writer and reader threads"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    writer_priority, reader_priority = (int(p) for p in args.priorities.split(","))
    priorities = (writer_priority, reader_priority)
    print("CRC ...", file=sys.stderr)
    result: dict[str, Any] = bench_crc(args.crc_reps)
    domain = random.randint(100, 230)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bridge = BridgeProcess(domain, tmp)
        try:
            print("round trip ...", file=sys.stderr)
            result.update(bench_roundtrip(domain, args.roundtrips))
            sonic = load_sonic(tmp)
            repeats: dict[str, list[dict[str, Any]]] = {}
            for _ in range(max(1, args.repeat)):
                for rate in [None, *rates]:
                    label = "off" if rate is None else f"{rate:g}"
                    print(f"loop with the writer {label} ...", file=sys.stderr)
                    run = bench_loop(domain, rate, args.seconds, sonic, priorities)
                    repeats.setdefault(label, []).append(run)
            sonic.close()
            runs = {label: _median_run(group) for label, group in repeats.items()}
        finally:
            bridge.close()
    default = runs[f"{rates[0]:g}"]
    result.update({
        "writer_rate_hz": rates[0],
        "writer_period_p99_dev_ms": default["writer_period_p99_dev_ms"],
        "tick_lateness_p99_ms_writer_on": default["tick_lateness_p99_ms"],
        "tick_lateness_p99_ms_writer_off": runs["off"]["tick_lateness_p99_ms"],
        "tick_lateness_ratio_on_off": default["tick_lateness_p99_ms"]
        / max(runs["off"]["tick_lateness_p99_ms"], 1e-6),
        "control_cpu_pct_writer_on": default["cpu_pct_of_one_core"],
        "control_cpu_pct_writer_off": runs["off"]["cpu_pct_of_one_core"],
        "runs": runs,
    })  # fmt: skip
    print(f"\nCRC p50: ours {result['crc_us_p50']:.1f} us / LowCmd (SDK "
          f"{result['sdk_crc_us_p50']:.1f}), ours {result['lowstate_crc_us_p50']:.1f} us / "
          f"LowState (SDK {result['sdk_lowstate_crc_us_p50']:.1f})")  # fmt: skip
    print(
        f"round trip lowcmd -> applied -> lowstate: p50 {result['roundtrip_ms_p50']:.2f} ms, "
        f"p99 {result['roundtrip_ms_p99']:.2f} ms ({result['roundtrip_samples']} samples)"
    )
    print(f"\n{'writer':<8}{'lateness p99':>14}{'work p99':>10}{'|dT| p99':>10}{'CPU %':>8}"
          f"  mode (cause)")  # fmt: skip
    for label, run in runs.items():
        dev = run.get("writer_period_p99_dev_ms")
        dev_text = f"{dev:>10.3f}" if dev is not None else f"{'-':>10}"
        print(f"{label:<8}{run['tick_lateness_p99_ms']:>14.3f}{run['tick_work_p99_ms']:>10.3f}"
              f"{dev_text}{run['cpu_pct_of_one_core']:>8.1f}  {run['final_mode']} "
              f"({run['final_cause']})")  # fmt: skip
    print(f"(ms; loop ran {default['sched'].upper()}; SONIC stand-in on CPU every tick; "
          f"medians of {default['repeats']} interleaved run(s) each)")  # fmt: skip
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
