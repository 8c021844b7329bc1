"""A bounded on-disk store of accepted motion packages (what an acknowledgement promises).

Layout: one file per package, ``<root>/<package_id>.pkg``, holding the wire message exactly as
it was accepted (its SHA-256 digest and signature are re-checked when it is loaded). A write is
``<root>/.<package_id>.<random>.tmp`` -> write -> fsync -> rename over the final name -> fsync of
the directory, so after a crash a package is either fully there or absent, and an
acknowledgement (given after the directory fsync) survives power loss. Leftover temp files are
removed when the store opens.

A stored id is immutable: ``put`` of an id already stored answers "already stored" (nothing
written) when the bytes are identical and raises ``PackageIdConflictError`` (nothing touched)
when they differ, so an upload can never swap the file under a package that is loaded or
running.

The index (id -> size, store time) lives in memory and is rebuilt from the directory at start.
Each file's mtime is set to its store time (strictly increasing, in nanoseconds) before the
rename, so the order survives a restart. The store is bounded by count and bytes; the oldest
packages are evicted first, never a pinned one (the package loaded in, or running on, the
control process). A package that cannot fit without evicting a pinned one is refused before
anything is written.

The methods do blocking file I/O: call them from a worker thread (``asyncio.to_thread``). A lock
makes them safe to call from several threads.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from daemon.library.motion_library import UnknownPackageError

_LOG = logging.getLogger(__name__)

PACKAGE_SUFFIX = ".pkg"
TEMP_SUFFIX = ".tmp"
_SAFE_ID = re.compile(r"[A-Za-z0-9_:\-][A-Za-z0-9._:\-]{0,127}")
"""Package ids usable as file names: the package format's id alphabet, minus a leading dot
(which would allow ``.``, ``..`` and hidden names). No ``/`` and no NUL, so no traversal."""


class PackageStoreError(Exception):
    """The store could not take or give a package.

    Attributes:
        code: a stable, machine-readable reason (``store_full``, ``unsafe_id``, ``store_io``).
        package_id: the package concerned.
        detail: a human-readable explanation.
    """

    code = "store_error"

    def __init__(self, package_id: str, detail: str) -> None:
        super().__init__(f"package store [{self.code}] {package_id!r}: {detail}")
        self.package_id = package_id
        self.detail = detail


class StoreFullError(PackageStoreError):
    """The package cannot fit within the bounds without evicting a pinned package."""

    code = "store_full"


class PackageIdConflictError(PackageStoreError):
    """Another package is already stored under this id (ids are immutable)."""

    code = "package_id_conflict"


class UnsafePackageIdError(PackageStoreError):
    """The id cannot be a file name (empty, too long, leading dot, or outside the alphabet)."""

    code = "unsafe_id"


class StoreIOError(PackageStoreError):
    """Reading or writing the store failed (disk full, permissions, I/O error).

    Attributes:
        errno: the OS error number, when known.
    """

    code = "store_io"

    def __init__(self, package_id: str, detail: str, *, errno: int | None = None) -> None:
        super().__init__(package_id, detail)
        self.errno = errno


@dataclass(frozen=True)
class PackageStoreConfig:
    """Where the store lives and how much it may hold."""

    root: Path = Path("/var/lib/exoactor-edge/packages")
    """Directory of the store (created if missing); under systemd's ``StateDirectory``."""
    max_packages: int = 64
    """Most packages kept; the oldest unpinned one goes first."""
    max_total_bytes: int = 2 * 1024**3
    """Most bytes kept, summed over the packages' wire sizes."""
    file_mode: int = 0o640

    def __post_init__(self) -> None:
        if self.max_packages < 1:
            raise ValueError(f"store.max_packages must be >= 1, got {self.max_packages}")
        if self.max_total_bytes < 1:
            raise ValueError(f"store.max_total_bytes must be >= 1, got {self.max_total_bytes}")
        if not str(self.root):
            raise ValueError("store.root must be a directory path")
        if not 0 <= self.file_mode <= 0o777:
            raise ValueError(f"store.file_mode must be a permission mode, got {self.file_mode:o}")


@dataclass(frozen=True)
class StoredPackage:
    """One package in the store."""

    package_id: str
    size_bytes: int
    stored_ns: int
    """Wall-clock store time (ns since the epoch); also the file's mtime."""
    path: Path


@dataclass(frozen=True)
class PutResult:
    """What a ``put`` did."""

    entry: StoredPackage
    already_stored: bool
    """The identical bytes were already stored under this id; nothing was written."""
    evicted: tuple[str, ...]
    """Ids removed to make room, oldest first."""


def is_safe_package_id(package_id: str) -> bool:
    """Whether ``package_id`` can name a file in the store (see ``_SAFE_ID``)."""
    return _SAFE_ID.fullmatch(package_id) is not None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PackageStore:
    """Id-keyed package files with atomic writes and count/byte bounds (module docstring)."""

    def __init__(self, config: PackageStoreConfig) -> None:
        """Open (create) the store, remove leftover temp files and rebuild the index.

        Raises:
            StoreIOError: the directory cannot be created or read.
        """
        self._config = config
        self._root = config.root
        self._lock = threading.Lock()
        self._index: OrderedDict[str, StoredPackage] = OrderedDict()
        self._total_bytes = 0
        self._last_ns = 0
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            self._rebuild()
        except OSError as exc:
            raise StoreIOError(
                "", f"cannot open {self._root}: {exc.strerror}", errno=exc.errno
            ) from None

    @property
    def config(self) -> PackageStoreConfig:
        return self._config

    @property
    def total_bytes(self) -> int:
        return self._total_bytes

    def ids(self) -> list[str]:
        """Stored ids, oldest first."""
        with self._lock:
            return list(self._index)

    def entries(self) -> list[StoredPackage]:
        """Stored packages, oldest first."""
        with self._lock:
            return list(self._index.values())

    def __contains__(self, package_id: object) -> bool:
        with self._lock:
            return package_id in self._index

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def entry(self, package_id: str) -> StoredPackage:
        """Raises ``UnknownPackageError``."""
        with self._lock:
            found = self._index.get(package_id)
        if found is None:
            raise UnknownPackageError(package_id)
        return found

    def get(self, package_id: str) -> bytes:
        """The stored wire message.

        Raises:
            UnknownPackageError: no such package (or its file vanished).
            StoreIOError: the file exists but cannot be read.
        """
        entry = self.entry(package_id)
        try:
            return entry.path.read_bytes()
        except FileNotFoundError:
            with self._lock:
                self._forget(package_id)
            raise UnknownPackageError(package_id) from None
        except OSError as exc:
            raise StoreIOError(
                package_id, f"cannot read: {exc.strerror}", errno=exc.errno
            ) from None

    def put(
        self, package_id: str, data: bytes, *, pinned: AbstractSet[str] = frozenset()
    ) -> PutResult:
        """Store ``data`` under ``package_id`` durably, evicting the oldest unpinned packages.

        Returns only after the data and the directory entry are on disk. An id already stored
        with the same bytes returns ``already_stored`` and writes nothing.

        Raises:
            UnsafePackageIdError: the id cannot be a file name.
            PackageIdConflictError: the id is stored with other bytes (nothing changed).
            StoreFullError: it cannot fit without evicting a pinned package (nothing changed).
            StoreIOError: writing failed (nothing changed).
        """
        if not is_safe_package_id(package_id):
            raise UnsafePackageIdError(package_id, "not usable as a file name")
        size = len(data)
        with self._lock:
            existing = self._existing(package_id, data)
            if existing is not None:
                return PutResult(entry=existing, already_stored=True, evicted=())
            victims = self._plan_eviction(package_id, size, pinned)
            stored_ns = max(time.time_ns(), self._last_ns + 1)
            path = self._write(package_id, data, stored_ns)
            self._last_ns = stored_ns
            entry = StoredPackage(package_id, size, stored_ns, path)
            self._index[package_id] = entry
            self._total_bytes += size
            for victim in victims:
                self._delete(victim)
            if victims:
                self._sync_root_quietly()
        if victims:
            _LOG.info(
                "evicted %d package(s) to store %s",
                len(victims),
                package_id,
                extra={"PACKAGE_ID": package_id, "EVICTED": ",".join(victims)},
            )
        return PutResult(entry=entry, already_stored=False, evicted=tuple(victims))

    def remove(self, package_id: str) -> None:
        """Delete a package. Raises ``UnknownPackageError``; a pinned package is the caller's
        business (the store only protects pinned packages from eviction)."""
        with self._lock:
            if package_id not in self._index:
                raise UnknownPackageError(package_id)
            self._delete(package_id)
            self._sync_root_quietly()

    # ------------------------------------------------------------------ internals

    def _path(self, package_id: str) -> Path:
        return self._root / f"{package_id}{PACKAGE_SUFFIX}"

    def _existing(self, package_id: str, data: bytes) -> StoredPackage | None:
        """The stored entry when it holds exactly ``data``; None when the id is free."""
        entry = self._index.get(package_id)
        if entry is None:
            return None
        try:
            if entry.path.stat().st_size == len(data) and entry.path.read_bytes() == data:
                return entry
        except FileNotFoundError:
            # Deleted behind our back: the id is free again.
            self._forget(package_id)
            return None
        except OSError as exc:
            raise StoreIOError(
                package_id, f"cannot read the stored package: {exc.strerror}", errno=exc.errno
            ) from None
        raise PackageIdConflictError(
            package_id,
            "another package is stored under this id; ids are immutable (use a new id)",
        )

    def _plan_eviction(self, package_id: str, size: int, pinned: AbstractSet[str]) -> list[str]:
        cfg = self._config
        if size > cfg.max_total_bytes:
            raise StoreFullError(
                package_id, f"{size} bytes exceed the store's {cfg.max_total_bytes} bytes"
            )
        count = len(self._index) + 1
        total = self._total_bytes + size
        victims: list[str] = []
        for old_id, old in self._index.items():
            if count <= cfg.max_packages and total <= cfg.max_total_bytes:
                break
            if old_id in pinned:
                continue
            victims.append(old_id)
            count -= 1
            total -= old.size_bytes
        if count > cfg.max_packages or total > cfg.max_total_bytes:
            raise StoreFullError(
                package_id,
                f"no room: {count} packages / {total} bytes would exceed the bounds "
                f"({cfg.max_packages} / {cfg.max_total_bytes}) and the rest are pinned",
            )
        return victims

    def _write(self, package_id: str, data: bytes, stored_ns: int) -> Path:
        final = self._path(package_id)
        temp = self._root / f".{package_id}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
        done = False
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self._config.file_mode)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.utime(temp, ns=(stored_ns, stored_ns))
            os.replace(temp, final)
            done = True
            _fsync_dir(self._root)
        except OSError as exc:
            raise StoreIOError(
                package_id, f"cannot write: {exc.strerror or exc}", errno=exc.errno
            ) from None
        finally:
            if not done:
                temp.unlink(missing_ok=True)
        return final

    def _forget(self, package_id: str) -> bool:
        old = self._index.pop(package_id, None)
        if old is None:
            return False
        self._total_bytes -= old.size_bytes
        return True

    def _delete(self, package_id: str) -> None:
        entry = self._index.get(package_id)
        if entry is None:
            return
        try:
            entry.path.unlink(missing_ok=True)
        except OSError as exc:
            # The file stays and is picked up again at the next start: over the bounds until
            # the next put evicts it, which is safer than losing track of it.
            _LOG.warning(
                "cannot delete stored package %s: %s",
                package_id,
                exc.strerror,
                extra={"PACKAGE_ID": package_id, "CAUSE": "store_io"},
            )
        self._forget(package_id)

    def _sync_root_quietly(self) -> None:
        # Deletions need not be durable (a resurrected package is merely over the bounds).
        try:
            _fsync_dir(self._root)
        except OSError as exc:
            _LOG.warning("cannot fsync %s: %s", self._root, exc.strerror)

    def _rebuild(self) -> None:
        found: list[StoredPackage] = []
        with os.scandir(self._root) as entries:
            for item in entries:
                name = item.name
                if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                    self._remove_leftover(Path(item.path))
                    continue
                if not name.endswith(PACKAGE_SUFFIX) or not item.is_file(follow_symlinks=False):
                    _LOG.warning("ignoring %s in the package store", item.path)
                    continue
                package_id = name[: -len(PACKAGE_SUFFIX)]
                if not is_safe_package_id(package_id):
                    _LOG.warning("ignoring %s in the package store", item.path)
                    continue
                stat = item.stat(follow_symlinks=False)
                found.append(
                    StoredPackage(package_id, stat.st_size, stat.st_mtime_ns, Path(item.path))
                )
        found.sort(key=lambda e: (e.stored_ns, e.package_id))
        for entry in found:
            self._index[entry.package_id] = entry
            self._total_bytes += entry.size_bytes
            self._last_ns = max(self._last_ns, entry.stored_ns)

    def _remove_leftover(self, path: Path) -> None:
        try:
            path.unlink()
            _LOG.info("removed a half-written package file %s", path.name)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                _LOG.warning("cannot remove %s: %s", path, exc.strerror)
