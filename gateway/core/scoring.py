"""Similarity scores in ]0, 1] from the distance between unit face descriptors.

    d^2   = |a - b|^2 = 2 - 2 cos(a, b)          (a, b unit vectors)
    score = 1 / (1 + (d / D0)^4),  D0 = sqrt(2 - 2 VERIFY_COSINE)

D0 is the distance at which the encoder separates identities, measured on the
calibration photos (gateway/core/calibration.py): a score of 0.5 sits at that
boundary, identical descriptors score 1, and scores fall towards 0 as faces
differ. Ranking by score is ranking by cosine similarity, which is what the
index computes.
"""
from __future__ import annotations

import math

import numpy as np

from gateway.core.calibration import VERIFY_COSINE

REFERENCE_DISTANCE = math.sqrt(2.0 - 2.0 * VERIFY_COSINE)


def score_from_cosine(cosine: float) -> float:
    squared = max(0.0, 2.0 - 2.0 * float(cosine))
    return 1.0 / (1.0 + (squared / REFERENCE_DISTANCE ** 2) ** 2)


def cosine_from_score(score: float) -> float:
    """The cosine at which a pair reaches `score` (for thresholds on the index)."""
    if score >= 1.0:
        return 1.0
    squared = REFERENCE_DISTANCE ** 2 * math.sqrt(1.0 / score - 1.0)
    return 1.0 - squared / 2.0


def score(a: np.ndarray, b: np.ndarray) -> float:
    return score_from_cosine(float(np.dot(a, b)))
