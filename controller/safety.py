"""The safety supervisor: decides the mode every tick and owns the final motor command.

Controllers *propose* targets; the supervisor checks the robot state, applies operator requests,
steps the mode machine and writes the command that reaches the motors:

    PASSIVE --enable--> RAMP --(ramp done)--> HOLD --start track--> TRACK --(done/stop)--> HOLD
    any powered mode --fault--> DAMP            any mode --e-stop--> ESTOP (latched, persisted)
    soft fault (policy over budget, reference stale, heartbeat lost) --> HOLD --fault_hold_s--> DAMP
    (a returning heartbeat cancels its countdown; the others always end in DAMP)
    DAMP --enable--> RAMP                       ESTOP --reset--> DAMP
    (a restarted control process starts in DAMP, never limp; a latched e-stop in ESTOP)

Damping (kp = 0, kd > 0) is *held*: the DAMP/ESTOP command is re-sent every tick, never once.
The joint-speed check uses |dq|, so large negative velocities trip it too (SONIC's deploy checks
the signed value). Every transition is recorded with its cause in a preallocated ring.

The e-stop fails closed: it is engaged in memory and damping is written before the latch is
persisted; a latch write that fails keeps ESTOP, is retried after every tick, and blocks reset
and enable until the latch is durable. Who engaged it (``EstopOrigin``) decides who may reset
it: the robot side always, the fleet only its own e-stops unless configured otherwise.

The per-tick methods (``check``, ``fill_command``) allocate nothing and do no I/O; the only I/O,
persisting the e-stop latch, happens in ``after_write`` once the damping command is out.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np

from controller.dynamics import GravityModel
from controller.embodiment import dex3, g1
from controller.estop_latch import EstopLatch, EstopOrigin, ResetRequester, may_reset
from controller.remote import RemoteKey
from controller.robot.base import F64, RobotCommand, RobotState


class Mode(enum.IntEnum):
    PASSIVE = 0
    """Motors enabled with zero stiffness: the robot is limp (start-up, before an operator acts)."""
    RAMP = 1
    """Moving from the measured pose to the default pose over ``ramp_time_s``."""
    HOLD = 2
    """Holding a fixed pose with the policy gains."""
    TRACK = 3
    """Following a reference through a tracking controller."""
    DAMP = 4
    """Zero stiffness, damping only; after a fault. Leaves only by an explicit enable."""
    ESTOP = 5
    """Like DAMP, latched and persisted; leaves only by an explicit reset."""


class Cause(enum.IntEnum):
    """Why a transition happened. Stable numbers: they travel in telemetry and reports."""

    STARTUP = 0
    ENABLE_REQUESTED = 1
    RAMP_COMPLETE = 2
    TRACK_REQUESTED = 3
    TRACK_COMPLETE = 4
    TRACK_STOPPED = 5
    DAMP_REQUESTED = 6
    ESTOP_COMMAND = 7
    ESTOP_REMOTE = 8
    ESTOP_LATCHED = 9
    ESTOP_RESET = 10
    STATE_STALE = 11
    IMU_MISSING = 12
    NON_FINITE_STATE = 13
    TILT = 14
    JOINT_VELOCITY = 15
    OVER_TEMPERATURE = 16
    NON_FINITE_COMMAND = 17
    POLICY_OVER_BUDGET = 18
    REFERENCE_STALE = 19
    HEARTBEAT_LOST = 20
    FAULT_HOLD_TIMEOUT = 21
    NON_FINITE_OBSERVATION = 22
    INFERENCE_FAILED = 23
    RESTARTED = 24
    """The control process was restarted (its predecessor died): it starts damped."""
    STREAM_PROTOCOL_CHANGED = 25
    """The streaming producer changed its protocol version within a stream (SONIC stops
    streaming then): hold, then damp after ``fault_hold_s``."""


POWERED_MODES = frozenset({Mode.RAMP, Mode.HOLD, Mode.TRACK})
SAFE_MODES = frozenset({Mode.DAMP, Mode.ESTOP})


@dataclass(frozen=True)
class SupervisorConfig:
    """Limits and timings of the supervisor. Validated on construction (not with asserts)."""

    ramp_time_s: float = 3.0
    max_state_age_s: float = 0.1
    """State older than this is stale (LowState arrives at ~500 Hz on the robot)."""
    max_tilt_rad: float = 1.0
    """Pelvis tilt from upright beyond which the robot is falling (Unitree uses 1.0 rad)."""
    max_joint_speed_rad_s: float = 15.0
    """Trip on |dq| above this for any body joint (Unitree's own check uses 10 rad/s)."""
    max_casing_temp_c: float = 85.0
    max_winding_temp_c: float = 120.0
    damping_kd: float = 8.0
    """kd of the DAMP/ESTOP command (Unitree's and SONIC's damping value)."""
    hand_damping_kd: float = 0.1
    passive_kd: float = 0.0
    soft_limit_factor: float = 0.95
    """Targets are clamped to this fraction of each joint's range, around its centre."""
    max_target_step_rad: float = 0.25
    """Largest change of a body target between two ticks (12.5 rad/s at 50 Hz)."""
    max_hand_step_rad: float = 0.25
    """Largest change of a Dex3 target between two ticks (SONIC's MAX_DELTA_Q)."""
    fault_hold_s: float = 2.0
    """How long HOLD is kept after a soft fault before damping."""
    compute_budget_s: float = 0.012
    over_budget_ticks: int = 5
    """Consecutive ticks over the compute budget that count as a soft fault."""
    heartbeat_timeout_s: float | None = None
    """Daemon heartbeat timeout; None when no daemon supervises the loop (demo, tests)."""
    reference_timeout_s: float = 0.2
    """Streamed references older than this are stale (applies only while streaming)."""
    estop_keys: int = int(RemoteKey.SELECT)
    """Remote keys that, all held together, trigger the e-stop."""
    fleet_may_reset_robot_side_estop: bool = False
    """Whether a fleet reset may clear an e-stop engaged at the robot (remote key, local
    command line, unreadable latch). Off: only the robot side may (VDA 5050 ``MANUAL``)."""

    def __post_init__(self) -> None:
        positive = {
            "ramp_time_s": self.ramp_time_s,
            "max_state_age_s": self.max_state_age_s,
            "max_tilt_rad": self.max_tilt_rad,
            "max_joint_speed_rad_s": self.max_joint_speed_rad_s,
            "damping_kd": self.damping_kd,
            "max_target_step_rad": self.max_target_step_rad,
            "max_hand_step_rad": self.max_hand_step_rad,
            "fault_hold_s": self.fault_hold_s,
            "compute_budget_s": self.compute_budget_s,
            "reference_timeout_s": self.reference_timeout_s,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"supervisor.{name} must be a positive number, got {value}")
        if not 0.5 <= self.soft_limit_factor <= 1.0:
            raise ValueError(
                "supervisor.soft_limit_factor must be within 0.5..1.0, "
                f"got {self.soft_limit_factor}"
            )
        if self.over_budget_ticks < 1:
            raise ValueError(
                f"supervisor.over_budget_ticks must be >= 1, got {self.over_budget_ticks}"
            )
        if self.heartbeat_timeout_s is not None and not self.heartbeat_timeout_s > 0:
            raise ValueError("supervisor.heartbeat_timeout_s must be positive or unset")
        if self.estop_keys == 0:
            raise ValueError("supervisor.estop_keys must name at least one key")


@dataclass(frozen=True)
class SupervisorStart:
    """How a control process starts: its daemon knows what its predecessor left behind."""

    is_restart: bool = False
    """The previous control process died: start damped (kd > 0), never limp (PASSIVE)."""
    carried_estop: EstopOrigin | None = None
    """An e-stop the predecessor had engaged but could not persist (full or read-only disk):
    start in ESTOP with this origin and keep trying to persist it."""


@dataclass(frozen=True)
class Transition:
    """One recorded mode change."""

    tick: int
    t_ns: int
    mode: Mode
    cause: Cause
    detail: int
    """Cause-specific: the joint index for JOINT_VELOCITY / OVER_TEMPERATURE, else -1."""


class TransitionLog:
    """Preallocated ring of transitions (tick, time, mode, cause, detail)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._ticks = np.zeros(capacity, dtype=np.int64)
        self._times = np.zeros(capacity, dtype=np.int64)
        self._codes = np.zeros((capacity, 3), dtype=np.int32)
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def record(self, tick: int, t_ns: int, mode: Mode, cause: Cause, detail: int) -> None:
        i = self._count % self._ticks.shape[0]
        self._ticks[i] = tick
        self._times[i] = t_ns
        self._codes[i, 0] = mode
        self._codes[i, 1] = cause
        self._codes[i, 2] = detail
        self._count += 1

    def since(self, start: int = 0) -> list[Transition]:
        """Transitions with sequence number >= ``start`` still in the ring (not for the tick)."""
        cap = self._ticks.shape[0]
        first = max(start, self._count - cap, 0)
        out = []
        for seq in range(first, self._count):
            i = seq % cap
            out.append(
                Transition(
                    tick=int(self._ticks[i]),
                    t_ns=int(self._times[i]),
                    mode=Mode(int(self._codes[i, 0])),
                    cause=Cause(int(self._codes[i, 1])),
                    detail=int(self._codes[i, 2]),
                )
            )
        return out


class Supervisor:
    """Mode machine, safety checks and final command shaping for the 29 body + 14 hand motors."""

    def __init__(
        self,
        config: SupervisorConfig,
        latch: EstopLatch,
        gravity: GravityModel | None = None,
        start: SupervisorStart | None = None,
    ) -> None:
        """Start in ESTOP (latched, or carried over by ``start``), else DAMP after a restart,
        else PASSIVE."""
        start = start or SupervisorStart()
        self.config = config
        self._latch = latch
        self._gravity = gravity
        self.log = TransitionLog()
        self._mode = Mode.PASSIVE
        self._tick = 0
        self._now_ns = 0
        self._ramp_start_ns = 0
        self._fault_deadline_ns = 0
        self._fault_cause = Cause.STARTUP
        self._over_budget_count = 0
        self._last_heartbeat_ns = 0
        self._last_reference_ns = 0
        self._is_streaming = False
        self._pending_latch: Cause | None = None
        self._estop_origin = EstopOrigin.UNKNOWN
        self._is_ramp_origin_pending = False
        self._has_prev_target = False
        center = 0.5 * (g1.Q_MIN + g1.Q_MAX)
        half = 0.5 * (g1.Q_MAX - g1.Q_MIN) * config.soft_limit_factor
        self._q_lo: F64 = center - half
        self._q_hi: F64 = center + half
        self._ramp_from = np.zeros(g1.NUM_BODY_JOINTS)
        self._hold_q = g1.Q_DEFAULT.copy()
        self._hold_hand_q = np.zeros((2, dex3.NUM_HAND_JOINTS))
        self._prev_q = g1.Q_DEFAULT.copy()
        self._prev_hand_q = np.zeros((2, dex3.NUM_HAND_JOINTS))
        self._buf_a = np.zeros(g1.NUM_BODY_JOINTS)
        self._buf_b = np.zeros(g1.NUM_BODY_JOINTS)
        self._hand_a = np.zeros((2, dex3.NUM_HAND_JOINTS))
        self._hand_b = np.zeros((2, dex3.NUM_HAND_JOINTS))
        self._cos_max_tilt = math.cos(config.max_tilt_rad)
        state = latch.load()
        if state.engaged and state.origin is EstopOrigin.UNKNOWN and start.carried_estop:
            # An unreadable or interrupted latch, and the daemon remembers whose e-stop it was
            # (its write failed): keep the e-stop, with the origin that is known.
            self._estop_origin = start.carried_estop
            self._transition(Mode.ESTOP, Cause.ESTOP_LATCHED)
            self._pending_latch = Cause.ESTOP_LATCHED
        elif state.engaged:
            self._estop_origin = state.origin
            self._transition(Mode.ESTOP, Cause.ESTOP_LATCHED)
        elif start.carried_estop is not None:
            self._estop_origin = start.carried_estop
            self._transition(Mode.ESTOP, Cause.ESTOP_LATCHED)
            self._pending_latch = Cause.ESTOP_LATCHED  # persisted by the first after_write
        elif start.is_restart:
            self._transition(Mode.DAMP, Cause.RESTARTED)
        else:
            self.log.record(0, 0, Mode.PASSIVE, Cause.STARTUP, -1)

    # ----------------------------------------------------------------- queries
    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def tick(self) -> int:
        return self._tick

    @property
    def estop_engaged(self) -> bool:
        return self._mode is Mode.ESTOP

    @property
    def estop_origin(self) -> EstopOrigin | None:
        """Who engaged the current e-stop (None when not in ESTOP)."""
        return self._estop_origin if self._mode is Mode.ESTOP else None

    @property
    def latch(self) -> EstopLatch:
        return self._latch

    # --------------------------------------------- requests (between ticks, same thread)
    def engage_estop(
        self,
        now_ns: int,
        cause: Cause = Cause.ESTOP_COMMAND,
        origin: EstopOrigin = EstopOrigin.UNKNOWN,
    ) -> None:
        """Enter ESTOP now; the caller writes ``fill_command``'s damping at once, then
        calls ``after_write`` to persist the latch. An e-stop already engaged keeps its
        origin (the first one decides who may clear it)."""
        self._now_ns = max(self._now_ns, now_ns)
        if self._mode is not Mode.ESTOP:
            self._estop_origin = origin
            self._transition(Mode.ESTOP, cause)

    def reset_estop(self, now_ns: int, requester: ResetRequester = ResetRequester.FLEET) -> str:
        """Clear a latched e-stop; the robot goes to DAMP (never straight back to motion).

        Returns "" when cleared, else why not: no e-stop, a requester that may not clear this
        origin, or a latch that is not durable (the e-stop must be on disk before it may be
        cleared, and the release must be on disk before the robot leaves ESTOP).
        """
        if self._mode is not Mode.ESTOP:
            return "no e-stop is engaged"
        origin = self._estop_origin
        if not may_reset(origin, requester, fleet_may_reset_robot_side=(
                self.config.fleet_may_reset_robot_side_estop)):  # fmt: skip
            return (f"the e-stop was engaged at the robot ({origin.value}); "
                    "reset it at the robot (exoactor-edge reset)")  # fmt: skip
        if self._pending_latch is not None:
            self.after_write()  # engaged between ticks and not persisted yet: persist it now
        if not self._latch.is_durable:
            return (f"the e-stop latch is not durable yet ({self._latch.write_error or 'pending'});"
                    " fix the state directory, the e-stop stays engaged until then")  # fmt: skip
        if not self._latch.release():
            return (f"cannot write the released latch ({self._latch.write_error}); "
                    "the e-stop stays engaged")  # fmt: skip
        self._now_ns = max(self._now_ns, now_ns)
        self._transition(Mode.DAMP, Cause.ESTOP_RESET)
        return ""

    def request_enable(self, now_ns: int) -> bool:
        """PASSIVE or DAMP -> RAMP towards the default pose (refused while the latch is not
        durable: a restart would otherwise lose an e-stop)."""
        if self._mode not in (Mode.PASSIVE, Mode.DAMP) or not self._latch.is_durable:
            return False
        self._now_ns = max(self._now_ns, now_ns)
        self._start_ramp()
        return True

    def request_track(self, now_ns: int, *, is_streaming: bool = False) -> bool:
        """HOLD -> TRACK. Refused in any other mode (the robot must be ramped and holding)."""
        if self._mode is not Mode.HOLD or self._fault_deadline_ns:
            return False
        self._now_ns = max(self._now_ns, now_ns)
        self._is_streaming = is_streaming
        self._last_reference_ns = now_ns
        self._over_budget_count = 0
        self._transition(Mode.TRACK, Cause.TRACK_REQUESTED)
        return True

    def request_stop_track(self, now_ns: int) -> bool:
        """TRACK -> HOLD at the current target."""
        if self._mode is not Mode.TRACK:
            return False
        self._now_ns = max(self._now_ns, now_ns)
        self._enter_hold(Cause.TRACK_STOPPED)
        return True

    def stream_fault(self, now_ns: int, cause: Cause) -> bool:
        """A fault in the stream being tracked, found outside the tick (by the daemon): HOLD
        now and DAMP after ``fault_hold_s``, like a stale reference. False when no stream is
        being tracked."""
        if self._mode is not Mode.TRACK or not self._is_streaming:
            return False
        self._now_ns = max(self._now_ns, now_ns)
        self._enter_hold(cause)
        self._fault_cause = cause
        self._fault_deadline_ns = self._now_ns + int(self.config.fault_hold_s * 1e9)
        return True

    def stream_ending(self) -> None:
        """A stream is being ended on purpose (blending out): no more frames are expected, so
        their absence is no longer a fault."""
        self._is_streaming = False

    @property
    def is_streaming(self) -> bool:
        """True while TRACK follows a live stream (not one blending out)."""
        return self._mode is Mode.TRACK and self._is_streaming

    def track_complete(self) -> None:
        """The tracking controller reached the end of its reference: hold the last target."""
        if self._mode is Mode.TRACK:
            self._enter_hold(Cause.TRACK_COMPLETE)

    def request_damp(self, now_ns: int) -> bool:
        if self._mode in SAFE_MODES:
            return False
        self._now_ns = max(self._now_ns, now_ns)
        self._transition(Mode.DAMP, Cause.DAMP_REQUESTED)
        return True

    def controller_fault(self, cause: Cause) -> None:
        """The tracking controller could not produce a usable proposal this tick: DAMP now."""
        if self._mode is Mode.TRACK:
            self._transition(Mode.DAMP, cause)

    def note_heartbeat(self, now_ns: int) -> None:
        self._last_heartbeat_ns = now_ns

    def note_reference(self, now_ns: int) -> None:
        """A streamed reference frame arrived."""
        self._last_reference_ns = now_ns

    def note_compute(self, duration_ns: int) -> None:
        """Duration of the controller's step this tick (policy inference included)."""
        if duration_ns > self.config.compute_budget_s * 1e9:
            self._over_budget_count += 1
        else:
            self._over_budget_count = 0

    # ------------------------------------------------------------ the tick
    def check(self, state: RobotState, now_ns: int) -> Mode:
        """Safety checks and mode step for this tick (ARCHITECTURE tick steps 2-3)."""
        self._tick += 1
        self._now_ns = now_ns
        cfg = self.config
        mode = self._mode
        if (
            mode is not Mode.ESTOP
            and cfg.estop_keys
            and (state.remote_keys & cfg.estop_keys) == cfg.estop_keys
        ):
            self._estop_origin = EstopOrigin.REMOTE_KEY
            self._transition(Mode.ESTOP, Cause.ESTOP_REMOTE)
            return self._mode
        if mode in POWERED_MODES:
            cause, detail = self._hard_fault(state, now_ns)
            if cause is not None:
                self._transition(Mode.DAMP, cause, detail)
                return self._mode
            self._soft_faults(now_ns)
            if self._fault_deadline_ns and now_ns >= self._fault_deadline_ns:
                self._transition(Mode.DAMP, Cause.FAULT_HOLD_TIMEOUT, int(self._fault_cause))
                return self._mode
        if self._mode is Mode.RAMP and self._is_ramp_origin_pending:
            self._is_ramp_origin_pending = False
            self._ramp_start_ns = now_ns
            np.copyto(self._ramp_from, state.q)
        if self._mode is Mode.RAMP and now_ns - self._ramp_start_ns >= cfg.ramp_time_s * 1e9:
            np.copyto(self._hold_q, g1.Q_DEFAULT)
            self._hold_hand_q.fill(0.0)
            self._transition(Mode.HOLD, Cause.RAMP_COMPLETE)
        return self._mode

    def fill_command(self, state: RobotState, proposal: RobotCommand, out: RobotCommand) -> None:
        """Write the final command for the current mode (ARCHITECTURE tick step 6).

        ``proposal`` is read only in TRACK (body from the controller, hands from the hand track).
        A non-finite proposal turns into DAMP here, in the same tick.
        """
        mode = self._mode
        if mode is Mode.TRACK and not (_all_finite(proposal.q) and _all_finite(proposal.kp)
                                       and _all_finite(proposal.kd) and _all_finite(proposal.dq)
                                       and _all_finite(proposal.tau)
                                       and _all_finite(proposal.hand_q)):  # fmt: skip
            self._transition(Mode.DAMP, Cause.NON_FINITE_COMMAND)
            mode = self._mode
        if mode in SAFE_MODES:
            self._fill_damping(state, out)
            self._has_prev_target = False
            return
        if mode is Mode.PASSIVE:
            np.copyto(out.q, state.q)
            out.dq.fill(0.0)
            out.kp.fill(0.0)
            out.kd.fill(self.config.passive_kd)
            out.tau.fill(0.0)
            np.copyto(out.hand_q, state.hand_q)
            out.hand_dq.fill(0.0)
            out.hand_kp.fill(0.0)
            out.hand_kd.fill(0.0)
            out.hand_tau.fill(0.0)
            self._has_prev_target = False
            return
        if mode is Mode.RAMP:
            alpha = min(1.0, (self._now_ns - self._ramp_start_ns) / (self.config.ramp_time_s * 1e9))
            np.subtract(g1.Q_DEFAULT, self._ramp_from, out=self._buf_a)
            np.multiply(self._buf_a, alpha, out=self._buf_a)
            np.add(self._ramp_from, self._buf_a, out=out.q)
            self._hand_a.fill(0.0)  # hands open during the ramp
            self._set_gains(out, self._hand_a)
            out.dq.fill(0.0)
            out.tau.fill(0.0)
        elif mode is Mode.HOLD:
            np.copyto(out.q, self._hold_q)
            self._set_gains(out, self._hold_hand_q)
            out.dq.fill(0.0)
            out.tau.fill(0.0)
        else:  # TRACK
            np.copyto(out.q, proposal.q)
            np.copyto(out.dq, proposal.dq)
            np.clip(proposal.kp, 0.0, None, out=out.kp)
            np.clip(proposal.kd, 0.0, None, out=out.kd)
            np.copyto(out.tau, proposal.tau)
            np.copyto(out.hand_q, proposal.hand_q)
            out.hand_dq.fill(0.0)
            out.hand_kp.fill(dex3.HAND_KP)
            out.hand_kd.fill(dex3.HAND_KD)
            out.hand_tau.fill(0.0)
        self._clamp_targets(out)
        if mode is not Mode.TRACK and self._gravity is not None:
            # The supervisor's own poses (ramp, hold) get gravity compensation at the measured
            # pose (see controller.dynamics); in TRACK the controller decides its torques.
            self._gravity.torque(state.q, state.imu_quat_wxyz, out.tau)

    def after_write(self) -> None:
        """Persist an e-stop latched this tick, once its damping command is out, and retry a
        latch write that failed (the only I/O; nothing to do in the common case)."""
        if self._pending_latch is not None:
            cause = self._pending_latch
            self._pending_latch = None
            self._latch.engage(cause.name, self._estop_origin)
        elif not self._latch.is_durable:
            self._latch.flush()

    # ------------------------------------------------------------ internals
    def _hard_fault(self, state: RobotState, now_ns: int) -> tuple[Cause | None, int]:
        cfg = self.config
        if state.stamp_ns <= 0 or now_ns - state.stamp_ns > cfg.max_state_age_s * 1e9:
            return Cause.STATE_STALE, -1
        if not (_all_finite(state.q) and _all_finite(state.dq)):
            return Cause.NON_FINITE_STATE, -1
        quat = state.imu_quat_wxyz
        if not state.has_imu or not _all_finite(quat) or abs(float(np.dot(quat, quat)) - 1.0) > 0.1:
            return Cause.IMU_MISSING, -1
        x, y = float(quat[1]), float(quat[2])
        # cos(tilt) is the z component of the body's up axis in the world: 1 - 2 (x² + y²).
        if 1.0 - 2.0 * (x * x + y * y) < self._cos_max_tilt:
            return Cause.TILT, -1
        np.abs(state.dq, out=self._buf_b)
        worst = int(np.argmax(self._buf_b))
        if self._buf_b[worst] > cfg.max_joint_speed_rad_s:
            return Cause.JOINT_VELOCITY, worst
        casing = state.motor_temp_c[:, 0]
        winding = state.motor_temp_c[:, 1]
        hot = int(np.argmax(casing))
        if casing[hot] > cfg.max_casing_temp_c:
            return Cause.OVER_TEMPERATURE, hot
        hot = int(np.argmax(winding))
        if winding[hot] > cfg.max_winding_temp_c:
            return Cause.OVER_TEMPERATURE, hot
        return None, -1

    def _soft_faults(self, now_ns: int) -> None:
        """Faults that first HOLD and damp only if they persist for ``fault_hold_s``."""
        cfg = self.config
        cause: Cause | None = None
        if cfg.heartbeat_timeout_s is not None and (
            now_ns - self._last_heartbeat_ns > cfg.heartbeat_timeout_s * 1e9
        ):
            cause = Cause.HEARTBEAT_LOST
        elif self._mode is Mode.TRACK and self._over_budget_count >= cfg.over_budget_ticks:
            cause = Cause.POLICY_OVER_BUDGET
        elif (
            self._mode is Mode.TRACK
            and self._is_streaming
            and now_ns - self._last_reference_ns > cfg.reference_timeout_s * 1e9
        ):
            cause = Cause.REFERENCE_STALE
        if cause is None:
            # Only a returning heartbeat cancels the countdown: a policy or stream fault cannot
            # "clear" while holding (the policy no longer runs), so those always end in DAMP.
            if self._fault_deadline_ns and self._fault_cause is Cause.HEARTBEAT_LOST:
                self._fault_deadline_ns = 0
            return
        if not self._fault_deadline_ns:
            # Recorded even when already holding: it starts the countdown to DAMP.
            self._enter_hold(cause)
            self._fault_cause = cause
            self._fault_deadline_ns = now_ns + int(cfg.fault_hold_s * 1e9)

    def _enter_hold(self, cause: Cause) -> None:
        np.copyto(self._hold_q, self._prev_q if self._has_prev_target else g1.Q_DEFAULT)
        np.copyto(self._hold_hand_q, self._prev_hand_q)
        self._transition(Mode.HOLD, cause)

    def _start_ramp(self) -> None:
        # The ramp starts from the pose measured at the next tick, when the state is at hand.
        self._is_ramp_origin_pending = True
        self._transition(Mode.RAMP, Cause.ENABLE_REQUESTED)

    def _transition(self, mode: Mode, cause: Cause, detail: int = -1) -> None:
        self._mode = mode
        if mode is not Mode.HOLD:
            self._fault_deadline_ns = 0
        if mode is Mode.ESTOP and cause is not Cause.ESTOP_LATCHED:
            self._pending_latch = cause
        self.log.record(self._tick, self._now_ns, mode, cause, detail)

    def _set_gains(self, out: RobotCommand, hand_q: F64) -> None:
        np.copyto(out.kp, g1.KP)
        np.copyto(out.kd, g1.KD)
        np.copyto(out.hand_q, hand_q)
        out.hand_dq.fill(0.0)
        out.hand_kp.fill(dex3.HAND_KP)
        out.hand_kd.fill(dex3.HAND_KD)
        out.hand_tau.fill(0.0)

    def _clamp_targets(self, out: RobotCommand) -> None:
        """Soft joint limits, then the per-tick step limit against the previous target."""
        np.clip(out.q, self._q_lo, self._q_hi, out=out.q)
        np.clip(out.hand_q, dex3.HAND_Q_MIN, dex3.HAND_Q_MAX, out=out.hand_q)
        if self._has_prev_target:
            step = self.config.max_target_step_rad
            np.subtract(self._prev_q, step, out=self._buf_a)
            np.add(self._prev_q, step, out=self._buf_b)
            np.clip(out.q, self._buf_a, self._buf_b, out=out.q)
            hand_step = self.config.max_hand_step_rad
            np.subtract(self._prev_hand_q, hand_step, out=self._hand_a)
            np.add(self._prev_hand_q, hand_step, out=self._hand_b)
            np.clip(out.hand_q, self._hand_a, self._hand_b, out=out.hand_q)
        np.copyto(self._prev_q, out.q)
        np.copyto(self._prev_hand_q, out.hand_q)
        self._has_prev_target = True

    def _fill_damping(self, state: RobotState, out: RobotCommand) -> None:
        np.copyto(out.q, state.q)
        out.dq.fill(0.0)
        out.kp.fill(0.0)
        out.kd.fill(self.config.damping_kd)
        out.tau.fill(0.0)
        np.copyto(out.hand_q, state.hand_q)
        out.hand_dq.fill(0.0)
        out.hand_kp.fill(0.0)
        out.hand_kd.fill(self.config.hand_damping_kd)
        out.hand_tau.fill(0.0)


def _all_finite(values: F64) -> bool:
    """True when every element is finite; one dot product, no temporary array."""
    flat = values.reshape(-1)
    return math.isfinite(float(np.dot(flat, flat)))
