"""Entry point of the control process (spawned and supervised by the daemon).

The daemon hands over fully validated settings (this process reads no configuration file) and
talks to it only through the sockets in ``run_dir``. On a shutdown request the robot is brought
to the configured safe mode (HOLD or DAMP) before the process exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

from controller.assembly import StackConfig
from controller.loop import ControlLoop
from controller.process.server import ControlServer, ServerConfig
from controller.robot.base import BackendUnavailableError
from controller.robot.model_source import ModelSource
from controller.robot.unitree_config import UnitreeDdsConfig
from controller.robot_assembly import build_control_stack
from controller.safety import SAFE_MODES, Mode, SupervisorStart
from controller.sonic.config import SonicConfig, load_sonic_policy
from controller.stream_track import StreamPlaybackConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlProcessSettings:
    run_dir: str
    source: ModelSource
    stack: StackConfig
    latch_path: Path | None
    sonic: SonicConfig | None = None
    """When set, SONIC tracks (models loaded and warmed up before the loop starts)."""
    shutdown_mode: Mode = Mode.DAMP
    """What the robot is left in when the daemon stops it: HOLD or DAMP."""
    shutdown_ticks: int = 10
    state_publish_endpoint: str | None = None
    """Per-tick robot state for visualisers (ZeroMQ PUB, msgpack); None: not published."""
    log_level: int = logging.INFO
    parent_pid: int | None = None
    """The daemon's pid: if it is gone (or dies later), this process damps and exits."""
    orphan_damping_ticks: int = 25
    """Ticks of damping written before exiting because the daemon died (0.5 s)."""
    start: SupervisorStart = field(default_factory=SupervisorStart)
    """Set by the daemon on a restart: start damped, or in an e-stop the predecessor could not
    persist."""
    robot: UnitreeDdsConfig | None = None
    """The G1 on DDS to drive; None: the in-process simulator."""
    stream: StreamPlaybackConfig = field(default_factory=StreamPlaybackConfig)
    """The jitter buffer of streamed references (``[streaming.playback]``)."""


EXIT_ROBOT_UNAVAILABLE = 78
"""Exit status when the robot cannot be reached at start (EX_CONFIG); the reason is logged."""


def run_control_process(settings: ControlProcessSettings) -> int:
    """Build the stack, serve the daemon until told to stop, leave the robot safe."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    logging.basicConfig(level=settings.log_level, format="control: %(levelname)s %(message)s")
    controller = None
    if settings.sonic is not None:
        controller = load_sonic_policy(settings.sonic)
        controller.warm_up()
    try:
        stack = build_control_stack(
            settings.source,
            settings.stack,
            settings.robot,
            latch_path=settings.latch_path,
            controller=controller,
            start=settings.start,
        )
    except BackendUnavailableError as exc:
        log.error("%s", exc)  # one line naming the fix; no command was written
        return EXIT_ROBOT_UNAVAILABLE
    server = ControlServer(
        stack.loop,
        ServerConfig(
            run_dir=settings.run_dir,
            state_publish_endpoint=settings.state_publish_endpoint,
            stream=settings.stream,
        ),
    )
    stack.loop.waiter = server
    if settings.stack.supervisor.heartbeat_timeout_s is not None:
        stack.supervisor.note_heartbeat(stack.clock.now_ns())
    orphaned = _die_with_parent(stack.loop, settings.parent_pid)
    try:
        if not orphaned.is_set:
            stack.loop.run()  # returns once told to stop (shutdown command or SIGTERM)
        if orphaned.is_set:
            # The daemon is gone and a restarted one will start its own control process:
            # damp for a moment, then leave the robot to it (never two writers for long).
            stack.supervisor.request_damp(stack.clock.now_ns())
            stack.loop.run(max_ticks=settings.orphan_damping_ticks)
            log.error("the daemon died: damped and stopped")
        else:
            _leave_safe(stack.loop, settings)
    finally:
        server.close()
        stack.close()
    return 0


class _Flag:
    def __init__(self) -> None:
        self.is_set = False


def _die_with_parent(loop: ControlLoop, parent_pid: int | None) -> _Flag:
    """SIGTERM (sent by the kernel when the daemon dies, or by anyone) stops the loop.

    ``PR_SET_PDEATHSIG`` asks Linux to signal this process when its parent exits, so a daemon
    killed with SIGKILL does not leave a control process driving the robot on its own.
    """
    flag = _Flag()

    def on_term(signum: int, frame: object) -> None:
        flag.is_set = True
        loop.stop()

    signal.signal(signal.SIGTERM, on_term)
    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        flag.is_set = True  # the daemon died before the request above took effect
    return flag


_PR_SET_PDEATHSIG = 1


def _leave_safe(loop: ControlLoop, settings: ControlProcessSettings) -> None:
    sup = loop.supervisor
    now = loop.clock.now_ns()
    if sup.mode not in SAFE_MODES:
        if settings.shutdown_mode is Mode.HOLD and sup.mode is Mode.TRACK:
            sup.request_stop_track(now)
        elif settings.shutdown_mode is not Mode.HOLD:
            sup.request_damp(now)
    loop.run(max_ticks=settings.shutdown_ticks)  # the safe command goes out for a few ticks
    log.info("control process stopping in %s", sup.mode.name)
