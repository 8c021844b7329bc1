"""The demo's motion, built in code: raise arms, reach forward, wave, slight squat, grasp.

Keyframes are joint-space offsets from SONIC's default pose, joined by minimum-jerk segments
(zero velocity and acceleration at each keyframe), so the reference is smooth enough for the
motors to follow; a wave is superimposed as a windowed sine. The result is a ``ReferenceTrack``
like any motion package produces, at 50 Hz, starting and ending at the default pose.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.embodiment import g1
from estimators.hands.dex3_targets import dex3_targets
from estimators.track import TRACK_FPS, HandState, ReferenceTrack

F64 = npt.NDArray[np.float64]

# (time s, {joint: offset from default (rad)}, hand state) – offsets accumulate nothing: each
# keyframe is a full pose.
_KEYFRAMES: list[tuple[float, dict[str, float], HandState]] = [
    (0.0, {}, HandState.OPEN),
    # raise both arms sideways
    (1.2, {"left_shoulder_roll": 1.0, "right_shoulder_roll": -1.0, "left_elbow": -0.4,
           "right_elbow": -0.4}, HandState.OPEN),
    # reach forward with both arms (negative shoulder pitch swings the arm forward)
    (2.4, {"left_shoulder_pitch": -1.1, "right_shoulder_pitch": -1.1, "left_elbow": -0.3,
           "right_elbow": -0.3, "waist_pitch": 0.1}, HandState.OPEN),
    # right arm up for the wave, left arm back down
    (3.4, {"right_shoulder_roll": -1.2, "right_shoulder_pitch": -0.3, "right_elbow": 0.6,
           "right_shoulder_yaw": 0.0}, HandState.OPEN),
    (4.9, {"right_shoulder_roll": -1.2, "right_shoulder_pitch": -0.3, "right_elbow": 0.6},
     HandState.OPEN),
    # slight squat (the legs bend in the gantry) with the arms forward for balance
    (6.0, {"left_hip_pitch": -0.35, "right_hip_pitch": -0.35, "left_knee": 0.6, "right_knee": 0.6,
           "left_ankle_pitch": -0.25, "right_ankle_pitch": -0.25, "left_shoulder_pitch": -0.5,
           "right_shoulder_pitch": -0.5}, HandState.OPEN),
    # stand, close both hands
    (7.0, {}, HandState.CLOSED),
    (7.6, {}, HandState.CLOSED),
    # open again, and stay open long enough for the fingers to get there before the end
    (8.3, {}, HandState.OPEN),
    (9.0, {}, HandState.OPEN),
]  # fmt: skip

_WAVE_JOINT = "right_elbow"
_WAVE_WINDOW_S = (3.4, 4.9)
_WAVE_HZ = 1.4
_WAVE_AMPLITUDE_RAD = 0.35
_HAND_SWITCH_S = 0.4


def _pose(offsets: dict[str, float]) -> F64:
    q = g1.Q_DEFAULT.copy()
    for name, offset in offsets.items():
        q[g1.joint_index(name)] += offset
    clipped: F64 = np.clip(q, g1.Q_MIN, g1.Q_MAX)
    return clipped


def _min_jerk(s: F64) -> F64:
    result: F64 = s**3 * (10.0 - 15.0 * s + 6.0 * s * s)
    return result


def build_demo_track() -> ReferenceTrack:
    """The demo's reference track (9 s at 50 Hz)."""
    times = np.array([k[0] for k in _KEYFRAMES])
    poses = np.stack([_pose(k[1]) for k in _KEYFRAMES])
    n = round(float(times[-1]) * TRACK_FPS) + 1
    t = np.arange(n) / TRACK_FPS
    segment = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    s = (t - times[segment]) / (times[segment + 1] - times[segment])
    blend = _min_jerk(np.clip(s, 0.0, 1.0))[:, None]
    q = poses[segment] + blend * (poses[segment + 1] - poses[segment])
    in_wave = (t >= _WAVE_WINDOW_S[0]) & (t <= _WAVE_WINDOW_S[1])
    phase = (t - _WAVE_WINDOW_S[0]) / (_WAVE_WINDOW_S[1] - _WAVE_WINDOW_S[0])
    window = np.sin(np.pi * np.clip(phase, 0.0, 1.0)) ** 2  # fades the wave in and out
    wave = _WAVE_AMPLITUDE_RAD * window * np.sin(2 * np.pi * _WAVE_HZ * (t - _WAVE_WINDOW_S[0]))
    q[:, g1.joint_index(_WAVE_JOINT)] += np.where(in_wave, wave, 0.0)
    q = np.clip(q, g1.Q_MIN, g1.Q_MAX)

    states = np.array([k[2] for k in _KEYFRAMES], dtype=np.int8)
    hand_state = np.repeat(states[segment + (s >= 1.0)][:, None], 2, axis=1).astype(np.int8)
    closed = (hand_state[:, 0] == HandState.CLOSED).astype(np.float64)
    # Smooth the open/close switch over _HAND_SWITCH_S so the fingers are not stepped.
    width = max(1, int(_HAND_SWITCH_S * TRACK_FPS))
    kernel = np.ones(width) / width
    closure = np.convolve(np.pad(closed, (width, width), mode="edge"), kernel, mode="same")
    closure = closure[width:-width]
    closed_targets = dex3_targets(np.full((1, 2), HandState.CLOSED))[0]
    hand_q = closure[:, None, None] * closed_targets[None]
    return ReferenceTrack(
        q_hw=q,
        hand_q=hand_q,
        hand_state=hand_state,
        smpl_joints_local=np.zeros((n, 24, 3)),
        root_quat_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        package_id="demo-in-code",
    )
