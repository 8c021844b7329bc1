"""``python -m controller.process SETTINGS_FILE``: run the control process.

The daemon writes the validated settings as a pickle into its private run directory (mode
0600) and starts this module; nothing here reads configuration itself.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from controller.process.main import ControlProcessSettings, run_control_process


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m controller.process SETTINGS_FILE", file=sys.stderr)  # noqa: T201
        return 2
    settings = pickle.loads(Path(argv[1]).read_bytes())  # written by our own daemon, 0600
    if not isinstance(settings, ControlProcessSettings):
        print("settings file does not hold ControlProcessSettings", file=sys.stderr)  # noqa: T201
        return 2
    return run_control_process(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
