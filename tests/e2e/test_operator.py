"""`bws-gateway` as an operator uses it: subcommands, files reloaded without a restart, startup failures."""
from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import psutil
import pytest
import redis

from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from gateway.infra.auth import make_token
from templates_store import KeyRing
from templates_store.embedded import free_port
from tests import conftest
from tests.conftest import ROOT, start_service, stop_service, write_clients_file
from tests.e2e.helpers import Caller, new_class_id, template_key

GATEWAY = [sys.executable, "-m", "gateway"]


def gateway(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*GATEWAY, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def count_as(target: str, client_id: str, key: bytes) -> grpc.StatusCode:
    with grpc.insecure_channel(target) as channel:
        try:
            fr_grpc.FaceRecognitionStub(channel).GetClassCount(
                fr.GetClassCountRequest(), metadata=[("authorization", f"Bearer {make_token(client_id, key)}")],
                timeout=30)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def eventually(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def printed(output: str, field: str) -> str:
    return next(line.split(": ", 1)[1] for line in output.splitlines() if line.startswith(f"{field}: "))


def test_help_and_version_never_start_the_server():
    for args in (["--help"], ["serve", "--help"], ["clients", "--help"], ["clients", "add", "--help"],
                 ["keys", "rotate", "--help"], ["token", "--help"], ["--version"]):
        result = gateway(*args, env={"BWS_REDIS_URL": "redis://127.0.0.1:1/0"}, timeout=20)
        assert result.returncode == 0 and result.stdout, args
        assert "listening" not in result.stderr + result.stdout, args
    assert gateway("--version").stdout.strip() == "bws-gateway 0.1.0"
    assert "clients" in gateway("--help").stdout and "rotate-key" in gateway("clients", "--help").stdout


def test_clients_and_keys_commands_edit_the_files(tmp_path):
    clients, keys = tmp_path / "clients.json", tmp_path / "keys.json"
    env = {"BWS_CLIENTS_FILE": str(clients), "BWS_KEYS_FILE": str(keys)}
    added = gateway("clients", "add", "app1", "--storage", "acme", "--partition", "7", "--operations",
                    "verify,enroll", "--app-secret", env=env)
    assert added.returncode == 0, added.stderr
    key = printed(added.stdout, "key")
    assert len(base64.b64decode(key)) == 64 and len(printed(added.stdout, "appSecret")) >= 16  # 512 bits, as BioID
    assert clients.stat().st_mode & 0o777 == 0o600
    entry = json.loads(clients.read_text())["clients"][0]
    assert entry["partition"] == 7 and entry["operations"] == ["enroll", "verify"] and entry["key"] == key
    assert gateway("clients", "add", "app2", "--storage", "acme", "--partition", "8", env=env).returncode == 0
    listed = gateway("clients", "list", env=env).stdout
    assert "app1\tacme/7\tenroll,verify appSecret" in listed and "app2\tacme/8" in listed and key not in listed
    rotated = gateway("clients", "rotate-key", "app1", env=env)
    assert printed(rotated.stdout, "key") != key and json.loads(clients.read_text())["clients"][0]["key"] != key
    assert gateway("clients", "remove", "app2", env=env).returncode == 0
    again = gateway("clients", "remove", "app2", env=env)
    assert again.returncode == 1 and again.stderr.strip() == "bws-gateway: no client 'app2'"
    duplicate = gateway("clients", "add", "app1", "--storage", "a", "--partition", "1", env=env)
    assert duplicate.returncode == 1 and "exists" in duplicate.stderr
    bad = gateway("clients", "add", "app3", "--storage", "a", "--partition", "1", "--operations", "fly", env=env)
    assert bad.returncode == 1 and "unknown operations ['fly']" in bad.stderr

    token = gateway("token", "--client", "app1", "--token-only", env=env).stdout.strip()
    assert token.count(".") == 2
    hs512 = gateway("token", "--client", "app1", "--token-only", "--algorithm", "HS512", env=env).stdout.strip()
    assert json.loads(base64.urlsafe_b64decode(hs512.split(".")[0] + "=="))["alg"] == "HS512"
    day = gateway("token", "--client", "app1", "--lifetime", "86400", "--token-only", env=env)
    assert day.returncode == 0 and day.stdout.count(".") == 2
    for lifetime, limit_env in (("86401", {}), ("7200", {"BWS_MAX_TOKEN_LIFETIME_SECONDS": "3600"}), ("0", {})):
        over = gateway("token", "--client", "app1", "--lifetime", lifetime, env={**env, **limit_env})
        assert over.returncode == 2 and not over.stdout, (lifetime, over.stdout)
        assert len(over.stderr.strip().splitlines()) == 1 and "--lifetime must be 1 to" in over.stderr

    assert gateway("keys", "list", env=env).returncode == 1  # no file yet: says how to make one
    assert gateway("keys", "new", env=env).returncode == 0 and keys.stat().st_mode & 0o777 == 0o600
    assert gateway("keys", "new", env=env).returncode == 1  # never overwrites keys
    assert gateway("keys", "rotate", env=env).returncode == 0
    ring = KeyRing.from_file(keys)
    assert ring.active == "k2" and set(ring.keys) == {"k1", "k2"}
    listed = gateway("keys", "list", env=env).stdout
    assert listed == "k1\nk2 (active)\n" and base64.b64encode(ring.keys["k1"]).decode() not in listed


def test_a_broken_registry_is_not_edited(tmp_path):
    clients = tmp_path / "clients.json"
    clients.write_text('{"clients": [')
    result = gateway("clients", "add", "x", "--storage", "s", "--partition", "1", "--file", str(clients))
    assert result.returncode == 1 and result.stderr.startswith("bws-gateway: ") and "Traceback" not in result.stderr
    assert clients.read_text() == '{"clients": ['


@pytest.fixture
def own_service(tmp_path, redis_server):
    started = []

    def start(**env: str):
        write_clients_file(tmp_path / "clients.json")
        (tmp_path / "keys.json").write_text(KeyRing.generate("k1").to_json())
        target, process, log_path, _ = start_service(tmp_path, redis_server.url, tmp_path / "clients.json",
                                                     tmp_path / "keys.json", BWS_WORKERS="1", **env)
        started.append(process)
        return target, process, log_path
    yield start
    for process in started:
        stop_service(process)


def test_files_are_reloaded_when_they_change(own_service, tmp_path, redis_server):
    target, _, log_path = own_service(BWS_RELOAD_POLL_SECONDS="0.1")
    env = {"BWS_CLIENTS_FILE": str(tmp_path / "clients.json"), "BWS_KEYS_FILE": str(tmp_path / "keys.json")}
    added = gateway("clients", "add", "late-app", "--storage", "late", "--partition", "1", env=env)
    key = base64.b64decode(printed(added.stdout, "key"))
    assert eventually(lambda: count_as(target, "late-app", key) == grpc.StatusCode.OK)

    rotated = base64.b64decode(printed(gateway("clients", "rotate-key", "late-app", env=env).stdout, "key"))
    assert eventually(lambda: count_as(target, "late-app", rotated) == grpc.StatusCode.OK)
    assert count_as(target, "late-app", key) == grpc.StatusCode.UNAUTHENTICATED

    # A broken file keeps the registry in use and says so once.
    (tmp_path / "clients.json").write_text('{"clients": [{"clientId": "x"')
    time.sleep(1.0)
    assert count_as(target, "late-app", rotated) == grpc.StatusCode.OK
    errors = [line for line in log_path.read_text().splitlines() if "client registry not reloaded" in line]
    assert len(errors) == 1 and json.loads(errors[0])["level"] == "ERROR"

    # A rotated key file: new templates are sealed with the new active key.
    assert gateway("keys", "rotate", "--id", "k2", env=env).returncode == 0
    assert eventually(lambda: "key file reloaded" in log_path.read_text())
    test_client = conftest.TestClient("late-app", rotated)
    with grpc.insecure_channel(target) as channel:
        class_id = new_class_id()
        Caller(channel, test_client).enroll(class_id, "obama_1.jpg")
    raw = redis.Redis.from_url(redis_server.url)
    blob = raw.hget(template_key(raw, "late/1", class_id), "enhanced")
    assert KeyRing.from_file(tmp_path / "keys.json").key_id_of(blob) == "k2"


def test_sighup_reloads_at_once(own_service, tmp_path):
    target, process, _ = own_service(BWS_RELOAD_POLL_SECONDS="3600")
    env = {"BWS_CLIENTS_FILE": str(tmp_path / "clients.json")}
    key = base64.b64decode(printed(gateway("clients", "add", "hup-app", "--storage", "hup", "--partition", "1",
                                           env=env).stdout, "key"))
    time.sleep(0.5)
    assert count_as(target, "hup-app", key) == grpc.StatusCode.UNAUTHENTICATED  # no poll for an hour
    process.send_signal(signal.SIGHUP)
    assert eventually(lambda: count_as(target, "hup-app", key) == grpc.StatusCode.OK)
    assert process.poll() is None


def redis_servers_under(directory: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(directory) in part for part in proc.info["cmdline"] or ()) and "-server" in " ".join(
                proc.info["cmdline"]):
            found.append(proc)
    return found


def start_failure(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {"BWS_DATA_DIR": str(tmp_path / "data"), "BWS_GRPC_PORT": str(free_port()),
            "BWS_HTTP_PORT": str(free_port()), "BWS_BIND_HOST": "127.0.0.1", "BWS_WORKERS": "1", "BWS_REDIS_URL": ""}
    result = gateway(**{}, env={**base, **env}, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result


def last_line(result: subprocess.CompletedProcess) -> str:
    return result.stderr.strip().splitlines()[-1]


def test_startup_failures_are_one_line_and_exit_1(tmp_path):
    assert last_line(start_failure(tmp_path, BWS_LOG_LEVEL="loud")) == \
        "bws-gateway: BWS_LOG_LEVEL='loud' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    unreachable = start_failure(tmp_path, BWS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert last_line(unreachable).startswith("bws-gateway: cannot start: Redis: ")
    assert "listening" not in unreachable.stderr  # checked before any port opens
    missing = start_failure(tmp_path, BWS_CLIENTS_FILE=str(tmp_path / "nope.json"))
    assert last_line(missing) == (f"bws-gateway: cannot start: BWS_CLIENTS_FILE: no file {tmp_path / 'nope.json'} "
                               "(see `bws-gateway clients --help`)")
    assert not redis_servers_under(tmp_path) and not (tmp_path / "data" / "redis").exists()
    keys = start_failure(tmp_path, BWS_KEYS_FILE=str(tmp_path / "nokeys.json"))
    assert last_line(keys) == (f"bws-gateway: cannot start: BWS_KEYS_FILE: no file {tmp_path / 'nokeys.json'} "
                            "(see `bws-gateway keys --help`)")


def test_a_failure_after_the_embedded_redis_started_stops_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_failure(tmp_path, BWS_HTTP_PORT=str(port))
        grpc_taken = start_failure(tmp_path / "grpc", BWS_GRPC_PORT=str(port))
    assert last_line(result).startswith("bws-gateway: cannot start: ")
    assert (tmp_path / "data" / "redis").exists()  # it did start
    assert last_line(grpc_taken) == (f"bws-gateway: cannot start: gRPC cannot listen on 127.0.0.1:{port}: the port "
                                     "is taken (another service?) or not allowed; choose another with BWS_GRPC_PORT")
    assert not redis_servers_under(tmp_path)


def test_a_token_before_the_first_start_says_how_to_get_the_development_client(tmp_path):
    """Found by a newcomer: `export BWS_TOKEN=$(bws-gateway token --token-only)` before any `make run` left the
    variable empty with only "no file data/dev-clients.json"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BWS_")}
    result = gateway("token", "--token-only", env={**env, "BWS_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1 and not result.stdout
    assert result.stderr.count("\n") == 1 and "start the service once (`make run`)" in result.stderr, result.stderr
