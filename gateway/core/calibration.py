"""Decision constants of encoder version 2 (YuNet + SFace), read from measured
scores of the calibration photos (bench/calibrate.py; figures in the README,
section Accuracy): 1,167 LFW photos of 400 people, 1,282 genuine and 679,079
impostor pairs. LFW celebrities may be in the network's training data, so the
rates are optimistic for strangers.
"""
from __future__ import annotations

import math

# The cosine at which a score is 0.5, the default verification threshold
# (BWS_VERIFY_THRESHOLD). Measured: FMR 0.105% (710 of 679,079 impostor pairs),
# FNMR 1.40%. The 1% FMR point (cosine 0.293) would lower the FNMR to 0.70%
# only; the tenfold margin is kept because hard impostors (relatives, people
# of one ethnicity) and strangers match more often than LFW celebrities.
VERIFY_COSINE = 0.36

# PhotoVerify: each level's false-acceptance rate, and the unit-vector distance
# (sqrt(2 - 2 cos)) that a pair must not exceed to reach it, read at that rate
# from the impostor pairs (rounded up). Levels 1-4 are measured (68 to 3,395
# impostor pairs lie past each limit); level 5 (1e-5: about 7 pairs of 679,079)
# is an extrapolation: an exponential fit of the impostor tail (top 0.1%).
LEVEL_FAR = {1: 0.005, 2: 0.0025, 3: 0.001, 4: 0.0001, 5: 0.00001}
LEVEL_COSINE = {1: 0.315, 2: 0.336, 3: 0.361, 4: 0.422, 5: 0.475}
LEVEL_DISTANCE = {level: math.sqrt(2 - 2 * cosine) for level, cosine in LEVEL_COSINE.items()}
