"""Real Cyclone DDS on loopback for tests: the simulator bridge as a process, and a bus probe.

Every test run picks its own random DDS domain, so test runs of several engineers on one
machine (all on ``lo``) never hear each other's robots. Tests that need the robot extra
(cyclonedds 0.10.x + unitree_sdk2py, installed by ``make setup``) skip with the reason when it
is missing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BRIDGE_START_TIMEOUT_S = 30.0


def require_robot_extra() -> None:
    """Skip (with the reason) when the robot extra is not installed."""
    for module in ("cyclonedds", "unitree_sdk2py"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f"{module} is not installed: the robot extra (`make setup`) provides it")


_USED_DOMAINS: set[int] = set()


def random_domain() -> int:
    """A DDS domain for one test: away from the robot's 0 and the simulator's default 1, and
    never one this test process used before (a service from an earlier test may still be on
    it)."""
    while True:
        domain = random.randint(100, 230)
        if domain not in _USED_DOMAINS and domain + 1 not in _USED_DOMAINS:
            _USED_DOMAINS.update((domain, domain + 1))  # +1: the wrong-domain test's
            return domain


@dataclass
class Bridge:
    """A running ``exoactor-edge sim-bridge`` process."""

    process: subprocess.Popen[bytes]
    domain: int
    control: str
    log_path: Path

    def request(self, request: dict[str, Any]) -> Any:
        from controller.sim_bridge.control import bridge_request

        return bridge_request(self.control, request)

    def stats(self) -> dict[str, Any]:
        answer = self.request({"cmd": "stats"})
        assert answer["ok"], answer
        stats: dict[str, Any] = answer["stats"]
        return stats

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@contextmanager
def sim_bridge(tmp: Path, domain: int, *extra: str) -> Iterator[Bridge]:
    """Start the bridge (built-in G1 model, gantry) and wait until it publishes."""
    control = f"ipc://{tmp / f'bridge-{domain}.sock'}"
    log_path = tmp / f"bridge-{domain}.log"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon.cli.edge_cli", "sim-bridge", "--builtin-model",
             "--domain", str(domain), "--control", control, *extra],
            stdout=log, stderr=log, env=env,
        )  # fmt: skip
    bridge = Bridge(process, domain, control, log_path)
    try:
        deadline = time.monotonic() + BRIDGE_START_TIMEOUT_S
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if bridge.stats()["lowstates_sent"] > 0:
                    break
            except TimeoutError:
                pass
            assert time.monotonic() < deadline, "the bridge did not start publishing"
            time.sleep(0.1)
        yield bridge
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@dataclass
class Arrival:
    t_ns: int
    kp_sum: float = 0.0
    kd_sum: float = 0.0
    keys: int = 0
    mode_machine: int = -1


@dataclass
class BusProbe:
    """Listens on rt/lowstate and rt/lowcmd like any other node on the bus, stamping arrivals."""

    domain: int
    lowstates: list[Arrival] = field(default_factory=list)
    lowcmds: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from controller.robot.base import RobotCommand, RobotState
        from controller.robot.dds_transport import DdsDomain, load_sdk_types
        from controller.robot.unitree_codec import LowCmdDecoder, LowStateDecoder

        types = load_sdk_types()
        self._dds = DdsDomain(self.domain, "lo")
        self._cmd, self._cmd_decoder = RobotCommand(), LowCmdDecoder()
        self._state, self._state_decoder = RobotState(), LowStateDecoder()
        self._dds.raw_reader("rt/lowcmd", types.LowCmd_, self._on_cmd, keep_last=64)
        self._dds.raw_reader("rt/lowstate", types.LowState_, self._on_state, keep_last=64)

    def _on_cmd(self, sample: bytes) -> None:
        now = time.monotonic_ns()
        if not self._cmd_decoder.decode(sample, self._cmd):
            return
        arrival = Arrival(
            now,
            kp_sum=float(np.sum(self._cmd.kp)),
            kd_sum=float(np.sum(self._cmd.kd)),
            mode_machine=self._cmd_decoder.mode_machine,
        )
        with self.lock:
            self.lowcmds.append(arrival)

    def _on_state(self, sample: bytes) -> None:
        now = time.monotonic_ns()
        if not self._state_decoder.check(sample):
            return
        self._state_decoder.decode_into(self._state)
        with self.lock:
            self.lowstates.append(Arrival(now, keys=self._state.remote_keys))

    def snapshot(self) -> tuple[list[Arrival], list[Arrival]]:
        with self.lock:
            return list(self.lowstates), list(self.lowcmds)

    def close(self) -> None:
        self._dds.close()


@contextmanager
def bus_probe(domain: int) -> Iterator[BusProbe]:
    probe = BusProbe(domain)
    try:
        yield probe
    finally:
        probe.close()
