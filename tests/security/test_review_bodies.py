"""Found in review: one client's slow bodies must not lock every other client out, and a JSON number of
more digits than Python converts is a 400, not a 500."""
from __future__ import annotations

import base64
import http.client
import json
import time
from urllib.parse import urlsplit

from tests.conftest import face
from tests.e2e.helpers import new_class_id
from tests.security.test_bodies import _open

MB = 1024 * 1024


def _port(service) -> int:
    return urlsplit(service.http_url).port


def _verify(service, client: str, class_id: int) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", _port(service), timeout=60)
    body = json.dumps({"image": base64.b64encode(face("biden_1.jpg")).decode()})
    connection.request("POST", f"/api/face/v1/verify/{class_id}", body,
                       {"Authorization": f"Bearer {service.clients[client].token()}",
                        "Content-Type": "application/json"})
    response = connection.getresponse()
    status, answer = response.status, json.loads(response.read())
    connection.close()
    return status, answer


def test_one_clients_slow_bodies_leave_room_for_the_others(service):
    """tenant-a declares 256 MB of bodies (the whole budget) and trickles them in; tenant-b is still read
    (once: 503 'reading too many request bodies' for every other client for as long as tenant-a kept going)."""
    authorization = {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"}
    held = []
    try:
        for size in [50 * MB] * 5 + [6 * MB]:
            connection = _open(_port(service), "/api/face/v1/verify/5", size, authorization, timeout=30)
            connection.send(b'{"image":"')
            held.append(connection)
        time.sleep(0.5)
        status, answer = _verify(service, "tenant-b", new_class_id())
        assert status == 404 and "no template" in answer["message"], (status, answer)  # read, parsed and run
    finally:
        for connection in held:
            connection.close()


def test_json_integer_of_too_many_digits_is_a_bad_request(service):
    connection = http.client.HTTPConnection("127.0.0.1", _port(service), timeout=30)
    connection.request("POST", "/api/face/v1/search", '{"maxResults": 1' + "0" * 5000 + "}",
                       {"Authorization": f"Bearer {service.clients['tenant-a'].token()}",
                        "Content-Type": "application/json"})
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 400 and "malformed JSON body" in answer["message"], (response.status, answer)
