"""The initial observation: one frame from a camera, a stream, a file, or the simulator.

``OpenCvCamera`` reads a V4L2 device (``/dev/video0`` or an index), an RTSP/HTTP stream or an
image file through OpenCV (``opencv-python-headless``, imported only here and only when used);
``MujocoCamera`` renders the simulated scene offscreen. Both run in a worker thread under the
configured timeout, so a camera that never answers ends in a ``CameraError`` instead of a
hang; a timed-out OpenCV call keeps its worker thread until OpenCV's own open/read timeouts
(set to the same value) let it go.

The image is what embodiment transfer edits, so it must show the robot in the scene from a
fixed third-person viewpoint (the paper's setting), not the robot's own head camera.
"""

from __future__ import annotations

import asyncio
import copy
import enum
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from daemon.generation.errors import CameraError
from daemon.generation.images import EncodedImage, ImageFormat, encode_png
from estimators.package import CameraView

if TYPE_CHECKING:
    import mujoco

    from controller.robot.model_source import ModelSource


class CameraKind(enum.Enum):
    V4L2 = "v4l2"
    STREAM = "stream"
    """RTSP or HTTP(S) (MJPEG, HLS, anything FFmpeg opens)."""
    FILE = "file"
    SIM = "sim"


@dataclass(frozen=True)
class SimCameraConfig:
    """The simulator's fixed third-person camera (a MuJoCo free camera aimed at the pelvis)."""

    width_px: int = 960
    height_px: int = 720
    distance_m: float = 3.2
    elevation_deg: float = -12.0
    """Negative looks down, like a camera on a tripod at head height."""
    lookat_height_m: float = 0.75
    """Height of the aim point above the floor (about the robot's pelvis)."""
    azimuth_offset_deg: float = 0.0
    """Turn the camera around the robot; 0 puts it straight in front (view front) or behind."""
    camera_name: str | None = None
    """An MJCF camera to use instead of the free camera."""

    def __post_init__(self) -> None:
        if min(self.width_px, self.height_px) < 64:
            raise ValueError("the simulator camera needs at least 64x64 pixels")
        if self.distance_m <= 0:
            raise ValueError("distance_m must be > 0")


@dataclass(frozen=True)
class CameraConfig:
    """Where the initial frame comes from and how it is encoded."""

    source: str = "/dev/video0"
    """``/dev/videoN`` or ``N`` (V4L2), ``rtsp://...`` / ``http(s)://...``, an image file path
    (or ``file:PATH``), or ``sim`` for the simulator's camera."""
    timeout_s: float = 5.0
    warmup_frames: int = 5
    """Frames read and dropped first, while a USB camera's exposure settles (V4L2 only)."""
    max_side_px: int = 1280
    """Larger frames are scaled down (the cloud services gain nothing from more)."""
    image_format: ImageFormat = ImageFormat.JPEG
    jpeg_quality: int = 92
    sim: SimCameraConfig = field(default_factory=SimCameraConfig)

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError("camera.timeout_s must be > 0")
        if self.warmup_frames < 0 or self.max_side_px < 300:
            raise ValueError("camera.warmup_frames must be >= 0 and max_side_px >= 300")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("camera.jpeg_quality must be in [1, 100]")
        parse_source(self.source)


def parse_source(source: str) -> tuple[CameraKind, str]:
    """``(kind, target)`` for a camera source string; raises ``ValueError`` when empty."""
    text = source.strip()
    if not text:
        raise ValueError("camera source is empty")
    lowered = text.lower()
    if lowered == "sim":
        return CameraKind.SIM, ""
    if text.isdigit() or text.startswith("/dev/video"):
        return CameraKind.V4L2, text
    if lowered.startswith(("rtsp://", "rtsps://", "http://", "https://")):
        return CameraKind.STREAM, text
    return CameraKind.FILE, text.removeprefix("file:")


class FrameSource(Protocol):
    """Gives one encoded frame of the scene."""

    async def capture(self, *, view: CameraView) -> EncodedImage:
        """Raises ``CameraError``. ``view`` only matters where the viewpoint can be chosen."""
        ...


class StaticFrame:
    """A ``FrameSource`` that always gives the same image (tests, replays)."""

    def __init__(self, image: EncodedImage) -> None:
        self._image = image

    async def capture(self, *, view: CameraView) -> EncodedImage:
        return self._image


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise CameraError(
            "opencv", "OpenCV is not installed (pip install opencv-python-headless)"
        ) from None
    return cv2


class OpenCvCamera:
    """A ``FrameSource`` over OpenCV: V4L2 device, network stream or image file."""

    def __init__(self, *, config: CameraConfig) -> None:
        self._config = config
        self._kind, self._target = parse_source(config.source)
        if self._kind is CameraKind.SIM:
            raise ValueError("use MujocoCamera for the simulator")

    async def capture(self, *, view: CameraView) -> EncodedImage:
        timeout_s = self._config.timeout_s
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._grab), timeout_s)
        except asyncio.TimeoutError:
            raise CameraError(self._config.source, f"no frame within {timeout_s:g} s") from None

    def _grab(self) -> EncodedImage:
        cv2 = _cv2()
        if self._kind is CameraKind.FILE:
            path = Path(self._target)
            if not path.is_file():
                raise CameraError(self._target, "no such image file")
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                raise CameraError(self._target, "not an image OpenCV can read")
            return self._encode(cv2, frame)
        timeout_ms = int(self._config.timeout_s * 1000)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            timeout_ms,
        ]
        if self._kind is CameraKind.V4L2:
            target: int | str = int(self._target) if self._target.isdigit() else self._target
            capture = cv2.VideoCapture(target, cv2.CAP_V4L2, params)
            reads = self._config.warmup_frames + 1
        else:
            capture = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, params)
            reads = 1
        try:
            if not capture.isOpened():
                raise CameraError(self._config.source, "cannot be opened")
            frame = None
            for _ in range(reads):
                ok, image = capture.read()
                if ok and image is not None:
                    frame = image
            if frame is None:
                raise CameraError(self._config.source, "opened, but gave no frame")
            return self._encode(cv2, frame)
        finally:
            capture.release()

    def _encode(self, cv2: Any, frame: Any) -> EncodedImage:
        config = self._config
        height, width = frame.shape[:2]
        scale = config.max_side_px / max(width, height)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        if config.image_format is ImageFormat.JPEG:
            ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality])
        else:
            ok, data = cv2.imencode(".png", frame)
        if not ok:
            raise CameraError(
                config.source, f"frame cannot be encoded as {config.image_format.value}"
            )
        return EncodedImage.from_bytes(data.tobytes())


class MujocoCamera:
    """A ``FrameSource`` that renders the simulated scene offscreen.

    Needs an OpenGL context without a display: start the process with ``MUJOCO_GL=egl`` (a GPU
    or Mesa's EGL) or ``MUJOCO_GL=osmesa`` (software); MuJoCo reads it at import time.

    Args:
        model: the MuJoCo model (copied if its offscreen buffer is too small).
        data: the state to picture; a copy is taken per frame. Pass a state nobody steps
            concurrently (a torn copy would show a mixed pose).
        config: the camera settings (``config.sim``).
    """

    def __init__(self, *, model: mujoco.MjModel, data: mujoco.MjData, config: CameraConfig) -> None:
        self._model = model
        self._data = data
        self._config = config

    @classmethod
    def from_source(cls, source: ModelSource, *, config: CameraConfig) -> MujocoCamera:
        """The robot model at its initial pose (for a daemon that has no live simulator)."""
        import mujoco

        from controller.robot.mujoco_backend import load_spec

        model = load_spec(source).compile()
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        return cls(model=model, data=data, config=config)

    async def capture(self, *, view: CameraView) -> EncodedImage:
        timeout_s = self._config.timeout_s
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._render, view), timeout_s)
        except asyncio.TimeoutError:
            raise CameraError("sim", f"no frame rendered within {timeout_s:g} s") from None

    def _render(self, view: CameraView) -> EncodedImage:
        import mujoco

        sim = self._config.sim
        model = self._model
        visual = model.vis.global_
        if sim.width_px > visual.offwidth or sim.height_px > visual.offheight:
            model = copy.copy(model)
            model.vis.global_.offwidth = max(sim.width_px, visual.offwidth)
            model.vis.global_.offheight = max(sim.height_px, visual.offheight)
        data = copy.copy(self._data)
        mujoco.mj_forward(model, data)
        # The GL context belongs to the thread that makes it: make, use and free it here.
        try:
            renderer = mujoco.Renderer(model, sim.height_px, sim.width_px)
        except (mujoco.FatalError, RuntimeError, AttributeError, ValueError) as exc:
            raise CameraError(
                "sim",
                f"no offscreen OpenGL context ({type(exc).__name__}: "
                f"{exc}); start the process with MUJOCO_GL=egl or "
                "MUJOCO_GL=osmesa",
            ) from None
        try:
            renderer.update_scene(data, camera=self._camera(model, data, view))
            rgb = renderer.render()
        finally:
            renderer.close()
        return encode_png(rgb.tobytes(), sim.width_px, sim.height_px)

    def _camera(self, model: mujoco.MjModel, data: mujoco.MjData, view: CameraView) -> Any:
        import mujoco

        sim = self._config.sim
        if sim.camera_name is not None:
            camera_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, sim.camera_name)
            if camera_id < 0:
                raise CameraError("sim", f"the model has no camera {sim.camera_name!r}")
            return camera_id
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        # The root body's heading (yaw of its x axis): the camera stays in front of (or behind)
        # the robot whichever way it faces. A free camera at azimuth a looks along (cos a, sin a).
        qw, qx, qy, qz = (float(v) for v in data.qpos[3:7]) if model.nq >= 7 else (1, 0, 0, 0)
        yaw_deg = math.degrees(math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz)))
        facing = 180.0 if view is CameraView.FRONT else 0.0
        camera.azimuth = yaw_deg + facing + sim.azimuth_offset_deg
        camera.elevation = sim.elevation_deg
        camera.distance = sim.distance_m
        x, y = (float(data.qpos[0]), float(data.qpos[1])) if model.nq >= 7 else (0.0, 0.0)
        camera.lookat[:] = (x, y, sim.lookat_height_m)
        return camera


def make_frame_source(config: CameraConfig, *, model_source: ModelSource | None) -> FrameSource:
    """The frame source ``config.source`` names (the simulator needs ``model_source``)."""
    kind, _ = parse_source(config.source)
    if kind is CameraKind.SIM:
        if model_source is None:
            raise ValueError("camera source 'sim' needs the robot model")
        return MujocoCamera.from_source(model_source, config=config)
    return OpenCvCamera(config=config)
