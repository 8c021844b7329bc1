#!/usr/bin/env python3
"""Build and verify TensorRT engines ahead of boot; same as ``exoactor-edge engines build``.

    python scripts/build_engines.py --decoder policy/model_decoder.onnx \
        --encoder policy/model_encoder.onnx --cache-dir /var/cache/exoactor-edge/engines

Exit status: 0 ready, 1 a model failed, 2 the backend cannot run here.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from models.engines_cli import add_build_arguments, run_build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_build_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="TensorRT info logs")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    return run_build(args)


if __name__ == "__main__":
    sys.exit(main())
