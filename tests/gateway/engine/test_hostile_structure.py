"""The structure of JPEG and PNG files is walked, within bounds, before Pillow parses or decodes them."""
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from gateway.engine import jpeg
from gateway.engine.images import MAX_PNG_CHUNKS_BEFORE_DATA, check_headers, decode_image
from gateway.engine.types import ImageLimits, InvalidImage
from gateway.core.fairness import image_pixels
from tests.conftest import face
from tests.security.hostile_files import scan_bomb


def _jpeg(mode: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(face("obama_1.jpg"))).convert(mode).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _scans(data: bytes) -> int:
    return sum(marker == 0xDA for marker in jpeg._markers(data))


@pytest.mark.parametrize("mode, options, scans", [
    ("RGB", {}, 1), ("RGB", {"progressive": True}, 10), ("L", {"progressive": True}, 6),
    ("CMYK", {"progressive": True}, 18), ("RGB", {"restart_marker_blocks": 1}, 1),
])
def test_the_scans_of_real_jpegs_are_counted_as_libjpeg_reads_them(mode, options, scans):
    data = _jpeg(mode, **options)
    assert _scans(data) == scans
    assert decode_image(data)[0].shape[:2] == (1137, 910)  # within every limit


def test_what_follows_the_end_of_the_image_is_not_counted():
    data = _jpeg("RGB", progressive=True)
    assert _scans(data + data) == 10  # e.g. the second picture of an MPO


def test_a_scan_bomb_is_refused_from_its_markers_before_any_decoding():
    started = time.monotonic()
    with pytest.raises(InvalidImage, match=r"JPEG of more than 100 scans: over the limit \(BWS_MAX_JPEG_SCANS"):
        decode_image(scan_bomb())
    assert time.monotonic() - started < 5  # decoding it takes more than a minute


def test_the_decoder_is_stopped_at_the_scan_limit_whatever_the_walk_made_of_the_file(monkeypatch):
    """The second guard: the bytes reach the decoder at most one scan start (FF DA) at a time."""
    monkeypatch.setattr("gateway.engine.images.check_scans", lambda data, limit: None)  # a walk that missed them
    with pytest.raises(InvalidImage, match="JPEG of more than 20 scans"):
        decode_image(scan_bomb(side=2000, scans=4000), ImageLimits(max_jpeg_scans=20))


def test_millions_of_empty_segments_are_refused_before_pillow_parses_them():
    small = _jpeg("RGB")
    bloated = small[:2] + b"\xff\xfe\x00\x02" * 1_000_000 + small[2:]  # empty comments before the frame header
    with pytest.raises(InvalidImage, match="JPEG of more than 1000 markers"):
        check_headers(bloated)
    with pytest.raises(InvalidImage, match="JPEG of more than 1000 markers"):
        decode_image(bloated)
    started = time.monotonic()
    assert image_pixels(bloated) == 0  # the service process leaves it to the worker, which refuses it
    assert time.monotonic() - started < 0.5  # Pillow's own parser took about 1 s per million


def test_millions_of_empty_png_chunks_are_refused_before_pillow_parses_them():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(buffer, "PNG")
    png = buffer.getvalue()
    chunk = struct.pack(">I", 0) + b"teSt" + struct.pack(">I", zlib.crc32(b"teSt"))
    after_header = 8 + 25
    few = png[:after_header] + chunk * (MAX_PNG_CHUNKS_BEFORE_DATA - 1) + png[after_header:]  # and IHDR
    assert decode_image(few)[0].shape == (64, 64, 3)
    bloated = png[:after_header] + chunk * 1_000_000 + png[after_header:]
    with pytest.raises(InvalidImage, match="PNG of more than 1000 chunks before its image data"):
        decode_image(bloated)
    started = time.monotonic()
    assert image_pixels(bloated) == 0
    assert time.monotonic() - started < 0.5  # Pillow's own parser took about 4 s per million
