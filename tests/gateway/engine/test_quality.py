"""The refusal minimums of quality.py on synthetic aligned faces."""
import numpy as np

from gateway.engine import QualityLimits
from gateway.engine.quality import refusal

LIMITS = QualityLimits()
TEXTURED = np.random.default_rng(3).integers(60, 200, (112, 112)).astype(np.float32)


def test_a_usable_face_is_not_refused():
    assert refusal(40.0, TEXTURED, LIMITS) is None


def test_each_minimum_refuses_with_its_reason():
    assert "too small to recognise" in refusal(LIMITS.usable_eye_distance - 1, TEXTURED, LIMITS)
    assert refusal(40.0, np.full((112, 112), 128.0), LIMITS) == "face too blurry to recognise"
    assert refusal(40.0, TEXTURED * 0.02, LIMITS) == "face too dark to recognise"
