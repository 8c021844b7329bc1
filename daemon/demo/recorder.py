"""Per-tick recording for the demo report, into arrays sized for the whole run up front."""

from __future__ import annotations

import numpy as np

from controller.embodiment import g1
from controller.loop import ControlLoop
from controller.safety import Mode


class DemoRecorder:
    """A ``TickObserver``: stores measured and commanded joints, references and modes per tick.

    The measured state of tick k is the response to the command of tick k-1, so the tracking
    error pairs each measurement with the reference frame commanded one tick earlier.
    """

    def __init__(self, capacity: int) -> None:
        self.count = 0
        self.mode = np.zeros(capacity, dtype=np.int8)
        self.q = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.q_cmd = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.q_ref = np.full((capacity, g1.NUM_BODY_JOINTS), np.nan)
        """Reference commanded at the *previous* tick (NaN outside TRACK)."""
        self.hand_q = np.zeros((capacity, 2, 7))
        self.hand_cmd = np.zeros((capacity, 2, 7))
        self.hand_state = np.full((capacity, 2), -1, dtype=np.int8)
        self._last_ref_frame = -1

    def __call__(self, loop: ControlLoop) -> None:
        i = self.count
        if i >= self.mode.shape[0]:
            return
        mode = loop.supervisor.mode
        self.mode[i] = mode
        np.copyto(self.q[i], loop.state.q)
        np.copyto(self.q_cmd[i], loop.command.q)
        np.copyto(self.hand_q[i], loop.state.hand_q)
        np.copyto(self.hand_cmd[i], loop.command.hand_q)
        track = loop.track
        if track is not None and self._last_ref_frame >= 0:
            np.copyto(self.q_ref[i], track.q_hw[self._last_ref_frame])
        if mode is Mode.TRACK and track is not None:
            self._last_ref_frame = loop.frame
            self.hand_state[i] = track.hand_state[loop.frame]
        else:
            self._last_ref_frame = -1
        self.count += 1

    def tracking_rms_rad(self) -> float:
        """RMS over TRACK ticks and all 29 body joints of measured minus reference."""
        n = self.count
        valid = ~np.isnan(self.q_ref[:n, 0])
        if not np.any(valid):
            return float("nan")
        err = self.q[:n][valid] - self.q_ref[:n][valid]
        return float(np.sqrt(np.mean(np.square(err))))
