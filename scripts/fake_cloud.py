"""Fake Gemini, OpenAI, Kling and estimation services on loopback, for trying generation.

Serve them and print a configuration snippet (Ctrl-C stops)::

    .venv/bin/python scripts/fake_cloud.py [--port-base 8701] [--state-dir DIR]

Or run the whole flow against them in one command: a drawn camera frame (or ``--camera``) ->
the four fake services -> the real motion library (validation, reference track with
feed-forward, store in DIR/store) -> the track loaded from the store::

    .venv/bin/python scripts/fake_cloud.py --run "pick up the box" [--view back] [--camera FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller.robot.model_source import ModelKind, ModelSource
from daemon.cli.generate_cli import report, run_with_display
from daemon.control.control_link import CommandResult
from daemon.generation import (
    GenerationConfig,
    GenerationRequest,
    GenerationRunner,
    StaticFrame,
)
from daemon.generation.camera import CameraConfig, FrameSource, make_frame_source
from daemon.generation.fakes import FakeCloud
from daemon.generation.fakes.scene import synthetic_scene
from daemon.library.package_library import PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from estimators.package import CameraView


class TrackLoader:
    """Stands in for the control process: "loading" builds the track from the store."""

    def __init__(self, library: PackageLibrary) -> None:
        self._library = library

    async def load(self, package_id: str) -> CommandResult:
        track = await self._library.track(package_id)
        print(f"loaded {package_id}: {track.n_frames} frames at 50 Hz")
        return CommandResult(True)

    async def start(self, package_id: str) -> CommandResult:
        print(f"(no control process here: {package_id} would start now)")
        return CommandResult(True)


def config_snippet(config: GenerationConfig) -> str:
    """The TOML a person pastes into edge.toml's ``[generation]`` section."""
    creds = {
        "gemini": config.gemini.api_key_credential.file,
        "openai": config.openai.api_key_credential.file,
        "access": config.kling.access_key_credential.file,
        "secret": config.kling.secret_key_credential.file,
    }
    return f"""\
[generation]
jobs_dir = "{config.jobs_dir}"

[generation.gemini]
base_url = "{config.gemini.base_url}"
model = "{config.gemini.model}"
api_key_credential = {{ file = "{creds["gemini"]}" }}

[generation.openai]
base_url = "{config.openai.base_url}"
model = "{config.openai.model}"
api_key_credential = {{ file = "{creds["openai"]}" }}

[generation.kling]
base_url = "{config.kling.base_url}"
model_name = "{config.kling.model_name}"
access_key_credential = {{ file = "{creds["access"]}" }}
secret_key_credential = {{ file = "{creds["secret"]}" }}
poll_initial_s = 0.2
poll_max_s = 1.0

[generation.estimation]
base_url = "{config.estimation.base_url}"
poll_initial_s = 0.2
poll_max_s = 1.0
"""


async def run_flow(cloud: FakeCloud, state_dir: Path, args: argparse.Namespace) -> int:
    config = cloud.generation_config(state_dir)
    camera: FrameSource = StaticFrame(synthetic_scene())
    if args.camera is not None:
        camera = make_frame_source(
            CameraConfig(source=args.camera), model_source=ModelSource(ModelKind.BUILTIN, None, ())
        )
    store = PackageStore(PackageStoreConfig(root=state_dir / "store"))
    library = PackageLibrary(store=store, config=PackageLibraryConfig())
    request = GenerationRequest(args.run, CameraView(args.view), args.auto_start)
    async with GenerationRunner(
        config=config, library=library, activator=TrackLoader(library), camera=camera
    ) as runner:
        result = await run_with_display(runner, request, is_quiet=False)
    code = report(result)
    for stage, seconds in result.stage_elapsed_s.items():
        print(f"  {stage.value:<11} {seconds * 1000:8.1f} ms")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port-base",
        type=int,
        default=0,
        help="ports N..N+3 for gemini, openai, kling, estimation (0: any free)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="credentials, jobs and the store (default: a new temporary folder)",
    )
    parser.add_argument(
        "--run",
        metavar="INSTRUCTION",
        default=None,
        help="run one generation job against the fakes and exit",
    )
    parser.add_argument("--view", choices=["front", "back"], default="front")
    parser.add_argument("--auto-start", action="store_true")
    parser.add_argument("--camera", default=None, help="camera source instead of a drawn frame")
    args = parser.parse_args()
    base = args.port_base
    ports = (base, base + 1, base + 2, base + 3) if base else (0, 0, 0, 0)
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="exoactor-fake-cloud-"))
    with FakeCloud(ports=ports) as cloud:
        if args.run is not None:
            return asyncio.run(run_flow(cloud, state_dir, args))
        print("# fake cloud services on loopback; paste into edge.toml (Ctrl-C stops):\n")
        print(config_snippet(cloud.generation_config(state_dir)))
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
