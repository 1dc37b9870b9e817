"""/openapi.json is generated from the annotations, is valid OpenAPI 3, and the
API survives schemathesis' generated requests without a server error."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

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


def test_generated_requests_get_no_server_error(service, tmp_path):
    """The schemathesis CLI, bounded: 12 examples an operation, deterministic."""
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    token = service.clients["fuzz-tenant"].token()
    result = subprocess.run(
        [binary, "run", f"{service.http_url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "12", "--generation-deterministic", "--request-timeout", "60",
         "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Tested: 12" in result.stdout
