"""The previous engine's detector and face network (dlib HOG + 68 landmarks +
ResNet, encoder version 1), kept for bench/ comparisons only: the service no
longer uses them. The ResNet weights come from face-recognition-models."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import dlib
import numpy as np

from gateway.engine.models import SHAPE_PREDICTOR_68, model_path

RESNET = "dlib_face_recognition_resnet_model_v1.dat"


def _resnet_path() -> str:
    spec = importlib.util.find_spec("face_recognition_models")
    assert spec is not None and spec.submodule_search_locations, "face-recognition-models is not installed"
    return str(Path(next(iter(spec.submodule_search_locations))) / "models" / RESNET)


class DlibReference:
    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(model_path(SHAPE_PREDICTOR_68))
        self.resnet = dlib.face_recognition_model_v1(_resnet_path())

    def detect(self, rgb: np.ndarray) -> list:
        """As the old engine did: no upsampling first, once upsampled when nothing is found."""
        for upsample in (0, 1):
            found = self.detector(rgb, upsample)
            if len(found):
                return list(found)
        return []

    def describe(self, rgb: np.ndarray, box) -> np.ndarray:
        chip = dlib.get_face_chip(rgb, self.shapes(rgb, box), size=150, padding=0.25)
        vector = np.array(self.resnet.compute_face_descriptor(chip), np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def analyze(self, rgb: np.ndarray) -> np.ndarray | None:
        """The descriptor of a single-face image, else None."""
        found = self.detect(rgb)
        return self.describe(rgb, found[0]) if len(found) == 1 else None
