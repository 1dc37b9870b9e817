"""The engine's small typed vocabulary: what goes in (image bytes), what comes out."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class InvalidImage(ValueError):
    """The bytes are not an image the service accepts; the message says why."""


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    formats: tuple[str, ...] = ("JPEG", "PNG", "BMP", "WEBP")
    max_jpeg_scans: int = 100  # jpeg.py: ten times the scans of a progressive photo


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class QualityCheck:
    check: str
    score: float  # 0..1, higher is better
    message: str = ""
    passed: bool = True


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    left_eye: Point  # the person's left eye (right side of the picture)
    right_eye: Point
    landmarks: np.ndarray  # (68, 2) float32, image pixels
    checks: tuple[QualityCheck, ...]
    descriptor: np.ndarray | None = None  # (128,) float32 unit vector, when features are available
    thumbnail_png: bytes = b""  # the aligned face chip
    texture_score: float = 0.0  # passive liveness, 0 when not computed

    @property
    def usable(self) -> bool:
        return self.descriptor is not None


@dataclass(frozen=True)
class ImageAnalysis:
    width: int
    height: int
    rotated: int  # degrees, from the EXIF orientation
    faces: tuple[Face, ...]
    checks: tuple[QualityCheck, ...] = field(default=())  # image-level checks
    uncounted: int = 0  # faces of an ambiguous image found but not analysed (beyond its most central ones)

    @property
    def all_checks(self) -> tuple[QualityCheck, ...]:
        face_checks = self.faces[0].checks if len(self.faces) == 1 else ()
        return self.checks + face_checks

    @property
    def quality_score(self) -> float:
        return min((c.score for c in self.all_checks), default=0.0)

    @property
    def face(self) -> Face | None:
        """The one usable face of a single-face image, else None."""
        return self.faces[0] if len(self.faces) == 1 and self.faces[0].usable else None
