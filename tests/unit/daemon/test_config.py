"""Configuration loading and the command line's answer to bad configuration.

Real: TOML parsing, pydantic validation, the ``exoactor-edge`` entry point (called in-process),
model resolution against the file system (tmp_path). Nothing is faked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.robot.model_source import ModelKind, ModelNotFoundError, resolve_model
from controller.robot.mujoco_backend import SimMode
from daemon.cli.edge_cli import main
from daemon.config import ConfigError, load_config, masked
from estimators.package import generate_signing_key
from estimators.package.signing import public_key_pem


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def test_values_from_file_environment_and_overrides_in_priority_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[sim]\nmode = "realtime"\n[safety.supervisor]\nramp_time_s = 2.5\n')
    assert load_config(path).safety.supervisor.ramp_time_s == 2.5
    monkeypatch.setenv("EXOACTOR_SAFETY__SUPERVISOR__RAMP_TIME_S", "4.0")
    config = load_config(path)
    assert config.safety.supervisor.ramp_time_s == 4.0
    assert config.sim.mode is SimMode.REALTIME
    overridden = load_config(path, {"sim": {"mode": "lockstep"}})
    assert overridden.sim.mode is SimMode.LOCKSTEP


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[sim]\nbogus = 1\n", "sim.bogus", "unknown key"),
        ("[nonsense]\nx = 1\n", "nonsense", "unknown key"),
        (
            '[safety.supervisor]\nramp_time_s = "abc"\n',
            "safety.supervisor.ramp_time_s",
            "valid number",
        ),
        ("[safety.supervisor]\nramp_time_s = -1\n", "safety.supervisor", "ramp_time_s must be"),
        ('[sim]\nmode = "fast"\n', "sim.mode", "lockstep"),
        ("[sim\n", "edge.toml", "not valid TOML"),
        ("[streaming.playback]\ntarget_delay_s = 3\n", "streaming.playback", "within 0..1 s"),
        ('[streaming]\nproducer_stop = "exit"\n', "streaming.producer_stop", "estop"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    text_of_error = str(info.value)
    assert key in text_of_error
    assert message in text_of_error
    assert "\n" not in text_of_error


def test_streaming_section_sets_the_jitter_buffer_and_producer_commands(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[streaming]\nproducer_stop = "hold"\nrequire_start = true\n'
            "[streaming.playback]\ntarget_delay_s = 0.06\n",
        )
    )
    assert config.streaming is not None
    assert config.streaming.playback.target_delay_s == 0.06
    assert config.streaming.producer_stop.value == "hold"
    assert config.streaming.require_start


def test_missing_required_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", required=True)


def test_cli_stops_with_one_line_on_an_unknown_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[safety]\nramp = 3\n")
    code = main(["demo", "--config", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0
    assert "safety.ramp" in err
    assert not (tmp_path / "out" / "report.json").exists(), "nothing may run"


def test_cli_names_every_place_looked_for_a_missing_mjcf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write(tmp_path, '[robot]\nmjcf_path = "models/g1.xml"\n')
    code = main(["demo", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0
    assert "models/g1.xml" in err
    assert str(tmp_path / "models" / "g1.xml") in err


def test_configured_model_never_falls_back(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(tmp_path / "nope.xml")
    assert info.value.searched == (tmp_path / "nope.xml",)


def test_without_configuration_the_builtin_model_is_the_last_resort() -> None:
    source = resolve_model(None, use_official=False)
    assert source.kind is ModelKind.BUILTIN
    assert source.path is None


def test_config_check_prints_the_effective_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[safety.supervisor]\nramp_time_s = 2.0\n")
    assert main(["config", "check", str(path)]) == 0
    assert '"ramp_time_s": 2.0' in capsys.readouterr().out


def test_the_shipped_example_configuration_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[3] / "systemd" / "edge.toml"
    # The example trusts /etc/exoactor/trusted-keys, which this machine does not have.
    keys = tmp_path / "trusted-keys"
    keys.mkdir()
    (keys / "fleet.pub").write_bytes(public_key_pem(generate_signing_key()))
    monkeypatch.setenv("EXOACTOR_PACKAGE__TRUSTED_KEYS", f'["{keys}"]')
    config = load_config(example, required=True)
    # The documented topology: straight to the fleet broker over TLS (issue 13).
    assert (config.fleet.broker.host, config.fleet.broker.port) == (
        "fleet-broker.example.com",
        8883,
    )
    assert config.fleet.broker.tls is not None
    assert config.fleet.broker.reconnect_max_s == 2.0
    assert config.package.package_config().require_signature


def test_config_check_masks_secrets_but_not_where_they_live() -> None:
    values = {
        "broker": {"password": "hunter2", "password_file": "/etc/pw", "host": "h"},
        "curve": {"secret_key": "abc", "public_key": "pub"},
        "api_token": "t0k",
    }
    out = masked(values)
    assert out["broker"]["password"] == "***"
    assert out["broker"]["password_file"] == "/etc/pw"
    assert out["curve"]["secret_key"] == "***"
    assert out["curve"]["public_key"] == "pub"
    assert out["api_token"] == "***"
    assert "hunter2" not in json.dumps(out)


def test_blend_limits_are_configured_under_loop_blend(tmp_path: Path) -> None:
    path = write(tmp_path, "[loop.blend]\nmax_velocity_rad_s = 1.5\nis_blend_out_enabled = false\n")
    blend = load_config(path).loop.blend
    assert (blend.max_velocity_rad_s, blend.is_blend_out_enabled) == (1.5, False)
    with pytest.raises(ConfigError, match=r"loop\.blend"):
        load_config(write(tmp_path, "[loop.blend]\nmax_acceleration_rad_s2 = 0\n"))
