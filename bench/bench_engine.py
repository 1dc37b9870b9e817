"""The engine against the previous one (dlib HOG + ResNet), in one run on the
same photos: face detection, face embedding (alignment and network) and
whole-image analysis (decoding to descriptor), per image, one core.

    python bench/bench_engine.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dlib_reference import DlibReference  # noqa: E402

from gateway.engine import FaceEngine  # noqa: E402
from gateway.engine.encoders.sface import align  # noqa: E402
from gateway.engine.images import decode_image  # noqa: E402
from tests.conftest import face  # noqa: E402

IMAGES = ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg", "biden_2.jpg", "kit_harington_1.jpg",
          "kit_harington_2.jpg", "rose_leslie_1.jpg", "rose_leslie_2.jpg", "alex_lacamoire_1.png",
          "alex_lacamoire_2.jpg", "lin_manuel_miranda_1.png"]
MAX_SIDE = 1024  # both engines detect on images scaled down to this


def per_image_ms(run: Callable[[int], object], count: int, rounds: int) -> float:
    """Median over rounds of the mean time per image, in ms."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(count):
            run(i)
        samples.append((time.perf_counter() - started) / count * 1000)
    return statistics.median(samples)


def scaled(pixels: np.ndarray) -> np.ndarray:
    from PIL import Image

    scale = min(1.0, MAX_SIDE / max(pixels.shape[:2]))
    if scale == 1.0:
        return pixels
    size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data = [face(n) for n in IMAGES]
    pixels = [scaled(decode_image(d)[0]) for d in data]
    dlib_engine, engine = DlibReference(), FaceEngine()
    dlib_boxes = [dlib_engine.detect(p)[0] for p in pixels]
    found = [engine._finder.find(p, MAX_SIDE).faces[0] for p in pixels]
    n, rounds = len(data), args.rounds

    def dlib_whole(i: int) -> None:
        dlib_engine.analyze(scaled(decode_image(data[i])[0]))

    rows = [
        ("face detection", per_image_ms(lambda i: dlib_engine.detect(pixels[i]), n, rounds),
         per_image_ms(lambda i: engine._finder.find(pixels[i], MAX_SIDE), n, rounds)),
        ("face embedding", per_image_ms(lambda i: dlib_engine.describe(pixels[i], dlib_boxes[i]), n, rounds),
         per_image_ms(lambda i: engine._encoder.describe(align(pixels[i], found[i].points)), n, rounds)),
        ("whole-image analysis", per_image_ms(dlib_whole, n, rounds),
         per_image_ms(lambda i: engine.analyze(data[i]), n, rounds)),
    ]
    print(f"{n} photos ({', '.join(f'{p.shape[1]}x{p.shape[0]}' for p in pixels[:3])}, ...), "
          f"median of {rounds} rounds, ms per image, one process")
    print(f"{'':22} {'dlib HOG+ResNet':>16} {'YuNet+SFace':>12} {'ratio':>6}")
    for label, old, new in rows:
        print(f"{label:22} {old:>16.1f} {new:>12.1f} {new / old:>6.2f}")
    print("(whole-image analysis of the current engine includes dlib's 68 landmarks, quality checks and the "
          "stored chip; the previous engine's here is decoding, detection and descriptor only)")


if __name__ == "__main__":
    main()
