"""The fleet interface: VDA 5050 version 3 over MQTT 5, plus telemetry and package uploads.

VDA 5050 is not a safety standard, and MQTT is not a safety channel. The on-robot supervisor
in the control process stays the authority: everything here asks it for things and reports
what it decided. An ``emergencyStop`` instant action is a convenience stop; it nevertheless has
a fast lane: an instantActions payload that mentions ``emergencyStop`` is recognised the moment
the MQTT client decodes it (before JSON parsing, before any queue or bound) and the e-stop goes
to the control process right there. An e-stop is engaged whatever else is wrong with its
message (stale, from the future, retained, misaddressed, malformed): stopping is always safe.
Its action is reported FINISHED only in a state that already shows the e-stop.

Everything else is defended: every inbound lane is bounded (drops counted), oversize payloads
are refused at arrival, each message is handled inside its own exception boundary, commands
older than ``command_expiry_s`` or stamped in the future are refused, retained instantActions
are never executed, and the service's tasks are supervised: a dead or stuck one is restarted,
and until it runs again ``is_healthy`` is False (the daemon then withholds the control
process's heartbeat and the systemd watchdog, so the robot holds).

Topics, under ``<interfaceName>/v3/<manufacturer>/<serialNumber>/`` (``FleetConfig.topics``):

========================  =========  ====  ========  ==========================================
topic                     direction  QoS   retained  content
========================  =========  ====  ========  ==========================================
connection                robot ->   1     yes       ONLINE after connecting, OFFLINE on an
                                                     orderly shutdown, CONNECTION_BROKEN (will)
state                     robot ->   0     yes       on every relevant change, figures at
                                                     ``info_interval_s``, at least every 30 s
factsheet                 robot ->   0     yes       on connect and on factsheetRequest
instantActions            -> robot   1               VDA 5050 instant actions (JSON)
order                     -> robot   1               VDA 5050 orders: one node (the robot's
                                                     station), no edges; node actions in turn
telemetry                 robot ->   0     no        non-VDA JSON at ``telemetry_rate_hz``
motionPackages            -> robot   1               non-VDA: one binary motion package
motionPackages/answers    robot ->   1     no        non-VDA JSON answer per upload, or on the
                                                     upload's MQTT 5 response topic with its
                                                     correlation data
emergencyStop             -> robot   1               non-VDA: any message engages the e-stop;
                                                     read by the e-stop relay process
========================  =========  ====  ========  ==========================================

Why a topic and a process of its own for ``emergencyStop``: a broker drops messages for a
subscriber that cannot keep up (mosquitto: "Outgoing messages are being dropped"), from all of
that client's subscriptions alike. Flooded with instantActions, a connection loses e-stops sent
on instantActions too (measured: 91 of 214 lost, p99 1.5 s); a connection of its own,
subscribed to nothing else, lost none. The relay (``daemon.fleet.estop_relay``) holds that
connection in a small process of its own, so neither the daemon's busy event loop nor its GIL is in
the way; it sends the e-stop straight to the control process and forwards the message here only
for reporting. ``FleetClient.emergency_stop`` sends on both topics.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

from controller.estop_latch import EstopOrigin, estop_message_id
from daemon.control.control_link import CommandKind, CommandResult, ControlLink, ControlStatus
from daemon.fleet.estop_lane import EstopRelayProcess, report_endpoint
from daemon.fleet.estop_relay import RelaySettings
from daemon.fleet.mqtt_adapter import MqttAdapter, Outgoing
from daemon.fleet.mqtt_inbox import Incoming, Subscription
from daemon.fleet.task_supervisor import TaskProgress, TaskSupervisor
from daemon.fleet.vda5050.actions import (
    ActionType,
    ErrorType,
    Freshness,
    InstantAction,
    ParsedInstantActions,
    oversize_message,
    parse_instant_actions,
)
from daemon.fleet.vda5050.config import PROTOCOL_VERSION, FleetConfig
from daemon.fleet.vda5050.executor import StepRunner
from daemon.fleet.vda5050.fleet_state import FleetState, Step, relevant_part
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import (
    ConnectionState,
    connection_message,
    encode,
    factsheet_message,
    package_answer_message,
    state_message,
    telemetry_message,
)
from daemon.fleet.vda5050.orders import Order, OrderErrorType, OrderRejection, parse_order
from daemon.fleet.vda5050.robot_view import RobotExtras
from daemon.generation.camera import FrameSource
from daemon.generation.config import GenerationConfig
from daemon.generation.errors import JobBusyError
from daemon.generation.job import GenerationRunner
from daemon.generation.manifest import JobStatus
from daemon.generation.progress import JobProgress
from daemon.generation.request import GenerationJob, GenerationRequest
from daemon.library.motion_library import IngestResult, MotionLibrary
from daemon.system.aio import wait_event
from estimators.package import CameraView

log = logging.getLogger(__name__)

_STATUS_POLL_S = 0.05
"""How often the control status snapshot is read for state changes (it arrives at >= 10 Hz)."""
_STOP_TIMEOUT_S = 1.0
"""How long shutdown waits for its tasks (the daemon has 5 s for all of its shutdown)."""
_FAREWELL_S = 1.0
"""How long shutdown waits for the broker to take the final state and OFFLINE."""
_ESTOP_MARKER = ActionType.EMERGENCY_STOP.value.encode()
_STEP_QUEUE = 64
"""Commands waiting for the control process beyond which the message reader waits."""
_INSTANT_ACTION_LANE = 256
"""Unread instantActions beyond which new ones are dropped at arrival (e-stops are not)."""
_ORDER_LANE = 32
"""Unread orders beyond which new ones are dropped at arrival."""


@dataclass
class FleetCounters:
    """What the fleet interface did with what it received (telemetry, tests, benchmarks)."""

    fast_lane_estops: int = 0
    """E-stops sent from the arrival hook (before parsing)."""
    handler_failures: int = 0
    """Messages whose handling raised (each inside its own boundary; the service went on)."""
    retained_refused: int = 0
    stale_refused: int = 0
    relayed_estops: int = 0
    """Messages the e-stop relay received on the e-stop topic (each already engaged)."""
    uploads_dropped: int = 0
    """Uploads dropped unanswered because answers backed up (a flood)."""


@dataclass(frozen=True)
class ShutdownReport:
    """How the fleet interface stopped (logged; tests read it)."""

    late_tasks: tuple[str, ...]
    """Tasks that did not stop within their deadline (left behind, logged)."""
    is_final_state_published: bool
    is_offline_published: bool
    tasks_s: float
    farewell_s: float
    total_s: float


@dataclass(frozen=True)
class _Upload:
    payload: bytes
    """Empty when the upload was refused at arrival for its size (its bytes were not kept)."""
    size_bytes: int
    response_topic: str | None
    correlation: bytes | None
    refusal: IngestResult | None = None
    """Set when the upload is answered without validation (too large, too many pending)."""


def _status_key(status: ControlStatus) -> tuple[object, ...]:
    return (
        status.is_alive,
        status.mode,
        status.last_cause,
        status.is_estopped,
        status.is_paused,
        status.loaded_package,
        status.restarts,
    )


class FleetService:
    """VDA 5050 v3 over MQTT 5 for one robot (see the module docstring for the topics).

    Args:
        config: Topics, broker, timing and limits.
        link: The control process.
        library: Validates and stores uploaded packages; turns them into tracks.
        extra_status: Polled for battery figures, operating mode and extra information.
        versions: ``factsheet.mobileRobotConfiguration.versions`` (default: this package's
            version and the VDA 5050 version).
        clock: Wall-clock time for message timestamps (UTC).
        environ: Where the broker password's systemd credential directory is looked up.
        generation: Cloud generation (``generateMotion``); None refuses it.
        estop_relay: Where the e-stop relay reaches the control process; None runs no relay
            (e-stops then come only through instantActions).
    """

    def __init__(
        self,
        *,
        config: FleetConfig,
        link: ControlLink,
        library: MotionLibrary,
        extra_status: Callable[[], RobotExtras] | None = None,
        versions: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        environ: Mapping[str, str] | None = None,
        generation: GenerationSetup | None = None,
        estop_relay: EstopRelayOptions | None = None,
    ) -> None:
        self._config = config
        self._link = link
        self._library = library
        self._extra_status = extra_status or RobotExtras
        self._versions = dict(versions) if versions is not None else _default_versions()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.topics = config.topics
        self.state = FleetState(config=config)
        self._headers = HeaderFactory(
            manufacturer=config.manufacturer, serial_number=config.serial_number
        )
        self._wake = asyncio.Event()
        # Bounded: when commands arrive faster than the control process answers them, the
        # message reader waits here, its inbox lane fills and new messages are dropped (counted)
        # at arrival. E-stops do not pass through here.
        self._steps: asyncio.Queue[Step] = asyncio.Queue(maxsize=_STEP_QUEUE)
        # Bounded: refusals are answered from here too, and a flood of them must not pile up.
        self._uploads: asyncio.Queue[_Upload] = asyncio.Queue(config.max_pending_uploads * 2 + 4)
        self._pending_uploads = 0
        self._runner = StepRunner(
            state=self.state, link=link, library=library, on_change=self._on_model_change
        )
        self._is_state_forced = False
        self._is_factsheet_due = False
        self._last_relevant: dict[str, Any] | None = None
        self._last_information: Any = None
        self._last_state_s = float("-inf")
        self._last_info_s = float("-inf")
        self._message_count = 0
        self.counters = FleetCounters()
        self._has_reported_retained = False
        self.tasks = TaskSupervisor()
        self._is_closing = False
        self.adapter = MqttAdapter(
            broker=config.broker,
            client_id=config.client_id,
            subscriptions=(
                Subscription(
                    self.topics.instant_actions,
                    qos=1,
                    priority=0,
                    capacity=_INSTANT_ACTION_LANE,
                    max_bytes=config.max_message_bytes,
                    on_arrival=self._on_instant_actions_arrival,
                ),
                Subscription(
                    self.topics.order,
                    qos=1,
                    priority=1,
                    capacity=_ORDER_LANE,
                    max_bytes=config.max_message_bytes,
                ),
                Subscription(
                    self.topics.packages,
                    qos=1,
                    priority=2,
                    capacity=config.max_pending_uploads + 2,
                    max_bytes=config.max_package_bytes,
                ),
            ),
            will=lambda: self._connection(ConnectionState.CONNECTION_BROKEN),
            on_connect=self._on_connect,
            name="fleet-mqtt",
            environ=environ,
        )
        self.relay = (
            EstopRelayProcess(
                settings=RelaySettings(
                    broker=config.broker,
                    client_id=f"{config.client_id}-estop",
                    topic=self.topics.emergency_stop,
                    estop_endpoint=estop_relay.estop_endpoint,
                    report_endpoint=report_endpoint(estop_relay.run_dir),
                    max_message_bytes=config.max_message_bytes,
                    fifo_priority=estop_relay.fifo_priority,
                    environ=tuple(sorted((environ or {}).items())),
                ),
                run_dir=estop_relay.run_dir,
            )
            if estop_relay is not None
            else None
        )
        self._generation_setup = generation
        self._generation: GenerationRunner | None = None
        self._jobs: dict[str, GenerationJob] = {}
        self._generation_progress: dict[str, Any] | None = None
        self.shutdown_report: ShutdownReport | None = None
        """Set when the service has stopped (``__aexit__``)."""

    async def __aenter__(self) -> FleetService:
        self.state.on_status(self._link.status())
        setup = self._generation_setup
        if setup is not None:
            self._generation = GenerationRunner(
                config=setup.config,
                library=self._library,
                activator=_FleetActivator(self),
                camera=setup.camera,
                credentials_dir=setup.credentials_dir,
            )
            await self._generation.__aenter__()
        if self.relay is not None:
            await self.relay.__aenter__()
        await self.adapter.__aenter__()
        spawn = self.tasks.spawn
        if self.relay is not None:
            spawn("fleet-estop-reports", self._read_estop_reports)
        spawn("fleet-messages", self._read_messages)
        spawn("fleet-steps", self._run_steps)
        spawn("fleet-events", self._read_events)
        spawn("fleet-status", self._poll_status)
        spawn("fleet-state", self._publish_states)
        spawn("fleet-uploads", self._answer_uploads)
        if self._config.telemetry_rate_hz > 0:
            spawn("fleet-telemetry", self._publish_telemetry, is_critical=False)
        return self

    def is_healthy(self) -> bool:
        """False while one of the service's critical tasks is dead, stuck or restarting, or the
        e-stop relay is down.

        Safe to call from another thread (the daemon's heartbeat thread reads it)."""
        if self._is_closing:
            return True  # stopping on purpose: the daemon brings the robot to its safe mode next
        relay_ok = self.relay is None or self.relay.is_healthy()
        return self.tasks.is_healthy() and relay_ok

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._is_closing = True
        loop = asyncio.get_running_loop()
        started_s = loop.time()
        for job in self._jobs.values():
            job.cancel()
        late = await self.tasks.aclose(_STOP_TIMEOUT_S)
        tasks_s = loop.time() - started_s
        # Orderly shutdown: a final state (what became of each action), then OFFLINE, both
        # retained, then a clean DISCONNECT (no will); bounded, whatever the broker does.
        self.state.shutdown("interrupted: the daemon is stopping (the robot holds or damps)")
        farewell = [self._final_state(), self._connection(ConnectionState.OFFLINE)]
        published = await self.adapter.close(farewell=farewell, deadline_s=_FAREWELL_S)
        farewell_s = loop.time() - started_s - tasks_s
        if self.relay is not None:
            await self.relay.__aexit__(exc_type, exc, tb)
        if self._generation is not None:
            generation = asyncio.ensure_future(self._generation.__aexit__(exc_type, exc, tb))
            if not (await asyncio.wait({generation}, timeout=_STOP_TIMEOUT_S))[0]:
                generation.cancel()
                late.append("generation")
        self.shutdown_report = ShutdownReport(
            late_tasks=tuple(late),
            is_final_state_published=published >= 1,
            is_offline_published=published == len(farewell),
            tasks_s=tasks_s,
            farewell_s=farewell_s,
            total_s=loop.time() - started_s,
        )
        log.info("fleet interface stopped: %s", self.shutdown_report)

    def _final_state(self) -> Outgoing:
        extras = self._extra_status()
        stopping = ("serviceState", "stopping: the daemon is shutting down; OFFLINE follows")
        extras = replace(extras, information=(*extras.information, stopping))
        message = state_message(self._headers, self.state.state_body(extras), self._clock())
        return Outgoing(self.topics.state, encode(message), qos=1, is_retained=True)

    def _spawn(self, name: str, coroutine: Coroutine[Any, Any, None]) -> None:
        """A one-off task (a generation job's follower), supervised but never restarted."""

        async def run(progress: TaskProgress) -> None:
            await coroutine

        self.tasks.spawn_once(name, run)

    # ------------------------------------------------------------------ fleet -> robot
    def _on_instant_actions_arrival(self, incoming: Incoming) -> bool:
        """The e-stop fast lane: runs inside the MQTT client's receive callback, before any
        parsing or queue. Any instantActions payload that mentions ``emergencyStop`` stops the
        robot now (a false positive only stops it: safe)."""
        if _ESTOP_MARKER not in incoming.payload:
            return False
        self.counters.fast_lane_estops += 1
        # The boundary: whatever goes wrong here must not end the MQTT client's receive path.
        try:
            sent = self._link.estop_now(EstopOrigin.FLEET, estop_message_id(incoming.payload))
        except Exception:
            log.exception("fleet e-stop could not be sent from the fast lane")
            return False
        return sent

    async def _read_estop_reports(self, progress: TaskProgress) -> None:
        """Report e-stops the relay received (and already sent) like instant actions: an
        instantActions payload on the e-stop topic gets its action states."""
        assert self.relay is not None  # spawned only with a relay
        async for message in self.relay.reports():
            steps: list[Step] = []
            with progress.busy():
                try:
                    self.counters.relayed_estops += 1
                    steps = await self._on_instant_actions(message)
                except Exception:
                    self.counters.handler_failures += 1
                    log.exception("an e-stop message from the relay could not be reported")
            await self._queue_steps(steps)

    async def _read_messages(self, progress: TaskProgress) -> None:
        async for message in self.adapter.messages():
            steps: list[Step] = []
            with progress.busy():
                # Each message inside its own boundary: one bad message must not end the
                # task that reads every later one (e-stops included).
                try:
                    if message.topic == self.topics.instant_actions:
                        steps = await self._on_instant_actions(message)
                    elif message.topic == self.topics.order:
                        steps = self._on_order(message)
                    elif message.topic == self.topics.packages:
                        self._on_package(message)
                except Exception:
                    self.counters.handler_failures += 1
                    log.exception("fleet message on %s could not be handled", message.topic)
            await self._queue_steps(steps)  # waiting for room is not being stuck

    async def _queue_steps(self, steps: list[Step]) -> None:
        for step in steps:
            await self._steps.put(step)

    def _freshness(self) -> Freshness:
        """The window a command's header timestamp must fall in, as of now."""
        config = self._config
        return Freshness(
            now=self._clock(),
            max_age_s=config.command_expiry_s,
            max_future_s=config.max_clock_skew_s,
        )

    async def _on_instant_actions(self, message: Incoming) -> list[Step]:
        """Handle one instantActions message; returns the steps for the control process."""
        self._message_count += 1
        config = self._config
        if message.is_oversize:
            parsed = oversize_message(
                message.size_bytes, config.max_message_bytes, self._message_count
            )
        else:
            parsed = parse_instant_actions(
                message.payload,
                manufacturer=config.manufacturer,
                serial_number=config.serial_number,
                max_bytes=config.max_message_bytes,
                max_actions=config.max_actions_per_message,
                sequence=self._message_count,
                freshness=self._freshness(),
            )
        estop_error = None
        if parsed.has_emergency_stop and not message.is_urgent:
            # Not seen by the fast lane (e.g. an escaped name): send it now, before anything else.
            try:
                await self._link.estop(EstopOrigin.FLEET)
            # The boundary: a transport failure of the link is not part of the Protocol, and an
            # e-stop that could not be sent must be reported FAILED rather than end the service.
            except Exception as exc:
                estop_error = str(exc) or type(exc).__name__
                log.critical("fleet e-stop could not be sent: %s", estop_error)
        if parsed.has_emergency_stop:
            log.warning("fleet e-stop sent to the control process")
        if message.is_retained:
            self._refuse_retained(parsed)
            return []
        if not parsed.is_message_valid and parsed.is_stale:
            self.counters.stale_refused += 1
        reaction = self.state.receive(parsed, estop_error=estop_error)
        if reaction.is_generation_cancelled:
            for job in self._jobs.values():
                job.cancel()
        for action in reaction.generations:
            self._start_generation(action)
        if reaction.is_factsheet_requested:
            self._is_factsheet_due = True
        for rejected in parsed.rejected:
            log.info("fleet action %s rejected: %s", rejected.action_id, rejected.description)
        self._wake.set()
        return list(reaction.steps)

    def _on_order(self, message: Incoming) -> list[Step]:
        """Handle one order message; returns the steps for the control process."""
        config = self._config
        if message.is_oversize:
            parsed: Order | OrderRejection = OrderRejection(
                OrderErrorType.VALIDATION_FAILURE,
                f"order message of {message.size_bytes} bytes exceeds {config.max_message_bytes}",
            )
        elif message.is_retained:
            self.counters.retained_refused += 1
            parsed = OrderRejection(
                OrderErrorType.VALIDATION_FAILURE,
                "a retained order message was refused: retained commands are never executed",
                "clear the retained message (publish an empty retained payload); never "
                "publish orders with the retain flag",
            )
        else:
            parsed = parse_order(
                message.payload,
                manufacturer=config.manufacturer,
                serial_number=config.serial_number,
                station_node_id=config.station_node_id,
                max_bytes=config.max_message_bytes,
                max_actions=config.max_actions_per_message,
                freshness=self._freshness(),
            )
        self._wake.set()
        if isinstance(parsed, OrderRejection):
            self.counters.stale_refused += parsed.is_stale
            log.info("fleet order %s rejected: %s", parsed.order_id, parsed.description)
            self.state.order_rejected(parsed)
            return []
        reaction = self.state.receive_order(parsed)
        for action in reaction.generations:
            self._start_generation(action)
        return list(reaction.steps)

    def _on_model_change(self) -> None:
        """The model may have changed (the executor's callback): publish, start generations
        an order's next action asks for."""
        self._wake.set()
        for action in self.state.take_generations():
            self._start_generation(action)

    async def _drain_pending(self) -> None:
        """Queue what inputs without a return value left (an order's next action)."""
        reaction = self.state.take_pending()
        for action in reaction.generations:
            self._start_generation(action)
        await self._queue_steps(list(reaction.steps))

    # ------------------------------------------------------------------ generation jobs
    def _start_generation(self, action: InstantAction) -> None:
        """Run a ``generateMotion`` as a job of its own (minutes long; never blocks steps)."""
        action_id = action.action_id
        if self._generation is None:
            self.state.generation_failed(
                action_id, ErrorType.ACTION_REFUSED, "generation is not configured on this robot"
            )
            return
        auto_start = action.parameters.get("autoStart", False)
        try:
            request = GenerationRequest(
                instruction=action.text("instruction") or "",
                view=CameraView(action.text("view") or "front"),
                is_auto_start=auto_start is True,
                job_id=_job_id(action_id),
            )
        except ValueError as exc:
            self.state.generation_failed(action_id, ErrorType.INVALID_PARAMETER, str(exc))
            return
        try:
            job = self._generation.start(
                request, on_progress=lambda p: self._on_generation_progress(action_id, p)
            )
        except (JobBusyError, OSError) as exc:
            self.state.generation_failed(action_id, ErrorType.ACTION_REFUSED, str(exc))
            return
        self._jobs[action_id] = job
        self._spawn(f"fleet-generation-{job.job_id}", self._finish_generation(action_id, job))

    def _on_generation_progress(self, action_id: str, progress: JobProgress) -> None:
        percent = "" if progress.percent is None else f" {progress.percent:.0f}%"
        retry = "" if progress.retry_in_s is None else f", retry in {progress.retry_in_s:.1f} s"
        self.state.generation_progress(
            action_id,
            f"{progress.stage.value} {progress.state.value}{percent} (attempt "
            f"{progress.attempt}, {progress.stage_elapsed_s:.1f} s{retry})",
        )
        self._generation_progress = {
            "actionId": action_id,
            "jobId": progress.job_id,
            "stage": progress.stage.value,
            "state": progress.state.value,
            "attempt": progress.attempt,
            "stageElapsedS": round(progress.stage_elapsed_s, 3),
            "jobElapsedS": round(progress.job_elapsed_s, 3),
            "percent": progress.percent,
            "jobPercent": round(progress.job_percent, 1),
        }
        self._wake.set()

    async def _finish_generation(self, action_id: str, job: GenerationJob) -> None:
        try:
            result = await job.wait()
        finally:
            self._jobs.pop(action_id, None)
        if result.status is JobStatus.SUCCEEDED:
            what = "started" if result.is_started else "loaded" if result.is_loaded else "stored"
            self.state.generation_finished(action_id, f"package {result.package_id} {what}")
        elif result.status is JobStatus.CANCELLED:
            self.state.generation_failed(action_id, ErrorType.ACTION_REFUSED, "cancelled")
        else:
            error = result.error
            reason = f"{error.stage.value}: {error.reason}" if error is not None else "failed"
            self.state.generation_failed(action_id, ErrorType.ACTION_REFUSED, reason)
        self._wake.set()
        await self._drain_pending()

    def _refuse_retained(self, parsed: ParsedInstantActions) -> None:
        """Retained instantActions are replayed by the broker at every connect: never acted
        on (but an e-stop in one is, every time: stopping is safe). Said once per run."""
        self.counters.retained_refused += 1
        if self._has_reported_retained:
            return
        self._has_reported_retained = True
        log.error(
            "a retained instantActions message is on %s: retained commands are never executed%s;"
            " clear it (publish an empty retained message)",
            self.topics.instant_actions,
            " (its emergencyStop is engaged at every connect)" if parsed.has_emergency_stop else "",
        )
        self.state.refuse_retained(parsed)
        self._wake.set()

    def _on_package(self, message: Incoming) -> None:
        size = message.size_bytes
        refusal = None
        if message.is_oversize or size > self._config.max_package_bytes:
            refusal = IngestResult(
                False,
                code="too_large",
                detail=f"{size} bytes exceed the MQTT limit of {self._config.max_package_bytes}; "
                "upload large packages over ZeroMQ",
            )
        elif self._pending_uploads >= self._config.max_pending_uploads:
            refusal = IngestResult(False, code="busy", detail="too many uploads pending; retry")
        if self._uploads.full():
            self.counters.uploads_dropped += 1
            log.warning(
                "motion package upload (%d bytes) dropped unanswered: answers back up", size
            )
            return
        self._uploads.put_nowait(
            _Upload(message.payload, size, message.response_topic, message.correlation, refusal)
        )
        if refusal is None:
            self._pending_uploads += 1

    async def _answer_uploads(self, progress: TaskProgress) -> None:
        while True:
            upload = await self._uploads.get()
            with progress.busy():
                await self._answer_upload(upload)

    async def _answer_upload(self, upload: _Upload) -> None:
        # Hashing megabytes would hold the event loop (and the e-stop path) for milliseconds.
        sha256 = await asyncio.to_thread(_sha256_hex, upload.payload) if upload.payload else ""
        result = upload.refusal
        if result is None:
            try:
                result = await self._library.submit(
                    upload.payload, source=f"mqtt:{self.topics.packages}"
                )
            finally:
                self._pending_uploads -= 1
        log.info(
            "motion package upload (%d bytes, sha256 %s): %s",
            upload.size_bytes,
            sha256[:12],
            result.package_id if result.accepted else f"rejected [{result.code}]",
        )
        answer = package_answer_message(
            self._headers,
            result,
            self._clock(),
            sha256=sha256,
            size_bytes=upload.size_bytes,
            correlation=upload.correlation.hex() if upload.correlation else None,
        )
        await self.adapter.publish(
            Outgoing(
                upload.response_topic or self.topics.package_answers,
                encode(answer),
                qos=1,
                correlation=upload.correlation,
            )
        )

    async def _run_steps(self, progress: TaskProgress) -> None:
        while True:
            step = await self._steps.get()
            with progress.busy():
                await self._runner.run(step)

    # ------------------------------------------------------------------ control process in
    async def _read_events(self, progress: TaskProgress) -> None:
        loop = asyncio.get_running_loop()
        async for event in self._link.events():
            await self._queue_steps(self.state.on_event(event))
            await self._drain_pending()
            # Every supervisor transition gets a state message of its own (with its mode and
            # cause), even when several arrive within ``min_state_interval_s``.
            await self._publish_state_if_due(loop.time())

    async def _poll_status(self, progress: TaskProgress) -> None:
        previous: tuple[object, ...] = ()
        while True:
            status = self._link.status()
            self.state.on_status(status)
            await self._drain_pending()
            key = _status_key(status)
            if key != previous:
                previous = key
                self._wake.set()
            await asyncio.sleep(_STATUS_POLL_S)

    # ------------------------------------------------------------------ robot -> fleet
    async def _on_connect(self) -> None:
        while not await self.adapter.publish(self._connection(ConnectionState.ONLINE)):
            if not self.adapter.is_connected:
                return  # the next connection publishes it
            await asyncio.sleep(0.5)
        self._is_factsheet_due = True
        self._is_state_forced = True
        self._wake.set()

    def _connection(self, state: ConnectionState) -> Outgoing:
        message = connection_message(self._headers, state, self._clock())
        return Outgoing(self.topics.connection, encode(message), qos=1, is_retained=True)

    async def _publish_states(self, progress: TaskProgress) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await wait_event(self._wake, self._seconds_until_due(loop.time()))
            self._wake.clear()
            if self._is_factsheet_due and self.adapter.is_connected:
                self._is_factsheet_due = not await self._publish_factsheet()
            await self._publish_state_if_due(loop.time())
            await asyncio.sleep(self._config.min_state_interval_s)

    def _seconds_until_due(self, now_s: float) -> float:
        due = self._last_state_s + self._config.state_interval_s
        if self._config.info_interval_s > 0:
            due = min(due, self._last_info_s + self._config.info_interval_s)
        return min(max(due - now_s, 0.01), self._config.state_interval_s)

    async def _publish_state_if_due(self, now_s: float) -> None:
        if not self.adapter.is_connected:
            return
        body = self.state.state_body(self._extra_status())
        relevant = relevant_part(body)
        config = self._config
        forced = self.state.take_state_request() or self._is_state_forced
        is_due = (
            forced
            or relevant != self._last_relevant
            or now_s >= self._last_state_s + config.state_interval_s
            or (
                config.info_interval_s > 0
                and now_s >= self._last_info_s + config.info_interval_s
                and body["information"] != self._last_information
            )
        )
        if not is_due:
            return
        message = state_message(self._headers, body, self._clock())
        if await self.adapter.publish(
            Outgoing(self.topics.state, encode(message), qos=0, is_retained=True)
        ):
            self._is_state_forced = False
            self._last_relevant = relevant
            self._last_information = body["information"]
            self._last_state_s = self._last_info_s = now_s
        else:
            self._is_state_forced = self._is_state_forced or forced

    async def _publish_factsheet(self) -> bool:
        message = factsheet_message(
            self._headers, self._config, self._clock(), versions=self._versions
        )
        return await self.adapter.publish(
            Outgoing(self.topics.factsheet, encode(message), qos=0, is_retained=True)
        )

    async def _publish_telemetry(self, progress: TaskProgress) -> None:
        loop = asyncio.get_running_loop()
        period_s = 1.0 / self._config.telemetry_rate_hz
        next_s = loop.time()
        while True:
            next_s += period_s
            if self.adapter.is_connected:
                message = telemetry_message(self._headers, self._link.status(), self._clock())
                message["generation"] = self._generation_progress
                await self.adapter.publish(Outgoing(self.topics.telemetry, encode(message)))
            delay_s = next_s - loop.time()
            if delay_s < 0:  # fell behind (e.g. while reconnecting): do not burst to catch up
                next_s, delay_s = loop.time(), 0.0
            await asyncio.sleep(delay_s)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _default_versions() -> dict[str, str]:
    try:
        own = metadata.version("exoactor-edge")
    except metadata.PackageNotFoundError:
        own = "unknown"
    return {"exoactor-edge": own, "vda5050": PROTOCOL_VERSION}


@dataclass(frozen=True)
class EstopRelayOptions:
    """Where the e-stop relay process reaches the control process, and where it lives."""

    estop_endpoint: str
    """The control process's e-stop socket."""
    run_dir: Path
    fifo_priority: int | None = 50
    """SCHED_FIFO priority of the relay (below the control loop's); None: default scheduling."""


@dataclass(frozen=True)
class GenerationSetup:
    """What the service needs to run ``generateMotion`` jobs."""

    config: GenerationConfig
    camera: FrameSource
    credentials_dir: Path | None = None


class _FleetActivator:
    """Loads a generated package; with autoStart, ramps the robot if allowed, then starts it."""

    def __init__(self, service: FleetService) -> None:
        self._service = service

    async def load(self, package_id: str) -> CommandResult:
        service = self._service
        if service._link.status().mode == "TRACK":
            return CommandResult(False, "a motion is running; stop it first")
        track = await service._library.track(package_id)
        return await service._link.load_track(package_id, track)

    async def start(self, package_id: str) -> CommandResult:
        link, config = self._service._link, self._service._config
        mode = link.status().mode
        if mode in ("PASSIVE", "DAMP"):
            if not config.may_enable:
                return CommandResult(False, f"mode is {mode} and may_enable is off")
            enabled = await link.command(CommandKind.ENABLE)
            if not enabled.accepted:
                return enabled
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _RAMP_WAIT_S
        while link.status().mode != "HOLD":
            if link.status().mode in ("DAMP", "ESTOP") or loop.time() > deadline:
                return CommandResult(False, f"the robot did not reach HOLD ({link.status().mode})")
            await asyncio.sleep(0.05)
        return await link.command(CommandKind.START_TRACK)


_RAMP_WAIT_S = 15.0


def _job_id(action_id: str) -> str:
    """A job (and package) id from a VDA action id: letters, digits, '.', '_', '-' only."""
    return ("gen-" + re.sub(r"[^A-Za-z0-9._-]", "-", action_id))[:100]
