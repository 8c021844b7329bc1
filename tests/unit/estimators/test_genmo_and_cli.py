"""GENMO import and the ``package from-genmo`` / ``package inspect`` command line.

Real: the importer, the package codec, argparse wiring and the command functions, the upload
checks with MuJoCo on the built-in model, files in ``tmp_path``; torch for ``.pt`` files when
installed. Faked: GENMO's output (smooth SMPL-X motion in GENMO's layout written by the test,
``tests.support.genmo_files``; the GENMO model cannot run here).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from daemon.cli.package_cli import EXIT_IO, EXIT_OK, EXIT_REJECTED, add_package_commands
from estimators.errors import GenmoImportError
from estimators.genmo import genmo_to_package, load_genmo_file
from estimators.package import (
    AxisConvention,
    PackageConfig,
    decode_package,
    encode_package,
    generate_signing_key,
)
from estimators.package.signing import public_key_bytes
from tests.support.genmo_files import genmo_arrays

N = 45


def _genmo_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    arrays = genmo_arrays(N)
    rng = np.random.default_rng(seed)
    arrays["transl"] = arrays["transl"] + rng.normal(0.0, 0.01, (N, 3)).astype(np.float32)
    arrays["betas"] = rng.normal(0.0, 1.0, (N, 10)).astype(np.float32)
    return arrays


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="exoactor-edge")
    add_package_commands(parser.add_subparsers(dest="command", required=True))
    if argv[:2] in (["package", "from-genmo"], ["package", "inspect"]):
        argv = [*argv, "--builtin-model"]  # the fast model: these tests are about the files
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_genmo_arrays_become_a_valid_y_up_package() -> None:
    package = genmo_to_package(_genmo_arrays(), package_id="g-1", task_instruction="lift")
    assert package.meta.axis_convention is AxisConvention.SMPL_Y_UP
    assert package.meta.fps == 30.0
    assert package.meta.n_frames == N
    assert package.body.body_pose.shape == (N, 21, 3)
    assert package.body.betas is not None
    assert package.body.betas.shape == (10,)
    decoded = decode_package(encode_package(package), PackageConfig()).package
    np.testing.assert_allclose(decoded.body.transl, _genmo_arrays()["transl"])


@pytest.mark.parametrize("prefix", ["", "body_params_global.", "body_params_global/"])
def test_npz_with_flat_or_prefixed_keys(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "smpl_params.npz"
    np.savez(path, **{prefix + k: v for k, v in _genmo_arrays().items()})  # type: ignore[arg-type]
    params = load_genmo_file(path).params
    np.testing.assert_array_equal(params["body_pose"], _genmo_arrays()["body_pose"])


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_pt_file_as_genmo_writes_it(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "smpl_params.pt"
    group = {k: torch.from_numpy(v) for k, v in _genmo_arrays().items()}
    torch.save({"body_params_global": group, "K_fullimg": torch.eye(3)}, path)
    params = load_genmo_file(path).params
    package = genmo_to_package(params, package_id="pt-1", task_instruction="")
    np.testing.assert_allclose(package.body.global_orient, _genmo_arrays()["global_orient"])


@pytest.mark.parametrize(
    "edit",
    [
        lambda a: a.pop("transl"),
        lambda a: a.update(body_pose=a["body_pose"][:, :60]),
        lambda a: a.update(transl=a["transl"][:-1]),
    ],
)
def test_inconsistent_genmo_output_raises(edit: object) -> None:
    arrays = _genmo_arrays()
    edit(arrays)  # type: ignore[operator]
    with pytest.raises(GenmoImportError):
        genmo_to_package(arrays, package_id="bad", task_instruction="")


def test_unknown_file_type_raises(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(GenmoImportError):
        load_genmo_file(tmp_path / "x.json")


def test_cli_from_genmo_then_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "smpl_params.npz"
    np.savez(source, **_genmo_arrays())  # type: ignore[arg-type]
    out = tmp_path / "motion.pkg"
    code = _run(["package", "from-genmo", str(source), "-o", str(out), "--package-id", "cli-1",
                 "--instruction", "pick up the box", "--camera-view", "back"])  # fmt: skip
    assert code == EXIT_OK
    assert out.exists()
    capsys.readouterr()
    assert _run(["package", "inspect", str(out)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "meta.package_id: cli-1" in text
    assert "meta.camera_view: back" in text
    assert "duration_s: 1.467" in text
    assert "validation: OK" in text


def test_cli_signs_and_inspect_checks_the_signature(tmp_path: Path) -> None:
    key = generate_signing_key()
    from cryptography.hazmat.primitives import serialization

    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    (tmp_path / "seed.hex").write_text(seed.hex())
    (tmp_path / "pub.hex").write_text(public_key_bytes(key).hex())
    (tmp_path / "other.hex").write_text(public_key_bytes(generate_signing_key()).hex())
    source = tmp_path / "g.npz"
    np.savez(source, **_genmo_arrays())  # type: ignore[arg-type]
    out = tmp_path / "signed.pkg"
    sign = ["--sign-key", str(tmp_path / "seed.hex"), "--key-id", "cloud"]
    argv = ["package", "from-genmo", str(source), "-o", str(out), "--package-id", "s-1", *sign]
    assert _run(argv) == EXIT_OK
    trusted = ["--require-signature", "--trusted-key", f"cloud={tmp_path / 'pub.hex'}"]
    assert _run(["package", "inspect", str(out), *trusted]) == EXIT_OK
    wrong = ["--require-signature", "--trusted-key", f"cloud={tmp_path / 'other.hex'}"]
    assert _run(["package", "inspect", str(out), *wrong]) == EXIT_REJECTED


def test_cli_inspect_reports_rejection_and_io_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pkg"
    bad.write_bytes(b"not a package")
    assert _run(["package", "inspect", str(bad)]) == EXIT_REJECTED
    assert "REJECTED [malformed]" in capsys.readouterr().out
    assert _run(["package", "inspect", str(tmp_path / "missing.pkg")]) == EXIT_IO
    big = tmp_path / "big.pkg"
    big.write_bytes(encode_package(genmo_to_package(_genmo_arrays(), package_id="b",
                                                    task_instruction="")))  # fmt: skip
    assert _run(["package", "inspect", str(big), "--max-frames", "10"]) == EXIT_REJECTED
    text = capsys.readouterr().out
    assert "meta.package_id: b" in text
    assert "too_many_frames" in text


def test_cli_from_genmo_reports_bad_input(tmp_path: Path) -> None:
    source = tmp_path / "g.npz"
    np.savez(source, global_orient=np.zeros((3, 3)))
    code = _run(["package", "from-genmo", str(source), "-o", str(tmp_path / "o.pkg"),
                 "--package-id", "x"])  # fmt: skip
    assert code == EXIT_IO
