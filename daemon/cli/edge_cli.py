"""``exoactor-edge``: the command line of the edge runtime.

Every subcommand stops with one line on stderr and exit status 2 on bad configuration or input,
before anything moves.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.robot.base import BackendUnavailableError
from controller.robot.model_source import ModelNotFoundError, resolve_model
from daemon.cli.generate_cli import add_generate_command
from daemon.cli.package_cli import add_package_commands
from daemon.cli.security_cli import add_security_commands
from daemon.cli.sim_bridge_cli import add_sim_bridge_command
from daemon.config import DEFAULT_CONFIG_PATH, ConfigError, EdgeConfig, load_config, masked
from models.engines_cli import add_engine_commands

if TYPE_CHECKING:
    from controller.dynamics import FeedforwardJoints
    from controller.robot.model_source import ModelSource
    from controller.robot.unitree_config import UnitreeDdsConfig
    from controller.sonic.policy import SonicPolicy
    from estimators.track import ReferenceTrack

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not hasattr(args, "func"):
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.func(args)
    except (ConfigError, ModelNotFoundError, BackendUnavailableError) as exc:
        print(f"exoactor-edge: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    return code


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exoactor-edge",
        description="On-robot runtime for the Unitree G1: executes motion at 50 Hz under a "
        "safety supervisor.",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run a motion (built-in or --package FILE) on the simulated G1 and write a report",
        description="Runs the simulator demo: the robot ramps to its default pose, blends into "
        "a motion (the built-in ~9 s raise arms, reach, wave, squat, grasp, or --package FILE), "
        "follows it in lock-step with a gantry holding the pelvis, blends back to its standing "
        "pose, and writes DIR/report.json plus PNG plots.",
    )
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (DIR)")
    demo.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML configuration (default: {DEFAULT_CONFIG_PATH} if it exists)",
    )
    demo.add_argument("--mjcf", type=Path, default=None, help="MJCF model to simulate")
    demo.add_argument("--builtin-model", action="store_true", help="use the built-in G1 model")
    demo.add_argument("--realtime", action="store_true", help="pace physics at wall-clock speed")
    demo.add_argument(
        "--bridge",
        action="store_true",
        help="drive `exoactor-edge sim-bridge` over DDS instead of the in-process simulator "
        "(real time; the bridge owns the model and the gantry)",
    )
    demo.add_argument("--domain", type=int, default=1, help="the bridge's DDS domain (default 1)")
    gantry = demo.add_mutually_exclusive_group()
    gantry.add_argument(
        "--gantry",
        dest="gantry",
        action="store_true",
        default=None,
        help="hold the pelvis throughout (default for the PD tracker, which cannot balance)",
    )
    gantry.add_argument(
        "--no-gantry",
        dest="gantry",
        action="store_false",
        help="no gantry at all (by default SONIC is ramped in the gantry, then released)",
    )
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.add_argument(
        "--package",
        type=Path,
        metavar="FILE",
        help="play this motion package instead of the built-in motion (validated and checked "
        "as the service checks uploads)",
    )
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser(
        "run",
        help="run the service (what systemd starts)",
        description="Starts the control process and the fleet (MQTT), upload (ZeroMQ) and admin "
        "interfaces; notifies systemd when ready; on SIGTERM brings the robot to HOLD or DAMP "
        "and exits.",
    )
    _config_argument(run)
    run.set_defaults(func=_cmd_run)

    send = sub.add_parser("send", help="upload a motion package to the running service")
    send.add_argument("file", type=Path, help="motion package (.pkg)")
    send.add_argument("--endpoint", default=None, help="upload endpoint (default: from config)")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")
    send.add_argument(
        "--curve-key",
        type=Path,
        default=None,
        help="this client's CURVE secret key (a NAME.key_secret from `zmq keygen`)",
    )
    send.add_argument(
        "--server-key",
        default=None,
        help="the robot's CURVE public key (z85) or its NAME.key certificate",
    )
    _config_argument(send)
    send.set_defaults(func=_cmd_send)

    for name, text in (
        ("status", "print the running service's status"),
        ("estop", "engage the e-stop now (latched until `exoactor-edge reset`)"),
        ("reset", "reset a latched e-stop (the robot goes to DAMP, never straight to motion)"),
        ("enable", "ramp to the default pose and hold it (from PASSIVE or DAMP)"),
        ("disable", "damp the motors (DAMP: kp = 0, kd > 0) until the next enable"),
    ):
        admin = sub.add_parser(name, help=text)
        _config_argument(admin)
        admin.set_defaults(func=_cmd_admin, admin_command=name)

    add_package_commands(sub)
    add_engine_commands(sub)
    add_security_commands(sub)
    add_generate_command(sub)
    add_sim_bridge_command(sub)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="SUBCOMMAND")
    check = config_sub.add_parser(
        "check",
        help="validate a configuration and print it; warn (stderr) about missing secrets",
    )
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG_PATH)
    check.add_argument(
        "--unit",
        type=Path,
        default=None,
        help="the service's unit file, to check its LoadCredential= lines (default: "
        "/etc/systemd/system/exoactor-edge.service if it exists)",
    )
    check.add_argument(
        "--credentials-dir",
        type=Path,
        default=None,
        help="where credential files are when there is no unit (default /etc/exoactor/credentials)",
    )
    check.set_defaults(func=_cmd_config_check)
    return parser


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML configuration (default: {DEFAULT_CONFIG_PATH} if it exists)",
    )


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from daemon.app import ServiceOptions, serve
    from daemon.system.logging_setup import setup_logging

    config = _load(args.config, {})
    base_dir = args.config.parent if args.config is not None else None
    source = resolve_model(
        config.robot.mjcf_path, base_dir=base_dir, use_official=config.robot.use_official_model
    )
    policy = _load_sonic(config, base_dir)  # checks the models now: errors stop here
    if policy is not None:
        policy.close()
    from daemon.control.robot_preflight import check_robot

    check_robot(config)  # the robot's bus, before anything starts: errors stop here
    logging.getLogger().handlers.clear()  # the service logs through the journal handler only
    setup_logging(level=getattr(logging, args.log_level.upper()))
    return asyncio.run(serve(config, ServiceOptions(source=source)))


def _cmd_send(args: argparse.Namespace) -> int:
    from daemon.inputs.ingest_zmq import UploadError, upload_sync
    from daemon.system.curve import CurveClientKeys, CurveKeyError, read_key_pair, read_public_key

    config = _load(args.config, {})
    endpoint = args.endpoint or config.ingest.endpoints[0]
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"exoactor-edge: {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    curve = None
    if (args.curve_key is None) != (args.server_key is None):
        print("exoactor-edge: --curve-key and --server-key go together", file=sys.stderr)
        return EXIT_USAGE
    if args.curve_key is not None:
        try:
            public, secret = read_key_pair(args.curve_key)
            curve = CurveClientKeys(read_public_key(args.server_key), public, secret)
        except CurveKeyError as exc:
            print(f"exoactor-edge: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        result = upload_sync(endpoint, data, timeout_s=args.timeout, curve=curve)
    except UploadError as exc:
        print(f"exoactor-edge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if result.accepted:
        print(f"accepted: {result.package_id}")
        return EXIT_OK
    print(f"rejected: {result.code} at {result.field}: {result.detail}", file=sys.stderr)
    return EXIT_FAILED


def _cmd_admin(args: argparse.Namespace) -> int:
    import asyncio

    from daemon.control.admin import admin_request

    config = _load(args.config, {})
    try:
        command = _ADMIN_COMMANDS.get(args.admin_command, args.admin_command)
        answer = asyncio.run(admin_request(config.daemon.run_dir, command))
    except TimeoutError as exc:
        print(f"exoactor-edge: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.admin_command == "status" and answer.get("ok"):
        print(json.dumps(answer["status"], indent=2, default=str))
        return EXIT_OK
    if not answer.get("ok"):
        print(f"exoactor-edge: refused: {answer.get('reason', '')}", file=sys.stderr)
        return EXIT_FAILED
    print("done")
    return EXIT_OK


_ADMIN_COMMANDS = {"disable": "damp"}
"""Command-line names that differ from the admin socket's."""


def _load(path: Path | None, overrides: dict[str, Any]) -> EdgeConfig:
    if path is None:
        return load_config(DEFAULT_CONFIG_PATH, overrides, required=False)
    return load_config(path, overrides, required=True)


def _cmd_config_check(args: argparse.Namespace) -> int:
    import os

    from daemon.system.credential_check import (
        DEFAULT_CREDENTIALS_SOURCE,
        DEFAULT_UNIT_PATH,
        missing_secrets,
        needed_secrets,
        unit_credentials,
    )

    config = load_config(args.file, required=True)
    print(json.dumps(masked(config.model_dump(mode="json")), indent=2))
    unit_path = args.unit
    if unit_path is None and DEFAULT_UNIT_PATH.is_file():
        unit_path = DEFAULT_UNIT_PATH
    unit = None
    if unit_path is not None:
        try:
            unit = unit_credentials(unit_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(str(unit_path), f"cannot read: {exc.strerror}") from None
    under_systemd = os.environ.get("CREDENTIALS_DIRECTORY")
    for line in missing_secrets(
        needed_secrets(config),
        credentials_dir=Path(under_systemd) if under_systemd else None,
        unit=unit,
        source_dir=args.credentials_dir or DEFAULT_CREDENTIALS_SOURCE,
    ):
        print(f"exoactor-edge: warning: {line}", file=sys.stderr)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from controller.assembly import StackConfig
    from controller.dynamics import FeedforwardJoints
    from daemon.demo.motion import build_demo_track
    from daemon.demo.report import write_report
    from daemon.demo.runner import run_demo

    overrides: dict[str, Any] = {}
    if args.realtime:
        overrides["sim"] = {"mode": "realtime"}
    robot: dict[str, Any] = {}
    if args.mjcf is not None:
        robot["mjcf_path"] = args.mjcf
    if args.builtin_model:
        robot["use_official_model"] = False
    if robot:
        overrides["robot"] = robot
    config = _load(args.config, overrides)
    base_dir = args.config.parent if args.config is not None else None
    source = resolve_model(
        config.robot.mjcf_path, base_dir=base_dir, use_official=config.robot.use_official_model
    )
    controller = _load_sonic(config, base_dir)
    # The PD tracker cannot balance: the gantry holds it throughout unless told otherwise.
    # SONIC, by default, is ramped in the gantry and released when tracking starts.
    release_on_track = args.gantry is None and controller is not None
    use_gantry = args.gantry is not False
    sim = replace(config.sim, use_gantry=use_gantry)
    feedforward = config.safety.gravity_feedforward
    if (release_on_track or not use_gantry) and feedforward is FeedforwardJoints.ALL:
        feedforward = FeedforwardJoints.UPPER_BODY  # standing legs carry the body: no leg term
    stack_config = StackConfig(
        sim=sim,
        supervisor=config.safety.supervisor,
        loop=config.loop,
        pd_tracker=config.pd_tracker,
        gravity_feedforward=feedforward,
    )
    checks: dict[str, Any] | None = None
    track = build_demo_track()
    if args.package is not None:
        try:
            track, checks = _package_track(args.package, source, config.pd_tracker.feedforward)
        except _DemoInputError as exc:
            if controller is not None:
                controller.close()
            print(f"exoactor-edge: {exc}", file=sys.stderr)
            return exc.exit_code
    if not args.quiet:
        kind = "sonic" if controller is not None else "pd_tracker"
        gantry = "released at track start" if release_on_track else use_gantry
        print(f"model: {source.describe()}; controller: {kind}; gantry: {gantry}")
        if checks is not None:
            print(f"package {track.package_id}: {checks['summary']}")
    try:
        run = run_demo(
            source,
            stack_config,
            track,
            latch_path=args.out / "state" / "estop.json",
            show_progress=not args.quiet,
            controller=controller,
            release_gantry_on_track=release_on_track,
            robot=_bridge_robot(args.domain) if args.bridge else None,
        )
    finally:
        if controller is not None:
            controller.close()
    report = write_report(run, args.out, extra={"package_checks": checks} if checks else None)
    timing = report["timing"]
    print(
        f"controller {report['controller']}: {report['ticks']} ticks, "
        f"{report['duration_s']:.1f} s simulated in {report['wall_s']:.1f} s "
        f"({report['realtime_factor']:.1f}x real time); tracking RMS "
        f"{report['tracking_rms_rad']:.4f} rad; tick {timing['basis']} p99 "
        f"{timing['p99_ms']:.3f} ms; report in {args.out / 'report.json'}"
    )
    if run.failure:
        print(f"exoactor-edge: demo failed: {run.failure}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _bridge_robot(domain_id: int) -> UnitreeDdsConfig:
    from dataclasses import replace

    from controller.robot.unitree_config import SIM_BRIDGE_CONFIG

    try:
        return replace(SIM_BRIDGE_CONFIG, domain_id=domain_id)
    except ValueError as exc:
        raise ConfigError("--domain", str(exc)) from None


class _DemoInputError(ValueError):
    """A ``--package`` that cannot be played; one line, with the exit status to use."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _package_track(
    path: Path, source: ModelSource, feedforward: FeedforwardJoints
) -> tuple[ReferenceTrack, dict[str, Any]]:
    """The checked track of a package file, as the service would build it at upload."""
    from daemon.library.track_prep import TrackPreparer, TrackPrepConfig
    from estimators.errors import PackageRejectedError
    from estimators.package import PackageConfig, decode_package

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _DemoInputError(f"{path}: {exc.strerror}", EXIT_USAGE) from None
    try:
        package = decode_package(data, PackageConfig()).package
        config = TrackPrepConfig(model_source=source, feedforward=feedforward)
        prepared = TrackPreparer(config).prepare(package)
    except PackageRejectedError as exc:
        message = f"{path}: rejected [{exc.code.value}] {exc.field}: {exc.detail}"
        raise _DemoInputError(message, EXIT_FAILED) from None
    checks = {"summary": prepared.report.summary(), **prepared.report.as_dict()}
    return prepared.track, checks


def _load_sonic(config: EdgeConfig, base_dir: Path | None) -> SonicPolicy | None:
    """The SONIC policy when configured (models checked now: errors stop the program here).

    Relative model paths are relative to the configuration file's folder.
    """
    if config.sonic is None:
        return None
    from dataclasses import replace

    from controller.sonic.config import load_sonic_policy
    from models import ModelError

    def anchored(path: Path | None) -> Path | None:
        if path is None or path.is_absolute() or base_dir is None:
            return path
        return base_dir / path

    sonic = replace(
        config.sonic,
        decoder_path=anchored(config.sonic.decoder_path) or config.sonic.decoder_path,
        encoder_path=anchored(config.sonic.encoder_path),
    )
    try:
        policy = load_sonic_policy(sonic)
    except ModelError as exc:
        raise ConfigError("sonic", str(exc)) from None
    policy.warm_up()
    return policy


if __name__ == "__main__":
    sys.exit(main())
