"""Attack: the embedded Redis (a service started without BWS_REDIS_URL) is killed with SIGKILL. It used to stay
dead (503 until restarted by hand, a zombie left) while gRPC health said SERVING. Now it is reaped and started
again on the same data; health is NOT_SERVING while it is down. Its files were 755/644 although they hold the
compact vectors of clients without encryptCompact in clear: now 700/600."""
from __future__ import annotations

import os
import signal
import stat
import threading
import time

import grpc
import psutil
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.helpers import Caller, new_class_id
from tests.security.own_service import log_records, own_service

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("embedded")
    with own_service(tmp, "", BWS_WORKERS="1") as service:  # no BWS_REDIS_URL: the embedded server
        yield service, tmp / "data" / "redis"


def server_pid(redis_dir) -> int:
    return int((redis_dir / "redis.pid").read_text())


class HealthWatch(threading.Thread):
    """Every status the health service streams for one service name."""

    def __init__(self, target: str, name: str) -> None:
        super().__init__(daemon=True)
        self.channel = grpc.insecure_channel(target)
        self.stream = health_pb2_grpc.HealthStub(self.channel).Watch(health_pb2.HealthCheckRequest(service=name))
        self.seen: list[int] = []

    def run(self) -> None:
        try:
            for response in self.stream:
                self.seen.append(response.status)
        except grpc.RpcError:
            pass

    def close(self) -> None:
        self.stream.cancel()
        self.channel.close()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := predicate():
                return result
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s")


def test_killed_embedded_redis_comes_back_with_its_data(embedded):
    service, redis_dir = embedded
    class_id = new_class_id()
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        assert a.enroll(class_id, "biden_2.jpg").enrolled_images == 1
        time.sleep(1.5)  # the append-only file is synced every second
        watches = [HealthWatch(service.grpc_target, name)
                   for name in ("", "readiness", "bioid.services.v1.FaceRecognition",
                                "bioid.services.v1.BioIDWebService")]
        alive = HealthWatch(service.grpc_target, "liveness")  # the process runs all along
        for watch in (*watches, alive):
            watch.start()
        wait_for(lambda: all(w.seen == [SERVING] for w in watches), 10, "health watches")
        killed = server_pid(redis_dir)
        os.kill(killed, signal.SIGKILL)

        wait_for(lambda: a.status(class_id), 60, "calls working again")
        wait_for(lambda: all(w.seen[-1:] == [SERVING] and NOT_SERVING in w.seen for w in watches), 10,
                 "health back to SERVING")
        for watch in watches:
            watch.close()
            assert watch.seen[:2] == [SERVING, NOT_SERVING], watch.seen
        alive.close()
        assert alive.seen == [SERVING], alive.seen
        # The same data (from the append-only file) and a new server; the old one reaped, not a zombie.
        assert a.status(class_id).feature_vectors == 1
        assert a.verify(class_id, "biden_1.jpg").verified
        assert server_pid(redis_dir) != killed
        assert not psutil.pid_exists(killed) or psutil.Process(killed).status() != psutil.STATUS_ZOMBIE
        children = psutil.Process(service.process.pid).children(recursive=True)
        assert not [c for c in children if c.status() == psutil.STATUS_ZOMBIE]
    messages = [r["message"] for r in log_records(service)]
    assert messages.count("embedded Redis exited: restarting it") == 1
    assert messages.count("embedded Redis restarted") == 1


def test_redis_files_are_private(embedded):
    service, redis_dir = embedded
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        for _ in range(3):
            a.enroll(new_class_id(), "obama_1.jpg")
    socket_path = next(c.laddr for c in psutil.Process(server_pid(redis_dir)).net_connections("unix") if c.laddr)
    with redis.Redis(unix_socket_path=socket_path) as server:
        server.bgsave()
        wait_for(lambda: (redis_dir / "templates.rdb").exists() and not server.info("persistence")[
            "rdb_bgsave_in_progress"], 30, "a snapshot")
    time.sleep(1.5)
    paths = [redis_dir, *redis_dir.rglob("*")]
    assert any(".aof" in p.name for p in paths), paths
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
