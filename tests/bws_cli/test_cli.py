"""The `bws` command, as installed, against the running service over gRPC and REST."""
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bws_cli.progress import CallProgress
from bws_cli.transport import ROUTES, CallFailed, RestTransport, http_request_of
from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from gateway.infra.auth import Authenticator
from gateway.infra.clients import Client, ClientRegistry
from templates_store import PartitionId
from templates_store.embedded import free_port
from tests.conftest import FACES, ROOT
from tests.e2e.helpers import new_class_id

BWS = shutil.which("bws", path=str(Path(sys.executable).parent))


@pytest.fixture(scope="module")
def bws(service):
    client = service.clients["tenant-a"]
    env = dict(os.environ, BWS_CLIENT_ID=client.client_id, BWS_CLIENT_KEY=base64.b64encode(client.key).decode(),
               PYTHONPATH=str(ROOT))

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
    assert same.stdout.startswith("NOT live") and "RejectedByActiveLiveDetection" in same.stdout
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
                            env={k: v for k, v in os.environ.items() if not k.startswith("BWS_")} |
                            {"PYTHONPATH": str(ROOT)})
    assert result.returncode != 0 and "client id is needed" in result.stderr
    result = subprocess.run([BWS, "--clientid", "x", "--key", base64.b64encode(bytes(32)).decode(), "verify",
                             "--classid", "1", "/nonexistent.jpg"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
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


def test_exit_codes_tell_scripts_the_answer(bws):
    class_id = str(new_class_id())
    failed = bws("enroll", "--classid", class_id, str(FACES / "group_two_faces.jpg"))
    assert failed.returncode == 3 and failed.stdout.startswith("ENROLLMENT_FAILED"), failed.stdout + failed.stderr
    assert bws("enroll", "--classid", class_id, str(FACES / "obama_1.jpg")).returncode == 0
    other = bws("verify", "--classid", class_id, str(FACES / "biden_1.jpg"))
    assert other.returncode == 3 and other.stdout.startswith("NOT verified")
    assert bws("verify", "--classid", class_id, str(FACES / "obama_2.jpg")).returncode == 0
    assert bws("livedetect", str(FACES / "obama_1.jpg"), str(FACES / "obama_1.jpg")).returncode == 3
    missing = bws("verify", "--classid", str(new_class_id()), str(FACES / "obama_2.jpg"))
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr
    assert bws("deletetemplate", "--classid", class_id).returncode == 0
    assert bws("verify").returncode == 2  # usage
    nobody = bws("healthcheck", "--host", f"127.0.0.1:{free_port()}", "--deadline", "2")
    assert nobody.returncode == 1 and "UNAVAILABLE" in nobody.stderr  # what container health checks expect


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_json_output_for_answers_and_errors(bws, rest):
    class_id = str(new_class_id())
    enrolled = json.loads(bws("--json", "enroll", "--classid", class_id, str(FACES / "rose_leslie_1.jpg"),
                              rest=rest).stdout)
    assert enrolled["performedAction"] == "NEW_TEMPLATE_CREATED" and enrolled["enrolledImages"] == 1
    verified = bws("--json", "verify", "--classid", class_id, str(FACES / "rose_leslie_2.jpg"), rest=rest)
    answer = json.loads(verified.stdout)
    assert verified.returncode == 0 and answer["verified"] is True and 0.5 <= answer["score"] <= 1
    assert json.loads(bws("--json", "deletetemplate", "--classid", class_id, rest=rest).stdout) == {}
    gone = bws("--json", "deletetemplate", "--classid", class_id, rest=rest)
    error = json.loads(gone.stdout)["error"]
    assert gone.returncode == 1 and class_id in error["message"]
    assert error["code"] == ("HTTP 404" if rest else "NOT_FOUND")
    assert json.loads(bws("--json", "healthcheck", rest=rest).stdout) == {"status": "SERVING"}


def test_host_and_token_from_the_environment(service):
    client = service.clients["tenant-a"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWS_")}
    env.update(PYTHONPATH=str(ROOT), BWS_HOST=service.grpc_target, BWS_URL=service.http_url,
               BWS_TOKEN=client.token())
    for rest in ([], ["--rest"]):
        counted = subprocess.run([BWS, *rest, "classcount"], capture_output=True, text=True, env=env, timeout=60)
        assert counted.returncode == 0 and counted.stdout.endswith("class(es)\n"), counted.stderr
    env["BWS_TOKEN"] = "not-a-token"
    refused = subprocess.run([BWS, "classcount"], capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr


def test_every_subcommand_has_help():
    from bws_cli.main import COMMANDS
    for command in COMMANDS:
        shown = subprocess.run([BWS, command, "--help"], capture_output=True, text=True,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
        assert shown.returncode == 0 and COMMANDS[command] in " ".join(shown.stdout.split()), command


def test_upload_progress_counts_the_bytes_written_to_the_socket(service):
    """The REST body is reported as it is sent, chunk by chunk, up to its real (JSON) size."""
    big = fr.FaceVerificationRequest(classId=new_class_id(), image=msg.ImageData(image=os.urandom(3 << 20)))
    client = service.clients["tenant-a"]
    reports = []
    with pytest.raises(CallFailed):  # random bytes are no image: refused after the upload
        RestTransport(service.http_url).call("FaceRecognition", "Verify", big,
                                             [("authorization", f"Bearer {client.token()}")], 60,
                                             lambda n, total: reports.append((n, total)))
    body_size = len(http_request_of(ROUTES["bioid.services.v1.FaceRecognition.Verify"], big)[1])
    assert len(reports) > 10 and sum(n for n, _ in reports) == body_size
    assert {total for _, total in reports} == {body_size} and body_size > big.ByteSize()  # base64 JSON, not proto


def test_progress_display_shows_upload_then_server_time():
    shown = io.StringIO()
    with CallProgress(shown, enabled=True) as progress:
        for _ in range(4):
            progress.sent(512 * 1024, 2 << 20)
        time.sleep(1.0)  # the server's turn
    text = shown.getvalue()
    assert "uploading" in text and "2.10M/2.10M" in text and "server working" in text
    quiet = io.StringIO()
    with CallProgress(quiet, enabled=True) as progress:
        progress.sent(1000, 1000)  # small body, quick answer: nothing shown
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_compare_two_photos(bws, rest):
    same = bws("compare", str(FACES / "obama_1.jpg"), str(FACES / "obama_2.jpg"), rest=rest)
    assert same.returncode == 0 and same.stdout.startswith("MATCH (score 0."), same.stdout + same.stderr
    other = bws("compare", str(FACES / "obama_1.jpg"), str(FACES / "biden_1.jpg"), rest=rest)
    assert other.returncode == 3 and other.stdout.startswith("NO MATCH (score 0."), other.stdout + other.stderr
    answer = json.loads(bws("--json", "compare", str(FACES / "obama_1.jpg"), str(FACES / "obama_2.jpg"),
                            rest=rest).stdout)
    assert answer["match"] is True and answer["level"].startswith("LEVEL_") and answer["errors"] == []
    assert float(same.stdout.split("score ")[1].split(",")[0]) == pytest.approx(answer["score"], abs=1e-3)
    two = bws("compare", str(FACES / "obama_1.jpg"), str(FACES / "group_two_faces.jpg"), rest=rest)
    assert two.returncode == 3 and f"{FACES / 'group_two_faces.jpg'}: 2 faces found" in two.stdout
    text = bws("compare", str(FACES / "PROVENANCE.md"), str(FACES / "obama_1.jpg"), rest=rest)
    assert text.returncode == 1 and f"{FACES / 'PROVENANCE.md'}: not a decodable image" in text.stderr
    assert "live_images" not in text.stderr


def test_exit_codes_are_the_same_for_every_command(bws, tmp_path):
    """0 yes, 3 no, 1 failure, 2 usage: search, compare, photoverify and liveness agree with verify."""
    class_id = str(new_class_id())
    assert bws("enroll", "--classid", class_id, str(FACES / "kit_harington_1.jpg")).returncode == 0
    tag = f"exit-{class_id}"
    assert bws("settags", "--classid", class_id, "--tags", tag).returncode == 0
    found = bws("search", "--tags", tag, str(FACES / "kit_harington_2.jpg"))
    assert found.returncode == 0 and found.stdout.startswith(f"image 0: {class_id} ")
    nobody = bws("search", "--tags", tag, str(FACES / "biden_1.jpg"))
    assert nobody.returncode == 3 and nobody.stdout.strip() == "image 0: no match"
    recognized = bws("photoverify", "--no-liveness", "--photo", str(FACES / "obama_2.jpg"), str(FACES / "obama_1.jpg"))
    assert recognized.returncode == 0 and "live" not in recognized.stdout.lower(), recognized.stdout
    stranger = bws("photoverify", "--no-liveness", "--photo", str(FACES / "biden_1.jpg"), str(FACES / "obama_1.jpg"))
    assert stranger.returncode == 3 and stranger.stdout.startswith("NOT_RECOGNIZED")
    assert bws("livedetect", str(FACES / "obama_1.jpg"), str(FACES / "obama_3.jpg")).returncode == 0
    for usage in (["compare", str(FACES / "obama_1.jpg")], ["compare", str(tmp_path / "none.jpg"),
                                                             str(FACES / "obama_1.jpg")],
                  ["--key", "not base64!", "search", str(FACES / "obama_1.jpg")],
                  ["enroll-dir", str(tmp_path / "no-such-folder")]):
        result = bws(*usage)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (usage, result.stderr)
    assert bws("deletetemplate", "--classid", class_id).returncode == 0


def photo_folder(root: Path) -> tuple[Path, list[int]]:
    """A class per sub-folder (two named by their id, one by a name the map resolves), a photo with two faces and
    a text file named .jpg."""
    ids = [new_class_id() for _ in range(3)]
    layout = {str(ids[0]): ["obama_1.jpg", "obama_2.jpg"], str(ids[1]): ["biden_1.jpg", "group_two_faces.jpg"],
              "rose": ["rose_leslie_1.jpg"]}
    for folder, names in layout.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(FACES / name, root / folder / name)
    (root / str(ids[1]) / "notes.jpg").write_text("not a photo")
    (root / str(ids[1]) / "README.txt").write_text("ignored: not an image name")
    return root, ids


def test_enroll_dir_is_resumable_and_reports_failures(bws, tmp_path):
    folder, ids = photo_folder(tmp_path / "photos")
    first = bws("enroll-dir", str(folder))
    assert first.returncode == 3, first.stdout + first.stderr
    assert first.stdout.startswith("3 photo(s) enrolled in ") and "3 failed" in first.stdout
    lines = first.stdout.splitlines()
    assert any(line.startswith(f"  {ids[1]}/group_two_faces.jpg: ") and "2 faces found" in line for line in lines)
    assert any(line.startswith(f"  {ids[1]}/notes.jpg: INVALID_ARGUMENT: not a decodable image") for line in lines)
    assert any(line.startswith("  rose/rose_leslie_1.jpg: no class id in the name 'rose'") for line in lines)
    (tmp_path / "map.csv").write_text(f"# name,class id\nrose,{ids[2]}\n")
    second = json.loads(bws("--json", "enroll-dir", "--map", str(tmp_path / "map.csv"), "--concurrency", "2",
                            str(folder)).stdout)
    assert (second["enrolled"], second["skipped"], second["classes"]) == (1, 3, 3), second
    assert {f["path"] for f in second["failed"]} == {f"{ids[1]}/group_two_faces.jpg", f"{ids[1]}/notes.jpg"}
    status = bws("gettemplate", "--classid", str(ids[0]))
    assert "2 feature vector(s)" in status.stdout, status.stdout  # each photo once, though the folder ran twice
    assert bws("verify", "--classid", str(ids[2]), str(FACES / "rose_leslie_2.jpg")).returncode == 0
    for class_id in ids:
        assert bws("deletetemplate", "--classid", str(class_id)).returncode == 0


def test_enroll_dir_by_file_name(bws, tmp_path):
    ids = [new_class_id(), new_class_id()]
    folder = tmp_path / "flat"
    folder.mkdir()
    shutil.copy(FACES / "kit_harington_1.jpg", folder / f"{ids[0]}.jpg")
    shutil.copy(FACES / "kit_harington_2.jpg", folder / f"{ids[0]}_2.jpg")
    shutil.copy(FACES / "alex_lacamoire_1.png", folder / f"{ids[1]}-front.png")
    journal = tmp_path / "journal"
    done = bws("enroll-dir", "--journal", str(journal), str(folder), rest=True)
    assert done.returncode == 0 and done.stdout.startswith("3 photo(s) enrolled"), done.stdout + done.stderr
    assert len(journal.read_text().splitlines()) == 3 and not (folder / ".bws-enrolled").exists()
    assert "2 feature vector(s)" in bws("gettemplate", "--classid", str(ids[0])).stdout
    again = bws("enroll-dir", "--journal", str(journal), str(folder), rest=True)
    assert again.returncode == 0 and again.stdout.startswith("0 photo(s) enrolled") and "3 skipped" in again.stdout
    for class_id in ids:
        assert bws("deletetemplate", "--classid", str(class_id)).returncode == 0


def test_enroll_dir_journals_the_client_a_token_names():
    """Found by a newcomer: with BWS_TOKEN every token was journalled as 'token', so a folder enrolled for one
    client was skipped for another."""
    import argparse

    from bws_cli.enroll_dir import client_of
    from bws_proto.api_token import make_token

    def args(**given):
        return argparse.Namespace(**{"clientid": None, "token": None, **given})

    key = b"k" * 64
    assert client_of(args(token=make_token("tenant-a", key))) == "tenant-a"
    assert client_of(args(token=make_token("tenant-b", key), clientid="tenant-a")) == "tenant-b"
    assert client_of(args(clientid="tenant-a")) == "tenant-a"
    assert client_of(args(token="not a jwt")) == "token"
