"""Passive (texture) liveness with a presentation-attack-detection model the
deployment provides as an ONNX file (no such model ships on the registries).

The model gets the face crop (the detected box grown by `crop_scale`, square),
resized to `input_size` x `input_size`, RGB, as float32 NCHW
(1, 3, size, size) with (pixel / 255 - mean) / std per channel. Its first
output is read as either one value (a probability of a live face, or a logit,
squashed with the logistic function when outside [0, 1]) or one value per class
(softmax over them; `live_index` is the live class).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class PadOptions:
    model_path: str
    input_size: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    live_index: int = 1
    crop_scale: float = 1.5


class PadModel:
    def __init__(self, options: PadOptions) -> None:
        import onnxruntime

        self.options = options
        self.session = onnxruntime.InferenceSession(options.model_path, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def crop(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        left, top, right, bottom = box
        cx, cy = (left + right) / 2, (top + bottom) / 2
        half = max(right - left, bottom - top) * self.options.crop_scale / 2
        region = Image.fromarray(pixels).crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))
        size = self.options.input_size
        array = np.asarray(region.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255.0
        array = (array - np.array(self.options.mean, np.float32)) / np.array(self.options.std, np.float32)
        return array.transpose(2, 0, 1)[None]

    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        output = np.asarray(self.session.run(None, {self.input_name: self.crop(pixels, box)})[0], np.float64)
        values = output.reshape(-1)
        if values.size == 1:
            value = float(values[0])
            return value if 0.0 <= value <= 1.0 else 1.0 / (1.0 + np.exp(-value))
        exp = np.exp(values - values.max())
        return float(exp[self.options.live_index] / exp.sum())
