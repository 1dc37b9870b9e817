"""The face network: SFace (OpenCV Zoo, Apache-2.0) run by OpenCV's DNN module.

A face is aligned onto SFace's 112x112 template by the similarity transform
that maps its five detected points onto the standard ArcFace/SFace reference
points, then turned into a unit 128-d descriptor. Version 2 of the encoders
(1 was dlib's ResNet): descriptors of different versions are not comparable.

Its calibration (CALIBRATION, below) was read from measured scores of the
calibration photos (bench/calibrate.py; figures in docs/engine.md, section Scores):
1,167 LFW photos of 400 people, 1,282 genuine and 679,079 impostor pairs. LFW
celebrities may be in the network's training data, so the rates are optimistic
for strangers.
"""
from __future__ import annotations

import cv2
import numpy as np

from gateway.engine.encoders.spec import Calibration, EncoderSpec
from gateway.engine.models import SFACE, model_path

# Bumped whenever descriptors stop being comparable with stored ones (1 was dlib's ResNet).
ENCODER_VERSION = 2
INPUT_SIZE = 112
# Where the five points (right eye, left eye, nose tip, right and left mouth corner) sit in the 112x112 input.
REFERENCE_POINTS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def similarity_transform(points: np.ndarray, size: int, margin: int = 0) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, shift) mapping five
    points onto the reference, scaled to a `size` face placed `margin` pixels in."""
    target = REFERENCE_POINTS * (size / INPUT_SIZE) + margin
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(points, np.float32), target, method=cv2.LMEDS)
    if matrix is None:  # degenerate points: least squares on all five
        matrix, _ = cv2.estimateAffinePartial2D(np.asarray(points, np.float32), target, method=0)
    return matrix


def align(rgb: np.ndarray, points: np.ndarray, size: int = INPUT_SIZE, margin: int = 0) -> np.ndarray:
    """The face warped onto the template: (size + 2 * margin) square RGB pixels."""
    side = size + 2 * margin
    return cv2.warpAffine(rgb, similarity_transform(points, size, margin), (side, side),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class SFaceEncoder:
    version = ENCODER_VERSION

    def __init__(self) -> None:
        self._net = cv2.dnn.readNetFromONNX(model_path(SFACE))

    def describe(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The unit descriptor of a 112x112 aligned RGB face (SFace takes RGB, 0..255)."""
        blob = cv2.dnn.blobFromImage(aligned_rgb, 1.0, (INPUT_SIZE, INPUT_SIZE), (0, 0, 0), swapRB=False)
        self._net.setInput(blob, "data")
        vector = self._net.forward().reshape(-1).astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


CALIBRATION = Calibration(
    # The cosine at which a score is 0.5, the default verification threshold
    # (BWS_VERIFY_THRESHOLD). Measured: FMR 0.105% (710 of 679,079 impostor pairs),
    # FNMR 1.40%. The 1% FMR point (cosine 0.293) would lower the FNMR to 0.70%
    # only; the tenfold margin is kept because hard impostors (relatives, people
    # of one ethnicity) and strangers match more often than LFW celebrities.
    verify_cosine=0.36,
    # PhotoVerify: each level's false-acceptance rate, and the cosine a pair must
    # reach for it, read at that rate from the impostor pairs (rounded up). Levels
    # 1-4 are measured (68 to 3,395 impostor pairs lie past each limit); level 5
    # (1e-5: about 7 pairs of 679,079) is an extrapolation: an exponential fit of
    # the impostor tail (top 0.1%).
    level_far={1: 0.005, 2: 0.0025, 3: 0.001, 4: 0.0001, 5: 0.00001},
    level_cosine={1: 0.315, 2: 0.336, 3: 0.361, 4: 0.422, 5: 0.475},
)

SPEC = EncoderSpec(name="SFace", version=ENCODER_VERSION, size=128, calibration=CALIBRATION, load=SFaceEncoder,
                   align=align)
