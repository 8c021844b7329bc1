"""The whole service end to end: ``exoactor-edge run`` driven by a VDA 5050 fleet over MQTT.

Real: mosquitto on loopback (``tests.support.mosquitto``), the daemon as a subprocess, its control
process, MuJoCo physics (built-in G1 model, real-time mode), ZeroMQ ipc/tcp sockets, the systemd
notify protocol (a datagram socket bound by the test), the official VDA 5050 v3 JSON schemas
(every message the fleet client received is validated), a SONIC protocol v3 producer (a ZeroMQ
PUB in the test). Nothing is faked; only the robot itself is simulated.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import zmq

from daemon.config import load_config
from daemon.control.admin import admin_request
from daemon.fleet.vda5050.fleet_client import FleetClient
from daemon.generation.fakes import FakeCloud
from daemon.generation.fakes.scene import synthetic_scene
from daemon.inputs.stream_messages import pack_pose_message
from estimators.demo_motion import make_demo_package
from scripts.fake_cloud import config_snippet
from tests.support.mosquitto import MosquittoBroker, free_port
from tests.support.vda5050_schemas import assert_valid

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXE = Path(sys.executable).with_name("exoactor-edge")


@dataclass
class Service:
    work: Path
    config: Path
    process: subprocess.Popen[bytes]
    notify: socket.socket
    stream_port: int

    def admin(self, command: str) -> dict[str, object]:
        return asyncio.run(admin_request(self.work / "run", command, timeout_s=5.0))

    def mode(self) -> str:
        return str(self.admin("status")["status"]["mode"])  # type: ignore[index]

    def wait_mode(self, mode: str, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (current := self.mode()) != mode:
            assert time.monotonic() < deadline, f"mode {current}, waited for {mode}"
            time.sleep(0.05)

    def notifications(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.notify.recv(4096).decode())
            except BlockingIOError:
                return out


def write_config(work: Path, broker_port: int, stream_port: int, extra: str = "") -> Path:
    config = work / "edge.toml"
    config.write_text(
        extra
        + f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
heartbeat_timeout_s = 0.5
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[safety.supervisor]
ramp_time_s = 1.0
[fleet]
serial_number = "G1-E2E"
[fleet.broker]
host = "127.0.0.1"
port = {broker_port}
reconnect_initial_s = 0.2
reconnect_max_s = 1.0
[ingest]
endpoints = ["tcp://127.0.0.1:{free_port()}"]
[streaming]
endpoint = "tcp://127.0.0.1:{stream_port}"
[robot]
use_official_model = false
"""
    )
    return config


@pytest.fixture
def fake_cloud(tmp_path: Path) -> Iterator[str]:
    """The four cloud services as local fakes; yields the [generation] config section."""
    with FakeCloud() as cloud:
        scene = tmp_path / "scene.png"
        scene.write_bytes(synthetic_scene().data)
        section = config_snippet(cloud.generation_config(tmp_path / "generation"))
        section += f'[generation.camera]\nsource = "{scene}"\n'
        yield section


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    binary = "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    (tmp_path / "broker").mkdir()
    broker = MosquittoBroker(workdir=tmp_path / "broker", binary=binary)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def service(tmp_path: Path, broker: MosquittoBroker, fake_cloud: str) -> Iterator[Service]:
    stream_port = free_port()
    config = write_config(tmp_path, broker.port, stream_port, fake_cloud)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = tmp_path / "notify.sock"
    notify.bind(str(notify_path))
    notify.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC="1000000")
    env.pop("WATCHDOG_PID", None)
    with (tmp_path / "daemon.log").open("wb") as log:
        process = subprocess.Popen(
            [str(EXE), "run", "--config", str(config)], stderr=log, stdout=log, env=env
        )
    svc = Service(tmp_path, config, process, notify, stream_port)
    try:
        deadline = time.monotonic() + 60
        while not any("READY=1" in n for n in svc.notifications()):
            assert process.poll() is None, (tmp_path / "daemon.log").read_text()
            assert time.monotonic() < deadline, "no READY=1 within 60 s"
            time.sleep(0.05)
        yield svc
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        notify.close()


def fleet_config(service: Service):  # type: ignore[no-untyped-def]
    return load_config(service.config).fleet


def test_fleet_uploads_and_runs_the_demo_package_with_valid_messages(service: Service) -> None:
    async def scenario() -> None:
        async with FleetClient(config=fleet_config(service)) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            answer = await fleet.upload(make_demo_package(duration_s=4.0))
            assert answer.accepted, answer
            action = await fleet.instant_action("startMotion", {"packageId": answer.package_id})
            await fleet.wait_action(action, {"RUNNING"}, 15.0)
            status = (await admin_request(service.work / "run", "status"))["status"]
            assert status["mode"] == "TRACK"
            assert status["loaded_package"] == answer.package_id
            await fleet.wait_action(action, {"FINISHED"}, 20.0)
            state = fleet.latest_state or {}
            readings = [i for i in state["information"] if i["infoType"] == "batteryReading"]
            assert readings[0]["infoDescriptor"].startswith("simulated"), readings
            # The same motion again as a master control sends it: a one-node order.
            order_id, (again,) = await fleet.order(
                [("startMotion", {"packageId": answer.package_id})]
            )
            await fleet.wait_order_action(again, {"RUNNING"}, 15.0)
            await fleet.wait_order_action(again, {"FINISHED"}, 20.0)
            assert (fleet.latest_state or {})["orderId"] == order_id
            for kind in ("state", "connection", "factsheet"):
                messages = fleet.messages_of(kind)
                assert messages, f"no {kind} message received"
                for message in messages:
                    assert_valid(kind, message)

    asyncio.run(scenario())
    status = service.admin("status")["status"]
    assert status["mode"] == "HOLD", (status, (service.work / "daemon.log").read_text()[-3000:])  # type: ignore[index]


def test_generate_motion_runs_the_cloud_stages_and_starts_the_result(service: Service) -> None:
    """generateMotion against local fakes of Gemini, OpenAI, Kling and the estimation service."""

    async def scenario() -> None:
        async with FleetClient(config=fleet_config(service)) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            action = await fleet.instant_action(
                "generateMotion",
                {"instruction": "pick up the box", "view": "front", "autoStart": True},
            )
            running = await fleet.wait_action(action, {"RUNNING"}, 10.0)
            assert running.get("actionResult")
            done = await fleet.wait_action(action, {"FINISHED", "FAILED"}, 30.0)
            assert done["actionStatus"] == "FINISHED", done
            assert "started" in done["actionResult"]
            for message in fleet.messages_of("state"):
                assert_valid("state", message)
            status = (await admin_request(service.work / "run", "status"))["status"]
            assert status["mode"] in ("TRACK", "HOLD")
            assert str(status["loaded_package"]).startswith("gen-")
            manifests = list((service.work / "generation" / "jobs").glob("*/manifest.json"))
            assert manifests, "the job keeps its artifacts with a manifest"

    asyncio.run(scenario())


def test_estop_over_mqtt_latches_and_malformed_commands_change_nothing(service: Service) -> None:
    async def scenario() -> None:
        async with FleetClient(config=fleet_config(service)) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            await fleet.publish_raw(b"{not json")
            bogus = await fleet.instant_action("fly", {})
            failed = await fleet.wait_action(bogus, {"FAILED"}, 5.0)
            assert failed.get("resultDescription") or failed.get("actionStatus") == "FAILED"
            status = (await admin_request(service.work / "run", "status"))["status"]
            assert status["mode"] == "PASSIVE", "a rejected command must change nothing"
            bad = await fleet.upload(b"\x00not a package")
            assert not bad.accepted
            assert bad.code
            await fleet.instant_action("emergencyStop", {})
            state = await fleet.wait_state(
                lambda m: m["safetyState"]["activeEmergencyStop"] != "NONE", 5.0
            )
            assert_valid("state", state)

    asyncio.run(scenario())
    assert service.mode() == "ESTOP"


def test_latched_estop_survives_a_control_process_crash(service: Service) -> None:
    service.admin("estop")
    service.wait_mode("ESTOP")
    status = service.admin("status")["status"]
    assert isinstance(status, dict)
    control_pids = subprocess.run(
        ["pgrep", "-f", f"controller.process {service.work / 'run'}"],
        capture_output=True, text=True, check=False,
    ).stdout.split()  # fmt: skip
    assert control_pids, "control process not found"
    os.kill(int(control_pids[0]), signal.SIGKILL)
    deadline = time.monotonic() + 15
    while True:
        status = service.admin("status")["status"]
        assert isinstance(status, dict)
        if status["restarts"] == 1 and status["is_alive"]:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status["mode"] == "ESTOP", "the latch must survive the restart"


def test_broker_restart_and_sonic_v3_stream(service: Service, broker: MosquittoBroker) -> None:
    assert service.admin("enable")["ok"]
    service.wait_mode("HOLD")
    ctx = zmq.Context.instance()
    producer = ctx.socket(zmq.PUB)
    producer.bind(f"tcp://127.0.0.1:{service.stream_port}")
    try:
        time.sleep(0.5)  # the daemon's SUB connects (ZeroMQ's slow joiner)
        elbow_bend = 0.6  # SMPL left elbow (joint 18) about its y axis
        for index in range(150):  # 3 s at 50 Hz, one frame per message as webcam producers do
            pose = np.zeros((1, 21, 3), dtype=np.float32)
            pose[0, 17, 1] = elbow_bend * np.sin(index / 50.0 * np.pi)
            fields = {
                "body_quat": np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32),
                "frame_index": np.array([index], dtype=np.int64),
                "smpl_joints": np.zeros((1, 24, 3), dtype=np.float32),
                "smpl_pose": pose,
                "joint_pos": np.zeros((1, 29), dtype=np.float32),
                "joint_vel": np.zeros((1, 29), dtype=np.float32),
            }
            producer.send(pack_pose_message(3, fields))
            if index == 50:
                status = service.admin("status")["status"]
                assert isinstance(status, dict)
                assert status["mode"] == "TRACK", status
                assert status["loaded_package"] == "sonic-stream"
                broker.restart()  # the broker dies mid-motion and comes back
            time.sleep(0.02)
        status = service.admin("status")["status"]
        assert isinstance(status, dict)
        assert status["mode"] == "TRACK", "the motion continues while the broker restarts"
        streaming = status["streaming"]  # exoactor-edge status shows the stream
        assert streaming["phase"] == "active"
        assert streaming["protocol"] == 3
        assert streaming["playback"]["is_active"]
    finally:
        producer.close(0)
    service.wait_mode("HOLD", 5.0)  # the stream went silent: reference stale -> HOLD

    async def republished() -> None:
        async with FleetClient(config=fleet_config(service)) as fleet:
            connection = await fleet.wait_connection("ONLINE", 10.0)
            assert_valid("connection", connection)
            state = await fleet.wait_state(lambda m: True, 10.0)
            assert_valid("state", state)

    asyncio.run(republished())
    service.wait_mode("DAMP", 5.0)  # and after fault_hold_s the supervisor damps


def test_sigterm_stops_safely_and_notifies_systemd(service: Service) -> None:
    """SIGTERM: the fleet gets a final state (what became of each action, ``serviceState``
    stopping) and then OFFLINE; the daemon exits 0 and tells systemd."""
    time.sleep(1.2)  # let the watchdog ping at least once (WATCHDOG_USEC = 1 s)
    started = 0.0

    async def scenario() -> None:
        nonlocal started
        async with FleetClient(config=fleet_config(service)) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            await fleet.wait_state(lambda m: True, 10.0)
            service.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            await fleet.wait_connection("OFFLINE", 10.0)
            seen = [r for r in fleet.received if r.kind in ("state", "connection")]
            final = seen[-2]
            assert final.kind == "state", [r.kind for r in seen[-3:]]
            infos = {i["infoType"]: i["infoDescriptor"] for i in final.message["information"]}
            assert infos["serviceState"].startswith("stopping")
            assert_valid("state", final.message)

    asyncio.run(scenario())
    assert service.process.wait(10) == 0
    assert time.monotonic() - started < 5.0
    messages = "\n".join(service.notifications())  # READY=1 was seen by the fixture
    for field in ("WATCHDOG=1", "STATUS=", "STOPPING=1"):
        assert field in messages, field


def test_sigkill_makes_the_broker_publish_the_last_will(service: Service) -> None:
    async def scenario() -> None:
        async with FleetClient(config=fleet_config(service)) as fleet:
            await fleet.wait_connection("ONLINE", 10.0)
            service.process.kill()
            will = await fleet.wait_connection("CONNECTION_BROKEN", 15.0)
            assert_valid("connection", will)

    asyncio.run(scenario())
