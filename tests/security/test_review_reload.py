"""Found in review: reloading the clients or keys file ran on the event loop. A FIFO at the watched path froze
/livez and every gRPC call until someone wrote to it; a 300 MB file stalled the service for seconds. Only
regular files of at most 16 MiB are read, off the event loop; anything else is one logged error and the
previous value stays in use. The same holds for the first load at start-up (one line, exit 1)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import pytest

from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from templates_store import KeyRing
from tests.conftest import ROOT, write_clients_file
from tests.e2e.http import request
from tests.security.own_service import log_records, own_service

POLL = 0.2
BOUND = 25 * POLL  # an answer within 25 reload polls: generous on a loaded machine, far below "never"
OVERSIZED = 64 << 20  # sparse: no disk, but 64 MiB for a reader that reads it all


def _answers_promptly(service, seconds: float) -> None:
    """/livez and a tenant's gRPC call keep answering within BOUND (with the registry loaded before)."""
    deadline = time.monotonic() + seconds
    with service.channel() as channel:
        stub = fr_grpc.FaceRecognitionStub(channel)
        metadata = service.clients["tenant-a"].metadata()
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert request(service.http_url, "GET", "/livez", timeout=BOUND).status == 200
            stub.GetClassCount(fr.GetClassCountRequest(), metadata=metadata, timeout=BOUND)
            assert time.monotonic() - started < 2 * BOUND
            time.sleep(POLL / 2)


def _errors(service, what: str) -> list[dict]:
    return [r for r in log_records(service) if r["message"] == f"{what} not reloaded: keeping the previous one"]


def _eventually(check, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def service(tmp_path, redis_server):
    with own_service(tmp_path, redis_server.url, BWS_RELOAD_POLL_SECONDS=str(POLL), BWS_WORKERS="1") as started:
        yield started


def test_a_fifo_at_the_clients_path_does_not_freeze_the_service(service, tmp_path):
    path = tmp_path / "clients.json"
    path.unlink()
    os.mkfifo(path)
    try:
        _answers_promptly(service, 10 * POLL)
        (error,) = _errors(service, "client registry")
        assert "not a regular file" in error["reason"], error
    finally:
        try:  # without the fix the service waits in open(): a writer lets it go on
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    path.unlink()
    write_clients_file(path)  # new keys for every client: the reload goes on working after the FIFO
    assert _eventually(lambda: any(r["message"] == "client registry reloaded" for r in log_records(service)))


def test_an_oversized_keys_file_is_refused_without_being_read(service, tmp_path):
    path = tmp_path / "keys.json"
    replacement = tmp_path / "big.json"
    with replacement.open("wb") as file:
        file.truncate(OVERSIZED)
    replacement.replace(path)
    _answers_promptly(service, 10 * POLL)
    (error,) = _errors(service, "key file")
    assert "over the 16777216 bytes allowed" in error["reason"], error


@pytest.mark.parametrize("variable", ["BWS_CLIENTS_FILE", "BWS_KEYS_FILE"])
@pytest.mark.parametrize("kind", ["fifo", "oversized"])
def test_the_first_load_refuses_them_in_one_line(tmp_path, redis_server, variable, kind):
    write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate("k1").to_json())
    bad = tmp_path / "bad.json"
    if kind == "fifo":
        os.mkfifo(bad)
    else:
        with bad.open("wb") as file:
            file.truncate(OVERSIZED)
    env = dict(os.environ, BWS_REDIS_URL=redis_server.url, BWS_CLIENTS_FILE=str(tmp_path / "clients.json"),
               BWS_KEYS_FILE=str(tmp_path / "keys.json"), BWS_DATA_DIR=str(tmp_path / "data"), BWS_GRPC_PORT="0",
               BWS_HTTP_PORT="0", BWS_WORKERS="1")
    env[variable] = str(bad)
    try:
        done = subprocess.run([sys.executable, "-m", "gateway"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the start waits on the file")
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1, lines[-5:]
    expected = "is not a regular file" if kind == "fifo" else "over the 16777216 bytes allowed"
    assert lines[0].startswith(f"bws-gateway: cannot start: {variable}: ") and expected in lines[0], lines[0]

