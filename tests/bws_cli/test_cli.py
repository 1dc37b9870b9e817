"""The `bws` command, as installed, against the running service over gRPC and REST."""
import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bws_cli.transport import ROUTES, http_request_of
from bws_proto import facerecognition_pb2 as fr
from gateway.auth import Authenticator
from gateway.clients import Client, ClientRegistry
from templates_store import PartitionId
from tests.conftest import FACES
from tests.e2e.helpers import new_class_id

BWS = shutil.which("bws", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def bws(service):
    client = service.clients["tenant-a"]
    env = dict(os.environ, BWS_CLIENT_ID=client.client_id, BWS_CLIENT_KEY=base64.b64encode(client.key).decode())

    def run(*args: str, rest: bool = False) -> subprocess.CompletedProcess:
        host = ["--rest", "--host", service.http_url] if rest else ["--host", service.grpc_target]
        return subprocess.run([BWS, *host, *args], capture_output=True, text=True, env=env, timeout=120)
    return run


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_a_session(bws, rest, tmp_path):
    class_id = str(new_class_id())
    enrolled = bws("enroll", "--classid", class_id, str(FACES / "kit_harington_1.jpg"),
                   str(FACES / "group_two_faces.jpg"), rest=rest)
    assert enrolled.returncode == 0, enrolled.stderr
    assert "NEW_TEMPLATE_CREATED: 1 image(s) enrolled" in enrolled.stdout
    assert "2 faces found, one expected" in enrolled.stdout
    assert "reading images" in enrolled.stderr  # the progress bar for several images
    verified = bws("verify", "--classid", class_id, str(FACES / "kit_harington_2.jpg"), rest=rest)
    assert verified.returncode == 0 and verified.stdout.startswith("VERIFIED")
    assert bws("settags", "--classid", class_id, "--tags", f"cli-{class_id},x", rest=rest).returncode == 0
    counted = bws("classcount", "--tags", f"cli-{class_id}", rest=rest)
    assert counted.stdout.strip() == "1 class(es)"
    found = bws("search", "--tags", f"cli-{class_id}", str(FACES / "kit_harington_2.jpg"), rest=rest)
    assert found.stdout.startswith(f"image 0: {class_id} (")
    template = bws("gettemplate", "--classid", class_id, "--thumbnails", str(tmp_path), rest=rest)
    assert "1 feature vector(s)" in template.stdout and (tmp_path / f"{class_id}-0.png").exists()
    verbose = bws("-v", "classcount", "--reference-number", "cli-ref", rest=rest)
    assert "reference-number: cli-ref" in verbose.stdout and "jobid: " in verbose.stdout
    assert bws("deletetemplate", "--classid", class_id, rest=rest).returncode == 0
    again = bws("deletetemplate", "--classid", class_id, rest=rest)
    assert again.returncode == 1 and f"no template for class {class_id}" in again.stderr
    assert bws("healthcheck", rest=rest).stdout.strip() == "SERVING"


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_liveness_and_photoverify(bws, rest):
    live = bws("livedetect", str(FACES / "obama_1.jpg"), str(FACES / "obama_3.jpg"), rest=rest)
    assert live.returncode == 0 and live.stdout.startswith("LIVE (liveness score 0.")
    same = bws("livedetect", str(FACES / "obama_1.jpg"), str(FACES / "obama_1.jpg"), rest=rest)
    assert same.stdout.startswith("NOT live") and "LiveDetectionFailed" in same.stdout
    verified = bws("photoverify", "--photo", str(FACES / "obama_2.jpg"), "--no-liveness", str(FACES / "obama_1.jpg"),
                   rest=rest)
    assert verified.returncode == 0 and verified.stdout.startswith("LEVEL_")


def test_token_is_accepted_by_the_service_rules(bws, service):
    client = service.clients["tenant-a"]
    token = bws("token").stdout.strip()
    registry = ClientRegistry([Client(client.client_id, client.key, PartitionId("acme", 1))])
    assert Authenticator(registry).authenticate(f"Bearer {token}").client_id == client.client_id


def test_missing_credentials_and_files_are_clear(service):
    result = subprocess.run([BWS, "--host", service.grpc_target, "classcount"], capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("BWS_CLIENT")})
    assert result.returncode != 0 and "client id is needed" in result.stderr
    result = subprocess.run([BWS, "--clientid", "x", "--key", base64.b64encode(bytes(32)).decode(), "verify",
                             "--classid", "1", "/nonexistent.jpg"], capture_output=True, text=True)
    assert result.returncode != 0 and "cannot read /nonexistent.jpg" in result.stderr


def test_http_request_is_built_from_the_annotations():
    route = ROUTES["bioid.services.v1.FaceRecognition.GetTemplateStatus"]
    path, body = http_request_of(route, fr.FaceTemplateStatusRequest(classId=12, download_thumbnails=True))
    assert path == "/api/face/v1/template/status/12?downloadThumbnails=true" and body is None
    route = ROUTES["bioid.services.v1.FaceRecognition.SetTemplateTags"]
    path, body = http_request_of(route, fr.SetTemplateTagsRequest(classId=3, tags=["a", "b"]))
    assert path == "/api/face/v1/template/3/tags" and body == b'["a", "b"]'
    route = ROUTES["bioid.services.v1.FaceRecognition.GetClassCount"]
    assert http_request_of(route, fr.GetClassCountRequest(tags=["a", "b"]))[0] == \
        "/api/face/v1/classcount?tags=a&tags=b"
