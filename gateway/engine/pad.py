"""Passive liveness (presentation-attack detection) on one face: did a camera
see a live face, or a print or a screen?

By default the MiniFASNet pair of the Silent-Face-Anti-Spoofing project ships
inside the package (pad_models/minifasnet/, Apache-2.0, see its NOTICE.md).
Its preprocessing is part of the model and is reproduced exactly here (checked
against the original project's outputs by tests/gateway/engine/test_pad.py):

* the face box as [x, y, w, h] with w = right - left + 1, h = bottom - top + 1
  (the engine's boxes are inclusive left, top, right, bottom);
* per model a scale (2.7 and 4.0), capped at min((H-1)/h, (W-1)/w); a crop of
  w*scale by h*scale about the box centre (aspect kept), shifted back inside the
  image when it leaves it, never padded; corners truncated to int; inclusive slice;
* a bilinear resize to 80x80 with OpenCV's fixed-point INTER_LINEAR arithmetic
  (bit-exact, without OpenCV), BGR, raw 0..255 as float32 NCHW;
* the two models' softmax outputs added: the live score is sum[live] / 2.

A deployment can replace the pair by one ONNX model of its own
(BWS_PAD_MODEL, `CustomPadModel`): a square crop of the box grown by
`crop_scale`, RGB, (pixel / 255 - mean) / std, its first output read as one
live probability (or logit) or one value per class (softmax, `live_index`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

MINIFASNET_DIR = Path(__file__).parent / "pad_models" / "minifasnet"
# (file, crop scale): the scale each checkpoint was trained with.
MINIFASNET = (("minifasnet_v2_2.7.onnx", 2.7), ("minifasnet_v1se_4.0.onnx", 4.0))
MINIFASNET_SIZE = 80
MINIFASNET_LIVE = 1
_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS
_COEF_SCALE = 1 << _COEF_BITS


@dataclass(frozen=True)
class PadOptions:
    """None as model_path: the bundled MiniFASNet pair; else one custom ONNX model."""
    model_path: str | None = None
    input_size: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    live_index: int = 1
    crop_scale: float = 1.5


class PadModel(Protocol):
    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """The live score in [0, 1] of the face in `box` (left, top, right, bottom, inclusive) of RGB pixels."""


def load_pad(options: PadOptions) -> PadModel:
    return CustomPadModel(options) if options.model_path else MiniFasNet()


def _session(path: str):
    import onnxruntime

    session_options = onnxruntime.SessionOptions()
    session_options.intra_op_num_threads = 1  # one worker process per core already
    return onnxruntime.InferenceSession(path, session_options, providers=["CPUExecutionProvider"])


# MiniFASNet was trained on crops about the original project's RetinaFace boxes, which are about square and sit
# lower than the engine's YuNet boxes (those reach up to the hairline). Measured on the model's four sample images:
# the RetinaFace box's side is the mean of YuNet's width and height (0.97 to 1.03 of it) and its centre lies 0.05
# to 0.08 of YuNet's height lower. Without this, one sample attack scored 0.55 (live) instead of 0.08.
REFERENCE_BOX_SHIFT = 0.07


def reference_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The box the model expects, from a YuNet box (left, top, right, bottom)."""
    left, top, right, bottom = box
    side = ((right - left) + (bottom - top)) / 2
    cx, cy = (left + right) / 2, (top + bottom) / 2 + REFERENCE_BOX_SHIFT * (bottom - top)
    return round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)


def box_xywh(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return left, top, right - left + 1, bottom - top + 1


def crop_corners(width: int, height: int, xywh: tuple[float, float, float, float],
                 scale: float) -> tuple[int, int, int, int]:
    """The inclusive (left, top, right, bottom) crop the model was trained on (see the module doc)."""
    x, y, w, h = xywh
    scale = min((height - 1) / h, min((width - 1) / w, scale))
    cx, cy = w / 2 + x, h / 2 + y
    left, top = cx - w * scale / 2, cy - h * scale / 2
    right, bottom = cx + w * scale / 2, cy + h * scale / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > width - 1:
        left -= right - width + 1
        right = width - 1
    if bottom > height - 1:
        top -= bottom - height + 1
        bottom = height - 1
    return int(left), int(top), int(right), int(bottom)


def _linear_taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OpenCV's INTER_LINEAR source indices and 11-bit weights for one axis."""
    position = ((np.arange(target) + 0.5) * (source / target) - 0.5).astype(np.float32)
    index = np.floor(position).astype(np.int64)
    fraction = (position - index.astype(np.float32)).astype(np.float32)
    low, high = index < 0, index >= source - 1
    fraction[low | high] = 0
    index[low] = 0
    index[high] = source - 1
    w1 = np.rint(fraction * np.float32(_COEF_SCALE)).astype(np.int64)
    w0 = np.rint((np.float32(1) - fraction) * np.float32(_COEF_SCALE)).astype(np.int64)
    return index, np.minimum(index + 1, source - 1), np.stack([w0, w1], axis=1)


def resize_linear(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """cv2.resize(pixels, (width, height), interpolation=INTER_LINEAR) for uint8 images, bit for bit."""
    x0, x1, wx = _linear_taps(pixels.shape[1], width)
    y0, y1, wy = _linear_taps(pixels.shape[0], height)

    def horizontal(rows: np.ndarray) -> np.ndarray:  # only the source rows that are used
        picked = pixels[rows]
        return (picked[:, x0].astype(np.int64) * wx[:, 0][None, :, None]
                + picked[:, x1].astype(np.int64) * wx[:, 1][None, :, None])

    b0, b1 = wy[:, 0][:, None, None], wy[:, 1][:, None, None]
    # OpenCV's vectorised vertical pass: 16-bit products, rounded in two steps.
    out = (((horizontal(y0) >> 4) * b0 >> 16) + ((horizontal(y1) >> 4) * b1 >> 16) + 2) >> 2
    return np.clip(out, 0, 255).astype(np.uint8)


def minifasnet_patch(pixels: np.ndarray, xywh: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """The 80x80 BGR uint8 input of one MiniFASNet model, from RGB pixels and an [x, y, w, h] box."""
    height, width = pixels.shape[:2]
    left, top, right, bottom = crop_corners(width, height, xywh, scale)
    region = pixels[top:bottom + 1, left:right + 1, ::-1]
    return resize_linear(region, MINIFASNET_SIZE, MINIFASNET_SIZE)


class MiniFasNet:
    def __init__(self, directory: Path = MINIFASNET_DIR) -> None:
        self.models = [(_session(str(directory / name)), scale) for name, scale in MINIFASNET]

    def probabilities(self, pixels: np.ndarray, xywh: tuple[float, float, float, float]) -> np.ndarray:
        """Each model's softmax output, (2, 3): class 1 is live."""
        out = []
        for session, scale in self.models:
            patch = minifasnet_patch(pixels, xywh, scale).astype(np.float32).transpose(2, 0, 1)[None]
            out.append(session.run(["probs"], {"input": patch})[0][0])
        return np.asarray(out, np.float64)

    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """The live score of the face in an engine (YuNet) box."""
        return float(self.probabilities(pixels, box_xywh(reference_box(box))).sum(axis=0)[MINIFASNET_LIVE] / 2)


class CustomPadModel:
    def __init__(self, options: PadOptions) -> None:
        assert options.model_path
        self.options = options
        self.session = _session(options.model_path)
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
