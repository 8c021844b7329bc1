"""Issue 13's VDA 5050 behaviour over a real broker: orders, reused action ids, error lifetimes.

Real: mosquitto on loopback, the MQTT adapter, ``FleetService`` and ``FleetClient`` (the
fleet side), the official VDA 5050 v3 schemas (every message seen is validated). Faked: the
control process (``FakeControlLink``) and the motion library (``FakeMotionLibrary``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from controller.robot.unitree_config import BackendKind
from daemon.app import fleet_extras
from daemon.control.control_link import ControlStatus
from daemon.fleet.mqtt_adapter import Outgoing
from daemon.fleet.vda5050.config import FleetConfig
from daemon.fleet.vda5050.fleet_client import FleetClient, action_status, order_action_status
from daemon.fleet.vda5050.header import HeaderFactory
from daemon.fleet.vda5050.messages import (
    encode,
    instant_action,
    node_action,
    order_message,
    order_node,
)
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary
from tests.support.mosquitto import MosquittoBroker

from .test_fleet_mqtt import REPO_ROOT, assert_all_valid, rig, run

pytestmark = pytest.mark.integration


def test_an_action_id_reused_in_a_new_message_is_answered_with_an_error(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker) as r:
            first = await r.fleet.instant_action("stateRequest")
            await r.fleet.wait_action(first, {"FINISHED"}, 2.0)
            await r.fleet.instant_actions([instant_action("startMotion", first, None)])
            state = await r.fleet.wait_state(
                lambda m: any(e["errorType"] == "duplicateActionId" for e in m["errors"]), 2.0
            )
            assert action_status(state, first) == "FINISHED"
            assert r.link.calls == [], "the reusing startMotion did not run"
            assert_all_valid(r.fleet)

    run(body())


def test_errors_expire_and_a_flood_lists_only_the_newest(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Issue 13: rejected actions left errors in every state until clearInstantActions (16
    at once). Now at most ``max_action_errors`` are listed, each for ``error_ttl_s``."""

    async def body() -> None:
        async with rig(mosquitto_broker, error_ttl_s=1.5, info_interval_s=0.2) as r:
            actions = [instant_action("dance", f"dance-{i}", None) for i in range(16)]
            await r.fleet.instant_actions(actions)
            state = await r.fleet.wait_state(
                lambda m: action_status(m, "dance-15") == "FAILED", 2.0
            )
            assert len(state["errors"]) == r.config.max_action_errors
            state = await r.fleet.wait_state(lambda m: m["errors"] == [], 4.0)
            assert action_status(state, "dance-0") == "FAILED", "the action state stays"
            assert_all_valid(r.fleet)

    run(body())


def test_an_order_at_the_station_runs_its_node_actions_in_sequence(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Issue 13: orders were silently ignored (orderId stayed ""). A one-node order at the
    robot's station runs loadMotion then startMotion; actionStates report each."""

    async def body() -> None:
        async with rig(mosquitto_broker) as r:
            assert r.fleet.latest_state is not None
            assert r.fleet.latest_state["lastNodeId"] == r.config.station_node_id
            order_id, (load, start) = await r.fleet.order(
                [("loadMotion", {"packageId": "wave"}), ("startMotion", None)]
            )
            state = await r.fleet.wait_state(lambda m: m["orderId"] == order_id, 2.0)
            assert state["orderUpdateId"] == 0
            await r.fleet.wait_order_action(start, {"RUNNING"}, 3.0)
            await r.fleet.wait_order_action(start, {"FINISHED"}, 3.0)
            state = r.fleet.latest_state
            assert state is not None
            assert order_action_status(state, load) == "FINISHED"
            assert state["errors"] == []
            assert r.link.names() == ["load_track", "enable", "start_track"]
            statuses = [order_action_status(m, start) for m in r.fleet.messages_of("state")]
            assert statuses.index("RUNNING") < statuses.index("FINISHED")
            assert_all_valid(r.fleet)

    run(body())


def test_an_order_with_travel_is_refused_with_a_specific_error_and_nothing_moves(
    mosquitto_broker: MosquittoBroker,
) -> None:
    async def body() -> None:
        async with rig(mosquitto_broker) as r:
            station = r.config.station_node_id
            nodes = [
                order_node(station, [node_action("startMotion", "t1", {"packageId": "wave"})]),
                order_node("elsewhere", [], sequence_id=2),
            ]
            edges = [{"edgeId": "e1", "sequenceId": 1, "released": True, "actions": []}]
            await r.fleet.send_order("travel-1", 0, nodes, edges)
            state = await r.fleet.wait_state(lambda m: m["errors"] != [], 2.0)
            (error,) = state["errors"]
            assert error["errorType"] == "NO_ROUTE_TO_TARGET"
            assert state["orderId"] == ""
            assert r.link.calls == []
            assert_all_valid(r.fleet)

    run(body())


def test_order_update_rules_and_cancel_order_over_mqtt(mosquitto_broker: MosquittoBroker) -> None:
    async def body() -> None:
        library = FakeMotionLibrary({"long": 1000, "wave": 10})
        async with rig(mosquitto_broker, library=library) as r:
            order_id, (first, second) = await r.fleet.order(
                [("startMotion", {"packageId": "long"}), ("startMotion", {"packageId": "wave"})]
            )
            await r.fleet.wait_order_action(first, {"RUNNING"}, 3.0)
            # a second order while this one runs: OTHER_ORDER_ACTIVE, nothing changes
            await r.fleet.order([("startMotion", None)])
            state = await r.fleet.wait_state(
                lambda m: any(e["errorType"] == "OTHER_ORDER_ACTIVE" for e in m["errors"]), 2.0
            )
            assert state["orderId"] == order_id
            cancel = await r.fleet.instant_action("cancelOrder", {"orderId": order_id})
            await r.fleet.wait_action(cancel, {"FINISHED"}, 3.0)
            state = await r.fleet.wait_state(
                lambda m: order_action_status(m, first) == "FAILED", 2.0
            )
            assert order_action_status(state, second) == "FAILED"
            assert (state["orderId"], state["orderUpdateId"]) == (order_id, 0)
            await r.fleet.order([("startMotion", None)], order_id=order_id, order_update_id=1)
            await r.fleet.wait_state(
                lambda m: any(
                    e["errorType"] == "ORDER_UPDATE_FOLLOWING_CANCEL" for e in m["errors"]
                ),
                2.0,
            )
            new_id, (again,) = await r.fleet.order([("startMotion", {"packageId": "wave"})])
            await r.fleet.wait_order_action(again, {"FINISHED"}, 3.0)
            state = await r.fleet.wait_state(lambda m: m["orderId"] == new_id, 2.0)
            assert not any(e["errorType"].isupper() for e in state["errors"]), state["errors"]
            assert_all_valid(r.fleet)

    run(body())


def test_orders_pass_the_same_defences_as_instant_actions(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """Strict JSON, freshness and retained refusal; each a typed VALIDATION_FAILURE."""

    async def body() -> None:
        async with rig(mosquitto_broker) as r:
            topic = r.service.topics.order
            await r.fleet.publish_raw(b'{"headerId": NaN}', topic=topic)
            state = await r.fleet.wait_state(lambda m: m["errors"] != [], 2.0)
            assert "not a JSON document" in state["errors"][0]["errorDescription"]
            old = encode(station_order(r.config, "old", stamp_s=-60.0))
            await r.fleet.publish_raw(old, topic=topic)
            await r.fleet.wait_state(
                lambda m: any("stale" in e["errorDescription"] for e in m["errors"]), 2.0
            )
            assert r.service.counters.stale_refused == 1
            assert r.link.calls == []
            config = r.config
        # A retained order (fresh and valid) is on the broker when the robot connects.
        async with FleetClient(config=config) as fleet:
            retained = encode(station_order(config, "retained"))
            await fleet.adapter.publish(Outgoing(config.topics.order, retained, 1, True))
        try:
            link = FakeControlLink()
            async with rig(mosquitto_broker, link=link, interface_name=config.interface_name) as r:
                state = await r.fleet.wait_state(
                    lambda m: any("retained" in e["errorDescription"] for e in m["errors"]), 3.0
                )
                assert state["orderId"] == ""
                assert r.service.counters.retained_refused == 1
                assert link.calls == [], "the retained order did not run"
                assert_all_valid(r.fleet)
        finally:
            async with FleetClient(config=config) as fleet:
                await fleet.adapter.publish(Outgoing(config.topics.order, b"", 1, True))

    run(body(), 12.0)


def station_order(config: FleetConfig, order_id: str, *, stamp_s: float = 0.0) -> dict[str, Any]:
    """A valid one-node order (a startMotion) at the robot's station, stamped ``stamp_s``
    from now."""
    return order_message(
        HeaderFactory(manufacturer=config.manufacturer, serial_number=config.serial_number),
        order_id=order_id,
        order_update_id=0,
        nodes=[
            order_node(config.station_node_id, [node_action("startMotion", f"{order_id}-a1", None)])
        ],
        now=datetime.now(timezone.utc) + timedelta(seconds=stamp_s),
    )


def test_fleet_sim_orders_mode_runs_motions_in_one_order(
    mosquitto_broker: MosquittoBroker,
) -> None:
    """``scripts/fleet_sim.py --orders start A B``: one order, two startMotions in turn; exit
    0 when both FINISHED, 1 when one FAILED (the rest not run)."""

    async def body() -> None:
        library = FakeMotionLibrary({"wave": 10, "jump": 10})
        async with rig(mosquitto_broker, library=library) as r:

            async def fleet_sim(*args: str) -> tuple[int, str]:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(REPO_ROOT / "scripts" / "fleet_sim.py"),
                    "--port",
                    str(mosquitto_broker.port),
                    "--interface",
                    r.config.interface_name,
                    "--timeout",
                    "10",
                    *args,
                    env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                out, _ = await process.communicate()
                assert process.returncode is not None
                return process.returncode, out.decode()

            code, out = await fleet_sim("--orders", "start", "wave", "jump")
            assert code == 0, out
            assert out.count(": FINISHED") == 2, out
            state = r.fleet.latest_state
            assert state is not None
            assert state["orderId"].startswith("order-")
            assert [a["actionStatus"] for a in state["actionStates"]] == ["FINISHED"] * 2
            assert r.link.names().count("start_track") == 2
            code, out = await fleet_sim("--orders", "start", "nosuch", "wave")
            assert code == 1, out
            assert "not run: startMotion" in out, out

    run(body(), 30.0)


@pytest.mark.parametrize("backend", [BackendKind.SIM, BackendKind.UNITREE])
def test_the_battery_figure_is_the_robots_or_says_it_is_simulated(
    mosquitto_broker: MosquittoBroker, backend: BackendKind
) -> None:
    """Issue 13: the battery figure was a placeholder (80 %). On the robot it is the BMS figure
    (a labelled placeholder until the first reading); in the simulator a figure that says it
    is simulated. ``fleet_extras`` is what ``exoactor-edge run`` hands the fleet service."""

    class BmsLink(FakeControlLink):
        soc_pct: float | None = None

        def status(self) -> ControlStatus:
            robot = {} if self.soc_pct is None else {"battery_soc_pct": self.soc_pct}
            return dataclasses.replace(super().status(), robot=robot)

    def reading(state: dict[str, Any]) -> str | None:
        kinds = {i["infoType"]: i["infoDescriptor"] for i in state["information"]}
        return kinds.get("batteryReading")

    async def body() -> None:
        link = BmsLink()
        extras = lambda: fleet_extras(link.status(), backend)  # noqa: E731
        async with rig(mosquitto_broker, link=link, extra_status=extras) as r:
            state = await r.fleet.wait_state(lambda m: True, 2.0)
            if backend is BackendKind.SIM:
                assert state["powerSupply"]["stateOfCharge"] == 100.0
                assert (reading(state) or "").startswith("simulated")
                return
            assert (reading(state) or "").startswith("none"), "a placeholder says so"
            link.soc_pct = 63.0
            state = await r.fleet.wait_state(
                lambda m: m["powerSupply"]["stateOfCharge"] == 63.0, 3.0
            )
            assert reading(state) is None, "the robot's own figure needs no label"
            assert_all_valid(r.fleet)

    run(body())
