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


def test_bench_packages_reports_the_ten_minute_track_build() -> None:
    """The 10-minute figures sit beside the 60-second ones (values are not asserted)."""
    script = str(ROOT / "scripts" / "bench_packages.py")
    result = subprocess.run(
        [sys.executable, script, "--duration", "5", "--repeats", "1", "--repeats-10min", "1",
         "--no-checks", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"bytes", "decode_validate_ms", "precompute_ms", "total_ms", "hand_us_per_frame",
            "track_build_s_10min", "track_build_peak_mb_10min"} <= set(data)  # fmt: skip
    assert data["track_build_s_10min"] > 0.0
    assert data["track_build_peak_mb_10min"] > 0.0


def test_bench_stream_prints_every_figure_the_issue_names() -> None:
    """The real daemon, a v1 and a v3 producer over ZeroMQ (figures printed, none asserted)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_stream.py"), "--seconds", "5", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    keys = {"lag_ms_p50", "lag_ms_p99", "starved_ticks", "measured_lag_ms_p50", "map_ms_per_msg"}
    for protocol in ("v1", "v3"):
        assert keys <= set(data["quiet"][protocol]), data
        assert data["quiet"][protocol]["ticks"] > 0, "the stream was tracked"


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
