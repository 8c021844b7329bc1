"""The generation stage: instruction + camera frame -> cloud services -> a loaded motion package.

Entry points: ``GenerationRunner`` (the daemon adapter that runs one ``GenerationRequest`` at a
time), ``GenerationConfig`` (its configuration), ``JobProgress`` (what the progress callback
receives) and ``PackageActivator`` (how the caller loads and starts the result). The provider
clients sit behind the Protocols ``EmbodimentTransfer``, ``TaskPlanner``, ``VideoGenerator``
and ``MotionEstimator``; ``daemon.generation.fakes`` serves local stand-ins for all of them.
"""

from daemon.generation.activation import ControlLinkActivator, PackageActivator
from daemon.generation.camera import (
    CameraConfig,
    FrameSource,
    MujocoCamera,
    OpenCvCamera,
    SimCameraConfig,
    StaticFrame,
    make_frame_source,
)
from daemon.generation.config import (
    CredentialRef,
    EstimationConfig,
    GeminiConfig,
    GenerationConfig,
    KlingConfig,
    OpenAiConfig,
    RetryConfig,
)
from daemon.generation.errors import ErrorKind, GenerationError, JobBusyError
from daemon.generation.job import GenerationRunner
from daemon.generation.manifest import JobStatus
from daemon.generation.progress import JobProgress, ProgressCallback, Stage, StageState
from daemon.generation.providers import CloudProviders
from daemon.generation.request import GenerationJob, GenerationRequest, JobResult

__all__ = [
    "CameraConfig",
    "CloudProviders",
    "ControlLinkActivator",
    "CredentialRef",
    "ErrorKind",
    "EstimationConfig",
    "FrameSource",
    "GeminiConfig",
    "GenerationConfig",
    "GenerationError",
    "GenerationJob",
    "GenerationRequest",
    "GenerationRunner",
    "JobBusyError",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "KlingConfig",
    "MujocoCamera",
    "OpenAiConfig",
    "OpenCvCamera",
    "PackageActivator",
    "ProgressCallback",
    "RetryConfig",
    "SimCameraConfig",
    "Stage",
    "StageState",
    "StaticFrame",
    "make_frame_source",
]
