"""An application signs its own /extension/ tokens for another tenant's BCID or for a task it may not
perform: every use of such a token (upload, task, result) is refused and nothing of the other tenant changes."""
import jwt
import pytest

from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import Flow, basic
from tests.security.forge import extension_token

VICTIMS = {"tenant-b": "globex/1", "tenant-a-encrypted": "acme/2"}  # another storage; another partition


@pytest.fixture(scope="module")
def victims(service):
    """Per victim tenant: a class enrolled with Biden's photos, and its template status before the attacks."""
    enrolled = {}
    with service.channel() as channel:
        for tenant in VICTIMS:
            caller, class_id = Caller(channel, service.clients[tenant]), new_class_id()
            caller.enroll(class_id, "biden_1.jpg", "biden_2.jpg")
            enrolled[tenant] = (class_id, caller.status(class_id))
    return enrolled


def _refused(reply) -> bool:
    return reply.status in (401, 403)


def _assert_untouched(service, tenant, class_id, before):
    with service.channel() as channel:
        caller = Caller(channel, service.clients[tenant])
        after = caller.status(class_id)
        assert (after.feature_vectors, after.thumbnails_stored, after.enrolled.seconds) == \
            (before.feature_vectors, before.thumbnails_stored, before.enrolled.seconds)
        assert caller.verify(class_id, "biden_1.jpg").verified  # the tenant's own user still verifies
        assert not caller.verify(class_id, "obama_3.jpg").verified  # the attacker's person does not


@pytest.mark.parametrize("tenant", sorted(VICTIMS))
def test_forged_tokens_for_another_tenant_are_refused_at_every_use(service, victims, tenant):
    class_id, before = victims[tenant]
    attacker = Flow(service, "tenant-a")
    key = service.clients["tenant-a"].key
    bcid = f"{VICTIMS[tenant]}/{class_id}"
    for task in ("enroll", "verify", "identify", "livenessdetection"):
        token = extension_token(key, "tenant-a", bcid if task != "identify" else f"{VICTIMS[tenant]}/0", task)
        for name in ("obama_1.jpg", "obama_2.jpg"):
            uploaded = attacker.upload(token, face(name))
            assert _refused(uploaded), (task, uploaded.status, uploaded.body)
        run = attacker.task(token, task)
        assert _refused(run) and run.json["Success"] is False, (task, run.body)
        result = attacker.result(token)
        assert _refused(result), (task, result.status, result.body)
    _assert_untouched(service, tenant, class_id, before)


def test_a_legitimate_upload_cannot_be_redirected_to_another_tenant(service, victims):
    """The attacker uploads under a token of its own partition, then signs a second token with the same jti
    (the samples' key) for the victim's class."""
    class_id, before = victims["tenant-b"]
    attacker = Flow(service, "tenant-a")
    own = attacker.token(new_class_id(), "enroll", livedetection="false")
    for name in ("obama_1.jpg", "obama_2.jpg"):
        assert attacker.upload(own, face(name)).json["Accepted"] is True
    jti = jwt.decode(own, options={"verify_signature": False})["jti"]
    forged = extension_token(service.clients["tenant-a"].key, "tenant-a", f"globex/1/{class_id}", "enroll", jti=jti)
    assert _refused(attacker.task(forged, "enroll"))
    _assert_untouched(service, "tenant-b", class_id, before)


def test_an_application_without_the_operation_cannot_sign_itself_one(service):
    """tenant-a-readonly (verify, status, count) signs an enroll token for its own partition."""
    class_id = new_class_id()
    app = Flow(service, "tenant-a-readonly")
    key = service.clients["tenant-a-readonly"].key
    for task in ("enroll", "identify", "livenessdetection"):
        token = extension_token(key, "tenant-a-readonly", f"acme/1/{class_id}", task)
        assert _refused(app.upload(token, face("obama_1.jpg"))), task
        assert _refused(app.task(token, task)), task
        assert _refused(app.result(token)), task
    with service.channel() as channel:
        assert not Caller(channel, service.clients["tenant-a"]).status(class_id).available  # nothing was enrolled


def test_token_claims_are_checked_at_use(service):
    app = Flow(service, "tenant-a")
    key = service.clients["tenant-a"].key
    bad = [
        extension_token(key, "tenant-a", "acme/1/0", "enroll"),  # class 0 addresses a partition: identify only
        extension_token(key, "tenant-a", "acme/1/5", "enroll", lifetime=253402300799 - 1),  # valid until 9999
        extension_token(key, "tenant-a", "acme/1/5", "enroll", maxtries=10**9),
        extension_token(key, "tenant-a", "acme/1/5", "dance"),
    ]
    for token in bad:
        assert app.upload(token, face("obama_1.jpg")).status == 401
        assert app.task(token, "enroll").status in (401, 403)


def test_unknown_application_and_bad_signature_read_the_same(service):
    app = Flow(service, "tenant-a")
    unknown = extension_token(b"u" * 32, "no-such-app", "acme/1/5", "enroll")
    wrong_key = extension_token(b"u" * 32, "tenant-a", "acme/1/5", "enroll")
    replies = [app.task(t, "enroll") for t in (unknown, wrong_key)]
    assert [r.status for r in replies] == [401, 401] and replies[0].json == replies[1].json
    replies = [app.upload(t, face("obama_1.jpg")) for t in (unknown, wrong_key)]
    assert [r.status for r in replies] == [401, 401] and replies[0].json == replies[1].json
    path = "/extension/token?bcid=acme/1/5&task=enroll"
    replies = [request(service.http_url, "GET", path, headers=basic(service, app_id, "some-secret-0123456789"))
               for app_id in ("tenant-a", "no-such-app")]
    assert [r.status for r in replies] == [401, 401] and replies[0].json == replies[1].json


def test_identify_addresses_a_partition_with_class_0(service):
    class_id = new_class_id()
    with service.channel() as channel:
        Caller(channel, service.clients["tenant-a"]).enroll(class_id, "kit_harington_1.jpg")
    app = Flow(service, "tenant-a")
    token = app.token(0, "identify", livedetection="false")
    assert app.upload(token, face("kit_harington_2.jpg")).json["Accepted"] is True
    found = app.task(token, "identify")
    assert found.status == 200 and f"acme/1/{class_id}" in [m["BCID"] for m in found.json["Matches"]]
    result = app.result(token)
    assert result.json["Action"] == "identification" and result.json["BCID"] == "acme/1/0"
    for task in ("enroll", "verify", "livenessdetection"):
        reply = request(service.http_url, "GET", f"/extension/token?bcid=acme/1/0&task={task}",
                        headers=basic(service))
        assert reply.status == 400, (task, reply.body)
