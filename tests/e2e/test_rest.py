"""Every REST route of the contract over real HTTP, on the running service."""
import base64
import http.client
import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import face
from tests.e2e.helpers import new_class_id
from tests.e2e.http import request


@pytest.fixture(scope="module")
def rest(service):
    token = service.clients["tenant-a"].token()

    def call(method, path, body=None, client=None, headers=None, **kw):
        auth = {"Authorization": f"Bearer {service.clients[client].token() if client else token}"}
        return request(service.http_url, method, path, body, {**auth, **(headers or {})}, **kw)
    return call


def b64(name: str) -> str:
    return base64.b64encode(face(name)).decode()


def assert_bws_headers(reply, reference=None):
    assert re.fullmatch(r"[0-9a-f-]{36}", reply.headers["jobid"])
    assert reply.headers["bws-version"] and reply.headers["date"].endswith("GMT")
    assert int(reply.headers["response-time-ms"]) >= 0
    if reference:
        assert reply.headers["reference-number"] == reference


def test_enroll_verify_status_tags_count_delete(rest):
    class_id = new_class_id()
    enrolled = rest("POST", f"/api/face/v1/enroll/{class_id}", [{"image": b64("obama_1.jpg")},
                                                               {"image": b64("obama_2.jpg"), "tags": ["x"]}],
                    headers={"Reference-Number": "rest-1"})
    assert enrolled.status == 200, enrolled.body
    assert_bws_headers(enrolled, "rest-1")
    body = enrolled.json
    assert body["status"] == "SUCCEEDED" and body["performedAction"] == "NEW_TEMPLATE_CREATED"
    assert body["errors"] == [] and body["enrolledImages"] == 2
    assert body["templateStatus"]["classId"] == class_id  # a JSON number, not a string
    assert isinstance(body["templateStatus"]["classId"], int)
    properties = body["imageProperties"][0]
    assert properties["rotated"] == 0 and properties["frameNumber"] == 0  # defaults are written
    assert properties["faces"][0]["leftEye"]["x"] > properties["faces"][0]["rightEye"]["x"]
    assert {"check", "score", "message"} <= set(properties["qualityAssessments"][0])

    verified = rest("POST", f"/api/face/v1/verify/{class_id}", {"image": b64("obama_3.jpg")})
    assert verified.status == 200 and verified.json["verified"] is True and 0.5 <= verified.json["score"] <= 1
    assert verified.json["imageProperties"]["qualityScore"] > 0

    tags = rest("PUT", f"/api/face/v1/template/{class_id}/tags", ["rest-tag", "b"])
    assert tags.status == 200 and tags.json == {}
    status = rest("GET", f"/api/face/v1/template/status/{class_id}?downloadThumbnails=true")
    assert status.status == 200
    template = status.json
    assert template["available"] is True and template["tags"] == ["b", "rest-tag"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", template["enrolled"])
    assert base64.b64decode(template["thumbnails"][0]["image"]).startswith(b"\x89PNG")
    assert rest("GET", f"/api/face/v1/template/status/{class_id}").json["thumbnails"] == []

    count = rest("GET", "/api/face/v1/classcount?tags=rest-tag&tags=b")
    assert count.status == 200 and count.json == {"numberOfClasses": 1}
    assert isinstance(rest("GET", "/api/face/v1/classcount").json["numberOfClasses"], int)

    deleted = rest("DELETE", f"/api/face/v1/template/{class_id}")
    assert deleted.status == 200 and deleted.json == {}
    assert rest("GET", f"/api/face/v1/template/status/{class_id}").json["available"] is False


def test_search_accepts_camel_case_and_proto_names(rest):
    class_id = new_class_id()
    rest("POST", f"/api/face/v1/enroll/{class_id}", [{"image": b64("rose_leslie_1.jpg")}])
    for flag in ("topMatches", "top_matches"):
        found = rest("POST", "/api/face/v1/search", {"images": [{"image": b64("rose_leslie_2.jpg")}], flag: True})
        assert found.status == 200, found.body
        matches = {m["classId"]: m["score"] for m in found.json["result"][0]["matches"]}
        assert class_id in matches and all(isinstance(c, int) for c in matches)  # numbers, not strings
        assert 0.5 <= matches[class_id] <= 1


def test_numeric_strings_and_proto_names_in_input(rest):
    class_id = new_class_id()
    assert rest("POST", f"/api/face/v1/enroll/{class_id}", [{"image": b64("biden_1.jpg")}]).status == 200
    status = rest("GET", f"/api/face/v1/template/status/{class_id}?download_thumbnails=true")
    assert status.status == 200 and len(status.json["thumbnails"]) == 1


@pytest.mark.parametrize("method, path, body, status, grpc_code", [
    ("POST", "/api/face/v1/verify/0", {"image": {"image": ""}}, 400, 3),
    ("POST", "/api/face/v1/verify/abc", {"image": ""}, 400, 3),
    ("POST", "/api/face/v1/verify/998877665544", {"image": ""}, 404, 5),
    ("POST", "/api/face/v1/search", {"images": [], "unknownField": 1}, 400, 3),
    ("POST", "/api/face/v1/enroll/5", {"not": "an array"}, 400, 3),
    ("GET", "/api/face/v1/classcount?nope=1", None, 400, 3),
    ("GET", "/api/face/v1/template/status/5?downloadThumbnails=maybe", None, 400, 3),
    ("DELETE", "/api/face/v1/template/998877665544", None, 404, 5),
    ("GET", "/api/face/v1/nothing-here", None, 404, 5),
    ("PATCH", "/api/face/v1/template/5", None, 405, 12),
    ("POST", "/api/v1/livenessdetection", {"liveImages": []}, 400, 3),
])
def test_errors_map_to_http_status_and_body(rest, method, path, body, status, grpc_code):
    reply = rest(method, path, body)
    assert reply.status == status, reply.body
    error = reply.json
    assert error["code"] == grpc_code and error["message"] and error["details"] == []


def test_malformed_json_is_400_saying_so(rest):
    reply = rest("POST", "/api/face/v1/search", raw=b'{"images": [')
    assert reply.status == 400 and "malformed JSON" in reply.json["message"]


def test_authentication_and_permissions(service, rest):
    missing = request(service.http_url, "GET", "/api/face/v1/classcount")
    assert missing.status == 401 and missing.json["code"] == 16
    assert_bws_headers(missing)  # failed calls carry the BWS headers too
    forged = request(service.http_url, "GET", "/api/face/v1/classcount", headers={"Authorization": "Bearer x.y.z"})
    assert forged.status == 401
    denied = rest("DELETE", "/api/face/v1/template/5", client="tenant-a-readonly")
    assert denied.status == 403 and denied.json["code"] == 7


def test_oversized_body_is_refused_before_it_is_read(service):
    url = urlsplit(service.http_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("POST", "/api/face/v1/search")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(60 * 1024 * 1024))
    connection.putheader("Authorization", f"Bearer {service.clients['tenant-a'].token()}")  # else a 401 first
    connection.endheaders()
    connection.send(b'{"images": [')  # the rest is never sent
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_probes(service):
    assert request(service.http_url, "GET", "/livez").status == 200
    ready = request(service.http_url, "GET", "/readyz")
    assert ready.status == 200 and ready.json == {"ready": True, "checks": {"store": True, "index": True,
                                                                        "accepting": True}}
