"""Face thumbnails as stored: lossy WebP instead of the engine's PNG.

A 160x160 chip is about 46 KB as PNG and about 7 KB as WebP at quality 90.
Re-encoding moves the chip's SFace descriptor (re-detected on the chip, as an
upgrade does) by at most MAX_DESCRIPTOR_MOVE (L2 distance of unit vectors,
measured on the fixture faces: 0.19 on average, 0.43 at most), well below the
1.13 at the verification threshold and below what describing a chip instead
of the photo costs anyway (0.27 on average). PNG is made again only when a
caller asks for the thumbnails.
"""
from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

WEBP_QUALITY = 90
MAX_DESCRIPTOR_MOVE = 0.45  # the bound tests/templates_store/test_thumbnails.py holds the codec to
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(data: bytes) -> bool:
    return data[:8] == _PNG_MAGIC


def compact(data: bytes) -> bytes:
    """PNG chips become WebP; anything else (already compact, or not an image
    Pillow can read) is kept as it is."""
    if not is_png(data):
        return data
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    except (UnidentifiedImageError, OSError, ValueError):
        return data
    return buffer.getvalue()


def to_png(data: bytes) -> bytes:
    if is_png(data):
        return data
    try:
        with Image.open(io.BytesIO(data), formats=["WEBP", "JPEG"]) as image:
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "PNG")
    except (UnidentifiedImageError, OSError, ValueError):
        return data
    return buffer.getvalue()
