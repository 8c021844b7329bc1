#!/usr/bin/env python3
"""Benchmark: how long after an outage the robot is ONLINE again, with capped reconnects.

Two fleet services run side by side against one real mosquitto on loopback: ``capped`` with
this release's broker defaults (reconnect delay doubling from 0.5 s up to 2 s with jitter,
keepalive 5 s) and ``previous`` with the old ones (up to 30 s, keepalive 10 s). Their control
process and motion library are in-memory fakes: the figures are the MQTT adapter's, the code
the robot runs.

Broker outages (``--outages``): the broker is SIGKILLed, stays down ``--outage-s`` (uniform in
the range; the issue's was 6-8 s) and is started again on the same port. Figure: broker
accepting connections -> the robot's ``connection`` ONLINE (its own header timestamp, the same
wall clock), and -> a fleet observer received it (the observer reconnects within ~50 ms).

Link cuts (``--link-cuts``): each robot reaches the broker through a relay that a cut makes a
silent partition (no FIN, no RST; ``tests.support.tcp_link``); the observer is connected to the
broker directly, as the fleet is in the direct topology. Figures: cut -> the fleet sees the
robot's CONNECTION_BROKEN (the broker's will, after about 1.5x keepalive), and link restored
-> ONLINE.

Usage: scripts/bench_reconnect.py [--outages 10] [--outage-s 6 8] [--link-cuts 5]
                                  [--cut-s 15] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support: the broker and link the tests use

from daemon.fleet.fleet_mqtt import FleetService
from daemon.fleet.vda5050.actions import parse_timestamp
from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig
from daemon.fleet.vda5050.fleet_client import FleetClient
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary
from tests.support.mosquitto import MosquittoBroker, find_mosquitto
from tests.support.tcp_link import LinkProxy

PROFILES = {
    "capped": BrokerConfig(),
    "previous": BrokerConfig(reconnect_initial_s=0.5, reconnect_max_s=30.0, keepalive_s=10),
}
_OBSERVER = BrokerConfig(reconnect_initial_s=0.02, reconnect_max_s=0.05, keepalive_s=5)


@dataclass
class Samples:
    online_s: list[float] = field(default_factory=list)
    """Broker up (or link restored) -> the robot's ONLINE timestamp."""
    seen_s: list[float] = field(default_factory=list)
    """... -> the observer received it."""
    broken_s: list[float] = field(default_factory=list)
    """Link cut -> the observer received CONNECTION_BROKEN."""


def figures(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median_s": None, "p99_s": None, "max_s": None}
    data = np.asarray(values)
    return {
        "n": len(values),
        "median_s": round(float(np.median(data)), 3),
        "p99_s": round(float(np.percentile(data, 99)), 3),
        "max_s": round(float(data.max()), 3),
    }


def robot_config(profile: str, port: int, interface: str) -> FleetConfig:
    broker = PROFILES[profile]
    return FleetConfig(
        interface_name=interface,
        serial_number=f"G1-{profile}",
        broker=BrokerConfig(
            port=port,
            keepalive_s=broker.keepalive_s,
            reconnect_initial_s=broker.reconnect_initial_s,
            reconnect_max_s=broker.reconnect_max_s,
        ),
        telemetry_rate_hz=0.0,
    )


@contextlib.asynccontextmanager
async def robots(configs: dict[str, FleetConfig]) -> AsyncIterator[dict[str, FleetService]]:
    async with contextlib.AsyncExitStack() as stack:
        services = {}
        for name, config in configs.items():
            service = FleetService(
                config=config, link=FakeControlLink(), library=FakeMotionLibrary()
            )
            services[name] = await stack.enter_async_context(service)
        for service in services.values():
            if not await service.adapter.wait_connected(10.0):
                raise SystemExit("a robot did not connect to the broker")
        yield services


async def wait_online(
    fleet: FleetClient, after_wall_s: float, timeout_s: float
) -> tuple[float, float]:
    """The first ONLINE stamped after ``after_wall_s``: (its stamp - ``after_wall_s``, the
    loop time at which the observer received it)."""

    def fresh(message: dict[str, Any]) -> bool:
        stamp = parse_timestamp(str(message.get("timestamp", "")))
        return (
            message.get("connectionState") == "ONLINE"
            and stamp is not None
            and stamp.timestamp() >= after_wall_s - 0.002
        )

    message = await fleet.wait_for("connection", fresh, timeout_s)
    stamp = parse_timestamp(str(message["timestamp"]))
    assert stamp is not None
    received = next(r.received_s for r in reversed(fleet.received) if r.message is message)
    return stamp.timestamp() - after_wall_s, received


async def broker_outages(
    broker: MosquittoBroker, args: argparse.Namespace, rng: random.Random
) -> dict[str, Samples]:
    interface = f"bench{uuid.uuid4().hex[:8]}"
    configs = {p: robot_config(p, broker.port, interface) for p in PROFILES}
    samples = {p: Samples() for p in PROFILES}
    async with robots(configs), contextlib.AsyncExitStack() as stack:
        observers = {
            p: await stack.enter_async_context(
                FleetClient(config=_observed(configs[p]), connect_timeout_s=10.0)
            )
            for p in PROFILES
        }
        loop = asyncio.get_running_loop()
        for index in range(args.outages):
            outage_s = rng.uniform(*args.outage_s)
            broker.stop(kill=True)
            await asyncio.sleep(outage_s)
            await asyncio.to_thread(broker.start)
            up_wall, up_loop = time.time(), loop.time()
            results = await asyncio.gather(
                *(wait_online(observers[p], up_wall, 60.0) for p in PROFILES)
            )
            for profile, (online_s, received_s) in zip(PROFILES, results, strict=True):
                samples[profile].online_s.append(online_s)
                samples[profile].seen_s.append(received_s - up_loop)
            line = ", ".join(f"{p} {s.online_s[-1]:.2f} s" for p, s in samples.items())
            print(f"outage {index + 1}/{args.outages} ({outage_s:.1f} s): ONLINE after {line}")
    return samples


async def link_cuts(
    broker: MosquittoBroker, args: argparse.Namespace, rng: random.Random
) -> dict[str, Samples]:
    proxy = LinkProxy(upstream_port=broker.port)
    proxy.start()
    try:
        interface = f"bench{uuid.uuid4().hex[:8]}"
        configs = {p: robot_config(p, proxy.port, interface) for p in PROFILES}
        samples = {p: Samples() for p in PROFILES}
        async with robots(configs), contextlib.AsyncExitStack() as stack:
            observers = {
                p: await stack.enter_async_context(
                    FleetClient(config=_observed(configs[p], broker.port))
                )
                for p in PROFILES
            }
            loop = asyncio.get_running_loop()
            for index in range(args.link_cuts):
                cut_s = rng.uniform(args.cut_s * 0.9, args.cut_s * 1.1)
                cut_loop = loop.time()
                proxy.cut()
                await asyncio.sleep(cut_s)
                for profile, fleet in observers.items():
                    broken = [
                        r.received_s - cut_loop
                        for r in fleet.received
                        if r.kind == "connection"
                        and r.received_s >= cut_loop
                        and r.message.get("connectionState") == "CONNECTION_BROKEN"
                    ]
                    if broken:
                        samples[profile].broken_s.append(broken[0])
                restored_wall = time.time()
                proxy.restore()
                results = await asyncio.gather(
                    *(wait_online(observers[p], restored_wall, 60.0) for p in PROFILES)
                )
                for profile, (online_s, _) in zip(PROFILES, results, strict=True):
                    samples[profile].online_s.append(online_s)
                line = ", ".join(
                    f"{p} broken {'seen' if len(s.broken_s) > index else 'NOT seen'}, "
                    f"ONLINE {s.online_s[-1]:.2f} s"
                    for p, s in samples.items()
                )
                print(f"link cut {index + 1}/{args.link_cuts} ({cut_s:.1f} s): {line}")
        return samples
    finally:
        proxy.stop()


def _observed(config: FleetConfig, port: int | None = None) -> FleetConfig:
    """The robot's topics, seen by an observer with fast reconnects (directly at the broker)."""
    broker = BrokerConfig(
        port=port or config.broker.port,
        keepalive_s=_OBSERVER.keepalive_s,
        reconnect_initial_s=_OBSERVER.reconnect_initial_s,
        reconnect_max_s=_OBSERVER.reconnect_max_s,
    )
    return FleetConfig(
        interface_name=config.interface_name, serial_number=config.serial_number, broker=broker
    )


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("mosquitto is not installed (apt-get install mosquitto)")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as work:
        broker = MosquittoBroker(workdir=Path(work), binary=binary)
        broker.start()
        try:
            outages = await broker_outages(broker, args, rng) if args.outages else {}
            cuts = await link_cuts(broker, args, rng) if args.link_cuts else {}
        finally:
            broker.stop(kill=True)
    result: dict[str, Any] = {"profiles": {}}
    for profile, broker_config in PROFILES.items():
        entry: dict[str, Any] = {
            "reconnect_max_s": broker_config.reconnect_max_s,
            "keepalive_s": broker_config.keepalive_s,
        }
        if profile in outages:
            entry["outage_to_online"] = figures(outages[profile].online_s)
            entry["outage_to_fleet_sees_online"] = figures(outages[profile].seen_s)
        if profile in cuts:
            entry["cut_to_connection_broken"] = figures(cuts[profile].broken_s)
            entry["cuts_without_connection_broken"] = args.link_cuts - len(cuts[profile].broken_s)
            entry["link_restored_to_online"] = figures(cuts[profile].online_s)
        result["profiles"][profile] = entry
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outages", type=int, default=10)
    parser.add_argument("--outage-s", type=float, nargs=2, default=(6.0, 8.0))
    parser.add_argument("--link-cuts", type=int, default=5)
    parser.add_argument("--cut-s", type=float, default=15.0, help="length of a cut (+-10 %%)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the adapters' reconnect warnings are expected
    result = asyncio.run(bench(args))
    print()
    print(f"{'profile':<10} {'figure':<32} {'n':>3} {'median s':>9} {'p99 s':>7} {'max s':>7}")
    for profile, entry in result["profiles"].items():
        for name, value in entry.items():
            if isinstance(value, dict):
                median, p99, top = value["median_s"], value["p99_s"], value["max_s"]
                print(
                    f"{profile:<10} {name:<32} {value['n']:>3} {_text(median):>9} "
                    f"{_text(p99):>7} {_text(top):>7}"
                )
    if args.json:
        print(json.dumps(result))
    return 0


def _text(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
