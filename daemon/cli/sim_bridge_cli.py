"""``exoactor-edge sim-bridge``: the simulated G1 on DDS, for ``[robot] backend = "unitree"``.

Runs MuJoCo with the G1 model (the configured MJCF, Unitree's official one beside the checkout,
or the built-in one) and speaks the robot's topics on a DDS domain (default: domain 1 on
``lo``, Unitree's simulator convention), until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any


def add_sim_bridge_command(sub: Any) -> None:
    bridge = sub.add_parser(
        "sim-bridge",
        help='run the simulated G1 on DDS (for backend = "unitree")',
        description="MuJoCo physics behind the G1's own DDS topics (rt/lowstate at 500 Hz with "
        "CRC, rt/lowcmd, Dex3 command/state, battery) so the service drives it exactly as it "
        "drives the robot.",
    )
    bridge.add_argument("--config", type=Path, default=None, help="TOML configuration ([sim], "
                        "[robot] mjcf_path; default: none)")  # fmt: skip
    bridge.add_argument("--domain", type=int, default=1, help="DDS domain (default 1)")
    bridge.add_argument("--interface", default="lo", help="network interface (default lo)")
    bridge.add_argument("--mjcf", type=Path, default=None, help="MJCF model to simulate")
    bridge.add_argument("--builtin-model", action="store_true", help="use the built-in G1 model")
    bridge.add_argument("--no-gantry", action="store_true", help="no gantry holding the pelvis")
    bridge.add_argument("--mode-machine", type=int, default=5, help="reported mode_machine")
    bridge.add_argument("--battery-soc", type=int, default=87, help="reported charge (%%)")
    bridge.add_argument(
        "--motion-switcher",
        choices=["absent", "releases", "never"],
        default="absent",
        help="answer motion_switcher requests (default: no service, like Unitree's simulators)",
    )
    bridge.add_argument(
        "--control", default=None, help="ZeroMQ endpoint for the simulated remote and test hooks"
    )
    bridge.set_defaults(func=_cmd_sim_bridge)


def _cmd_sim_bridge(args: argparse.Namespace) -> int:
    from controller.robot.model_source import resolve_model
    from controller.robot.mujoco_backend import SimMode
    from controller.sim_bridge import SimBridgeConfig, SwitcherBehaviour, run_bridge
    from daemon.config import load_config

    overrides: dict[str, Any] = {}
    robot: dict[str, Any] = {}
    if args.mjcf is not None:
        robot["mjcf_path"] = args.mjcf
    if args.builtin_model:
        robot["use_official_model"] = False
    if robot:
        overrides["robot"] = robot
    config = load_config(args.config, overrides, required=args.config is not None)
    base_dir = args.config.parent if args.config is not None else None
    source = resolve_model(
        config.robot.mjcf_path, base_dir=base_dir, use_official=config.robot.use_official_model
    )
    try:
        bridge_config = SimBridgeConfig(
            domain_id=args.domain,
            network_interface=args.interface,
            sim=replace(config.sim, mode=SimMode.LOCKSTEP, use_gantry=not args.no_gantry),
            mode_machine=args.mode_machine,
            battery_soc_pct=args.battery_soc,
            motion_switcher=SwitcherBehaviour(args.motion_switcher),
            control_endpoint=args.control,
        )
    except ValueError as exc:
        from daemon.config import ConfigError

        raise ConfigError("sim-bridge", str(exc)) from None
    run_bridge(source, bridge_config)
    return 0
