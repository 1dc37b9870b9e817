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
from gateway.engine.pad import PadOptions, load_pad
from gateway.engine.types import Face, ImageAnalysis, ImageLimits, Point, QualityCheck
from gateway.engine.video import VideoLimits, decode_frames, select_frames

# Bumped whenever descriptors stop being comparable with stored ones.
ENCODER_VERSION = 1
CHIP_SIZE = 150
CHIP_PADDING = 0.25


@dataclass(frozen=True)
class EngineOptions:
    image_limits: ImageLimits = ImageLimits()
    quality_limits: quality.QualityLimits = quality.QualityLimits()
    detect_max_side: int = 1024  # images are scaled down to this for detection only
    small_face_max_side: int = 2048  # the same for ID photos (scans with a small face)
    video_limits: VideoLimits = VideoLimits()
    pad: PadOptions | None = None  # a presentation-attack-detection model, when the deployment has one


class FaceEngine:
    def __init__(self, options: EngineOptions = EngineOptions()) -> None:
        self.options = options
        self._detector = dlib.get_frontal_face_detector()
        self._shapes = dlib.shape_predictor(model_path(SHAPE_PREDICTOR_68))
        self._descriptor = dlib.face_recognition_model_v1(model_path(FACE_DESCRIPTOR))
        self._pad = load_pad(options.pad) if options.pad else None

    def analyze(self, data: bytes, want_descriptors: bool = True, want_texture: bool = False,
                small_faces: bool = False) -> ImageAnalysis:
        pixels, rotated = decode_image(data, self.options.image_limits)
        return self.analyze_pixels(pixels, rotated, want_descriptors, want_texture, small_faces)

    def analyze_video(self, data: bytes, want_texture: bool = False) -> list[tuple[int, ImageAnalysis]]:
        """The frames worth judging (video.select_frames), fully analysed."""
        frames = decode_frames(data, self.options.video_limits)
        located = [(n, pixels, self.analyze_pixels(pixels, want_descriptors=False)) for n, pixels in frames]
        return [(n, self.analyze_pixels(pixels, want_texture=want_texture))
                for n, pixels in select_frames(located, self.options.video_limits.frames_to_judge)]

    def analyze_pixels(self, pixels: np.ndarray, rotated: int = 0, want_descriptors: bool = True,
                       want_texture: bool = False, small_faces: bool = False) -> ImageAnalysis:
        height, width = pixels.shape[:2]
        max_side = self.options.small_face_max_side if small_faces else self.options.detect_max_side
        boxes = self._detect(pixels, max_side)
        image_checks = (
            QualityCheck("FaceFound", 1.0 if boxes else 0.0, "" if boxes else "no face found", bool(boxes)),
            QualityCheck("SingleFaceOnImage", 1.0 if len(boxes) == 1 else 0.0,
                         "" if len(boxes) <= 1 else f"{len(boxes)} faces found, one expected", len(boxes) == 1),
        )
        faces = tuple(self._face(pixels, box, want_descriptors and len(boxes) == 1, want_texture) for box in boxes)
        return ImageAnalysis(width, height, rotated, faces, image_checks)

    def describe_chip(self, png: bytes) -> np.ndarray:
        """The descriptor of a stored, already aligned face chip (template upgrades)."""
        return _unit(np.array(self._descriptor.compute_face_descriptor(decode_png(png)), np.float32))

    def _detect(self, pixels: np.ndarray, max_side: int) -> list[dlib.rectangle]:
        height, width = pixels.shape[:2]
        scale = min(1.0, max_side / max(height, width))
        small = pixels if scale == 1.0 else _resize(pixels, scale)
        # Upsampling finds small faces (ID photo scans) but costs 4x: only when needed.
        for upsample in (0, 1):
            found = self._detector(small, upsample)
            if len(found):
                break
        found = sorted(found, key=lambda r: (r.left(), r.top()))
        return [dlib.rectangle(int(r.left() / scale), int(r.top() / scale),
                               int(r.right() / scale), int(r.bottom() / scale)) for r in found]

    def _face(self, pixels: np.ndarray, box: dlib.rectangle, describe: bool, texture: bool) -> Face:
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
        texture_score = self._pad.score(pixels, bounds) if texture and self._pad else 0.0
        return Face(bounds, Point(*map(float, left_eye)), Point(*map(float, right_eye)), landmarks,
                    checks + ((features,) if describe or failed else ()), descriptor,
                    encode_png(chip) if descriptor is not None else b"", texture_score)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def _resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    height, width = pixels.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))
