"""Face thumbnails as stored: lossy WebP instead of the engine's PNG.

A 150x150 chip is about 35 KB as PNG and about 5 KB as WebP at quality 90.
Re-encoding moves the chip's descriptor by at most MAX_DESCRIPTOR_MOVE (L2
distance of unit vectors, measured on the fixture faces with the face engine:
0.042 at most), far below the distance that separates people (about 0.6), so
upgrading a template from its stored thumbnails stays faithful. PNG is made
again only when a caller asks for the thumbnails.
"""
from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

WEBP_QUALITY = 90
MAX_DESCRIPTOR_MOVE = 0.06  # the bound tests/templates_store/test_thumbnails.py holds the codec to
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
