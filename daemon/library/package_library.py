"""``PackageLibrary``: the ``MotionLibrary`` over ``estimators.package`` and a ``PackageStore``.

``submit``: decode and validate (``estimators.package.decode_package``; a signature is required
when the ``PackageConfig`` says so), build the 50 Hz reference track and check what the robot
would do with it (``daemon.library.track_prep``: joint speeds under the supervisor's limit with
margin, arm self-collision corrected or refused) with the PD tracker's feed-forward (so a package
whose track cannot be built or would move badly is refused too), store the message durably, then
answer; an accepted answer's ``detail`` says what the checks changed. A refused package is
answered with its stable code and field, and nothing is stored or cached. A stored id is
immutable: before any of that work, the envelope alone (digest, signature, claimed id) is read;
a package whose id is stored with the same digest is answered "already stored" at once (no
validation, no track, no write), one with another digest is refused (``package_id_conflict``)
and the stored file is left as it was. A replay flood therefore costs a digest and a signature
check per message, not a precompute.

``track``: from the cache, else load from the store, decode again (the
digest and signature are checked at every load: a file damaged on disk, or signed by a key no
longer trusted, is refused), build and cache.

The CPU-heavy steps (msgpack decode, forward kinematics, inverse dynamics) run in a worker
thread (``asyncio.to_thread``), one package at a time, so a flood of uploads queues instead of
piling up threads and memory. The control process receives tracks with ``dq_hw`` and
``tau_ff_hw`` attached and computes no inverse dynamics between ticks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from controller.collision_fix import CollisionConfig
from controller.dynamics import FeedforwardJoints
from controller.robot.model_source import ModelKind, ModelSource
from daemon.library.motion_library import IngestResult, UnknownPackageError
from daemon.library.package_store import (
    PackageIdConflictError,
    PackageStore,
    PackageStoreError,
    PutResult,
)
from daemon.library.track_prep import PreparedTrack, TrackPreparer, TrackPrepConfig
from estimators.continuity import JointSpeedConfig
from estimators.errors import PackageErrorCode, PackageRejectedError
from estimators.package import PackageConfig, PackageIdentity, decode_package, peek_identity
from estimators.package.envelope import read_digest
from estimators.reference_track import TrackBuildConfig
from estimators.track import ReferenceTrack, TrackError

_LOG = logging.getLogger(__name__)

TRACK_BUILD_FAILED = "track_build_failed"
"""``IngestResult.code`` for a package that validated but whose reference track is invalid."""
PACKAGE_ID_CONFLICT = PackageIdConflictError.code
"""``IngestResult.code`` for a package whose id is stored with another digest."""
_SHOWN_DIGEST = 16


@dataclass(frozen=True)
class PackageLibraryConfig:
    """How packages are validated and turned into tracks."""

    package: PackageConfig = field(default_factory=PackageConfig)
    """Limits and trusted keys (``require_signature`` makes unsigned packages fail)."""
    track: TrackBuildConfig = field(default_factory=TrackBuildConfig)
    feedforward: FeedforwardJoints = FeedforwardJoints.ALL
    """Joints that get inverse-dynamics torque (ALL assumes the pelvis is supported); match
    ``PdTrackerConfig.feedforward``."""
    model_source: ModelSource = field(
        default_factory=lambda: ModelSource(ModelKind.BUILTIN, None, ())
    )
    """The robot model for the feed-forward (resolve it with ``resolve_model``)."""
    cache_tracks: int = 3
    """Tracks kept in memory (a 10-minute track is ~50 MB)."""
    speed: JointSpeedConfig = field(default_factory=JointSpeedConfig)
    """Joint-speed limit of tracks (set its supervisor limit from the supervisor's config)."""
    collision: CollisionConfig = field(default_factory=CollisionConfig)

    def __post_init__(self) -> None:
        if self.cache_tracks < 0:
            raise ValueError(f"cache_tracks must be >= 0, got {self.cache_tracks}")


def _rejected(code: str, field_name: str | None, detail: str) -> IngestResult:
    return IngestResult(accepted=False, code=code, field=field_name, detail=detail)


class PackageLibrary:
    """Validated packages on disk, and their tracks on demand (a ``MotionLibrary``)."""

    def __init__(
        self,
        *,
        store: PackageStore,
        config: PackageLibraryConfig,
        pinned_ids: Callable[[], AbstractSet[str]] = frozenset,
    ) -> None:
        """Args:
        store: where accepted packages go.
        config: validation, track and feed-forward settings.
        pinned_ids: ids the store must not evict (the loaded and the running package);
            called on the event loop at every submit.
        """
        self._store = store
        self._config = config
        self._pinned_ids = pinned_ids
        self._cache: OrderedDict[str, ReferenceTrack] = OrderedDict()
        self._digests: dict[str, tuple[int, str]] = {}
        """id -> (store time, package digest) of stored packages, filled as they are seen."""
        self._work_lock = asyncio.Lock()
        self._preparer = TrackPreparer(
            TrackPrepConfig(
                build=config.track,
                speed=config.speed,
                collision=config.collision,
                feedforward=config.feedforward,
                model_source=config.model_source,
            )
        )

    @property
    def store(self) -> PackageStore:
        return self._store

    def package_ids(self) -> list[str]:
        """Stored ids, oldest first."""
        return self._store.ids()

    async def submit(self, data: bytes, *, source: str) -> IngestResult:
        """Validate, precompute and store a package; see the module docstring.

        Args:
            data: the wire message.
            source: where it came from (``zmq``, ``mqtt``, ``cli``), for the log.
        """
        async with self._work_lock:
            try:
                identity = await asyncio.to_thread(peek_identity, data, self._config.package)
            except PackageRejectedError as exc:
                return self._log_rejection(
                    source, None, _rejected(exc.code.value, exc.field, exc.detail)
                )
            if identity is not None and identity.package_id in self._store:
                known = await self._answer_stored(identity, source)
                if known is not None:
                    return known
            try:
                prepared, digest = await asyncio.to_thread(self._decode_and_build, data)
            except PackageRejectedError as exc:
                return self._log_rejection(
                    source, None, _rejected(exc.code.value, exc.field, exc.detail)
                )
            except TrackError as exc:
                return self._log_rejection(
                    source, None, _rejected(TRACK_BUILD_FAILED, "", str(exc))
                )
            track = prepared.track
            package_id = track.package_id
            pinned = frozenset(self._pinned_ids())
            try:
                put = await asyncio.to_thread(self._store.put, package_id, data, pinned=pinned)
            except PackageStoreError as exc:
                return self._log_rejection(
                    source, package_id, self._store_rejection(exc, package_id)
                )
            self._digests[package_id] = (put.entry.stored_ns, digest)
        self._after_put(put, track)
        report = prepared.report
        _LOG.info(
            "accepted package %s from %s (%d bytes, %.1f s): %s",
            package_id,
            source,
            len(data),
            track.duration_s,
            report.summary(),
            extra={"PACKAGE_ID": package_id, "SOURCE": source},
        )
        return IngestResult(
            accepted=True,
            package_id=package_id,
            already_stored=put.already_stored,
            detail=report.summary() if report.collision.is_corrected else "",
        )

    async def track(self, package_id: str) -> ReferenceTrack:
        """The package's track with feed-forward attached.

        Raises:
            UnknownPackageError: no such package.
            PackageRejectedError: the stored message no longer validates (damaged on disk, or
                its signing key is no longer trusted).
            PackageStoreError: the stored file cannot be read.
        """
        cached = self._cache_get(package_id)
        if cached is not None:
            return cached
        if package_id not in self._store:
            raise UnknownPackageError(package_id)
        async with self._work_lock:
            cached = self._cache_get(package_id)
            if cached is not None:
                return cached
            data = await asyncio.to_thread(self._store.get, package_id)
            prepared, _ = await asyncio.to_thread(self._decode_and_build, data)
            track = prepared.track
        if track.package_id != package_id:
            # A file renamed by hand: the content decides what it is, and it is not this id.
            raise UnknownPackageError(package_id)
        self._cache_put(package_id, track)
        return track

    # ------------------------------------------------------------------ worker-thread side

    def _decode_and_build(self, data: bytes) -> tuple[PreparedTrack, str]:
        """The package's checked track with feed-forward, and its digest."""
        decoded = decode_package(data, self._config.package)
        return self._preparer.prepare(decoded.package), decoded.sha256_hex

    # ------------------------------------------------------------------ event-loop side

    async def _answer_stored(self, identity: PackageIdentity, source: str) -> IngestResult | None:
        """The answer for an upload whose id is stored: already stored (same digest) or a
        conflict; None when the stored package vanished meanwhile (decode it as new)."""
        package_id = identity.package_id
        try:
            stored = await self._stored_digest(package_id)
        except UnknownPackageError:
            return None
        except PackageStoreError as exc:
            return self._log_rejection(source, package_id, _rejected(exc.code, "", exc.detail))
        if stored == identity.sha256_hex:
            _LOG.debug(
                "package %s from %s is already stored",
                package_id,
                source,
                extra={"PACKAGE_ID": package_id, "SOURCE": source},
            )
            return IngestResult(accepted=True, package_id=package_id, already_stored=True)
        held = f"digest {stored[:_SHOWN_DIGEST]}…" if stored else "a damaged file"
        return self._log_rejection(
            source,
            package_id,
            _rejected(
                PACKAGE_ID_CONFLICT,
                "meta.package_id",
                f"{package_id!r} is stored with {held}, this package has digest "
                f"{identity.sha256_hex[:_SHOWN_DIGEST]}…; a stored id is immutable (use a new id)",
            ),
        )

    async def _stored_digest(self, package_id: str) -> str:
        """The digest of the stored package ("" when its file is damaged).

        Raises:
            UnknownPackageError: it is gone.
            PackageStoreError: its file cannot be read.
        """
        entry = self._store.entry(package_id)
        cached = self._digests.get(package_id)
        if cached is not None and cached[0] == entry.stored_ns:
            return cached[1]
        data = await asyncio.to_thread(self._store.get, package_id)
        try:
            digest = read_digest(data)
        except PackageRejectedError:
            digest = ""
        self._digests[package_id] = (entry.stored_ns, digest)
        return digest

    def _store_rejection(self, exc: PackageStoreError, package_id: str) -> IngestResult:
        if exc.code == "unsafe_id":
            # The package format allows ids (a leading dot) that cannot name a file.
            return _rejected(PackageErrorCode.INVALID_METADATA.value, "meta.package_id", exc.detail)
        if exc.code == PACKAGE_ID_CONFLICT:
            return _rejected(exc.code, "meta.package_id", exc.detail)
        return _rejected(exc.code, "", exc.detail)

    def _log_rejection(
        self, source: str, package_id: str | None, result: IngestResult
    ) -> IngestResult:
        _LOG.warning(
            "rejected a package from %s: [%s] %s: %s",
            source,
            result.code,
            result.field,
            result.detail,
            extra={"PACKAGE_ID": package_id or "", "SOURCE": source, "CAUSE": result.code},
        )
        return result

    def _after_put(self, put: PutResult, track: ReferenceTrack) -> None:
        for evicted in put.evicted:
            self._cache.pop(evicted, None)
            self._digests.pop(evicted, None)
        self._cache.pop(put.entry.package_id, None)
        self._cache_put(put.entry.package_id, track)

    def _cache_get(self, package_id: str) -> ReferenceTrack | None:
        track = self._cache.get(package_id)
        if track is not None:
            self._cache.move_to_end(package_id)
        return track

    def _cache_put(self, package_id: str, track: ReferenceTrack) -> None:
        if self._config.cache_tracks == 0:
            return
        self._cache[package_id] = track
        self._cache.move_to_end(package_id)
        while len(self._cache) > self._config.cache_tracks:
            self._cache.popitem(last=False)
