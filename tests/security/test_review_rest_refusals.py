"""A REST body the transcoder cannot turn into the request message is refused with a text that names why, not
with the body itself: protobuf's ParseError quotes the value it refused, so a 270 KB photo sent in the wrong shape
came back whole in the 400's message (and would in any proxy's log of error answers), as did json's text."""
from __future__ import annotations

import base64
import json

from tests.conftest import face
from tests.e2e.http import request
from tests.security.own_service import rss_mb

PHOTO = base64.b64encode(face("obama_1.jpg")).decode()


def test_a_refused_rest_body_is_not_quoted_back(service):
    auth = {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"}
    for path, body in (("/api/face/v1/enroll/4711", {"images": [{"data": PHOTO}]}),  # the body is the list itself
                       ("/api/face/v1/search", {"images": {"data": PHOTO}}),
                       ("/api/face/v1/search", {"maxResults": PHOTO})):
        reply = request(service.http_url, "POST", path, raw=json.dumps(body).encode(), headers=auth)
        assert reply.status == 400, (path, reply.status)
        message = reply.json["message"]
        assert PHOTO[:64] not in message and len(reply.body) < 1000, (path, len(reply.body), message[:200])


def test_a_rest_body_of_millions_of_values_is_refused_before_it_is_built(service):
    """6 MB of "{}," are two million image messages: parsed by json and converted by protobuf's json_format in
    Python, in the event loop, they held every call of every client for 7 s (50 MB: about a minute) and grew the
    process by 200 MB before the core counted the images. The transcoder now counts the body's commas, braces and
    brackets first (MAX_JSON_SEPARATORS), at C speed, and refuses the body unbuilt."""
    auth = {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"}
    before = rss_mb(service.process.pid)
    for path, body in (("/api/face/v1/search", b'{"images": [' + b"{}," * 2_000_000 + b"{}]}"),
                       ("/api/face/v1/enroll/4711", b"[" + b"{}," * 2_000_000 + b"{}]"),
                       ("/api/face/v1/template/4711/tags", b"[" + b'"x",' * 1_000_000 + b'"x"]')):
        reply = request(service.http_url, "POST" if "tags" not in path else "PUT", path, raw=body, headers=auth)
        assert reply.status == 400 and "JSON body has more than" in reply.json["message"], (path, reply.body[:200])
    assert rss_mb(service.process.pid) - before < 100
