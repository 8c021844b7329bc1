"""The 50 Hz reference track: everything the control tick needs from a motion, precomputed.

A motion package (or a motion built in code) is turned into a track once, off the control path;
the tick then only indexes these arrays by frame. Conventions: 50 Hz frames; world Z-up; G1
joints in hardware order; quaternions wxyz; SMPL joints (24, parent tree as SMPL) expressed in
each frame's own root frame (SONIC's encoder input); Dex3 targets row 0 left, row 1 right, slot
order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

TRACK_FPS = 50.0
NUM_SMPL_JOINTS = 24

F64 = npt.NDArray[np.float64]


class HandState(enum.IntEnum):
    """Discrete grasp state per hand, as WiLoR output is classified (open / half-open / closed)."""

    OPEN = 0
    HALF = 1
    CLOSED = 2


class TrackError(ValueError):
    """A reference track whose arrays disagree in length, shape or contain non-finite values."""


@dataclass(frozen=True)
class ReferenceTrack:
    """Per-frame references at 50 Hz. All arrays share the first dimension ``n_frames``."""

    q_hw: F64
    """(T, 29) G1 joint position references, hardware order (rad)."""
    hand_q: F64
    """(T, 2, 7) Dex3 joint targets, already inside each hand's limits (rad)."""
    hand_state: npt.NDArray[np.int8]
    """(T, 2) ``HandState`` per hand, for reports and telemetry."""
    smpl_joints_local: F64
    """(T, 24, 3) SMPL joint positions in each frame's root frame, Z-up (m)."""
    root_quat_wxyz: F64
    """(T, 4) reference root (pelvis) orientation in the motion's world frame, Z-up."""
    package_id: str = "in-code"
    dq_hw: F64 | None = None
    """(T, 29) optional joint velocity feed-forward (rad/s), precomputed off the control path."""
    tau_ff_hw: F64 | None = None
    """(T, 29) optional inertial torque feed-forward (N·m) for joint-space tracking, precomputed
    off the control path (``controller.dynamics.inverse_dynamics_track``)."""

    def __post_init__(self) -> None:
        n = self.q_hw.shape[0]
        expected = {
            "q_hw": (n, 29),
            "hand_q": (n, 2, 7),
            "hand_state": (n, 2),
            "smpl_joints_local": (n, NUM_SMPL_JOINTS, 3),
            "root_quat_wxyz": (n, 4),
        }
        if self.dq_hw is not None:
            expected["dq_hw"] = (n, 29)
        if self.tau_ff_hw is not None:
            expected["tau_ff_hw"] = (n, 29)
        if n < 1:
            raise TrackError("a reference track needs at least one frame")
        for name, shape in expected.items():
            array = getattr(self, name)
            if array.shape != shape:
                raise TrackError(f"track field {name}: shape {array.shape}, expected {shape}")
            if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
                raise TrackError(f"track field {name}: contains non-finite values")
        for name in expected:
            getattr(self, name).flags.writeable = False

    @property
    def n_frames(self) -> int:
        return int(self.q_hw.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / TRACK_FPS

    @property
    def wrist_isaac(self) -> F64:
        """(T, 6) G1 wrist angles in IsaacLab order 23..28 (SONIC's encoder wrist input)."""
        from controller.embodiment.g1 import WRIST_HW

        return self.q_hw[:, WRIST_HW]

    def frame(self, index: int) -> int:
        """Clamp a frame index into the track: frames past the end hold the last frame."""
        return 0 if index < 0 else min(index, self.n_frames - 1)


class TrackView(Protocol):
    """What the control tick reads from a track: a complete ``ReferenceTrack`` or a growing
    stream (``controller.stream_track.StreamTrack``). Index rows only through ``frame``."""

    @property
    def package_id(self) -> str: ...

    @property
    def q_hw(self) -> F64: ...

    @property
    def hand_q(self) -> F64: ...

    @property
    def hand_state(self) -> npt.NDArray[np.int8]: ...

    @property
    def smpl_joints_local(self) -> F64: ...

    @property
    def root_quat_wxyz(self) -> F64: ...

    @property
    def dq_hw(self) -> F64 | None: ...

    @property
    def tau_ff_hw(self) -> F64 | None: ...

    @property
    def n_frames(self) -> int: ...

    @property
    def wrist_isaac(self) -> F64: ...

    def frame(self, index: int) -> int: ...
