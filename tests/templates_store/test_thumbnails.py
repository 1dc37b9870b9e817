"""Thumbnails are stored as WebP, read back as PNG, and re-encoding keeps the
face engine's descriptor within the stated bound (so upgrades stay faithful)."""
import json
import struct

import numpy as np
import pytest

from gateway.engine import FaceEngine
from templates_store import thumbnails as codec
from templates_store.templates import EnhancedTemplate, Thumbnail
from tests.conftest import FACES


@pytest.fixture(scope="module")
def engine():
    return FaceEngine()


@pytest.fixture(scope="module")
def chips(engine):
    found = []
    for path in sorted(FACES.iterdir()):
        if path.suffix in (".jpg", ".png") and len(found) < 8:
            analysis = engine.analyze(path.read_bytes())
            if analysis.face is not None:
                found.append(analysis.face.thumbnail_png)
    assert len(found) >= 8
    return found


def test_reencoded_chips_keep_their_descriptor(engine, chips):
    for png in chips:
        stored = Thumbnail(1.0, png).compacted()
        assert stored.image[:4] == b"RIFF" and len(stored.image) < len(png) / 3
        assert stored.png.startswith(b"\x89PNG")
        moved = np.linalg.norm(engine.describe_chip(png) - engine.describe_chip(stored.png))
        assert moved <= codec.MAX_DESCRIPTOR_MOVE


def test_templates_store_thumbnails_compactly_and_give_png_back(chips):
    template = EnhancedTemplate.empty(1).merged(np.ones((2, 128), np.float32), [Thumbnail(5.0, c) for c in chips[:2]],
                                                5.0)
    data = template.to_bytes()
    assert data[:4] == b"BWE2" and len(data) < sum(len(c) for c in chips[:2]) / 3
    decoded = EnhancedTemplate.from_bytes(data)
    assert [t.enrolled for t in decoded.thumbnails] == [5.0, 5.0]
    assert all(t.png.startswith(b"\x89PNG") and t.image[:4] == b"RIFF" for t in decoded.thumbnails)
    assert EnhancedTemplate.from_bytes(decoded.to_bytes()).thumbnails == decoded.thumbnails  # not re-encoded


def test_format_1_templates_with_png_thumbnails_still_read(chips):
    vectors = np.eye(2, 128, dtype=np.float32)
    header = json.dumps({"encoder": 1, "enrolled": [1.0, 2.0], "thumbnails": [[1.0, len(chips[0])]]}).encode()
    old = b"BWE1" + struct.pack("<I", len(header)) + header + vectors.astype("<f4").tobytes() + chips[0]
    decoded = EnhancedTemplate.from_bytes(old)
    assert np.array_equal(decoded.vectors, vectors) and decoded.enrolled == (1.0, 2.0)
    assert decoded.thumbnails == (Thumbnail(1.0, chips[0]),) and decoded.thumbnails[0].png == chips[0]
    assert EnhancedTemplate.from_bytes(decoded.to_bytes()).thumbnails[0].image[:4] == b"RIFF"
