"""The generation stage with the real motion library, the real upload endpoint and the CLI.

Real: the fake cloud services as HTTP servers on loopback with the real clients; the real
``PackageLibrary`` (validation, reference track with MuJoCo inverse dynamics on the built-in
G1, on-disk store in tmp_path); the real ZeroMQ ``IngestServer`` on a loopback TCP port for
``exoactor-edge generate``'s upload; the ``generate`` command's argument parsing and output.
Faked: the cloud, the camera (a drawn frame written as a PNG) and the control process (a
``ControlLink`` that records what it is asked to load and start).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from daemon.cli.generate_cli import add_generate_command
from daemon.config import EdgeConfig
from daemon.control.control_link import CommandKind, CommandResult, ControlStatus, ModeEvent
from daemon.generation import (
    ControlLinkActivator,
    GenerationConfig,
    GenerationRequest,
    GenerationRunner,
    JobStatus,
    StaticFrame,
)
from daemon.generation.fakes import FakeCloud, Fault, FaultKind
from daemon.generation.fakes.scene import synthetic_scene
from daemon.inputs.ingest_zmq import IngestConfig, IngestServer
from daemon.library.package_library import PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from estimators.package import CameraView
from estimators.track import ReferenceTrack

pytestmark = pytest.mark.integration


class RecordingLink:
    """The control process as far as loading and starting goes."""

    def __init__(self) -> None:
        self.loaded: list[tuple[str, int]] = []
        self.commands: list[CommandKind] = []

    async def estop(self, source: str) -> None:
        raise AssertionError("generation never touches the e-stop")

    async def command(self, kind: CommandKind, *, start_frame: int = 0) -> CommandResult:
        self.commands.append(kind)
        return CommandResult(True)

    async def load_track(self, package_id: str, track: ReferenceTrack) -> CommandResult:
        self.loaded.append((package_id, track.n_frames))
        return CommandResult(True)

    async def stream(
        self, frame_index: npt.NDArray[np.int64], rows: ReferenceTrack, *, start: bool
    ) -> CommandResult:
        raise AssertionError("generation never streams")

    async def stop_stream(self) -> CommandResult:
        raise AssertionError("generation never streams")

    def status(self) -> ControlStatus:
        return ControlStatus(is_alive=True)

    async def events(self) -> AsyncIterator[ModeEvent]:
        return
        yield


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    with FakeCloud(package_duration_s=2.0) as running:
        yield running


def library_in(tmp_path: Path) -> PackageLibrary:
    return PackageLibrary(
        store=PackageStore(PackageStoreConfig(root=tmp_path / "store")),
        config=PackageLibraryConfig(),
    )


def run(
    config: GenerationConfig,
    library: PackageLibrary,
    link: RecordingLink,
    request: GenerationRequest,
) -> Any:
    async def main() -> Any:
        async with GenerationRunner(
            config=config,
            library=library,
            activator=ControlLinkActivator(link=link, library=library),
            camera=StaticFrame(synthetic_scene()),
        ) as runner:
            return await runner.run(request)

    return asyncio.run(asyncio.wait_for(main(), 60))


def test_the_package_passes_real_validation_and_its_track_is_loaded_and_started(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    library, link = library_in(tmp_path), RecordingLink()
    request = GenerationRequest(
        "pick up the box", CameraView.FRONT, is_auto_start=True, job_id="gen-it-1"
    )
    result = run(cloud.generation_config(tmp_path), library, link, request)
    assert result.status is JobStatus.SUCCEEDED, result.error
    assert library.package_ids() == ["gen-it-1"]
    assert link.loaded == [("gen-it-1", 101)]  # 2 s at 50 Hz
    assert link.commands == [CommandKind.START_TRACK]
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert (manifest["is_loaded"], manifest["is_started"]) == (True, True)


def test_a_package_the_library_refuses_ends_at_submit_and_nothing_is_loaded(
    cloud: FakeCloud, tmp_path: Path
) -> None:
    cloud.estimation.inject(Fault(FaultKind.MALFORMED_JSON, path_contains="/package"))
    library, link = library_in(tmp_path), RecordingLink()
    result = run(
        cloud.generation_config(tmp_path), library, link, GenerationRequest("pick up the box")
    )
    assert result.status is JobStatus.FAILED
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert (manifest["error"]["stage"], manifest["error"]["kind"]) == ("submit", "package_rejected")
    assert manifest["error"]["code"]
    assert library.package_ids() == []
    assert link.loaded == []


def generate(argv: list[str], edge: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    parser = argparse.ArgumentParser()
    add_generate_command(parser.add_subparsers())
    args = parser.parse_args(["generate", *argv])
    monkeypatch.setattr("daemon.config.load_config", lambda *a, **k: edge)
    code: int = args.func(args)
    return code


def edge_with(generation: GenerationConfig | None, **sections: Any) -> Any:
    """The service configuration as the lead's EdgeConfig will have it (a generation section)."""
    base = EdgeConfig()
    values = {name: getattr(base, name) for name in ("robot", "daemon", "ingest")}
    return SimpleNamespace(generation=generation, **{**values, **sections})


def test_cli_runs_the_stages_and_uploads_to_the_running_service(
    cloud: FakeCloud,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(synthetic_scene().data)
    library = library_in(tmp_path)

    async def main() -> int:
        config = IngestConfig(endpoints=("tcp://127.0.0.1:*",))
        async with IngestServer(library=library, config=config) as server:
            edge = edge_with(
                cloud.generation_config(tmp_path),
                ingest=IngestConfig(endpoints=server.bound_endpoints),
            )
            return await asyncio.to_thread(
                generate, ["pick up the box", "--camera", str(frame), "--quiet"], edge, monkeypatch
            )

    assert asyncio.run(asyncio.wait_for(main(), 60)) == 0
    out = capsys.readouterr().out
    assert ": stored" in out
    assert "startMotion" in out
    assert len(library.package_ids()) == 1


def test_cli_no_send_validates_locally_and_shows_progress(
    cloud: FakeCloud,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = tmp_path / "frame.png"
    frame.write_bytes(synthetic_scene().data)
    edge = edge_with(cloud.generation_config(tmp_path))
    code = generate(
        ["pick up the box", "--view", "back", "--camera", str(frame), "--no-send"],
        edge,
        monkeypatch,
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "embodiment succeeded" in " ".join(out.split())
    assert "exoactor-edge send" in out


def test_cli_failure_names_the_stage_and_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    frame = tmp_path / "frame.png"
    frame.write_bytes(synthetic_scene().data)
    edge = edge_with(None)  # no generation section: the real providers, systemd credentials
    code = generate(
        [
            "pick up the box",
            "--camera",
            str(frame),
            "--no-send",
            "--quiet",
            "--jobs-dir",
            str(tmp_path / "jobs"),
        ],
        edge,
        monkeypatch,
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "generation failed at embodiment: credential gemini-api-key" in err
    assert "manifest: " in err


@pytest.mark.parametrize(
    "argv", [["  "], ["pick up", "--no-send", "--auto-start"]], ids=["empty", "auto-start-no-send"]
)
def test_cli_usage_errors_exit_2(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edge = edge_with(dataclasses.replace(GenerationConfig(), jobs_dir=tmp_path))
    assert generate(argv, edge, monkeypatch) == 2
