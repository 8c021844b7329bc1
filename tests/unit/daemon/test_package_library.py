"""``PackageLibrary``: validation answers, durable storage, tracks with feed-forward.

Real: the package codec and validation (estimators.package), Ed25519 signing, the reference
track builder, the joint-speed and MuJoCo self-collision checks and inverse dynamics on the
built-in G1 model, the on-disk store in tmp_path. Faked: the motion content is the procedural
demo motion or GENMO-like motion written by the test (no GENMO output exists here); the pinned
set is a plain set standing in for the control process's loaded package.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from controller.collision_fix import CollisionConfig
from controller.dynamics import FeedforwardJoints, inverse_dynamics_track
from controller.embodiment import g1
from daemon.library.motion_library import IngestResult, MotionLibrary, UnknownPackageError
from daemon.library.package_library import PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from estimators.demo_motion import make_demo_motion
from estimators.errors import PackageRejectedError
from estimators.genmo import genmo_to_package
from estimators.package import (
    HandsFormat,
    MotionPackage,
    PackageConfig,
    encode_package,
    generate_signing_key,
    public_key_bytes,
)
from tests.support.genmo_files import genmo_arrays, hanging_arms

T = TypeVar("T")
DURATION_S = 1.5


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def demo(package_id: str = "demo-pick-box") -> MotionPackage:
    package = make_demo_motion(duration_s=DURATION_S, hands_format=HandsFormat.STATES)
    return dataclasses.replace(
        package, meta=package.meta.model_copy(update={"package_id": package_id})
    )


def wire(package_id: str = "demo-pick-box") -> bytes:
    return encode_package(demo(package_id))


def make_library(
    tmp_path: Path,
    *,
    pinned: set[str] | None = None,
    max_packages: int = 16,
    **config: Any,
) -> PackageLibrary:
    store = PackageStore(PackageStoreConfig(root=tmp_path / "store", max_packages=max_packages))
    pins = pinned if pinned is not None else set()
    return PackageLibrary(
        store=store, config=PackageLibraryConfig(**config), pinned_ids=lambda: frozenset(pins)
    )


def test_package_library_satisfies_the_motion_library_protocol(tmp_path: Path) -> None:
    library: MotionLibrary = make_library(tmp_path)
    assert library.package_ids() == []


def test_demo_package_is_accepted_stored_and_tracked_with_feedforward(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    result = run(library.submit(wire(), source="test"))
    assert (result.accepted, result.package_id) == (True, "demo-pick-box")
    # The demo's hands hang by the hips while it walks: the answer says what was changed.
    assert "self-collision corrected" in result.detail
    assert library.package_ids() == ["demo-pick-box"]
    track = run(library.track("demo-pick-box"))
    assert track.package_id == "demo-pick-box"
    assert track.n_frames == round(demo().meta.duration_s * 50) + 1  # both ends included
    assert track.dq_hw is not None
    assert track.tau_ff_hw is not None
    assert track.tau_ff_hw.shape == (track.n_frames, 29)
    assert np.abs(track.tau_ff_hw).max() > 0.0  # the motion accelerates the arms


def test_a_restart_serves_the_acknowledged_package_from_disk(tmp_path: Path) -> None:
    first = make_library(tmp_path)
    run(first.submit(wire(), source="test"))
    expected = run(first.track("demo-pick-box"))
    second = make_library(tmp_path)  # a new daemon over the same state directory
    assert second.package_ids() == ["demo-pick-box"]
    loaded = run(second.track("demo-pick-box"))
    np.testing.assert_allclose(loaded.q_hw, expected.q_hw)
    assert loaded.tau_ff_hw is not None
    assert expected.tau_ff_hw is not None
    np.testing.assert_allclose(loaded.tau_ff_hw, expected.tau_ff_hw)


def test_feedforward_joints_are_configurable(tmp_path: Path) -> None:
    library = make_library(tmp_path, feedforward=FeedforwardJoints.NONE)
    run(library.submit(wire(), source="test"))
    track = run(library.track("demo-pick-box"))
    assert track.tau_ff_hw is not None
    assert not np.any(track.tau_ff_hw)


def test_precompute_runs_off_the_event_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding, FK and inverse dynamics must never block the daemon's event loop."""
    threads: list[int] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return inverse_dynamics_track(*args, **kwargs)

    monkeypatch.setattr("daemon.library.track_prep.inverse_dynamics_track", recording)
    library = make_library(tmp_path, cache_tracks=0)
    run(library.submit(wire(), source="test"))
    run(library.track("demo-pick-box"))
    assert len(threads) == 2
    assert threading.get_ident() not in threads


def rejected_and_nothing_stored(library: PackageLibrary, data: bytes) -> IngestResult:
    result = run(library.submit(data, source="test"))
    assert not result.accepted
    assert result.package_id is None
    assert library.package_ids() == []
    assert list(library.store.config.root.iterdir()) == []
    return result


def test_garbage_is_rejected_as_malformed(tmp_path: Path) -> None:
    result = rejected_and_nothing_stored(make_library(tmp_path), b"\xc1 not msgpack")
    assert (result.code, result.field) == ("malformed", "message")


def test_a_flipped_byte_is_rejected_by_the_digest(tmp_path: Path) -> None:
    data = bytearray(wire())
    data[len(data) // 2] ^= 0xFF
    result = rejected_and_nothing_stored(make_library(tmp_path), bytes(data))
    assert result.code == "digest_mismatch"


def test_non_finite_arrays_are_rejected_with_the_field(tmp_path: Path) -> None:
    package = demo()
    transl = np.array(package.body.transl)
    transl[3, 1] = np.nan
    bad = dataclasses.replace(package, body=dataclasses.replace(package.body, transl=transl))
    result = rejected_and_nothing_stored(
        make_library(tmp_path), encode_package(bad, validate=False)
    )
    assert (result.code, result.field) == ("non_finite", "arrays.transl")


def test_unsigned_package_is_rejected_when_signatures_are_required(tmp_path: Path) -> None:
    key = generate_signing_key()
    config = PackageConfig(require_signature=True, trusted_keys={"fleet": public_key_bytes(key)})
    library = make_library(tmp_path, package=config)
    result = rejected_and_nothing_stored(library, wire())
    assert (result.code, result.field) == ("signature_missing", "signature")
    signed = encode_package(demo(), signing_key=key, key_id="fleet")
    assert run(library.submit(signed, source="test")).accepted


def test_package_signed_by_an_untrusted_key_is_rejected(tmp_path: Path) -> None:
    trusted, other = generate_signing_key(), generate_signing_key()
    config = PackageConfig(
        require_signature=True, trusted_keys={"fleet": public_key_bytes(trusted)}
    )
    signed = encode_package(demo(), signing_key=other, key_id="fleet")
    result = rejected_and_nothing_stored(make_library(tmp_path, package=config), signed)
    assert result.code == "signature_invalid"


def test_an_id_that_cannot_be_a_file_name_is_rejected_as_metadata(tmp_path: Path) -> None:
    result = rejected_and_nothing_stored(make_library(tmp_path), wire(".hidden"))
    assert (result.code, result.field) == ("invalid_metadata", "meta.package_id")


def test_store_full_of_pinned_packages_rejects_and_keeps_them(tmp_path: Path) -> None:
    pinned: set[str] = set()
    library = make_library(tmp_path, pinned=pinned, max_packages=1)
    assert run(library.submit(wire("running"), source="test")).accepted
    pinned.add("running")
    result = run(library.submit(wire("next"), source="test"))
    assert (result.accepted, result.code) == (False, "store_full")
    assert library.package_ids() == ["running"]
    pinned.clear()
    assert run(library.submit(wire("next"), source="test")).accepted
    assert library.package_ids() == ["next"]


def test_evicted_packages_are_gone_from_the_cache_too(tmp_path: Path) -> None:
    library = make_library(tmp_path, max_packages=1)
    run(library.submit(wire("first"), source="test"))
    run(library.submit(wire("second"), source="test"))
    with pytest.raises(UnknownPackageError):
        run(library.track("first"))


def test_tracks_are_cached(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    run(library.submit(wire(), source="test"))
    assert run(library.track("demo-pick-box")) is run(library.track("demo-pick-box"))


def test_unknown_package_raises(tmp_path: Path) -> None:
    with pytest.raises(UnknownPackageError):
        run(make_library(tmp_path).track("nope"))


def test_a_package_damaged_on_disk_is_refused_at_load(tmp_path: Path) -> None:
    library = make_library(tmp_path, cache_tracks=0)
    run(library.submit(wire(), source="test"))
    path = library.store.entry("demo-pick-box").path
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(PackageRejectedError) as caught:
        run(library.track("demo-pick-box"))
    assert caught.value.code.value == "digest_mismatch"


def genmo_wire(arrays: dict[str, np.ndarray], package_id: str = "genmo-1") -> bytes:
    return encode_package(genmo_to_package(arrays, package_id=package_id, task_instruction=""))


def test_a_pose_jump_is_refused_at_upload_naming_frame_joint_and_speed(tmp_path: Path) -> None:
    """A jump every 4 s used to pass upload and trip the supervisor (DAMP) while moving."""
    data = genmo_wire(genmo_arrays(300, jump_every_s=4.0))
    result = rejected_and_nothing_stored(make_library(tmp_path), data)
    assert (result.code, result.field) == ("joint_velocity", "arrays.body_pose[120]")
    assert "right_shoulder_pitch_joint" in result.detail
    speed = float(result.detail.split(" moves at ")[1].split(" rad/s")[0])
    assert speed > 7.5


def test_hanging_arms_are_corrected_at_upload_and_the_track_keeps_clear(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    result = run(library.submit(genmo_wire(hanging_arms(60)), source="test"))
    assert result.accepted
    assert "self-collision corrected: left arm roll" in result.detail
    track = run(library.track("genmo-1"))
    roll = track.q_hw[:, g1.joint_index("left_shoulder_roll")]
    assert roll.min() > 0.15, "rolled outward, away from the hip"


def test_a_collision_no_small_change_clears_is_refused(tmp_path: Path) -> None:
    library = make_library(tmp_path, collision=CollisionConfig(max_correction_deg=3.0))
    result = rejected_and_nothing_stored(library, genmo_wire(hanging_arms(60)))
    assert result.code == "self_collision"
    assert result.field.startswith("track[")
    assert "hip" in result.detail
