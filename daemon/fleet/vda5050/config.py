"""Configuration of the fleet interface: broker connection, VDA 5050 topic layout, timing.

Frozen dataclasses, validated on construction by raising ``FleetConfigError`` (never by
``assert``: ``python -O`` strips those). ``daemon.config`` builds them from the daemon's TOML
file; tests build them directly. The broker password is never a field: only where to read it
from (a file, or a systemd credential name), so no configuration dump can leak it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from daemon.fleet.vda5050.errors import FleetConfigError

PROTOCOL_VERSION = "3.0.0"
"""The VDA 5050 version every message header carries."""
MAJOR_VERSION = "v3"
"""The topic level derived from ``PROTOCOL_VERSION``."""
MAX_STATE_INTERVAL_S = 30.0
"""VDA 5050 §6.6: a state message at least every 30 s."""

_SERIAL_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_FORBIDDEN_TOPIC_CHARS = frozenset("/+#$")


@dataclass(frozen=True)
class TlsConfig:
    """TLS towards the broker. Paths are read when connecting, not here."""

    ca_file: Path | None = None
    """CA bundle that signs the broker's certificate; None: the system's default CAs."""
    cert_file: Path | None = None
    """Client certificate for mutual TLS (with ``key_file``)."""
    key_file: Path | None = None
    is_hostname_checked: bool = True
    """False only for test brokers whose certificate does not name the host."""

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise FleetConfigError("broker.tls", "cert_file and key_file go together")


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how to reach the MQTT broker (MQTT 5 only)."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    """MQTT client identifier; empty: ``<manufacturer>-<serialNumber>-edge``."""
    keepalive_s: int = 5
    """MQTT keepalive. A lost link is noticed after about 1.5x this: by the broker, which then
    publishes the CONNECTION_BROKEN will to the fleet, and by the robot, which reconnects."""
    connect_timeout_s: float = 5.0
    publish_timeout_s: float = 5.0
    """How long a QoS 1 publish waits for its PUBACK before it counts as lost."""
    username: str | None = None
    password_file: Path | None = None
    """A file whose content (stripped of one trailing newline) is the password."""
    password_credential: str | None = None
    """A systemd credential name (``LoadCredential=``): ``$CREDENTIALS_DIRECTORY/<name>``."""
    tls: TlsConfig | None = None
    reconnect_initial_s: float = 0.5
    """First reconnect delay; doubles per failed attempt up to ``reconnect_max_s`` (with jitter)."""
    reconnect_max_s: float = 2.0
    """Longest delay between attempts (each is uniform in [max/2, max] once there). Short on
    purpose: a robot is one client, and the fleet waits for it (``scripts/bench_reconnect.py``:
    outage -> ONLINE)."""

    def __post_init__(self) -> None:
        if not self.host:
            raise FleetConfigError("broker.host", "must not be empty")
        if not 0 < self.port < 65536:
            raise FleetConfigError("broker.port", f"{self.port} is not a TCP port")
        if not 1 <= self.keepalive_s <= 65535:
            raise FleetConfigError("broker.keepalive_s", "must be 1..65535")
        for name in ("connect_timeout_s", "publish_timeout_s", "reconnect_initial_s"):
            if not getattr(self, name) > 0:
                raise FleetConfigError(f"broker.{name}", "must be > 0")
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise FleetConfigError("broker.reconnect_max_s", "must be >= reconnect_initial_s")
        if self.password_file is not None and self.password_credential is not None:
            raise FleetConfigError(
                "broker.password_file", "set password_file or password_credential, not both"
            )
        if self.password_credential is not None and (
            not self.password_credential or "/" in self.password_credential
        ):
            raise FleetConfigError("broker.password_credential", "must be a plain credential name")
        has_password = self.password_file is not None or self.password_credential is not None
        if has_password and not self.username:
            raise FleetConfigError("broker.username", "a password needs a username")

    @property
    def password_source(self) -> str | None:
        """Where the password comes from, for messages (never the password itself)."""
        if self.password_file is not None:
            return str(self.password_file)
        if self.password_credential is not None:
            return f"credential:{self.password_credential}"
        return None


@dataclass(frozen=True)
class Topics:
    """Every topic of one robot, derived from ``FleetConfig``."""

    prefix: str
    """``<interfaceName>/v3/<manufacturer>/<serialNumber>``."""
    connection: str
    state: str
    instant_actions: str
    factsheet: str
    telemetry: str
    """Non-VDA: 10 Hz loop timing and tracking figures (JSON)."""
    packages: str
    """Non-VDA: binary motion package uploads (fleet -> robot)."""
    package_answers: str
    """Non-VDA: one JSON answer per upload (robot -> fleet), unless the upload named an MQTT 5
    response topic."""
    order: str
    """VDA 5050 orders (fleet -> robot): one node, the robot's station, no edges."""
    emergency_stop: str
    """Non-VDA: the e-stop's own topic, read over a connection of its own, so a flood of
    instantActions (which the broker answers by dropping messages for a slow subscriber)
    cannot delay or drop an e-stop. Any message here engages the e-stop."""


@dataclass(frozen=True)
class FleetConfig:
    """The fleet interface (VDA 5050 v3 over MQTT 5).

    Topics are ``<interface_name>/v3/<manufacturer>/<serial_number>/<topic>``.
    """

    enabled: bool = True
    """False runs the daemon without a broker (a robot on the bench): no fleet interface."""
    interface_name: str = "vda5050"
    manufacturer: str = "Unitree"
    serial_number: str = "G1-0001"
    """VDA 5050 §4.2: only ``A-Z a-z 0-9 _ . : -``."""
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    station_node_id: str = "station"
    """The node this robot stands on in fleet control's layout (``lastNodeId``): an order is
    one node, this one, since the robot does not travel under fleet control."""
    state_interval_s: float = MAX_STATE_INTERVAL_S
    """Longest time between two state messages (VDA 5050: at most 30 s)."""
    info_interval_s: float = 1.0
    """How often a state carries refreshed figures (``information``: timing, frame) when
    nothing else changed; 0 disables the refresh."""
    min_state_interval_s: float = 0.05
    """Action-status changes closer together than this are coalesced into one message (factsheet
    ``minimumStateInterval``). Supervisor transitions are never coalesced: each gets its own."""
    telemetry_rate_hz: float = 10.0
    """Rate of the non-VDA ``telemetry`` topic; 0 disables it."""
    command_expiry_s: int = 10
    """A command whose header timestamp is older than this is refused (an e-stop is engaged
    all the same); also the MQTT 5 message expiry the fleet client puts on what it publishes,
    so the broker drops a stale command instead of replaying it after a reconnect."""
    max_clock_skew_s: float = 2.0
    """A command stamped further in the future than this is refused (untrusted clocks)."""
    max_message_bytes: int = 65536
    """Largest instantActions message accepted."""
    max_actions_per_message: int = 16
    max_package_bytes: int = 4 * 1024 * 1024
    """Largest motion package accepted over MQTT; bigger ones go over ZeroMQ."""
    max_pending_uploads: int = 4
    """Uploads waiting for validation; more are answered ``busy``."""
    instant_action_history: int = 64
    """How many instant action states (and the errors tied to them) ``state`` keeps."""
    error_ttl_s: float = 60.0
    """Longest time an instant action's or a message's error is listed in ``state.errors``
    (condition errors last as long as their condition, order errors until an order is
    accepted; see README "Errors and their lifetimes")."""
    max_action_errors: int = 8
    """Instant action errors listed at once at most (the newest), and as many message errors."""
    may_enable: bool = True
    """``startMotion`` may enable (ramp) the robot from PASSIVE or DAMP before it starts. After
    an e-stop reset the robot rests in DAMP, and the fleet has no other way to enable it."""
    may_reset_manual_estop: bool = False
    """VDA 5050: a MANUAL e-stop (the robot's remote key) is acknowledged at the robot; set
    True to let ``resetEmergencyStop`` clear it over the fleet interface too."""
    series_name: str = "Unitree G1"
    maximum_load_mass_kg: float = 2.0
    height_m: float = 1.32
    width_m: float = 0.45
    length_m: float = 0.20
    telemetry_topic: str = "telemetry"
    packages_topic: str = "motionPackages"
    emergency_stop_topic: str = "emergencyStop"
    package_answers_topic: str = "motionPackages/answers"

    def __post_init__(self) -> None:
        for name in ("interface_name", "manufacturer"):
            _check_topic_level(name, getattr(self, name))
        if not self.station_node_id or len(self.station_node_id) > 256:
            raise FleetConfigError("station_node_id", "must be 1..256 characters")
        if not _SERIAL_RE.match(self.serial_number):
            raise FleetConfigError(
                "serial_number", f"{self.serial_number!r}: only A-Z a-z 0-9 _ . : - are allowed"
            )
        if not 0 < self.state_interval_s <= MAX_STATE_INTERVAL_S:
            raise FleetConfigError("state_interval_s", "must be in (0, 30] (VDA 5050 §6.6)")
        if self.info_interval_s < 0:
            raise FleetConfigError("info_interval_s", "must be >= 0")
        if not 0 <= self.min_state_interval_s < self.state_interval_s:
            raise FleetConfigError("min_state_interval_s", "must be in [0, state_interval_s)")
        if not 0 <= self.telemetry_rate_hz <= 100:
            raise FleetConfigError("telemetry_rate_hz", "must be in [0, 100]")
        if self.command_expiry_s < 1:
            raise FleetConfigError("command_expiry_s", "MQTT expiry is whole seconds, >= 1")
        if not (math.isfinite(self.max_clock_skew_s) and 0 <= self.max_clock_skew_s <= 60):
            raise FleetConfigError("max_clock_skew_s", "must be within 0..60 s")
        if not (math.isfinite(self.error_ttl_s) and self.error_ttl_s > 0):
            raise FleetConfigError("error_ttl_s", "must be a positive number of seconds")
        for name in (
            "max_message_bytes",
            "max_actions_per_message",
            "max_package_bytes",
            "max_pending_uploads",
            "instant_action_history",
            "max_action_errors",
        ):
            if getattr(self, name) < 1:
                raise FleetConfigError(name, "must be >= 1")
        for name in (
            "telemetry_topic",
            "packages_topic",
            "package_answers_topic",
            "emergency_stop_topic",
        ):
            value = getattr(self, name)
            if not value or any(c in value for c in "+#$") or value.startswith("/"):
                raise FleetConfigError(name, f"{value!r} is not a plain topic suffix")

    @property
    def client_id(self) -> str:
        """The MQTT client id: ``broker.client_id`` or one derived from the robot's identity."""
        return self.broker.client_id or f"{self.manufacturer}-{self.serial_number}-edge"

    @property
    def topics(self) -> Topics:
        prefix = f"{self.interface_name}/{MAJOR_VERSION}/{self.manufacturer}/{self.serial_number}"
        return Topics(
            prefix=prefix,
            connection=f"{prefix}/connection",
            state=f"{prefix}/state",
            instant_actions=f"{prefix}/instantActions",
            factsheet=f"{prefix}/factsheet",
            order=f"{prefix}/order",
            telemetry=f"{prefix}/{self.telemetry_topic}",
            packages=f"{prefix}/{self.packages_topic}",
            package_answers=f"{prefix}/{self.package_answers_topic}",
            emergency_stop=f"{prefix}/{self.emergency_stop_topic}",
        )


def _check_topic_level(name: str, value: str) -> None:
    if not value:
        raise FleetConfigError(name, "must not be empty")
    bad = sorted(set(value) & _FORBIDDEN_TOPIC_CHARS)
    if bad:
        raise FleetConfigError(name, f"{value!r} contains {''.join(bad)!r} (VDA 5050 §4.2)")
