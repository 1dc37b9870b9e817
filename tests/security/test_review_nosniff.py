"""Found in review: the metrics answers and the HTTP parser's own 400 answers (a malformed request, which no
middleware sees) came without X-Content-Type-Options: nosniff, which every other answer carries."""
from __future__ import annotations

import pytest

from tests.e2e.http import request
from tests.security.raw_calls import raw_answer


@pytest.mark.parametrize("data", [b"GET /livez HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
                                  b"\x16\x03\x01 not http\r\n\r\n",
                                  b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"],
                         ids=["malformed-header", "not-http", "long-url"])
def test_the_parsers_400_is_nosniff(service, data):
    for url in (service.http_url, service.metrics_url):
        head = raw_answer(url, data).partition(b"\r\n\r\n")[0].lower()
        assert head.split(b"\r\n")[0].split()[1] == b"400", head
        assert b"\r\nx-content-type-options: nosniff" in head, head


def test_metrics_answers_are_nosniff(service):
    reply = request(service.metrics_url, "GET", "/metrics")
    assert reply.status == 200 and reply.headers["x-content-type-options"] == "nosniff"
