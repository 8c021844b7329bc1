"""Broker accounts for the fleet interface: mosquitto users, hashed passwords and an ACL.

Why: with ``allow_anonymous true`` any client on the network could start motion or clear an
e-stop. The shipped broker configuration (``systemd/mosquitto-local.conf``) refuses anonymous
clients and reads the two files written here:

- ``exoactor.passwd``: one user per robot (named after its serial number) and one fleet user,
  with random passwords hashed by ``mosquitto_passwd`` (PBKDF2-SHA512);
- ``exoactor.acl``: a robot's user may publish only its own ``connection``, ``state``,
  ``factsheet``, ``visualization`` and the non-VDA telemetry and package-answer topics, and read
  only its own command topics; only the fleet user may publish ``instantActions``, ``order``,
  ``zoneSet``, ``responses`` and ``motionPackages`` for a robot. Everything else is denied (an
  ACL file makes mosquitto deny whatever it does not grant).

The plain passwords go to ``credentials/<serial>/mqtt-password`` (the robot's, for
``LoadCredential=mqtt-password``) and ``credentials/fleet-mqtt-password`` (for the fleet
manager), each mode 0600; they are never printed. The ACL text is a pure function of the fleet
configuration, so tests and the shipped example ACL come from the same code.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from daemon.fleet.vda5050.config import FleetConfig

PASSWD_NAME = "exoactor.passwd"
ACL_NAME = "exoactor.acl"
ROBOT_CREDENTIAL = "mqtt-password"
"""The systemd credential the daemon reads its broker password from (edge.toml, the unit)."""
FLEET_CREDENTIAL = "fleet-mqtt-password"
DEFAULT_FLEET_USER = "fleet"
_USER_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")
_PASSWORD_BYTES = 32


class ProvisionError(RuntimeError):
    """Provisioning could not be done; nothing was left half-written. Attributes: ``detail``."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True)
class RobotTopics:
    """Who may do what on one robot's topics (suffixes under its VDA 5050 prefix)."""

    prefix: str
    robot_publishes: tuple[str, ...]
    fleet_publishes: tuple[str, ...]

    @classmethod
    def of(cls, fleet: FleetConfig) -> RobotTopics:
        answers = fleet.package_answers_topic
        return cls(
            prefix=fleet.topics.prefix,
            robot_publishes=(
                "connection",
                "state",
                "factsheet",
                "visualization",
                fleet.telemetry_topic,
                answers,
                # MQTT 5 response topics of uploads must live here: anywhere else is denied.
                f"{answers}/#",
            ),
            fleet_publishes=(
                "instantActions",
                "order",
                "zoneSet",
                "responses",
                fleet.packages_topic,
                fleet.emergency_stop_topic,
            ),
        )


def acl_text(fleets: Sequence[FleetConfig], fleet_user: str = DEFAULT_FLEET_USER) -> str:
    """The mosquitto ACL for the robots in ``fleets`` (robot users named by serial number)."""
    _check_user(fleet_user)
    lines = [
        "# mosquitto ACL written by `exoactor-edge broker provision`; everything not granted",
        "# here is denied. Robot users are named after their VDA 5050 serial number.",
    ]
    robots = [RobotTopics.of(fleet) for fleet in fleets]
    for fleet, topics in zip(fleets, robots, strict=True):
        lines += ["", f"user {fleet.serial_number}"]
        lines += [f"topic write {topics.prefix}/{t}" for t in topics.robot_publishes]
        lines += [f"topic read {topics.prefix}/{t}" for t in topics.fleet_publishes]
    lines += ["", f"user {fleet_user}"]
    for topics in robots:
        lines += [f"topic write {topics.prefix}/{t}" for t in topics.fleet_publishes]
        lines += [f"topic read {topics.prefix}/{t}" for t in topics.robot_publishes]
    return "\n".join(lines) + "\n"


def _check_user(name: str) -> None:
    if not _USER_RE.match(name):
        raise ProvisionError(f"user name {name!r}: only A-Z a-z 0-9 _ . : - are allowed")


@dataclass(frozen=True)
class ProvisionResult:
    """What ``provision`` wrote (paths only; passwords stay in their files)."""

    passwd_file: Path
    acl_file: Path
    robot_credentials: dict[str, Path]
    """Serial number -> the file holding that robot's broker password."""
    fleet_credential: Path
    fleet_user: str


def find_mosquitto_passwd() -> str | None:
    """The ``mosquitto_passwd`` tool (Debian package ``mosquitto``), or None."""
    return shutil.which("mosquitto_passwd") or next(
        (
            p
            for p in ("/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd")
            if Path(p).exists()
        ),
        None,
    )


def provision(
    out_dir: Path,
    fleet: FleetConfig,
    serial_numbers: Sequence[str] = (),
    *,
    fleet_user: str = DEFAULT_FLEET_USER,
    passwd_tool: str | None = None,
) -> ProvisionResult:
    """Write the password file, the ACL and the plain-password credential files.

    Args:
        out_dir: where to write; existing files are never overwritten.
        fleet: the robot's fleet configuration (topic layout, default serial number).
        serial_numbers: the robots to provision; empty: ``fleet.serial_number``.
        fleet_user: the fleet manager's user name.
        passwd_tool: ``mosquitto_passwd``; by default found on PATH.

    Raises:
        ProvisionError: a bad name, an existing file, or ``mosquitto_passwd`` missing/failing.
    """
    serials = list(dict.fromkeys(serial_numbers or [fleet.serial_number]))
    fleets = [_for_serial(fleet, serial) for serial in serials]
    if fleet_user in serials:
        raise ProvisionError(f"the fleet user {fleet_user!r} must not be a robot's serial number")
    acl = acl_text(fleets, fleet_user)
    tool = passwd_tool or find_mosquitto_passwd()
    if tool is None:
        raise ProvisionError("mosquitto_passwd not found (apt-get install mosquitto)")
    credentials = out_dir / "credentials"
    result = ProvisionResult(
        passwd_file=out_dir / PASSWD_NAME,
        acl_file=out_dir / ACL_NAME,
        robot_credentials={s: credentials / s / ROBOT_CREDENTIAL for s in serials},
        fleet_credential=credentials / FLEET_CREDENTIAL,
        fleet_user=fleet_user,
    )
    targets = [
        result.passwd_file,
        result.acl_file,
        result.fleet_credential,
        *result.robot_credentials.values(),
    ]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise ProvisionError(f"{', '.join(existing)} exist(s) already; nothing was changed")
    passwords = {user: secrets.token_urlsafe(_PASSWORD_BYTES) for user in [*serials, fleet_user]}
    try:
        _mkdir_private(credentials)
        _write_private(result.passwd_file, "".join(f"{u}:{p}\n" for u, p in passwords.items()))
        _hash_passwords(tool, result.passwd_file)
        _write_private(result.acl_file, acl)
        for serial, path in result.robot_credentials.items():
            _write_private(path, passwords[serial] + "\n")
        _write_private(result.fleet_credential, passwords[fleet_user] + "\n")
    except BaseException:
        for path in targets:
            path.unlink(missing_ok=True)
        raise
    return result


def _hash_passwords(tool: str, path: Path) -> None:
    """Replace each ``user:password`` line of ``path`` by its PBKDF2-SHA512 hash, in place."""
    try:
        done = subprocess.run(
            [tool, "-U", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ProvisionError(f"{tool} could not run: {exc}") from None
    if done.returncode != 0:
        raise ProvisionError(f"mosquitto_passwd failed: {done.stderr.strip() or done.stdout}")


def _for_serial(fleet: FleetConfig, serial: str) -> FleetConfig:
    try:
        return replace(fleet, serial_number=serial)
    except ValueError as exc:
        raise ProvisionError(str(exc)) from None


def _mkdir_private(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ProvisionError(f"{path}: {exc.strerror}") from None


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 from the start (never briefly readable by others)."""
    _mkdir_private(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ProvisionError(f"{path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
