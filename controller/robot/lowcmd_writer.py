"""The command writer: re-sends the latest supervised command to the G1 at a fixed rate.

The 50 Hz tick hands its command over (``submit``); this thread writes it at once, then keeps
re-sending the latest one on ``rt/lowcmd`` at ``command_rate_hz`` (and the Dex3 commands at
``hand_command_rate_hz``) on absolute deadlines, as Unitree's stacks do, so the firmware never
sees a gap between ticks and a new command (an e-stop's damping too) never waits a period.

Safety: if the tick stops refreshing the command for longer than ``stale_after_s`` (the
supervisor's state-age limit), the writer switches to damping (kp = 0, kd > 0 at the measured
pose) by itself and keeps sending it, and raises ``is_stall_latched`` so the backend can report
its state as stale: the supervisor then damps too. The latch clears only when the tick submits
an unpowered command (every body kp = 0), i.e. once the supervisor itself has left its powered
modes; a resumed tick can never drive the robot straight out of the writer's damping.

The writer is started only after the first valid ``rt/lowstate`` (the ``mode_machine`` it must
echo comes from there) and, until the tick's first command, sends damping.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from controller.robot.base import RobotCommand
from controller.robot.dex3_dds import HandCmdEncoder
from controller.robot.unitree_codec import LowCmdEncoder

log = logging.getLogger(__name__)

Send = Callable[[bytes], bool]


@dataclass(frozen=True)
class WriterConfig:
    rate_hz: float = 250.0
    hand_rate_hz: float = 100.0
    stale_after_s: float = 0.1
    damping_kd: float = 8.0
    hand_damping_kd: float = 0.1
    fifo_priority: int | None = 85
    """SCHED_FIFO priority for this thread where permitted (``UnitreeDdsConfig``)."""
    timing_capacity: int = 1 << 16
    tick_period_s: float = 0.02
    """The control loop's period. When it is a whole number of writer periods, the writer keeps
    its sends half a writer period away from the tick's wake-ups (see ``note_tick``)."""

    def __post_init__(self) -> None:
        if not 50.0 <= self.rate_hz <= 2000.0 or not 0 < self.hand_rate_hz <= self.rate_hz:
            raise ValueError("writer rates must satisfy 50 <= rate_hz <= 2000, hand <= rate")
        if not self.stale_after_s > 0 or not self.damping_kd > 0:
            raise ValueError("writer stale_after_s and damping_kd must be positive")


class LowCmdWriter:
    """Owns the writer thread. ``submit`` is called from the tick; everything else is its own."""

    def __init__(
        self,
        config: WriterConfig,
        *,
        send_body: Send,
        send_hands: tuple[Send, Send] | None,
        mode_machine: Callable[[], int],
        measured_q: Callable[[RobotCommand], None],
    ) -> None:
        self.config = config
        self._send_body = send_body
        self._send_hands = send_hands
        self._mode_machine = mode_machine
        self._measured_q = measured_q
        self._lock = threading.Lock()
        self._latest = RobotCommand()
        self._out = RobotCommand()
        self._refreshed_ns = 0
        self._body = LowCmdEncoder()
        self._hands = (HandCmdEncoder(), HandCmdEncoder())
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._period_ns = round(1e9 / config.rate_hz)
        tick_ns = round(config.tick_period_s * 1e9)
        self._is_phase_locked = tick_ns % self._period_ns == 0
        self._tick_ns = 0
        self._hand_every = max(1, round(config.rate_hz / config.hand_rate_hz))
        self._sent_at = np.zeros(config.timing_capacity, dtype=np.int64)
        self.sent = 0
        self.scheduled = 0
        self.damping_sent = 0
        self.send_errors = 0
        self.stalls = 0
        self.is_stall_latched = False

    # ------------------------------------------------------------ the tick's side
    def note_tick(self, t_ns: int) -> None:
        """The tick started (it read the state) at ``t_ns``.

        Both schedules are absolute on one clock and the tick period is a multiple of the
        writer's, so their relative phase is constant: the writer puts its sends half a writer
        period after the tick's deadlines, never where the tick wakes up and would have to wait
        for the interpreter lock behind a send (measured by ``scripts/bench_dds.py``).
        """
        self._tick_ns = t_ns

    def submit(self, command: RobotCommand) -> None:
        """The supervised command of this tick (copied; allocation-free)."""
        with self._lock:
            self._latest.copy_from(command)
            self._refreshed_ns = time.monotonic_ns()
            if self.is_stall_latched and float(np.dot(command.kp, command.kp)) == 0.0:
                self.is_stall_latched = False
        self._wake.set()  # a new command goes out now, not up to one writer period later

    def send_now(self) -> None:
        """Send the latest command from the caller's thread: the writer-less way (once per
        tick, as unitree_rl_gym's Python deploy does), kept for benchmarks to compare against."""
        self._write_once(True, is_scheduled=False)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lowcmd-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None

    def send_times_ns(self) -> npt.NDArray[np.int64]:
        """Monotonic times of the retained scheduled sends, oldest first (for benchmarks)."""
        n = min(self.scheduled, self._sent_at.shape[0])
        start = self.scheduled % self._sent_at.shape[0] if self.scheduled > n else 0
        return np.roll(self._sent_at[:n], -start) if start else self._sent_at[:n].copy()

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        if self.config.fifo_priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.config.fifo_priority))
            except OSError as exc:
                log.info("command writer stays SCHED_OTHER (%s)", exc.strerror)
        deadline = time.monotonic_ns()
        cycle = 0
        while not self._stop.is_set():
            self._write_once(cycle % self._hand_every == 0, is_scheduled=True)
            cycle += 1
            deadline += self._period_ns
            if self._is_phase_locked and self._tick_ns:
                deadline += self._phase_correction(deadline)
            while True:
                delay = deadline - time.monotonic_ns()
                if delay <= 0 or not self._wake.wait(delay * 1e-9):
                    break
                self._wake.clear()
                if self._stop.is_set():
                    return
                self._write_once(False, is_scheduled=False)  # the tick's fresh command
            if delay < -10 * self._period_ns:  # far behind (suspended): no burst
                deadline = time.monotonic_ns()

    def _phase_correction(self, deadline: int) -> int:
        """Shift (once, then rarely) so sends land half a period after the tick's grid."""
        period = self._period_ns
        error = (deadline - self._tick_ns) % period - period // 2
        return -error if abs(error) > period // 4 else 0

    def _write_once(self, with_hands: bool, *, is_scheduled: bool) -> None:
        now = time.monotonic_ns()
        out = self._out
        with self._lock:
            is_fresh = (
                self._refreshed_ns > 0
                and now - self._refreshed_ns <= self.config.stale_after_s * 1e9
            )
            if is_fresh:
                out.copy_from(self._latest)
            elif self._refreshed_ns > 0 and not self.is_stall_latched:
                self.is_stall_latched = True
                self.stalls += 1
        if not is_fresh:
            self._fill_damping(out)
            self.damping_sent += 1
        ok = self._send_body(self._body.encode(out, self._mode_machine()))
        if is_scheduled:  # the period figures are about the schedule, not the extra sends
            self._sent_at[self.scheduled % self._sent_at.shape[0]] = now
            self.scheduled += 1
        self.sent += 1
        if not ok:
            self.send_errors += 1
        if with_hands and self._send_hands is not None:
            for side in range(2):
                self._send_hands[side](
                    self._hands[side].encode(
                        out.hand_q[side], out.hand_dq[side], out.hand_kp[side],
                        out.hand_kd[side], out.hand_tau[side],
                    )
                )  # fmt: skip

    def _fill_damping(self, out: RobotCommand) -> None:
        self._measured_q(out)  # q and hand_q: the measured pose
        out.dq.fill(0.0)
        out.kp.fill(0.0)
        out.kd.fill(self.config.damping_kd)
        out.tau.fill(0.0)
        out.hand_dq.fill(0.0)
        out.hand_kp.fill(0.0)
        out.hand_kd.fill(self.config.hand_damping_kd)
        out.hand_tau.fill(0.0)
