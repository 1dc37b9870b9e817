"""Attack: Redis dies or freezes under load. Every call must answer
UNAVAILABLE / HTTP 503 (retryable, short message), never INTERNAL / 500 with a
traceback; the outage is logged once; after Redis is back (same port, same
data) calls succeed and nothing stored is lost."""
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from templates_store.embedded import EmbeddedRedis, free_port
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import basic
from tests.security.own_service import log_records, own_service

GRPC_FINE = {"OK", "UNAVAILABLE"}
HTTP_FINE = {200, 204, 503}


class Load:
    """Four callers in a loop over gRPC, REST and /extension/, recording every answer."""

    def __init__(self, service, class_id: int, token: str) -> None:
        self.service, self.class_id, self.token = service, class_id, token
        self.stop = threading.Event()
        self.answers: list[tuple[str, object, str]] = []
        self.channel = service.channel()
        self.caller = Caller(self.channel, service.clients["tenant-a"])

    def _grpc(self, request_fn) -> None:
        try:
            request_fn()
            self.answers.append(("grpc", "OK", ""))
        except grpc.RpcError as error:
            self.answers.append(("grpc", error.code().name, error.details() or ""))

    def _http(self, kind: str, path: str, headers: dict) -> None:
        reply = request(self.service.http_url, "GET", path, headers=headers, timeout=60)
        self.answers.append((kind, reply.status, reply.body.decode(errors="replace")))

    def _loop(self, which: int) -> None:
        bearer = {"Authorization": f"Bearer {self.service.clients['tenant-a'].token()}"}
        while not self.stop.is_set():
            if which == 0:
                self._grpc(lambda: self.caller.status(self.class_id))
            elif which == 1:
                self._grpc(lambda: self.caller.verify(self.class_id, "biden_1.jpg"))
            elif which == 2:
                self._http("rest", f"/api/face/v1/template/status/{self.class_id}", bearer)
            else:
                self._http("extension", f"/extension/result?access_token={self.token}", basic(self.service))
            time.sleep(0.05)

    def run_while(self, action) -> None:
        with ThreadPoolExecutor(4) as pool:
            loops = [pool.submit(self._loop, i) for i in range(4)]
            try:
                action()
            finally:
                self.stop.set()
                for loop in loops:
                    loop.result()
        self.stop.clear()


def wait_until_calls_work(caller: Caller, class_id: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            caller.status(class_id)
            return
        except grpc.RpcError:
            time.sleep(0.2)
    raise AssertionError("calls did not succeed again after Redis came back")


@pytest.fixture
def redis_and_service(tmp_path):
    port = free_port()
    redis = EmbeddedRedis(tmp_path / "redis", port=port).start()
    try:
        with own_service(tmp_path, redis.url, BWS_REDIS_TIMEOUT_SECONDS="1") as service:
            yield redis, service
    finally:
        redis.stop()


def test_redis_killed_and_frozen_mid_load(redis_and_service, tmp_path):
    redis, service = redis_and_service
    class_id = new_class_id()
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        assert a.enroll(class_id, "biden_2.jpg").enrolled_images == 1
        time.sleep(1.5)  # the append-only file is synced every second
        token = request(service.http_url, "GET",
                        f"/extension/token?id=tenant-a&bcid=acme/1/{class_id}&task=verify",
                        headers=basic(service)).body.decode()
        load = Load(service, class_id, token)
        restarted = {}

        def kill_and_restart():
            time.sleep(1.0)
            redis.process.kill()
            redis.process.wait()
            redis.stop()  # frees its data directory's lock for the server started in its place
            time.sleep(4.0)
            restarted["redis"] = EmbeddedRedis(tmp_path / "redis", port=redis.port).start()
            wait_until_calls_work(a, class_id)
            time.sleep(0.5)

        load.run_while(kill_and_restart)
        killed_answers = list(load.answers)
        redis.process = restarted["redis"].process  # the fixture stops the running server
        load.answers.clear()

        def freeze_and_thaw():
            time.sleep(1.0)
            os.kill(redis.process.pid, signal.SIGSTOP)
            try:
                time.sleep(5.0)
            finally:
                os.kill(redis.process.pid, signal.SIGCONT)
            wait_until_calls_work(a, class_id)
            time.sleep(0.5)

        load.run_while(freeze_and_thaw)
        frozen_answers = list(load.answers)
        load.channel.close()

        for answers in (killed_answers, frozen_answers):
            grpc_codes = {code for kind, code, _ in answers if kind == "grpc"}
            http_codes = {(kind, code) for kind, code, _ in answers if kind != "grpc"}
            assert grpc_codes <= GRPC_FINE, answers
            assert {code for _, code in http_codes} <= HTTP_FINE, answers
            assert "UNAVAILABLE" in grpc_codes
            assert ("rest", 503) in http_codes and ("extension", 503) in http_codes
            for _kind, code, text in answers:
                if code in ("UNAVAILABLE", 503):
                    assert "unavailable, retry later" in text and "Traceback" not in text and len(text) < 300

        # Nothing stored was lost: the template is there and still verifies its person.
        assert a.status(class_id).feature_vectors == 1
        assert a.verify(class_id, "biden_1.jpg").verified

    records = log_records(service)
    text = service.log_path.read_text()
    assert "Traceback" not in text
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")]
    warnings = [r for r in records if r["level"] == "WARNING" and "template store unavailable" in r["message"]]
    assert 2 <= len(warnings) <= 4, warnings  # once per outage (twice at most, should a poll flap on the way back)
    assert 2 <= len([r for r in records if r["message"] == "template store available again"]) <= 4
    calls = len(killed_answers) + len(frozen_answers)
    assert len([r for r in records if r["message"] != "call"]) < 40 < calls
