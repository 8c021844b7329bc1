"""The smallest ``edge.toml`` that runs ``exoactor-edge run`` in a scratch directory.

For benchmarks and tests that start the real service: everything it writes lives under
``work``, the fleet broker is a test mosquitto on loopback, uploads come in on a loopback
port, and the built-in robot model is used (no files needed).
"""

from __future__ import annotations

from pathlib import Path


def write_service_config(
    work: Path, *, broker_port: int, ingest_port: int, control_cpu: int | None = None
) -> Path:
    """Write ``work/edge.toml``; ``control_cpu`` pins the control process to that CPU."""
    realtime = f"[realtime]\ncpu_affinity = [{control_cpu}]\n" if control_cpu is not None else ""
    config = work / "edge.toml"
    config.write_text(
        realtime
        + f"""
[daemon]
run_dir = "{work / "run"}"
state_dir = "{work / "state"}"
[safety]
estop_latch_path = "{work / "state" / "estop.json"}"
[fleet.broker]
host = "127.0.0.1"
port = {broker_port}
[ingest]
endpoints = ["tcp://127.0.0.1:{ingest_port}"]
[robot]
use_official_model = false
"""
    )
    return config
