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

from gateway.engine import contrast, finding, quality
from gateway.engine.choice import MODES, Choice, choose
from gateway.engine.detector import Detection
from gateway.engine.encoders import CURRENT as ENCODER
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


@dataclass(frozen=True)
class EngineOptions:
    image_limits: ImageLimits = ImageLimits()
    quality_limits: quality.QualityLimits = quality.QualityLimits()
    detect_max_side: int = 640  # the first detection pass scales images to this (finding.py: then more passes)
    # ID photos: faces narrower than this at the first pass are detected again at full resolution (a scanned page)
    small_face_width: int = 64
    multiple_faces: str = "refuse"  # choice.py: "refuse" ambiguous images (BWS's rule), or use their "primary" face
    video_limits: VideoLimits = VideoLimits()
    pad: PadOptions | None = None  # a presentation-attack-detection model, when the deployment has one


class FaceEngine:
    def __init__(self, options: EngineOptions = EngineOptions()) -> None:
        self.options = options
        # One engine per core (pool.py): OpenCV's own threads would only fight over the cores.
        cv2.setNumThreads(1)
        if options.multiple_faces not in MODES:
            raise ValueError(f"multiple_faces must be one of {', '.join(MODES)}")
        self._finder = finding.FaceFinder()
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
        found = self._finder.find(pixels, self.options.detect_max_side,
                                  self.options.small_face_width if small_faces else finding.TINY)
        choice = choose(found.faces, width, height, self.options.multiple_faces)
        image_checks = (
            QualityCheck("FaceFound", 1.0 if found.faces else 0.0,
                         found.recovered if found.faces else "no face found", bool(found.faces)),
            _single_face(choice),
        )
        describe = want_descriptors and choice.primary is not None
        # A face found on the contrast-normalised copy is analysed there, its passive liveness on the image.
        faces = tuple(self._face(found.pixels, d, describe, want_texture, pixels) for d in choice.counted)
        return ImageAnalysis(width, height, rotated, faces, image_checks, choice.uncounted)

    def describe_chip(self, png: bytes) -> np.ndarray | None:
        """The descriptor of a stored face chip (template upgrades), or None when
        no face is found on it again. The chip gets a border first: the detector
        needs some context around a face that fills the picture."""
        chip = decode_png(png)
        border = round(CHIP_BORDER * max(chip.shape[:2]))
        framed = cv2.copyMakeBorder(chip, border, border, border, border, cv2.BORDER_REPLICATE)
        found = self._finder.find(framed, max(framed.shape[:2]))
        best = choose(found.faces, framed.shape[1], framed.shape[0], "primary").primary
        if best is None:
            return None
        return self._encoder.describe(contrast.for_description(ENCODER.align(found.pixels, best.points)))

    def _face(self, pixels: np.ndarray, found: Detection, describe: bool, texture: bool,
              original: np.ndarray) -> Face:
        landmarks = self._landmarker.landmarks(pixels, found.box)
        right_eye, left_eye = found.points[0], found.points[1]  # image-left: the person's right eye
        aligned = ENCODER.align(pixels, found.points)
        height, width = pixels.shape[:2]
        checks, refusal = quality.assess(float(np.linalg.norm(left_eye - right_eye)), aligned.mean(axis=2),
                                         landmarks, found.box, width, height, self.options.quality_limits)
        descriptor = self._encoder.describe(contrast.for_description(aligned)) if describe and refusal is None \
            else None
        features = QualityCheck("FaceFeaturesAvailable", 1.0 if descriptor is not None else 0.0,
                                refusal or "", descriptor is not None)
        texture_score = self._pad.score(original, found.box) if texture and self._pad else 0.0
        thumbnail = _png(ENCODER.align(pixels, found.points, margin=CHIP_MARGIN)) if descriptor is not None else b""
        return Face(found.box, Point(*map(float, left_eye)), Point(*map(float, right_eye)), landmarks,
                    checks + ((features,) if describe or refusal else ()), descriptor, thumbnail, texture_score)


def _single_face(choice: Choice) -> QualityCheck:
    faces = len(choice.counted)
    if faces > 1:
        found = faces + choice.uncounted
        described = f" ({faces} most central described)" if choice.uncounted else ""
        return QualityCheck("SingleFaceOnImage", 0.0, f"{found} faces found{described}, one expected: similar in "
                                                      "size and none a bystander (MultipleFacesFound)", False)
    ignored = []
    if choice.bystanders:
        ignored.append(f"{choice.bystanders} bystander face(s) (smaller, off centre or cut by the border) ignored")
    if choice.ambiguous:
        ignored.append(f"{choice.ambiguous} other face(s) of similar size ignored: the most central face is used")
    if ignored:
        return QualityCheck("SingleFaceOnImage", 0.8 if not choice.ambiguous else 0.5, "; ".join(ignored))
    return QualityCheck("SingleFaceOnImage", 1.0 if faces == 1 else 0.0, "", faces == 1)


def _png(rgb: np.ndarray) -> bytes:
    """PNG bytes at a fast compression level (the store may re-encode thumbnails)."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()
