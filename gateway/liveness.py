"""Liveness detection and PhotoVerify as the service performs them (domain
types only; transports translate).

* One image: passive (texture) liveness, only with a PAD model configured.
* Two or more: active liveness from the motion between consecutive images
  (engine/liveness.py), plus passive on each image when a PAD model is there.
* A direction tag ("up", "down", "left", "right") on image i asks that the
  head moved that way between images i-1 and i (challenge-response).
* PhotoVerify: the live images against an ID photo, with a level by FAR.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from gateway import calibration, scoring
from gateway.analysis import analyze_images
from gateway.config import Settings
from gateway.engine import EnginePool, ImageAnalysis, InvalidImage
from gateway.engine import liveness as motion_math
from gateway.engine.liveness import Motion
from gateway.errors import InvalidArgument, Unimplemented
from gateway.recognition import JobError, mean_descriptor, no_usable_face_error

# A call is live when its liveness_score (motion, and texture when a PAD model runs) reaches this.
LIVE_SCORE = 0.5
PASSIVE_UNAVAILABLE = ("passive (texture) liveness needs a presentation-attack-detection model, and this "
                       "deployment has none (BWS_PAD_MODEL): send two or more images for active liveness")


class AccuracyLevel(IntEnum):
    NOT_RECOGNIZED = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4
    LEVEL_5 = 5


# Measured on the calibration photos: gateway/calibration.py.
LEVEL_FAR = {AccuracyLevel(n): far for n, far in calibration.LEVEL_FAR.items()}
LEVEL_DISTANCE = {AccuracyLevel(n): limit for n, limit in calibration.LEVEL_DISTANCE.items()}


def verification_level(distance: float) -> AccuracyLevel:
    passed = [level for level, limit in LEVEL_DISTANCE.items() if distance <= limit]
    return max(passed, default=AccuracyLevel.NOT_RECOGNIZED)


@dataclass(frozen=True)
class LiveImage:
    data: bytes
    tags: tuple[str, ...] = ()


@dataclass
class LivenessOutcome:
    analyses: list[ImageAnalysis]
    live: bool = False
    score: float = 0.0
    motions: list[Motion | None] = field(default_factory=list)  # per image, from the previous one
    frame_numbers: list[int] = field(default_factory=list)
    errors: list[JobError] = field(default_factory=list)


@dataclass
class PhotoVerifyOutcome:
    liveness: LivenessOutcome
    photo: ImageAnalysis
    level: AccuracyLevel
    score: float
    errors: list[JobError] = field(default_factory=list)


def challenge_of(image: LiveImage) -> str | None:
    tags = [t.lower() for t in image.tags if t.lower() in motion_math.DIRECTIONS]
    return tags[0] if tags else None


class Liveness:
    def __init__(self, settings: Settings, engine: EnginePool) -> None:
        self.settings = settings
        self.engine = engine

    async def analyze(self, images: list[LiveImage], field_name: str) -> list[ImageAnalysis]:
        return await analyze_images(self.engine, self.settings, [i.data for i in images], field_name,
                                    want_texture=self.engine.has_texture_liveness)

    async def detect(self, images: list[LiveImage]) -> LivenessOutcome:
        if not images:
            raise InvalidArgument("at least one live image is needed")
        analyses = await self.analyze(images, "live_images")  # bad input is reported first
        if len(images) == 1 and not self.engine.has_texture_liveness:
            raise Unimplemented(PASSIVE_UNAVAILABLE)
        return self.judge(analyses, [challenge_of(i) for i in images])

    async def detect_video(self, video: bytes) -> LivenessOutcome:
        try:
            frames = await self.engine.analyze_video(video, self.engine.has_texture_liveness)
        except InvalidImage as exc:
            raise InvalidArgument(f"video: {exc}") from None
        outcome = self.judge([a for _, a in frames], [None] * len(frames))
        outcome.frame_numbers = [n for n, _ in frames]
        if len(frames) < 2 and not outcome.errors:
            outcome.errors.append(JobError("NotEnoughSamples", "the video has too few frames with one face"))
        return outcome

    def judge(self, analyses: list[ImageAnalysis], challenges: list[str | None]) -> LivenessOutcome:
        outcome = LivenessOutcome(analyses, motions=[None] * len(analyses))
        unusable = [i for i, a in enumerate(analyses) if a.face is None]
        if unusable:
            outcome.errors.append(no_usable_face_error([analyses[unusable[0]]], f"live_images[{unusable[0]}]"))
            return outcome
        faces = [a.face for a in analyses]
        if any(scoring.score(faces[0].descriptor, f.descriptor) < self.settings.verify_threshold for f in faces[1:]):
            outcome.errors.append(JobError("LiveDetectionFailed", "the images do not show the same person"))
            return outcome
        scores = []
        if len(faces) > 1:
            for i in range(1, len(faces)):
                outcome.motions[i] = motion_math.motion(faces[i - 1].landmarks, faces[i].landmarks,
                                                        self.settings.liveness_parallax)
            motion_score = max(m.score for m in outcome.motions[1:])
            scores.append(motion_score)
            for i, (m, challenge) in enumerate(zip(outcome.motions, challenges)):
                if challenge and m is not None and not motion_math.follows_challenge(m, challenge):
                    outcome.errors.append(JobError(
                        "ChallengeResponseFailed", f"live_images[{i}]: the head was to move {challenge}, it moved "
                        f"towards {m.direction:.0f} degrees by {m.turn:.3f}"))
        if self.engine.has_texture_liveness:
            scores.append(min(f.texture_score for f in faces))
        outcome.score = float(min(scores))
        outcome.live = outcome.score >= LIVE_SCORE and not outcome.errors
        if not outcome.live and not outcome.errors:
            outcome.errors.append(JobError("LiveDetectionFailed", "no evidence of a live person: the motion "
                                           "between the images is that of a flat picture, or there is none"))
        return outcome

    async def photo_verify(self, images: list[LiveImage], photo: bytes, disable_liveness: bool) -> PhotoVerifyOutcome:
        if not images:
            raise InvalidArgument("at least one live image is needed")
        if not photo:
            raise InvalidArgument("photo: the ID photo is missing")
        live_analyses, photo_analysis = await asyncio.gather(self.analyze(images, "live_images"),
                                                             self._photo(photo))
        if not disable_liveness and len(images) == 1 and not self.engine.has_texture_liveness:
            raise Unimplemented(PASSIVE_UNAVAILABLE + ", or set disable_liveness_detection")
        if disable_liveness:
            liveness = LivenessOutcome(live_analyses, motions=[None] * len(live_analyses))
        else:
            liveness = self.judge(live_analyses, [challenge_of(i) for i in images])
        outcome = PhotoVerifyOutcome(liveness, photo_analysis, AccuracyLevel.NOT_RECOGNIZED, 0.0,
                                     list(liveness.errors))
        if photo_analysis.face is None:
            outcome.errors.append(no_usable_face_error([photo_analysis], "photo"))
            return outcome
        faces = [a.face for a in live_analyses if a.face is not None]
        if not faces:
            if not liveness.errors:
                outcome.errors.append(no_usable_face_error(live_analyses))
            return outcome
        live_vector = mean_descriptor([f.descriptor for f in faces])
        cosine = float(np.dot(live_vector, photo_analysis.face.descriptor))
        outcome.score = scoring.score_from_cosine(cosine)
        outcome.level = verification_level(float(np.sqrt(max(0.0, 2 - 2 * cosine))))
        return outcome

    async def _photo(self, photo: bytes) -> ImageAnalysis:
        try:
            return await self.engine.analyze(photo, small_faces=True)
        except InvalidImage as exc:
            raise InvalidArgument(f"photo: {exc}") from None
