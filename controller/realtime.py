"""Real-time set-up for the control process: SCHED_FIFO, CPU affinity, mlockall, GC control.

Each step is attempted and its outcome reported once; none is fatal, because a developer laptop
or a CI container may forbid them, and the loop still runs (with worse jitter). On the robot the
systemd unit grants ``LimitRTPRIO`` and ``LimitMEMLOCK`` so all of them succeed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import enum
import gc
import logging
import os
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_MCL_CURRENT = 1
_MCL_FUTURE = 2


class SchedPolicy(enum.Enum):
    FIFO = "fifo"
    OTHER = "other"


@dataclass(frozen=True)
class RealtimeConfig:
    """How the control process asks the kernel for real-time treatment."""

    use_fifo: bool = True
    fifo_priority: int = 80
    """SCHED_FIFO priority (1-99). The loop sleeps for most of each period, so a high priority
    cannot starve other work; it only makes each wake-up prompt."""
    estop_relay_priority: int = 50
    """SCHED_FIFO priority of the daemon's e-stop relay process: below the loop's, above
    everything else, so an e-stop from the fleet is relayed promptly on a busy machine."""
    stream_relay_priority: int = 40
    """SCHED_FIFO priority of the daemon's stream relay thread (and its socket's I/O thread):
    below the e-stop relay's, so streamed frames reach the jitter buffer in time on a busy
    machine (``scripts/bench_stream.py --load``)."""
    cpu_affinity: tuple[int, ...] | None = None
    """CPUs to pin the control process to; None keeps the inherited mask."""
    lock_memory: bool = True
    freeze_gc: bool = True
    """Run a full collection, freeze survivors and disable the GC during the loop, so no
    collection pause can land inside a tick (the tick allocates nothing, so nothing leaks)."""

    def __post_init__(self) -> None:
        if not 1 <= self.estop_relay_priority < self.fifo_priority:
            raise ValueError(
                "realtime.estop_relay_priority must be within 1..fifo_priority-1, got "
                f"{self.estop_relay_priority}"
            )
        if not 1 <= self.stream_relay_priority < self.estop_relay_priority:
            raise ValueError(
                "realtime.stream_relay_priority must be within 1..estop_relay_priority-1, got "
                f"{self.stream_relay_priority}"
            )
        if not 1 <= self.fifo_priority <= 99:
            raise ValueError(f"fifo_priority must be within 1..99, got {self.fifo_priority}")


@dataclass
class RealtimeReport:
    """What the kernel granted; logged once and carried into reports."""

    sched: SchedPolicy = SchedPolicy.OTHER
    affinity: tuple[int, ...] = ()
    memory_locked: bool = False
    gc_frozen: bool = False
    refusals: list[str] = field(default_factory=list)


def apply_realtime(config: RealtimeConfig) -> RealtimeReport:
    """Apply what is permitted; log one line for everything refused."""
    report = RealtimeReport()
    if config.cpu_affinity is not None:
        try:
            os.sched_setaffinity(0, config.cpu_affinity)
        except OSError as exc:
            report.refusals.append(f"CPU affinity {config.cpu_affinity}: {exc.strerror}")
    report.affinity = tuple(sorted(os.sched_getaffinity(0)))
    if config.use_fifo:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(config.fifo_priority))
            report.sched = SchedPolicy.FIFO
        except OSError as exc:
            report.refusals.append(f"SCHED_FIFO priority {config.fifo_priority}: {exc.strerror}")
    if config.lock_memory:
        report.memory_locked = _mlockall()
        if not report.memory_locked:
            report.refusals.append("mlockall: not permitted (raise LimitMEMLOCK)")
    if config.freeze_gc:
        gc.collect()
        gc.freeze()
        gc.disable()
        report.gc_frozen = True
    for refusal in report.refusals:
        log.warning("real-time set-up refused: %s; the loop runs with more jitter", refusal)
    return report


def release_realtime(report: RealtimeReport) -> None:
    """Undo what ``apply_realtime`` changed that matters to the rest of the process."""
    if report.gc_frozen:
        gc.enable()
        gc.unfreeze()
    if report.sched is SchedPolicy.FIFO:
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError:
            log.warning("could not return to SCHED_OTHER")


def _mlockall() -> bool:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    return int(libc.mlockall(_MCL_CURRENT | _MCL_FUTURE)) == 0
