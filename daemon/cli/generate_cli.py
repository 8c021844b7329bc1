"""``exoactor-edge generate "pick up the box"``: the generation stage from the command line.

The stages run here, in the command's own process (the running service and its control loop
are not involved until the end): camera frame -> embodiment transfer -> plan -> video ->
estimation, with a progress line. The package then goes to the running service's upload
endpoint (``exoactor-edge send``'s path: the service's normal validation and store), or, with
``--no-send``, is only validated here and left in the job folder. With ``--auto-start`` the
service is asked over its admin socket to load and start it (the ``load_motion`` request,
``daemon.generation.activation.answer_load_motion``). Exit status: 0 done, 1 the job failed or
was cancelled (the stage and reason are printed, the manifest names everything), 2 bad
configuration or arguments.

Configuration: the ``generation`` section of the service's configuration file when it has one,
else the defaults (the real providers, credentials from ``$CREDENTIALS_DIRECTORY``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio

from daemon.control.admin import ADMIN_SOCKET
from daemon.control.control_link import CommandResult
from daemon.generation import (
    GenerationConfig,
    GenerationRequest,
    GenerationRunner,
    JobProgress,
    JobResult,
    JobStatus,
    PackageActivator,
    StageState,
)
from daemon.generation.activation import LOAD_MOTION_COMMAND
from daemon.generation.camera import make_frame_source
from daemon.library.motion_library import IngestResult, MotionLibrary
from estimators.package import CameraView
from estimators.track import ReferenceTrack

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


class UploadLibrary:
    """A ``MotionLibrary`` whose ``submit`` uploads to the running service (its validation)."""

    def __init__(self, *, endpoint: str, timeout_s: float) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        from daemon.inputs.ingest_zmq import UploadError, upload

        try:
            return await upload(self._endpoint, data, self._timeout_s)
        except UploadError as exc:
            return IngestResult(accepted=False, code="upload_failed", detail=str(exc))

    async def track(self, package_id: str) -> ReferenceTrack:
        raise NotImplementedError("the service builds tracks; this library only uploads")

    def package_ids(self) -> list[str]:
        return []


class LocalCheckLibrary:
    """A ``MotionLibrary`` that only validates (``decode_package``) and stores nothing."""

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        from estimators.errors import PackageRejectedError
        from estimators.package import PackageConfig, decode_package

        try:
            decoded = await asyncio.to_thread(decode_package, data, PackageConfig())
        except PackageRejectedError as exc:
            field = exc.field
            return IngestResult(False, code=exc.code.value, field=field, detail=exc.detail)
        return IngestResult(True, package_id=decoded.package.meta.package_id)

    async def track(self, package_id: str) -> ReferenceTrack:
        raise NotImplementedError("nothing is stored by a local check")

    def package_ids(self) -> list[str]:
        return []


class AdminActivator:
    """A ``PackageActivator`` asking the running service over its admin socket."""

    def __init__(self, *, run_dir: Path, is_start_wanted: bool, timeout_s: float = 30.0) -> None:
        self._path = run_dir / ADMIN_SOCKET
        self._is_start_wanted = is_start_wanted
        self._timeout_s = timeout_s

    async def load(self, package_id: str) -> CommandResult:
        request = {
            "command": LOAD_MOTION_COMMAND,
            "package_id": package_id,
            "start": self._is_start_wanted,
        }
        socket = zmq.asyncio.Context.instance().socket(zmq.REQ)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(f"ipc://{self._path}")
            await socket.send(json.dumps(request).encode())
            if not await socket.poll(int(self._timeout_s * 1000)):
                return CommandResult(False, f"no service answered on {self._path}")
            answer: dict[str, Any] = json.loads(await socket.recv())
        finally:
            socket.close(linger=0)
        reason = str(answer.get("reason", ""))
        if "unknown command" in reason:
            reason = "this service's admin socket has no load_motion command yet"
        return CommandResult(bool(answer.get("ok")), reason)

    async def start(self, package_id: str) -> CommandResult:
        return CommandResult(True)  # asked for together with the load


class ProgressDisplay:
    """Shows a job's progress: one line per finished stage or retry, and on a terminal a live
    line (rewritten in place) meanwhile; on a pipe the live line is printed every few seconds."""

    def __init__(self, *, is_quiet: bool, every_s: float = 3.0) -> None:
        self._is_quiet = is_quiet
        self._is_tty = sys.stdout.isatty()
        self._every_s = every_s
        self._last = 0.0

    def _line(self, text: str, *, is_final: bool) -> None:
        if self._is_tty:
            sys.stdout.write("\r" + text.ljust(100)[:100] + ("\n" if is_final else ""))
            sys.stdout.flush()
        elif is_final or time.monotonic() - self._last >= self._every_s:
            self._last = time.monotonic()
            _out(text)

    def __call__(self, progress: JobProgress) -> None:
        if self._is_quiet:
            return
        stage = f"{progress.stage.value:<10}"
        elapsed = f"{progress.stage_elapsed_s:6.1f} s"
        if progress.state in _FINAL_STATES:
            detail = f"  {progress.detail}" if progress.state is StageState.FAILED else ""
            self._line(f"{stage} {progress.state.value:<9} {elapsed}{detail}", is_final=True)
            return
        if progress.state is StageState.RETRYING:
            wait = progress.retry_in_s or 0.0
            text = f"{stage} retrying  {elapsed}  attempt {progress.attempt} failed, next in "
            self._line(f"{text}{wait:.1f} s: {progress.detail[:80]}", is_final=True)
            return
        percent = f"{progress.percent:3.0f}%" if progress.percent is not None else "    "
        text = f"{stage} {percent}     {elapsed}  {progress.detail[:50]}"
        self._line(f"{text}  [job {progress.job_percent:3.0f}%]", is_final=False)


_FINAL_STATES = frozenset({StageState.SUCCEEDED, StageState.FAILED, StageState.CANCELLED})


async def run_with_display(
    runner: GenerationRunner, request: GenerationRequest, *, is_quiet: bool
) -> JobResult:
    """Run one job with a progress display; Ctrl-C or SIGTERM cancels it cleanly."""
    job = runner.start(request, on_progress=ProgressDisplay(is_quiet=is_quiet))
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, job.cancel)
            handled.append(sig)
        except (RuntimeError, ValueError):  # not the main thread: the caller handles signals
            break
    try:
        return await job.wait()
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def report(result: JobResult) -> int:
    """Print the outcome; the exit status."""
    manifest = result.folder / "manifest.json"
    if result.status is JobStatus.SUCCEEDED:
        state = "started" if result.is_started else "loaded" if result.is_loaded else "stored"
        _out(f"package {result.package_id}: {state}")
        _out(f"job folder: {result.folder}")
        return EXIT_OK
    error = result.error
    where = f"{error.stage.value}: {error.reason}" if error is not None else "unknown error"
    _err(f"generation {result.status.value} at {where}")
    _err(f"manifest: {manifest}")
    return EXIT_INTERRUPTED if result.status is JobStatus.CANCELLED else EXIT_FAILED


def add_generate_command(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``generate INSTRUCTION`` (sets ``func`` -> exit code)."""
    gen = subparsers.add_parser(
        "generate",
        help="instruction + camera frame -> cloud generation -> motion package",
        description="Captures the scene, turns the robot into a person (Gemini), plans the "
        "task and writes the video prompt (OpenAI), generates the video (Kling), estimates the "
        "motion (estimation service) and uploads the package to the running service.",
    )
    gen.add_argument("instruction", help='the task, e.g. "pick up the box"')
    gen.add_argument(
        "--view",
        choices=[v.value for v in CameraView],
        default="front",
        help="the camera sees the robot from the front or the back",
    )
    gen.add_argument(
        "--auto-start", action="store_true", help="ask the service to load and start the package"
    )
    gen.add_argument(
        "--camera",
        default=None,
        help="camera source: /dev/videoN or N, rtsp://..., http(s)://..., an image "
        "file, or sim (default: generation.camera.source)",
    )
    gen.add_argument("--config", type=Path, default=None, help="TOML configuration")
    gen.add_argument(
        "--jobs-dir",
        type=Path,
        default=None,
        help="where job folders go (default: generation.jobs_dir)",
    )
    gen.add_argument(
        "--no-send", action="store_true", help="only validate the package here; do not upload it"
    )
    gen.add_argument("--endpoint", default=None, help="upload endpoint (default: from config)")
    gen.add_argument("--quiet", action="store_true", help="no progress display")
    gen.set_defaults(func=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from controller.robot.model_source import resolve_model
    from daemon.config import DEFAULT_CONFIG_PATH, load_config, service_environment

    if args.config is None:
        edge = load_config(DEFAULT_CONFIG_PATH, required=False)
    else:
        edge = load_config(args.config, required=True)
    config: GenerationConfig = getattr(edge, "generation", None) or GenerationConfig()
    try:
        if args.camera is not None:
            config = dataclasses.replace(
                config, camera=dataclasses.replace(config.camera, source=args.camera)
            )
        if args.jobs_dir is not None:
            config = dataclasses.replace(config, jobs_dir=args.jobs_dir)
        request = GenerationRequest(args.instruction, CameraView(args.view), args.auto_start)
    except ValueError as exc:
        _err(f"exoactor-edge generate: {exc}")
        return EXIT_USAGE
    if args.no_send and args.auto_start:
        _err("exoactor-edge generate: --auto-start needs the service (drop --no-send)")
        return EXIT_USAGE
    base_dir = args.config.parent if args.config is not None else None
    source = resolve_model(
        edge.robot.mjcf_path, base_dir=base_dir, use_official=edge.robot.use_official_model
    )
    library: MotionLibrary
    activator: PackageActivator | None = None
    if args.no_send:
        library = LocalCheckLibrary()
    else:
        library = UploadLibrary(
            endpoint=args.endpoint or edge.ingest.endpoints[0], timeout_s=config.submit_timeout_s
        )
        if args.auto_start:
            activator = AdminActivator(run_dir=edge.daemon.run_dir, is_start_wanted=True)
    credentials = service_environment().get("CREDENTIALS_DIRECTORY")

    async def main() -> JobResult:
        camera = make_frame_source(config.camera, model_source=source)
        async with GenerationRunner(
            config=config,
            library=library,
            activator=activator,
            camera=camera,
            credentials_dir=Path(credentials) if credentials else None,
        ) as runner:
            return await run_with_display(runner, request, is_quiet=args.quiet)

    try:
        result = asyncio.run(main())
    except OSError as exc:
        _err(f"exoactor-edge generate: {exc}")
        return EXIT_FAILED
    code = report(result)
    if code == EXIT_OK and not args.no_send and not args.auto_start:
        _out(f"start it with the fleet's startMotion (packageId {result.package_id})")
    if code == EXIT_OK and args.no_send:
        _out(f"upload it with: exoactor-edge send {result.folder / 'motion.pkg'}")
    return code
