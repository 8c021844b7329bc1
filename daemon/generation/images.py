"""Encoded images passed between stages, with their size read from the file header.

Reading width and height from the PNG or JPEG header (no decoder needed) lets every stage
check what it sends: Kling wants jpg/png of at least 300 px with an aspect ratio between
1:2.5 and 2.5:1, and an image model's answer is checked before it is paid for again.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass


class ImageFormat(enum.Enum):
    PNG = "png"
    JPEG = "jpeg"

    @property
    def mime_type(self) -> str:
        return f"image/{self.value}"

    @property
    def suffix(self) -> str:
        return ".png" if self is ImageFormat.PNG else ".jpg"


class ImageDecodeError(ValueError):
    """Bytes that are not a PNG or JPEG whose size can be read."""


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


@dataclass(frozen=True)
class EncodedImage:
    """A PNG or JPEG file's bytes and its pixel size."""

    data: bytes
    format: ImageFormat
    width: int
    height: int

    @classmethod
    def from_bytes(cls, data: bytes) -> EncodedImage:
        """Recognise the format and read the size. Raises ``ImageDecodeError``."""
        if data.startswith(_PNG_MAGIC):
            if len(data) < 24 or data[12:16] != b"IHDR":
                raise ImageDecodeError("PNG without an IHDR header")
            width, height = struct.unpack(">II", data[16:24])
            return cls(data, ImageFormat.PNG, width, height)
        if data.startswith(b"\xff\xd8"):
            width, height = _jpeg_size(data)
            return cls(data, ImageFormat.JPEG, width, height)
        raise ImageDecodeError("neither PNG nor JPEG")

    @property
    def mime_type(self) -> str:
        return self.format.mime_type

    def describe(self) -> str:
        return f"{self.format.value} {self.width}x{self.height}, {len(self.data)} bytes"


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG segments to the first start-of-frame marker."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageDecodeError("JPEG segment marker missing")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ImageDecodeError("JPEG without a start-of-frame segment")


def encode_png(rgb: bytes, width: int, height: int) -> EncodedImage:
    """A PNG of 8-bit RGB rows (``height * width * 3`` bytes), without OpenCV."""
    import zlib

    if len(rgb) != width * height * 3:
        raise ValueError(f"expected {width * height * 3} bytes of RGB, got {len(rgb)}")
    stride = width * 3
    raw = b"".join(b"\x00" + rgb[row * stride : (row + 1) * stride] for row in range(height))

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = (
        _PNG_MAGIC
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return EncodedImage(data, ImageFormat.PNG, width, height)
