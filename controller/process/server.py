"""Serves the daemon's commands between ticks: the control process's ``TickWaiter``.

Instead of sleeping until the next deadline, the loop waits here on its IPC sockets. An e-stop
is acted on the moment it arrives (damping written, then acknowledged); other commands are
applied between ticks, each answered. After every tick, new supervisor transitions go out at
once and a status snapshot at 10 Hz. Work here happens between ticks, never inside one.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zmq

from controller.estop_latch import EstopOrigin, ResetRequester
from controller.ipc import COMMAND_SOCKET, ESTOP_SOCKET, STATUS_SOCKET, endpoint
from controller.ipc.wire import WireError, decode_track, pack, unpack
from controller.loop import ControlLoop, TrackPhase
from controller.process.stream_commands import StreamCommands
from controller.robot.base import robot_diagnostics
from controller.safety import Cause, Mode
from controller.stream_track import StreamPlaybackConfig, StreamTrack
from controller.timing import summarize
from estimators.track import TrackError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    run_dir: str
    status_period_s: float = 0.1
    spin_s: float = 0.0003
    """Spin (polling without blocking) this long before each deadline for a prompt tick."""
    state_publish_endpoint: str | None = None
    """Where to publish per-tick robot state (msgpack) for visualisers, like SONIC's
    ``g1_debug`` output; None publishes nothing."""
    stream: StreamPlaybackConfig = field(default_factory=StreamPlaybackConfig)
    """The jitter buffer of streamed references."""


class ControlServer:
    """Owns the control process's sockets and applies what arrives to the loop."""

    def __init__(self, loop: ControlLoop, config: ServerConfig) -> None:
        self._loop = loop
        self._config = config
        self._ctx: zmq.Context[Any] = zmq.Context.instance()
        self._estop = self._bind(zmq.PULL, ESTOP_SOCKET)
        self._commands = self._bind(zmq.ROUTER, COMMAND_SOCKET)
        self._status = self._bind(zmq.PUB, STATUS_SOCKET)
        self._poller = zmq.Poller()
        self._poller.register(self._estop, zmq.POLLIN)
        self._poller.register(self._commands, zmq.POLLIN)
        self._published_transitions = 0
        self._next_status_ns = 0
        self._last_estop_written_ns = 0
        self._last_estop_sent_ns = 0
        self._paused_frame = -1
        self._streams = StreamCommands(loop, config.stream)
        self._state_pub = self._bind_state_pub(config.state_publish_endpoint)
        self._err = np.zeros(29)
        self._sq_err_sum = 0.0
        self._sq_err_count = 0
        self.is_stopping = False
        self._pid = os.getpid()
        self._seen_estop_ids: collections.deque[str] = collections.deque(maxlen=64)
        """Ids of e-stop requests acted on (the fleet sends each by two paths)."""

    def _bind(self, kind: int, name: str) -> zmq.Socket[bytes]:
        socket: zmq.Socket[bytes] = self._ctx.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        path = os.path.join(self._config.run_dir, name)
        if os.path.exists(path):
            os.unlink(path)  # a socket file left by a crashed predecessor
        socket.bind(endpoint(self._config.run_dir, name))
        return socket

    def _bind_state_pub(self, endpoint_: str | None) -> zmq.Socket[bytes] | None:
        if endpoint_ is None:
            return None
        socket: zmq.Socket[bytes] = self._ctx.socket(zmq.PUB)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, 50)  # a slow visualiser loses ticks, never slows us
        socket.bind(endpoint_)
        return socket

    def close(self) -> None:
        for socket in (self._estop, self._commands, self._status, self._state_pub):
            if socket is not None:
                socket.close(linger=0)

    # ---------------------------------------------------------------- TickWaiter
    def wait_until(self, deadline_ns: int) -> None:
        self._after_tick()
        clock = self._loop.clock
        spin_ns = int(self._config.spin_s * 1e9)
        while True:
            remaining = deadline_ns - clock.now_ns()
            if remaining <= 0:
                return
            sleep_ms = (remaining - spin_ns) // 1_000_000
            events = dict(self._poller.poll(sleep_ms if sleep_ms > 0 else 0))
            if events:
                self._serve(events)

    # ---------------------------------------------------------------- serving
    def _serve(self, events: dict[Any, int]) -> None:
        if self._estop in events:
            self._drain_estops()
        if self._commands in events:
            while True:
                try:
                    frames = self._commands.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    return
                self._handle_command(frames)
                if self._estop.poll(0):  # an e-stop overtakes whatever is still queued
                    self._drain_estops()

    def _drain_estops(self) -> None:
        """Any message on the e-stop socket engages the e-stop, whatever its content."""
        received = []
        while True:
            try:
                received.append(self._estop.recv(zmq.NOBLOCK))
            except zmq.Again:
                break
        if not received:
            return
        origin = None
        for data in received:
            try:
                message = unpack(data)
                sent_ns = int(message.get("sent_ns", 0))
                this_origin = _origin(message.get("source"))
                message_id = message.get("id")
            except (WireError, TypeError, ValueError, AttributeError):
                sent_ns = time.monotonic_ns()  # unreadable: as if sent now (safest)
                this_origin, message_id = EstopOrigin.UNKNOWN, None
            if isinstance(message_id, str) and message_id:
                if message_id in self._seen_estop_ids:
                    continue  # the same request by another path: it engaged once already
                self._seen_estop_ids.append(message_id)
            origin = origin or this_origin  # the first one decides who may clear it
            self._last_estop_sent_ns = max(self._last_estop_sent_ns, sent_ns)
        if origin is None:
            return  # only copies of requests already acted on
        if self._loop.supervisor.mode is not Mode.ESTOP:
            self._last_estop_written_ns = self._loop.estop_now(
                Cause.ESTOP_COMMAND, origin or EstopOrigin.UNKNOWN
            )
        self._publish_transitions()
        self._publish_status()

    def _handle_command(self, frames: list[bytes]) -> None:
        if len(frames) != 2:
            return
        identity, payload = frames
        try:
            message = unpack(payload)
        except WireError as exc:
            self._reply(identity, None, False, str(exc))
            return
        kind = message["kind"]
        if kind == "heartbeat":
            self._loop.supervisor.note_heartbeat(self._loop.clock.now_ns())
            return
        code = ""
        if kind in ("stream_frames", "stream_close", "stream_fault"):
            accepted, reason, code = self._streams.apply(kind, message)
        else:
            accepted, reason = self._apply(kind, message)
        data = self._timing_summary(message) if kind == "timing_summary" else None
        self._reply(identity, message.get("id"), accepted, reason, data, code)
        self._publish_transitions()
        self._publish_status()

    def _apply(self, kind: str, message: dict[str, Any]) -> tuple[bool, str]:
        loop, sup = self._loop, self._loop.supervisor
        now = loop.clock.now_ns()
        mode = sup.mode.name
        if kind == "enable":
            if not sup.latch.is_durable:
                return False, f"the e-stop latch is not durable ({sup.latch.write_error})"
            return sup.request_enable(now), f"mode is {mode}; enable needs PASSIVE or DAMP"
        if kind == "damp":
            return sup.request_damp(now), f"mode is {mode}"
        if kind == "reset_estop":
            if int(message.get("sent_ns", 0)) < self._last_estop_sent_ns:
                # The reset was queued before an e-stop that overtook it: it must not clear it.
                return False, "an e-stop was sent after this reset; reset again"
            refusal = sup.reset_estop(now, _requester(message.get("requester")))
            return not refusal, refusal
        if kind == "load_track":
            if sup.mode is Mode.TRACK:
                return False, "a motion is running; stop it first"
            try:
                track = decode_track(message.get("track"))
            except (WireError, TrackError) as exc:
                return False, f"track rejected: {exc}"
            loop.load_track(track)
            self._paused_frame = -1
            return True, ""
        if kind == "start_track":
            if loop.package is None:
                return False, "no motion loaded"
            start = int(message.get("start_frame", 0))
            ok = loop.start_track(start)
            self._paused_frame = -1 if ok else self._paused_frame
            return ok, f"mode is {mode}; a motion starts only from HOLD"
        if kind == "stop_track":
            self._paused_frame = -1
            if self._has_played_every_frame():
                sup.track_complete()
                return True, ""
            return sup.request_stop_track(now), f"mode is {mode}; no motion running"
        if kind == "pause":
            if self._streams.is_active:
                return False, "a stream cannot be paused; stop it (stopMotion) instead"
            if self._has_played_every_frame():
                # Nothing is left to resume: the track is complete, exactly as if the tick
                # that ends it had come first. The pause itself is accepted (the daemon then
                # reports the robot paused with no motion).
                self._paused_frame = -1
                sup.track_complete()
                return True, ""
            frame = loop.next_frame
            ok = sup.request_stop_track(now)
            if ok:
                self._paused_frame = frame
            return ok, f"mode is {mode}; no motion running"
        if kind == "resume":
            if self._paused_frame < 0:
                return False, "nothing is paused"
            ok = loop.start_track(self._paused_frame)
            if ok:
                self._paused_frame = -1
            return ok, f"mode is {mode}; cannot resume"
        if kind == "timing_summary":
            return True, ""  # the figures ride on the answer (see _reply_data)
        if kind == "shutdown":
            self.is_stopping = True
            loop.stop()
            return True, ""
        return False, f"unknown command {kind!r}"

    def _has_played_every_frame(self) -> bool:
        """TRACK with every frame of a (non-streamed) track played; the next tick would end it.

        A pause or stop that lands between the last frame's tick and that next tick must end
        the track as complete: pausing there would leave nothing to resume (a pause that
        could never be resumed), and stopping there would report a motion that played to its
        end as cancelled. So the outcome does not depend on which of the two came first.
        """
        loop = self._loop
        track = loop.track
        return (
            loop.supervisor.mode is Mode.TRACK
            and track is not None
            and not isinstance(track, StreamTrack)  # a stream grows while it plays
            and loop.next_frame >= track.n_frames
        )

    def _reply(
        self,
        identity: bytes,
        command_id: Any,
        accepted: bool,
        reason: str,
        data: dict[str, Any] | None = None,
        code: str = "",
    ) -> None:
        answer = {"kind": "ack", "id": command_id, "accepted": accepted,
                  "reason": "" if accepted else reason, "data": data,
                  "code": "" if accepted else code}  # fmt: skip
        self._commands.send_multipart([identity, pack(answer)], zmq.NOBLOCK)

    def _timing_summary(self, message: dict[str, Any]) -> dict[str, Any]:
        """Loop timing over the last ``ticks`` ticks (for benchmarks and diagnostics)."""
        loop = self._loop
        window = max(
            1, min(int(message.get("ticks", 500)), loop.timing.count, loop.timing.capacity)
        )
        return summarize(loop.timing.last(window), loop.config.period_ns).as_dict()

    # ---------------------------------------------------------------- publishing
    def _after_tick(self) -> None:
        loop = self._loop
        if (
            loop.supervisor.mode is Mode.TRACK
            and loop.track is not None
            and (loop.phase is TrackPhase.PLAY)
        ):
            np.subtract(loop.state.q, loop.track.q_hw[loop.frame], out=self._err)
            self._sq_err_sum += float(np.dot(self._err, self._err))
            self._sq_err_count += 1
        if self._state_pub is not None:
            self._publish_robot_state(self._state_pub)
        if loop.supervisor.log.count != self._published_transitions:
            self._publish_transitions()
        if time.monotonic_ns() >= self._next_status_ns:
            self._publish_status()

    def _publish_robot_state(self, socket: zmq.Socket[bytes]) -> None:
        """One msgpack map per tick: arrays as raw little-endian float64 bytes."""
        loop = self._loop
        state, command = loop.state, loop.command
        message = {
            "kind": "robot_state",
            "tick": loop.ticks,
            "stamp_ns": state.stamp_ns,
            "mode": loop.supervisor.mode.name,
            "frame": loop.frame if loop.supervisor.mode is Mode.TRACK else -1,
            "t_ns": loop.clock.now_ns(),
            "stream_frame": self._streams.stream.producer_frame
            if self._streams.is_active
            else -1.0,
            "q": state.q.tobytes(),
            "dq": state.dq.tobytes(),
            "imu_quat_wxyz": state.imu_quat_wxyz.tobytes(),
            "hand_q": state.hand_q.tobytes(),
            "q_target": command.q.tobytes(),
            "hand_q_target": command.hand_q.tobytes(),
        }
        socket.send(pack(message), zmq.NOBLOCK)

    def _publish_transitions(self) -> None:
        log_ = self._loop.supervisor.log
        for transition in log_.since(self._published_transitions):
            event = {"kind": "event", "pid": self._pid, "tick": transition.tick,
                     "mode": transition.mode.name, "cause": transition.cause.name,
                     "detail": transition.detail,
                     "estop_written_ns": self._last_estop_written_ns}  # fmt: skip
            self._status.send(pack(event), zmq.NOBLOCK)
        self._published_transitions = log_.count

    def _publish_status(self) -> None:
        loop, sup = self._loop, self._loop.supervisor
        self._next_status_ns = time.monotonic_ns() + int(self._config.status_period_s * 1e9)
        window = min(loop.timing.count, 50)
        timing: dict[str, float | int] = {}
        if window:
            rows = loop.timing.last(window)
            s = summarize(rows, loop.config.period_ns)
            timing = {"lateness_p50_ms": s.lateness_p50_ms, "lateness_p99_ms": s.lateness_p99_ms,
                      "lateness_max_ms": s.lateness_max_ms, "compute_p99_ms": s.work_p99_ms,
                      "misses": s.misses, "ticks": s.ticks}  # fmt: skip
        rms = (self._sq_err_sum / (29 * self._sq_err_count)) ** 0.5 if self._sq_err_count else 0.0
        self._sq_err_sum, self._sq_err_count = 0.0, 0
        last = sup.log.since(sup.log.count - 1)
        track = loop.package
        frame = loop.frame if sup.mode is Mode.TRACK else -1
        if self._streams.is_active:  # a stream has no length; its frame is the producer's
            track, frame = None, int(self._streams.stream.producer_frame)
        status = {
            "kind": "status",
            "pid": self._pid,
            "mode": sup.mode.name,
            "last_cause": last[-1].cause.name if last else "STARTUP",
            "is_estopped": sup.mode is Mode.ESTOP,
            "loaded_package": _shown_package(loop),
            "track_frame": frame,
            "track_frames": track.n_frames if track is not None else 0,
            "track_phase": loop.phase.name if sup.mode is Mode.TRACK else "IDLE",
            "is_paused": self._paused_frame >= 0,
            "ticks": loop.ticks,
            "state_age_ms": (loop.clock.now_ns() - loop.state.stamp_ns) * 1e-6
            if loop.state.stamp_ns
            else float("inf"),
            "timing": timing,
            "tracking_rms_rad": rms,
            "estop_written_ns": self._last_estop_written_ns,
            "estop_origin": origin.value if (origin := sup.estop_origin) is not None else "",
            "is_latch_durable": sup.latch.is_durable,
            "latch_error": sup.latch.write_error,
            "robot": robot_diagnostics(loop.backend),
            "stream": self._streams.status(),
        }
        self._status.send(pack(status), zmq.NOBLOCK)


def _shown_package(loop: ControlLoop) -> str | None:
    """What plays in TRACK, else the loaded package (a stream that ended is not "loaded")."""
    track = loop.track if loop.supervisor.mode is Mode.TRACK else loop.package
    return track.package_id if track is not None else None


def _origin(source: object) -> EstopOrigin:
    """The origin an e-stop message names; anything unknown is UNKNOWN (robot-side reset)."""
    try:
        return EstopOrigin(source)
    except ValueError:
        return EstopOrigin.UNKNOWN


def _requester(value: object) -> ResetRequester:
    """Who asks for a reset; anything but an explicit robot-side request counts as the fleet."""
    return ResetRequester.ROBOT if value == ResetRequester.ROBOT.value else ResetRequester.FLEET
