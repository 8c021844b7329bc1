"""``[streaming]``: where SONIC-protocol producers are and how their streams are run.

Opt-in: without the section nothing subscribes. The playback part (``[streaming.playback]``,
the jitter buffer) is handed to the control process; the rest stays in the daemon.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from controller.stream_track import StreamPlaybackConfig
from daemon.inputs.stream_wire import HEADER_SIZE, StreamDecodeConfig
from daemon.system.curve import CurveConfig


class ProducerStop(enum.Enum):
    """What SONIC's ``command`` ``stop`` does."""

    ESTOP = "estop"
    """The e-stop (origin ``producer``), as in SONIC, where stop damps the robot and exits."""
    HOLD = "hold"
    """End the stream: blend to rest and hold (for producers that send stop to end a session)."""


@dataclass(frozen=True)
class StreamingConfig:
    """The SONIC-protocol streaming input."""

    endpoint: str = "tcp://127.0.0.1:5556"
    """The producer's PUB endpoint (producers bind; SONIC's default port is 5556). The ``pose``
    and ``command`` topics arrive on it, as with SONIC's ``zmq_manager``."""
    receive_hwm: int = 8
    """Small: a backlog of old frames is worse than a gap (the jitter buffer bridges a gap)."""
    max_message_bytes: int = 4 * 1024 * 1024
    """``ZMQ_MAXMSGSIZE``: a larger message drops the connection (it reconnects)."""
    decode: StreamDecodeConfig = field(default_factory=StreamDecodeConfig)
    curve: CurveConfig | None = None
    """CURVE with a producer allow-list: the SUB is the CURVE server (it holds the robot's
    secret key) although it connects, so only producers whose public key is listed, and who
    know the robot's public key, get a frame through. SONIC's own producers speak plaintext;
    they need CURVE client keys set on their PUB before this can be used with them."""
    playback: StreamPlaybackConfig = field(default_factory=StreamPlaybackConfig)
    """The jitter buffer (target delay, time warping), run by the control process."""
    new_session_gap_s: float = 1.0
    """A producer silent this long starts a new stream with its next message: a new stream
    may use another protocol version, and a stream that was stopped may start again."""
    require_start: bool = False
    """Engage a stream only after the producer's ``command`` ``start`` (SONIC's
    ``zmq_manager`` flow). Off: frames alone engage it from HOLD (webcam and VLA producers send
    no commands)."""
    producer_stop: ProducerStop = ProducerStop.ESTOP
    """What the producer's ``stop`` command does."""
    refusal_log_interval_s: float = 5.0
    """Each refusal cause is logged at most once per this interval (with a count)."""

    def __post_init__(self) -> None:
        if not self.endpoint.startswith(("tcp://", "ipc://", "inproc://")):
            raise ValueError(f"streaming endpoint {self.endpoint!r}: use tcp://, ipc://, inproc://")
        if self.receive_hwm < 1 or self.max_message_bytes < HEADER_SIZE:
            raise ValueError("receive_hwm must be >= 1 and max_message_bytes >= 1280")
        for name in ("new_session_gap_s", "refusal_log_interval_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"streaming.{name} must be a positive number, got {value}")
