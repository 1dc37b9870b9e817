"""Attack: Redis at its maxmemory (noeviction). Writes used to answer INTERNAL / 500 and log a traceback per call
holding the refused command: `HSET ...:tpl:N compact BWC1 <raw template bytes>`. Now every call answers
UNAVAILABLE / 503 saying the store is full, the condition is logged once, no log line holds a command or its
arguments, reads keep working, nothing stored is lost, and writes work again once memory is freed."""
from __future__ import annotations

import base64
import time

import grpc
import pytest
import redis

from tests.conftest import face, redis7_binary
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import basic, data_url
from tests.security.own_service import log_records, own_service
from templates_store.embedded import EmbeddedRedis, free_port

# What the refused commands would have put in a log line: their names, keys and payload markers.
FORBIDDEN = ("HSET", "EVALSHA", "XADD", "SADD", ":tpl:", ":ext:", "BWC1", "compact", "pipeline")


@pytest.fixture(params=["valkey9", "redis7"])
def full_redis(request, tmp_path):
    binary = redis7_binary() if request.param == "redis7" else None
    server = EmbeddedRedis(tmp_path / "redis", port=free_port(), binary=binary).start()
    try:
        with own_service(tmp_path, server.url, BWS_WORKERS="1") as service:
            yield server, service
    finally:
        server.stop()


def test_full_redis_answers_unavailable_and_logs_no_payload(full_redis):
    server, service = full_redis
    raw = redis.Redis.from_url(server.url)
    kept = new_class_id()
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        e = Caller(channel, service.clients["tenant-a-encrypted"])
        assert a.enroll(kept, "biden_2.jpg").enrolled_images == 1
        token = request(service.http_url, "GET", f"/extension/token?id=tenant-a&bcid=acme/1/{kept}&task=verify",
                        headers=basic(service)).body.decode()
        raw.config_set("maxmemory-policy", "noeviction")
        raw.config_set("maxmemory", 1)  # every write that needs memory is refused from now on

        grpc_answers = []
        for caller in (a, e) * 5:
            try:
                caller.enroll(new_class_id(), "obama_1.jpg")
                grpc_answers.append(("OK", ""))
            except grpc.RpcError as error:
                grpc_answers.append((error.code().name, error.details()))
        bearer = {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"}
        rest = [request(service.http_url, "POST", f"/api/face/v1/enroll/{new_class_id()}",
                        [{"image": base64.b64encode(face("obama_1.jpg")).decode()}], headers=bearer)
                for _ in range(3)]
        uploads = [request(service.http_url, "POST", "/extension/upload", raw=data_url(face("biden_1.jpg")),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
                   for _ in range(3)]

        assert {code for code, _ in grpc_answers} == {"UNAVAILABLE"}, grpc_answers
        assert all("full" in details and len(details) < 200 for _, details in grpc_answers), grpc_answers
        assert [r.status for r in rest] == [503] * 3 and all(b"full" in r.body for r in rest), rest
        assert [r.status for r in uploads] == [503] * 3 and all(b"full" in r.body for r in uploads), uploads
        # Reads still work, and what was stored is there.
        assert a.status(kept).feature_vectors == 1
        assert a.verify(kept, "biden_1.jpg").verified

        raw.config_set("maxmemory", 0)  # memory freed
        again = new_class_id()
        assert a.enroll(again, "obama_1.jpg").enrolled_images == 1
        assert e.enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1
        assert a.verify(again, "obama_2.jpg").verified and a.verify(kept, "biden_1.jpg").verified
    raw.close()
    time.sleep(0.3)

    text = service.log_path.read_text()
    records = log_records(service)
    assert "Traceback" not in text
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")]
    for marker in FORBIDDEN:
        assert marker not in text, marker
    full = [r for r in records if r["level"] == "WARNING" and "full" in r["message"]]
    assert len(full) == 1, full


async def test_no_log_line_quotes_a_redis_command(tmp_path):
    """redis-py puts a failed pipeline command, payload included, into the exception's message; logged as a
    traceback, a chained cause, a message argument or an extra, none of it reaches the log."""
    import io
    import logging

    import redis.asyncio as aredis
    from redis.exceptions import RedisClusterException

    from gateway.infra.logs import JsonFormatter

    payload = b"BWC1-SECRET-TEMPLATE-BYTES-" + bytes(range(256))
    server = EmbeddedRedis(tmp_path / "redis", port=free_port(), extra_args=("--maxmemory", "1")).start()
    client = aredis.from_url(server.url)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset("bws:{acme/1#0.1}:tpl:7", "compact", payload)
            with pytest.raises(redis.exceptions.OutOfMemoryError) as caught:
                await pipe.execute()
    finally:
        await client.aclose()
        server.stop()
    assert "SECRET-TEMPLATE-BYTES" in str(caught.value)  # what redis-py does: the reason for this test
    routing = RedisClusterException(f"No way to dispatch this command.\nCommand: ('HSET', 'k', {payload!r})")

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    try:
        for error in (caught.value, routing):
            logger.error("store failed", exc_info=error)
            logger.warning("failed: %s (%r)", error, error)
            logger.warning("failed", extra={"reason": error})
            try:
                try:
                    raise error
                except Exception as inner:
                    raise RuntimeError("enroll failed") from inner
            except RuntimeError:
                logger.exception("chained")
            try:
                try:
                    raise error
                except Exception:
                    raise ValueError("while handling")  # noqa: B904 - the implicit context is the case
            except ValueError:
                logger.exception("context")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for marker in ("SECRET-TEMPLATE-BYTES", "HSET", ":tpl:", "BWC1", "Command:"):
        assert marker not in text, marker
    assert text.count("OutOfMemoryError") >= 4 and "RedisClusterException" in text
