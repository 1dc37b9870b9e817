"""Test media made from the fixture photos: flat-photo attacks and videos."""
from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image

from tests.conftest import face


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def photo(name: str) -> Image.Image:
    return Image.open(io.BytesIO(face(name))).convert("RGB")


def perspective(image: Image.Image, k: float) -> Image.Image:
    """The picture tilted away from the camera, as a printed photo held at an angle."""
    w, h = image.size
    corners_out = [(k * w, k * h), (w * (1 - 0.3 * k), 0), (w, h), (0.5 * k * w, h * (1 - k))]
    corners_in = [(0, 0), (w, 0), (w, h), (0, h)]
    rows, values = [], []
    for (x, y), (u, v) in zip(corners_out, corners_in):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    coefficients = np.linalg.solve(np.array(rows), np.array(values))
    return image.transform(image.size, Image.Transform.PERSPECTIVE, tuple(coefficients), Image.Resampling.BICUBIC)


def letterbox(image: Image.Image, size=(640, 480)) -> Image.Image:
    scaled = image.copy()
    scaled.thumbnail(size)
    canvas = Image.new("RGB", size, (30, 30, 30))
    canvas.paste(scaled, ((size[0] - scaled.width) // 2, (size[1] - scaled.height) // 2))
    return canvas


def stored_as(frame: Image.Image, rotation: int = 0, mirror: bool = False) -> np.ndarray:
    """The pixels a phone stores for `frame` when its display matrix says: turn `rotation` degrees
    counter-clockwise (FFmpeg's sign: -90 for a phone held upright), then mirror left to right."""
    pixels = np.asarray(frame)
    pixels = pixels[:, ::-1] if mirror else pixels
    return np.ascontiguousarray(np.rot90(pixels, k=-(rotation // 90)))


def video(frames: list[Image.Image], fps: int = 10, codec: str = "libx264", container: str = "mp4",
          rotation: int = 0, mirror: bool = False) -> bytes:
    """An encoded clip: mp4 or mov with libx264 (H.264), webm with libvpx (VP8), 3gp with h263 (H.263).

    With `rotation` or `mirror` the frames are stored turned, as phones store them, with the display matrix
    that turns them back (a player shows `frames`)."""
    buffer = io.BytesIO()
    stored = [stored_as(frame, rotation, mirror) for frame in frames]
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.height, stream.width = stored[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if rotation or mirror:
            stream.set_display_rotation(rotation, hflip=mirror)
        for pixels in stored:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()
