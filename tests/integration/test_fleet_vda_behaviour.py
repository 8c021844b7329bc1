"""Issue 13's VDA 5050 behaviour over a real broker: reused action ids, error lifetimes.

Real: mosquitto on loopback, the MQTT adapter, ``FleetService`` and ``FleetClient`` (the
fleet side), the official VDA 5050 v3 schemas (every message seen is validated). Faked: the
control process (``FakeControlLink``) and the motion library (``FakeMotionLibrary``).
"""

from __future__ import annotations

import pytest

from daemon.vda5050.fleet_client import action_status
from daemon.vda5050.messages import instant_action
from tests.support.mosquitto import MosquittoBroker

from .test_fleet_mqtt import assert_all_valid, rig, run

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
