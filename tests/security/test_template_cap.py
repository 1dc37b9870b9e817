"""Attack: a template grown without bound (until GetTemplateStatus with
thumbnails no longer fits a message). At most BWS_MAX_FEATURE_VECTORS (default
20) feature vectors are kept, the oldest dropped first with their thumbnails."""
import numpy as np

from templates_store.templates import EnhancedTemplate, Thumbnail, normalize
from tests.e2e.helpers import new_class_id

SINGLE_FACES = ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg", "biden_2.jpg", "alex_lacamoire_2.jpg",
                "kit_harington_1.jpg", "kit_harington_2.jpg", "rose_leslie_1.jpg", "rose_leslie_2.jpg",
                "lin_manuel_miranda_1.png", "alex_lacamoire_1.png"]


def test_keep_newest_drops_the_oldest_vectors_times_and_thumbnails():
    vectors = normalize(np.random.default_rng(1).normal(size=(5, 128)))
    template = EnhancedTemplate(1, vectors, (1.0, 2.0, 3.0, 4.0, 5.0),
                                tuple(Thumbnail(float(t), bytes([t])) for t in range(1, 6)))
    kept = template.keep_newest(3)
    assert kept.enrolled == (3.0, 4.0, 5.0) and np.array_equal(kept.vectors, vectors[2:])
    assert [t.png for t in kept.thumbnails] == [b"\x03", b"\x04", b"\x05"]
    assert template.keep_newest(5) is template
    stored = EnhancedTemplate.from_bytes(kept.to_bytes())
    assert stored.enrolled == kept.enrolled and np.array_equal(stored.vectors, kept.vectors)
    assert stored.compact().feature_vectors == 3


def test_enrolling_past_the_cap_keeps_the_newest_twenty(a):
    class_id = new_class_id()
    first = (SINGLE_FACES * 2)[:18]
    assert a.enroll(class_id, *first).enrolled_images == 18
    before = [t.image for t in a.status(class_id, thumbnails=True).thumbnails]
    assert len(before) == 18
    assert a.enroll(class_id, "obama_1.jpg", "biden_2.jpg", "rose_leslie_2.jpg", "kit_harington_2.jpg") \
        .enrolled_images == 4
    status = a.status(class_id, thumbnails=True)
    after = [t.image for t in status.thumbnails]
    assert status.feature_vectors == 20 and len(after) == 20 and status.thumbnails_stored == 20
    assert after[:16] == before[2:]  # the two oldest went, the rest kept their order
    times = [t.enrolled.ToNanoseconds() for t in status.thumbnails]
    assert times == sorted(times)
    assert a.enroll(class_id, "obama_2.jpg").enrolled_images == 1
    assert a.status(class_id).feature_vectors == 20
    assert a.verify(class_id, "obama_3.jpg").ByteSize() > 0
