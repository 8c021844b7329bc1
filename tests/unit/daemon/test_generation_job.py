"""Generation jobs end to end against the fake cloud: success, every failure mode, cancellation,
retries, progress, the manifest, and no secret anywhere.

Real: ``GenerationRunner`` with the real Gemini, OpenAI, Kling and estimation clients on a real
``httpx.AsyncClient``; the fake services as real HTTP servers on loopback; credential files and
job folders in tmp_path. Faked: the cloud (``daemon.generation.fakes``), the camera (a drawn
frame), the motion library and the activator (in-memory recorders satisfying the Protocols).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.control.control_link import CommandResult
from daemon.generation import (
    GenerationConfig,
    GenerationRequest,
    GenerationRunner,
    JobBusyError,
    JobProgress,
    JobResult,
    JobStatus,
    Stage,
    StageState,
    StaticFrame,
)
from daemon.generation.config import CredentialRef
from daemon.generation.errors import ErrorKind
from daemon.generation.fakes import FakeCloud, FakeService, Fault, FaultKind
from daemon.generation.fakes.scene import synthetic_scene
from daemon.library.motion_library import IngestResult
from estimators.package import CameraView, PackageConfig, decode_package
from estimators.track import ReferenceTrack


class RecordingLibrary:
    """A ``MotionLibrary`` that validates like the real one's decoder and records submissions."""

    def __init__(self, *, rejection: IngestResult | None = None) -> None:
        self.submitted: list[tuple[bytes, str]] = []
        self._rejection = rejection

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        if self._rejection is not None:
            return self._rejection
        self.submitted.append((data, source))
        meta = decode_package(data, PackageConfig()).package.meta
        return IngestResult(True, package_id=meta.package_id)

    async def track(self, package_id: str) -> ReferenceTrack:
        raise NotImplementedError

    def package_ids(self) -> list[str]:
        return []


class RecordingActivator:
    def __init__(self, *, load: CommandResult | None = None) -> None:
        self.loaded: list[str] = []
        self.started: list[str] = []
        self._load = load or CommandResult(True)

    async def load(self, package_id: str) -> CommandResult:
        if self._load.accepted:
            self.loaded.append(package_id)
        return self._load

    async def start(self, package_id: str) -> CommandResult:
        self.started.append(package_id)
        return CommandResult(True)


@dataclasses.dataclass
class Outcome:
    result: JobResult
    events: list[JobProgress]
    manifest: dict[str, Any]
    library: RecordingLibrary
    activator: RecordingActivator


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud(package_duration_s=1.0) as running:
        yield running


def run_job(
    config: GenerationConfig,
    *,
    request: GenerationRequest | None = None,
    library: RecordingLibrary | None = None,
    activator: RecordingActivator | None = None,
) -> Outcome:
    library = library or RecordingLibrary()
    activator = activator or RecordingActivator()
    events: list[JobProgress] = []

    async def main() -> JobResult:
        async with GenerationRunner(
            config=config,
            library=library,
            activator=activator,
            camera=StaticFrame(synthetic_scene()),
        ) as runner:
            return await runner.run(
                request or GenerationRequest("pick up the box"), on_progress=events.append
            )

    result = asyncio.run(asyncio.wait_for(main(), 30))
    manifest = json.loads((result.folder / "manifest.json").read_text())
    return Outcome(result, events, manifest, library, activator)


def test_the_whole_flow_submits_loads_and_records_everything(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    out = run_job(
        cloud.generation_config(tmp_path),
        request=GenerationRequest("pick up the box", CameraView.BACK, job_id="job-ok"),
    )
    assert out.result.status is JobStatus.SUCCEEDED
    assert (out.result.package_id, out.result.is_loaded, out.result.is_started) == (
        "job-ok",
        True,
        False,
    )
    assert out.activator.loaded == ["job-ok"]
    assert out.activator.started == []  # no autoStart
    assert out.library.submitted[0][1] == "generation:job-ok"
    manifest = out.manifest
    assert manifest["status"] == "succeeded"
    assert manifest["error"] is None
    assert manifest["request"] == {
        "instruction": "pick up the box",
        "view": "back",
        "auto_start": False,
    }
    assert list(manifest["stages"]) == [s.value for s in Stage]
    assert all(s["state"] == "succeeded" for s in manifest["stages"].values())
    files = {a["file"] for a in manifest["artifacts"].values()}
    assert files == {"initial.png", "human.png", "plan.json", "video.mp4", "motion.pkg"}
    for name in files:
        assert (out.result.folder / name).stat().st_size > 0
    plan = json.loads((out.result.folder / "plan.json").read_text())
    assert plan["actions"][0]["name"] == "approach the box"
    assert set(manifest["remote_ids"]) == {"openai_response_id", "kling_task_id", "estimation_id"}
    meta = decode_package(
        (out.result.folder / "motion.pkg").read_bytes(), PackageConfig()
    ).package.meta
    assert meta.camera_view is CameraView.BACK  # the view travelled to the estimation service


def test_progress_reports_every_stage_in_order_ending_at_100_percent(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    out = run_job(cloud.generation_config(tmp_path))
    started = [e.stage for e in out.events if e.state is StageState.STARTED]
    assert started == list(Stage)
    assert out.events[-1].state is StageState.SUCCEEDED
    assert out.events[-1].job_percent == pytest.approx(100.0)
    percents = [e.job_percent for e in out.events]
    assert percents == sorted(percents)  # never goes back
    running = [e for e in out.events if e.stage is Stage.ESTIMATION and e.percent is not None]
    assert any(0 < e.percent < 100 for e in running if e.percent is not None)
    assert all(e.job_id == out.result.job_id and e.attempt >= 1 for e in out.events)


def test_auto_start_starts_the_loaded_package(cloud: FakeCloud, tmp_path: Path) -> None:
    out = run_job(
        cloud.generation_config(tmp_path),
        request=GenerationRequest("pick up the box", is_auto_start=True, job_id="j2"),
    )
    assert out.activator.started == ["j2"]
    assert out.manifest["is_started"] is True


def _slow(delay_s: float) -> Fault:
    return Fault(FaultKind.SLOW, delay_s=delay_s, times=None)


# (service, fault, stage, kind, status/code check)
FAILURES: list[tuple[str, str, Fault, Stage, ErrorKind, Any]] = [
    (
        "gemini auth failure",
        "gemini",
        Fault(FaultKind.AUTH_FAILURE, times=None),
        Stage.EMBODIMENT,
        ErrorKind.AUTH,
        400,
    ),
    (
        "gemini 429 persists",
        "gemini",
        Fault(FaultKind.RATE_LIMITED, retry_after_s=0.01, times=None),
        Stage.EMBODIMENT,
        ErrorKind.RATE_LIMITED,
        429,
    ),
    (
        "gemini 503 persists",
        "gemini",
        Fault(FaultKind.HTTP_ERROR, status=503, times=None),
        Stage.EMBODIMENT,
        ErrorKind.HTTP_STATUS,
        503,
    ),
    (
        "gemini text, no image",
        "gemini",
        Fault(FaultKind.NO_IMAGE, times=None),
        Stage.EMBODIMENT,
        ErrorKind.NO_IMAGE,
        None,
    ),
    ("gemini slow past timeout", "gemini", _slow(1.0), Stage.EMBODIMENT, ErrorKind.TIMEOUT, None),
    (
        "gemini malformed JSON",
        "gemini",
        Fault(FaultKind.MALFORMED_JSON),
        Stage.EMBODIMENT,
        ErrorKind.BAD_RESPONSE,
        None,
    ),
    (
        "openai auth failure",
        "openai",
        Fault(FaultKind.AUTH_FAILURE),
        Stage.PLANNING,
        ErrorKind.AUTH,
        401,
    ),
    (
        "openai 400 not retried",
        "openai",
        Fault(FaultKind.HTTP_ERROR, status=400),
        Stage.PLANNING,
        ErrorKind.HTTP_STATUS,
        400,
    ),
    (
        "openai malformed JSON",
        "openai",
        Fault(FaultKind.MALFORMED_JSON),
        Stage.PLANNING,
        ErrorKind.BAD_RESPONSE,
        None,
    ),
    ("openai refusal", "openai", Fault(FaultKind.BLOCKED), Stage.PLANNING, ErrorKind.BLOCKED, None),
    (
        "kling auth failure",
        "kling",
        Fault(FaultKind.AUTH_FAILURE),
        Stage.VIDEO,
        ErrorKind.AUTH,
        401,
    ),
    (
        "kling token expired always",
        "kling",
        Fault(FaultKind.EXPIRED_TOKEN, times=None),
        Stage.VIDEO,
        ErrorKind.AUTH,
        "1004",
    ),
    (
        "kling concurrency 1303",
        "kling",
        Fault(FaultKind.RATE_LIMITED, code=1303, times=None),
        Stage.VIDEO,
        ErrorKind.RATE_LIMITED,
        "1303",
    ),
    (
        "kling task failed",
        "kling",
        Fault(FaultKind.TASK_FAILED),
        Stage.VIDEO,
        ErrorKind.TASK_FAILED,
        None,
    ),
    (
        "kling malformed JSON",
        "kling",
        Fault(FaultKind.MALFORMED_JSON, method="GET"),
        Stage.VIDEO,
        ErrorKind.BAD_RESPONSE,
        None,
    ),
    (
        "estimation failed",
        "estimation",
        Fault(FaultKind.TASK_FAILED),
        Stage.ESTIMATION,
        ErrorKind.TASK_FAILED,
        "no_person",
    ),
    (
        "estimation 503 persists",
        "estimation",
        Fault(FaultKind.HTTP_ERROR, status=503, times=None),
        Stage.ESTIMATION,
        ErrorKind.HTTP_STATUS,
        503,
    ),
    (
        "estimation slow past timeout",
        "estimation",
        _slow(1.0),
        Stage.ESTIMATION,
        ErrorKind.TIMEOUT,
        None,
    ),
    (
        "estimation auth failure",
        "estimation",
        Fault(FaultKind.AUTH_FAILURE),
        Stage.ESTIMATION,
        ErrorKind.AUTH,
        401,
    ),
]


@pytest.mark.parametrize(
    ("name", "service", "fault", "stage", "kind", "detail"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_each_failure_ends_stage_specific_in_the_manifest_with_nothing_loaded(
    cloud: FakeCloud,
    tmp_path: Path,
    name: str,
    service: str,
    fault: Fault,
    stage: Stage,
    kind: ErrorKind,
    detail: Any,
) -> None:
    target: FakeService = getattr(cloud, service)
    target.inject(dataclasses.replace(fault))
    config = cloud.generation_config(tmp_path)
    if fault.kind is FaultKind.SLOW:  # requests time out after 0.2 s; the fault waits 1 s
        config = dataclasses.replace(
            config,
            gemini=dataclasses.replace(config.gemini, request_timeout_s=0.2),
            estimation=dataclasses.replace(config.estimation, request_timeout_s=0.2),
        )
    out = run_job(config)
    assert out.result.status is JobStatus.FAILED
    error = out.manifest["error"]
    assert (error["stage"], error["kind"]) == (stage.value, kind.value), error
    assert error["reason"]
    assert error["attempts"] >= 1
    if isinstance(detail, int):
        assert error["status"] == detail
    elif isinstance(detail, str):
        assert error["code"] == detail
    assert out.manifest["stages"][stage.value]["state"] == "failed"
    assert out.manifest["status"] == "failed"
    assert out.manifest["is_loaded"] is False
    assert out.library.submitted == []
    assert out.activator.loaded == []
    assert out.events[-1].state is StageState.FAILED
    assert out.events[-1].stage is stage


def test_a_missing_credential_fails_its_stage_before_any_request(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    config = cloud.generation_config(tmp_path)
    missing = dataclasses.replace(
        config.kling, secret_key_credential=CredentialRef(file=tmp_path / "nope")
    )
    out = run_job(dataclasses.replace(config, kling=missing))
    assert (out.manifest["error"]["stage"], out.manifest["error"]["kind"]) == (
        "video",
        "credentials",
    )
    assert "nope does not exist" in out.manifest["error"]["reason"]
    assert cloud.all_requests() == []


def test_a_rejected_package_and_a_refused_load_are_their_own_stages(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    rejecting = RecordingLibrary(
        rejection=IngestResult(
            False, code="joint_limits", field="body_pose", detail="knee beyond limit"
        )
    )
    out = run_job(cloud.generation_config(tmp_path / "a"), library=rejecting)
    assert out.manifest["error"]["stage"] == "submit"
    assert out.manifest["error"]["code"] == "joint_limits"
    assert "knee beyond limit" in out.manifest["error"]["reason"]
    assert out.activator.loaded == []
    refusing = RecordingActivator(load=CommandResult(False, "a motion is running"))
    out = run_job(cloud.generation_config(tmp_path / "b"), activator=refusing)
    assert (out.manifest["error"]["stage"], out.manifest["error"]["kind"]) == ("load", "refused")
    assert out.manifest["is_loaded"] is False


@pytest.mark.parametrize(
    ("service", "fault"),
    [
        ("gemini", Fault(FaultKind.NO_IMAGE)),
        ("gemini", Fault(FaultKind.HTTP_ERROR, status=500)),
        ("kling", Fault(FaultKind.RATE_LIMITED, code=1303, method="POST")),
        ("kling", Fault(FaultKind.EXPIRED_TOKEN, method="POST")),
        ("estimation", Fault(FaultKind.RATE_LIMITED, retry_after_s=0.01, method="GET")),
    ],
)
def test_a_transient_failure_is_retried_and_the_job_succeeds(
    cloud: FakeCloud, tmp_path: Path, service: str, fault: Fault
) -> None:
    getattr(cloud, service).inject(fault)
    out = run_job(cloud.generation_config(tmp_path))
    assert out.result.status is JobStatus.SUCCEEDED
    assert any(e.state is StageState.RETRYING for e in out.events)
    assert max(s["attempts"] for s in out.manifest["stages"].values()) == 2


def test_retry_after_is_honoured_and_shown_in_progress(cloud: FakeCloud, tmp_path: Path) -> None:
    cloud.gemini.inject(Fault(FaultKind.RATE_LIMITED, retry_after_s=0.3))
    out = run_job(cloud.generation_config(tmp_path))
    assert out.result.status is JobStatus.SUCCEEDED
    first, second = cloud.gemini.requests
    assert second.at - first.at >= 0.3
    retry = next(e for e in out.events if e.state is StageState.RETRYING)
    assert (retry.stage, retry.attempt, retry.retry_in_s) == (Stage.EMBODIMENT, 1, 0.3)
    assert "429" in retry.detail
    assert out.manifest["stages"]["embodiment"]["attempts"] == 2


def test_a_stage_past_its_time_limit_is_a_timeout_of_that_stage(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    cloud.kling.submitted_polls = 10_000  # the task never finishes
    config = cloud.generation_config(tmp_path)
    out = run_job(
        dataclasses.replace(config, kling=dataclasses.replace(config.kling, stage_timeout_s=0.4))
    )
    error = out.manifest["error"]
    assert (error["stage"], error["kind"]) == ("video", "timeout")
    assert "0.4 s" in error["reason"]


@pytest.mark.parametrize("stage", [Stage.EMBODIMENT, Stage.VIDEO])
def test_cancel_stops_the_job_within_a_second(
    cloud: FakeCloud, tmp_path: Path, stage: Stage
) -> None:
    config = cloud.generation_config(tmp_path)
    if stage is Stage.EMBODIMENT:  # an HTTP request in flight
        cloud.gemini.inject(_slow(30.0))
        target: FakeService = cloud.gemini
    else:  # between polls of a remote task
        cloud.kling.submitted_polls = 10_000
        config = dataclasses.replace(
            config, kling=dataclasses.replace(config.kling, poll_initial_s=20.0)
        )
        target = cloud.kling
    library, activator = RecordingLibrary(), RecordingActivator()

    async def main() -> tuple[JobResult, float]:
        async with GenerationRunner(
            config=config,
            library=library,
            activator=activator,
            camera=StaticFrame(synthetic_scene()),
        ) as runner:
            job = runner.start(GenerationRequest("pick up the box"))
            for _ in range(1000):  # until the request (or the polling) is under way
                if any(r.method == "GET" or stage is Stage.EMBODIMENT for r in target.requests):
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            loop = asyncio.get_running_loop()
            begun = loop.time()
            job.cancel()
            result = await job.wait()
            return result, loop.time() - begun

    result, took_s = asyncio.run(asyncio.wait_for(main(), 30))
    assert took_s < 1.0
    assert result.status is JobStatus.CANCELLED
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["status"] == "cancelled"
    assert (manifest["error"]["stage"], manifest["error"]["kind"]) == (stage.value, "cancelled")
    assert manifest["stages"][stage.value]["state"] == "cancelled"
    assert library.submitted == []
    assert activator.loaded == []


def test_one_job_at_a_time_and_leaving_the_runner_cancels_it(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    cloud.gemini.inject(_slow(30.0))

    async def main() -> JobResult:
        async with GenerationRunner(
            config=cloud.generation_config(tmp_path),
            library=RecordingLibrary(),
            activator=None,
            camera=StaticFrame(synthetic_scene()),
        ) as runner:
            job = runner.start(GenerationRequest("pick up the box"))
            with pytest.raises(JobBusyError) as info:
                runner.start(GenerationRequest("wave"))
            assert info.value.running_job_id == job.job_id
            await asyncio.sleep(0.1)
        return await job.wait()

    assert asyncio.run(asyncio.wait_for(main(), 10)).status is JobStatus.CANCELLED


def test_old_job_folders_are_pruned(cloud: FakeCloud, tmp_path: Path) -> None:
    config = dataclasses.replace(cloud.generation_config(tmp_path), keep_jobs=2)
    folders = [run_job(config).result.folder for _ in range(3)]
    assert [f.exists() for f in folders] == [False, True, True]


def test_no_key_or_token_is_written_anywhere(
    cloud: FakeCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        outcomes = [run_job(cloud.generation_config(tmp_path / "ok"))]
        for service, fault in [
            ("gemini", FaultKind.AUTH_FAILURE),
            ("openai", FaultKind.AUTH_FAILURE),
            ("kling", FaultKind.EXPIRED_TOKEN),
            ("kling", FaultKind.AUTH_FAILURE),
        ]:
            getattr(cloud, service).inject(Fault(fault, times=None))
            outcomes.append(run_job(cloud.generation_config(tmp_path / f"{service}-{fault.value}")))
            getattr(cloud, service).clear_faults()
    assert outcomes[0].result.status is JobStatus.SUCCEEDED
    assert all(o.result.status is JobStatus.FAILED for o in outcomes[1:])
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)  # httpx did log
    texts.append(caplog.text)
    for outcome in outcomes:
        texts += [repr(outcome.result), str(outcome.result.error), repr(outcome.result.error)]
        texts += [json.dumps(e.__dict__, default=str) for e in outcome.events]
        for path in outcome.result.folder.iterdir():
            texts.append(path.read_bytes().decode("latin-1"))
    everything = "\n".join(texts)
    forbidden = list(cloud.secrets.values()) + sorted(cloud.kling.tokens_seen)
    assert len(cloud.kling.tokens_seen) >= 1
    for value in forbidden:
        assert value not in everything
    assert "Bearer" not in everything


class BrokenLibrary(RecordingLibrary):
    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        raise OSError(28, "No space left on device")


def test_an_unexpected_error_still_ends_the_job_with_a_manifest(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    out = run_job(cloud.generation_config(tmp_path), library=BrokenLibrary())
    assert out.result.status is JobStatus.FAILED
    error = out.manifest["error"]
    assert (error["stage"], error["kind"]) == ("submit", "internal")
    assert "No space left on device" in error["reason"]
    assert out.manifest["stages"]["submit"]["state"] == "failed"
    assert out.activator.loaded == []
