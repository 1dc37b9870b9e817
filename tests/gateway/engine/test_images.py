import io

import numpy as np
import pytest
from PIL import Image

from gateway.engine.images import decode_image
from gateway.engine.types import ImageLimits, InvalidImage
from tests.conftest import face


def _encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def test_rgba_png_is_flattened_to_rgb():
    pixels, rotated = decode_image(face("obama_2_rgba.png"))
    assert pixels.shape[2] == 3 and pixels.dtype == np.uint8 and rotated == 0


def test_exif_orientation_is_applied_and_reported():
    image = Image.new("RGB", (40, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 270 to display upright
    pixels, rotated = decode_image(_encode(image, "JPEG", exif=exif.tobytes()))
    assert pixels.shape[:2] == (40, 20) and rotated == 270


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"this is not an image at all", "not a decodable image"),
    (face("obama_1.jpg")[:5000], "corrupt or truncated"),
    (_encode(Image.new("RGB", (8, 8)), "GIF"), "not a decodable image"),
])
def test_bad_bytes_give_a_clear_error(data, message):
    with pytest.raises(InvalidImage, match=message):
        decode_image(data)


def test_size_limit_is_checked_before_decoding():
    with pytest.raises(InvalidImage, match="larger than the limit of 1000 bytes"):
        decode_image(face("obama_1.jpg"), ImageLimits(max_bytes=1000))


def test_decompression_bomb_is_refused_from_its_header():
    bomb = _encode(Image.new("1", (20_000, 20_000)), "PNG")  # 400 megapixels in a few kB
    assert len(bomb) < 100_000
    with pytest.raises(InvalidImage, match="40000000 pixels"):
        decode_image(bomb)
