"""The face engine: HOG face detection, 68-point landmarks, alignment to a
150x150 face chip and dlib's ResNet face descriptor, on one image at a time.

dlib holds the GIL, so this runs in worker processes (see pool.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import dlib
import numpy as np

from gateway.engine import quality
from gateway.engine.images import decode_image, decode_png, encode_png
from gateway.engine.models import FACE_DESCRIPTOR, SHAPE_PREDICTOR_68, model_path
from gateway.engine.types import Face, ImageAnalysis, ImageLimits, Point, QualityCheck

# Bumped whenever descriptors stop being comparable with stored ones.
ENCODER_VERSION = 1
CHIP_SIZE = 150
CHIP_PADDING = 0.25


@dataclass(frozen=True)
class EngineOptions:
    image_limits: ImageLimits = ImageLimits()
    quality_limits: quality.QualityLimits = quality.QualityLimits()
    detect_max_side: int = 1024  # images are scaled down to this for detection only


class FaceEngine:
    def __init__(self, options: EngineOptions = EngineOptions()) -> None:
        self.options = options
        self._detector = dlib.get_frontal_face_detector()
        self._shapes = dlib.shape_predictor(model_path(SHAPE_PREDICTOR_68))
        self._descriptor = dlib.face_recognition_model_v1(model_path(FACE_DESCRIPTOR))

    def analyze(self, data: bytes, want_descriptors: bool = True) -> ImageAnalysis:
        pixels, rotated = decode_image(data, self.options.image_limits)
        height, width = pixels.shape[:2]
        boxes = self._detect(pixels)
        image_checks = (
            QualityCheck("FaceFound", 1.0 if boxes else 0.0, "" if boxes else "no face found", bool(boxes)),
            QualityCheck("SingleFaceOnImage", 1.0 if len(boxes) == 1 else 0.0,
                         "" if len(boxes) <= 1 else f"{len(boxes)} faces found, one expected", len(boxes) == 1),
        )
        faces = tuple(self._face(pixels, box, want_descriptors and len(boxes) == 1) for box in boxes)
        return ImageAnalysis(width, height, rotated, faces, image_checks)

    def describe_chip(self, png: bytes) -> np.ndarray:
        """The descriptor of a stored, already aligned face chip (template upgrades)."""
        return _unit(np.array(self._descriptor.compute_face_descriptor(decode_png(png)), np.float32))

    def _detect(self, pixels: np.ndarray) -> list[dlib.rectangle]:
        height, width = pixels.shape[:2]
        scale = min(1.0, self.options.detect_max_side / max(height, width))
        small = pixels if scale == 1.0 else _resize(pixels, scale)
        # Upsampling finds small faces (ID photo scans) but costs 4x: only when needed.
        for upsample in (0, 1):
            found = self._detector(small, upsample)
            if len(found):
                break
        found = sorted(found, key=lambda r: (r.left(), r.top()))
        return [dlib.rectangle(int(r.left() / scale), int(r.top() / scale),
                               int(r.right() / scale), int(r.bottom() / scale)) for r in found]

    def _face(self, pixels: np.ndarray, box: dlib.rectangle, describe: bool) -> Face:
        shape = self._shapes(pixels, box)
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], np.float32)
        right_eye = landmarks[36:42].mean(axis=0)  # image-left: the person's right eye
        left_eye = landmarks[42:48].mean(axis=0)
        chip = dlib.get_face_chip(pixels, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        grey = chip.mean(axis=2)
        limits = self.options.quality_limits
        height, width = pixels.shape[:2]
        bounds = (box.left(), box.top(), box.right(), box.bottom())
        checks = (
            quality.face_size(float(np.linalg.norm(left_eye - right_eye)), limits),
            quality.brightness(grey, limits),
            quality.sharpness(grey, limits),
            quality.head_pose(landmarks, limits),
            quality.inside_image(bounds, width, height),
        )
        failed = [c for c in checks if not c.passed]
        descriptor = None
        if describe and not failed:
            descriptor = _unit(np.array(self._descriptor.compute_face_descriptor(chip), np.float32))
        features = QualityCheck("FaceFeaturesAvailable", 1.0 if descriptor is not None else 0.0,
                                "" if descriptor is not None or not failed else failed[0].message,
                                descriptor is not None)
        return Face(bounds, Point(*map(float, left_eye)), Point(*map(float, right_eye)), landmarks,
                    checks + ((features,) if describe or failed else ()), descriptor,
                    encode_png(chip) if descriptor is not None else b"")


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    height, width = pixels.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))
