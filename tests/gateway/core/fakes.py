"""Small fakes for unit tests of gateway/core: an engine that reads "photos" written as text, and a template store
in a dict (with the real search index and index sync on top). The end-to-end tests use the real engine and Redis.

A fake photo is `photo("alice")`: one face of alice, described by the encoder in use; `photo("alice", faces=2)`,
`photo("", faces=0)`, `photo("alice", texture=0.2)` (passive liveness), `photo("alice", turn=0.1)` (landmarks of
a head turned that much), or NOT_AN_IMAGE."""
from __future__ import annotations

import asyncio
import json
import time
import zlib
from dataclasses import replace

import numpy as np

from gateway.engine import ENCODER, EncoderSpec, Face, ImageAnalysis, InvalidImage, Point, QualityCheck
from templates_store import Bcid, EnhancedTemplate, PartitionId, TemplateNotFound, TemplateStatus
from templates_store.store import EnrollResult, IndexEntry, clean_tags
from templates_store.templates import normalize

NOT_AN_IMAGE = b"\x00 not an image"


def photo(person: str, faces: int = 1, texture: float = 0.9, turn: float = 0.0, usable: bool = True,
          shift: float = 0.0) -> bytes:
    return json.dumps({"person": person, "faces": faces, "texture": texture, "turn": turn,
                       "usable": usable, "shift": shift}).encode()


def descriptor(person: str, encoder: EncoderSpec = ENCODER) -> np.ndarray:
    """A person's unit descriptor by one encoder: the same person, the same vector; another encoder, another."""
    rng = np.random.default_rng(zlib.crc32(f"{encoder.version}:{person}".encode()))
    return normalize(rng.standard_normal(encoder.size).astype(np.float32))


def landmarks(turn: float, shift: float = 0.0) -> np.ndarray:
    """68 points of a face in 3D (a bump for the nose), projected after turning the head by `turn` radians,
    moved `shift` pixels to the right (a face moved without turning)."""
    rng = np.random.default_rng(68)
    points = rng.uniform(-50, 50, (68, 2))
    depth = 40 * np.exp(-(points ** 2).sum(axis=1) / 800)
    x = points[:, 0] * np.cos(turn) + depth * np.sin(turn)
    return np.stack([x + 200 + shift, points[:, 1] + 200], axis=1).astype(np.float32)


class FakeEngine:
    """EnginePool's API over fake photos; counts its jobs."""

    def __init__(self, encoder: EncoderSpec = ENCODER, texture: bool = True) -> None:
        self.encoder = encoder
        self.has_texture_liveness = texture
        self.workers = 1
        self.in_flight = 0
        self.jobs: list[str] = []

    def _analysis(self, data: bytes, want_descriptors: bool = True) -> ImageAnalysis:
        try:
            spec = json.loads(data)
        except ValueError:
            raise InvalidImage("not an image the service accepts") from None
        faces = tuple(self._face(spec, want_descriptors and spec["usable"]) for _ in range(spec["faces"]))
        return ImageAnalysis(400, 400, 0, faces)

    def _face(self, spec: dict, describe: bool) -> Face:
        chip = json.dumps({"chip": spec["person"]}).encode()
        return Face((100, 100, 300, 300), Point(250, 180), Point(150, 180),
                    landmarks(spec["turn"], spec.get("shift", 0.0)), (QualityCheck("Sharpness", 0.9),),
                    descriptor(spec["person"], self.encoder) if describe else None, chip, spec["texture"])

    async def analyze(self, data: bytes, want_descriptors: bool = True, want_texture: bool = False,
                      small_faces: bool = False) -> ImageAnalysis:
        self.jobs.append("analyze")
        await asyncio.sleep(0)
        return self._analysis(data, want_descriptors)

    async def analyze_video(self, data: bytes, want_texture: bool = False) -> list[tuple[int, ImageAnalysis]]:
        """A fake video: a JSON list of fake photos, one per frame."""
        self.jobs.append("analyze_video")
        try:
            frames = json.loads(data)
        except ValueError:
            raise InvalidImage("not a video the service accepts") from None
        return [(n, self._analysis(json.dumps(frame).encode())) for n, frame in enumerate(frames)]

    async def describe_chips(self, chips: list[bytes]) -> list[np.ndarray | None]:
        """The face found again on each stored chip, described by this engine's encoder; None: no face on it."""
        self.jobs.append("describe_chips")
        found = []
        for chip in chips:
            try:
                found.append(descriptor(json.loads(chip)["chip"], self.encoder))
            except (ValueError, KeyError):
                found.append(None)
        return found


class FakeStore:
    """TemplateStore's API in a dict (what gateway/core and IndexSync.apply use)."""

    def __init__(self) -> None:
        self.templates: dict[Bcid, EnhancedTemplate] = {}
        self.tags: dict[Bcid, tuple[str, ...]] = {}
        self.enrolled: dict[Bcid, float] = {}

    def _status(self, bcid: Bcid, with_thumbnails: bool = False) -> TemplateStatus:
        template = self.templates.get(bcid)
        if template is None:
            return TemplateStatus(class_id=bcid.class_id, available=False)
        return TemplateStatus(bcid.class_id, True, self.enrolled[bcid], self.tags.get(bcid, ()),
                              template.encoder_version, len(template.vectors), len(template.thumbnails),
                              template.thumbnails if with_thumbnails else ())

    async def get_status(self, bcid: Bcid, with_thumbnails: bool = False) -> TemplateStatus:
        return self._status(bcid, with_thumbnails)

    async def get_enhanced(self, bcid: Bcid) -> EnhancedTemplate:
        if bcid not in self.templates:
            raise TemplateNotFound(bcid)
        return self.templates[bcid]

    async def get_compact(self, bcid: Bcid):
        return (await self.get_enhanced(bcid)).compact()

    async def update_template(self, bcid: Bcid, change, encrypt_compact: bool, now: float | None = None):
        created = bcid not in self.templates
        self.templates[bcid] = change(self.templates.get(bcid))
        self.enrolled[bcid] = time.time() if now is None else now
        return EnrollResult(created, self._status(bcid))

    async def set_tags(self, bcid: Bcid, tags) -> tuple[str, ...]:
        tags = clean_tags(tags)
        if bcid not in self.templates:
            raise TemplateNotFound(bcid)
        self.tags[bcid] = tags
        return tags

    async def count(self, partition: PartitionId, tags=()) -> int:
        wanted = set(clean_tags(tags))
        return sum(1 for bcid in self.templates if bcid.partition == partition
                   and wanted <= set(self.tags.get(bcid, ())))

    async def delete(self, bcid: Bcid) -> None:
        if self.templates.pop(bcid, None) is None:
            raise TemplateNotFound(bcid)
        self.tags.pop(bcid, None)

    async def index_entry(self, bcid: Bcid) -> IndexEntry | None:
        template = self.templates.get(bcid)
        if template is None or not len(template.vectors):
            return None
        return IndexEntry(bcid.class_id, template.compact(), frozenset(self.tags.get(bcid, ())))

    def put(self, bcid: Bcid, template: EnhancedTemplate) -> None:
        """A template stored before (by an older service, say)."""
        self.templates[bcid] = template
        self.enrolled[bcid] = time.time()


__all__ = ["FakeEngine", "FakeStore", "NOT_AN_IMAGE", "descriptor", "landmarks", "photo", "replace"]
