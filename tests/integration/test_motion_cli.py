"""From a GENMO file to the simulated robot through the command line, as a new user would.

Real: ``exoactor-edge package from-genmo``, ``package inspect`` and ``demo --package`` (in
process through ``daemon.cli.edge_cli.main``, and once as a subprocess), MuJoCo for the collision
check and the simulation (Unitree's official model when ../shared has it), the control loop with its
blends, files in ``tmp_path``. Faked: GENMO's output (``tests.support.genmo_files``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from controller.embodiment import dex3, g1
from controller.robot.model_source import resolve_model
from daemon.cli.edge_cli import main
from daemon.library.track_prep import TrackPreparer, TrackPrepConfig
from estimators.package import PackageConfig, decode_package
from tests.support.genmo_files import genmo_arrays, hanging_arms, write_genmo

pytestmark = pytest.mark.integration


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_readme_example_without_package_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_genmo(tmp_path / "smpl_params.pt", genmo_arrays(60))
    code, out, _ = _cli(["package", "from-genmo", str(source), "--instruction", "wave"], capsys)
    assert code == 0
    written = tmp_path / "smpl_params.pkg"
    package = decode_package(written.read_bytes(), PackageConfig()).package
    assert package.meta.package_id.startswith("smpl_params-")
    assert f"id {package.meta.package_id}" in out
    assert "no self-collision" in out


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"PK\x03\x04 truncated zip", "corrupt"),
        (b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order'", "corrupt"),
        (b"garbage, not a GENMO file at all", "corrupt"),
    ],
)
def test_bad_files_are_one_line_with_a_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, code: str
) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    status, out, err = _cli(["package", "from-genmo", str(path)], capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert f"error [{code}] bad.npz:" in err


def test_shape_mistakes_fps_and_mismatches_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arrays = genmo_arrays(60)
    arrays["body_pose"] = arrays["body_pose"].T.copy()
    path = write_genmo(tmp_path / "t.npz", arrays)
    status, _, err = _cli(["package", "from-genmo", str(path)], capsys)
    assert status == 2
    assert "[bad_shape]" in err
    assert "body_pose shape (63, 60): looks transposed" in err
    path = write_genmo(tmp_path / "ok.npz", genmo_arrays(60))
    status, _, err = _cli(["package", "from-genmo", str(path), "--fps", "0"], capsys)
    assert (status, "[bad_fps]" in err, "fps 0 " in err) == (2, True, True)


def test_no_traceback_from_the_real_command(tmp_path: Path) -> None:
    path = tmp_path / "smpl_params.pt"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    result = subprocess.run(
        [sys.executable, "-m", "daemon.cli.edge_cli", "package", "from-genmo", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("exoactor-edge: error [corrupt] smpl_params.pt:")


def test_a_jump_is_refused_and_smoothed_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_genmo(tmp_path / "jumpy.npy", genmo_arrays(300, jump_every_s=4.0))
    status, _, err = _cli(["package", "from-genmo", str(path)], capsys)
    assert status == 1
    assert "rejected [joint_velocity] arrays.body_pose[120]: right_shoulder_pitch_joint" in err
    assert "rad/s at t 3.98 s" in err
    assert "--smooth" in err
    assert not (tmp_path / "jumpy.pkg").exists()
    status, out, _ = _cli(["package", "from-genmo", str(path), "--smooth"], capsys)
    assert status == 0
    assert out.count("smoothed frames") == 2
    status, out, _ = _cli(["package", "inspect", str(tmp_path / "jumpy.pkg")], capsys)
    assert status == 0
    assert "validation: OK" in out


def test_inspect_at_prints_the_runtime_command_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_genmo(tmp_path / "hang.npz", hanging_arms(90))
    assert _cli(["package", "from-genmo", str(path), "--package-id", "hang"], capsys)[0] == 0
    status, out, _ = _cli(["package", "inspect", str(tmp_path / "hang.pkg"), "--at", "1.5",
                           "--json"], capsys)  # fmt: skip
    assert status == 0
    command = json.loads(out)
    assert (command["package_id"], command["t_s"], command["frame"]) == ("hang", 1.5, 75)
    assert list(command["joints"]) == list(g1.BODY_JOINT_NAMES)
    assert set(command["hands"]) == {"left", "right"}
    for hand in dex3.Hand:
        entry = command["hands"][hand.name.lower()]
        assert entry["state"] == "OPEN"
        assert list(entry["dex3"]) == [j.name for j in dex3.HAND_JOINTS[hand]]
    # The same number the runtime would get: the checked (collision-corrected) track's frame.
    package = decode_package((tmp_path / "hang.pkg").read_bytes(), PackageConfig()).package
    track = (
        TrackPreparer(TrackPrepConfig(model_source=resolve_model(None)))
        .prepare(package, with_dynamics=False)
        .track
    )
    roll = "left_shoulder_roll_joint"
    assert command["joints"][roll] == pytest.approx(track.q_hw[75, g1.joint_index(roll)], abs=1e-6)
    assert command["joints"][roll] > 0.15, "rolled out of the hip"
    status, _, err = _cli(["package", "inspect", str(tmp_path / "hang.pkg"), "--at", "9"], capsys)
    assert status == 2
    assert "outside the track" in err


def test_inspect_reports_peak_speeds_and_collision_corrections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_genmo(tmp_path / "hang.npz", hanging_arms(60))
    assert _cli(["package", "from-genmo", str(path)], capsys)[0] == 0
    status, out, _ = _cli(["package", "inspect", str(tmp_path / "hang.pkg"), "--json"], capsys)
    assert status == 0
    report = json.loads(out)
    assert report["validation"] == {"result": "ok"}
    assert set(report["peak_joint_speeds"]) == set(g1.BODY_JOINT_NAMES)
    collision = report["self_collision"]
    assert collision["corrected"]
    assert {c["arm"] for c in collision["corrections"]} == {"left", "right"}
    assert all(c["max_shoulder_roll_deg"] > 5.0 for c in collision["corrections"])
    status, text, _ = _cli(["package", "inspect", str(tmp_path / "hang.pkg")], capsys)
    assert "self_collision.left_arm: corrected, shoulder roll <=" in text
    assert "peak_speed." in text


def test_demo_plays_a_package_with_blends_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_genmo(tmp_path / "hang.npz", hanging_arms(60))
    assert _cli(["package", "from-genmo", str(path), "--package-id", "hang"], capsys)[0] == 0
    out_dir = tmp_path / "demo"
    status, _, err = _cli(["demo", "--package", str(tmp_path / "hang.pkg"), "--out",
                             str(out_dir), "--quiet"], capsys)  # fmt: skip
    assert status == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["package_id"] == "hang"
    assert report["result"] == "ok"
    assert [m["mode"] for m in report["modes"]] == ["PASSIVE", "RAMP", "HOLD", "TRACK", "HOLD"]
    assert [b["kind"] for b in report["blends"]] == ["blend_in", "blend_out"]
    assert all(0.2 < b["duration_s"] <= 1.0 for b in report["blends"])
    assert report["track_start_max_step_rad"] <= 0.05
    assert report["package_checks"]["self_collision"]["corrected"]
    assert report["tracking_rms_rad"] < 0.05
    for name in ("tracking.png", "modes.png", "hands.png", "timing.png"):
        assert (out_dir / name).stat().st_size > 10_000


def test_demo_refuses_a_bad_package_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pkg"
    bad.write_bytes(b"not a package")
    status, _, err = _cli(["demo", "--package", str(bad), "--out", str(tmp_path / "d"),
                           "--quiet"], capsys)  # fmt: skip
    assert status == 1
    assert err.count("\n") == 1
    assert "rejected [malformed]" in err
    assert _cli(["demo", "--package", str(tmp_path / "missing.pkg")], capsys)[0] == 2


def test_every_tick_step_at_track_start_stays_under_005_rad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the standing pose to a far first frame (knee 0.67 -> 0, elbow 0.6 -> 1.57)."""
    arrays = hanging_arms(45)
    path = write_genmo(tmp_path / "far.npz", arrays)
    assert _cli(["package", "from-genmo", str(path), "--package-id", "far"], capsys)[0] == 0
    out_dir = tmp_path / "demo"
    assert _cli(["demo", "--package", str(tmp_path / "far.pkg"), "--out", str(out_dir),
                 "--quiet", "--builtin-model"], capsys)[0] == 0  # fmt: skip
    report = json.loads((out_dir / "report.json").read_text())
    assert report["track_start_max_step_rad"] <= 0.05
    first = report["blends"][0]
    assert first["kind"] == "blend_in"
    assert np.isclose(first["duration_s"], report["package_checks"]["blend_in_s"], atol=0.021)
