"""``[robot]`` backend selection, ``[robot.unitree]`` and ``[fleet] enabled`` in the daemon's
configuration, and what the control process is handed. Pure configuration: no bus, no process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.robot.model_source import ModelKind, ModelSource
from controller.robot.unitree_config import BackendKind, Dex3StatePrefix
from daemon.app import control_settings
from daemon.config import ConfigError, load_config

SOURCE = ModelSource(ModelKind.BUILTIN, None, ())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def test_the_default_is_the_in_process_simulator_with_the_robots_bus_settings(
    tmp_path: Path,
) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.robot.backend is BackendKind.SIM
    assert control_settings(config, SOURCE).robot is None
    assert config.robot.unitree.domain_id == 0
    assert config.robot.unitree.release_motion_control
    assert config.fleet.enabled


def test_unitree_backend_hands_its_bus_settings_to_the_control_process(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[robot]\nbackend = "unitree"\n[robot.unitree]\nnetwork_interface = "lo"\n'
            'domain_id = 1\nrelease_motion_control = false\ndex3_state_prefix = "rt/lf/dex3"\n'
            "[fleet]\nenabled = false\n",
        )
    )
    robot = control_settings(config, SOURCE).robot
    assert robot is not None
    assert (robot.network_interface, robot.domain_id) == ("lo", 1)
    assert robot.dex3_state_prefix is Dex3StatePrefix.LF_DEX3
    assert robot.hand_state_topics == ("rt/lf/dex3/left/state", "rt/lf/dex3/right/state")
    assert not config.fleet.enabled


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[robot]\nbackend = "ros"\n', "robot.backend"),
        ("[robot.unitree]\ndomain_id = 300\n", "robot.unitree"),
        ("[robot.unitree]\ncommand_rate_hz = 5.0\n", "robot.unitree"),
        ('[robot.unitree]\nnic = "eth0"\n', "robot.unitree.nic"),
    ],
)
def test_bad_robot_settings_are_one_line_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert str(info.value).startswith(key)
    assert "\n" not in str(info.value)
