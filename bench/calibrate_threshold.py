"""Scores of every pair of single-face fixture photos: the same-identity and
different-identity score ranges, and the false matches / false non-matches at
the configured threshold.

    python bench/calibrate_threshold.py [--threshold 0.5] [--faces DIR]
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import scoring  # noqa: E402
from gateway.engine import FaceEngine  # noqa: E402
from gateway.liveness import LEVEL_DISTANCE, LEVEL_FAR  # noqa: E402

FACES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "faces"


def identity(name: str) -> str:
    return name.rsplit("_", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--faces", type=Path, default=FACES)
    args = parser.parse_args()
    engine = FaceEngine()
    descriptors = {}
    for path in sorted(args.faces.iterdir()):
        if path.suffix.lower() in (".jpg", ".png") and "rgba" not in path.name:
            face = engine.analyze(path.read_bytes()).face
            if face is not None:
                descriptors[path.name] = face.descriptor
    same, different = [], []
    for (a, va), (b, vb) in itertools.combinations(descriptors.items(), 2):
        (same if identity(a) == identity(b) else different).append((scoring.score(va, vb), a, b))
    false_non_matches = [p for p in same if p[0] < args.threshold]
    false_matches = [p for p in different if p[0] >= args.threshold]
    print(f"{len(descriptors)} photos, {len(same)} same-identity pairs, {len(different)} different-identity pairs")
    print(f"same identity: scores {min(same)[0]:.3f} .. {max(same)[0]:.3f}")
    print(f"different identities: scores {min(different)[0]:.3f} .. {max(different)[0]:.3f} "
          f"(highest: {max(different)[1]} / {max(different)[2]})")
    print(f"threshold {args.threshold}: {len(false_matches)} false matches of {len(different)}, "
          f"{len(false_non_matches)} false non-matches of {len(same)}")

    # PhotoVerify levels: a normal fit of the impostor distances, read at each FAR.
    distances = [float(np.linalg.norm(descriptors[a] - descriptors[b])) for _, a, b in different]
    fit = statistics.NormalDist.from_samples(distances)
    print(f"impostor unit-vector distances: mean {fit.mean:.4f}, sd {fit.stdev:.4f} (n={len(distances)})")
    print(f"{'level':8} {'FAR':>8} {'distance (fit)':>15} {'in code':>8} {'score':>6} {'impostors past it':>18}")
    for level, far in LEVEL_FAR.items():
        limit = fit.inv_cdf(far)
        passed = sum(d <= LEVEL_DISTANCE[level] for d in distances)
        print(f"{level.name:8} {far:>8.5%} {limit:>15.4f} {LEVEL_DISTANCE[level]:>8.4f} "
              f"{scoring.score_from_cosine(1 - LEVEL_DISTANCE[level] ** 2 / 2):>6.3f} {passed:>10} of {len(distances)}")


if __name__ == "__main__":
    main()
