#!/usr/bin/env python3
"""Fuzz the robot's parsers: N generated hostile inputs each, outcomes counted per typed code.

Parsers: VDA 5050 instantActions (``parse_instant_actions``) and orders (``parse_order``), the
strict JSON layer under them (``load_json``), motion packages (``peek_identity`` +
``decode_package``, signatures optional and required), SONIC ``pose`` stream messages (decoder,
stream lifecycle, frame building). Inputs come from ``tests/fuzz/*_inputs.py`` (the test suite
runs a few thousand per parser with the same generators). Every input must end in acceptance or
the parser's own typed rejection; anything else is a crash, counted as ``CRASH:<exception>`` and
saved under ``--crash-dir``. The exit status is 1 when any parser crashed.

Usage: scripts/fuzz_parsers.py [--n 100000] [--seed 1] [--parser NAME ...] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fuzz: the generators the test suite uses

from tests.fuzz.targets import TARGETS, FuzzReport, run_target


def save_crashes(report: FuzzReport, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for crash in report.kept:
        name = f"{report.target}-{hashlib.sha256(crash.data).hexdigest()[:12]}"
        (folder / f"{name}.bin").write_bytes(crash.data)
        (folder / f"{name}.txt").write_text(crash.trace)
        saved.append(str(folder / f"{name}.bin"))
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="inputs per parser")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parser", action="append", choices=sorted(TARGETS), dest="parsers")
    parser.add_argument("--crash-dir", type=Path, default=Path("out/fuzz-crashes"))
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    args = parser.parse_args()
    summary: dict[str, dict[str, object]] = {}
    for name in args.parsers or list(TARGETS):
        start = time.perf_counter()
        report = run_target(TARGETS[name], args.n, args.seed)
        seconds = time.perf_counter() - start
        saved = save_crashes(report, args.crash_dir) if report.crashes else []
        summary[name] = {
            "inputs": report.inputs,
            "crashes": report.crashes,
            "seconds": round(seconds, 1),
            "outcomes": dict(report.counts.most_common()),
            "saved_crashes": saved,
        }
        print(f"{name}: {report.inputs} inputs in {seconds:.1f} s, {report.crashes} crashes")
        for code, count in report.counts.most_common():
            print(f"    {count:>8d}  {code}")
        for crash in report.kept:
            print(f"    crash: {crash.error}")
    if args.json:
        print(json.dumps(summary))
    return 1 if any(item["crashes"] for item in summary.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
