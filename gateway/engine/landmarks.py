"""dlib's 68-point shape predictor, kept where 68 points are needed (head pose,
liveness parallax), seeded by a YuNet box.

The predictor was trained on boxes of dlib's HOG detector, which are square
and sit lower and tighter than YuNet's (no forehead): the YuNet box is mapped
to that shape with factors measured on the calibration photos (bench/).
"""
from __future__ import annotations

import dlib
import numpy as np

from gateway.engine.models import SHAPE_PREDICTOR_68, model_path

# dlib box from YuNet box (w, h its size): centre shift and side, as fractions of w and h.
BOX_SHIFT_X, BOX_SHIFT_Y, BOX_SIDE = 0.03, 0.06, 1.09


def dlib_box(box: tuple[int, int, int, int]) -> dlib.rectangle:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    cx, cy = (left + right) / 2 + BOX_SHIFT_X * w, (top + bottom) / 2 + BOX_SHIFT_Y * h
    half = BOX_SIDE * w / 2
    return dlib.rectangle(round(cx - half), round(cy - half), round(cx + half), round(cy + half))


class Landmarker:
    def __init__(self) -> None:
        self._predictor = dlib.shape_predictor(model_path(SHAPE_PREDICTOR_68))

    def landmarks(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """(68, 2) float32 iBUG 300-W points in image pixels."""
        shape = self._predictor(rgb, dlib_box(box))
        return np.array([(p.x, p.y) for p in shape.parts()], np.float32)
