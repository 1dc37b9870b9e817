import numpy as np
import pytest

from templates_store.templates import CompactTemplate, EnhancedTemplate, TemplateFormatError, Thumbnail, normalize


def _vectors(n, seed=0):
    return normalize(np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32))


def test_enhanced_round_trip_keeps_everything():
    template = EnhancedTemplate.empty(1).merged(_vectors(3), [Thumbnail(1.5, b"\x89PNG-a"), Thumbnail(2.5, b"b")], 10.0)
    decoded = EnhancedTemplate.from_bytes(template.to_bytes())
    assert np.array_equal(decoded.vectors, template.vectors)
    assert decoded.enrolled == (10.0, 10.0, 10.0)
    assert decoded.thumbnails == template.thumbnails


def test_compact_is_the_normalised_mean():
    vectors = _vectors(4)
    compact = EnhancedTemplate.empty(1).merged(vectors, [], 0).compact()
    expected = vectors.mean(axis=0) / np.linalg.norm(vectors.mean(axis=0))
    assert np.allclose(compact.vector, expected, atol=1e-6)
    assert compact.feature_vectors == 4
    decoded = CompactTemplate.from_bytes(compact.to_bytes())
    assert np.array_equal(decoded.vector, compact.vector) and decoded.encoder_version == 1


@pytest.mark.parametrize("data", [b"", b"BWE1", b"BWE1\xff\xff\xff\xff{}", b"garbage" * 10])
def test_corrupt_enhanced_templates_are_refused(data):
    with pytest.raises(TemplateFormatError):
        EnhancedTemplate.from_bytes(data)


def test_truncated_enhanced_template_is_refused():
    data = EnhancedTemplate.empty(1).merged(_vectors(2), [Thumbnail(1, b"png")], 0).to_bytes()
    with pytest.raises(TemplateFormatError):
        EnhancedTemplate.from_bytes(data[:-10])
