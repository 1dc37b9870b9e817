"""Test media made from the fixture photos: flat-photo attacks (synthetic
prints and screen replays: weak stand-ins for real ones) and videos."""
from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

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


def held_still(image: Image.Image, count: int = 12, jitter: int = 2, seed: int = 0) -> list[Image.Image]:
    """Frames of a face that hardly moves (a phone held in front of a still head): shifted by up to `jitter`
    pixels, with sensor noise."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        dx, dy = (int(v) for v in rng.integers(-jitter, jitter + 1, 2))
        moved = np.asarray(image.transform(image.size, Image.Transform.AFFINE, (1, 0, dx, 0, 1, dy)), np.float32)
        frames.append(Image.fromarray(np.clip(moved + rng.normal(0, 2, moved.shape), 0, 255).astype(np.uint8)))
    return frames


def stored_as(frame: Image.Image, rotation: int = 0, mirror: bool = False) -> np.ndarray:
    """The pixels a phone stores for `frame` when its display matrix says: turn `rotation` degrees
    counter-clockwise (FFmpeg's sign: -90 for a phone held upright), then mirror left to right."""
    pixels = np.asarray(frame)
    pixels = pixels[:, ::-1] if mirror else pixels
    return np.ascontiguousarray(np.rot90(pixels, k=-(rotation // 90)))


def video(frames: list[Image.Image], fps: int = 10, codec: str = "libx264", container: str = "mp4",
          rotation: int = 0, mirror: bool = False, display_matrix: tuple[int, ...] | None = None) -> bytes:
    """An encoded clip: mp4 or mov with libx264 (H.264), webm with libvpx (VP8), 3gp with h263 (H.263).

    With `rotation` or `mirror` the frames are stored turned, as phones store them, with the display matrix
    that turns them back (a player shows `frames`); `display_matrix` writes those nine numbers as they are."""
    buffer = io.BytesIO()
    stored = [stored_as(frame, rotation, mirror) for frame in frames]
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.height, stream.width = stored[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if rotation or mirror:
            stream.set_display_rotation(rotation, hflip=mirror)
        if display_matrix is not None:
            stream.set_display_matrix(list(display_matrix))
        for pixels in stored:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def _wall(size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]]
    base = 150 + 40 * np.sin(x / 97.0 + seed) * np.cos(y / 131.0) + rng.normal(0, 4, (size[1], size[0]))
    tint = np.array([1.0, 0.95, 0.85])
    return Image.fromarray(np.clip(base[..., None] * tint, 0, 255).astype(np.uint8))


def printed(image: Image.Image, seed: int) -> Image.Image:
    """A print held in front of the camera: paper margin, duller colours, tilted, on a wall."""
    paper = ImageEnhance.Color(ImageEnhance.Contrast(image).enhance(0.8)).enhance(0.8)
    paper = ImageOps.expand(paper, border=max(6, paper.width // 30), fill=(238, 236, 230))
    frame = _wall((640, 480), seed)
    paper.thumbnail((int(640 * 0.75), int(480 * 0.9)))
    paper = paper.rotate(4 + seed % 5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    mask = paper.convert("L").point(lambda v: 255 if v > 0 else 0)
    frame.paste(paper, ((640 - paper.width) // 2, (480 - paper.height) // 2), mask)
    return frame.filter(ImageFilter.GaussianBlur(0.6))


def screen(image: Image.Image, seed: int) -> Image.Image:
    """A phone/tablet screen replaying the photo, filmed: pixel grid, moire, raised blacks, glare, bezel."""
    shown = image.copy()
    shown.thumbnail((200, 200))
    pixels = np.asarray(shown.resize((shown.width * 3, shown.height * 3), Image.Resampling.NEAREST), np.float32)
    stripes = np.zeros_like(pixels)
    for channel in range(3):  # RGB subpixel columns
        stripes[:, channel::3, channel] = 1.0
    pixels = pixels * (0.35 + 0.65 * stripes) * 1.6
    pixels = 25 + pixels * (230 / 255) * np.array([0.95, 1.0, 1.08])  # backlight: raised blacks, blue cast
    h, w = pixels.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    glare = 60 * np.exp(-(((x - w * 0.7) / (w * 0.25)) ** 2 + ((y - h * 0.3) / (h * 0.3)) ** 2))
    pixels = np.clip(pixels + glare[..., None], 0, 255).astype(np.uint8)
    panel = ImageOps.expand(Image.fromarray(pixels), border=max(8, w // 20), fill=(12, 12, 14))
    frame = _wall((640, 480), seed + 7)
    panel.thumbnail((int(640 * 0.8), int(480 * 0.92)), Image.Resampling.BILINEAR)  # moire from resampling
    frame.paste(panel, ((640 - panel.width) // 2, (480 - panel.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(0.5))
