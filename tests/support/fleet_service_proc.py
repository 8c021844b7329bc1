"""Run a ``FleetService`` over the in-memory fakes in its own process, until killed.

Tests start it with ``python -m tests.support.fleet_service_proc --port P --interface I`` from
the repository root and SIGKILL it to check that the broker publishes the last will. It prints
``connected`` once the service is online.
"""

from __future__ import annotations

import argparse
import asyncio

from daemon.fleet.fleet_mqtt import FleetService
from daemon.fleet.vda5050.config import BrokerConfig, FleetConfig
from tests.support.fleet_fakes import FakeControlLink, FakeMotionLibrary


async def serve(config: FleetConfig) -> None:
    async with FleetService(
        config=config, link=FakeControlLink(), library=FakeMotionLibrary()
    ) as service:
        if not await service.adapter.wait_connected(5.0):
            raise SystemExit("not connected")
        print("connected", flush=True)  # noqa: T201 - the parent test waits for this line
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interface", required=True)
    parser.add_argument("--serial", default="G1-0001")
    args = parser.parse_args()
    config = FleetConfig(
        interface_name=args.interface,
        serial_number=args.serial,
        broker=BrokerConfig(host=args.host, port=args.port, keepalive_s=5),
    )
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
