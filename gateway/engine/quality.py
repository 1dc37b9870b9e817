"""Quality checks of one detected face: feedback for the user, with scores.

Each check scores 0..1 (higher is better) and fails (`passed` False, with a
message) below the level a good enrollment photo reaches. Failing a check does
not make the face unusable: the network embeds every face it can use. Only
below the hard minimums of `QualityLimits` (measured on the calibration set,
see bench/calibrate.py and docs/engine.md) is a face refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.engine.types import QualityCheck

# 68-point landmark indices (iBUG 300-W): outer eye corners and nose tip.
_RIGHT_EYE_OUTER, _LEFT_EYE_OUTER, _NOSE_TIP = 36, 45, 30


@dataclass(frozen=True)
class QualityLimits:
    # Feedback: below these a photo is worse than a good enrollment photo.
    min_eye_distance: float = 24.0  # pixels between the eye centres
    good_eye_distance: float = 60.0
    min_brightness: float = 40.0  # mean grey level of the face, 0..255
    good_brightness: float = 80.0
    max_brightness: float = 235.0
    min_sharpness: float = 12.0  # variance of the Laplacian of the aligned 112x112 face
    good_sharpness: float = 60.0
    max_yaw: float = 0.55  # 0 frontal, 1 profile (nose at an eye corner)
    # Refusals: below these the network's false non-match rate at the default
    # threshold rises far above that of good photos (measured, docs/engine.md).
    usable_eye_distance: float = 8.0  # under it (7 px) FNMR 63%; at 8 px 19%, at 10 px 8%, good photos 1.5%
    usable_sharpness: float = 1.0  # about a blur of 0.13 eye distances: FNMR 70-90%; at 1.5, 39%
    usable_brightness: float = 8.0


def _ratio(value: float, good: float) -> float:
    return float(max(0.0, min(1.0, value / good)))


def face_size(eye_distance: float, limits: QualityLimits) -> QualityCheck:
    ok = eye_distance >= limits.min_eye_distance
    return QualityCheck("FaceSize", _ratio(eye_distance, limits.good_eye_distance),
                        "" if ok else f"face too small: eyes {eye_distance:.0f} px apart, "
                                      f"{limits.min_eye_distance:.0f} px or more recommended", ok)


def _face_brightness(chip_grey: np.ndarray) -> float:
    h, w = chip_grey.shape
    return float(chip_grey[h // 4:3 * h // 4, w // 4:3 * w // 4].mean())


def brightness(chip_grey: np.ndarray, limits: QualityLimits) -> QualityCheck:
    mean = _face_brightness(chip_grey)
    if mean < limits.min_brightness:
        return QualityCheck("Brightness", _ratio(mean, limits.good_brightness),
                            f"face too dark: mean brightness {mean:.0f} of 255", False)
    if mean > limits.max_brightness:
        return QualityCheck("Brightness", _ratio(255 - mean, 255 - limits.max_brightness) * 0.5,
                            f"face overexposed: mean brightness {mean:.0f} of 255", False)
    return QualityCheck("Brightness", _ratio(mean, limits.good_brightness))


def laplacian_variance(chip_grey: np.ndarray) -> float:
    g = chip_grey.astype(np.float32)
    laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
    return float(laplacian.var())


def sharpness(chip_grey: np.ndarray, limits: QualityLimits) -> QualityCheck:
    variance = laplacian_variance(chip_grey)
    ok = variance >= limits.min_sharpness
    return QualityCheck("Sharpness", _ratio(variance, limits.good_sharpness),
                        "" if ok else f"face too blurry: sharpness {variance:.1f}, "
                                      f"{limits.min_sharpness:.0f} or more recommended", ok)


def head_pose(landmarks: np.ndarray, limits: QualityLimits) -> QualityCheck:
    x_right, x_left, x_nose = landmarks[_RIGHT_EYE_OUTER, 0], landmarks[_LEFT_EYE_OUTER, 0], landmarks[_NOSE_TIP, 0]
    span = max(abs(x_left - x_right), 1e-6)
    yaw = float(min(1.0, abs((x_nose - x_right) / span - 0.5) * 2))
    ok = yaw <= limits.max_yaw
    return QualityCheck("HeadPose", 1.0 - yaw, "" if ok else "head turned too far: look straight at the camera", ok)


def inside_image(box: tuple[int, int, int, int], width: int, height: int) -> QualityCheck:
    left, top, right, bottom = box
    area = max(1, (right - left) * (bottom - top))
    visible = max(0, min(right, width) - max(left, 0)) * max(0, min(bottom, height) - max(top, 0))
    score = visible / area
    return QualityCheck("FaceInsideImage", float(score),
                        "" if score >= 0.999 else "face is cut by the image border")


def refusal(eye_distance: float, chip_grey: np.ndarray, limits: QualityLimits) -> str | None:
    """Why the network cannot use this face, or None when it can."""
    if eye_distance < limits.usable_eye_distance:
        return (f"face too small to recognise: eyes {eye_distance:.0f} px apart, "
                f"at least {limits.usable_eye_distance:.0f} px needed")
    if _face_brightness(chip_grey) < limits.usable_brightness:
        return "face too dark to recognise"
    # Checked after brightness: darkness lowers contrast, hence this measure, too.
    if laplacian_variance(chip_grey) < limits.usable_sharpness:
        return "face too blurry to recognise"
    return None


def assess(eye_distance: float, chip_grey: np.ndarray, landmarks: np.ndarray, box: tuple[int, int, int, int],
           width: int, height: int, limits: QualityLimits) -> tuple[tuple[QualityCheck, ...], str | None]:
    """The feedback checks of a face, and why it must be refused (None: usable)."""
    # The detector's box stops at the border; the landmarks of a cut face run past it.
    extent = (min(box[0], int(landmarks[:, 0].min())), min(box[1], int(landmarks[:, 1].min())),
              max(box[2], int(landmarks[:, 0].max())), max(box[3], int(landmarks[:, 1].max())))
    checks = (face_size(eye_distance, limits), brightness(chip_grey, limits), sharpness(chip_grey, limits),
              head_pose(landmarks, limits), inside_image(extent, width, height))
    return checks, refusal(eye_distance, chip_grey, limits)
