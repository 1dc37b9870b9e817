"""Liveness detection and PhotoVerify as the service performs them (domain
types only; transports translate).

* One image: passive liveness only (engine/pad.py: a camera saw a live face,
  not a print or a screen); unavailable when BWS_PAD=off.
* Two or more: active liveness from the motion between consecutive images
  (engine/motion.py) and passive liveness on every image: both must pass.
  liveness_score is the smaller of the motion score (the best pair) and the
  passive score (the worst image); the call is live when it reaches LIVE_SCORE.
* A direction tag ("up", "down", "left", "right") on image i asks that the
  head moved that way between images i-1 and i (challenge-response).
* A video: the frames the engine chose (engine/video.py); of those showing the
  reference frame's person, the motion between the reference and the frame
  with the most parallax, and the median passive score of all of them. When
  the face hardly moves (motion_math.STILL_DISPLACEMENT) motion cannot tell a
  still head from a still picture: at least STILL_FRAMES frames are then
  judged by passive liveness alone, and every one of them must pass
  (BWS_VIDEO_STILL=refuse: refused for want of motion instead).
* PhotoVerify: the live images judged as above, then matched against an ID
  photo, with a level by FAR.
"""
from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from gateway.core import calibration, scoring
from gateway.core.analysis import analyze_images
from gateway.core.fairness import check_pixel_budget
from gateway.settings import Settings
from gateway.engine import EnginePool, ImageAnalysis, InvalidImage
from gateway.engine import motion as motion_math
from gateway.engine.motion import Motion
from gateway.core.errors import InvalidArgument, Unimplemented
from gateway.core.job_errors import PASSIVE_REJECTED_MESSAGE, Bws3, JobError, face_error
from gateway.core.recognition import mean_descriptor

# A call is live when its liveness_score (motion and passive, the smaller) reaches this. Passive scores are live
# from 0.5 whatever models, fusion and threshold the deployment chose (engine/pad.py maps the threshold onto it).
LIVE_SCORE = 0.5
# A clip whose face hardly moves is judged by passive liveness on this many frames at least (every one must pass).
STILL_FRAMES = 3
PASSIVE_UNAVAILABLE = ("passive liveness is disabled in this deployment (BWS_PAD=off): "
                       "send two or more images for active liveness")


class AccuracyLevel(IntEnum):
    NOT_RECOGNIZED = 0
    LEVEL_1 = 1
    LEVEL_2 = 2
    LEVEL_3 = 3
    LEVEL_4 = 4
    LEVEL_5 = 5


# Measured on the calibration photos: the encoder's calibration (engine/encoders/<network>.py).
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


def _most_telling(analyses: list[ImageAnalysis]) -> ImageAnalysis:
    """Of frames without a usable face, the one that says most why: a single face, else several, else none."""
    return max(analyses, key=lambda a: (len(a.faces) == 1, len(a.faces) > 1))


class Liveness:
    def __init__(self, settings: Settings, engine: EnginePool) -> None:
        self.settings = settings
        self.engine = engine

    async def analyze(self, images: list[LiveImage], field_name: str) -> list[ImageAnalysis]:
        return await analyze_images(self.engine, self.settings, [i.data for i in images], field_name,
                                    want_texture=self.passive)

    @property
    def passive(self) -> bool:
        return self.engine.has_texture_liveness

    async def detect(self, images: list[LiveImage]) -> LivenessOutcome:
        if not images:
            raise InvalidArgument("at least one live image is needed")
        analyses = await self.analyze(images, "live_images")  # bad input is reported first
        if len(images) == 1 and not self.passive:
            raise Unimplemented(PASSIVE_UNAVAILABLE)
        return self.judge(analyses, [challenge_of(i) for i in images])

    async def detect_video(self, video: bytes) -> LivenessOutcome:
        try:
            frames = await self.engine.analyze_video(video, self.passive)
        except InvalidImage as exc:
            raise InvalidArgument(f"video: {exc}") from None
        numbers = [n for n, _ in frames]
        usable = [(n, a) for n, a in frames if a.face is not None]
        if not usable:
            outcome = LivenessOutcome([a for _, a in frames], motions=[None] * len(frames), frame_numbers=numbers)
            outcome.errors.append(face_error(_most_telling(outcome.analyses), "video"))
            return outcome
        reference = usable[0][1].face
        same = [(n, a) for n, a in usable if self._same_person(reference, a.face)]
        outcome = LivenessOutcome([a for _, a in same], motions=[None] * len(same), frame_numbers=[n for n, _ in same])
        if len(same) < 2:
            outcome.errors.append(JobError(Bws3.NOT_ENOUGH_SAMPLES, "the video has too few frames with one usable "
                                           "face of the same person"))
            return outcome
        second = max(range(1, len(same)), key=lambda i: motion_math.parallax(reference.landmarks,
                                                                               same[i][1].face.landmarks))
        outcome.motions[second] = motion_math.motion(reference.landmarks, same[second][1].face.landmarks,
                                                     self.settings.liveness_parallax)
        if not self.passive:
            return self._decide(outcome, outcome.motions[second].score, None)
        textures = [a.face.texture_score for _, a in same]
        moved = max(motion_math.displacement(reference.landmarks, a.face.landmarks) for _, a in same[1:])
        if (self.settings.video_still == "passive" and outcome.motions[second].score < LIVE_SCORE
                and moved < motion_math.STILL_DISPLACEMENT and len(same) >= STILL_FRAMES):
            return self._decide(outcome, None, textures)  # a face held still: every frame judged as one image
        return self._decide(outcome, outcome.motions[second].score, [statistics.median(textures)])

    def _same_person(self, first, other) -> bool:
        return scoring.score(first.descriptor, other.descriptor) >= self.settings.verify_threshold

    def judge(self, analyses: list[ImageAnalysis], challenges: list[str | None]) -> LivenessOutcome:
        outcome = LivenessOutcome(analyses, motions=[None] * len(analyses))
        outcome.errors = [face_error(a, f"live_images[{i}]") for i, a in enumerate(analyses) if a.face is None]
        if outcome.errors:
            return outcome
        faces = [a.face for a in analyses]
        if not all(self._same_person(faces[0], f) for f in faces[1:]):
            outcome.errors.append(JobError(Bws3.REJECTED_BY_ACTIVE, "the live images do not show the same person"))
            return outcome
        motion_score = None
        if len(faces) > 1:
            for i in range(1, len(faces)):
                outcome.motions[i] = motion_math.motion(faces[i - 1].landmarks, faces[i].landmarks,
                                                        self.settings.liveness_parallax)
            motion_score = max(m.score for m in outcome.motions[1:])
            for i, (m, challenge) in enumerate(zip(outcome.motions, challenges)):
                if challenge and m is not None and not motion_math.follows_challenge(m, challenge):
                    outcome.errors.append(JobError(
                        Bws3.REJECTED_BY_CHALLENGE, f"live_images[{i}]: the head was to move {challenge}, it moved "
                        f"towards {m.direction:.0f} degrees by {m.turn:.3f}"))
        passive = [f.texture_score for f in faces] if self.passive else None
        return self._decide(outcome, motion_score, passive)

    @staticmethod
    def _decide(outcome: LivenessOutcome, motion: float | None, passive: list[float] | None) -> LivenessOutcome:
        """Live when every evidence asked for (motion; passive on each image) reaches LIVE_SCORE; the score is the
        smallest. As BWS 3 reports them: one RejectedByPassiveLiveDetection per image that fails passive liveness
        (BioID's own message), one RejectedByActiveLiveDetection when the motion fails."""
        scores = [s for s in (motion, min(passive) if passive else None) if s is not None]
        outcome.score = float(min(scores))
        outcome.live = outcome.score >= LIVE_SCORE and not outcome.errors
        if outcome.live or outcome.errors:
            return outcome
        outcome.errors.extend(JobError(Bws3.REJECTED_BY_PASSIVE, PASSIVE_REJECTED_MESSAGE)
                              for score in passive or () if score < LIVE_SCORE)
        if motion is not None and motion < LIVE_SCORE:
            outcome.errors.append(JobError(Bws3.REJECTED_BY_ACTIVE, "no evidence of a live person: the motion "
                                           "between the images is that of a flat picture, or there is none"))
        return outcome

    async def photo_verify(self, images: list[LiveImage], photo: bytes, disable_liveness: bool) -> PhotoVerifyOutcome:
        if not images:
            raise InvalidArgument("at least one live image is needed")
        if not photo:
            raise InvalidArgument("photo: the ID photo is missing")
        if len(photo) > self.settings.max_image_bytes:
            raise InvalidArgument(f"photo: image of {len(photo)} bytes is larger than the limit of "
                                  f"{self.settings.max_image_bytes} bytes")
        # The ID photo is one of the call's images: within its pixel budget with the live ones.
        check_pixel_budget([*(i.data for i in images), photo], self.settings.max_pixels_per_call)
        live_analyses, photo_analysis = await asyncio.gather(self.analyze(images, "live_images"),
                                                             self._photo(photo))
        if not disable_liveness and len(images) == 1 and not self.passive:
            raise Unimplemented(PASSIVE_UNAVAILABLE + ", or set disable_liveness_detection")
        if disable_liveness:
            liveness = LivenessOutcome(live_analyses, motions=[None] * len(live_analyses))
        else:
            liveness = self.judge(live_analyses, [challenge_of(i) for i in images])
        outcome = PhotoVerifyOutcome(liveness, photo_analysis, AccuracyLevel.NOT_RECOGNIZED, 0.0,
                                     list(liveness.errors))
        if photo_analysis.face is None:
            outcome.errors.append(face_error(photo_analysis, "photo"))
        if not disable_liveness and not liveness.live:  # as BWS 3: no verification of images that are not live
            return outcome
        faces = [a.face for a in live_analyses if a.face is not None]
        if not faces:
            outcome.errors.extend(face_error(a, f"live_images[{i}]") for i, a in enumerate(live_analyses))
        if not faces or photo_analysis.face is None:
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
