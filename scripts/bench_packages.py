"""Benchmark motion packages: wire size, decode + validate, 50 Hz precompute, hand mapping.

For a 60 s package at 30 fps (the demo motion stretched to 60 s, WiLoR hands for both hands):
reports medians over ``--repeats`` runs. Targets (2 shared cores): decode + validate +
precompute <= 100 ms; hand mapping <= 20 us per frame. ``--json`` prints one JSON object as the
last line with keys ``bytes``, ``decode_validate_ms``, ``precompute_ms``, ``total_ms``,
``hand_us_per_frame``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="package length (s)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    args = parser.parse_args()

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
    if args.json:
        summary = {
            "bytes": len(data),
            "decode_validate_ms": round(decode_ms, 3),
            "precompute_ms": round(precompute_ms, 3),
            "total_ms": round(total_ms, 3),
            "hand_us_per_frame": round(hand_us, 3),
        }
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
