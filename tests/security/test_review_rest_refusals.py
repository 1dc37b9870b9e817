"""A REST body the transcoder cannot turn into the request message is refused with a text that names why, not
with the body itself: protobuf's ParseError quotes the value it refused, so a 270 KB photo sent in the wrong shape
came back whole in the 400's message (and would in any proxy's log of error answers), as did json's text."""
from __future__ import annotations

import base64
import json

from tests.conftest import face
from tests.e2e.http import request

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
