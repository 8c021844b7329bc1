"""The initial observation: OpenCV capture (file, V4L2, stream), the MuJoCo render, image headers.

Real: OpenCV reading and encoding files in tmp_path, OpenCV trying a V4L2 device that does not
exist and a stream on a closed loopback port, MuJoCo rendering the built-in G1 offscreen (in a
child process, because MuJoCo picks its OpenGL backend from ``MUJOCO_GL`` at import time).
Faked: nothing; tests that need OpenCV or an OpenGL backend skip, saying which is missing.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from daemon.generation.camera import (
    CameraConfig,
    CameraKind,
    OpenCvCamera,
    SimCameraConfig,
    parse_source,
)
from daemon.generation.errors import CameraError, ErrorKind
from daemon.generation.images import EncodedImage, ImageDecodeError, ImageFormat, encode_png
from daemon.generation.progress import Stage
from estimators.package import CameraView

REPO = Path(__file__).resolve().parents[3]


def capture(source: str, **changes: object) -> EncodedImage:
    camera = OpenCvCamera(config=CameraConfig(source=source, **changes))  # type: ignore[arg-type]
    return asyncio.run(camera.capture(view=CameraView.FRONT))


@pytest.mark.parametrize(
    ("source", "kind", "target"),
    [
        ("sim", CameraKind.SIM, ""),
        ("0", CameraKind.V4L2, "0"),
        ("/dev/video2", CameraKind.V4L2, "/dev/video2"),
        ("rtsp://cam.local/stream", CameraKind.STREAM, "rtsp://cam.local/stream"),
        ("http://10.0.0.2/mjpg", CameraKind.STREAM, "http://10.0.0.2/mjpg"),
        ("file:/tmp/a.png", CameraKind.FILE, "/tmp/a.png"),
        ("scene.jpg", CameraKind.FILE, "scene.jpg"),
    ],
)
def test_camera_sources_are_recognised(source: str, kind: CameraKind, target: str) -> None:
    assert parse_source(source) == (kind, target)


def test_png_and_jpeg_sizes_are_read_from_the_header() -> None:
    png = encode_png(bytes(320 * 200 * 3), 320, 200)
    assert EncodedImage.from_bytes(png.data) == png
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    ok, jpeg = cv2.imencode(".jpg", np.zeros((123, 457, 3), np.uint8))
    assert ok
    image = EncodedImage.from_bytes(jpeg.tobytes())
    assert (image.format, image.width, image.height) == (ImageFormat.JPEG, 457, 123)
    with pytest.raises(ImageDecodeError):
        EncodedImage.from_bytes(b"GIF89a....")


def test_an_image_file_is_read_scaled_and_encoded(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    path = tmp_path / "scene.png"
    frame = np.full((1000, 2000, 3), 128, np.uint8)
    cv2.imwrite(str(path), frame)
    image = capture(str(path), max_side_px=800)
    assert (image.format, image.width, image.height) == (ImageFormat.JPEG, 800, 400)
    png = capture(f"file:{path}", image_format=ImageFormat.PNG)
    assert (png.format, png.width, png.height) == (ImageFormat.PNG, 1280, 640)


def test_missing_or_unreadable_files_are_capture_errors(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    with pytest.raises(CameraError, match="no such image file") as info:
        capture(str(tmp_path / "nope.png"))
    assert (info.value.stage, info.value.kind) == (Stage.CAPTURE, ErrorKind.CAMERA)
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(CameraError, match="not an image"):
        capture(str(tmp_path / "junk.png"))


def test_a_v4l2_device_that_does_not_exist_fails_clearly() -> None:
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    with pytest.raises(CameraError, match="/dev/video97: cannot be opened"):
        capture("/dev/video97", timeout_s=2.0)


def test_a_stream_nobody_serves_fails_within_the_timeout() -> None:
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(CameraError, match=r"cannot be opened|no frame"):
        capture(f"http://127.0.0.1:{port}/stream.mjpg", timeout_s=1.0)
    assert time.monotonic() - started < 2.5


def test_a_silent_stream_ends_in_no_frame_within_the_timeout() -> None:
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    with socket.socket() as server:  # accepts, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(CameraError, match=r"no frame|cannot be opened"):
            capture(f"http://127.0.0.1:{port}/stream.mjpg", timeout_s=0.5)
        assert time.monotonic() - started < 1.5


def test_camera_config_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        CameraConfig(timeout_s=0)
    with pytest.raises(ValueError, match="empty"):
        CameraConfig(source=" ")
    with pytest.raises(ValueError, match="64x64"):
        SimCameraConfig(width_px=10)


_RENDER = """
import asyncio, sys
from controller.robot.model_source import ModelKind, ModelSource
from daemon.generation.camera import CameraConfig, SimCameraConfig, MujocoCamera
from estimators.package import CameraView
config = CameraConfig(source="sim", sim=SimCameraConfig(width_px=400, height_px=300))
camera = MujocoCamera.from_source(ModelSource(ModelKind.BUILTIN, None, ()), config=config)
for view in (CameraView.FRONT, CameraView.BACK):
    sys.stdout.buffer.write(asyncio.run(camera.capture(view=view)).data + b"--frame--")
"""


def test_the_simulator_is_rendered_offscreen_from_front_and_back() -> None:
    failures = []
    for backend in ("egl", "osmesa"):
        env = {**os.environ, "MUJOCO_GL": backend, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-c", _RENDER], env=env, capture_output=True, timeout=60, check=False
        )
        if done.returncode == 0:
            break
        failures.append(f"{backend}: {done.stderr.decode(errors='replace').strip()[-200:]}")
    else:
        pytest.skip("no offscreen OpenGL backend works here (" + "; ".join(failures) + ")")
    front, back, _ = done.stdout.split(b"--frame--")
    images = [EncodedImage.from_bytes(front), EncodedImage.from_bytes(back)]
    assert all((i.format, i.width, i.height) == (ImageFormat.PNG, 400, 300) for i in images)
    assert front != back  # the camera went round the robot
    cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is not installed")
    pixels = cv2.imdecode(np.frombuffer(front, np.uint8), cv2.IMREAD_COLOR)
    centre = pixels[100:250, 170:230].astype(float)
    assert centre.std() > 5.0  # something (the robot) is in the middle of the picture
