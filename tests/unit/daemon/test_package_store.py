"""The on-disk package store: atomic writes, restart, bounds, eviction, safe ids.

Real: the file system (tmp_path), fsync and rename, and, for the crash test, a separate Python
process that dies with ``os._exit`` in the middle of a write. Faked: nothing; the payloads are
opaque bytes (the store does not decode packages).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.library.motion_library import UnknownPackageError
from daemon.library.package_store import (
    PackageIdConflictError,
    PackageStore,
    PackageStoreConfig,
    StoreFullError,
    StoreIOError,
    UnsafePackageIdError,
    is_safe_package_id,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


def open_store(root: Path, **limits: int) -> PackageStore:
    return PackageStore(PackageStoreConfig(root=root, **limits))


def visible_files(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_put_then_get_returns_the_same_bytes(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    result = store.put("demo-1", b"payload")
    assert store.get("demo-1") == b"payload"
    assert result.entry.size_bytes == 7
    assert not result.already_stored
    assert result.evicted == ()
    assert visible_files(tmp_path) == ["demo-1.pkg"]


def test_restart_keeps_acknowledged_packages_in_store_order(tmp_path: Path) -> None:
    """What was acknowledged survives a restart, and the eviction order survives with it."""
    store = open_store(tmp_path)
    for name in ("b", "c", "a"):
        store.put(name, name.encode() * 10)
    reopened = open_store(tmp_path)
    assert reopened.ids() == ["b", "c", "a"]
    assert reopened.get("a") == b"a" * 10
    assert reopened.total_bytes == 30


def test_half_written_temp_files_are_removed_at_start_and_never_listed(tmp_path: Path) -> None:
    (tmp_path / ".crashed.1a2b3c.tmp").write_bytes(b"half a package")
    (tmp_path / "kept.pkg").write_bytes(b"complete")
    store = open_store(tmp_path)
    assert store.ids() == ["kept"]
    assert visible_files(tmp_path) == ["kept.pkg"]


def test_a_process_killed_mid_write_leaves_no_visible_package(tmp_path: Path) -> None:
    """A real crash between writing the data and the rename: after a restart the package is
    absent (not truncated), the older packages are intact and the temp file is gone."""
    open_store(tmp_path).put("older", b"intact")
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from pathlib import Path
        from daemon.library.package_store import PackageStore, PackageStoreConfig
        store = PackageStore(PackageStoreConfig(root=Path({str(tmp_path)!r})))
        os.fsync = lambda fd: os._exit(17)  # the power fails after the data was written
        store.put("victim", b"x" * 100_000)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=30, check=False)
    assert done.returncode == 17
    assert any(name.endswith(".tmp") for name in visible_files(tmp_path))
    store = open_store(tmp_path)
    assert store.ids() == ["older"]
    assert store.get("older") == b"intact"
    assert visible_files(tmp_path) == ["older.pkg"]


def test_a_failed_write_raises_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    store.put("older", b"intact")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(StoreIOError) as caught:
        store.put("new", b"data")
    assert caught.value.code == "store_io"
    assert caught.value.errno == 28
    assert store.ids() == ["older"]
    assert visible_files(tmp_path) == ["older.pkg"]


def test_count_bound_evicts_the_oldest_first(tmp_path: Path) -> None:
    store = open_store(tmp_path, max_packages=3)
    for name in ("p1", "p2", "p3"):
        store.put(name, b"x")
    result = store.put("p4", b"x")
    assert result.evicted == ("p1",)
    assert store.ids() == ["p2", "p3", "p4"]
    assert visible_files(tmp_path) == ["p2.pkg", "p3.pkg", "p4.pkg"]


def test_byte_bound_evicts_as_many_as_needed(tmp_path: Path) -> None:
    store = open_store(tmp_path, max_total_bytes=100)
    store.put("a", b"x" * 40)
    store.put("b", b"x" * 40)
    store.put("c", b"x" * 20)
    result = store.put("d", b"x" * 70)
    assert result.evicted == ("a", "b")
    assert store.ids() == ["c", "d"]
    assert store.total_bytes == 90


def test_pinned_packages_are_never_evicted(tmp_path: Path) -> None:
    """The package loaded in the control process stays, even when it is the oldest."""
    store = open_store(tmp_path, max_packages=2)
    store.put("running", b"x")
    store.put("other", b"x")
    result = store.put("new", b"x", pinned={"running"})
    assert result.evicted == ("other",)
    assert store.ids() == ["running", "new"]


def test_no_room_without_evicting_a_pinned_package_refuses_and_changes_nothing(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path, max_packages=2)
    store.put("a", b"x")
    store.put("b", b"x")
    with pytest.raises(StoreFullError) as caught:
        store.put("c", b"x", pinned={"a", "b"})
    assert caught.value.code == "store_full"
    assert store.ids() == ["a", "b"]
    assert visible_files(tmp_path) == ["a.pkg", "b.pkg"]


def test_a_package_larger_than_the_whole_store_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path, max_total_bytes=10)
    with pytest.raises(StoreFullError):
        store.put("huge", b"x" * 11)
    assert store.ids() == []


def test_a_stored_id_is_immutable_other_bytes_are_refused_and_the_file_untouched(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    first = store.put("a", b"original")
    mtime_ns = first.entry.path.stat().st_mtime_ns
    with pytest.raises(PackageIdConflictError) as caught:
        store.put("a", b"replacement")
    assert caught.value.code == "package_id_conflict"
    assert caught.value.package_id == "a"
    assert store.get("a") == b"original"
    assert first.entry.path.stat().st_mtime_ns == mtime_ns
    assert store.total_bytes == len(b"original")
    assert visible_files(tmp_path) == ["a.pkg"]
    with pytest.raises(PackageIdConflictError):
        store.put("a", b"same len")  # same size, other bytes
    assert open_store(tmp_path).get("a") == b"original"


def test_the_same_bytes_again_are_already_stored_and_nothing_is_written(tmp_path: Path) -> None:
    store = open_store(tmp_path, max_packages=2)
    first = store.put("a", b"1")
    store.put("b", b"2")
    again = store.put("a", b"1")
    assert again.already_stored
    assert again.entry == first.entry
    assert again.evicted == ()
    assert store.ids() == ["a", "b"]  # not refreshed: nothing was written
    assert store.total_bytes == 2


def test_a_stored_file_deleted_behind_the_store_frees_its_id(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put("a", b"1")
    (tmp_path / "a.pkg").unlink()
    assert not store.put("a", b"22").already_stored
    assert store.get("a") == b"22"
    assert store.total_bytes == 2


@pytest.mark.parametrize(
    "bad_id", ["", ".", "..", "../escape", "a/b", ".hidden", "x" * 129, "nul\0", "sp ace", "é"]
)
def test_unsafe_ids_are_refused_before_touching_the_disk(tmp_path: Path, bad_id: str) -> None:
    store = open_store(tmp_path / "store")
    assert not is_safe_package_id(bad_id)
    with pytest.raises(UnsafePackageIdError):
        store.put(bad_id, b"x")
    assert visible_files(tmp_path) == ["store"]
    assert visible_files(tmp_path / "store") == []


def test_ids_of_the_package_alphabet_are_safe() -> None:
    assert is_safe_package_id("demo-pick-box")
    assert is_safe_package_id("fleet:job_42.v2")


def test_unknown_package_raises_unknown_package_error(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(UnknownPackageError):
        store.get("missing")
    with pytest.raises(UnknownPackageError):
        store.remove("missing")


def test_foreign_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "sub.pkg").mkdir()
    store = open_store(tmp_path)
    assert store.ids() == []


def test_remove_deletes_the_file(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put("a", b"x")
    store.remove("a")
    assert store.ids() == []
    assert visible_files(tmp_path) == []


@pytest.mark.parametrize(
    "limits", [{"max_packages": 0}, {"max_total_bytes": 0}, {"file_mode": 0o1000}]
)
def test_config_validation_raises(tmp_path: Path, limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="store"):
        PackageStoreConfig(root=tmp_path, **limits)
