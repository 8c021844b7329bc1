"""Per-tick recording for the demo report, into arrays sized for the whole run up front."""

from __future__ import annotations

import numpy as np

from controller.embodiment import g1
from controller.loop import ControlLoop, TrackPhase
from controller.safety import Mode


class DemoRecorder:
    """A ``TickObserver``: stores measured and commanded joints, references and modes per tick.

    The measured state of tick k is the response to the command of tick k-1, so the tracking
    error pairs each measurement with the reference frame commanded one tick earlier.
    """

    def __init__(self, capacity: int) -> None:
        self.count = 0
        self.mode = np.zeros(capacity, dtype=np.int8)
        self.phase = np.zeros(capacity, dtype=np.int8)
        """``TrackPhase`` per tick (IDLE outside TRACK): where the blends are."""
        self.q = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.q_cmd = np.zeros((capacity, g1.NUM_BODY_JOINTS))
        self.q_ref = np.full((capacity, g1.NUM_BODY_JOINTS), np.nan)
        """Reference commanded at the *previous* tick (NaN unless that tick played a frame)."""
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
        is_track = mode is Mode.TRACK and track is not None
        self.phase[i] = loop.phase if is_track else TrackPhase.IDLE
        if is_track and track is not None:
            # Blend ticks follow the blend, not the frame: no reference to compare with.
            self._last_ref_frame = loop.frame if loop.phase is TrackPhase.PLAY else -1
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

    def blends(self, period_s: float) -> list[dict[str, float | int | str]]:
        """Each blend as ``{kind, start_tick, ticks, start_s, duration_s}`` in tick order."""
        phase = self.phase[: self.count]
        out: list[dict[str, float | int | str]] = []
        start = 0
        for k in range(1, len(phase) + 1):
            if k == len(phase) or phase[k] != phase[start]:
                kind = TrackPhase(int(phase[start]))
                if kind in (TrackPhase.BLEND_IN, TrackPhase.BLEND_OUT):
                    out.append({"kind": kind.name.lower(), "start_tick": start, "ticks": k - start,
                                "start_s": start * period_s,
                                "duration_s": (k - start) * period_s})  # fmt: skip
                start = k
        return out

    def track_start_max_step_rad(self) -> float:
        """Largest tick-to-tick change of any body target from the last tick before TRACK to
        the first frame played (the blend-in included); NaN when no track started."""
        mode = self.mode[: self.count]
        started = np.flatnonzero((mode[1:] == Mode.TRACK) & (mode[:-1] != Mode.TRACK)) + 1
        if started.size == 0:
            return float("nan")
        first = int(started[0])
        playing = np.flatnonzero(self.phase[first : self.count] == TrackPhase.PLAY)
        last = first + (int(playing[0]) if playing.size else 0)
        steps = np.abs(np.diff(self.q_cmd[first - 1 : last + 1], axis=0))
        return float(steps.max()) if steps.size else 0.0
