"""``exoactor-edge run``: the service. Starts the control process and the daemon's adapters.

Start-up: configuration and models are checked first (errors stop here, nothing moves); the
control process is spawned; the package store, the upload endpoint, the fleet interface and the
admin socket open; READY=1 goes to systemd once the control process runs and robot state is
fresh. The watchdog is pinged only while the control loop's tick counter advances.
Shutdown (SIGTERM/SIGINT): STOPPING=1, stop accepting work, bring the robot to HOLD or DAMP
(per configuration) through the control process, exit 0 within 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from controller.assembly import StackConfig
from controller.dynamics import FeedforwardJoints
from controller.ipc import ESTOP_SOCKET, endpoint
from controller.process.main import ControlProcessSettings
from controller.robot.model_source import ModelSource
from controller.robot.mujoco_backend import SimMode
from controller.robot.unitree_config import BackendKind
from controller.safety import Mode
from controller.stream_track import StreamPlaybackConfig
from daemon.config import EdgeConfig, service_environment
from daemon.control.admin import AdminServer
from daemon.control.control_ipc import ControlProcess, LinkConfig, ZmqControlLink
from daemon.control.control_link import CommandResult, ControlStatus
from daemon.fleet.fleet_mqtt import EstopRelayOptions, FleetService, GenerationSetup
from daemon.fleet.vda5050.robot_view import BatterySource, RobotExtras
from daemon.generation.activation import ControlLinkActivator
from daemon.generation.camera import make_frame_source
from daemon.inputs.ingest_zmq import IngestServer
from daemon.inputs.streaming import StreamingInput
from daemon.library.package_library import PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from daemon.system.aio import wait_event
from daemon.system.sd_notify import SdNotifier
from estimators.continuity import JointSpeedConfig

log = logging.getLogger(__name__)

_SHUTDOWN_BUDGET_S = 4.0  # of systemd's 5 s: the rest is interpreter exit


@dataclass(frozen=True)
class ServiceOptions:
    source: ModelSource
    ready_timeout_s: float = 60.0


def control_settings(config: EdgeConfig, source: ModelSource) -> ControlProcessSettings:
    """What the control process runs, derived from the validated configuration."""
    daemon = config.daemon
    feedforward = config.safety.gravity_feedforward
    if not config.sim.use_gantry and feedforward is FeedforwardJoints.ALL:
        feedforward = FeedforwardJoints.UPPER_BODY
    stack = StackConfig(
        sim=replace(config.sim, mode=SimMode.REALTIME),
        supervisor=replace(
            config.safety.supervisor,
            heartbeat_timeout_s=daemon.heartbeat_timeout_s,
            fleet_may_reset_robot_side_estop=config.fleet.may_reset_manual_estop,
        ),
        loop=replace(config.loop, realtime=config.realtime if daemon.realtime else None),
        pd_tracker=config.pd_tracker,
        gravity_feedforward=feedforward,
    )
    return ControlProcessSettings(
        run_dir=str(daemon.run_dir),
        source=source,
        stack=stack,
        latch_path=config.safety.estop_latch_path,
        sonic=config.sonic,
        shutdown_mode=Mode.HOLD if daemon.shutdown_mode == "hold" else Mode.DAMP,
        state_publish_endpoint=daemon.state_publish_endpoint,
        robot=config.robot.unitree if config.robot.backend is BackendKind.UNITREE else None,
        stream=config.streaming.playback
        if config.streaming is not None
        else (StreamPlaybackConfig()),
    )


class LoopProgress:
    """Healthy when the control process is alive, its state fresh and its ticks advancing."""

    def __init__(self, link: ZmqControlLink, max_state_age_ms: float) -> None:
        self._link = link
        self._max_age_ms = max_state_age_ms
        self._last_ticks = -1

    def is_ready(self) -> bool:
        status = self._link.status()
        return status.is_alive and status.state_age_ms <= self._max_age_ms

    def is_healthy(self) -> bool:
        status = self._link.status()
        progressed = status.ticks > self._last_ticks
        self._last_ticks = status.ticks
        return status.is_alive and progressed


class HealthChecks:
    """The daemon is healthy when every check passes (fed to the systemd watchdog)."""

    def __init__(self, *checks: Callable[[], bool]) -> None:
        self._checks = list(checks)

    def add(self, check: Callable[[], bool]) -> None:
        self._checks.append(check)

    def all_pass(self) -> bool:
        # Every check runs (LoopProgress counts ticks on each call), then all must pass.
        results = [check() for check in self._checks]
        return all(results)


def fleet_extras(
    status: ControlStatus,
    backend: BackendKind,
    information: tuple[tuple[str, str], ...] = (),
) -> RobotExtras:
    """The battery for the fleet state: the robot's BMS figure on the robot (a placeholder
    until one arrives), a figure that says it is simulated in the in-process simulator; plus
    extra ``information`` entries (the streaming input's refusals)."""
    if backend is BackendKind.SIM:
        return RobotExtras(battery_source=BatterySource.SIMULATED, information=information)
    return RobotExtras(state_of_charge_pct=status.battery_soc_pct, information=information)


def status_text(status: ControlStatus) -> str:
    if not status.is_alive:
        return "control process down"
    package = status.loaded_package or "-"
    frame = ""
    if status.track_frame >= 0:  # a stream has no length: its frame is the producer's
        length = f"/{status.track_frames}" if status.track_frames > 0 else ""
        frame = f" frame {status.track_frame}{length}"
    return f"mode {status.mode} ({status.last_cause}); package {package}{frame}"


async def serve(config: EdgeConfig, options: ServiceOptions) -> int:
    """Run the service until SIGTERM/SIGINT. Returns the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    settings = control_settings(config, options.source)
    process = ControlProcess(settings, LinkConfig())
    process.start()
    store = PackageStore(
        PackageStoreConfig(
            root=config.daemon.state_dir / "packages",
            max_packages=config.store.max_packages,
            max_total_bytes=config.store.max_total_bytes,
        )
    )
    async with ZmqControlLink(
        process=process, run_dir=settings.run_dir, config=LinkConfig()
    ) as link:
        supervisor_task = asyncio.create_task(process.supervise(), name="control-supervisor")
        progress = LoopProgress(link, config.daemon.ready_max_state_age_ms)
        library = PackageLibrary(
            store=store,
            config=PackageLibraryConfig(
                package=config.package.package_config(),
                model_source=options.source,
                feedforward=settings.stack.gravity_feedforward,
                speed=JointSpeedConfig(
                    supervisor_limit_rad_s=config.safety.supervisor.max_joint_speed_rad_s
                ),
            ),
            pinned_ids=lambda: {p for p in (link.status().loaded_package,) if p is not None},
        )
        # Everything that accepts work lives in this stack and closes before the control
        # process is told to stop; the link stays open until then.
        async with contextlib.AsyncExitStack() as adapters:
            health = HealthChecks(progress.is_healthy)
            notifier = await adapters.enter_async_context(
                SdNotifier.from_environment(service_environment(), is_healthy=health.all_pass)
            )
            await adapters.enter_async_context(IngestServer(library=library, config=config.ingest))
            environment = service_environment()
            streaming = (
                StreamingInput(
                    config=config.streaming,
                    link=link,
                    run_dir=settings.run_dir,
                    sonic=config.sonic,
                    priority=config.realtime.stream_relay_priority
                    if config.daemon.realtime
                    else None,
                    environ=environment,
                )
                if config.streaming is not None
                else None
            )
            await adapters.enter_async_context(
                AdminServer(
                    run_dir=Path(settings.run_dir),
                    link=link,
                    activator=ControlLinkActivator(link=link, library=library),
                    extra_status=_streaming_status(streaming),
                )
            )
            credentials = environment.get("CREDENTIALS_DIRECTORY")
            generation = GenerationSetup(
                config=config.generation,
                camera=make_frame_source(config.generation.camera, model_source=options.source),
                credentials_dir=Path(credentials) if credentials else None,
            )
            if config.fleet.enabled:
                fleet = await adapters.enter_async_context(
                    FleetService(
                        config=config.fleet,
                        link=link,
                        library=library,
                        extra_status=lambda: fleet_extras(
                            link.status(),
                            config.robot.backend,
                            streaming.information() if streaming else (),
                        ),
                        environ=environment,
                        generation=generation,
                        estop_relay=EstopRelayOptions(
                            estop_endpoint=endpoint(settings.run_dir, ESTOP_SOCKET),
                            run_dir=Path(settings.run_dir),
                            fifo_priority=config.realtime.estop_relay_priority
                            if config.daemon.realtime
                            else None,
                        ),
                    )
                )
                # A dead or stuck fleet task (restarting) withholds the watchdog and the
                # heartbeat: the robot holds rather than run while e-stops might be ignored.
                health.add(fleet.is_healthy)
                link.add_health_check(fleet.is_healthy)
            else:
                log.warning("fleet interface disabled ([fleet] enabled = false): no broker")
            if streaming is not None:
                await adapters.enter_async_context(streaming)
            ready = await _wait_ready(progress, stop, options.ready_timeout_s)
            if ready:
                notifier.ready(status_text(link.status()))
                log.info("ready: %s", status_text(link.status()))
                await _report_status(notifier, link, stop)
            else:
                log.error("control process not ready within %.0f s", options.ready_timeout_s)
            notifier.stopping("stopping: bringing the robot to a safe mode")
            started = time.monotonic()
        # Adapters closed: the fleet saw OFFLINE, no upload or command is accepted any more.
        stopped = await _stop_control(link, process, supervisor_task, started)
    return 0 if ready and stopped else 1


def _streaming_status(
    streaming: StreamingInput | None,
) -> Callable[[], dict[str, Any]] | None:
    """``exoactor-edge status`` shows the streaming lifecycle and its refusals."""
    if streaming is None:
        return None
    return lambda: {"streaming": streaming.status()}


async def _wait_ready(progress: LoopProgress, stop: asyncio.Event, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < deadline:
        if progress.is_ready():
            return True
        await asyncio.sleep(0.05)
    return False


async def _report_status(notifier: SdNotifier, link: ZmqControlLink, stop: asyncio.Event) -> None:
    """STATUS= whenever mode or package changes (checked every 100 ms) until asked to stop."""
    last = ""
    while not stop.is_set():
        text = status_text(link.status())
        if text != last:
            notifier.status(text)
            last = text
        await wait_event(stop, 0.1)  # not wait_for: it can swallow a cancellation (gh-86296)


async def _stop_control(
    link: ZmqControlLink, process: ControlProcess, supervisor: asyncio.Task[None], started: float
) -> bool:
    supervisor.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await supervisor
    remaining = max(0.5, _SHUTDOWN_BUDGET_S - (time.monotonic() - started))
    try:
        answer = await asyncio.wait_for(link.shutdown(), remaining / 2)
    except asyncio.TimeoutError:
        answer = CommandResult(False, "no answer to the shutdown command")
    await process.stop(remaining / 2)
    if not answer.accepted:
        log.error("control process refused to shut down: %s", answer.reason)
    return answer.accepted
