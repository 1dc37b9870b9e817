"""gateway/core/calibration.py reads the calibration of the network in use, which lives beside it."""
from __future__ import annotations

from gateway.core import calibration
from gateway.engine import ENCODER, ENCODER_VERSION
from gateway.engine.encoders import sface


def test_the_constants_are_the_current_networks():
    assert calibration.ENCODER is ENCODER and ENCODER.version == ENCODER_VERSION
    assert calibration.VERIFY_COSINE == ENCODER.calibration.verify_cosine
    assert calibration.LEVEL_FAR == ENCODER.calibration.level_far


def test_sface_measured_values():
    """The figures of bench/calibrate.py (docs/engine.md, Scores): a change here is a recalibration."""
    assert ENCODER is sface.SPEC and sface.SPEC.version == 2 and sface.SPEC.size == 128
    assert sface.CALIBRATION.verify_cosine == 0.36
    assert sface.CALIBRATION.level_cosine == {1: 0.315, 2: 0.336, 3: 0.361, 4: 0.422, 5: 0.475}


def test_stricter_levels_need_closer_faces():
    levels = sorted(calibration.LEVEL_DISTANCE)
    distances = [calibration.LEVEL_DISTANCE[level] for level in levels]
    rates = [calibration.LEVEL_FAR[level] for level in levels]
    assert distances == sorted(distances, reverse=True) and rates == sorted(rates, reverse=True)
