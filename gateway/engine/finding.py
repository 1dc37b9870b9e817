"""Finding every face of an image, from about 20 px wide to filling the frame.

YuNet finds faces of about 14 to 500 px at the size it is run on, and misses
faces that fill its input. One pass on the image scaled to 640 px covers the
faces of an ordinary photo at little cost. Only when it finds no face, or
only tiny ones, do more passes run:

- coarse: the image framed by a border and scaled to 320 px, for faces that
  fill the frame (a close portrait, a face cut to its chip);
- when that finds no face either: each tiny face again, at full resolution
  in a window around it (when the first pass had scaled the image down); or,
  when there was none, the whole image at 2048 px and, if still nothing, at
  full resolution in overlapping tiles (bounded memory); a small image at
  twice its size (faces found there are reported as too small).

Their faces are merged: a face found by several passes is kept once, from
the finest pass that found it confidently. When still no face is found, what recovers faces
on old or poor photos without inventing them: the same passes on a
contrast-normalised copy (CLAHE on the lightness), then a single large
candidate below the usual confidence. bench/detection_sizes.py measures
sizes and costs, bench/service_accuracy.py the effect on the calibration set.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from gateway.engine.choice import off_centre
from gateway.engine.contrast import normalise_contrast
from gateway.engine.detector import Detection, YuNetDetector

CONFIDENT = 0.8  # a face; below, a candidate for recovery only
CANDIDATE = 0.5  # the lowest confidence a single large candidate may have
LARGE_CANDIDATE = 0.2  # of the image's shorter side: the least width of such a candidate
TINY = 20  # px at the first pass's scale: narrower faces are detected again (their points are rough)
WINDOW = 6  # face widths: the side of the window a small face is detected again in
MIN_WINDOW = 160
# Small faces detected again in windows, the most central first: at most this many windows, and no more window
# pixels than the image's own (after the first window). A picture of hundreds of small faces otherwise had a
# window each: 400 faces of a 40 MP picture took 28 s of detection. The others keep their first-pass points.
MAX_WINDOWS = 8
COARSE_SIDE = 320
COARSE_BORDER = 0.25  # of the image's longer side, added on each side for the coarse pass
MIDDLE_SIDE = 2048  # the fine pass of a larger image: first at this size, then in tiles
TILE = 1024  # fine pass tiles, at full resolution
TILE_OVERLAP = 256  # the largest face a tile boundary can cut; the first pass finds faces this big
FLAT, FLAT_STEP = 2.0, 8  # a tile whose sampled pixels (every 8th) vary less than this is skipped
UPSCALE_BELOW = 640  # images smaller than this get the fine pass at twice their size
SAME_FACE_IOU = 0.3
MAX_CANDIDATES = 1000  # detections merged per image; tiles stop once they found this many faces (a crowd)


@dataclass(frozen=True)
class Found:
    faces: list[Detection]  # confident faces, left to right
    pixels: np.ndarray  # the pixels they were found on: the image, or its contrast-normalised copy
    recovered: str = ""  # how a face was recovered when the ordinary passes found none ("" when they did)


class FaceFinder:
    def __init__(self, detector: YuNetDetector | None = None) -> None:
        self._detector = detector or YuNetDetector(min_confidence=CANDIDATE)

    def find(self, rgb: np.ndarray, first_side: int = 640, tiny: int = TINY) -> Found:
        """The faces of an RGB image. `first_side`: the side the first pass scales
        the image to; `tiny`: faces narrower than this there are detected again
        at full resolution (ID photos ask more than TINY: their points matter)."""
        candidates = self.passes(rgb, first_side, tiny)
        faces = _confident(candidates)
        if faces:
            return Found(faces, rgb)
        # A large image is normalised at MIDDLE_SIDE (bounded memory) and its face analysed on the image itself.
        factor = min(1.0, MIDDLE_SIDE / max(rgb.shape[:2]))
        normalised = normalise_contrast(rgb if factor == 1.0 else cv2.resize(
            rgb, (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor)), interpolation=cv2.INTER_AREA))
        faces = [_scaled(d, 1 / factor) for d in _confident(self.passes(normalised, first_side, tiny, tiles=False))]
        if faces:
            return Found(faces, normalised if factor == 1.0 else rgb, "face found after contrast normalisation")
        large = [d for d in candidates if d.box[2] - d.box[0] >= LARGE_CANDIDATE * min(rgb.shape[:2])]
        if len(large) == 1:
            return Found(large, rgb, f"one large face candidate of confidence {large[0].confidence:.2f}")
        return Found([], rgb)

    def passes(self, rgb: np.ndarray, first_side: int, tiny: int, tiles: bool = True) -> list[Detection]:
        """Every candidate of the passes the image needs, duplicates merged."""
        found = self._detector.detect(rgb, first_side)
        scale = min(1.0, first_side / max(rgb.shape[:2]))
        small = _confident(found)
        if any((d.box[2] - d.box[0]) * scale >= tiny for d in small):
            return found
        coarse = self.coarse(rgb)
        finer: list[Detection] = []
        # At full resolution already there is nothing finer (upscaling overstates small faces' eye distances).
        # The coarse pass may find the first pass's small faces again (no larger face): they are still refined.
        larger = [d for d in _confident(coarse) if all(iou(d.box, s.box) <= SAME_FACE_IOU for s in small)]
        if not larger and not (small and scale == 1.0):
            finer = self.around(rgb, small) if small else self.fine(rgb, first_side) if tiles else []
        return merge(finer, found, coarse)

    def coarse(self, rgb: np.ndarray) -> list[Detection]:
        # Scaled before it is framed (to twice the pass's size, which the detector then halves): framing a 40 MP
        # image first made a 103 MP copy (310 MB) for a 320 px pass.
        factor = min(1.0, 2 * COARSE_SIDE / ((1 + 2 * COARSE_BORDER) * max(rgb.shape[:2])))
        small = rgb if factor == 1.0 else cv2.resize(rgb, (max(1, round(rgb.shape[1] * factor)), max(1, round(
            rgb.shape[0] * factor))), interpolation=cv2.INTER_LINEAR)  # as the detector scales
        border = round(COARSE_BORDER * max(small.shape[:2]))
        framed = cv2.copyMakeBorder(small, border, border, border, border, cv2.BORDER_REPLICATE)
        return [_scaled(_shifted(d, -border, -border), 1 / factor)
                for d in self._detector.detect(framed, COARSE_SIDE)]

    def around(self, rgb: np.ndarray, faces: list[Detection]) -> list[Detection]:
        """The faces detected again at full resolution, each in a window around it (the most central first,
        within MAX_WINDOWS and the image's pixels)."""
        height, width = rgb.shape[:2]
        found: list[Detection] = []
        budget = height * width
        for face in sorted(faces, key=lambda d: off_centre(d, width, height))[:MAX_WINDOWS]:
            side = max(WINDOW * (face.box[2] - face.box[0]), MIN_WINDOW)
            cx, cy = (face.box[0] + face.box[2]) // 2, (face.box[1] + face.box[3]) // 2
            left, top = max(0, cx - side // 2), max(0, cy - side // 2)
            window = rgb[top:min(height, top + side), left:min(width, left + side)]
            if budget < height * width and window.shape[0] * window.shape[1] > budget:
                break
            budget -= window.shape[0] * window.shape[1]
            # At most TILE px: a face of an ID photo under 64 px at the first pass can be 700 px wide in a 40 MP
            # picture, its window 4,200 px (1.9 GB at the detector); at TILE its face is still 170 px wide.
            found += [_shifted(d, left, top) for d in self._detector.detect(window, min(TILE, max(window.shape[:2])))]
        return found

    def fine(self, rgb: np.ndarray, first_side: int) -> list[Detection]:
        height, width = rgb.shape[:2]
        if max(height, width) < UPSCALE_BELOW:  # faces under ~14 px: found, to be reported as too small
            big = cv2.resize(rgb, (width * 2, height * 2), interpolation=cv2.INTER_CUBIC)
            return [_scaled(d, 0.5) for d in self._detector.detect(big, 2 * max(height, width))]
        if max(height, width) <= first_side:  # the first pass already ran at full resolution
            return []
        if max(height, width) > MIDDLE_SIDE:  # one pass at 2048 px first: it finds faces down to ~30 px of 4000
            found = self._detector.detect(rgb, MIDDLE_SIDE)
            if _confident(found):
                return found
        found = []
        for top, left in tiles(height, width):
            tile = rgb[top:top + TILE, left:left + TILE]
            if float(tile[::FLAT_STEP, ::FLAT_STEP].std()) < FLAT:  # one colour: no face in it (blank bombs)
                continue
            found += [_shifted(d, left, top) for d in self._detector.detect(tile, TILE)]
            if len(_confident(found)) >= MAX_CANDIDATES:  # a crowd: enough faces to decide, the rest unseen
                break
        return found


def tiles(height: int, width: int) -> Iterator[tuple[int, int]]:
    """Top-left corners of TILE-sized tiles covering the image, overlapping by at least TILE_OVERLAP."""
    def starts(length: int) -> list[int]:
        if length <= TILE:
            return [0]
        count = -(-(length - TILE_OVERLAP) // (TILE - TILE_OVERLAP))
        return [round(i * (length - TILE) / (count - 1)) for i in range(count)] if count > 1 else [0]
    for top in starts(height):
        for left in starts(width):
            yield top, left


def merge(*passes: list[Detection]) -> list[Detection]:
    """One detection per face: of overlapping ones (IoU above SAME_FACE_IOU), a confident one from the finest pass
    (passes are given finest first: their points are the most precise), else the most confident. At most
    MAX_CANDIDATES are merged, the best-ranked (thousands of faces in tiles took tens of seconds, pair by pair)."""
    ranked = sorted(((d.confidence < CONFIDENT, rank, -d.confidence, d) for rank, found in enumerate(passes)
                     for d in found), key=lambda item: item[:3])[:MAX_CANDIDATES]
    boxes = np.array([item[3].box for item in ranked], np.float64).reshape(-1, 4)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    for i, box in enumerate(boxes):
        if kept:
            other = boxes[kept]
            width = np.clip(np.minimum(other[:, 2], box[2]) - np.maximum(other[:, 0], box[0]), 0, None)
            height = np.clip(np.minimum(other[:, 3], box[3]) - np.maximum(other[:, 1], box[1]), 0, None)
            inter = width * height
            union = areas[kept] + areas[i] - inter
            if np.any(np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0) > SAME_FACE_IOU):
                continue
        kept.append(i)
    return sorted((ranked[i][3] for i in kept), key=lambda d: (d.box[0], d.box[1]))


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _confident(found: list[Detection]) -> list[Detection]:
    return [d for d in found if d.confidence >= CONFIDENT]


def _shifted(d: Detection, dx: int, dy: int) -> Detection:
    box = (d.box[0] + dx, d.box[1] + dy, d.box[2] + dx, d.box[3] + dy)
    return replace(d, box=box, points=d.points + np.array([dx, dy], np.float32))


def _scaled(d: Detection, factor: float) -> Detection:
    return replace(d, box=tuple(round(v * factor) for v in d.box), points=d.points * np.float32(factor))
