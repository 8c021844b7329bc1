"""The shipped systemd files parse cleanly with systemd's own tools.

Real: ``systemd-analyze verify`` (systemd 252 here; no systemd as PID 1 is needed), and
``systemd-sysusers`` / ``systemd-tmpfiles`` against a throw-away root in tmp_path. Changed for
the check only: the unit's ``ExecStart`` points at this venv's Python, because verify fails on a
program that does not exist and the robot's venv path does not exist here. Plain ``verify``
exits 0 on parse errors ("... ignoring"), so any output on stderr fails the test, and a
deliberately broken copy proves that the check would catch one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNIT = SYSTEMD_DIR / "exoactor-edge.service"
ANALYZE = shutil.which("systemd-analyze")


def verify_copy(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on ``text`` as ``exoactor-edge.service`` with a real ExecStart."""
    if ANALYZE is None:
        pytest.skip("systemd-analyze not installed (Debian package `systemd`)")
    patched, count = re.subn(r"(?m)^ExecStart=\S+", f"ExecStart={sys.executable}", text, count=1)
    assert count == 1, "the unit must have one ExecStart line"
    path = tmp_path / "exoactor-edge.service"
    path.write_text(patched, encoding="utf-8")
    return subprocess.run(
        [ANALYZE, "verify", "--recursive-errors=no", "--man=no", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_unit_verifies_with_no_output_on_stderr(tmp_path: Path) -> None:
    done = verify_copy(tmp_path, UNIT.read_text(encoding="utf-8"))
    assert done.stderr == ""
    assert done.returncode == 0


def test_the_check_catches_a_parse_error_that_plain_verify_lets_pass(tmp_path: Path) -> None:
    broken = UNIT.read_text(encoding="utf-8").replace("Type=notify", "Type=notfy")
    broken = broken.replace("LimitMEMLOCK=infinity", "LimitMEMLOCK=infinity\nMemoryLock=yes")
    done = verify_copy(tmp_path, broken)
    assert "notfy" in done.stderr
    assert "MemoryLock" in done.stderr


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_unit_keeps_the_decisions_the_daemon_relies_on() -> None:
    """Type=notify with main-only notify access, the watchdog, RT limits instead of an RT policy
    for every thread, hardening that keeps the GPU visible, credentials for secrets."""
    s = unit_settings()
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["main"]
    assert s["KillMode"] == ["mixed"]
    assert s["Restart"] == ["on-failure"]
    assert "WatchdogSec" in s
    assert "StartLimitBurst" in s
    assert "TimeoutStopSec" in s
    assert s["LimitMEMLOCK"] == ["infinity"]
    assert "LimitRTPRIO" in s
    assert "CPUSchedulingPolicy" not in s
    assert "MemoryLock" not in s
    assert "PrivateDevices" not in s
    assert "ProtectClock" not in s
    assert s["ProtectSystem"] == ["strict"]
    assert s["StateDirectory"] == ["exoactor-edge"]
    assert s["SupplementaryGroups"] == ["video"]
    assert any(v.startswith("mqtt-password:") for v in s["LoadCredential"])
    assert s["ExecStart"][0].endswith("exoactor-edge run --config /etc/exoactor/edge.toml")


def test_sysusers_file_parses(tmp_path: Path) -> None:
    tool = shutil.which("systemd-sysusers")
    if tool is None:
        pytest.skip("systemd-sysusers not installed (Debian package `systemd`)")
    (tmp_path / "etc").mkdir()
    done = subprocess.run(
        [tool, f"--root={tmp_path}", "--dry-run", str(SYSTEMD_DIR / "exoactor-edge.sysusers")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Creating user 'exoactor'" in done.stderr + done.stdout


def test_tmpfiles_file_creates_the_directories(tmp_path: Path) -> None:
    tool = shutil.which("systemd-tmpfiles")
    if tool is None:
        pytest.skip("systemd-tmpfiles not installed (Debian package `systemd`)")
    if os.geteuid() != 0:
        pytest.skip("creating root-owned directories, even under --root, needs root")
    done = subprocess.run(
        [tool, f"--root={tmp_path}", "--create", str(SYSTEMD_DIR / "exoactor-edge.tmpfiles")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    credentials = tmp_path / "etc" / "exoactor" / "credentials"
    assert credentials.is_dir()
    assert credentials.stat().st_mode & 0o777 == 0o700


def test_example_configuration_is_valid_toml_with_the_expected_sections() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 on JetPack 6
        import tomli as tomllib
    data = tomllib.loads((SYSTEMD_DIR / "edge.toml").read_text(encoding="utf-8"))
    assert {
        "robot",
        "sim",
        "safety",
        "loop",
        "realtime",
        "fleet",
        "ingest",
        "store",
    } <= set(data)
    # Streaming is opt-in: the example documents it commented out.
    assert "# [streaming]" in (SYSTEMD_DIR / "edge.toml").read_text(encoding="utf-8")
    assert "supervisor" in data["safety"]
