"""Unitree's LowCmd/LowState CRC, computed straight from the CDR wire bytes with numpy.

Unitree's CRC (../shared/reference/unitree-g1.md §1.5) is CRC-32/MPEG-2 (poly 0x04C11DB7, init
0xFFFFFFFF, no reflection, no final XOR) over the message's *C struct image* taken as uint32
words, each word fed most-significant byte first, the trailing ``crc`` word excluded. The SDK's
Python path packs the image with ``struct`` and calls a closed ctypes library (~90 µs per
LowCmd here).

A CRC without final XOR is affine over GF(2): ``crc(m) = crc(0) ^ XOR_k contribution(k, m[k])``,
where ``contribution(k, v)`` is what byte value ``v`` at stream position ``k`` adds. For a
fixed-size message that is a table of 256 entries per byte position (1 MiB for LowCmd, 2 MiB for
LowState), built once. Because the table is indexed by *wire* offset (``unitree_layout`` maps
each data byte of the C image to its wire offset; padding is zero in the image and contributes
nothing), the CRC is one gather and one XOR-reduce over the received or about-to-be-sent bytes:
no struct image is ever built. ``compute`` allocates nothing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from controller.robot.unitree_layout import LOW_CMD_LAYOUT, LOW_STATE_LAYOUT, Layout

POLY = 0x04C11DB7
INIT = 0xFFFFFFFF
U8 = npt.NDArray[np.uint8]


def _byte_table() -> npt.NDArray[np.uint32]:
    """MSB-first CRC-32 table: register after feeding one byte into a zero register."""
    table = np.arange(256, dtype=np.uint64) << np.uint64(24)
    for _ in range(8):
        top = (table & np.uint64(0x80000000)) != 0
        table = (table << np.uint64(1)) & np.uint64(0xFFFFFFFF)
        table[top] ^= np.uint64(POLY)
    result: npt.NDArray[np.uint32] = table.astype(np.uint32)
    return result


_TABLE = _byte_table()


def _advance(register: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """Feed one zero byte into each register value."""
    shifted = (register.astype(np.uint64) << np.uint64(8)) & np.uint64(0xFFFFFFFF)
    result: npt.NDArray[np.uint32] = shifted.astype(np.uint32) ^ _TABLE[register >> np.uint32(24)]
    return result


class WireCrc:
    """The Unitree CRC of one fixed-size message type, from its CDR payload bytes."""

    def __init__(self, layout: Layout) -> None:
        crc_field = layout.field("crc")
        stream_len = layout.image_size - 4  # every word but the trailing crc
        # contribution[s, v]: byte v at stream position s, then (stream_len - 1 - s) zero bytes.
        contribution = np.empty((stream_len, 256), dtype=np.uint32)
        contribution[-1] = _TABLE
        for s in range(stream_len - 2, -1, -1):
            contribution[s] = _advance(contribution[s + 1])
        register = np.array([INIT], dtype=np.uint32)
        for _ in range(stream_len):
            register = _advance(register)
        self._crc_of_zero = int(register[0])
        wire: list[int] = []
        rows: list[int] = []
        for f in layout.fields:
            if f is crc_field:
                continue
            for b in range(np.dtype(f.dtype).itemsize):
                image = f.image + b
                wire.append(f.wire + b)
                rows.append(4 * (image // 4) + 3 - image % 4)  # MSB of each LE word first
        self._table = np.ascontiguousarray(contribution[rows]).reshape(-1)
        self._wire_pos = np.array(wire, dtype=np.intp)
        self._row_base = np.arange(len(rows), dtype=np.intp) * 256
        self._bytes = np.zeros(len(rows), dtype=np.uint8)
        self._index = np.zeros(len(rows), dtype=np.intp)
        self._terms = np.zeros(len(rows), dtype=np.uint32)
        self.crc_offset = crc_field.wire
        self.wire_size = layout.wire_size

    def compute(self, payload: U8) -> int:
        """CRC of a CDR payload (without the 4-byte encapsulation header)."""
        np.take(payload, self._wire_pos, out=self._bytes)
        np.add(self._row_base, self._bytes, out=self._index)
        np.take(self._table, self._index, out=self._terms)
        return self._crc_of_zero ^ int(np.bitwise_xor.reduce(self._terms))

    def stored(self, payload: U8) -> int:
        """The ``crc`` field as carried in the payload."""
        return int(payload[self.crc_offset : self.crc_offset + 4].view("<u4")[0])

    def is_valid(self, payload: U8) -> bool:
        return self.compute(payload) == self.stored(payload)

    def seal(self, payload: U8) -> int:
        """Compute the CRC and write it into the payload's ``crc`` field; returns it."""
        crc = self.compute(payload)
        payload[self.crc_offset : self.crc_offset + 4].view("<u4")[0] = crc
        return crc


def low_cmd_crc() -> WireCrc:
    return WireCrc(LOW_CMD_LAYOUT)


def low_state_crc() -> WireCrc:
    return WireCrc(LOW_STATE_LAYOUT)
