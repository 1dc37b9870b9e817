"""What the service knows of a face network: its version (stored with every template: descriptors of different
versions are not comparable), its descriptor size, how it aligns and describes a face, and its calibration,
measured on the calibration photos (bench/calibrate.py) for this network and no other."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np


class Encoder(Protocol):
    def describe(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """The unit descriptor of an aligned face."""


@dataclass(frozen=True)
class Calibration:
    verify_cosine: float  # the cosine at which a score is 0.5, the default verification threshold
    level_far: dict[int, float]  # PhotoVerify: each level's false-acceptance rate...
    level_cosine: dict[int, float]  # ...and the cosine a pair must reach for it
    level_distance: dict[int, float] = field(init=False)  # the same as unit-vector distances, sqrt(2 - 2 cos)

    def __post_init__(self) -> None:
        if sorted(self.level_far) != sorted(self.level_cosine):
            raise ValueError("every PhotoVerify level needs a false-acceptance rate and a cosine")
        object.__setattr__(self, "level_distance", {level: math.sqrt(2 - 2 * cosine)
                                                    for level, cosine in self.level_cosine.items()})


@dataclass(frozen=True)
class EncoderSpec:
    name: str
    version: int
    size: int  # descriptor length
    calibration: Calibration
    load: Callable[[], Encoder]  # in each engine worker
    align: Callable[..., np.ndarray]  # (rgb, five points, size=input size, margin=0) -> the aligned face
