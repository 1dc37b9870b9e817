"""Face recognition as the service performs it: enroll, verify, search, tags,
status, count, delete. Speaks domain types (no protobuf, no HTTP); transports
translate. Every call is made on behalf of an authenticated client, whose
partition scopes everything it touches."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from gateway.core import scoring
from gateway.core.analysis import analyze_images
from gateway.core.tenancy import Client
from gateway.settings import Settings
from gateway.engine import ENCODER, EncoderSpec, EnginePool, ImageAnalysis
from gateway.core.errors import InvalidArgument, NotFound
from gateway.core.job_errors import Bws3, JobError, enrollment_error, face_error
from templates_store import Bcid, EnhancedTemplate, TemplateNotFound, TemplateStatus, TemplateStore
from templates_store.store import clean_tags
from templates_store.sync import IndexSync
from templates_store.templates import Thumbnail, normalize


class EnrollmentAction(Enum):
    NONE = 0
    NEW_TEMPLATE_CREATED = 1
    TEMPLATE_UPDATED = 2
    TEMPLATE_UPGRADED = 3
    ENROLLMENT_FAILED = -1


@dataclass(frozen=True)
class Enrollment:
    action: EnrollmentAction
    analyses: list[ImageAnalysis]
    enrolled_images: int
    status: TemplateStatus
    errors: list[JobError] = field(default_factory=list)


@dataclass(frozen=True)
class Verification:
    analysis: ImageAnalysis
    verified: bool
    score: float
    errors: list[JobError] = field(default_factory=list)


@dataclass(frozen=True)
class SearchMatch:
    class_id: int
    score: float


@dataclass(frozen=True)
class SearchOutcome:
    analyses: list[ImageAnalysis]
    results: list[list[SearchMatch]]
    errors: list[JobError] = field(default_factory=list)


def mean_descriptor(descriptors: list[np.ndarray]) -> np.ndarray:
    return normalize(np.mean(descriptors, axis=0))


class FaceRecognition:
    def __init__(self, settings: Settings, engine: EnginePool, store: TemplateStore, sync: IndexSync,
                 encoder: EncoderSpec = ENCODER) -> None:
        """encoder: the network the engine describes faces with (its version and calibration)."""
        self.settings = settings
        self.encoder = encoder
        self.scorer = scoring.Scorer.of(encoder)
        self.engine = engine
        self.store = store
        self.sync = sync  # each write brings this process' index up to date through it at once
        self.index = sync.index
        self.min_cosine = self.scorer.cosine_from_score(settings.verify_threshold)

    # --- helpers -------------------------------------------------------------

    @staticmethod
    def bcid(client: Client, class_id: int) -> Bcid:
        try:
            return Bcid(client.partition, int(class_id))
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None

    async def analyze(self, images: list[bytes], field_name: str = "images") -> list[ImageAnalysis]:
        return await analyze_images(self.engine, self.settings, images, field_name)

    # --- operations ----------------------------------------------------------

    async def enroll(self, client: Client, class_id: int, images: list[bytes]) -> Enrollment:
        bcid = self.bcid(client, class_id)
        if not images:
            return await self._enroll_nothing(client, bcid)
        return await self.enroll_analyses(client, bcid, await self.analyze(images))

    async def enroll_analyses(self, client: Client, bcid: Bcid, analyses: list[ImageAnalysis]) -> Enrollment:
        """Adds the usable faces of analysed images to the template of bcid
        (upgraded first when an older encoder version made it)."""
        faces = [a.face for a in analyses if a.face is not None]
        status = await self.store.get_status(bcid)
        if not faces:
            return Enrollment(EnrollmentAction.ENROLLMENT_FAILED, analyses, 0, status,
                              [enrollment_error(analyses)])
        errors: list[JobError] = []
        if status.available and status.encoder_version != self.encoder.version:
            errors = (await self._upgrade(client, bcid))[1]
        now = time.time()
        vectors = np.stack([f.descriptor for f in faces])
        thumbnails = [Thumbnail(now, f.thumbnail_png) for f in faces]

        def add(current: EnhancedTemplate | None) -> EnhancedTemplate:
            if current is None:
                base = EnhancedTemplate.empty(self.encoder.version)
            elif current.encoder_version != self.encoder.version:  # could not be upgraded: its thumbnails stay
                base = replace(EnhancedTemplate.empty(self.encoder.version), thumbnails=current.thumbnails)
            else:
                base = current
            return base.merged(vectors, thumbnails, now).keep_newest(self.settings.max_feature_vectors)

        result = await self.store.update_template(bcid, add, client.encrypt_compact, now)
        await self.sync.apply(bcid)
        action = EnrollmentAction.NEW_TEMPLATE_CREATED if result.created else EnrollmentAction.TEMPLATE_UPDATED
        return Enrollment(action, analyses, len(faces), result.status, errors)

    async def _enroll_nothing(self, client: Client, bcid: Bcid) -> Enrollment:
        status = await self.store.get_status(bcid)
        if not status.available or status.encoder_version == self.encoder.version:
            return Enrollment(EnrollmentAction.NONE, [], 0, status)
        upgraded, errors = await self._upgrade(client, bcid)
        if upgraded is None:
            return Enrollment(EnrollmentAction.ENROLLMENT_FAILED, [], 0, status, errors)
        return Enrollment(EnrollmentAction.TEMPLATE_UPGRADED, [], 0, upgraded, errors)

    async def _upgrade(self, client: Client, bcid: Bcid) -> tuple[TemplateStatus | None, list[JobError]]:
        """Recomputes an old template's feature vectors from its stored face
        thumbnails: the face is detected again on each and described by the
        current encoder. A thumbnail on which no face is found is reported and
        left out of the vectors (it stays stored). Nothing is written when no
        thumbnail gives a vector."""
        snapshot = await self.store.get_enhanced(bcid)
        described = await self.engine.describe_chips([t.png for t in snapshot.thumbnails])
        errors = [JobError(Bws3.NO_FEATURE_VECTORS, f"thumbnails[{i}]: no face found again on this stored thumbnail; "
                                               "it is left out of the upgraded template")
                  for i, vector in enumerate(described) if vector is None]
        usable = [(vector, t.enrolled) for vector, t in zip(described, snapshot.thumbnails) if vector is not None]
        if not usable:
            errors.append(JobError(Bws3.NO_FEATURE_VECTORS, f"template of class {bcid.class_id} was made by encoder "
                                   f"version {snapshot.encoder_version} and cannot be upgraded to version "
                                   f"{self.encoder.version}: no stored thumbnail gives a face; enroll new images"))
            return None, errors
        upgraded = EnhancedTemplate(self.encoder.version, np.stack([v for v, _ in usable]),
                                    tuple(enrolled for _, enrolled in usable), snapshot.thumbnails)

        def swap(current: EnhancedTemplate | None) -> EnhancedTemplate:
            if current is None or current.thumbnails != snapshot.thumbnails:
                raise InvalidArgument(f"template of class {bcid.class_id} changed during its upgrade; retry")
            return upgraded

        result = await self.store.update_template(bcid, swap, client.encrypt_compact)
        await self.sync.apply(bcid)
        return result.status, errors

    async def verify(self, client: Client, class_id: int, image: bytes) -> Verification:
        bcid = self.bcid(client, class_id)
        template = await self._template(bcid)
        (analysis,) = await self.analyze([image], "image")
        if analysis.face is None:
            return Verification(analysis, False, 0.0, [face_error(analysis)])
        return self._compare(template, analysis.face.descriptor, analysis)

    async def verify_analyses(self, client: Client, bcid: Bcid, analyses: list[ImageAnalysis]) -> Verification:
        """Verifies the mean of the usable faces of analysed images against bcid's template."""
        template = await self._template(bcid)
        faces = [a.face for a in analyses if a.face is not None]
        if not faces:
            return Verification(analyses[0], False, 0.0,
                                [face_error(a, f"samples[{i}]") for i, a in enumerate(analyses)])
        return self._compare(template, mean_descriptor([f.descriptor for f in faces]), analyses[0])

    async def _template(self, bcid: Bcid):
        try:
            template = await self.store.get_compact(bcid)
        except TemplateNotFound:
            raise NotFound(f"no template for class {bcid.class_id}") from None
        if template.encoder_version != self.encoder.version:
            raise InvalidArgument(f"template of class {bcid.class_id} was made by encoder version "
                                  f"{template.encoder_version}, this service uses version {self.encoder.version}: "
                                  "call Enroll for this class with no images to upgrade it")
        return template

    def _compare(self, template, descriptor: np.ndarray, analysis: ImageAnalysis) -> Verification:
        score = self.scorer.score(template.vector, descriptor)
        return Verification(analysis, score >= self.settings.verify_threshold, score)

    async def identify(self, client: Client, descriptor: np.ndarray, max_results: int) -> list[SearchMatch]:
        """The classes of the client's partition that the threshold accepts, best first."""
        (matches,) = await self._matches(client, descriptor, max_results, frozenset(), self.min_cosine)
        return matches

    async def _matches(self, client: Client, queries: np.ndarray, k: int, required: frozenset[str],
                       min_cosine: float) -> list[list[SearchMatch]]:
        """Index search in the client's partition (in a thread: BLAS releases the GIL), as scores."""
        found = await asyncio.to_thread(self.index.partition(client.partition).search, queries, k, required,
                                        min_cosine)
        return [[SearchMatch(m.class_id, self.scorer.score_from_cosine(m.similarity)) for m in matches]
                for matches in found]

    async def search(self, client: Client, images: list[bytes], tags: list[str], top_matches: bool) -> SearchOutcome:
        if not images:
            raise InvalidArgument("at least one image is needed")
        try:
            required = frozenset(clean_tags(tags))
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        analyses = await self.analyze(images)
        usable = [i for i, a in enumerate(analyses) if a.face is not None]
        results: list[list[SearchMatch]] = [[] for _ in analyses]
        errors = [face_error(a, f"images[{i}]") for i, a in enumerate(analyses) if a.face is None]
        outdated = self.sync.outdated(client.partition)
        if outdated:
            errors.append(JobError(Bws3.TEMPLATES_NOT_UPGRADED, f"{outdated} template(s) of this partition were made "
                                   f"by another encoder version and are not searched: call Enroll with no images "
                                   f"for each class to upgrade it to version {self.encoder.version}"))
        if usable:
            queries = np.stack([analyses[i].face.descriptor for i in usable])
            k = self.settings.search_top_n if top_matches else self.settings.search_max_matches
            floor = -1.0 if top_matches else self.min_cosine
            for i, matches in zip(usable, await self._matches(client, queries, k, required, floor)):
                results[i] = matches
        return SearchOutcome(analyses, results, errors)

    async def set_tags(self, client: Client, class_id: int, tags: list[str]) -> None:
        bcid = self.bcid(client, class_id)
        try:
            await self.store.set_tags(bcid, tags)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        except TemplateNotFound:
            raise NotFound(f"no template for class {bcid.class_id}") from None
        await self.sync.apply(bcid)

    async def template_status(self, client: Client, class_id: int, with_thumbnails: bool) -> TemplateStatus:
        return await self.store.get_status(self.bcid(client, class_id), with_thumbnails)

    async def class_count(self, client: Client, tags: list[str]) -> int:
        try:
            return await self.store.count(client.partition, tags)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None

    async def delete(self, client: Client, class_id: int) -> None:
        bcid = self.bcid(client, class_id)
        try:
            await self.store.delete(bcid)
        except TemplateNotFound:
            raise NotFound(f"no template for class {bcid.class_id}") from None
        await self.sync.apply(bcid)

