"""The two template forms and their binary encodings.

* CompactTemplate: what matching reads. The L2-normalised mean of the
  template's unit feature vectors (128 float32) and the encoder version.
* EnhancedTemplate: everything enrollment produced: every feature vector with
  the time it was enrolled, and the aligned face thumbnails, from which
  vectors can be recomputed when the encoder changes.

Enhanced format 2 ("BWE2") stores thumbnails as WebP (templates_store/thumbnails.py);
format 1 ("BWE1", PNG thumbnails) is still read, and rewritten as format 2 on
the template's next write.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

from templates_store import thumbnails as codec

DESCRIPTOR_SIZE = 128
_COMPACT_MAGIC = b"BWC1"
_COMPACT_HEADER = struct.Struct("<4sHI")
# A compact template's bytes as a numpy record, to decode many at once (index loading).
COMPACT_RECORD = np.dtype([("magic", "S4"), ("encoder", "<u2"), ("count", "<u4"),
                           ("vector", "<f4", (DESCRIPTOR_SIZE,))])
_ENHANCED_MAGIC = b"BWE2"
_ENHANCED_MAGICS = (b"BWE1", _ENHANCED_MAGIC)  # every format this code reads
_ENHANCED_HEADER = struct.Struct("<4sI")


class TemplateFormatError(ValueError):
    pass


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class CompactTemplate:
    MAGIC = _COMPACT_MAGIC

    encoder_version: int
    vector: np.ndarray  # (128,) float32, unit length
    feature_vectors: int

    def to_bytes(self) -> bytes:
        header = _COMPACT_HEADER.pack(_COMPACT_MAGIC, self.encoder_version, self.feature_vectors)
        return header + np.asarray(self.vector, dtype="<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "CompactTemplate":
        if len(data) != _COMPACT_HEADER.size + 4 * DESCRIPTOR_SIZE:
            raise TemplateFormatError("compact template has the wrong size")
        magic, encoder, count = _COMPACT_HEADER.unpack_from(data)
        if magic != _COMPACT_MAGIC:
            raise TemplateFormatError("not a compact template")
        vector = np.frombuffer(data, dtype="<f4", offset=_COMPACT_HEADER.size).astype(np.float32)
        return cls(encoder, vector, count)


@dataclass(frozen=True)
class Thumbnail:
    enrolled: float  # seconds since the epoch
    image: bytes  # the engine's PNG chip, or the compact WebP it is stored as

    @property
    def png(self) -> bytes:
        """The chip as PNG (converted when stored compactly)."""
        return codec.to_png(self.image)

    def compacted(self) -> "Thumbnail":
        return Thumbnail(self.enrolled, codec.compact(self.image))


@dataclass(frozen=True)
class EnhancedTemplate:
    encoder_version: int
    vectors: np.ndarray  # (n, 128) float32, unit rows
    enrolled: tuple[float, ...]  # one timestamp per vector
    thumbnails: tuple[Thumbnail, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[1] != DESCRIPTOR_SIZE:
            raise TemplateFormatError(f"feature vectors must be (n, {DESCRIPTOR_SIZE})")
        if len(self.enrolled) != len(self.vectors):
            raise TemplateFormatError("one enrollment time per feature vector")

    @classmethod
    def empty(cls, encoder_version: int) -> "EnhancedTemplate":
        return cls(encoder_version, np.zeros((0, DESCRIPTOR_SIZE), np.float32), ())

    def merged(self, vectors: np.ndarray, thumbnails: list[Thumbnail], now: float) -> "EnhancedTemplate":
        added = normalize(np.asarray(vectors, np.float32).reshape(-1, DESCRIPTOR_SIZE))
        return EnhancedTemplate(
            self.encoder_version,
            np.vstack([self.vectors, added]),
            self.enrolled + (now,) * len(added),
            self.thumbnails + tuple(thumbnails),
        )

    def keep_newest(self, n: int) -> "EnhancedTemplate":
        """At most the n newest feature vectors, with their times and thumbnails (oldest dropped first)."""
        if len(self.vectors) <= n and len(self.thumbnails) <= n:
            return self
        first = max(0, len(self.vectors) - n)
        return EnhancedTemplate(self.encoder_version, self.vectors[first:], self.enrolled[first:],
                                self.thumbnails[max(0, len(self.thumbnails) - n):])

    def compact(self) -> CompactTemplate:
        mean = self.vectors.mean(axis=0) if len(self.vectors) else np.zeros(DESCRIPTOR_SIZE, np.float32)
        return CompactTemplate(self.encoder_version, normalize(mean), len(self.vectors))

    def to_bytes(self) -> bytes:
        thumbnails = [t.compacted() for t in self.thumbnails]
        header = json.dumps({
            "encoder": self.encoder_version,
            "enrolled": list(self.enrolled),
            "thumbnails": [[t.enrolled, len(t.image)] for t in thumbnails],
        }).encode()
        parts = [_ENHANCED_HEADER.pack(_ENHANCED_MAGIC, len(header)), header,
                 np.ascontiguousarray(self.vectors, dtype="<f4").tobytes()]
        parts.extend(t.image for t in thumbnails)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> "EnhancedTemplate":
        try:
            magic, header_len = _ENHANCED_HEADER.unpack_from(data)
            if magic not in _ENHANCED_MAGICS:
                raise TemplateFormatError("not an enhanced template")
            offset = _ENHANCED_HEADER.size
            header = json.loads(data[offset:offset + header_len])
            offset += header_len
            count = len(header["enrolled"])
            size = count * DESCRIPTOR_SIZE * 4
            vectors = np.frombuffer(data[offset:offset + size], dtype="<f4").reshape(count, DESCRIPTOR_SIZE)
            offset += size
            thumbnails = []
            for enrolled, length in header["thumbnails"]:
                thumbnails.append(Thumbnail(float(enrolled), bytes(data[offset:offset + length])))
                offset += length
        except (struct.error, ValueError, KeyError, TypeError) as exc:
            raise TemplateFormatError(f"corrupt enhanced template: {exc}") from exc
        if offset != len(data):
            raise TemplateFormatError("corrupt enhanced template: trailing bytes")
        return cls(int(header["encoder"]), vectors.astype(np.float32), tuple(map(float, header["enrolled"])),
                   tuple(thumbnails))
