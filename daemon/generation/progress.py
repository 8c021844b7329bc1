"""Stages of a generation job and the progress reports they emit.

A job runs its stages in ``Stage`` order. Every change a caller may want to show (a stage
starts, retries, reports a percentage, ends) becomes one ``JobProgress``, handed to the
caller's ``ProgressCallback`` on the event loop: the fleet layer turns it into the VDA 5050
action state's ``resultDescription`` and the telemetry topic, the command line into a
progress line. Callbacks must be quick and must not raise.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Stage(enum.Enum):
    """The steps of one job, in the order they run."""

    CAPTURE = "capture"
    """The initial observation from the camera (or the simulator)."""
    EMBODIMENT = "embodiment"
    """Robot-to-human embodiment transfer on the image (Gemini)."""
    PLANNING = "planning"
    """Task decomposition and the video prompt (OpenAI Responses)."""
    VIDEO = "video"
    """Image-to-video generation (Kling)."""
    ESTIMATION = "estimation"
    """Human motion from the video: body (GENMO) and hands (WiLoR) into a motion package."""
    SUBMIT = "submit"
    """The package through the motion library's normal validation and into the store."""
    LOAD = "load"
    """The package loaded into the control process (and started with autoStart)."""


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

# Share of a whole job per stage, from the paper's latencies for a 5 s video (embodiment 10.7 s,
# decomposition 2.5 s, generation 13.2 s/s, body 2.9 s/s + hands 16.4 s/s of video). Only used
# to turn stage progress into one rough job percentage for displays.
_STAGE_WEIGHTS: dict[Stage, float] = {
    Stage.CAPTURE: 0.5,
    Stage.EMBODIMENT: 10.7,
    Stage.PLANNING: 2.5,
    Stage.VIDEO: 66.0,
    Stage.ESTIMATION: 96.5,
    Stage.SUBMIT: 1.0,
    Stage.LOAD: 0.5,
}
_TOTAL_WEIGHT = sum(_STAGE_WEIGHTS.values())


class StageState(enum.Enum):
    STARTED = "started"
    RUNNING = "running"
    """Still working; ``percent`` or ``detail`` changed (e.g. a remote task's status)."""
    RETRYING = "retrying"
    """The last attempt failed with a retryable error; waiting ``retry_in_s`` before the next."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobProgress:
    """One progress report of a job."""

    job_id: str
    stage: Stage
    state: StageState
    attempt: int
    """1 for the first try of the stage's current request, 2 after the first retry, ..."""
    stage_elapsed_s: float
    job_elapsed_s: float
    percent: float | None = None
    """Progress of this stage in [0, 100] where the provider reports it, else None."""
    detail: str = ""
    """Short text safe to show (a remote status, the reason for a retry); never a secret."""
    retry_in_s: float | None = None

    @property
    def job_percent(self) -> float:
        """A rough percentage of the whole job, weighting stages by their typical latency."""
        done = sum(_STAGE_WEIGHTS[s] for s in STAGE_ORDER[: STAGE_ORDER.index(self.stage)])
        if self.state is StageState.SUCCEEDED:
            done += _STAGE_WEIGHTS[self.stage]
        elif self.percent is not None:
            done += _STAGE_WEIGHTS[self.stage] * min(max(self.percent, 0.0), 100.0) / 100.0
        return 100.0 * done / _TOTAL_WEIGHT


ProgressCallback = Callable[[JobProgress], None]


class StageReporter(Protocol):
    """What a provider client tells the job while it works on one stage."""

    def attempt(self, number: int) -> None:
        """Attempt ``number`` (1-based) of the current request begins."""
        ...

    def retrying(self, reason: str, delay_s: float) -> None:
        """The current attempt failed with a retryable error; the next follows in ``delay_s``."""
        ...

    def running(self, *, percent: float | None = None, detail: str = "") -> None:
        """Work goes on (a remote status or a percentage changed)."""
        ...

    def remote_id(self, name: str, value: str) -> None:
        """An identifier at the provider worth keeping in the manifest (task id, request id)."""
        ...


class NullReporter:
    """A ``StageReporter`` that drops everything (for using a client on its own)."""

    def attempt(self, number: int) -> None:
        pass

    def retrying(self, reason: str, delay_s: float) -> None:
        pass

    def running(self, *, percent: float | None = None, detail: str = "") -> None:
        pass

    def remote_id(self, name: str, value: str) -> None:
        pass
