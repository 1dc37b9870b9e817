"""gateway/core/recognition.py with a fake engine and a fake store: the BWS operations, tenants apart, and the
upgrade of templates made by an older encoder (here a fake second network registered after SFace)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gateway.core.errors import InvalidArgument, NotFound
from gateway.core.recognition import EnrollmentAction, FaceRecognition
from gateway.engine import ENCODER
from gateway.engine.encoders import REGISTRY, Calibration, current
from gateway.settings import Settings
from templates_store import Bcid, EnhancedTemplate, SearchIndex
from templates_store.sync import IndexSync
from templates_store.templates import Thumbnail
from tests.gateway.core.conftest import ACME, GLOBEX
from tests.gateway.core.fakes import NOT_AN_IMAGE, FakeEngine, FakeStore, descriptor, photo


async def test_enroll_then_verify_the_same_person_and_not_another(recognition):
    enrolled = await recognition.enroll(ACME, 7, [photo("alice"), photo("alice")])
    assert enrolled.action is EnrollmentAction.NEW_TEMPLATE_CREATED and enrolled.enrolled_images == 2
    assert enrolled.status.encoder_version == ENCODER.version and enrolled.status.feature_vectors == 2
    same = await recognition.verify(ACME, 7, photo("alice"))
    assert same.verified and same.score == pytest.approx(1.0)
    other = await recognition.verify(ACME, 7, photo("bob"))
    assert not other.verified and other.score < 0.5
    again = await recognition.enroll(ACME, 7, [photo("alice")])
    assert again.action is EnrollmentAction.TEMPLATE_UPDATED and again.status.feature_vectors == 3


async def test_images_without_one_usable_face_enroll_nothing(recognition, store):
    failed = await recognition.enroll(ACME, 8, [photo("", faces=0), photo("carol", faces=2)])
    assert failed.action is EnrollmentAction.ENROLLMENT_FAILED
    assert [e.error_code for e in failed.errors] == ["MultipleFacesFound"] and not store.templates
    nothing = await recognition.enroll(ACME, 8, [photo("", faces=0)])
    assert [e.error_code for e in nothing.errors] == ["NoSuitableFaceImage"] and not store.templates
    unusable = await recognition.enroll(ACME, 8, [photo("carol", usable=False)])
    assert [e.error_code for e in unusable.errors] == ["NoFeatureVectors"]


async def test_bad_input_is_invalid_argument_naming_the_field(recognition):
    with pytest.raises(InvalidArgument, match=r"^images\[1\]: not an image"):
        await recognition.enroll(ACME, 9, [photo("alice"), NOT_AN_IMAGE])
    with pytest.raises(InvalidArgument, match="class"):
        await recognition.enroll(ACME, -1, [photo("alice")])
    with pytest.raises(InvalidArgument, match="at least one image"):
        await recognition.search(ACME, [], [], True)


async def test_verify_search_tags_count_delete_of_a_missing_class(recognition):
    with pytest.raises(NotFound):
        await recognition.verify(ACME, 404, photo("alice"))
    with pytest.raises(NotFound):
        await recognition.set_tags(ACME, 404, ["x"])
    with pytest.raises(NotFound):
        await recognition.delete(ACME, 404)
    assert not (await recognition.template_status(ACME, 404, False)).available


async def test_search_tags_count_and_delete(recognition):
    await recognition.enroll(ACME, 1, [photo("alice")])
    await recognition.enroll(ACME, 2, [photo("bob")])
    await recognition.set_tags(ACME, 2, ["staff"])
    outcome = await recognition.search(ACME, [photo("bob"), photo("", faces=0)], [], top_matches=False)
    assert [m.class_id for m in outcome.results[0]] == [2] and outcome.results[1] == []
    assert [e.error_code for e in outcome.errors] == ["FaceNotFound"]
    top = await recognition.search(ACME, [photo("bob")], [], top_matches=True)
    assert [m.class_id for m in top.results[0]][0] == 2 and len(top.results[0]) == 2  # all, best first
    tagged = await recognition.search(ACME, [photo("alice")], ["staff"], top_matches=True)
    assert [m.class_id for m in tagged.results[0]] == [2]
    assert await recognition.class_count(ACME, []) == 2 and await recognition.class_count(ACME, ["staff"]) == 1
    await recognition.delete(ACME, 2)
    assert await recognition.class_count(ACME, []) == 1
    assert (await recognition.search(ACME, [photo("bob")], [], top_matches=False)).results == [[]]


async def test_tenants_never_reach_each_other(recognition):
    await recognition.enroll(ACME, 5, [photo("alice")])
    with pytest.raises(NotFound):
        await recognition.verify(GLOBEX, 5, photo("alice"))
    assert (await recognition.search(GLOBEX, [photo("alice")], [], True)).results == [[]]
    assert await recognition.class_count(GLOBEX, []) == 0
    with pytest.raises(NotFound):
        await recognition.delete(GLOBEX, 5)
    assert (await recognition.verify(ACME, 5, photo("alice"))).verified


# --- a new face network: one module under engine/encoders/ and one registry line ---------------------------------

NEXT = dataclasses.replace(ENCODER, name="Fake network", version=ENCODER.version + 1,
                           calibration=Calibration(0.5, {1: 0.01}, {1: 0.45}),
                           load=lambda: pytest.fail("the fake network runs in no worker"))


def test_the_newest_registered_network_is_the_one_in_use():
    assert current(REGISTRY) is ENCODER
    assert current((*REGISTRY, NEXT)) is NEXT  # the one line a new network adds
    with pytest.raises(ValueError, match="share a version"):
        current((*REGISTRY, dataclasses.replace(NEXT, version=ENCODER.version)))


async def test_a_template_of_the_previous_network_is_upgraded_from_its_chips():
    store, engine = FakeStore(), FakeEngine(encoder=NEXT)
    recognition = FaceRecognition(Settings(), engine, store, IndexSync(store, SearchIndex(), NEXT.version),
                                  encoder=NEXT)
    bcid = Bcid(ACME.partition, 11)
    chips = (Thumbnail(1.0, b'{"chip": "alice"}'), Thumbnail(2.0, b"a chip without a face"))
    store.put(bcid, EnhancedTemplate(ENCODER.version, np.stack([descriptor("alice"), descriptor("alice")]),
                                     (1.0, 2.0), chips))
    with pytest.raises(InvalidArgument, match=f"encoder version {ENCODER.version}, this service uses version "
                                              f"{NEXT.version}"):
        await recognition.verify(ACME, 11, photo("alice"))
    upgraded = await recognition.enroll(ACME, 11, [])
    assert upgraded.action is EnrollmentAction.TEMPLATE_UPGRADED
    assert upgraded.status.encoder_version == NEXT.version and upgraded.status.feature_vectors == 1
    assert upgraded.status.thumbnails_stored == 2  # the chip without a face stays stored
    assert [e.error_code for e in upgraded.errors] == ["NoFeatureVectors"]
    assert np.allclose(store.templates[bcid].vectors[0], descriptor("alice", NEXT))
    verified = await recognition.verify(ACME, 11, photo("alice"))
    assert verified.verified and verified.score == pytest.approx(1.0)
    # The new network's own calibration sets the threshold: cosine 0.5 is its score 0.5.
    assert recognition.scorer.score_from_cosine(0.5) == pytest.approx(0.5)
    assert recognition.min_cosine == pytest.approx(0.5)


async def test_a_template_that_cannot_be_upgraded_keeps_its_chips_when_new_images_come():
    store, engine = FakeStore(), FakeEngine(encoder=NEXT)
    recognition = FaceRecognition(Settings(), engine, store, IndexSync(store, SearchIndex(), NEXT.version),
                                  encoder=NEXT)
    bcid = Bcid(ACME.partition, 12)
    store.put(bcid, EnhancedTemplate(ENCODER.version, descriptor("bob")[None, :], (1.0,),
                                     (Thumbnail(1.0, b"no face here"),)))
    failed = await recognition.enroll(ACME, 12, [])
    assert failed.action is EnrollmentAction.ENROLLMENT_FAILED and "cannot be upgraded" in failed.errors[-1].message
    enrolled = await recognition.enroll(ACME, 12, [photo("bob")])
    assert enrolled.status.encoder_version == NEXT.version and enrolled.status.thumbnails_stored == 2
    outcome = await recognition.search(ACME, [photo("bob")], [], True)
    assert [m.class_id for m in outcome.results[0]] == [12] and outcome.errors == []
