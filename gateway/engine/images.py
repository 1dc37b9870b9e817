"""Decoding untrusted image bytes safely: size, format, pixel and JPEG scan
limits are checked before any pixel is decoded (decompression bombs, scan
bombs, truncated files)."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gateway.engine.jpeg import ScanGate, check_header, check_scans
from gateway.engine.types import ImageLimits, InvalidImage

JPEG_START = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Pillow parses a PNG's chunks up to the first IDAT one by one in Python: millions of empty chunks held it for
# seconds. Photos have a handful (IHDR, sRGB, gAMA, pHYs, iCCP, a few tEXt).
MAX_PNG_CHUNKS_BEFORE_DATA = 1000


def check_headers(data: bytes) -> None:
    """Bounded walks of the headers Pillow would parse, before it does (also in
    the service process, where the pixel budget reads them)."""
    if data.startswith(JPEG_START):
        check_header(data)
    elif data.startswith(PNG_SIGNATURE):
        position, chunks = len(PNG_SIGNATURE), 0
        while position + 8 <= len(data) and data[position + 4:position + 8] != b"IDAT":
            chunks += 1
            if chunks > MAX_PNG_CHUNKS_BEFORE_DATA:
                raise InvalidImage(f"PNG of more than {MAX_PNG_CHUNKS_BEFORE_DATA} chunks before its image data: "
                                   "over the limit (photos have a handful)")
            position += 12 + int.from_bytes(data[position:position + 4], "big")


_EXIF_ORIENTATION = 0x0112
_ROTATION_BY_ORIENTATION = {3: 180, 6: 270, 8: 90, 4: 180, 5: 270, 7: 90}


def decode_image(data: bytes, limits: ImageLimits = ImageLimits()) -> tuple[np.ndarray, int]:
    """RGB uint8 pixels, upright, and the degrees they were rotated by."""
    if not data:
        raise InvalidImage("empty image")
    if len(data) > limits.max_bytes:
        raise InvalidImage(f"image of {len(data)} bytes is larger than the limit of {limits.max_bytes} bytes")
    check_headers(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = ScanGate(data, limits.max_jpeg_scans)
            image = Image.open(source, formats=list(limits.formats))
            width, height = image.size
            if width * height > limits.max_pixels:
                raise InvalidImage(f"image of {width}x{height} pixels is larger than the limit of "
                                   f"{limits.max_pixels} pixels")
            if image.format in ("JPEG", "MPO"):  # MPO: a JPEG with more pictures after its end
                check_scans(data, limits.max_jpeg_scans)
                source.gating = True
            image.load()
    except InvalidImage:
        raise
    except UnidentifiedImageError:
        raise InvalidImage(f"not a decodable image ({', '.join(limits.formats)} are accepted)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"image is too large when decoded (decompression bomb): more than "
                           f"{limits.max_pixels} pixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"image data is corrupt or truncated: {exc}") from None
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    rotated = _ROTATION_BY_ORIENTATION.get(orientation, 0)
    image = ImageOps.exif_transpose(image)
    if image.mode != "RGB":
        image = _to_rgb(image)
    return np.asarray(image, dtype=np.uint8), rotated


_WIDE_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB, with as few full-size copies as can be (a 36-megapixel RGBA or 16-bit picture used to take
    five or six: over half a gigabyte, 2 GB at the pixel limit)."""
    if image.mode in _WIDE_GREY_MODES:
        # 16-bit greyscale (PNG opens it as I;16 or I, values up to 65535): Pillow's own conversion clips at 255
        # and turns the picture white; scale it instead (the top byte), in the image's own integer type.
        wide = np.asarray(image)
        if wide.dtype != np.uint16:
            wide = np.clip(wide, 0, 65535, out=wide if wide.flags.writeable else None)
        grey = Image.fromarray((wide >> 8).astype(np.uint8), "L")
        del wide
        return grey.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        if image.mode != "RGBA":
            image = image.convert("RGBA")
        # Composited on white: the colours pasted through the alpha channel onto a white RGB picture.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGB"), mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def encode_png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data), formats=["PNG"]).convert("RGB"), dtype=np.uint8)
