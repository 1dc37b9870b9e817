import numpy as np
import pytest

from gateway.core import calibration, scoring


def test_scores_lie_in_the_half_open_unit_interval_and_fall_with_distance():
    cosines = np.linspace(-1, 1, 201)
    scores = [scoring.score_from_cosine(c) for c in cosines]
    assert all(0 < s <= 1 for s in scores)
    assert scores == sorted(scores) and scores[-1] == 1.0


def test_threshold_half_sits_at_the_reference_distance():
    cosine = 1 - scoring.REFERENCE_DISTANCE ** 2 / 2
    assert scoring.score_from_cosine(cosine) == pytest.approx(0.5)


@pytest.mark.parametrize("score", [0.05, 0.3, 0.5, 0.8, 0.99])
def test_cosine_from_score_inverts(score):
    assert scoring.score_from_cosine(scoring.cosine_from_score(score)) == pytest.approx(score)


def test_the_default_threshold_is_the_calibrated_cosine():
    assert scoring.cosine_from_score(0.5) == pytest.approx(calibration.VERIFY_COSINE)


def test_stricter_photoverify_levels_need_closer_faces():
    far = [calibration.LEVEL_FAR[level] for level in sorted(calibration.LEVEL_FAR)]
    distance = [calibration.LEVEL_DISTANCE[level] for level in sorted(calibration.LEVEL_DISTANCE)]
    assert far == sorted(far, reverse=True) and distance == sorted(distance, reverse=True)
    assert all(0 < d < 2 for d in distance)


def test_a_scorer_follows_its_encoders_calibration():
    from gateway.engine import ENCODER

    assert scoring.Scorer.of(ENCODER) == scoring.DEFAULT
    other = scoring.Scorer(0.5)
    assert other.score_from_cosine(0.5) == pytest.approx(0.5) and other.cosine_from_score(0.5) == pytest.approx(0.5)
