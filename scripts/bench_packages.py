"""Benchmark motion packages: wire size, decode + validate, 50 Hz precompute, hand mapping,
and a 10-minute package's track build with inverse dynamics (time and peak memory).

For a 60 s package at 30 fps (the demo motion stretched to 60 s, WiLoR hands for both hands):
reports medians over ``--repeats`` runs. Targets (2 shared cores): decode + validate +
precompute <= 100 ms; hand mapping <= 20 us per frame.

For a 10-minute package (18,000 frames at 30 fps, WiLoR hands): each measurement runs in a
fresh process (so peak RSS is the whole process's, imports included) that decodes the package,
builds its 50 Hz track and its inverse-dynamics feed-forward, the dynamics model included
(target <= 1.5 s, <= 250 MB); median time and the largest peak over ``--repeats-10min`` runs.
With ``--checks`` (the default) one more fresh process times the upload checks (joint speeds,
self-collision model and correction) on the same package and its peak RSS.

``--json`` prints one JSON object as the last line with keys ``bytes``,
``decode_validate_ms``, ``precompute_ms``, ``total_ms``, ``hand_us_per_frame``,
``track_build_s_10min``, ``track_build_peak_mb_10min`` and, with checks,
``track_checks_s_10min``, ``track_checks_peak_mb_10min``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from estimators.demo_motion import make_demo_package
from estimators.hands.dex3_targets import dex3_targets
from estimators.package import PackageConfig, decode_package
from estimators.reference_track import TrackBuildConfig, build_reference_track, package_hand_states
from estimators.skeleton import CanonicalAdultSkeleton


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up (imports, caches)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def _child(path: Path, what: str) -> int:
    """Runs in a fresh process: one 10-minute measurement, printed as JSON."""
    from controller.dynamics import FeedforwardJoints, inverse_dynamics_track, load_robot_model
    from controller.robot.model_source import resolve_model
    from daemon.library.track_prep import TrackPreparer, TrackPrepConfig
    from estimators.track import TRACK_FPS

    data = path.read_bytes()
    source = resolve_model(None)
    start = time.perf_counter()
    package = decode_package(data, PackageConfig()).package
    track = build_reference_track(package)
    if what == "build":
        model = load_robot_model(source)
        inverse_dynamics_track(model, track.q_hw, 1.0 / TRACK_FPS, FeedforwardJoints.ALL)
        elapsed = time.perf_counter() - start
    else:
        start = time.perf_counter()
        TrackPreparer(TrackPrepConfig(model_source=source)).prepare(package, with_dynamics=False)
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "frames": track.n_frames}))
    return 0


def _ten_minutes(repeats: int, with_checks: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten_minutes.pkg"
        path.write_bytes(make_demo_package(duration_s=600.0, fps=30.0))

        def run(what: str) -> dict[str, float]:
            out = subprocess.run(
                [sys.executable, __file__, "--child-10min", str(path), "--child-what", what],
                capture_output=True, text=True, check=True, timeout=900,
            )  # fmt: skip
            result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
            return result

        builds = [run("build") for _ in range(repeats)]
        figures = {
            "track_build_s_10min": statistics.median(b["seconds"] for b in builds),
            "track_build_peak_mb_10min": max(b["peak_mb"] for b in builds),
        }
        if with_checks:
            checks = run("checks")
            figures["track_checks_s_10min"] = checks["seconds"]
            figures["track_checks_peak_mb_10min"] = checks["peak_mb"]
        return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="package length (s)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--repeats-10min", type=int, default=3, help="fresh processes (0: skip)")
    parser.add_argument("--checks", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the upload checks on the 10-minute package")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    parser.add_argument("--child-10min", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-what", default="build", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_10min is not None:
        return _child(args.child_10min, args.child_what)

    data = make_demo_package(duration_s=args.duration, fps=args.fps)
    config = PackageConfig()
    skeleton = CanonicalAdultSkeleton().load()
    build_config = TrackBuildConfig()
    package = decode_package(data, config).package
    n_frames = package.meta.n_frames

    decode_ms = _median_ms(lambda: decode_package(data, config), args.repeats)
    precompute_ms = _median_ms(
        lambda: build_reference_track(package, skeleton=skeleton, config=build_config),
        args.repeats,
    )
    total_ms = _median_ms(
        lambda: build_reference_track(
            decode_package(data, config).package, skeleton=skeleton, config=build_config
        ),
        args.repeats,
    )
    hand_ms = _median_ms(
        lambda: dex3_targets(package_hand_states(package, build_config.hand_states)),
        args.repeats,
    )
    hand_us = hand_ms * 1e3 / n_frames

    print(f"package: {args.duration:g} s at {args.fps:g} fps = {n_frames} frames, WiLoR hands")
    print(f"wire size:            {len(data):>10d} bytes")
    print(f"decode + validate:    {decode_ms:10.2f} ms (median of {args.repeats})")
    print(f"precompute (50 Hz):   {precompute_ms:10.2f} ms")
    print(f"total:                {total_ms:10.2f} ms   (target <= 100 ms)")
    print(f"hand mapping:         {hand_us:10.2f} us/frame (target <= 20 us)")
    ten: dict[str, float] = {}
    if args.repeats_10min > 0:
        ten = _ten_minutes(args.repeats_10min, args.checks)
        print("10-minute package (18,000 frames at 30 fps), fresh processes:")
        print(f"  track + inverse dynamics: {ten['track_build_s_10min']:8.3f} s median of "
              f"{args.repeats_10min}, peak RSS {ten['track_build_peak_mb_10min']:.0f} MB "
              "(target <= 1.5 s, <= 250 MB)")  # fmt: skip
        if "track_checks_s_10min" in ten:
            checks_s, checks_mb = ten["track_checks_s_10min"], ten["track_checks_peak_mb_10min"]
            print(f"  track + upload checks (speeds, self-collision, no dynamics): {checks_s:8.3f}"
                  f" s, peak RSS {checks_mb:.0f} MB")  # fmt: skip
    if args.json:
        summary = {
            "bytes": len(data),
            "decode_validate_ms": round(decode_ms, 3),
            "precompute_ms": round(precompute_ms, 3),
            "total_ms": round(total_ms, 3),
            "hand_us_per_frame": round(hand_us, 3),
            **{k: round(v, 3) for k, v in ten.items()},
        }
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
