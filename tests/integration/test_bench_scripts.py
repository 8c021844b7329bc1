"""The benchmark scripts run and print the documented JSON (figures are not asserted here:
timing thresholds belong to benchmarks, never to tests).

Real: the scripts as subprocesses, MuJoCo physics in real-time mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_bench_loop_prints_both_loops_as_json() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_loop.py"), "--seconds", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(result.stdout.strip().splitlines()[-1])
    keys = {
        "period_mean_ms",
        "drift_ms",
        "lateness_p50_ms",
        "lateness_p99_ms",
        "lateness_p999_ms",
        "lateness_max_ms",
        "misses",
        "compute_p50_ms",
        "compute_p99_ms",
    }
    assert keys <= set(data["rt"])
    assert keys <= set(data["naive"])
    assert data["sched"] in ("fifo", "other")
    assert data["rt"]["ticks"] == data["naive"]["ticks"] == 50
    assert data["rt"]["final_mode"] != "DAMP", "the benchmark must measure a healthy loop"


def test_bench_dds_prints_every_figure_the_issue_names() -> None:
    """Short run over real DDS against the bridge (figures printed, none asserted)."""
    from tests.support.dds import require_robot_extra

    require_robot_extra()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_dds.py"), "--seconds", "1",
         "--rates", "250", "--roundtrips", "30", "--crc-reps", "500", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    keys = {
        "crc_us_p50", "sdk_crc_us_p50", "lowstate_crc_us_p50", "writer_period_p99_dev_ms",
        "roundtrip_ms_p50", "roundtrip_ms_p99", "tick_lateness_p99_ms_writer_on",
        "tick_lateness_p99_ms_writer_off", "control_cpu_pct_writer_on",
    }  # fmt: skip
    assert keys <= set(data)
    assert data["roundtrip_samples"] > 0
    assert data["runs"]["250"]["final_mode"] == "TRACK", "measured while tracking"


def test_bench_reconnect_prints_outage_and_link_cut_figures_for_both_profiles() -> None:
    """One short broker outage and one link cut (figures printed, none asserted)."""
    from tests.support.mosquitto import find_mosquitto

    if find_mosquitto() is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_reconnect.py"), "--outages", "1",
         "--outage-s", "0.5", "0.5", "--link-cuts", "1", "--cut-s", "1", "--json"],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(data["profiles"]) == {"capped", "previous"}
    for profile in data["profiles"].values():
        assert profile["outage_to_online"]["n"] == 1
        assert profile["link_restored_to_online"]["n"] == 1
        assert {"median_s", "p99_s", "max_s"} <= set(profile["cut_to_connection_broken"])
