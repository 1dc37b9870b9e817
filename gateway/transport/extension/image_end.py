"""Where an uploaded image file ends, from its own structure: anything sent after it (padding, a second file,
megabytes of zeros) is not the image and is not stored. The walks are bounded: a file made of countless tiny
segments or chunks is refused, not walked for seconds on the event loop."""
from __future__ import annotations

import re
import struct

from gateway.core.errors import InvalidArgument

MAX_SEGMENTS = 20_000  # JPEG markers or PNG chunks; real files have tens (PNG: a few thousand IDAT at most)
_JPEG_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")  # in entropy-coded data: not stuffing nor RSTn
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def image_bytes(data: bytes) -> bytes:
    """The image file at the start of `data`, without what follows it."""
    if data.startswith(b"\xff\xd8"):
        end = _jpeg_end(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        end = _png_end(data)
    elif data.startswith(b"BM") and len(data) >= 6:
        end = _declared_end(data, struct.unpack_from("<I", data, 2)[0], 26, "BMP")
        end = min(end, _bmp_end(data))
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        size = struct.unpack_from("<I", data, 4)[0]
        end = _webp_end(data, _declared_end(data, 8 + size + (size & 1), 20, "WebP"))
        return b"RIFF" + struct.pack("<I", end - 8) + data[8:end]  # the RIFF size of what is kept
    else:
        raise InvalidArgument("not a JPEG, PNG, BMP or WebP image")
    return data[:end]


# Uncompressed BMP pixel arrays (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS): their size follows from the header.
_BMP_UNCOMPRESSED = (0, 3, 6)
# The chunks of a WebP image (simple: VP8 or VP8L; extended: VP8X and these); anything else ends it.
_WEBP_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF", b"XMP "}


def _bmp_end(data: bytes) -> int:
    """Just past the pixel array, from the header's dimensions, not its declared file size (the sender's to
    choose); a compressed BMP by the size of its pixel data."""
    if len(data) < 30:
        raise InvalidArgument("the BMP header is incomplete")
    offset, header = struct.unpack_from("<II", data, 10)
    if header == 12:  # BITMAPCOREHEADER
        width, height, _, bits = struct.unpack_from("<HHHH", data, 18)
        compression = image_size = 0
    elif header >= 40 and len(data) >= 38:
        width, height, _, bits, compression, image_size = struct.unpack_from("<iiHHII", data, 18)
    else:
        raise InvalidArgument("the BMP header is not one this service reads")
    if compression in _BMP_UNCOMPRESSED:
        image_size = (abs(width) * bits + 31) // 32 * 4 * abs(height)
    end = offset + image_size
    if image_size <= 0 or end > len(data):
        raise InvalidArgument(f"the BMP pixel data ({image_size} bytes from byte {offset}) does not fit the "
                              f"{len(data)} bytes sent")
    return end


def _webp_end(data: bytes, declared: int) -> int:
    """Just past the last image chunk, within the declared RIFF size."""
    position = end = 12
    for _ in range(MAX_SEGMENTS):
        if position + 8 > declared or data[position:position + 4] not in _WEBP_CHUNKS:
            break
        size = struct.unpack_from("<I", data, position + 4)[0]
        position += 8 + size + (size & 1)
        if position > declared:
            break
        end = position
    else:
        raise _too_many("WebP")
    if end == 12:
        raise InvalidArgument("the WebP file holds no image chunk")
    return end


def _declared_end(data: bytes, end: int, smallest: int, kind: str) -> int:
    if not smallest <= end <= len(data):
        raise InvalidArgument(f"the {kind} header's file size ({end} bytes) does not fit the {len(data)} bytes sent")
    return end


def _too_many(kind: str) -> InvalidArgument:
    return InvalidArgument(f"the {kind} file has more than {MAX_SEGMENTS} segments")


def _jpeg_end(data: bytes) -> int:
    """Just past the EOI marker: segments are skipped by their lengths (an embedded EXIF thumbnail's EOI is inside
    one), the entropy-coded data after each SOS is searched for the next marker."""
    position, size = 2, len(data)
    for _ in range(MAX_SEGMENTS):
        if position >= size or data[position] != 0xFF:
            raise InvalidArgument("the JPEG data is corrupt or ends before its end (EOI) marker")
        while position < size and data[position] == 0xFF:  # fill bytes before a marker
            position += 1
        if position >= size:
            break
        marker = data[position]
        position += 1
        if marker == 0xD9:
            return position
        if marker in _JPEG_STANDALONE:
            continue
        if marker == 0x00 or position + 2 > size:
            break
        (length,) = struct.unpack_from(">H", data, position)
        if length < 2:
            break
        position += length
        if marker == 0xDA:  # start of scan
            found = _JPEG_NEXT_MARKER.search(data, position)
            if found is None:
                break
            position = found.end() - 2
    else:
        raise _too_many("JPEG")
    raise InvalidArgument("the JPEG data is corrupt or ends before its end (EOI) marker")


def _png_end(data: bytes) -> int:
    """Just past the IEND chunk."""
    position, size = 8, len(data)
    for _ in range(MAX_SEGMENTS):
        if position + 12 > size:
            break
        length, kind = struct.unpack_from(">I4s", data, position)
        position += 12 + length
        if kind == b"IEND":
            if position > size:
                break
            return position
    else:
        raise _too_many("PNG")
    raise InvalidArgument("the PNG data ends before its IEND chunk")
