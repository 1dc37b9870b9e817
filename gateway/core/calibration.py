"""The calibration of the face network in use, as the service logic reads it. The constants live beside the
network (gateway/engine/encoders/<network>.py), so they change with it and cannot go stale."""
from __future__ import annotations

from gateway.engine.encoders import CURRENT

ENCODER = CURRENT
VERIFY_COSINE = CURRENT.calibration.verify_cosine
LEVEL_FAR = CURRENT.calibration.level_far
LEVEL_COSINE = CURRENT.calibration.level_cosine
LEVEL_DISTANCE = CURRENT.calibration.level_distance
