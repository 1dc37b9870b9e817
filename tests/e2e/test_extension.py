"""The BWS 2 token flow under /extension/, end to end over real HTTP."""
import base64
import time
from pathlib import Path

import jwt
import pytest
from PIL import Image

from tests.conftest import APP_SECRETS, face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.media import jpeg, photo

STORAGE = {"tenant-a": "acme/1", "legacy-app": "legacy/1", "tenant-b": "globex/1"}


def basic(service, app="tenant-a", secret=None):
    if secret is None:
        secret = APP_SECRETS.get(app) or base64.b64encode(service.clients[app].key).decode()
    return {"Authorization": "Basic " + base64.b64encode(f"{app}:{secret}".encode()).decode()}


def data_url(raw: bytes, kind="jpeg") -> bytes:
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode()}".encode()


class Flow:
    def __init__(self, service, app="tenant-a"):
        self.service, self.app = service, app

    def token(self, class_id, task, **params):
        query = "&".join(f"{k}={v}" for k, v in {"id": self.app, "bcid": f"{STORAGE[self.app]}/{class_id}",
                                                  "task": task, **params}.items())
        reply = request(self.service.http_url, "GET", f"/extension/token?{query}", headers=basic(self.service,
                                                                                                   self.app))
        assert reply.status == 200, reply.body
        return reply.body.decode()

    def upload(self, token, raw, tag=None, index=None):
        query = "&".join(f"{k}={v}" for k, v in (("tag", tag), ("index", index)) if v is not None)
        return request(self.service.http_url, "POST", f"/extension/upload?{query}", raw=data_url(raw)
                       if isinstance(raw, bytes) and not raw.startswith(b"data:") else raw,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})

    def task(self, token, task, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return request(self.service.http_url, "GET", f"/extension/{task}?{query}",
                       headers={"Authorization": f"Bearer {token}"})

    def result(self, token, app=None):
        return request(self.service.http_url, "GET", f"/extension/result?access_token={token}",
                       headers=basic(self.service, app or self.app))


@pytest.fixture(scope="module")
def flow(service):
    return Flow(service)


def test_enroll_here_verify_over_grpc_and_back(flow, service):
    class_id = new_class_id()
    token = flow.token(class_id, "enroll", livedetection="false")
    for index, name in enumerate(["obama_1.jpg", "obama_2.jpg"]):
        uploaded = flow.upload(token, face(name), index=index)
        assert uploaded.status == 200 and uploaded.json["Accepted"] is True, uploaded.body
    enrolled = flow.task(token, "enroll")
    assert enrolled.status == 200 and enrolled.json == {"Success": True, "Error": None}
    result = flow.result(token)
    assert result.status == 200
    assert result.json == {"Action": "enrollment", "BCID": f"acme/1/{class_id}", "Success": True, "Error": None,
                           "Matches": []}
    with service.channel() as channel:
        grpc_caller = Caller(channel, service.clients["tenant-a"])
        status = grpc_caller.status(class_id)
        assert status.feature_vectors == 2 and status.thumbnails_stored == 2
        assert grpc_caller.verify(class_id, "obama_3.jpg").verified
        other = new_class_id()
        grpc_caller.enroll(other, "biden_1.jpg")
    # ...and a class enrolled over gRPC verifies through this flow, with liveness.
    token = flow.token(other, "verify")
    flow.upload(token, face("biden_1.jpg"), index=1)
    flow.upload(token, face("biden_2.jpg"), index=2)
    verified = flow.task(token, "verify")
    assert verified.status == 200 and verified.json["Success"] is True, verified.body


def test_same_template_either_way(flow, service):
    here, there = new_class_id(), new_class_id()
    token = flow.token(here, "enroll", livedetection="false")
    flow.upload(token, face("kit_harington_1.jpg"))
    assert flow.task(token, "enroll").json["Success"]
    with service.channel() as channel:
        grpc_caller = Caller(channel, service.clients["tenant-a"])
        grpc_caller.enroll(there, "kit_harington_1.jpg")
        a, b = grpc_caller.verify(here, "kit_harington_2.jpg"), grpc_caller.verify(there, "kit_harington_2.jpg")
    assert a.verified and a.score == pytest.approx(b.score, abs=1e-9)


def test_verify_of_an_unknown_class_and_a_stranger(flow):
    token = flow.token(new_class_id(), "verify", livedetection="false")
    flow.upload(token, face("rose_leslie_1.jpg"))
    assert flow.task(token, "verify").json == {"Success": False, "Error": "NoTemplateAvailable"}


def test_identify_lists_matches_sorted(flow, service):
    class_id = new_class_id()
    with service.channel() as channel:
        Caller(channel, service.clients["tenant-a"]).enroll(class_id, "alex_lacamoire_1.png")
    token = flow.token(1, "identify", livedetection="false")
    flow.upload(token, face("alex_lacamoire_2.jpg"))
    found = flow.task(token, "identify", maxresults="5")
    assert found.status == 200 and found.json["Success"] is True
    matches = found.json["Matches"]
    assert f"acme/1/{class_id}" in [m["BCID"] for m in matches] and len(matches) <= 5
    assert [m["Score"] for m in matches] == sorted((m["Score"] for m in matches), reverse=True)
    assert flow.result(token).json["Action"] == "identification"


def test_liveness_task(flow):
    token = flow.token(1, "livenessdetection")
    flow.upload(token, face("obama_1.jpg"), index=0)
    flow.upload(token, face("obama_3.jpg"), index=1)
    assert flow.task(token, "livenessdetection").json == {"Success": True, "Error": None}
    token = flow.token(1, "livenessdetection")
    flow.upload(token, face("obama_1.jpg"), index=0)
    flow.upload(token, face("obama_1.jpg"), index=1)
    assert flow.task(token, "livenessdetection").json == {"Success": False, "Error": "LiveDetectionFailed"}
    token = flow.token(1, "livenessdetection")  # one sample: passive liveness
    flow.upload(token, face("obama_1.jpg"))
    assert flow.task(token, "livenessdetection").json == {"Success": True, "Error": None}
    token = flow.token(1, "livenessdetection")  # the passive model's own attack sample
    flow.upload(token, (Path(__file__).parents[1] / "fixtures" / "minifasnet" / "image_F2.jpg").read_bytes())
    assert flow.task(token, "livenessdetection").json == {"Success": False, "Error": "LiveDetectionFailed"}


def test_challenge_response(flow):
    # obama_1 -> obama_2 is a turn to the person's right (tests/e2e/test_liveness.py finds it too).
    for _ in range(60):
        token = flow.token(1, "livenessdetection", challenge="true")
        challenge = jwt.decode(token, options={"verify_signature": False})["challenge"]
        if challenge[0] == "right":
            break
    assert challenge[0] == "right" and len(challenge) == 3
    flow.upload(token, face("obama_1.jpg"), index=0)
    flow.upload(token, face("obama_2.jpg"), tag="right", index=1)
    assert flow.task(token, "livenessdetection").json == {"Success": True, "Error": None}
    token = flow.token(1, "livenessdetection", challenge="true")
    wrong = "left" if jwt.decode(token, options={"verify_signature": False})["challenge"][0] != "left" else "up"
    flow.upload(token, face("obama_1.jpg"), index=0)
    flow.upload(token, face("obama_2.jpg"), tag=wrong, index=1)
    assert flow.task(token, "livenessdetection").json == {"Success": False, "Error": "ChallengeResponseFailed"}


def test_samples_are_consumed_and_tries_counted(flow):
    class_id = new_class_id()
    token = flow.token(class_id, "enroll", livedetection="false", maxtries="2")
    flow.upload(token, face("rose_leslie_1.jpg"))
    assert flow.task(token, "enroll").json["Success"] is True
    replay = flow.task(token, "enroll")  # same token, samples gone
    assert replay.status == 400 and replay.json["Error"] == "no samples uploaded"
    flow.upload(token, face("rose_leslie_2.jpg"))
    used_up = flow.task(token, "enroll")
    assert used_up.status == 403 and "tries" in used_up.json["Error"]


def test_token_for_another_task_and_bad_tokens(flow, service):
    token = flow.token(new_class_id(), "enroll")
    flow.upload(token, face("obama_1.jpg"))
    wrong_task = flow.task(token, "verify")
    assert wrong_task.status == 403 and wrong_task.json["Success"] is False
    key = service.clients["tenant-a"].key
    now = int(time.time())
    expired = jwt.encode({"iss": "tenant-a", "sub": "tenant-a", "aud": "BWS-extension", "jti": "x", "iat": now - 900,
                          "nbf": now - 900, "exp": now - 300, "bcid": "acme/1/5", "task": "enroll", "maxtries": 3,
                          "livedetection": False, "challenge": []}, key, algorithm="HS256")
    for bad in (expired, "garbage", service.clients["tenant-a"].token()):  # the API JWT is no BWS token
        reply = flow.task(bad, "enroll")
        assert reply.status == 401, (bad[:20], reply.body)
        assert flow.upload(bad, face("obama_1.jpg")).status == 401
    assert request(service.http_url, "GET", "/extension/enroll").status == 401


def test_result_rules(flow, service):
    token = flow.token(new_class_id(), "verify")
    assert flow.result(token).status == 204
    other_app = Flow(service, "legacy-app")
    assert other_app.result(token).status == 401  # a token of another app
    assert request(service.http_url, "GET", f"/extension/result?access_token={token}").status == 401


def test_uploads_are_checked(flow):
    token = flow.token(new_class_id(), "enroll")
    not_image = flow.upload(token, b"not a picture at all")
    assert not_image.status == 200 and not_image.json == {"Accepted": False, "Error": "InvalidSample",
                                                          "Message": not_image.json["Message"]}
    not_data_url = flow.upload(token, b"data:text/plain;base64,aGVsbG8=")
    assert not_data_url.status == 400 and not_data_url.json["Error"] == "InvalidSample"
    assert flow.upload(token, jpeg(Image.new("RGB", (320, 240), (90, 140, 200)))).json["Error"] == "NoFaceFound"
    assert flow.upload(token, face("group_two_faces.jpg")).json == {"Accepted": False, "Error": "MultipleFacesFound"}
    small = photo("obama_1.jpg")
    small = small.resize((small.width // 7, small.height // 7))
    warned = flow.upload(token, jpeg(small))
    assert warned.json["Accepted"] is True and "ImageTooSmall" in warned.json["Warnings"]
    png = flow.upload(token, data_url(face("alex_lacamoire_1.png"), "png"))
    assert png.json["Accepted"] is True


def test_more_uploads_than_allowed(flow):
    token = flow.token(new_class_id(), "enroll")
    image = face("kit_harington_2.jpg")
    for index in range(10):
        assert flow.upload(token, image, index=index).json["Accepted"] is True
    assert flow.upload(token, image, index=3).json["Accepted"] is True  # replacing is fine
    too_many = flow.upload(token, image, index=10)
    assert too_many.status == 400 and too_many.json["Error"] == "TooManySamples"


@pytest.mark.parametrize("params, status", [
    ({"task": "enroll", "bcid": "globex/1/5"}, 403),  # another tenant's partition
    ({"task": "dance", "bcid": "acme/1/5"}, 400),
    ({"task": "enroll", "bcid": "acme/1/0"}, 400),
    ({"task": "enroll", "bcid": "acme/1/5", "maxtries": "16"}, 400),
    ({"task": "enroll", "bcid": "acme/1/5", "maxtries": "0"}, 400),
    ({"task": "enroll", "bcid": "acme/1/5", "id": "legacy-app"}, 401),
])
def test_token_requests_are_checked(service, params, status):
    query = "&".join(f"{k}={v}" for k, v in {"id": "tenant-a", **params}.items())
    assert request(service.http_url, "GET", f"/extension/token?{query}", headers=basic(service)).status == status


def test_basic_auth_and_app_secrets(service):
    path = "/extension/token?id=legacy-app&bcid=legacy/1/7&task=verify"
    assert request(service.http_url, "GET", path, headers=basic(service, "legacy-app")).status == 200
    wrong = request(service.http_url, "GET", path, headers=basic(service, "legacy-app", "wrong-secret-123456"))
    assert wrong.status == 401 and wrong.headers["www-authenticate"] == "Basic"
    readonly = request(service.http_url, "GET", "/extension/token?id=tenant-a-readonly&bcid=acme/1/7&task=enroll",
                       headers=basic(service, "tenant-a-readonly"))
    assert readonly.status == 403
