"""The service with ``[robot] backend = "unitree"`` against the simulator bridge, end to end.

Real: ``exoactor-edge run`` as a subprocess (daemon, control process, supervisor, the DDS
backend and its writer), ``exoactor-edge sim-bridge`` as another, Cyclone DDS on loopback on a
random domain, mosquitto on loopback with the fleet client (battery figure in the VDA state), the
command line (enable, disable, status), and a bus probe that timestamps rt/lowstate and
rt/lowcmd as they pass. Latency figures are printed; the limits asserted are the issue's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from controller.remote import RemoteKey
from daemon.config import load_config
from daemon.control.admin import admin_request
from tests.support.dds import (
    Arrival,
    Bridge,
    BusProbe,
    bus_probe,
    random_domain,
    require_robot_extra,
    sim_bridge,
)
from tests.support.mosquitto import MosquittoBroker, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXE = Path(sys.executable).with_name("exoactor-edge")


def write_config(work: Path, domain: int, *, broker_port: int | None, **unitree: str) -> Path:
    fleet = (
        f'[fleet]\nserial_number = "G1-DDS"\n[fleet.broker]\nhost = "127.0.0.1"\n'
        f"port = {broker_port}\nreconnect_initial_s = 0.2\nreconnect_max_s = 1.0\n"
        if broker_port is not None
        else "[fleet]\nenabled = false\n"
    )
    settings = {"network_interface": '"lo"', "domain_id": str(domain),
                "release_motion_control": "false", "start_timeout_s": "2.0", **unitree}  # fmt: skip
    robot = "".join(f"{key} = {value}\n" for key, value in settings.items())
    config = work / "edge.toml"
    config.write_text(
        f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
heartbeat_timeout_s = 0.5
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[safety.supervisor]
ramp_time_s = 1.0
[ingest]
endpoints = ["tcp://127.0.0.1:{free_port()}"]
[robot]
backend = "unitree"
use_official_model = false
[robot.unitree]
{robot}{fleet}"""
    )
    return config


@dataclass
class Service:
    work: Path
    config: Path
    process: subprocess.Popen[bytes]
    bridge: Bridge
    probe: BusProbe

    def status(self) -> dict[str, object]:
        answer = asyncio.run(admin_request(self.work / "run", "status", timeout_s=5.0))
        status: dict[str, object] = answer["status"]
        return status

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EXE), *args, "--config", str(self.config)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip

    def wait_mode(self, mode: str, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (current := self.status()["mode"]) != mode:
            assert time.monotonic() < deadline, f"mode {current}, waited for {mode}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, mosquitto_broker: MosquittoBroker
) -> Iterator[Service]:
    require_robot_extra()
    work = tmp_path_factory.mktemp("dds-service")
    domain = random_domain()
    config = write_config(work, domain, broker_port=mosquitto_broker.port)
    with sim_bridge(work, domain) as bridge, bus_probe(domain) as probe:
        with (work / "daemon.log").open("wb") as log:
            process = subprocess.Popen(
                [str(EXE), "run", "--config", str(config)], stdout=log, stderr=log
            )
        svc = Service(work, config, process, bridge, probe)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (work / "daemon.log").read_text()
                try:
                    if svc.status()["is_alive"]:
                        break
                except TimeoutError:
                    pass
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.1)
            yield svc
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def first_damping_after(commands: list[Arrival], t_ns: int) -> Arrival:
    damped = [c for c in commands if c.t_ns > t_ns and c.kp_sum == 0.0 and c.kd_sum > 0.0]
    assert damped, "no damping command on the bus"
    return damped[0]


def test_battery_and_bus_counters_reach_status_and_the_vda_state(service: Service) -> None:
    from daemon.fleet.vda5050.fleet_client import FleetClient

    deadline = time.monotonic() + 5.0
    while True:  # the battery state arrives at 2 Hz
        robot = service.status()["robot"]
        assert isinstance(robot, dict)
        if robot.get("battery_soc_pct") is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert robot["battery_soc_pct"] == 87.0
    assert robot["lowstates"] > 0
    assert robot["mode_machine"] == 5

    async def scenario() -> None:
        async with FleetClient(config=load_config(service.config).fleet) as fleet:
            state = await fleet.wait_state(
                lambda m: m["powerSupply"]["stateOfCharge"] == 87.0, 10.0
            )
            kinds = {info["infoType"] for info in state["information"]}
            assert "batteryReading" not in kinds, "the figure is the robot's, not a placeholder"

    asyncio.run(scenario())


def test_enable_and_disable_from_the_command_line(service: Service) -> None:
    done = service.cli("enable")
    assert done.returncode == 0, done.stderr
    service.wait_mode("HOLD")
    time.sleep(0.1)
    assert service.probe.snapshot()[1][-1].kp_sum > 0.0, "holding: stiffness on the bus"
    done = service.cli("disable")
    assert done.returncode == 0, (done.stderr, service.status())
    service.wait_mode("DAMP")
    time.sleep(0.1)
    last = service.probe.snapshot()[1][-1]
    assert last.kp_sum == 0.0
    assert last.kd_sum > 0.0
    refused = service.cli("disable")
    assert refused.returncode == 1
    assert "refused" in refused.stderr


def test_remote_select_estops_and_damps_on_the_bus_within_60_ms(service: Service) -> None:
    assert service.cli("enable").returncode == 0
    service.wait_mode("HOLD")
    bridge, probe = service.bridge, service.probe
    assert bridge.request({"cmd": "press", "keys": int(RemoteKey.SELECT)})["ok"]
    service.wait_mode("ESTOP", 5.0)
    time.sleep(0.1)
    assert bridge.request({"cmd": "press", "keys": 0})["ok"]
    states, commands = probe.snapshot()
    pressed = [s for s in states if s.keys & int(RemoteKey.SELECT)]
    assert pressed, "the probe saw the key on rt/lowstate"
    t_key = pressed[0].t_ns
    latency_ms = (first_damping_after(commands, t_key).t_ns - t_key) * 1e-6
    print(f"SELECT on rt/lowstate -> damping on rt/lowcmd: {latency_ms:.1f} ms")  # noqa: T201
    assert latency_ms <= 60.0
    assert service.status()["last_cause"] == "ESTOP_REMOTE"
    assert service.cli("reset").returncode == 0
    service.wait_mode("DAMP")


def test_bridge_killed_damps_within_150_ms_of_the_last_state(service: Service) -> None:
    """Runs last in this module: the bridge does not come back."""
    assert service.cli("enable").returncode == 0
    service.wait_mode("HOLD")
    service.bridge.kill()
    time.sleep(0.5)
    states, commands = service.probe.snapshot()
    t_last = states[-1].t_ns
    delay_ms = (first_damping_after(commands, t_last).t_ns - t_last) * 1e-6
    print(f"last rt/lowstate -> damping on rt/lowcmd: {delay_ms:.1f} ms")  # noqa: T201
    assert delay_ms <= 150.0
    status = service.status()
    assert status["mode"] == "DAMP"
    assert status["last_cause"] == "STATE_STALE"
    assert commands[-1].kp_sum == 0.0, "damping is held on the bus"


@pytest.mark.parametrize(
    ("unitree", "expected"),
    [
        ({"network_interface": '"nonexistent0"'}, "network interface 'nonexistent0' not found"),
        ({"start_timeout_s": "1.0"}, "no valid rt/lowstate on domain"),
    ],
)
def test_bad_robot_settings_stop_run_with_one_line_and_no_lowcmd(
    tmp_path: Path, unitree: dict[str, str], expected: str
) -> None:
    require_robot_extra()
    domain = random_domain()
    config = write_config(tmp_path, domain, broker_port=None, **unitree)
    with bus_probe(domain) as probe:
        done = subprocess.run(
            [str(EXE), "run", "--config", str(config)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.startswith("exoactor-edge:")]
        assert len(lines) == 1, done.stderr
        assert expected in lines[0]
        assert "[robot.unitree]" in lines[0], "the message names the setting to fix"
        assert probe.snapshot()[1] == []


def test_fleet_disabled_runs_without_a_broker(tmp_path: Path) -> None:
    """[fleet] enabled = false: the service comes up with no broker anywhere (sim backend)."""
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[daemon]\nrun_dir = "{tmp_path / "run"}"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[safety]\nestop_latch_path = "{tmp_path / "state" / "estop.json"}"\n'
        f'[ingest]\nendpoints = ["tcp://127.0.0.1:{free_port()}"]\n'
        "[robot]\nuse_official_model = false\n[fleet]\nenabled = false\n"
        '[fleet.broker]\nhost = "127.0.0.1"\nport = 1\n'
    )
    process = subprocess.Popen(
        [str(EXE), "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None
            try:
                answer = asyncio.run(admin_request(tmp_path / "run", "status", timeout_s=2.0))
                if answer["status"]["is_alive"] and answer["status"]["state_age_ms"] < 100:
                    break
            except TimeoutError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)  # the daemon polls for READY every 50 ms
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode()
        assert process.returncode == 0, output
        assert "fleet interface disabled" in output
        assert "broker" not in json.dumps(answer["status"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
