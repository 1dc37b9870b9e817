"""Hostile JSON is a clear 400, never a 500."""
from tests.e2e.http import request


def test_deeply_nested_json_is_400(service):
    auth = {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"}
    for body in (b"[" * 100_000, b'{"images": ' + b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        reply = request(service.http_url, "POST", "/api/face/v1/search", raw=body, headers=auth)
        message = reply.json["message"]  # 100,000 brackets are over the count of values before the depth shows
        assert reply.status == 400 and ("nested too deeply" in message or "more than 20000 values" in message), \
            reply.body[:200]
    deep_but_parseable = b'{"images": [' + b"[" * 500 + b"]" * 500 + b"]}"
    reply = request(service.http_url, "POST", "/api/face/v1/search", raw=deep_but_parseable, headers=auth)
    assert reply.status == 400, reply.body[:200]
