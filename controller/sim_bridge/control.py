"""The bridge's control hook: the simulated remote and test probes, on a ZeroMQ REP socket.

Unitree's simulator reads a gamepad; this one takes small JSON requests instead, so a test or
an operator at a desk can press remote keys and a test can inject faults and read what the
bridge received:

``{"cmd": "press", "keys": 8}``      hold these wireless-remote keys (0 releases)
``{"cmd": "corrupt", "count": 5}``   the next 5 ``rt/lowstate`` carry a wrong CRC
``{"cmd": "gantry", "on": false}``   engage or release the gantry
``{"cmd": "stats"}``                 what arrived on ``rt/lowcmd`` and the Dex3 commands
"""

from __future__ import annotations

import json
import threading
from typing import Any

import zmq

from controller.sim_bridge.bridge import SimBridge


class BridgeControl:
    """Serves requests on its own thread until ``close``."""

    def __init__(self, bridge: SimBridge, endpoint: str) -> None:
        self._bridge = bridge
        self._ctx: zmq.Context[Any] = zmq.Context.instance()
        self._socket: zmq.Socket[bytes] = self._ctx.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="bridge-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._socket.close(linger=0)

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._socket.poll(100):
                continue
            raw = self._socket.recv()
            try:
                request = json.loads(raw)
                answer = self._answer(request if isinstance(request, dict) else {})
            except ValueError as exc:
                answer = {"ok": False, "reason": f"not JSON: {exc}"}
            self._socket.send(json.dumps(answer).encode())

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        bridge = self._bridge
        command = request.get("cmd")
        if command == "press":
            bridge.keys = int(request.get("keys", 0)) & 0xFFFF
            return {"ok": True}
        if command == "corrupt":
            bridge.corrupt_remaining = max(0, int(request.get("count", 1)))
            return {"ok": True}
        if command == "gantry":
            bridge.sim.set_gantry(bool(request.get("on", True)))
            return {"ok": True}
        if command == "stats":
            return {"ok": True, "stats": bridge.snapshot_stats()}
        return {"ok": False, "reason": f"unknown cmd {command!r}"}


def bridge_request(endpoint: str, request: dict[str, Any], timeout_s: float = 3.0) -> Any:
    """Client side (tests, benchmarks): one request, its JSON answer."""
    ctx: zmq.Context[Any] = zmq.Context.instance()
    socket: zmq.Socket[bytes] = ctx.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.connect(endpoint)
        socket.send(json.dumps(request).encode())
        if not socket.poll(int(timeout_s * 1000)):
            raise TimeoutError(f"the simulator bridge did not answer on {endpoint}")
        return json.loads(socket.recv())
    finally:
        socket.close(linger=0)
