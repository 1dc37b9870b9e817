"""Contrast normalisation for old or poor photos (faded, grey, low contrast,
dark): on the whole image before detecting faces again (CLAHE on the
lightness), and on an aligned face before describing it (its grey levels
stretched to those of an ordinary face). Measured in bench/service_accuracy.py
(degraded; README)."""
from __future__ import annotations

import cv2
import numpy as np

# Of an aligned 112x112 face: the standard deviation of the grey levels of its middle half below which the face is
# stretched before it is described. Calibration photos: median 36, none below 10 (1 of 1,167 below 14, and stretching
# it cost two genuine pairs); their low-contrast copies: median 7, dark and low in contrast 4.
LOW_CONTRAST = 10.0
TARGET_MEAN, TARGET_DEVIATION = 120.0, 55.0


def normalise_contrast(rgb: np.ndarray) -> np.ndarray:
    """Local contrast normalised on the lightness (CLAHE), colours kept."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def face_contrast(aligned_rgb: np.ndarray) -> float:
    h, w = aligned_rgb.shape[:2]
    return float(aligned_rgb[h // 4:3 * h // 4, w // 4:3 * w // 4].mean(axis=2).std())


def for_description(aligned_rgb: np.ndarray) -> np.ndarray:
    """The aligned face as the network should see it: stretched when its contrast is low, else unchanged."""
    deviation = face_contrast(aligned_rgb)
    if deviation >= LOW_CONTRAST:
        return aligned_rgb
    pixels = aligned_rgb.astype(np.float32)
    stretched = (pixels - pixels.mean()) / max(deviation, 1.0) * TARGET_DEVIATION + TARGET_MEAN
    return np.clip(stretched, 0, 255).astype(np.uint8)
