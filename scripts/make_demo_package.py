"""Write the procedural demo motion package ("pick up the box and stand up") to a file.

Usage: python scripts/make_demo_package.py -o out/demo.pkg [--hands wilor|states|none]
       [--fps 30] [--duration 12] [--with-g1-reference] [--sign-key SEED.hex --key-id NAME]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from estimators.demo_motion import DEMO_DURATION_S, make_demo_package
from estimators.package import HandsFormat, PackageConfig, decode_package
from estimators.package.signing import private_key_from_bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--hands", choices=[f.value for f in HandsFormat], default="wilor")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--duration", type=float, default=DEMO_DURATION_S)
    parser.add_argument("--with-g1-reference", action="store_true")
    parser.add_argument("--sign-key", type=Path, help="hex Ed25519 private seed")
    parser.add_argument("--key-id")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    key = None
    if args.sign_key:
        key = private_key_from_bytes(bytes.fromhex(args.sign_key.read_text().strip()))
    data = make_demo_package(
        fps=args.fps,
        duration_s=args.duration,
        hands_format=HandsFormat(args.hands),
        include_g1_reference=args.with_g1_reference,
        signing_key=key,
        key_id=args.key_id,
        seed=args.seed,
    )
    decoded = decode_package(data, PackageConfig())  # the daemon's own load path
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    meta = decoded.package.meta
    print(
        f"wrote {args.out}: {len(data)} bytes, {meta.n_frames} frames at {meta.fps:g} fps "
        f"({meta.duration_s:.2f} s), hands={meta.hands_format.value}, sha256={decoded.sha256_hex}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
