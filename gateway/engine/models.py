"""Locates the dlib model files that the face-recognition-models package ships.

Its __init__ imports pkg_resources (gone from recent setuptools), so the
package is found with importlib instead of being imported.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

SHAPE_PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"
FACE_DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "models"
    if not (path / FACE_DESCRIPTOR).is_file():
        raise RuntimeError(f"face models not found in {path}")
    return path


def model_path(name: str) -> str:
    return str(models_dir() / name)
