"""The face engine: YuNet detection (box and five points), alignment and SFace
descriptor, dlib's 68 landmarks for head pose and liveness, quality feedback;
one image at a time.

OpenCV and dlib run in worker processes (see pool.py) so that calls in flight
never wait on one another in the service's event loop.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gateway.engine import quality
from gateway.engine.encoders import CURRENT as ENCODER
from gateway.engine.detector import Detection, YuNetDetector
from gateway.engine.images import decode_image, decode_png
from gateway.engine.landmarks import Landmarker
from gateway.engine.pad import PadOptions, load_pad
from gateway.engine.types import Face, ImageAnalysis, ImageLimits, Point, QualityCheck
from gateway.engine.video import VideoLimits, decode_video, select_frames

ENCODER_VERSION = ENCODER.version
__all__ = ["ENCODER_VERSION", "EngineOptions", "FaceEngine"]

# The stored face chip: the aligned face with a margin around it, so that a
# later encoder can detect the face again on it (template upgrades).
CHIP_MARGIN = 24
# Border added around a stored chip before detecting the face on it again.
CHIP_BORDER = 0.25
# A face less than this fraction of the largest face's width is a bystander in
# the background: reported in SingleFaceOnImage's message, not analysed.
BACKGROUND_FACE = 0.5


@dataclass(frozen=True)
class EngineOptions:
    image_limits: ImageLimits = ImageLimits()
    quality_limits: quality.QualityLimits = quality.QualityLimits()
    detect_max_side: int = 640  # images are scaled down to this for detection only (YuNet finds faces down to ~10 px)
    small_face_max_side: int = 2048  # the same for ID photos (scans with a small face)
    video_limits: VideoLimits = VideoLimits()
    pad: PadOptions | None = None  # a presentation-attack-detection model, when the deployment has one


class FaceEngine:
    def __init__(self, options: EngineOptions = EngineOptions()) -> None:
        self.options = options
        # One engine per core (pool.py): OpenCV's own threads would only fight over the cores.
        cv2.setNumThreads(1)
        self._detector = YuNetDetector()
        self._landmarker = Landmarker()
        self._encoder = ENCODER.load()
        self._pad = load_pad(options.pad) if options.pad else None

    def analyze(self, data: bytes, want_descriptors: bool = True, want_texture: bool = False,
                small_faces: bool = False) -> ImageAnalysis:
        pixels, rotated = decode_image(data, self.options.image_limits)
        return self.analyze_pixels(pixels, rotated, want_descriptors, want_texture, small_faces)

    def analyze_video(self, data: bytes, want_texture: bool = False) -> list[tuple[int, ImageAnalysis]]:
        """The frames worth judging (video.select_frames), fully analysed."""
        frames, rotated = decode_video(data, self.options.video_limits)
        located = [(n, pixels, self.analyze_pixels(pixels, want_descriptors=False)) for n, pixels in frames]
        return [(n, self.analyze_pixels(pixels, rotated, want_texture=want_texture))
                for n, pixels in select_frames(located, self.options.video_limits.frames_to_judge)]

    def analyze_pixels(self, pixels: np.ndarray, rotated: int = 0, want_descriptors: bool = True,
                       want_texture: bool = False, small_faces: bool = False) -> ImageAnalysis:
        height, width = pixels.shape[:2]
        max_side = self.options.small_face_max_side if small_faces else self.options.detect_max_side
        found, background = _foreground(self._detector.detect(pixels, max_side))
        image_checks = (
            QualityCheck("FaceFound", 1.0 if found else 0.0, "" if found else "no face found", bool(found)),
            _single_face(len(found), background),
        )
        faces = tuple(self._face(pixels, d, want_descriptors and len(found) == 1, want_texture) for d in found)
        return ImageAnalysis(width, height, rotated, faces, image_checks)

    def describe_chip(self, png: bytes) -> np.ndarray | None:
        """The descriptor of a stored face chip (template upgrades), or None when
        no face is found on it again. The chip gets a border first: the detector
        needs some context around a face that fills the picture."""
        chip = decode_png(png)
        border = round(CHIP_BORDER * max(chip.shape[:2]))
        framed = cv2.copyMakeBorder(chip, border, border, border, border, cv2.BORDER_REPLICATE)
        found = self._detector.detect(framed, max(framed.shape[:2]))
        if not found:
            return None
        centre = np.array(framed.shape[1::-1], np.float32) / 2
        best = min(found, key=lambda d: float(np.linalg.norm(d.points.mean(axis=0) - centre)))
        return self._encoder.describe(ENCODER.align(framed, best.points))

    def _face(self, pixels: np.ndarray, found: Detection, describe: bool, texture: bool) -> Face:
        landmarks = self._landmarker.landmarks(pixels, found.box)
        right_eye, left_eye = found.points[0], found.points[1]  # image-left: the person's right eye
        aligned = ENCODER.align(pixels, found.points)
        height, width = pixels.shape[:2]
        checks, refusal = quality.assess(float(np.linalg.norm(left_eye - right_eye)), aligned.mean(axis=2),
                                         landmarks, found.box, width, height, self.options.quality_limits)
        descriptor = self._encoder.describe(aligned) if describe and refusal is None else None
        features = QualityCheck("FaceFeaturesAvailable", 1.0 if descriptor is not None else 0.0,
                                refusal or "", descriptor is not None)
        texture_score = self._pad.score(pixels, found.box) if texture and self._pad else 0.0
        thumbnail = _png(ENCODER.align(pixels, found.points, margin=CHIP_MARGIN)) if descriptor is not None else b""
        return Face(found.box, Point(*map(float, left_eye)), Point(*map(float, right_eye)), landmarks,
                    checks + ((features,) if describe or refusal else ()), descriptor, thumbnail, texture_score)


def _foreground(found: list[Detection]) -> tuple[list[Detection], int]:
    """The faces that are not bystanders far behind, and how many bystanders there are."""
    if not found:
        return found, 0
    largest = max(d.box[2] - d.box[0] for d in found)
    kept = [d for d in found if d.box[2] - d.box[0] >= BACKGROUND_FACE * largest]
    return kept, len(found) - len(kept)


def _single_face(faces: int, background: int) -> QualityCheck:
    if faces > 1:
        return QualityCheck("SingleFaceOnImage", 0.0, f"{faces} faces found, one expected", False)
    if background:
        return QualityCheck("SingleFaceOnImage", 0.8, f"{background} smaller face(s) in the background ignored")
    return QualityCheck("SingleFaceOnImage", 1.0 if faces == 1 else 0.0, "", faces == 1)


def _png(rgb: np.ndarray) -> bytes:
    """PNG bytes at a fast compression level (the store may re-encode thumbnails)."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()
