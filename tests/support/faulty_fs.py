"""Real file-system faults for tests: a tiny tmpfs that fills up (ENOSPC) or turns read-only.

Mounting needs root (CAP_SYS_ADMIN), which this project's CI has; elsewhere the tests that use
it skip and say why. Root ignores permission bits, so ``chmod`` cannot make a directory
read-only for these tests: a read-only remount can.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallFs:
    """A mounted tmpfs of a few KiB at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler.bin"

    def fill(self) -> None:
        """Write until the kernel answers ENOSPC."""
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 512)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))

    def read_write(self) -> None:
        _mount("-o", "remount,rw", str(self.path))


@contextlib.contextmanager
def small_fs(path: Path, size_kib: int = 64) -> Iterator[SmallFs]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("fault injection mounts a tmpfs: needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield SmallFs(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], capture_output=True, text=True, check=True)
