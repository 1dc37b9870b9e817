"""Found in review: the per-call pixel budget read image headers with Pillow in the service's event loop, and
Pillow parses a JPEG's Photoshop (APP13) resources one by one in Python: a photo carrying 19 MiB of them stalled
the loop for 1.3 s (/livez answered after 7 s under a few such calls). JPEG and PNG sizes now come from the
bounded marker and chunk walks: Pillow's parsers never run in the event loop for them."""
from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from gateway.core.fairness import check_pixel_budget, image_pixels
from tests.conftest import face

MB = 1 << 20


def photoshop_padded(photo: bytes, total: int = 19 * MB) -> bytes:
    """The photo with APP13 segments after its SOI, each full of empty Photoshop resource blocks (12 bytes each:
    1.6 million of them in 19 MiB)."""
    block = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", 0)
    payload = b"Photoshop 3.0\0" + block * ((65533 - 14) // len(block))
    segment = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    return photo[:2] + segment * (total // len(segment)) + photo[2:]


def test_the_pixel_budget_reads_jpeg_and_png_sizes_without_pillow(monkeypatch):
    hostile = photoshop_padded(face("biden_1.jpg"))
    with Image.open(io.BytesIO(face("biden_1.jpg"))) as image:
        expected = image.size[0] * image.size[1]

    def no_pillow(*_args, **_kwargs):
        raise AssertionError("Pillow parsed a header in the event loop")
    monkeypatch.setattr(Image, "open", no_pillow)
    assert image_pixels(hostile) == expected
    check_pixel_budget([hostile, face("obama_1.jpg")], 60_000_000)
    with pytest.raises(Exception, match="BWS_MAX_PIXELS_PER_CALL"):
        check_pixel_budget([hostile] * 3, expected * 2)


def test_the_hostile_photo_is_still_judged_by_the_worker(service):
    """End to end: the padded photo is a valid JPEG; the service answers it like the photo itself."""
    from tests.e2e.helpers import Caller, new_class_id
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        class_id = new_class_id()
        a.enroll(class_id, "biden_2.jpg")
        assert a.verify(class_id, raw=photoshop_padded(face("biden_1.jpg"))).verified
