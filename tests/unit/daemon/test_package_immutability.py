"""A stored package id is immutable; a replay of a stored package is answered without rework.

Real: the package codec, Ed25519 signing, the reference track builder, MuJoCo inverse dynamics
on the built-in G1 model, the on-disk store in tmp_path, the ZeroMQ answer format. Faked: the
motion content (the procedural demo motion). One spy counts calls into the real
``decode_package`` to show that a replay is not validated again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from daemon.inputs.ingest_zmq import decode_answer, encode_answer
from daemon.library.motion_library import IngestResult
from daemon.library.package_library import PACKAGE_ID_CONFLICT, PackageLibrary, PackageLibraryConfig
from daemon.library.package_store import PackageStore, PackageStoreConfig
from estimators.demo_motion import make_demo_motion
from estimators.package import (
    HandsFormat,
    MotionPackage,
    PackageConfig,
    decode_package,
    encode_package,
    generate_signing_key,
    key_id_of,
    public_key_bytes,
    resign_package,
)

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


def demo(package_id: str = "running", duration_s: float = 1.5) -> MotionPackage:
    package = make_demo_motion(duration_s=duration_s, hands_format=HandsFormat.STATES)
    return dataclasses.replace(
        package, meta=package.meta.model_copy(update={"package_id": package_id})
    )


def make_library(root: Path, config: PackageConfig | None = None) -> PackageLibrary:
    store = PackageStore(PackageStoreConfig(root=root))
    return PackageLibrary(
        store=store,
        config=PackageLibraryConfig(package=config or PackageConfig()),
        pinned_ids=lambda: frozenset({"running"}),
    )


def stored_file(library: PackageLibrary, package_id: str = "running") -> tuple[bytes, int]:
    path = library.store.entry(package_id).path
    return path.read_bytes(), path.stat().st_mtime_ns


def test_an_unsigned_upload_with_the_running_packages_id_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """Issue 9 #6: it used to replace the stored file of the running package silently."""
    library = make_library(tmp_path)
    assert run(library.submit(encode_package(demo()), source="test")).accepted
    before = stored_file(library)
    impostor = encode_package(demo(duration_s=3.0))
    result = run(library.submit(impostor, source="mqtt"))
    assert (result.accepted, result.code, result.field) == (
        False,
        PACKAGE_ID_CONFLICT,
        "meta.package_id",
    )
    assert "immutable" in result.detail
    assert stored_file(library) == before
    assert library.package_ids() == ["running"]


def test_the_same_package_again_is_already_stored_without_validation_or_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = make_library(tmp_path)
    data = encode_package(demo())
    first = run(library.submit(data, source="test"))
    # (its ``detail`` carries the upload checks' summary: the demo's arms are corrected)
    assert (first.accepted, first.package_id, first.already_stored) == (True, "running", False)
    before = stored_file(library)
    decodes: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        decodes.append(1)
        return decode_package(*args, **kwargs)

    monkeypatch.setattr("daemon.library.package_library.decode_package", counting)
    for _ in range(20):
        again = run(library.submit(data, source="test"))
        assert again == IngestResult(accepted=True, package_id="running", already_stored=True)
    assert decodes == []
    assert stored_file(library) == before


def test_after_a_restart_a_replay_is_recognised_from_the_file(tmp_path: Path) -> None:
    data = encode_package(demo())
    assert run(make_library(tmp_path).submit(data, source="test")).accepted
    restarted = make_library(tmp_path)
    assert run(restarted.submit(data, source="test")).already_stored
    other = run(restarted.submit(encode_package(demo(duration_s=2.0)), source="test"))
    assert other.code == PACKAGE_ID_CONFLICT


def test_a_replay_still_meets_the_signature_policy(tmp_path: Path) -> None:
    key = generate_signing_key()
    config = PackageConfig(
        require_signature=True, trusted_keys={key_id_of(key): public_key_bytes(key)}
    )
    library = make_library(tmp_path, config)
    unsigned = encode_package(demo())
    signed = resign_package(unsigned, key)
    assert run(library.submit(signed, source="test")).accepted
    replay = run(library.submit(unsigned, source="test"))
    assert (replay.accepted, replay.code) == (False, "signature_missing")
    forged = run(library.submit(unsigned[:-1] + b"\x00", source="test"))
    assert not forged.accepted


def test_the_same_body_signed_by_another_trusted_key_is_already_stored(tmp_path: Path) -> None:
    """The package digest covers the body; a new signature does not make a new package."""
    first, second = generate_signing_key(), generate_signing_key()
    config = PackageConfig(
        trusted_keys={key_id_of(k): public_key_bytes(k) for k in (first, second)}
    )
    library = make_library(tmp_path, config)
    unsigned = encode_package(demo())
    assert run(library.submit(resign_package(unsigned, first), source="test")).accepted
    before = stored_file(library)
    again = run(library.submit(resign_package(unsigned, second), source="test"))
    assert again.already_stored
    assert stored_file(library) == before


def test_a_damaged_stored_file_is_not_replaced_by_an_upload(tmp_path: Path) -> None:
    library = make_library(tmp_path)
    data = encode_package(demo())
    run(library.submit(data, source="test"))
    path = library.store.entry("running").path
    damaged = bytearray(data)
    damaged[-50] ^= 0x01
    path.write_bytes(bytes(damaged))
    restarted = make_library(tmp_path)
    result = run(restarted.submit(data, source="test"))
    assert (result.accepted, result.code) == (False, PACKAGE_ID_CONFLICT)
    assert "damaged" in result.detail
    assert path.read_bytes() == bytes(damaged)


def test_the_upload_answer_says_already_stored() -> None:
    answer = IngestResult(accepted=True, package_id="p", already_stored=True)
    assert b'"already_stored":true' in encode_answer(answer)
    assert decode_answer(encode_answer(answer)) == answer
    fresh = IngestResult(accepted=True, package_id="p")
    assert b"already_stored" not in encode_answer(fresh)
    assert decode_answer(encode_answer(fresh)) == fresh
