"""Byte layouts of the G1's ``unitree_hg`` LowCmd_ and LowState_: on the wire and as a C struct.

Both messages are fixed-size (no sequences), so each field sits at a fixed byte offset in two
encodings that matter here (../shared/reference/unitree-g1.md §1.3, §1.5):

* the **CDR payload** that Cyclone DDS puts on the wire (XCDR1, little-endian, after the 4-byte
  encapsulation header): every primitive is aligned to its own size, structs add no padding;
* the **C struct image** over which Unitree computes the CRC (natural alignment: a nested struct
  is aligned to its widest member and padded to a multiple of it).

The two differ (a ``MotorCmd_`` starts at offset 2 on the wire, at 4 in C), so both are derived
here from one field table, and the codecs and the CRC work straight on the wire bytes: no
Python (de)serialisation of 35 nested structs, and no struct packing for the CRC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# (name, numpy dtype, count) rows; a nested struct is a (name, table, count) row.
Row = tuple[str, "str | tuple[Row, ...]", int]

MOTOR_CMD: tuple[Row, ...] = (
    ("mode", "u1", 1), ("q", "<f4", 1), ("dq", "<f4", 1), ("tau", "<f4", 1),
    ("kp", "<f4", 1), ("kd", "<f4", 1), ("reserve", "<u4", 1),
)  # fmt: skip
LOW_CMD: tuple[Row, ...] = (
    ("mode_pr", "u1", 1), ("mode_machine", "u1", 1), ("motor_cmd", MOTOR_CMD, 35),
    ("reserve", "<u4", 4), ("crc", "<u4", 1),
)  # fmt: skip
IMU_STATE: tuple[Row, ...] = (
    ("quaternion", "<f4", 4), ("gyroscope", "<f4", 3), ("accelerometer", "<f4", 3),
    ("rpy", "<f4", 3), ("temperature", "<i2", 1),
)  # fmt: skip
MOTOR_STATE: tuple[Row, ...] = (
    ("mode", "u1", 1), ("q", "<f4", 1), ("dq", "<f4", 1), ("ddq", "<f4", 1),
    ("tau_est", "<f4", 1), ("temperature", "<i2", 2), ("vol", "<f4", 1), ("sensor", "<u4", 2),
    ("motorstate", "<u4", 1), ("reserve", "<u4", 4),
)  # fmt: skip
LOW_STATE: tuple[Row, ...] = (
    ("version", "<u4", 2), ("mode_pr", "u1", 1), ("mode_machine", "u1", 1), ("tick", "<u4", 1),
    ("imu_state", IMU_STATE, 1), ("motor_state", MOTOR_STATE, 35),
    ("wireless_remote", "u1", 40), ("reserve", "<u4", 4), ("crc", "<u4", 1),
)  # fmt: skip

CDR_HEADER = b"\x00\x01\x00\x00"
"""Encapsulation header of a little-endian plain-CDR (XCDR1) sample."""


@dataclass(frozen=True)
class Field:
    """One primitive element: where it sits in each encoding and how wide it is."""

    path: str
    """Dotted path with element indices, e.g. ``motor_cmd.3.q``."""
    dtype: str
    wire: int
    """Byte offset in the CDR payload (after the 4-byte header)."""
    image: int
    """Byte offset in the C struct image."""


@dataclass(frozen=True)
class Layout:
    """All primitive elements of a message, in declaration order, with both encodings' sizes."""

    name: str
    fields: tuple[Field, ...]
    wire_size: int
    image_size: int

    def field(self, path: str) -> Field:
        for f in self.fields:
            if f.path == path:
                return f
        raise KeyError(f"{self.name} has no field {path!r}")

    def wire_offsets(self, pattern: str, count: int) -> npt.NDArray[np.intp]:
        """Wire offsets of ``pattern.format(i)`` for i < count, e.g. ``motor_cmd.{}.q``."""
        by_path = {f.path: f.wire for f in self.fields}
        return np.array([by_path[pattern.format(i)] for i in range(count)], dtype=np.intp)


def _align(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


def _c_alignment(table: tuple[Row, ...]) -> int:
    return max(
        _c_alignment(kind) if isinstance(kind, tuple) else np.dtype(kind).itemsize
        for _, kind, _ in table
    )


def _walk(
    table: tuple[Row, ...], prefix: str, wire: int, image: int, out: list[Field]
) -> tuple[int, int]:
    """Lay out ``table`` from the given offsets; returns the offsets after it."""
    for name, kind, count in table:
        for i in range(count):
            path = f"{prefix}{name}.{i}" if count > 1 else f"{prefix}{name}"
            if isinstance(kind, tuple):
                image = _align(image, _c_alignment(kind))
                start_image = image
                wire, image = _walk(kind, path + ".", wire, image, out)
                image = start_image + _align(image - start_image, _c_alignment(kind))
            else:
                size = np.dtype(kind).itemsize
                wire, image = _align(wire, size), _align(image, size)
                out.append(Field(path, kind, wire, image))
                wire, image = wire + size, image + size
    return wire, image


def build_layout(name: str, table: tuple[Row, ...]) -> Layout:
    fields: list[Field] = []
    wire, image = _walk(table, "", 0, 0, fields)
    return Layout(name, tuple(fields), wire, _align(image, _c_alignment(table)))


LOW_CMD_LAYOUT = build_layout("LowCmd_", LOW_CMD)
LOW_STATE_LAYOUT = build_layout("LowState_", LOW_STATE)
