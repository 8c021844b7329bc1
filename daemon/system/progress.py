"""A one-line terminal progress display (rewritten in place when stdout is a terminal)."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    """Prints ``label [####....] 42% detail``; on a pipe, prints a line every ``every_s``."""

    def __init__(self, label: str, *, width: int = 30, every_s: float = 1.0) -> None:
        self._label = label
        self._width = width
        self._every_s = every_s
        self._is_tty = sys.stdout.isatty()
        self._last = 0.0

    def update(self, fraction: float, detail: str = "") -> None:
        now = time.monotonic()
        if not self._is_tty and now - self._last < self._every_s:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * self._width)
        bar = "#" * filled + "." * (self._width - filled)
        line = f"{self._label} [{bar}] {fraction * 100:5.1f}% {detail}"
        if self._is_tty:
            print("\r" + line.ljust(100), end="", flush=True)
        else:
            print(line, flush=True)

    def done(self, detail: str = "") -> None:
        self._last = 0.0
        if self._is_tty:
            self.update(1.0, detail)
            print(flush=True)
        else:
            self.update(1.0, detail)
