"""Entry point of the control process (spawned and supervised by the daemon).

The daemon hands over fully validated settings (this process reads no configuration file) and
talks to it only through the sockets in ``run_dir``. On a shutdown request the robot is brought
to the configured safe mode (HOLD or DAMP) before the process exits.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from controller.assembly import StackConfig, build_sim_stack
from controller.loop import ControlLoop
from controller.process.server import ControlServer, ServerConfig
from controller.robot.model_source import ModelSource
from controller.safety import SAFE_MODES, Mode
from controller.sonic.config import SonicConfig, load_sonic_policy

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


def run_control_process(settings: ControlProcessSettings) -> int:
    """Build the stack, serve the daemon until told to stop, leave the robot safe."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    logging.basicConfig(level=settings.log_level, format="control: %(levelname)s %(message)s")
    controller = None
    if settings.sonic is not None:
        controller = load_sonic_policy(settings.sonic)
        controller.warm_up()
    stack = build_sim_stack(
        settings.source, settings.stack, latch_path=settings.latch_path, controller=controller
    )
    server = ControlServer(
        stack.loop,
        ServerConfig(
            run_dir=settings.run_dir, state_publish_endpoint=settings.state_publish_endpoint
        ),
    )
    stack.loop.waiter = server
    if settings.stack.supervisor.heartbeat_timeout_s is not None:
        stack.supervisor.note_heartbeat(stack.clock.now_ns())
    try:
        stack.loop.run()  # returns once the server has asked the loop to stop
        _leave_safe(stack.loop, settings)
    finally:
        server.close()
        stack.close()
    return 0


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
