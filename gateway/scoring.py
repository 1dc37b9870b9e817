"""Similarity scores in ]0, 1] from the distance between unit face descriptors.

    d^2   = |a - b|^2 = 2 - 2 cos(a, b)          (a, b unit vectors)
    score = 1 / (1 + (d / D0)^4),  D0 = 0.42

D0 is the distance at which dlib's descriptor separates identities: dlib's
recommended threshold of 0.6 on raw descriptors (whose norms are about 1.41)
is 0.42 on unit vectors. So a score of 0.5 sits at that boundary, identical
descriptors score 1, and scores fall towards 0 as faces differ. Ranking by
score is ranking by cosine similarity, which is what the index computes.
"""
from __future__ import annotations

import math

import numpy as np

REFERENCE_DISTANCE = 0.42


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
