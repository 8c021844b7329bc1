#!/usr/bin/env python3
"""Benchmark one SONIC policy step: observation build, encoder, decoder, total, overhead.

Runs on stand-in models with SONIC's contract and published decoder widths (``models.fixtures``;
the real weights cannot be downloaded here), over a synthetic track and robot state:

- ONNX Runtime CPU with 1 and 2 intra-op threads: per tick obs build, encoder, decoder, total,
  and overhead = total - (encoder + decoder as timed around ``Session.run`` in that tick); the
  raw ONNX Runtime calls are also timed alone (``run_with_iobinding`` in a bare loop);
- the preallocated observation builder against a naive rebuild-with-np.concatenate builder
  (``controller.sonic.reference_obs``) on the same states, interleaved;
- TensorRT (native), ONNX Runtime CUDA and ONNX Runtime TensorRT when a GPU is present.

Garbage collection is off while timing, as in the control loop. ``--json`` prints one JSON
object as the last line.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported: its BLAS must not spin threads

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np

from controller.robot.base import RobotCommand, RobotState
from controller.sonic import SonicConfig, SonicPolicy, load_sonic_policy
from controller.sonic.reference_obs import NaiveObservationBuilder
from controller.sonic.rotations import quat_mul, yaw_quat
from estimators.track import ReferenceTrack
from models import BackendKind, ModelError, SessionConfig, fixtures
from models.environment import probe_environment
from models.selection import CUDA_PROVIDER, TRT_PROVIDER

TRACK_FRAMES = 500


def synthetic_track(rng: np.random.Generator) -> ReferenceTrack:
    t = np.arange(TRACK_FRAMES) / 50.0
    phase = rng.uniform(0, 2 * np.pi, size=29)
    q_hw = 0.3 * np.sin(2 * np.pi * 0.5 * t[:, None] + phase)
    joints = rng.normal(scale=0.3, size=(24, 3)) + 0.05 * np.sin(t)[:, None, None]
    root = quat_mul(yaw_quat(0.2 * t), np.array([0.995, 0.0, 0.0998, 0.0]))
    return ReferenceTrack(
        q_hw=q_hw,
        hand_q=np.zeros((TRACK_FRAMES, 2, 7)),
        hand_state=np.zeros((TRACK_FRAMES, 2), dtype=np.int8),
        smpl_joints_local=joints,
        root_quat_wxyz=root / np.linalg.norm(root, axis=1, keepdims=True),
    )


class StateFeed:
    """Precomputed robot states, copied into one ``RobotState`` outside the timed region."""

    def __init__(self, ticks: int, rng: np.random.Generator) -> None:
        self.q = rng.normal(scale=0.2, size=(ticks, 29))
        self.dq = rng.normal(scale=0.5, size=(ticks, 29))
        self.gyro = rng.normal(scale=0.2, size=(ticks, 3))
        tilt = quat_mul(yaw_quat(rng.uniform(-3, 3, ticks)), np.array([0.999, 0.03, 0.02, 0.0]))
        self.quat = tilt / np.linalg.norm(tilt, axis=1, keepdims=True)
        self.state = RobotState(has_imu=True)

    def load(self, tick: int) -> RobotState:
        i = tick % len(self.q)
        np.copyto(self.state.q, self.q[i])
        np.copyto(self.state.dq, self.dq[i])
        np.copyto(self.state.imu_gyro_b, self.gyro[i])
        np.copyto(self.state.imu_quat_wxyz, self.quat[i])
        return self.state


def pcts(samples_ns: np.ndarray, scale: float) -> tuple[float, float]:
    return float(np.percentile(samples_ns, 50) / scale), float(
        np.percentile(samples_ns, 99) / scale
    )


def timed_steps(
    policy: SonicPolicy, track: ReferenceTrack, feed: StateFeed, ticks: int, warmup: int
) -> dict[str, np.ndarray]:
    out = RobotCommand()
    policy.start(track, feed.load(0))
    for tick in range(warmup):
        policy.step(feed.load(tick), tick % TRACK_FRAMES, out)
    columns = {k: np.zeros(ticks, dtype=np.int64) for k in ("total", "obs", "enc", "dec")}
    gc.collect()
    gc.disable()
    try:
        for tick in range(ticks):
            state = feed.load(tick)
            start = time.perf_counter_ns()
            policy.step(state, tick % TRACK_FRAMES, out)
            columns["total"][tick] = time.perf_counter_ns() - start
            columns["obs"][tick] = policy.last_obs_build_ns
            columns["enc"][tick] = policy.last_encoder_ns
            columns["dec"][tick] = policy.last_decoder_ns
            if not policy.last_step_finite:
                raise RuntimeError(f"step {tick} faulted: {policy.last_fault}")
    finally:
        gc.enable()
    columns["overhead"] = columns["total"] - columns["enc"] - columns["dec"]
    return columns


def raw_ort(
    path: Path, threads: int, ticks: int, warmup: int, spinning: bool
) -> tuple[float, float]:
    """p50/p99 (ms) of a bare ``run_with_iobinding`` on the model, nothing of ours around it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    binding = session.io_binding()
    (inp,), (outp,) = session.get_inputs(), session.get_outputs()
    x = np.random.default_rng(0).standard_normal(inp.shape).astype(np.float32)
    y = np.zeros(outp.shape, dtype=np.float32)
    binding.bind_cpu_input(inp.name, x)
    binding.bind_output(outp.name, "cpu", 0, np.float32, list(y.shape), y.ctypes.data)
    for _ in range(warmup):
        session.run_with_iobinding(binding)
    samples = np.zeros(ticks, dtype=np.int64)
    gc.disable()
    try:
        for i in range(ticks):
            start = time.perf_counter_ns()
            session.run_with_iobinding(binding)
            samples[i] = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return pcts(samples, 1e6)


def compare_builders(
    policy: SonicPolicy, track: ReferenceTrack, feed: StateFeed, ticks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ours vs naive on the same states, interleaved tick by tick (same cache conditions)."""
    if policy.variant is None:
        raise RuntimeError("needs an encoder")
    from controller.sonic.obs_config import ENCODER_CONFIGS

    naive = NaiveObservationBuilder(ENCODER_CONFIGS[policy.variant])
    policy.start(track, feed.load(0))
    naive.start(track, feed.load(0))
    token = np.zeros(64, dtype=np.float32)
    ours_ns = np.zeros(ticks, dtype=np.int64)
    naive_ns = np.zeros(ticks, dtype=np.int64)
    build: Callable[[RobotState, int], Any] = policy.build_observations
    gc.disable()
    try:
        for tick in range(ticks):
            state, frame = feed.load(tick), tick % TRACK_FRAMES
            start = time.perf_counter_ns()
            build(state, frame)
            ours_ns[tick] = time.perf_counter_ns() - start
            start = time.perf_counter_ns()
            naive.encoder_obs(state, frame)
            naive.decoder_obs(state, token, policy.last_action_isaac)
            naive_ns[tick] = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return ours_ns, naive_ns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print a JSON object last")
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--threads", default="1,2", help="ONNX Runtime CPU thread counts")
    parser.add_argument("--no-gpu", action="store_true", help="skip GPU backends")
    parser.add_argument(
        "--spinning", action="store_true", help="let ONNX Runtime worker threads spin"
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    track, feed = synthetic_track(rng), StateFeed(args.ticks, rng)
    result: dict[str, Any] = {"ticks": args.ticks, "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        decoder = fixtures.sonic_decoder_fixture(Path(tmp) / "model_decoder.onnx")
        encoder = fixtures.sonic_encoder_fixture(Path(tmp) / "model_encoder.onnx")
        print(f"fixtures: decoder 994->{list(fixtures.SONIC_DECODER_HIDDEN)}->29, "
              f"stand-in encoder 1762->{list(fixtures.STANDIN_ENCODER_HIDDEN)}->64; "
              f"{args.ticks} ticks, {os.cpu_count()} CPUs")  # fmt: skip
        for threads in (int(t) for t in args.threads.split(",")):
            session = SessionConfig(
                backend=BackendKind.ORT_CPU,
                intra_op_threads=threads,
                allow_spinning=args.spinning,
            )
            policy = load_sonic_policy(SonicConfig(decoder, encoder, session=session))
            cols = timed_steps(policy, track, feed, args.ticks, args.warmup)
            raw_enc = raw_ort(encoder, threads, args.ticks, args.warmup, args.spinning)
            raw_dec = raw_ort(decoder, threads, args.ticks, args.warmup, args.spinning)
            row = {
                "obs_us": pcts(cols["obs"], 1e3), "encoder_ms": pcts(cols["enc"], 1e6),
                "decoder_ms": pcts(cols["dec"], 1e6), "step_ms": pcts(cols["total"], 1e6),
                "overhead_ms": pcts(cols["overhead"], 1e6), "raw_encoder_ms": raw_enc,
                "raw_decoder_ms": raw_dec,
            }  # fmt: skip
            result[f"ort_cpu_{threads}t"] = row
            print(f"\nONNX Runtime CPU, {threads} thread(s)   p50 / p99")
            for name, (p50, p99) in row.items():
                print(f"  {name:<16} {p50:9.3f} / {p99:9.3f}")
            if threads == 1:
                ours, naive = compare_builders(policy, track, feed, args.ticks)
                result["obs_builder"] = {"ours_us": pcts(ours, 1e3), "naive_us": pcts(naive, 1e3)}
            policy.close()
        gpu_p99 = None if args.no_gpu else bench_gpu(decoder, encoder, track, feed, args, result)
    one = result.get("ort_cpu_1t")
    builder = result.get("obs_builder")
    if builder is not None:
        ratio = builder["naive_us"][0] / builder["ours_us"][0]
        ratio_step = builder["naive_us"][0] / one["obs_us"][0] if one else float("nan")
        print(f"\nobservation build p50: ours {builder['ours_us'][0]:.1f} us standalone, "
              f"{one['obs_us'][0] if one else float('nan'):.1f} us inside the step; "
              f"naive {builder['naive_us'][0]:.1f} us -> {ratio:.1f}x "
              f"({ratio_step:.1f}x vs in-step)")  # fmt: skip
    summary = {
        "obs_build_us_p50": one["obs_us"][0] if one else None,
        "naive_obs_build_us_p50": builder["naive_us"][0] if builder else None,
        "cpu_step_ms_p50": one["step_ms"][0] if one else None,
        "cpu_step_ms_p99": one["step_ms"][1] if one else None,
        "overhead_ms_p99": one["overhead_ms"][1] if one else None,
        "gpu_step_ms_p99": gpu_p99,
    }
    if args.json:
        print(json.dumps({**summary, "details": result}))
    return 0


def bench_gpu(
    decoder: Path, encoder: Path, track: ReferenceTrack, feed: StateFeed,
    args: argparse.Namespace, result: dict[str, Any],
) -> float | None:  # fmt: skip
    """Step timings on every GPU backend available; returns the best backend's p99 (ms)."""
    env = probe_environment()
    if env.gpu is None:
        print(f"\nGPU: not measured ({env.gpu_problem})")
        result["gpu"] = None
        return None
    result["gpu"] = {"device": env.gpu.name, "tensorrt": env.tensorrt_version}
    kinds = []
    if env.has_native_tensorrt:
        kinds.append(BackendKind.TENSORRT)
    if TRT_PROVIDER in env.ort_providers:
        kinds.append(BackendKind.ORT_TENSORRT)
    if CUDA_PROVIDER in env.ort_providers:
        kinds.append(BackendKind.ORT_CUDA)
    step_p99: dict[BackendKind, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        for kind in kinds:
            session = SessionConfig(backend=kind, cache_dir=Path(cache))
            try:
                policy = load_sonic_policy(SonicConfig(decoder, encoder, session=session))
            except ModelError as error:
                print(f"\n{kind.value}: unavailable ({error})")
                result["gpu"][kind.value] = str(error)
                continue
            cols = timed_steps(policy, track, feed, args.ticks, args.warmup)
            policy.close()
            row = {
                "step_ms": pcts(cols["total"], 1e6), "overhead_ms": pcts(cols["overhead"], 1e6),
                "encoder_ms": pcts(cols["enc"], 1e6), "decoder_ms": pcts(cols["dec"], 1e6),
            }  # fmt: skip
            result["gpu"][kind.value] = row
            print(f"\n{kind.value} on {env.gpu.name}   p50 / p99")
            for name, (p50, p99) in row.items():
                print(f"  {name:<16} {p50:9.3f} / {p99:9.3f}")
            step_p99[kind] = row["step_ms"][1]
    if not step_p99:
        return None
    reported = (
        BackendKind.TENSORRT
        if BackendKind.TENSORRT in step_p99
        else min(step_p99, key=step_p99.__getitem__)
    )
    result["gpu"]["reported_backend"] = reported.value
    return step_p99[reported]


if __name__ == "__main__":
    sys.exit(main())
