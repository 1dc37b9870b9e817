"""Found in review: /extension/upload kept a BMP or WebP sample up to the file size its header declares, and the
sender writes that header: a BMP whose size field covers 19 MiB of zeros after its pixels, or a WebP whose RIFF
size covers a padding chunk, was stored whole. The end of the image is now what its structure needs: a BMP's
pixel array from its dimensions, a WebP's image chunks (the RIFF size rewritten to match); the rest is dropped."""
from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from gateway.transport.extension.image_end import image_bytes
from tests.conftest import face
from tests.security.test_samples_fill_redis import TRAILER, encoded


def with_declared_trailer(kind: str) -> tuple[bytes, bytes]:
    """(the image, the image whose header declares the trailer after it as part of the file)."""
    image = encoded(kind) if kind == "BMP" else encoded("WEBP", lossless=True)
    if kind == "BMP":
        return image, b"BM" + struct.pack("<I", len(image) + len(TRAILER)) + image[6:] + TRAILER
    padding = b"JUNK" + struct.pack("<I", len(TRAILER)) + TRAILER
    return image, b"RIFF" + struct.pack("<I", len(image) - 8 + len(padding)) + image[8:] + padding


@pytest.mark.parametrize("kind", ["BMP", "WEBP"])
def test_a_declared_size_covering_padding_does_not_keep_it(kind):
    image, hostile = with_declared_trailer(kind)
    kept = image_bytes(hostile)
    assert len(kept) <= len(image), (len(kept), len(image))
    with Image.open(io.BytesIO(kept)) as decoded, Image.open(io.BytesIO(face("biden_1.jpg"))) as original:
        decoded.load()
        assert decoded.size == original.size


def test_a_bmp_shorter_than_its_pixels_is_refused():
    from gateway.core.errors import InvalidArgument
    image = encoded("BMP")
    with pytest.raises(InvalidArgument, match="BMP"):
        image_bytes(image[:len(image) // 2])
