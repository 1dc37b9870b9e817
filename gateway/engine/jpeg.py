"""Bounding the work of decoding one JPEG: its scans are counted before it is
decoded, and counted again as the decoder reads it.

A progressive JPEG's decoder passes over every block of the image once per
scan, whatever the scan holds: a 6320x6320 picture followed by thousands of
scans of nothing but end-of-band runs (a few dozen bytes each) holds a worker
for minutes. Real progressive JPEGs have about ten scans (libjpeg's standard
progression: 10 for colour, 6 for greyscale); libjpeg-turbo guards against the
same file with a scan limit (djpeg -maxscans, TJPARAM_SCANLIMIT).
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator

from gateway.engine.types import InvalidImage

_SOS = 0xDA
_EOI = 0xD9
# The next marker: 0xFF (after any 0xFF fill bytes) followed by a byte that is neither 0x00 (a stuffed 0xFF in
# entropy-coded data) nor 0xFF. Restart markers (0xD0-0xD7) sit inside entropy-coded data and carry no segment.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Markers followed by a two-byte length (libjpeg's jdmarker.c reads these by their length): SOFn, DHT, DAC,
# JPG (0xC0-0xCF), SOS, DQT, DNL, DRI, APPn, COM. libjpeg refuses every other marker but TEM (0x01) and the
# lengthless SOI/EOI/RSTn; for those the walk does not trust a length and looks for the next marker instead,
# so that it never counts fewer scans than a decoder could find.
_SEGMENTS = frozenset(range(0xC0, 0xD0)) | {0xDA, 0xDB, 0xDC, 0xDD, 0xFE} | frozenset(range(0xE0, 0xF0))
# Photos have a few dozen markers besides their scans (APPn, DQT, DHT, SOF, and a DHT per scan when
# progressive). Millions of empty segments would hold this walk, and Pillow's own header parser, for seconds.
MAX_MARKERS = 1000


def _segments(data: bytes) -> Iterator[tuple[int, int]]:
    """The markers of the (first) image and where their segments start, as libjpeg walks them: marker segments
    by their length, entropy-coded data up to the next marker that is not a restart marker, the image ending at
    EOI."""
    position = 2  # after SOI
    while (found := _NEXT_MARKER.search(data, position)) is not None:
        marker = data[found.start() + 1]
        position = start = found.end()
        if marker == _EOI:
            return
        if marker in _SEGMENTS:  # after SOS, its entropy-coded data runs to the next marker
            position += int.from_bytes(data[position:position + 2], "big")
        yield marker, start


def _markers(data: bytes) -> Iterator[int]:
    return (marker for marker, _ in _segments(data))


# Start of frame markers (SOF0-SOF15 but DHT, JPG and DAC): length, precision, height, width, ...
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def frame_pixels(data: bytes) -> int:
    """Width x height from the frame headers before the first scan (the largest, should there be several), by
    the bounded marker walk: what Pillow would report, without its parsing of every APPn segment in Python (19
    MiB of Photoshop resources held it for over a second). 0 without a frame header."""
    pixels = 0
    for count, (marker, start) in enumerate(_segments(data), 1):
        if marker == _SOS or count > MAX_MARKERS:
            break
        if marker in _SOF and start + 7 <= len(data):
            height, width = int.from_bytes(data[start + 3:start + 5], "big"), int.from_bytes(
                data[start + 5:start + 7], "big")
            pixels = max(pixels, width * height)
    return pixels


def check_header(data: bytes) -> None:
    """The markers before the first scan (what Pillow parses to open the image) are few."""
    for count, marker in enumerate(_markers(data), 1):
        if marker == _SOS:
            return
        if count > MAX_MARKERS:
            raise _too_many_markers()


def check_scans(data: bytes, max_scans: int) -> None:
    """At most `max_scans` scans (and MAX_MARKERS other markers)."""
    scans = others = 0
    for marker in _markers(data):
        if marker == _SOS:
            scans += 1
            if scans > max_scans:
                raise _too_many_scans(max_scans)
        else:
            others += 1
            if others > MAX_MARKERS:
                raise _too_many_markers()


def _too_many_scans(max_scans: int) -> InvalidImage:
    return InvalidImage(f"JPEG of more than {max_scans} scans: over the limit (BWS_MAX_JPEG_SCANS; "
                        "progressive photos have about 10)")


def _too_many_markers() -> InvalidImage:
    return InvalidImage(f"JPEG of more than {MAX_MARKERS} markers besides its scans: over the limit "
                        "(photos have a few dozen)")


class ScanGate(io.BytesIO):
    """The image bytes as the decoder reads them, at most one possible scan
    start (the bytes FF DA) per read: a decoder reading past `max_scans` of
    them is stopped, whatever the marker walk above made of the file.

    Off while Pillow reads the headers (it needs whole segments there); `open`
    turns it on for the decoding."""

    def __init__(self, data: bytes, max_scans: int) -> None:
        super().__init__(data)
        self.max_scans = max_scans
        self.scans = 0
        self.gating = False

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if not self.gating or not chunk:
            return chunk
        if chunk.startswith(b"\xff\xda"):
            self.scans += 1
            if self.scans > self.max_scans:
                raise _too_many_scans(self.max_scans)
        cut = chunk.find(b"\xff\xda", 1)
        if cut > 0:  # the next scan start comes with the next read
            self.seek(cut - len(chunk), io.SEEK_CUR)
            chunk = chunk[:cut]
        return chunk
