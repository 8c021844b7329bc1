"""A drawn stand-in for a camera frame: floor, wall, a grey humanoid figure and a brown box."""

from __future__ import annotations

import numpy as np

from daemon.generation.images import EncodedImage, encode_png


def synthetic_scene(width: int = 640, height: int = 480) -> EncodedImage:
    """A PNG of a simple third-person scene (enough for the fakes, which do not look)."""
    image = np.empty((height, width, 3), dtype=np.uint8)
    horizon = int(height * 0.55)
    image[:horizon] = (205, 210, 215)  # wall
    rows = np.linspace(150, 95, height - horizon, dtype=np.uint8)[:, None]
    image[horizon:] = np.stack([rows, rows, rows * 0.9], axis=-1).astype(np.uint8)  # floor
    cx, feet = width // 2, int(height * 0.9)
    scale = height / 480
    body = (
        slice(int(feet - 250 * scale), int(feet - 110 * scale)),
        slice(cx - int(35 * scale), cx + int(35 * scale)),
    )
    legs = (slice(int(feet - 110 * scale), feet), slice(cx - int(28 * scale), cx + int(28 * scale)))
    image[body] = (90, 95, 105)
    image[legs] = (70, 72, 80)
    yy, xx = np.ogrid[:height, :width]
    head_cy, head_r = feet - 280 * scale, 28 * scale
    image[(yy - head_cy) ** 2 + (xx - cx) ** 2 <= head_r**2] = (60, 62, 70)
    box = (
        slice(int(feet - 70 * scale), int(feet - 10 * scale)),
        slice(cx + int(90 * scale), cx + int(170 * scale)),
    )
    image[box] = (150, 105, 60)
    return encode_png(image.tobytes(), width, height)
