"""Decision constants of encoder version 2 (YuNet + SFace), read from measured
scores of the calibration photos (bench/calibrate.py; figures in the README,
section Accuracy): 1,167 LFW photos of 400 people, 1,282 genuine and 678,629
impostor pairs. LFW celebrities may be in the network's training data, so the
rates are optimistic for strangers.
"""
from __future__ import annotations

import math

# The cosine at which a score is 0.5, the default verification threshold
# (BWS_VERIFY_THRESHOLD): at most 1% of the impostor pairs reach it.
VERIFY_COSINE = 0.36

# PhotoVerify: each level's false-acceptance rate, and the unit-vector distance
# (sqrt(2 - 2 cos)) that a pair must not exceed to reach it, read at that rate
# from the impostor pairs. Levels 1-4 are measured (at least 10 impostor pairs
# lie past each limit); level 5 (1e-5: about 7 pairs of 679,000) is an
# extrapolation of the impostor tail.
LEVEL_FAR = {1: 0.005, 2: 0.0025, 3: 0.001, 4: 0.0001, 5: 0.00001}
LEVEL_COSINE = {1: 0.40, 2: 0.42, 3: 0.46, 4: 0.53, 5: 0.60}
LEVEL_DISTANCE = {level: math.sqrt(2 - 2 * cosine) for level, cosine in LEVEL_COSINE.items()}
