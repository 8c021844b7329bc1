"""GENMO import: every file format, every bad file, exact shapes, nothing executed.

Real: ``estimators.genmo``, ``genmo_files``, ``genmo_arrays``, ``safe_pickle``, numpy's and
torch's own writers (torch when installed), files in ``tmp_path``. Faked: GENMO's output itself
(``tests.support.genmo_files`` writes it the ways GENMO users save it); the "malicious" files are
built here with pickle and point at a harmless marker-writing function, never at a real command.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from estimators.errors import GenmoErrorCode, GenmoImportError
from estimators.genmo import (
    ParamSet,
    derive_package_id,
    genmo_to_package,
    load_genmo_file,
)
from estimators.package import PackageConfig, decode_package, encode_package
from estimators.package.meta import PackageMeta
from estimators.rotations import axis_angle_to_matrix
from tests.support.genmo_files import genmo_arrays, write_genmo

Code = GenmoErrorCode
N = 45
HAS_TORCH = importlib.util.find_spec("torch") is not None
NEEDS_TORCH = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
KINDS = [".npz", ".npy", pytest.param(".pt", marks=NEEDS_TORCH)]
MARKER = "exoactor_marker_should_not_exist"


def _refused(path: Path, code: GenmoErrorCode) -> GenmoImportError:
    with pytest.raises(GenmoImportError) as caught:
        load_genmo_file(path)
    assert caught.value.code is code, str(caught.value)
    assert "\n" not in str(caught.value)
    return caught.value


def _package_refused(arrays: dict[str, np.ndarray], code: GenmoErrorCode, **kw: object) -> str:
    with pytest.raises(GenmoImportError) as caught:
        genmo_to_package(arrays, package_id="x", task_instruction="", **kw)  # type: ignore[arg-type]
    assert caught.value.code is code, str(caught.value)
    return caught.value.detail


# ------------------------------------------------------------------------- good files


@pytest.mark.parametrize("suffix", KINDS)
def test_every_format_reads_the_same_arrays(tmp_path: Path, suffix: str) -> None:
    arrays = genmo_arrays(N)
    source = load_genmo_file(write_genmo(tmp_path / f"smpl_params{suffix}", arrays))
    for key, values in arrays.items():
        np.testing.assert_array_equal(np.asarray(source.params[key]), values)
    package = genmo_to_package(source.params, package_id="p", task_instruction="")
    assert package.meta.n_frames == N


def test_the_format_is_read_from_the_content_not_the_name(tmp_path: Path) -> None:
    path = write_genmo(tmp_path / "result.npy", genmo_arrays(N))
    renamed = path.rename(tmp_path / "result.pt")
    assert load_genmo_file(renamed).params["body_pose"].shape == (N, 63)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_a_pt_file_holding_numpy_arrays_loads(tmp_path: Path) -> None:
    """torch.save of numpy arrays failed under weights_only; the allow-list admits them."""
    import torch

    path = tmp_path / "smpl_params.pt"
    torch.save({"body_params_global": genmo_arrays(N), "fps": np.float64(30.0)}, path)
    params = load_genmo_file(path).params
    assert isinstance(params["body_pose"], np.ndarray)


def test_in_camera_parameters_are_picked_and_turned_y_up(tmp_path: Path) -> None:
    arrays = genmo_arrays(N)
    arrays["global_orient"] = np.tile(np.array([[np.pi, 0.0, 0.0]], np.float32), (N, 1))
    path = write_genmo(tmp_path / "incam.npz", arrays, group="body_params_incam")
    refused = _refused(path, Code.MISSING_ARRAY)
    assert "--params incam" in refused.detail
    source = load_genmo_file(path, param_set=ParamSet.INCAM)
    package = genmo_to_package(source.params, package_id="i", task_instruction="",
                               param_set=ParamSet.INCAM)  # fmt: skip
    # OpenCV camera (Y down) turned by 180° about X: an upside-down root becomes upright.
    upright = np.tile(np.eye(3), (N, 1, 1))
    np.testing.assert_allclose(axis_angle_to_matrix(package.body.global_orient), upright, atol=1e-5)
    np.testing.assert_allclose(package.body.transl[:, 1], -arrays["transl"][:, 1], atol=1e-6)


def test_package_id_is_derived_from_name_and_digest() -> None:
    digest = "0123456789abcdef" * 4
    assert derive_package_id("smpl_params.pt", digest) == "smpl_params-0123456789"
    odd = derive_package_id(".hidden file (1).npz", digest)
    PackageMeta.model_fields["package_id"]  # the id must satisfy the metadata's pattern
    assert odd == "hidden-file-1-0123456789"
    assert derive_package_id("", digest) == "genmo-0123456789"


# --------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path: Path) -> None:
    _refused(tmp_path / "nope.npz", Code.UNREADABLE)


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".pt"])
def test_zero_byte_file(tmp_path: Path, suffix: str) -> None:
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    _refused(tmp_path / f"empty{suffix}", Code.EMPTY_FILE)


@pytest.mark.parametrize("suffix", KINDS)
def test_truncated_file(tmp_path: Path, suffix: str) -> None:
    path = write_genmo(tmp_path / f"smpl_params{suffix}", genmo_arrays(N))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused = _refused(path, Code.CORRUPT)
    assert "truncated" in refused.detail


@pytest.mark.parametrize("suffix", [".npz", ".npy", ".pt"])
def test_garbage_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    refused = _refused(path, Code.CORRUPT)
    assert "not a" in refused.detail


def test_unknown_file_type(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}")
    _refused(tmp_path / "x.json", Code.UNKNOWN_FORMAT)


def test_an_npy_holding_a_plain_array_is_not_a_result(tmp_path: Path) -> None:
    np.save(tmp_path / "pose.npy", np.zeros((N, 63), np.float32))
    refused = _refused(tmp_path / "pose.npy", Code.NOT_A_DICT)
    assert "(45, 63)" in refused.detail


def test_a_zip_that_is_neither_npz_nor_torch(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _refused(path, Code.NOT_A_DICT)


def write_marker(path: str) -> None:
    """What a malicious pickle would run (here: a harmless marker file)."""
    Path(path).write_text("executed")


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (write_marker, (self.marker,))


def test_a_pickled_npy_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / MARKER
    path = tmp_path / "evil.npy"
    payload = np.empty((), dtype=object)
    payload[()] = {"body_params_global": {"body_pose": _Exploit(marker)}}
    np.save(path, payload, allow_pickle=True)
    refused = _refused(path, Code.UNSAFE_CONTENT)
    assert "write_marker" in refused.detail
    assert not marker.exists()


def test_an_npz_member_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / MARKER
    path = tmp_path / "evil.npz"
    member = io.BytesIO()
    payload = np.empty((), dtype=object)
    payload[()] = _Exploit(marker)
    np.save(member, payload, allow_pickle=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("body_params_global.npy", member.getvalue())
    _refused(path, Code.UNSAFE_CONTENT)
    assert not marker.exists()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_a_pt_file_that_would_run_code_is_refused_unrun(tmp_path: Path) -> None:
    import torch

    marker = tmp_path / MARKER
    path = tmp_path / "evil.pt"
    torch.save({"body_params_global": {"body_pose": _Exploit(marker)}}, path)
    refused = _refused(path, Code.UNSAFE_CONTENT)
    assert "write_marker" in refused.detail
    assert not marker.exists()


def test_numpy_1_pickles_are_read(tmp_path: Path) -> None:
    """Arrays pickled by numpy 1.x name numpy.core.multiarray; both spellings are allowed."""
    arrays = genmo_arrays(N)
    payload = np.empty((), dtype=object)
    payload[()] = {"body_params_global": arrays}
    # Protocol 2 names globals as newline-terminated text, so the module can be renamed in place.
    data = pickle.dumps(payload, protocol=2)
    assert b"numpy._core.multiarray\n" in data
    data = data.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    with (tmp_path / "old.npy").open("wb") as out:
        np.lib.format.write_array_header_1_0(out, np.lib.format.header_data_from_array_1_0(payload))
        out.write(data)
    params = load_genmo_file(tmp_path / "old.npy").params
    np.testing.assert_array_equal(params["transl"], arrays["transl"])


@pytest.mark.parametrize("suffix", KINDS)
def test_no_damage_escapes_as_anything_but_an_import_error(tmp_path: Path, suffix: str) -> None:
    """Truncations at many points and flipped bytes: always one GenmoImportError, or a read."""
    original = write_genmo(tmp_path / f"base{suffix}", genmo_arrays(12)).read_bytes()
    rng = np.random.default_rng(7)
    path = tmp_path / f"fuzz{suffix}"
    cuts = sorted(set(np.linspace(1, len(original) - 1, 40).astype(int).tolist()))
    variants = [original[:cut] for cut in cuts]
    for _ in range(40):
        data = bytearray(original)
        for index in rng.integers(0, len(data), 4):
            data[int(index)] ^= int(rng.integers(1, 256))
        variants.append(bytes(data))
    messages = []
    for data in variants:
        path.write_bytes(data)
        try:
            source = load_genmo_file(path)
            genmo_to_package(source.params, package_id="f", task_instruction="")
        except GenmoImportError as exc:
            messages.append(str(exc))
    assert messages, "damage must be noticed"
    assert all("\n" not in m for m in messages)


# ------------------------------------------------------------------------------ shapes


def test_a_transposed_body_pose_is_refused_naming_array_shape_and_mistake() -> None:
    """(63, L) holds the right number of values and used to become a wrong motion."""
    arrays = genmo_arrays(N)
    arrays["body_pose"] = arrays["body_pose"].T.copy()
    detail = _package_refused(arrays, Code.BAD_SHAPE)
    assert "body_pose" in detail
    assert "(63, 45)" in detail
    assert "transposed" in detail


@pytest.mark.parametrize(
    ("name", "shape", "hint"),
    [
        ("global_orient", (3, N), "transposed"),
        ("transl", (3, N), "transposed"),
        ("body_pose", (1, N, 63), "batch"),
        ("body_pose", (N, 69), "23 joints"),
        ("body_pose", (N, 21, 6), "6D"),
        ("body_pose", (N, 84), "quaternions"),
        ("body_pose", (N, 3, 21), "swapped"),
        ("global_orient", (N, 1, 3), "joint dimension"),
        ("global_orient", (N, 6), "6D"),
    ],
)
def test_other_shape_mistakes_are_named(name: str, shape: tuple[int, ...], hint: str) -> None:
    arrays = genmo_arrays(N)
    arrays[name] = np.zeros(shape, dtype=np.float32)
    detail = _package_refused(arrays, Code.BAD_SHAPE)
    assert name in detail
    assert str(shape) in detail
    assert hint in detail


def test_rotation_matrices_are_converted() -> None:
    arrays = genmo_arrays(N)
    expected = genmo_to_package(arrays, package_id="a", task_instruction="")
    as_matrices = dict(arrays)
    as_matrices["body_pose"] = axis_angle_to_matrix(arrays["body_pose"].reshape(N, 21, 3))
    as_matrices["global_orient"] = axis_angle_to_matrix(arrays["global_orient"])
    package = genmo_to_package(as_matrices, package_id="m", task_instruction="")
    assert package.body.body_pose.shape == (N, 21, 3)
    np.testing.assert_allclose(
        axis_angle_to_matrix(package.body.body_pose),
        axis_angle_to_matrix(expected.body.body_pose),
        atol=1e-5,
    )
    decode_package(encode_package(package), PackageConfig())


def test_matrices_that_are_not_rotations_are_refused() -> None:
    arrays = genmo_arrays(N)
    matrices = axis_angle_to_matrix(arrays["body_pose"].reshape(N, 21, 3))
    matrices[7, 3] *= 2.0
    arrays["body_pose"] = matrices.astype(np.float32)
    detail = _package_refused(arrays, Code.NOT_A_ROTATION)
    assert "frame 7" in detail


def test_a_global_orient_length_mismatch_blames_global_orient() -> None:
    arrays = genmo_arrays(N)
    arrays["global_orient"] = arrays["global_orient"][:-5]
    detail = _package_refused(arrays, Code.FRAME_MISMATCH)
    assert detail.startswith("global_orient has 40 frames but body_pose has 45")


@pytest.mark.parametrize("fps", [0.0, -30.0, float("nan"), 1000.0])
def test_a_bad_fps_names_fps(fps: float) -> None:
    detail = _package_refused(genmo_arrays(N), Code.BAD_FPS, fps=fps)
    assert detail.startswith("fps ")


def test_an_empty_sequence_is_refused_without_warnings() -> None:
    arrays = {k: v[:0] for k, v in genmo_arrays(N).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _package_refused(arrays, Code.EMPTY_SEQUENCE)


def test_non_finite_values_name_the_array_and_frame() -> None:
    arrays = genmo_arrays(N)
    arrays["transl"][9, 2] = np.inf
    assert "frame 9" in _package_refused(arrays, Code.NON_FINITE)


def test_degrees_instead_of_radians_are_refused() -> None:
    arrays = genmo_arrays(N)
    arrays["body_pose"] = np.degrees(arrays["body_pose"]) + 10.0
    assert "degrees" in _package_refused(arrays, Code.NOT_A_ROTATION)


def test_missing_and_non_numeric_arrays() -> None:
    arrays = genmo_arrays(N)
    del arrays["transl"]
    assert "no transl" in _package_refused(arrays, Code.MISSING_ARRAY)
    arrays = genmo_arrays(N)
    arrays["transl"] = np.array([["a", "b", "c"]] * N)
    _package_refused(arrays, Code.NOT_NUMERIC)
