"""Errors of the fleet interface. Each carries the fields a caller needs, not only a message."""

from __future__ import annotations


class FleetConfigError(ValueError):
    """A fleet configuration value is out of range or malformed.

    Attributes:
        field: The configuration field, dotted for nested ones (``broker.port``).
        detail: What is wrong with it.
    """

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"fleet.{field}: {detail}")


class BrokerCredentialError(RuntimeError):
    """The broker password could not be read. Never carries the secret itself.

    Attributes:
        source: Where the password was to come from (a path, or ``credential:<name>``).
        detail: Why it could not be read.
    """

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"broker password from {source}: {detail}")


class FleetTimeoutError(TimeoutError):
    """The fleet client waited in vain.

    Attributes:
        what: What was awaited ("state", "connection", "package answer", "broker").
        timeout_s: How long it waited.
    """

    def __init__(self, what: str, timeout_s: float) -> None:
        self.what = what
        self.timeout_s = timeout_s
        super().__init__(f"no {what} within {timeout_s:g} s")


class BrokerTlsError(RuntimeError):
    """TLS towards the broker cannot work: a file is unusable or the broker was not trusted.

    Attributes:
        source: What failed (``ca_file /path``, ``cert_file /path``, or ``host:port``).
        detail: Why, and what to check.
    """

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"broker TLS, {source}: {detail}")
