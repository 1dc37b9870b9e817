"""When no face is found: what recovers faces on old or poor photos without
inventing them (finding.py, contrast.py)."""
import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from gateway.core import scoring
from gateway.engine import contrast
from gateway.engine.detector import Detection
from gateway.engine.finding import FaceFinder
from tests.conftest import face
from tests.gateway.engine.scenes import Scene, render


def _faded(name: str, contrast_factor: float = 0.1, brightness: float = 0.4) -> bytes:
    image = Image.open(io.BytesIO(face(name))).convert("RGB")
    buffer = io.BytesIO()
    ImageEnhance.Brightness(ImageEnhance.Contrast(image).enhance(contrast_factor)).enhance(brightness).save(
        buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["obama_1.jpg", "kit_harington_1.jpg", "rose_leslie_1.jpg"])
def test_a_dark_low_contrast_photo_is_found_after_normalisation_and_matches(engine, name):
    analysis = engine.analyze(_faded(name))
    assert analysis.face is not None
    assert "contrast normalisation" in {c.check: c for c in analysis.checks}["FaceFound"].message
    clean = engine.analyze(face(name.replace("_1", "_2"))).face.descriptor
    assert scoring.score(analysis.face.descriptor, clean) >= 0.5


@pytest.mark.parametrize("picture", [
    np.full((600, 800, 3), 128, np.uint8),
    np.random.default_rng(1).integers(0, 255, (600, 800, 3), dtype=np.uint8),
    np.random.default_rng(2).normal(128, 4, (300, 300, 3)).clip(0, 255).astype(np.uint8),
    np.tile(np.linspace(0, 255, 800, dtype=np.uint8)[None, :, None], (600, 1, 3)),
], ids=["grey", "noise", "faint noise", "gradient"])
def test_recovery_invents_no_face(engine, picture):
    assert engine.analyze_pixels(picture).faces == ()


def test_a_low_contrast_face_is_stretched_before_it_is_described():
    ordinary = np.random.default_rng(3).normal(120, 40, (112, 112, 3)).clip(0, 255).astype(np.uint8)
    assert contrast.for_description(ordinary) is ordinary
    faint = (ordinary.astype(np.float32) * 0.1 + 100).astype(np.uint8)
    stretched = contrast.for_description(faint)
    assert contrast.face_contrast(faint) < contrast.LOW_CONTRAST <= contrast.face_contrast(stretched)


class _Candidates:
    """A detector that finds the given candidates only (for the decision on low-confidence ones)."""

    def __init__(self, *found: Detection) -> None:
        self.found = list(found)

    def detect(self, rgb: np.ndarray, max_side: int) -> list[Detection]:
        scale = min(1.0, max_side / max(rgb.shape[:2]))
        return [d for d in self.found if scale == 1.0 and d.box[2] <= rgb.shape[1] and d.box[3] <= rgb.shape[0]]


def _candidate(left: int, width: int, confidence: float) -> Detection:
    return Detection((left, 50, left + width, 50 + width), np.zeros((5, 2), np.float32), confidence)


def test_a_single_large_candidate_is_taken_below_the_usual_confidence():
    picture = np.full((400, 400, 3), 128, np.uint8)
    large = _candidate(100, 150, 0.6)
    found = FaceFinder(_Candidates(large)).find(picture)
    assert found.faces == [large] and "candidate" in found.recovered
    assert FaceFinder(_Candidates(_candidate(100, 40, 0.6))).find(picture).faces == []  # small: not taken
    assert FaceFinder(_Candidates(large, _candidate(250, 140, 0.55))).find(picture).faces == []  # two: not taken


def test_a_dark_low_contrast_face_on_a_large_photo_is_recovered(engine):
    """A large photo is normalised at 2048 px (bounded memory); its face is then analysed on the photo itself."""
    picture = render(Scene(400, 4000, 3000))
    buffer = io.BytesIO()
    ImageEnhance.Brightness(ImageEnhance.Contrast(picture).enhance(0.1)).enhance(0.4).save(buffer, "JPEG")
    analysis = engine.analyze(buffer.getvalue())
    assert analysis.face is not None
    assert "contrast normalisation" in {c.check: c for c in analysis.checks}["FaceFound"].message
    assert 300 < analysis.face.box[2] - analysis.face.box[0] < 500
    clean = engine.analyze(face("obama_2.jpg")).face.descriptor
    assert scoring.score(analysis.face.descriptor, clean) >= 0.5
