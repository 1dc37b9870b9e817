"""The face network: SFace (OpenCV Zoo, Apache-2.0) run by OpenCV's DNN module.

A face is aligned onto SFace's 112x112 template by the similarity transform
that maps its five detected points onto the standard ArcFace/SFace reference
points, then turned into a unit 128-d descriptor. The encoder owns
ENCODER_VERSION: descriptors of different versions are not comparable.
"""
from __future__ import annotations

import cv2
import numpy as np

from gateway.engine.models import SFACE, model_path

# Bumped whenever descriptors stop being comparable with stored ones (1 was dlib's ResNet).
ENCODER_VERSION = 2
INPUT_SIZE = 112
# Where the five points (right eye, left eye, nose tip, right and left mouth corner) sit in the 112x112 input.
REFERENCE_POINTS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def similarity_transform(points: np.ndarray, size: int, margin: int = 0) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, shift) mapping five
    points onto the reference, scaled to a `size` face placed `margin` pixels in."""
    target = REFERENCE_POINTS * (size / INPUT_SIZE) + margin
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(points, np.float32), target, method=cv2.LMEDS)
    if matrix is None:  # degenerate points: least squares on all five
        matrix, _ = cv2.estimateAffinePartial2D(np.asarray(points, np.float32), target, method=0)
    return matrix


def align(rgb: np.ndarray, points: np.ndarray, size: int = INPUT_SIZE, margin: int = 0) -> np.ndarray:
    """The face warped onto the template: (size + 2 * margin) square RGB pixels."""
    side = size + 2 * margin
    return cv2.warpAffine(rgb, similarity_transform(points, size, margin), (side, side),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class SFaceEncoder:
    version = ENCODER_VERSION

    def __init__(self) -> None:
        self._net = cv2.dnn.readNetFromONNX(model_path(SFACE))

    def describe(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The unit descriptor of a 112x112 aligned RGB face (SFace takes RGB, 0..255)."""
        blob = cv2.dnn.blobFromImage(aligned_rgb, 1.0, (INPUT_SIZE, INPUT_SIZE), (0, 0, 0), swapRB=False)
        self._net.setInput(blob, "data")
        vector = self._net.forward().reshape(-1).astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
