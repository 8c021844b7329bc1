"""SMPL forward kinematics, axis conventions and skeleton sources.

Real: our numpy FK, the conventions, the skeleton loaders, and (when installed) ``smplx`` with
torch on the CPU as the reference implementation. Faked: the SMPL model file — the licensed
files cannot be fetched, so a small synthetic SMPL-format model with valid structure
(v_template, shapedirs, posedirs, J_regressor, weights, kintree_table, f) is generated here.
"""

from __future__ import annotations

import importlib.util
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from estimators.errors import SkeletonError
from estimators.fk import (
    forward_kinematics,
    local_rotations,
    root_local_joints,
    root_quat_robot_wxyz,
    root_rotation_robot,
    translation_z_up,
)
from estimators.rotations import axis_angle_to_matrix, quat_to_matrix, rot_x, rot_y
from estimators.skeleton import (
    CanonicalAdultSkeleton,
    RestJointTableSkeleton,
    Skeleton,
    SmplxModelSkeleton,
)
from estimators.smpl import PARENTS, SMPL_TO_ROBOT, SONIC_BASE_QUAT_WXYZ, Y_UP_TO_Z_UP, joint

HAS_SMPLX = (
    importlib.util.find_spec("torch") is not None and importlib.util.find_spec("smplx") is not None
)
needs_smplx = pytest.mark.skipif(
    not HAS_SMPLX, reason="torch and smplx not installed (pip install torch==2.13.0 smplx)"
)
_VERTEX_IDS = {
    name: i
    for i, name in enumerate(
        ["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe",
         "RSmallToe", "RHeel"]
        + [f"{s}{f}" for s in "lr" for f in ("thumb", "index", "middle", "ring", "pinky")]
    )
}  # fmt: skip


@pytest.fixture(scope="module")
def skeleton() -> Skeleton:
    return CanonicalAdultSkeleton().load()


def _synthetic_smpl_file(path: Path, seed: int = 0) -> Path:
    """A random but structurally valid SMPL model: 12 vertices clustered around each joint."""
    rng = np.random.default_rng(seed)
    rest = CanonicalAdultSkeleton().load().rest_joints
    per_joint = 12
    n_vertices = 24 * per_joint
    owner = np.repeat(np.arange(24), per_joint)
    v_template = rest[owner] + rng.normal(0.0, 0.03, (n_vertices, 3))
    j_regressor = np.zeros((24, n_vertices))
    for j in range(24):
        w = rng.uniform(0.5, 1.5, per_joint)
        j_regressor[j, owner == j] = w / w.sum()
    weights = rng.uniform(0.0, 0.2, (n_vertices, 24))
    weights[np.arange(n_vertices), owner] += 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    kintree = np.stack([PARENTS.astype(np.int64), np.arange(24)])
    kintree[0, 0] = 4294967295  # as in the released files; smplx resets the root to -1
    data = {
        "v_template": v_template,
        "shapedirs": rng.normal(0.0, 0.01, (n_vertices, 3, 10)),
        "posedirs": rng.normal(0.0, 0.005, (n_vertices, 3, 207)),
        "J_regressor": j_regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": rng.integers(0, n_vertices, (200, 3)),
    }
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    return path


@needs_smplx
def test_fk_matches_smplx_forward_pass(tmp_path: Path) -> None:
    import smplx  # type: ignore[import-untyped]
    import torch

    model_file = _synthetic_smpl_file(tmp_path / "SMPL_NEUTRAL.pkl")
    betas = np.random.default_rng(4).normal(0.0, 1.0, 10)
    source = SmplxModelSkeleton(
        model_file, betas=tuple(betas), smplx_kwargs=(("vertex_ids", _VERTEX_IDS),)
    )
    ours = source.load()
    n = 16
    rng = np.random.default_rng(5)
    orient = rng.normal(0.0, 0.6, (n, 3))
    pose = rng.normal(0.0, 0.5, (n, 23, 3))
    transl = rng.normal(0.0, 1.0, (n, 3))
    model = smplx.create(str(model_file), batch_size=n, dtype=torch.float64, vertex_ids=_VERTEX_IDS)
    with torch.no_grad():
        out = model(
            global_orient=torch.from_numpy(orient),
            body_pose=torch.from_numpy(pose.reshape(n, 69)),
            transl=torch.from_numpy(transl),
            betas=torch.from_numpy(np.tile(betas, (n, 1))),
        )
    reference = out.joints[:, :24].numpy()
    positions, _ = forward_kinematics(local_rotations(orient, pose), ours, transl)
    np.testing.assert_allclose(positions, reference, atol=1e-5)
    assert ours.skeleton_id.startswith("smplx-model:SMPL_NEUTRAL.pkl")


def test_smplx_source_without_file_raises(tmp_path: Path) -> None:
    if not HAS_SMPLX:
        pytest.skip("torch and smplx not installed")
    with pytest.raises(SkeletonError):
        SmplxModelSkeleton(tmp_path / "missing.pkl").load()


def test_rest_pose_reproduces_rest_joints(skeleton: Skeleton) -> None:
    local = np.tile(np.eye(3), (2, 24, 1, 1))
    positions, glob = forward_kinematics(local, skeleton, transl=np.array([[0, 0, 0], [1, 2, 3.0]]))
    np.testing.assert_allclose(positions[0], skeleton.rest_joints, atol=1e-12)
    np.testing.assert_allclose(
        positions[1], skeleton.rest_joints + np.array([1.0, 2.0, 3.0]), atol=1e-12
    )
    np.testing.assert_allclose(glob, local)


def test_elbow_rotation_moves_only_its_descendants(skeleton: Skeleton) -> None:
    local = np.tile(np.eye(3), (1, 24, 1, 1))
    local[0, joint("left_elbow")] = rot_y(-math.pi / 2)  # left elbow flexion
    positions, _ = forward_kinematics(local, skeleton)
    moved = np.linalg.norm(positions[0] - skeleton.rest_joints, axis=1) > 1e-9
    assert set(np.flatnonzero(moved)) == {joint("left_wrist"), joint("left_hand")}
    forearm = positions[0, joint("left_wrist")] - positions[0, joint("left_elbow")]
    np.testing.assert_allclose(forearm / np.linalg.norm(forearm), [0, 0, 1], atol=1e-12)


def test_bone_lengths_are_preserved_by_any_pose(skeleton: Skeleton) -> None:
    rng = np.random.default_rng(0)
    local = axis_angle_to_matrix(rng.normal(0.0, 1.0, (5, 24, 3)))
    positions, _ = forward_kinematics(local, skeleton)
    bones = np.linalg.norm(positions[:, 1:] - positions[:, PARENTS[1:]], axis=-1)
    rest = np.linalg.norm(skeleton.offsets[1:], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(rest, bones.shape), rtol=1e-12)


def test_root_local_joints_ignore_global_orientation(skeleton: Skeleton) -> None:
    rng = np.random.default_rng(1)
    local = axis_angle_to_matrix(rng.normal(0.0, 0.4, (3, 24, 3)))
    turned = local.copy()
    turned[:, 0] = axis_angle_to_matrix(rng.normal(0.0, 1.5, (3, 3)))
    np.testing.assert_allclose(
        root_local_joints(local, skeleton), root_local_joints(turned, skeleton), atol=1e-12
    )


def test_root_local_joints_equal_sonic_definition(skeleton: Skeleton) -> None:
    """R_root^T (p_j - p_0) with R_root the Z-up, base-rotation-removed root."""
    rng = np.random.default_rng(2)
    local = axis_angle_to_matrix(rng.normal(0.0, 0.5, (4, 24, 3)))
    positions, _ = forward_kinematics(local, skeleton)
    world_zup = (positions - positions[:, :1]) @ Y_UP_TO_Z_UP.T
    root = root_rotation_robot(local[:, 0], y_up=True)
    expected = np.einsum("tji,tkj->tki", root, world_zup)
    np.testing.assert_allclose(root_local_joints(local, skeleton), expected, atol=1e-12)


def test_standing_pose_in_robot_convention(skeleton: Skeleton) -> None:
    local = np.tile(np.eye(3), (1, 24, 1, 1))
    joints = root_local_joints(local, skeleton)[0]
    assert joints[joint("head"), 2] > 0.4  # up is +Z
    assert joints[joint("left_hip"), 1] > 0.05  # left is +Y
    assert joints[joint("left_foot"), 0] > 0.05  # the feet point forward (+X)


def test_conventions_agree_with_sonic() -> None:
    np.testing.assert_allclose(quat_to_matrix(SONIC_BASE_QUAT_WXYZ), SMPL_TO_ROBOT, atol=1e-15)
    np.testing.assert_allclose(Y_UP_TO_Z_UP, rot_x(math.pi / 2), atol=1e-15)
    # A person facing +Z in GENMO's Y-up world faces -Y in the Z-up world, upright.
    root = root_rotation_robot(np.eye(3)[None], y_up=True)[0]
    np.testing.assert_allclose(root[:, 0], [0, -1, 0], atol=1e-15)  # forward
    np.testing.assert_allclose(root[:, 2], [0, 0, 1], atol=1e-15)  # up
    quat = root_quat_robot_wxyz(np.eye(3)[None], y_up=True)[0]
    np.testing.assert_allclose(quat, [math.sqrt(0.5), 0, 0, -math.sqrt(0.5)], atol=1e-12)
    np.testing.assert_allclose(
        translation_z_up(np.array([[1.0, 2.0, 3.0]]), y_up=True), [[1.0, -3.0, 2.0]]
    )


def test_canonical_skeleton_proportions() -> None:
    skel = CanonicalAdultSkeleton(height_m=1.8).load()
    j = skel.rest_joints
    upper_arm = np.linalg.norm(j[joint("left_elbow")] - j[joint("left_shoulder")])
    thigh = np.linalg.norm(j[joint("left_knee")] - j[joint("left_hip")])
    assert upper_arm == pytest.approx(0.186 * 1.8)
    assert thigh == pytest.approx(0.245 * 1.8)
    np.testing.assert_allclose(j[0], 0.0)
    for part in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "hand"):
        left, right = j[joint(f"left_{part}")], j[joint(f"right_{part}")]
        np.testing.assert_allclose(left * [-1, 1, 1], right)  # mirror images across x = 0


def test_rest_joint_table_files(tmp_path: Path, skeleton: Skeleton) -> None:
    np.save(tmp_path / "rest.npy", skeleton.rest_joints)
    np.savez(tmp_path / "rest.npz", joints=skeleton.rest_joints)
    np.savetxt(tmp_path / "rest.csv", skeleton.rest_joints, delimiter=",")
    for name in ("rest.npy", "rest.npz", "rest.csv"):
        loaded = RestJointTableSkeleton(tmp_path / name).load()
        np.testing.assert_allclose(loaded.rest_joints, skeleton.rest_joints)
        assert loaded.skeleton_id == f"table:{name}"


@pytest.mark.parametrize(
    "content", [np.zeros((23, 3)), np.full((24, 3), np.nan), np.zeros((24, 3))]
)
def test_bad_rest_joint_tables_are_refused(tmp_path: Path, content: np.ndarray) -> None:
    np.save(tmp_path / "bad.npy", content)
    with pytest.raises(SkeletonError):
        RestJointTableSkeleton(tmp_path / "bad.npy").load()


def test_missing_rest_joint_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SkeletonError):
        RestJointTableSkeleton(tmp_path / "nope.npy").load()
