"""IPC between the daemon and the control process: ZeroMQ ``ipc://`` sockets, msgpack frames.

Sockets (the control process binds, the daemon connects), under one run directory:

- ``estop.sock``  PULL <- PUSH: e-stop requests only, polled first, acted on at once.
- ``command.sock`` ROUTER <- DEALER: commands (with an id, answered with an ack), heartbeats,
  reference tracks.
- ``status.sock`` PUB -> SUB: status snapshots (10 Hz) and supervisor transitions (at once).
"""

ESTOP_SOCKET = "estop.sock"
COMMAND_SOCKET = "command.sock"
STATUS_SOCKET = "status.sock"


def endpoint(run_dir: str, name: str) -> str:
    return f"ipc://{run_dir}/{name}"
