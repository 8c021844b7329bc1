"""From a validated package to the track the robot will play, checked for what it will do.

One path for every caller (the daemon's library at upload, ``package from-genmo`` and
``package inspect`` on the command line, ``demo --package``), so a package is judged the same
way everywhere:

1. the 50 Hz reference track (``estimators.reference_track``);
2. joint speeds under the supervisor's limit with margin, else ``JOINT_VELOCITY`` naming the
   package frame, the joint and the speed (``estimators.continuity``);
3. arm self-collision in MuJoCo, corrected by the smallest shoulder-roll/elbow change or
   refused as ``SELF_COLLISION`` (``controller.collision_fix``); speeds checked again;
4. velocity and inverse-dynamics feed-forward for the PD tracker (``controller.dynamics``).

The two MuJoCo models (collision, dynamics) are built on first use and kept. Not thread-safe:
the library runs one preparation at a time in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import mujoco

from controller.blend import BlendConfig, blend_duration_s
from controller.collision_fix import CollisionConfig, CollisionReport, correct_self_collisions
from controller.dynamics import FeedforwardJoints, inverse_dynamics_track, load_robot_model
from controller.embodiment import g1
from controller.robot.model_source import ModelKind, ModelSource
from controller.self_collision import SelfCollisionChecker, build_collision_model
from estimators.continuity import (
    JointSpeedConfig,
    JointSpeedReport,
    check_joint_speeds,
    joint_speed_report,
)
from estimators.package import MotionPackage
from estimators.reference_track import TrackBuildConfig, build_reference_track
from estimators.track import TRACK_FPS, ReferenceTrack


@dataclass(frozen=True)
class TrackPrepConfig:
    """How packages become checked tracks."""

    build: TrackBuildConfig = field(default_factory=TrackBuildConfig)
    speed: JointSpeedConfig = field(default_factory=JointSpeedConfig)
    collision: CollisionConfig = field(default_factory=CollisionConfig)
    feedforward: FeedforwardJoints = FeedforwardJoints.ALL
    model_source: ModelSource = field(
        default_factory=lambda: ModelSource(ModelKind.BUILTIN, None, ())
    )
    blend: BlendConfig = field(default_factory=BlendConfig)
    """For the report only: how long the blend-in from the standing pose will take."""


@dataclass(frozen=True)
class TrackReport:
    """What the checks found (the track itself is in ``PreparedTrack``)."""

    speeds: JointSpeedReport
    collision: CollisionReport
    blend_in_s: float
    """Blend from the default standing pose to the first frame."""
    model: str

    def summary(self) -> str:
        """One line: the fastest joint and what the collision check changed."""
        j = int(self.speeds.peak_rad_s.argmax())
        text = f"peak {g1.BODY_JOINT_NAMES[j]} {self.speeds.peak_rad_s[j]:.2f} rad/s"
        if not self.collision.is_corrected:
            return f"{text}; no self-collision"
        arms = ", ".join(
            f"{c.arm} arm roll {c.max_roll_deg:.1f}° elbow {c.max_elbow_deg:.1f}° "
            f"over {sum(b - a for a, b in c.spans_s):.2f} s"
            for c in self.collision.corrections
        )
        return f"{text}; self-collision corrected: {arms}"

    def as_dict(self) -> dict[str, object]:
        return {
            "peak_joint_speeds": self.speeds.as_dict(),
            "self_collision": self.collision.as_dict(),
            "blend_in_s": round(self.blend_in_s, 3),
            "collision_model": self.model,
        }


@dataclass(frozen=True)
class PreparedTrack:
    track: ReferenceTrack
    report: TrackReport


class TrackPreparer:
    """Builds, checks, corrects and completes tracks (see the module docstring)."""

    def __init__(self, config: TrackPrepConfig | None = None) -> None:
        self.config = config or TrackPrepConfig()
        self._checker: SelfCollisionChecker | None = None
        self._dynamics: mujoco.MjModel | None = None

    @property
    def checker(self) -> SelfCollisionChecker:
        if self._checker is None:
            model = build_collision_model(self.config.model_source)
            self._checker = SelfCollisionChecker(model)
        return self._checker

    @property
    def dynamics(self) -> mujoco.MjModel:
        if self._dynamics is None:
            self._dynamics = load_robot_model(self.config.model_source)
        return self._dynamics

    def prepare(self, package: MotionPackage, *, with_dynamics: bool = True) -> PreparedTrack:
        """The checked track for a validated package.

        Raises:
            PackageRejectedError: ``JOINT_VELOCITY`` or ``SELF_COLLISION``.
            TrackError: the arrays do not make a track.
        """
        cfg = self.config
        track = build_reference_track(package, config=cfg.build)
        source_field = "arrays.g1_q_ref" if package.g1_q_ref is not None else "arrays.body_pose"
        hint = "; a pose jump? (package from-genmo --smooth smooths it)"
        check_joint_speeds(
            track.q_hw, TRACK_FPS, cfg.speed, source_fps=package.meta.fps,
            field=source_field, hint=hint,
        )  # fmt: skip
        q, collision = correct_self_collisions(
            self.checker, track.q_hw, track.hand_q, cfg.collision, TRACK_FPS
        )
        if collision.is_corrected:
            check_joint_speeds(q, TRACK_FPS, cfg.speed, field="track")
        dq = tau = None
        if with_dynamics:
            dq, tau = inverse_dynamics_track(self.dynamics, q, 1.0 / TRACK_FPS, cfg.feedforward)
        distance = float(abs(q[0] - g1.Q_DEFAULT).max())
        report = TrackReport(
            speeds=joint_speed_report(q, TRACK_FPS),
            collision=collision,
            blend_in_s=blend_duration_s(distance, cfg.blend),
            model=cfg.model_source.describe(),
        )
        return PreparedTrack(replace(track, q_hw=q, dq_hw=dq, tau_ff_hw=tau), report)
