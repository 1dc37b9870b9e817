"""Found in review: when Redis cannot write to its disk (a full disk: its snapshot fails, and with Redis' default
stop-writes-on-bgsave-error every write is refused with MISCONF), calls answered INTERNAL / 500. They now
answer UNAVAILABLE / 503 saying the store cannot write to its disk, logged once per spell, reads keep working,
nothing stored is lost, and writes work again once Redis can save."""
from __future__ import annotations

import shutil
import time

import grpc
import pytest
import redis

from tests.conftest import redis7_binary
from tests.e2e.helpers import Caller, new_class_id
from tests.security.own_service import log_records, own_service
from templates_store.embedded import EmbeddedRedis, free_port


@pytest.fixture(params=["valkey9", "redis7"])
def savable(request, tmp_path):
    binary = redis7_binary() if request.param == "redis7" else None
    server = EmbeddedRedis(tmp_path / "redis", port=free_port(), binary=binary,
                           extra_args=("--enable-protected-configs", "yes")).start()
    try:
        with own_service(tmp_path, server.url, BWS_WORKERS="1") as service:
            yield server, service, tmp_path
    finally:
        server.stop()


def wait_for_save(raw: redis.Redis, status: str) -> None:
    raw.bgsave()
    for _ in range(200):
        info = raw.info("persistence")
        if not info["rdb_bgsave_in_progress"] and info["rdb_last_bgsave_status"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"the snapshot never ended {status}")


def test_a_store_that_cannot_write_its_disk_answers_unavailable(savable):
    server, service, tmp_path = savable
    raw = redis.Redis.from_url(server.url)
    kept = new_class_id()
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        assert a.enroll(kept, "biden_2.jpg").enrolled_images == 1
        home = raw.config_get("dir")["dir"]
        gone = tmp_path / "gone"
        gone.mkdir()
        raw.config_set("dir", str(gone))
        shutil.rmtree(gone)  # what a full disk does to a snapshot: it cannot be written
        wait_for_save(raw, "err")
        answers = []
        for _ in range(4):
            with pytest.raises(grpc.RpcError) as refused:
                a.enroll(new_class_id(), "obama_1.jpg")
            answers.append((refused.value.code(), refused.value.details()))
        assert answers == [(grpc.StatusCode.UNAVAILABLE, "template store cannot write to its disk (unavailable "
                            "for writes), retry later")] * 4, answers
        assert a.status(kept).feature_vectors == 1 and a.verify(kept, "biden_1.jpg").verified  # reads work

        raw.config_set("dir", home)
        wait_for_save(raw, "ok")
        assert a.enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1
    raw.close()
    records = log_records(service)
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")]
    assert len([r for r in records if r["level"] == "WARNING" and "disk" in r["message"]]) == 1
