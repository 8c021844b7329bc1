"""A real mosquitto broker on loopback for tests: free port, temporary config, log file.

``MosquittoBroker`` can be killed and restarted on the same port ("broker killed mid-run").
By default it lets anonymous clients in; ``settings`` replaces that with other security
settings (``shipped_settings`` reads them from ``systemd/mosquitto-local.conf``: no anonymous
clients, a password file, an ACL, the size limits) and ``tls`` makes the listener a TLS one.
The pytest fixtures ``mosquitto_broker`` (one per session) and ``fresh_mosquitto`` (one per
test, for tests that stop it) skip with the reason when the ``mosquitto`` binary is missing.
Install it with ``apt-get install mosquitto``; the Debian package's system service is not used.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = "127.0.0.1"
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto-local.conf"
_TEST_OWNED = ("listener", "persistence", "autosave_interval", "log_dest", "log_type", "user")
"""Settings of the shipped file that a test broker replaces with its own (port, no disk, log)."""


@dataclass(frozen=True)
class BrokerTls:
    """A TLS listener: the server's certificate and key, the CA that clients are checked with."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = False
    """Mutual TLS: a client without a certificate signed by ``ca_file`` is refused."""

    def lines(self) -> list[str]:
        return [
            f"cafile {self.ca_file}",
            f"certfile {self.cert_file}",
            f"keyfile {self.key_file}",
            f"require_certificate {'true' if self.require_certificate else 'false'}",
            "tls_version tlsv1.2",
        ]


def shipped_settings(*, password_file: Path, acl_file: Path) -> list[str]:
    """The security and limit settings of ``systemd/mosquitto-local.conf``, file paths replaced.

    Everything but the listener, persistence and logging lines is kept as shipped, so a test
    broker started with these runs the robot's own configuration.
    """
    kept = []
    for raw in SHIPPED_CONFIG.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = line.split()[0]
        if name.startswith(_TEST_OWNED):
            continue
        if name == "password_file":
            line = f"password_file {password_file}"
        elif name == "acl_file":
            line = f"acl_file {acl_file}"
        kept.append(line)
    return kept


def find_mosquitto() -> str | None:
    """The mosquitto binary (PATH, then Debian's /usr/sbin), or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    debian = Path("/usr/sbin/mosquitto")
    return str(debian) if debian.exists() else None


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range.

    Not an ephemeral one: a client that keeps reconnecting to a port where nothing listens
    (a broker being restarted) can be given that very port as its own source port and connect
    to itself (TCP simultaneous open), and the broker then cannot bind it.
    """
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10000, max(low, 10001))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


class BrokerStartError(RuntimeError):
    def __init__(self, port: int, log_tail: str) -> None:
        self.port = port
        self.log_tail = log_tail
        super().__init__(f"mosquitto did not start on {HOST}:{port}:\n{log_tail}")


class MosquittoBroker:
    """One mosquitto process with its own config in ``workdir``.

    Args:
        workdir: Holds ``mosquitto.conf`` and ``mosquitto.log``.
        binary: The mosquitto executable.
        port: Fixed port; default a free one (kept across restarts).
        settings: Security settings (default: ``allow_anonymous true``), e.g. from
            ``shipped_settings``.
        tls: Make the listener a TLS listener.
    """

    def __init__(
        self,
        *,
        workdir: Path,
        binary: str,
        port: int | None = None,
        settings: Sequence[str] | None = None,
        tls: BrokerTls | None = None,
    ) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.workdir = workdir
        self.binary = binary
        self.settings = list(settings) if settings is not None else ["allow_anonymous true"]
        self.tls = tls
        self.config_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 5.0) -> None:
        """Start and wait until the port accepts connections."""
        # per_listener_settings must come before the listener it would apply to.
        first = [line for line in self.settings if line.startswith("per_listener_settings")]
        rest = [line for line in self.settings if line not in first]
        lines = [
            *first,
            f"listener {self.port} {HOST}",
            *(self.tls.lines() if self.tls is not None else []),
            *rest,
            "persistence false",
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto drops to user "mosquitto", which cannot write a log file in a
            # private temporary directory.
            lines.append("user root")
        self.config_path.write_text("\n".join(lines) + "\n")
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        self.stop(kill=True)
        raise BrokerStartError(self.port, self.log_tail())

    def stop(self, *, kill: bool = False, timeout_s: float = 5.0) -> None:
        """SIGTERM (or SIGKILL: no goodbye to anyone) and wait for the process to end."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)

    def restart(self, *, kill: bool = True) -> None:
        """Stop (killed by default) and start again on the same port."""
        self.stop(kill=kill)
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _broker(workdir: Path) -> MosquittoBroker:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("the mosquitto binary is not installed (apt-get install mosquitto)")
    broker = MosquittoBroker(workdir=workdir, binary=binary)
    broker.start()
    return broker


@pytest.fixture(scope="session")
def mosquitto_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """One broker for the session; tests keep apart with their own topic prefix."""
    broker = _broker(tmp_path_factory.mktemp("mosquitto"))
    yield broker
    broker.stop()


@pytest.fixture
def fresh_mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A broker of this test's own, which it may kill and restart."""
    broker = _broker(tmp_path)
    yield broker
    broker.stop(kill=True)
