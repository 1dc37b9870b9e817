"""The classic Web API's direct calls (/extension/status, isenrolled, qualitycheck, livedetection,
passivelivedetection, photoverify, photoverify2), driven as BioID's own samples call them, against the real
service:

- BioID-GmbH/FaceLivenessDetection, Controllers/LivenessDetectionController.cs: POST livedetection with Basic
  app id and secret and a JSON body {liveimage1, liveimage2} of "data:image/png;base64,..." URLs; reads 200 as
  bool.Parse(body), a 400 as {"Message": <code>} (Helper/Extensions.cs lists the codes).
- the same sample's Controllers/PhotoVerifyController.cs: POST photoverify2 with {liveimage1, liveimage2, idphoto},
  "data:," for a missing live image; reads {Success, AccuracyLevel, Errors[{Code, Message, Details}]}.
- developer.bioid.com /classicbws/bwsreference/webapi/isenrolled: GET isenrolled?bcid=STORAGE.PARTITION.CLASS_ID
  &trait=face (its jQuery and OkHttp samples), 200 enrolled, 404 not; status, qualitycheck and
  passivelivedetection as their pages describe them."""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import basic

PNG_URL = "data:image/png;base64,"  # what BioID's C# samples prefix, whatever the bytes


def url(name: str) -> str:
    return PNG_URL + base64.b64encode(face(name)).decode()


def post(service, path: str, body, app: str = "tenant-a", form: bool = False, raw: str | None = None):
    if raw is not None:
        data, kind = raw.encode(), "text/plain"
    elif form:
        data, kind = urlencode(body).encode(), "application/x-www-form-urlencoded"
    else:
        data, kind = json.dumps(body).encode(), "application/json; charset=utf-8"
    return request(service.http_url, "POST", path, raw=data,
                   headers={**basic(service, app), "Content-Type": kind})


def test_status_lists_what_the_application_may_call(service):
    reply = request(service.http_url, "GET", "/extension/status", headers=basic(service))
    assert reply.status == 200 and reply.headers["jobid"]
    names = {f["Name"]: f for f in reply.json["Features"]}
    assert reply.json["Version"] and reply.json["Label"]
    assert set(names) == {"QualityCheck", "LiveDetection", "Enrollment", "Verification", "Identification",
                          "PhotoVerify"}
    assert names["Verification"] == {"Name": "Verification", "Traits": "Face", "Storage": "acme", "Partitions": "1"}
    readonly = request(service.http_url, "GET", "/extension/status", headers=basic(service, "tenant-a-readonly"))
    assert {f["Name"] for f in readonly.json["Features"]} == {"QualityCheck", "Verification"}
    refused = request(service.http_url, "GET", "/extension/status", headers=basic(service, secret="wrong-secret"))
    assert refused.status == 401 and refused.headers["www-authenticate"] == "Basic" and "Message" in refused.json


def test_isenrolled_as_bioids_samples_ask(service, a: Caller):
    class_id = new_class_id()

    def ask(bcid: str, trait: str = "face", app: str = "tenant-a") -> int:
        query = urlencode({"bcid": bcid, "trait": trait})
        return request(service.http_url, "GET", f"/extension/isenrolled?{query}", headers=basic(service, app)).status

    assert ask(f"acme.1.{class_id}") == 404
    a.enroll(class_id, "obama_1.jpg")
    assert ask(f"acme.1.{class_id}") == 200 and ask(f"acme/1/{class_id}") == 200 and ask(f"acme.1.{class_id}",
                                                                                          "Face") == 200
    assert ask(f"acme.1.{class_id}", "periocular") == 404  # a trait without templates here
    assert ask(f"acme.2.{class_id}") == 403 and ask(f"globex.1.{class_id}") == 403  # outside the partition
    assert ask(f"acme.1.{class_id}", "iris") == 400 and ask("acme.1.x") == 400 and ask("") == 400
    assert ask(f"globex.1.{class_id}", app="tenant-b") == 404  # tenant-b sees its own partition only


def test_livedetection_as_the_liveness_sample_calls_it(service):
    moving = post(service, "/extension/livedetection", {"liveimage1": url("obama_1.jpg"),
                                                        "liveimage2": url("obama_3.jpg")})
    assert moving.status == 200 and moving.body.strip() in (b"true", b"false") and json.loads(moving.body) is True
    still = post(service, "/extension/livedetection", {"liveimage1": url("obama_1.jpg"),
                                                       "liveimage2": url("obama_1.jpg")})
    assert still.status == 200 and json.loads(still.body) is False
    form = post(service, "/extension/livedetection", {"liveimage1": url("obama_1.jpg"),
                                                      "liveimage2": url("obama_3.jpg")}, form=True)
    assert form.status == 200 and json.loads(form.body) is True
    detailed = post(service, "/extension/livedetection?state=details",
                    {"liveimage1": url("obama_1.jpg"), "liveimage2": url("obama_1.jpg")})
    result = detailed.json
    assert result["Success"] is False and result["State"] == "details" and result["JobID"] == detailed.headers["jobid"]
    assert [e["Code"] for e in result["Errors"]] == ["LiveDetectionFailed"] and len(result["Samples"]) == 2
    assert set(result["Samples"][0]["EyeCenters"]) == {"RightEyeX", "RightEyeY", "LeftEyeX", "LeftEyeY"}


@pytest.mark.parametrize("body, code", [
    ({"liveimage1": url("obama_1.jpg")}, "MissingData"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": "data:,"}, "MissingData"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": PNG_URL + "not base64!"}, "InvalidSampleData"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": url("group_two_faces.jpg")}, "MultipleFacesFound"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": PNG_URL}, "MissingData"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": PNG_URL + base64.b64encode(b"not an image").decode()},
     "InvalidSampleData"),
    ({"liveimage1": url("obama_1.jpg"), "liveimage2": PNG_URL + "AAAA"},
     "InvalidSampleData"),
], ids=["one-image", "data-comma", "bad-base64", "two-faces", "empty", "not-an-image", "three-bytes"])
def test_livedetection_400_names_the_code(service, body, code):
    reply = post(service, "/extension/livedetection", body)
    assert reply.status == 400 and reply.json["Message"] == code


def test_passivelivedetection_and_qualitycheck_take_one_data_url(service):
    passive = post(service, "/extension/passivelivedetection?state=s1", None, raw=url("obama_1.jpg"))
    assert passive.status == 200 and passive.json["Success"] is True and passive.json["State"] == "s1"
    assert passive.json["Errors"] == [] and len(passive.json["Samples"]) == 1
    quality = post(service, "/extension/qualitycheck", None, raw=url("obama_1.jpg"))
    assert quality.status == 200 and set(quality.json) >= {"Success", "Errors", "EyeCenters"}
    assert quality.json["EyeCenters"]["LeftEyeX"] > quality.json["EyeCenters"]["RightEyeX"] > 0
    group = post(service, "/extension/qualitycheck", None, raw=url("group_two_faces.jpg"))
    assert group.status == 200 and group.json["Success"] is False
    assert [e["Code"] for e in group.json["Errors"]] == ["MultipleFacesFound"]
    nothing = post(service, "/extension/passivelivedetection", None, raw="data:,")
    assert nothing.status == 400 and nothing.json["Message"] == "MissingData"


def test_photoverify_and_photoverify2_as_the_photoverify_sample_calls_them(service):
    both = {"liveimage1": url("obama_1.jpg"), "liveimage2": url("obama_3.jpg"), "idphoto": url("obama_2.jpg")}
    verified = post(service, "/extension/photoverify2", both)
    assert verified.status == 200 and verified.json["Success"] is True and verified.json["Errors"] == []
    assert 1 <= verified.json["AccuracyLevel"] <= 5 and verified.json["JobID"] == verified.headers["jobid"]
    assert json.loads(post(service, "/extension/photoverify", both).body) is verified.json["Success"]
    # one live image, "data:," for the other (the sample's way): no liveness detection, the level still computed
    single = post(service, "/extension/photoverify2", {**both, "liveimage2": "data:,"})
    assert single.status == 200 and single.json["AccuracyLevel"] >= 1
    assert single.json["Success"] is (single.json["AccuracyLevel"] >= 4) and single.json["Errors"] == []
    other = post(service, "/extension/photoverify2", {**both, "idphoto": url("biden_1.jpg")})
    assert other.status == 200 and other.json["Success"] is False and other.json["AccuracyLevel"] == 0
    assert json.loads(post(service, "/extension/photoverify", {**both, "idphoto": url("biden_1.jpg")}).body) is False
    # the same images still, the second not moved: liveness fails, no level (as BWS 3's PhotoVerify)
    still = post(service, "/extension/photoverify2", {**both, "liveimage2": url("obama_1.jpg")})
    assert still.json["Success"] is False and still.json["AccuracyLevel"] == 0
    assert "LiveDetectionFailed" in [e["Code"] for e in still.json["Errors"]]
    strict = post(service, "/extension/photoverify?accuracy=9", both)  # above 5 is 5
    assert strict.status == 200 and json.loads(strict.body) is (verified.json["AccuracyLevel"] >= 5)
    assert post(service, "/extension/photoverify?accuracy=high", both).status == 400
    missing = post(service, "/extension/photoverify2", {"liveimage1": url("obama_1.jpg")})
    assert missing.status == 400 and missing.json["Message"] == "MissingData"


def test_operations_partitions_and_body_limits(service):
    refused = post(service, "/extension/livedetection", {"liveimage1": url("obama_1.jpg"),
                                                         "liveimage2": url("obama_3.jpg")}, app="tenant-a-readonly")
    assert refused.status == 403
    unauthenticated = request(service.http_url, "POST", "/extension/photoverify2", body={},
                              headers={"Authorization": "Bearer x"})
    assert unauthenticated.status == 401 and unauthenticated.headers["www-authenticate"] == "Basic"
    crowded = post(service, "/extension/livedetection", {f"field{i}": "x" for i in range(40)}, form=True)
    assert crowded.status == 400 and crowded.json["Message"] == "InvalidSampleData"
    huge = request(service.http_url, "POST", "/extension/qualitycheck", raw=b"",
                   headers={**basic(service), "Content-Length": str(60 * 1024 * 1024)})
    assert huge.status == 413
