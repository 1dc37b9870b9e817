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

A second model ships beside it (pad_models/suri_minifas/, Apache-2.0, trained
on CelebA-Spoof, see its NOTICE.md): a MiniFASNet V2-SE with its own
preprocessing, also reproduced exactly (`SuriMiniFas`):

* a square of side 1.5 x max(w, h) (w = right - left, h = bottom - top) about
  the box centre, corners truncated to int; the part outside the image filled
  by reflection (OpenCV's BORDER_REFLECT_101), never zeros;
* resized to 128x128 with OpenCV's INTER_AREA when shrinking, INTER_LANCZOS4
  when enlarging; RGB, pixel / 255, NCHW; softmax of two logits, index 0 live.

The models' live probabilities are fused (`Fused`, `FUSIONS`; chosen from
measurement, see bench/pad_fusion.py) and the fused probability is mapped so
that the deployment's threshold lands on 0.5: a face is live when its score
reaches 0.5, whichever models and threshold are configured.

A deployment can replace the models by one ONNX model of its own
(BWS_PAD_MODEL, `CustomPadModel`): a square crop of the box grown by
`crop_scale`, RGB, (pixel / 255 - mean) / std, its first output read as one
live probability (or logit) or one value per class (softmax, `live_index`).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from PIL import Image

MINIFASNET_DIR = Path(__file__).parent / "pad_models" / "minifasnet"
SURI_FILE = Path(__file__).parent / "pad_models" / "suri_minifas" / "suri_minifas_98.20.onnx"
SURI_SIZE = 128
SURI_CROP = 1.5
SURI_LIVE = 0
# (file, crop scale): the scale each checkpoint was trained with.
MINIFASNET = (("minifasnet_v2_2.7.onnx", 2.7), ("minifasnet_v1se_4.0.onnx", 4.0))
MINIFASNET_SIZE = 80
MINIFASNET_LIVE = 1
_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS
_COEF_SCALE = 1 << _COEF_BITS


# How the bundled models' live probabilities become one (bench/pad_fusion.py measures each).
FUSIONS: dict[str, Callable[[Sequence[float]], float]] = {
    "mean": lambda p: float(np.mean(p)),
    "min": lambda p: float(np.min(p)),
    "geometric": lambda p: float(np.exp(np.mean(np.log(np.clip(p, 1e-12, 1.0))))),
}
DEFAULT_MODELS = ("minifasnet", "suri")
DEFAULT_FUSION = "mean"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class PadOptions:
    """None as model_path: the bundled models (`models`, fused by `fusion`, live from `threshold`);
    else one custom ONNX model (live from `threshold` too)."""
    model_path: str | None = None
    input_size: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    live_index: int = 1
    crop_scale: float = 1.5
    models: tuple[str, ...] = DEFAULT_MODELS
    fusion: str = DEFAULT_FUSION
    threshold: float = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in BUNDLED]
        if unknown or not self.models:
            raise ValueError(f"passive liveness models: {', '.join(unknown) or 'none'} not among "
                             f"{', '.join(BUNDLED)}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"passive liveness fusion {self.fusion!r} not among {', '.join(FUSIONS)}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("the passive liveness threshold must lie strictly between 0 and 1")


class PadModel(Protocol):
    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """The live score in [0, 1] of the face in `box` (left, top, right, bottom, inclusive) of RGB pixels."""


def load_pad(options: PadOptions) -> PadModel:
    if options.model_path:
        return Thresholded(CustomPadModel(options), options.threshold)
    return Thresholded(Fused({name: BUNDLED[name]() for name in options.models}, options.fusion),
                       options.threshold)


def calibrated(probability: float, threshold: float) -> float:
    """The probability mapped piecewise linearly so that `threshold` becomes 0.5 (0 and 1 stay)."""
    if probability < threshold:
        return 0.5 * probability / threshold
    return 0.5 + 0.5 * (probability - threshold) / (1.0 - threshold)


class Fused:
    """The bundled models, each giving a live probability, fused into one."""

    def __init__(self, models: dict[str, PadModel], fusion: str) -> None:
        self.models = models
        self.fuse = FUSIONS[fusion]

    def probabilities(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> dict[str, float]:
        return {name: model.score(pixels, box) for name, model in self.models.items()}

    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        return self.fuse(list(self.probabilities(pixels, box).values()))


@dataclass(frozen=True)
class Thresholded:
    """A model's live probability, as a score that is live from 0.5 (`calibrated`)."""
    model: PadModel
    threshold: float

    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        return calibrated(self.model.score(pixels, box), self.threshold)


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


def suri_patch(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The 128x128 RGB uint8 input of the suri model, from RGB pixels and a (left, top, right, bottom) box."""
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    side = max(w, h, 1)
    cx, cy = left + w / 2, top + h / 2
    x0, y0, size = int(cx - 0.75 * side), int(cy - 0.75 * side), max(1, int(SURI_CROP * side))
    height, width = pixels.shape[:2]
    # A square wholly outside the image (never a detector's box) is moved to overlap it by a pixel.
    x0, y0 = min(max(x0, 1 - size), width - 1), min(max(y0, 1 - size), height - 1)
    inside = pixels[max(0, y0):min(height, y0 + size), max(0, x0):min(width, x0 + size)]
    crop = cv2.copyMakeBorder(inside, max(0, -y0), max(0, y0 + size - height), max(0, -x0),
                              max(0, x0 + size - width), cv2.BORDER_REFLECT_101)
    if size == SURI_SIZE:
        return crop
    interpolation = cv2.INTER_AREA if size > SURI_SIZE else cv2.INTER_LANCZOS4
    return cv2.resize(crop, (SURI_SIZE, SURI_SIZE), interpolation=interpolation)


class SuriMiniFas:
    """The second bundled model (pad_models/suri_minifas/): its live probability, on the engine's own box."""

    def __init__(self, path: Path = SURI_FILE) -> None:
        self.session = _session(str(path))

    def probabilities(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The softmax of the two outputs: index 0 live, 1 attack."""
        patch = suri_patch(pixels, box).astype(np.float32).transpose(2, 0, 1)[None] / np.float32(255.0)
        logits = np.asarray(self.session.run(None, {"input": patch})[0][0], np.float64)
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def score(self, pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
        return float(self.probabilities(pixels, box)[SURI_LIVE])


BUNDLED: dict[str, Callable[[], PadModel]] = {"minifasnet": MiniFasNet, "suri": SuriMiniFas}


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
