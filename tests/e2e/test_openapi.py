"""/openapi.json is generated from the annotations, is valid OpenAPI 3, and the
API survives schemathesis' generated requests without a server error."""
import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import face
from tests.e2e.browser import browser
from tests.e2e.helpers import new_class_id
from tests.e2e.http import request


@pytest.fixture(scope="module")
def document(service):
    reply = request(service.http_url, "GET", "/openapi.json")
    assert reply.status == 200
    return reply.json


def test_document_is_valid_openapi_and_lists_every_route(document):
    validate(document)
    paths = document["paths"]
    expected = {("post", "/api/face/v1/enroll/{classId}"), ("post", "/api/face/v1/verify/{classId}"),
                ("post", "/api/face/v1/search"), ("put", "/api/face/v1/template/{classId}/tags"),
                ("get", "/api/face/v1/template/status/{classId}"), ("get", "/api/face/v1/classcount"),
                ("delete", "/api/face/v1/template/{classId}"), ("post", "/api/v1/livenessdetection"),
                ("post", "/api/v1/videolivenessdetection"), ("post", "/api/v1/photoverify"),
                ("get", "/livez"), ("get", "/readyz")}
    assert expected <= {(m, p) for p, ops in paths.items() for m in ops}
    enroll = paths["/api/face/v1/enroll/{classId}"]["post"]
    assert enroll["requestBody"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith("/ImageData")
    count_parameters = {p["name"]: p for p in paths["/api/face/v1/classcount"]["get"]["parameters"]}
    assert count_parameters["tags"]["schema"]["type"] == "array"


def test_generated_requests_get_no_server_error(service, document, tmp_path):
    """The schemathesis CLI, bounded: 12 examples an operation, deterministic,
    on every operation of the document (transcoded, probes, /extension/)."""
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    token = service.clients["fuzz-tenant"].token()
    result = subprocess.run(
        [binary, "run", f"{service.http_url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "12", "--generation-deterministic", "--request-timeout", "60",
         "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    operations = sum(len(ops) for ops in document["paths"].values())
    assert f"Tested: {operations}" in result.stdout, result.stdout[-3000:]


def test_descriptions_come_from_the_proto_comments(document):
    verify = document["paths"]["/api/face/v1/verify/{classId}"]["post"]
    assert verify["summary"] == "Compares one image with the template of classId"
    assert "/bioid.services.v1.FaceRecognition/Verify" in verify["description"]
    schemas = document["components"]["schemas"]
    response = schemas["bioid.services.v1.FaceVerificationResponse"]
    assert response["properties"]["score"]["description"] == "Similarity in ]0, 1]; higher means more alike."
    assert "Coordinates assume a mirrored image" in schemas["Face"]["description"]
    tags = {t["name"]: t["description"] for t in document["tags"]}
    assert tags["FaceRecognition"].startswith("BWS 3 face recognition")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] and operation["operationId"], (method, path)


def test_fields_the_server_always_writes_are_required_and_requests_require_nothing(document):
    schemas = document["components"]["schemas"]
    response = schemas["bioid.services.v1.FaceVerificationResponse"]
    assert {"status", "errors", "verified", "score"} <= set(response["required"])
    assert "imageProperties" not in response["required"]  # a message field: written only when set
    assert "required" not in schemas["ImageData"]


def test_servers_security_schemes_and_extension_routes(document):
    assert document["servers"] == [{"url": "/", "description": "this gateway"}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["basic"]["scheme"] == "basic"
    paths = document["paths"]
    assert paths["/extension/token"]["get"]["security"] == [{"basic": []}]
    assert paths["/extension/upload"]["post"]["security"] == [{"bwsToken": []}]
    assert {f"/extension/{t}" for t in ("enroll", "verify", "identify", "livenessdetection", "result")} <= set(paths)
    direct = ("status", "isenrolled", "qualitycheck", "livedetection", "passivelivedetection", "photoverify",
              "photoverify2")
    for name in direct:  # the classic direct calls, Basic app id and secret
        (operation,) = paths[f"/extension/{name}"].values()
        assert operation["security"] == [{"basic": []}], name
    assert paths["/metrics"]["get"]["security"] == []


def test_real_responses_match_their_schemas(service, document):
    """A real verification answered over REST validates against the document,
    required fields included."""
    token = service.clients["tenant-a"].token()
    headers = {"Authorization": f"Bearer {token}"}
    class_id = new_class_id()
    image_json = lambda name: {"image": base64.b64encode(face(name)).decode()}
    enroll = request(service.http_url, "POST", f"/api/face/v1/enroll/{class_id}", [image_json("obama_1.jpg")],
                     headers=headers)
    verify = request(service.http_url, "POST", f"/api/face/v1/verify/{class_id}", image_json("obama_3.jpg"),
                     headers=headers)
    for reply, name in ((enroll, "FaceEnrollmentResponse"), (verify, "FaceVerificationResponse")):
        assert reply.status == 200, reply.body
        root = {"$ref": f"#/components/schemas/bioid.services.v1.{name}", "components": document["components"]}
        OAS30Validator(root).validate(reply.json)
    assert verify.json["verified"] is True


def test_redocly_lints_the_document_without_a_problem(document, tmp_path):
    """@redocly/cli (pinned in tools/redocly, installed by `npm ci --prefix tools/redocly`) with the
    recommended-strict rules, less two documented exceptions (tools/redocly/redocly.yaml)."""
    tools = Path(__file__).resolve().parents[2] / "tools" / "redocly"
    binary = tools / "node_modules" / ".bin" / "redocly"
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(tools)], check=True, timeout=600,
                       capture_output=True)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    done = subprocess.run([str(binary), "lint", "--config", str(tools / "redocly.yaml"), "--format", "json",
                           str(tmp_path / "openapi.json")], capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]
    assert done.returncode == 0


def test_swagger_ui_at_docs_renders_every_operation_from_packaged_files(service, document, tmp_path):
    page = request(service.http_url, "GET", "/docs")
    assert page.status == 200 and b"/docs/swagger-ui/swagger-ui-bundle.js" in page.body
    assert b"//" not in page.body.replace(b"<!doctype", b"")  # no absolute URLs, no CDN
    assert request(service.http_url, "GET", "/docs/swagger-ui/swagger-ui-bundle.js").status == 200
    operations = sum(len(ops) for ops in document["paths"].values())
    driver = browser(None, tmp_path / "profile")
    try:
        driver.get(f"{service.http_url}/docs")
        WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) == operations)
        driver.save_screenshot(str(tmp_path / "docs.png"))
        print(f"Swagger UI screenshot: {tmp_path / 'docs.png'}")
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()
