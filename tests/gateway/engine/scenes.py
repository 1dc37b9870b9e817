"""Test images made from real photos: one person's head scaled so that the face
is a given width, pasted on a plain (gently graded, grainy) background of a
given size, or cropped so that the face fills the frame; saved as JPEG,
upright or stored sideways with an EXIF orientation that turns it upright.
Used by the engine tests and by bench/detection_sizes.py."""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from tests.conftest import face

# The face box (YuNet's, in pixels of the photo) of the photos scenes are made from.
SOURCES = {"obama_1.jpg": (369, 91, 611, 421), "biden_2.jpg": (447, 280, 790, 707)}
FILL = 0  # face_width for a face that fills the frame: its box 90% of the image's height (or width)
BOX_HEIGHT = 1.36  # YuNet's face box: about this many times as high as wide
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Scene:
    face_width: int  # px, or FILL
    width: int
    height: int
    exif_rotated: bool = False  # stored turned by 90 degrees, with EXIF orientation 6
    source: str = "obama_1.jpg"

    @property
    def name(self) -> str:
        size = "fill" if self.face_width == FILL else f"{self.face_width}px"
        return f"{size}-{self.width}x{self.height}{'-exif' if self.exif_rotated else ''}"


@lru_cache(maxsize=4)
def _photo(name: str) -> Image.Image:
    return Image.open(io.BytesIO(face(name))).convert("RGB")


def head(source: str) -> tuple[Image.Image, int]:
    """The head and shoulders around the face (three face widths square), and the face's width in it."""
    left, top, right, bottom = SOURCES[source]
    width = right - left
    cx, cy = (left + right) // 2, (top + bottom) // 2
    photo = _photo(source)
    box = (max(0, cx - 3 * width // 2), max(0, cy - 3 * width // 2),
           min(photo.width, cx + 3 * width // 2), min(photo.height, cy + 3 * width // 2))
    return photo.crop(box), width


def background(width: int, height: int) -> Image.Image:
    rng = np.random.default_rng(width * 7919 + height)
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    base = 90 + 60 * x + 40 * y + np.array([10, 0, -10], np.float32)
    grain = rng.normal(0, 6, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8))


def render(scene: Scene) -> Image.Image:
    """The upright picture."""
    crop, width = head(scene.source)
    if scene.face_width == FILL:  # the face, centred, fills the frame
        scale = 0.9 * min(scene.height / BOX_HEIGHT, scene.width) / width
        big = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.Resampling.BICUBIC)
        left, top = (big.width - scene.width) // 2, (big.height - scene.height) // 2
        return big.crop((left, top, left + scene.width, top + scene.height))
    scale = scene.face_width / width
    small = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                        Image.Resampling.LANCZOS)
    canvas = background(scene.width, scene.height)
    canvas.paste(small, ((scene.width - small.width) // 2, (scene.height - small.height) // 2))
    return canvas


def jpeg(scene: Scene, quality: int = 90) -> bytes:
    picture = render(scene)
    exif = Image.Exif()
    if scene.exif_rotated:  # stored turned a quarter anticlockwise; orientation 6 turns it back clockwise
        picture = picture.transpose(Image.Transpose.ROTATE_90)
        exif[EXIF_ORIENTATION] = 6
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality, exif=exif)
    return buffer.getvalue()


# Faces from 20 px to filling the frame, in landscape and portrait pictures up to 4000 px.
SIZES = [Scene(20, 4000, 3000), Scene(20, 640, 480), Scene(48, 3000, 4000, exif_rotated=True),
         Scene(160, 4000, 3000), Scene(800, 2500, 1728), Scene(1500, 3000, 4000, exif_rotated=True),
         Scene(FILL, 4000, 3000), Scene(FILL, 1200, 1600, exif_rotated=True), Scene(FILL, 400, 400)]
