"""Cyclone DDS for the G1's bus: one participant per domain, raw-bytes readers and writers.

The only module (with ``unitree_dds_types``) that imports ``cyclonedds``. Topics are created with
the SDK's own IDL classes, so type names and type information on the wire are exactly what the
robot's software expects; samples go in and out as CDR bytes (``unitree_codec`` encodes them)
through the binding's C layer, the same ``ddspy_write``/``ddspy_take`` calls its
``DataWriter.write``/``DataReader.take`` make after (de)serialising in Python.

Two checks run before any entity exists: the network interface must exist, and cyclonedds 11.x
is refused on anything but loopback (a 11.x reader on ``rt/lowstate`` segfaulted a 0.10.2 peer
in our interop test: §0.1 and §1.9 of ../shared/reference/unitree-g1.md).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from controller.robot.base import BackendUnavailableError

log = logging.getLogger(__name__)

ROBOT_INSTALL_HINT = (
    "install the robot extra: `make setup` (or `pip install -e '.[robot]'` with cyclonedds "
    "0.10.2 built against Cyclone C 0.10.x; on the Jetson run scripts/install_robot.sh)"
)
_MAX_DOMAIN_ID = 232  # Cyclone's port mapping: 7400 + 250 * domain must stay below 65536
_TAKE_BATCH = 16
_WAIT_NS = 50_000_000  # the dispatch thread checks for close this often


class DdsSetupError(BackendUnavailableError):
    """The bus cannot be opened as configured; the message names the fix."""


def cyclonedds_version() -> str:
    try:
        return metadata.version("cyclonedds")
    except metadata.PackageNotFoundError:
        raise BackendUnavailableError(
            f"cyclonedds is not installed: {ROBOT_INSTALL_HINT}"
        ) from None


def check_cyclonedds(interface: str) -> str:
    """Refuse a Cyclone DDS Python binding that is unsafe on the robot network; its version."""
    version = cyclonedds_version()
    major = int(version.split(".")[0])
    if major >= 11 and interface != "lo":
        raise DdsSetupError(
            f"cyclonedds {version} is installed, but the G1 runs Cyclone DDS 0.10.2 and a 11.x "
            f"peer crashed a 0.10.2 process in our interop test: refusing to join {interface}; "
            "install cyclonedds==0.10.2 (make setup, or scripts/install_robot.sh on the Jetson)"
        )
    if major != 0:
        log.warning("cyclonedds %s on loopback only: the robot needs 0.10.x", version)
    return version


def check_interface(name: str) -> None:
    """The NIC must exist (a typo would otherwise silently bind Cyclone to another one)."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        names = ", ".join(n for _, n in socket.if_nameindex())
        raise DdsSetupError(
            f"network interface {name!r} not found (this machine has: {names}); set "
            "[robot.unitree] network_interface to the NIC on 192.168.123.0/24 (robot) or 'lo' "
            "(simulator)"
        ) from None


def check_domain(domain_id: int) -> None:
    if not 0 <= domain_id <= _MAX_DOMAIN_ID:
        raise DdsSetupError(
            f"DDS domain {domain_id} is out of range 0..{_MAX_DOMAIN_ID}; the robot uses 0 and "
            "the simulator 1 ([robot.unitree] domain_id)"
        )


def _config_xml(interface: str) -> str:
    # Unitree's SDK configuration. On loopback Cyclone finds no multicast, says so once, and
    # discovers by unicast on localhost (an explicit AllowMulticast=false would stop that).
    return (
        '<?xml version="1.0" encoding="UTF-8" ?><CycloneDDS><Domain Id="any"><General>'
        f'<Interfaces><NetworkInterface name="{interface}" priority="default" '
        'multicast="default"/></Interfaces></General></Domain></CycloneDDS>'
    )


@dataclass(frozen=True)
class SdkTypes:
    """The unitree_sdk2py IDL classes this backend puts on the bus (exact robot type names)."""

    LowCmd_: Any
    LowState_: Any
    HandCmd_: Any
    HandState_: Any
    MotorState_: Any
    BmsState_: Any
    IMUState_: Any
    Request_: Any
    RequestHeader_: Any
    RequestIdentity_: Any
    RequestLease_: Any
    RequestPolicy_: Any
    Response_: Any
    ResponseHeader_: Any
    ResponseStatus_: Any


def load_sdk_types() -> SdkTypes:
    """Import the SDK's message types; ``BackendUnavailableError`` with a hint when missing."""
    try:
        from unitree_sdk2py.idl.unitree_api.msg import dds_ as api
        from unitree_sdk2py.idl.unitree_hg.msg import dds_ as hg
    except ImportError as exc:
        raise BackendUnavailableError(
            f"unitree_sdk2py cannot be imported ({exc}): {ROBOT_INSTALL_HINT}"
        ) from None
    return SdkTypes(
        LowCmd_=hg.LowCmd_, LowState_=hg.LowState_, HandCmd_=hg.HandCmd_,
        HandState_=hg.HandState_, MotorState_=hg.MotorState_, BmsState_=hg.BmsState_,
        IMUState_=hg.IMUState_,
        Request_=api.Request_, RequestHeader_=api.RequestHeader_,
        RequestIdentity_=api.RequestIdentity_, RequestLease_=api.RequestLease_,
        RequestPolicy_=api.RequestPolicy_, Response_=api.Response_,
        ResponseHeader_=api.ResponseHeader_, ResponseStatus_=api.ResponseStatus_,
    )  # fmt: skip


class RawWriter:
    """Writes pre-encoded CDR samples (header included) on one topic."""

    def __init__(self, writer: Any, write: Callable[[int, bytes], int]) -> None:
        self._writer = writer
        self._ref: int = writer._ref
        self._write = write
        self.errors = 0

    def write(self, sample: bytes) -> bool:
        if self._write(self._ref, sample) < 0:
            self.errors += 1
            return False
        return True


SampleHandler = Callable[[bytes], None]


class RawReader:
    """Takes samples as CDR bytes and hands the valid ones to ``handler`` (dispatch thread)."""

    def __init__(self, domain: DdsDomain, topic: Any, handler: SampleHandler, qos: Any) -> None:
        from cyclonedds._clayer import ddspy_take
        from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState
        from cyclonedds.sub import DataReader

        self._take = ddspy_take
        self._handler = handler
        self.reader = DataReader(domain.participant, topic, qos=qos)
        self._ref: int = self.reader._ref
        self.condition = ReadCondition(
            self.reader, SampleState.NotRead | ViewState.Any | InstanceState.Any
        )

    def drain(self) -> None:
        taken = self._take(self._ref, _TAKE_BATCH)
        if isinstance(taken, int):
            return
        for data, info in taken:
            if info.valid_data:
                self._handler(data)


class _SharedDomains:
    """Cyclone allows one configured domain per id in a process: share it, count its users.

    (A test process holds the backend and a bus probe on one domain; the last user deletes it.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._domains: dict[int, tuple[Any, str, int]] = {}

    def acquire(self, domain_id: int, interface: str, factory: Callable[[], Any]) -> None:
        with self._lock:
            entry = self._domains.get(domain_id)
            if entry is None:
                self._domains[domain_id] = (factory(), interface, 1)
                return
            domain, bound, users = entry
            if bound != interface:
                raise DdsSetupError(
                    f"DDS domain {domain_id} is already bound to {bound!r} in this process; "
                    f"cannot bind it to {interface!r} too"
                )
            self._domains[domain_id] = (domain, bound, users + 1)

    def release(self, domain_id: int) -> None:
        with self._lock:
            domain, bound, users = self._domains[domain_id]
            if users > 1:
                self._domains[domain_id] = (domain, bound, users - 1)
                return
            del self._domains[domain_id]
        domain.__del__()  # deletes every entity still in it


_SHARED = _SharedDomains()


class DdsDomain:
    """A participant on a Cyclone domain bound to one interface."""

    def __init__(self, domain_id: int, interface: str) -> None:
        check_domain(domain_id)
        check_interface(interface)
        check_cyclonedds(interface)
        try:
            from cyclonedds._clayer import ddspy_write
            from cyclonedds.domain import Domain, DomainParticipant
        except ImportError as exc:
            raise BackendUnavailableError(
                f"cyclonedds cannot be imported ({exc}): {ROBOT_INSTALL_HINT}"
            ) from None
        self.domain_id = domain_id
        self.interface = interface
        self._write = ddspy_write
        self._lock = threading.Lock()
        _SHARED.acquire(domain_id, interface, lambda: Domain(domain_id, _config_xml(interface)))
        try:
            self.participant = DomainParticipant(domain_id)
        except BaseException:
            _SHARED.release(domain_id)
            raise
        self._topics: dict[str, Any] = {}
        self._entities: list[Any] = []
        self._readers: list[RawReader] = []
        self._is_closed = False
        self._stop = threading.Event()
        self._dispatch: threading.Thread | None = None
        self._dispatch_priority: int | None = None
        from cyclonedds.core import WaitSet

        self._waitset = WaitSet(self.participant)

    def topic(self, name: str, idl_type: Any) -> Any:
        from cyclonedds.topic import Topic

        with self._lock:
            if name not in self._topics:
                self._topics[name] = Topic(self.participant, name, idl_type)
            return self._topics[name]

    def raw_writer(self, name: str, idl_type: Any) -> RawWriter:
        from cyclonedds.pub import DataWriter

        writer = DataWriter(self.participant, self.topic(name, idl_type))
        self._entities.append(writer)
        return RawWriter(writer, self._write)

    def raw_reader(
        self, name: str, idl_type: Any, handler: SampleHandler, *, keep_last: int = 1
    ) -> RawReader:
        from cyclonedds.qos import Policy, Qos

        qos = Qos(Policy.History.KeepLast(keep_last))
        reader = RawReader(self, self.topic(name, idl_type), handler, qos)
        with self._lock:
            self._readers.append(reader)
        self._waitset.attach(reader.condition)
        if self._dispatch is None:
            self._dispatch = threading.Thread(
                target=self._dispatch_samples, name=f"dds-{self.domain_id}", daemon=True
            )
            self._dispatch.start()
        return reader

    def _dispatch_samples(self) -> None:
        """Our own thread runs the handlers, never Cyclone's: its receive threads stay free of
        the GIL (a SCHED_OTHER thread holding it could otherwise stall the real-time tick), and
        this thread can be given a real-time priority (``set_dispatch_priority``)."""
        priority = self._dispatch_priority
        if priority is not None:
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
            except OSError as exc:
                log.info("DDS dispatch thread stays SCHED_OTHER (%s)", exc.strerror)
        while not self._stop.is_set():
            self._waitset.wait(_WAIT_NS)
            with self._lock:
                readers = tuple(self._readers)
            for reader in readers:
                reader.drain()

    def set_dispatch_priority(self, priority: int | None) -> None:
        """SCHED_FIFO priority of the dispatch thread (call before the first reader)."""
        self._dispatch_priority = priority

    def writer(self, name: str, idl_type: Any) -> Any:
        """A plain SDK-typed writer, for the low-rate messages (hands, BMS, RPC)."""
        from cyclonedds.pub import DataWriter

        writer = DataWriter(self.participant, self.topic(name, idl_type))
        self._entities.append(writer)
        return writer

    def close(self) -> None:
        """Delete the participant and everything in it (idempotent)."""
        if self._is_closed:
            return
        self._is_closed = True
        self._stop.set()
        if self._dispatch is not None:
            self._dispatch.join(timeout=1.0)
        # Deleting the participant deletes its readers and writers (Cyclone joins its listener
        # threads), then the domain goes when its last user leaves.
        self.participant.__del__()
        _SHARED.release(self.domain_id)
        self._entities.clear()
        self._topics.clear()
