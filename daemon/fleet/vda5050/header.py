"""The VDA 5050 message header (§7.2): headerId per topic, timestamp, version, identity.

Sans-I/O: the caller passes the time in, so tests pin it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from daemon.fleet.vda5050.config import PROTOCOL_VERSION

_HEADER_ID_MODULUS = 2**32
"""headerId is a uint32 in VDA 5050; it wraps rather than overflowing."""


class Topic(enum.Enum):
    """The topics this robot publishes; each has its own headerId sequence."""

    CONNECTION = "connection"
    STATE = "state"
    FACTSHEET = "factsheet"
    TELEMETRY = "telemetry"
    PACKAGE_ANSWERS = "packageAnswers"
    INSTANT_ACTIONS = "instantActions"
    """Only the fleet side (``FleetClient``) publishes these."""
    ORDER = "order"
    """Only the fleet side publishes these."""


def iso_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:mm:ss.fffZ`` in UTC (milliseconds, truncated), as VDA 5050 writes it.

    Args:
        moment: An aware datetime (any zone) or a naive one taken to be UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    utc = moment.astimezone(timezone.utc)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


class HeaderFactory:
    """Builds headers for one robot identity and counts headerIds per topic."""

    def __init__(self, *, manufacturer: str, serial_number: str) -> None:
        self._manufacturer = manufacturer
        self._serial_number = serial_number
        self._next_ids: dict[Topic, int] = {}

    def header(self, topic: Topic, now: datetime) -> dict[str, Any]:
        """The next header for ``topic``: its headerId is one more than the last one's."""
        header_id = self._next_ids.get(topic, 0)
        self._next_ids[topic] = (header_id + 1) % _HEADER_ID_MODULUS
        return {
            "headerId": header_id,
            "timestamp": iso_timestamp(now),
            "version": PROTOCOL_VERSION,
            "manufacturer": self._manufacturer,
            "serialNumber": self._serial_number,
        }
