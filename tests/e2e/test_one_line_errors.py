"""First contact: every start-up and call error a newcomer meets is one line naming the setting or file and what
to do; a normal stop (Ctrl-C) prints no traceback and leaves no temporary directory. Real processes, real ports."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from gateway.infra.auth import make_token
from templates_store.embedded import free_port
from tests.conftest import ROOT
from tests.e2e.http import request
from tests.e2e.test_operator import last_line, start_failure

TRACEBACK_MARKS = ("Traceback", "KeyboardInterrupt", "add_port.cc", "E1")


def one_line_failure(result: subprocess.CompletedProcess) -> str:
    errors = [line for line in result.stderr.splitlines() if not line.startswith("{")]  # JSON log lines aside
    assert not any(line.startswith(mark) for line in errors for mark in TRACEBACK_MARKS), result.stderr
    return last_line(result)


def test_taken_ports_name_their_setting_without_grpc_log_lines(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        grpc_taken = start_failure(tmp_path / "grpc", BWS_GRPC_PORT=str(port))
        http_taken = start_failure(tmp_path / "http", BWS_HTTP_PORT=str(port))
    assert one_line_failure(grpc_taken).endswith("choose another with BWS_GRPC_PORT")
    assert "add_port.cc" not in grpc_taken.stderr
    assert one_line_failure(http_taken) == (f"bws-gateway: cannot start: HTTP cannot listen on 127.0.0.1:{port}: "
                                            "Address already in use; choose another port with BWS_HTTP_PORT")


def test_bad_key_and_client_files_are_named(tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"active": "k1", "keys": {"k1": "AAAAAAA="}}))
    line = one_line_failure(start_failure(tmp_path, BWS_KEYS_FILE=str(keys)))
    assert line.startswith(f"bws-gateway: cannot start: BWS_KEYS_FILE: {keys}: ") and "32 bytes" in line
    assert line.endswith("(see `bws-gateway keys --help`)")
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps({"clients": [{"clientId": "x", "key": "AAAA", "storage": "s", "partition": 1}]}))
    line = one_line_failure(start_failure(tmp_path, BWS_CLIENTS_FILE=str(clients)))
    assert line.startswith(f"bws-gateway: cannot start: BWS_CLIENTS_FILE: {clients}: client 'x': ")
    assert line.endswith("(see `bws-gateway clients --help`)")


def test_migrate_without_a_redis_url_is_one_line():
    result = subprocess.run([sys.executable, "-m", "templates_store.migrate", "--redis-url", "", "--buckets", "24"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("migrate: --redis-url is empty: ") and "BWS_REDIS_URL" in result.stderr


def test_bad_base64_and_an_expired_token_are_one_clear_line(service):
    client = service.clients["tenant-a"]
    fresh = {"Authorization": f"Bearer {client.token()}", "Content-Type": "application/json"}
    reply = request(service.http_url, "POST", "/api/face/v1/verify/1", raw=b'{"image": "!!!not64"}', headers=fresh)
    message = reply.json["message"]
    assert reply.status == 400 and message.count("Failed to parse image field") == 1, message
    assert not message.endswith(".."), message
    expired = make_token(client.client_id, client.key, 60, now=time.time() - 3600)
    reply = request(service.http_url, "POST", "/api/face/v1/verify/1", raw=b'{"image": ""}',
                    headers={**fresh, "Authorization": f"Bearer {expired}"})
    message = reply.json["message"]
    assert reply.status == 401 and message.startswith("token expired: make a new one") and "bws token" in message


def test_ctrl_c_stops_without_tracebacks_or_temp_dirs(tmp_path):
    """Ctrl-C in a terminal signals the whole foreground process group: the server, its engine workers and the
    embedded Redis."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    http_port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp), "BWS_DATA_DIR": str(tmp_path / "data"),
           "BWS_GRPC_PORT": str(free_port()), "BWS_HTTP_PORT": str(http_port), "BWS_BIND_HOST": "127.0.0.1",
           "BWS_WORKERS": "2", "BWS_REDIS_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        assert any(path.name.startswith("bws-redis-") for path in temp.iterdir())  # the socket's directory
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert [path.name for path in temp.iterdir() if path.name.startswith("bws-")] == []  # bws-redis-*, bws-grpc-*
