"""Similarity scores in ]0, 1] from the distance between unit face descriptors.

    d^2   = |a - b|^2 = 2 - 2 cos(a, b)          (a, b unit vectors)
    score = 1 / (1 + (d / D0)^4),  D0 = sqrt(2 - 2 VERIFY_COSINE)

D0 is the distance at which the encoder separates identities, measured on the
calibration photos (engine/encoders/<network>.py): a score of 0.5 sits at that
boundary, identical descriptors score 1, and scores fall towards 0 as faces
differ. Ranking by score is ranking by cosine similarity, which is what the
index computes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gateway.core.calibration import VERIFY_COSINE
from gateway.engine import EncoderSpec


@dataclass(frozen=True)
class Scorer:
    """Scores of one encoder's descriptors, from its calibrated cosine."""
    verify_cosine: float

    @classmethod
    def of(cls, encoder: EncoderSpec) -> "Scorer":
        return cls(encoder.calibration.verify_cosine)

    @property
    def reference_distance(self) -> float:
        return math.sqrt(2.0 - 2.0 * self.verify_cosine)

    def score_from_cosine(self, cosine: float) -> float:
        squared = max(0.0, 2.0 - 2.0 * float(cosine))
        return 1.0 / (1.0 + (squared / self.reference_distance ** 2) ** 2)

    def cosine_from_score(self, score: float) -> float:
        """The cosine at which a pair reaches `score` (for thresholds on the index)."""
        if score >= 1.0:
            return 1.0
        squared = self.reference_distance ** 2 * math.sqrt(1.0 / score - 1.0)
        return 1.0 - squared / 2.0

    def score(self, a: np.ndarray, b: np.ndarray) -> float:
        return self.score_from_cosine(float(np.dot(a, b)))


# The encoder in use.
DEFAULT = Scorer(VERIFY_COSINE)
REFERENCE_DISTANCE = DEFAULT.reference_distance
score_from_cosine = DEFAULT.score_from_cosine
cosine_from_score = DEFAULT.cosine_from_score
score = DEFAULT.score
