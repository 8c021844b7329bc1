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
from typing import Any

from controller.robot.model_source import ModelNotFoundError, resolve_model
from daemon.config import DEFAULT_CONFIG_PATH, ConfigError, EdgeConfig, load_config
from daemon.package_cli import add_package_commands

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
    except (ConfigError, ModelNotFoundError) as exc:
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
        help="run a short motion on the simulated G1 and write a report",
        description="Runs the simulator demo: the robot ramps to its default pose, then follows "
        "a ~8 s motion (raise arms, reach, wave, squat, grasp) in lock-step with a gantry "
        "holding the pelvis, and writes DIR/report.json plus PNG plots.",
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
    demo.add_argument("--no-gantry", action="store_true", help="do not hold the pelvis")
    demo.add_argument("--quiet", action="store_true", help="no progress display")
    demo.set_defaults(func=_cmd_demo)

    add_package_commands(sub)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(title="config commands", metavar="SUBCOMMAND")
    check = config_sub.add_parser("check", help="validate a configuration and print it")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG_PATH)
    check.set_defaults(func=_cmd_config_check)
    return parser


def _load(path: Path | None, overrides: dict[str, Any]) -> EdgeConfig:
    if path is None:
        return load_config(DEFAULT_CONFIG_PATH, overrides, required=False)
    return load_config(path, overrides, required=True)


def _cmd_config_check(args: argparse.Namespace) -> int:
    config = load_config(args.file, required=True)
    print(json.dumps(config.model_dump(mode="json"), indent=2))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from controller.assembly import StackConfig
    from daemon.demo.motion import build_demo_track
    from daemon.demo.report import write_report
    from daemon.demo.runner import run_demo

    overrides: dict[str, Any] = {}
    sim: dict[str, Any] = {}
    if args.realtime:
        sim["mode"] = "realtime"
    if args.no_gantry:
        sim["use_gantry"] = False
    if sim:
        overrides["sim"] = sim
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
    stack_config = StackConfig(
        sim=config.sim,
        supervisor=config.safety.supervisor,
        loop=config.loop,
        pd_tracker=config.pd_tracker,
        gravity_feedforward=config.safety.gravity_feedforward,
    )
    if not args.quiet:
        print(f"model: {source.describe()}")
    run = run_demo(
        source,
        stack_config,
        build_demo_track(),
        latch_path=args.out / "state" / "estop.json",
        show_progress=not args.quiet,
    )
    report = write_report(run, args.out)
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


if __name__ == "__main__":
    sys.exit(main())
