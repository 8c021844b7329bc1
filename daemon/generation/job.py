"""Generation jobs: instruction + camera frame -> motion package, stage by stage, cancellable.

``GenerationRunner`` is the daemon adapter (an async context manager owning the HTTP client and
the job task). ``start`` begins one job (one at a time) and returns a ``GenerationJob`` handle;
the stages run in ``Stage`` order, each under its own time limit, each reported through the
caller's progress callback and recorded in the job folder's manifest:

capture -> embodiment (Gemini) -> planning (OpenAI) -> video (Kling) -> estimation ->
submit (``MotionLibrary.submit``: the normal validation and store) -> load (the caller's
``PackageActivator``; start only with autoStart).

A failure ends the job with a stage-specific ``GenerationError`` in the manifest, and nothing is
loaded. ``cancel`` cancels the job task: the HTTP request in flight is abandoned at once and the
manifest says ``cancelled``. Nothing here runs on the control process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

from daemon.generation.activation import PackageActivator
from daemon.generation.camera import FrameSource
from daemon.generation.config import GenerationConfig
from daemon.generation.errors import ErrorKind, GenerationError, JobBusyError, StageTimeoutError
from daemon.generation.manifest import JobManifest, JobStatus, prune_jobs
from daemon.generation.progress import (
    JobProgress,
    ProgressCallback,
    Stage,
    StageState,
)
from daemon.generation.providers import CloudProviders, build_providers, describe_providers
from daemon.generation.request import GenerationJob, GenerationRequest, JobResult, new_job_id
from daemon.library.motion_library import MotionLibrary

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Reporter:
    """A ``StageReporter`` for one stage of one job: progress callback + manifest."""

    def __init__(self, run: _JobRun, stage: Stage) -> None:
        self._run = run
        self.stage = stage
        self.started = time.monotonic()
        self.attempts = 0
        """Attempt number of the request in flight (1 = first try)."""
        self.most_attempts = 0
        """The most attempts any request of this stage needed (the manifest's figure)."""

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def emit(
        self,
        state: StageState,
        *,
        percent: float | None = None,
        detail: str = "",
        retry_in_s: float | None = None,
    ) -> None:
        self._run.emit(
            JobProgress(
                job_id=self._run.job_id,
                stage=self.stage,
                state=state,
                attempt=max(1, self.attempts),
                stage_elapsed_s=self.elapsed_s,
                job_elapsed_s=time.monotonic() - self._run.started,
                percent=percent,
                detail=detail,
                retry_in_s=retry_in_s,
            )
        )

    def attempt(self, number: int) -> None:
        self.attempts = number
        self.most_attempts = max(self.most_attempts, number)

    def retrying(self, reason: str, delay_s: float) -> None:
        self.emit(StageState.RETRYING, detail=reason, retry_in_s=delay_s)

    def running(self, *, percent: float | None = None, detail: str = "") -> None:
        self.emit(StageState.RUNNING, percent=percent, detail=detail)

    def remote_id(self, name: str, value: str) -> None:
        self._run.manifest.remote_id(name, value)
        self._run.manifest.write()


class _JobRun:
    """The state of one running job (lives inside its task)."""

    def __init__(self, job_id: str, manifest: JobManifest, on_progress: ProgressCallback) -> None:
        self.job_id = job_id
        self.manifest = manifest
        self.started = time.monotonic()
        self.elapsed: dict[Stage, float] = {}
        self.stage = Stage.CAPTURE
        """The stage running now, or the last one that ran."""
        self.reporter: _Reporter | None = None
        """The running stage's reporter; None between stages."""
        self._on_progress = on_progress

    def emit(self, progress: JobProgress) -> None:
        try:
            self._on_progress(progress)
        # The boundary to the caller's code: a broken display must not fail the job.
        except Exception:
            log.exception("generation progress callback failed")


class GenerationRunner:
    """Runs generation jobs for the daemon (or the command line).

    Args:
        config: providers, timeouts, job folders.
        library: where the package goes (normal validation and store).
        activator: loads and starts an accepted package; None stores it only.
        camera: the initial observation.
        credentials_dir: ``$CREDENTIALS_DIRECTORY`` under systemd, else None.
        providers: the remote stages; None builds them from ``config`` for every job.
        client: an HTTP client to use (and not close); by default one is made and closed.
    """

    def __init__(
        self,
        *,
        config: GenerationConfig,
        library: MotionLibrary,
        activator: PackageActivator | None,
        camera: FrameSource,
        credentials_dir: Path | None = None,
        providers: CloudProviders | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        self._library = library
        self._activator = activator
        self._camera = camera
        self._credentials_dir = credentials_dir
        self._providers = providers
        self._client = client
        self._owns_client = client is None
        self._job: GenerationJob | None = None

    async def __aenter__(self) -> GenerationRunner:
        if self._client is None:
            # No proxies or .netrc from the environment: daemon.config is the only reader of it.
            self._client = httpx.AsyncClient(trust_env=False)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._job is not None and not self._job.is_done:
            self._job.cancel()
            await self._job.wait()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def current(self) -> GenerationJob | None:
        """The running job, if any."""
        return self._job if self._job is not None and not self._job.is_done else None

    def start(
        self, request: GenerationRequest, *, on_progress: ProgressCallback = lambda _: None
    ) -> GenerationJob:
        """Begin a job. Raises ``JobBusyError`` while another runs, ``OSError`` when the job
        folder cannot be made."""
        if self._client is None:
            raise RuntimeError("GenerationRunner used outside `async with`")
        if self.current is not None:
            raise JobBusyError(self.current.job_id)
        job_id = request.job_id or new_job_id()
        jobs_dir = self._config.jobs_dir
        jobs_dir.mkdir(parents=True, exist_ok=True)
        manifest = JobManifest(
            folder=jobs_dir / job_id,
            job_id=job_id,
            request={
                "instruction": request.instruction,
                "view": request.view.value,
                "auto_start": request.is_auto_start,
            },
            providers=describe_providers(self._config),
        )
        run = _JobRun(job_id, manifest, on_progress)
        task = asyncio.create_task(self._run(request, run), name=f"generation-job-{job_id}")
        self._job = GenerationJob(job_id, manifest.folder, task)
        log.info(
            "generation job %s started: %r (view %s)",
            job_id,
            request.instruction,
            request.view.value,
        )
        return self._job

    async def run(
        self, request: GenerationRequest, *, on_progress: ProgressCallback = lambda _: None
    ) -> JobResult:
        """``start`` and wait for the result."""
        return await self.start(request, on_progress=on_progress).wait()

    async def _run(self, request: GenerationRequest, run: _JobRun) -> JobResult:
        manifest = run.manifest
        try:
            await asyncio.to_thread(prune_jobs, self._config.jobs_dir, self._config.keep_jobs)
            await self._stages(request, run)
        except GenerationError as exc:
            log.error("generation job %s failed: %s", run.job_id, exc)
            manifest.finish(JobStatus.FAILED, exc)
            return self._result(run, JobStatus.FAILED, exc)
        # The job's boundary: whatever else escapes a stage (disk full, a library or activator
        # error outside their Protocols, a bug) still ends the job with a manifest that says so.
        except Exception as exc:
            log.exception("generation job %s failed unexpectedly", run.job_id)
            error = GenerationError(
                run.stage, ErrorKind.INTERNAL, f"unexpected {type(exc).__name__}: {exc}"[:300]
            )
            if run.reporter is not None:
                self._stage_failed(run, run.reporter, error)
            manifest.finish(JobStatus.FAILED, error)
            return self._result(run, JobStatus.FAILED, error)
        except asyncio.CancelledError:
            error = GenerationError(run.stage, ErrorKind.CANCELLED, "the job was cancelled")
            reporter = run.reporter or _Reporter(run, run.stage)
            error.attempts = reporter.most_attempts
            if run.reporter is not None:
                manifest.stage(
                    run.stage,
                    StageState.CANCELLED,
                    elapsed_s=reporter.elapsed_s,
                    attempts=reporter.most_attempts,
                )
            manifest.finish(JobStatus.CANCELLED, error)
            reporter.emit(StageState.CANCELLED, detail="cancelled")
            log.info("generation job %s cancelled during %s", run.job_id, run.stage.value)
            return self._result(run, JobStatus.CANCELLED, error)
        manifest.finish(JobStatus.SUCCEEDED)
        log.info("generation job %s done: package %s", run.job_id, manifest.data["package_id"])
        return self._result(run, JobStatus.SUCCEEDED, None)

    def _result(self, run: _JobRun, status: JobStatus, error: GenerationError | None) -> JobResult:
        data = run.manifest.data
        return JobResult(
            job_id=run.job_id,
            status=status,
            folder=run.manifest.folder,
            package_id=data["package_id"],
            is_loaded=data["is_loaded"],
            is_started=data["is_started"],
            error=error,
            stage_elapsed_s=dict(run.elapsed),
        )

    async def _stages(self, request: GenerationRequest, run: _JobRun) -> None:
        config = self._config
        manifest = run.manifest
        view = request.view

        async def stage(s: Stage, limit_s: float, work: Callable[[_Reporter], Awaitable[T]]) -> T:
            return await self._stage(run, s, limit_s, work)

        try:
            providers = self._providers or self._build_providers()
        except GenerationError as exc:  # a credential: fail the stage that needs it, up front
            run.stage = exc.stage
            self._stage_failed(run, _Reporter(run, exc.stage), exc)
            raise
        image = await stage(
            Stage.CAPTURE, config.camera.timeout_s + 1.0, lambda _: self._camera.capture(view=view)
        )
        await self._save(manifest, "initial_image", f"initial{image.format.suffix}", image.data)
        human = await stage(
            Stage.EMBODIMENT,
            config.gemini.stage_timeout_s,
            lambda r: providers.embodiment.humanize(image, view=view, reporter=r),
        )
        await self._save(manifest, "human_image", f"human{human.format.suffix}", human.data)
        plan = await stage(
            Stage.PLANNING,
            config.openai.stage_timeout_s,
            lambda r: providers.planner.plan(
                request.instruction,
                human,
                view=view,
                duration_s=config.kling.duration_s,
                reporter=r,
            ),
        )
        plan_json = json.dumps(plan.to_dict(), indent=2).encode()
        await self._save(manifest, "plan", "plan.json", plan_json)
        video = await stage(
            Stage.VIDEO,
            config.kling.stage_timeout_s,
            lambda r: providers.video.generate(
                human, plan.video_prompt.text(), job_id=run.job_id, reporter=r
            ),
        )
        await self._save(manifest, "video", "video.mp4", video.data)
        package = await stage(
            Stage.ESTIMATION,
            config.estimation.stage_timeout_s,
            lambda r: providers.estimator.estimate(
                video.data,
                view=view,
                package_id=run.job_id,
                instruction=request.instruction,
                reporter=r,
            ),
        )
        await self._save(manifest, "package", "motion.pkg", package)
        package_id = await stage(
            Stage.SUBMIT, config.submit_timeout_s, lambda _: self._submit(run, package)
        )
        await stage(
            Stage.LOAD,
            config.load_timeout_s,
            lambda r: self._activate(run, package_id, request.is_auto_start, r),
        )

    async def _stage(
        self, run: _JobRun, stage: Stage, limit_s: float, work: Callable[[_Reporter], Awaitable[T]]
    ) -> T:
        reporter = _Reporter(run, stage)
        run.stage, run.reporter = stage, reporter
        manifest = run.manifest
        manifest.stage(stage, StageState.STARTED, elapsed_s=0.0, attempts=0)
        manifest.write()
        reporter.emit(StageState.STARTED)
        try:
            result = await asyncio.wait_for(work(reporter), limit_s)
        except asyncio.TimeoutError:
            error: GenerationError = StageTimeoutError(stage, limit_s)
            error.attempts = reporter.most_attempts
            self._stage_failed(run, reporter, error)
            raise error from None
        except GenerationError as exc:
            self._stage_failed(run, reporter, exc)
            raise
        run.reporter = None
        run.elapsed[stage] = reporter.elapsed_s
        attempts = max(1, reporter.most_attempts)
        manifest.stage(stage, StageState.SUCCEEDED, elapsed_s=run.elapsed[stage], attempts=attempts)
        manifest.write()
        reporter.emit(StageState.SUCCEEDED, percent=100.0)
        return result

    def _stage_failed(self, run: _JobRun, reporter: _Reporter, error: GenerationError) -> None:
        error.attempts = max(error.attempts, reporter.most_attempts)
        run.elapsed[reporter.stage] = reporter.elapsed_s
        run.manifest.stage(
            reporter.stage,
            StageState.FAILED,
            elapsed_s=reporter.elapsed_s,
            attempts=error.attempts,
            detail=error.reason,
        )
        reporter.emit(StageState.FAILED, detail=error.reason)

    def _build_providers(self) -> CloudProviders:
        if self._client is None:
            raise RuntimeError("GenerationRunner used outside `async with`")
        return build_providers(
            self._config, client=self._client, credentials_dir=self._credentials_dir
        )

    async def _save(self, manifest: JobManifest, key: str, filename: str, data: bytes) -> None:
        path = manifest.artifact_path(filename)
        await asyncio.to_thread(path.write_bytes, data)
        manifest.add_artifact(key, filename, len(data))
        manifest.write()

    async def _submit(self, run: _JobRun, package: bytes) -> str:
        result = await self._library.submit(package, source=f"generation:{run.job_id}")
        if not result.accepted or result.package_id is None:
            where = f" at {result.field}" if result.field else ""
            raise GenerationError(
                Stage.SUBMIT,
                ErrorKind.PACKAGE_REJECTED,
                f"the motion library refused the package: {result.code}{where}: {result.detail}",
                code=result.code,
            )
        run.manifest.set(package_id=result.package_id)
        return result.package_id

    async def _activate(
        self, run: _JobRun, package_id: str, is_auto_start: bool, reporter: _Reporter
    ) -> None:
        if self._activator is None:
            reporter.running(detail="stored only (no activator)")
            return
        loaded = await self._activator.load(package_id)
        if not loaded.accepted:
            raise GenerationError(
                Stage.LOAD,
                ErrorKind.REFUSED,
                f"the control process refused to load {package_id}: {loaded.reason}",
            )
        run.manifest.set(is_loaded=True)
        if is_auto_start:
            started = await self._activator.start(package_id)
            if not started.accepted:
                raise GenerationError(
                    Stage.LOAD,
                    ErrorKind.REFUSED,
                    f"{package_id} is loaded but did not start: {started.reason}",
                )
            run.manifest.set(is_started=True)
