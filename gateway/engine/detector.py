"""Face detection with YuNet (OpenCV Zoo) run by OpenCV's FaceDetectorYN:
boxes and five points (eyes, nose tip, mouth corners) per face."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gateway.engine.models import YUNET, model_path


@dataclass(frozen=True)
class Detection:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    points: np.ndarray  # (5, 2) float32: right eye, left eye (the person's), nose tip, right and left mouth corner
    confidence: float


class YuNetDetector:
    def __init__(self, min_confidence: float = 0.8, nms_threshold: float = 0.3) -> None:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # OpenCV 5 warns of unused DNN targets
        self._net = cv2.FaceDetectorYN.create(model_path(YUNET), "", (320, 320), min_confidence, nms_threshold, 5000)

    def detect(self, rgb: np.ndarray, max_side: int) -> list[Detection]:
        """The faces of an RGB image, left to right; the image is scaled down
        to `max_side` for detection only."""
        height, width = rgb.shape[:2]
        scale = min(1.0, max_side / max(height, width))
        if scale < 1.0:  # scaled before the colour swap: the big image is read once
            rgb = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_LINEAR)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._net.detect(bgr)
        found = []
        for row in (rows if rows is not None else ()):
            x, y, w, h = (float(v) / scale for v in row[:4])
            if w < 2 or h < 2:
                continue
            found.append(Detection((round(x), round(y), round(x + w), round(y + h)),
                                   (row[4:14].reshape(5, 2) / scale).astype(np.float32), float(row[14])))
        return sorted(found, key=lambda d: (d.box[0], d.box[1]))
