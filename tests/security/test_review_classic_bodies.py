"""Attacks on the bodies of the classic Web API (/extension/): the token flow's upload, which an end user's
browser sends with the task token it was given, and the direct calls (Basic app id and secret).

- A data URL's header was matched by a regular expression run over the whole body: "data:image/png" followed by
  ";a" a few million times (no comma) kept the event loop, and with it every call of every tenant (gRPC, REST,
  /livez), busy for seconds per request: 20 MB stalled /livez for 3 s, 48 MB for 14 s on the 2-core machine.
  The header is now read within its first 256 bytes (MAX_DATA_URL_HEADER), so a header longer than that is refused
  however the body goes on; the test sends such a header before a valid image, which was accepted before.
- Bodies the direct calls could not parse (JSON nested 100,000 deep, an integer of 5,000 digits, non-ASCII text in
  a data URL, also in an upload) were 500 "internal error" with an ERROR traceback in the log, one per request:
  now 400 InvalidSampleData (InvalidSample for an upload), and nothing logged as a service error.
- A direct call's form was unquoted by urllib in the event loop, one Python step per escape: 45 MB of "%41" stalled
  every call for 4 s. Forms are now decoded at C speed (the few escapes a data URL holds) in a worker thread."""
from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from tests.conftest import face
from tests.e2e.http import request
from tests.security.own_service import rss_mb
from tests.e2e.test_extension import Flow, basic

JPEG = base64.b64encode(face("obama_1.jpg")).decode()


def _long_header_url(repeats: int) -> bytes:
    return ("data:image/jpeg" + ";a" * repeats + ";base64," + JPEG).encode()


@pytest.mark.parametrize("repeats", [200, 200_000])  # a header of 415 bytes, of 400 KB
def test_a_data_url_header_is_read_within_its_first_bytes(service, repeats):
    flow = Flow(service)
    token = flow.token(9_100_001, "verify")
    uploaded = flow.upload(token, _long_header_url(repeats))
    assert uploaded.status == 400 and uploaded.json["Error"] == "InvalidSample", uploaded.body
    for path in ("/extension/qualitycheck", "/extension/passivelivedetection"):
        reply = request(service.http_url, "POST", path, raw=_long_header_url(repeats),
                        headers={**basic(service), "Content-Type": "text/plain"})
        assert reply.status == 400 and reply.json == {"Message": "InvalidSampleData"}, (path, reply.body)


def test_an_ordinary_data_url_header_still_reads(service):
    """Media type parameters (a name, a charset) before ;base64 are kept within the header's bound."""
    flow = Flow(service)
    token = flow.token(9_100_002, "verify")
    uploaded = flow.upload(token, f"data:image/JPEG;name=obama-1.jpg;charset=binary;base64,{JPEG}\r\n".encode())
    assert uploaded.status == 200 and uploaded.json["Accepted"] is True, uploaded.body
    reply = request(service.http_url, "POST", "/extension/qualitycheck", raw=f"data:image/jpeg;base64,{JPEG}".encode(),
                    headers={**basic(service), "Content-Type": "text/plain"})
    assert reply.status == 200 and reply.json["EyeCenters"], reply.body


def _error_lines(service) -> int:
    return sum('"level": "ERROR"' in line for line in service.log_path.read_text().splitlines())


MALFORMED = {  # bodies a caller sends: each was a 500 {"Message": "internal error"} and a logged traceback
    "nested JSON": ("application/json", b"[" * 100_000),
    "nested JSON in a field": ("application/json", b'{"liveimage1": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    "JSON integer of 5,000 digits": ("application/json", b'{"liveimage1": 1' + b"0" * 5_000 + b"}"),
    "non-ASCII base64": ("text/plain", "data:image/png;base64,\u00e9\u00e9AA".encode()),
    "non-ASCII base64 in JSON": ("application/json", '{"liveimage1": "data:image/png;base64,\u00e9AAA"}'.encode()),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_classic_bodies_are_400_never_500(service, name):
    kind, body = MALFORMED[name]
    errors = _error_lines(service)
    for path in ("/extension/qualitycheck", "/extension/livedetection", "/extension/photoverify2"):
        reply = request(service.http_url, "POST", path, raw=body, headers={**basic(service), "Content-Type": kind})
        assert reply.status == 400 and reply.json["Message"] in ("InvalidSampleData", "MissingData"), \
            (path, reply.status, reply.body)
    if kind == "text/plain":  # the token flow's upload, which the end user's browser sends
        flow = Flow(service)
        uploaded = flow.upload(flow.token(9_100_003, "verify"), body)
        assert uploaded.status == 400 and uploaded.json["Error"] == "InvalidSample", uploaded.body
    assert _error_lines(service) == errors  # a caller's bad body is no service error


def _escaped(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


def test_a_form_of_escapes_is_refused_before_it_is_unquoted(service):
    """A form field's value was unquoted by urllib, escape by escape in Python, in the event loop: 45 MB of "%41"
    held every call for 4 s. Values are data URLs, whose escapes are a known few ('+', '/', '=', ':', ';', ','):
    a value escaping every character (three times the bytes, a Python step each) is no data URL a client writes
    and is refused unread; one escaped as browsers and urlencode do still reads."""
    image = f"data:image/jpeg;base64,{JPEG}"
    for body, status in ((f"image={_escaped(image)}", 400), (urlencode({"image": image}), 200),
                         (urlencode({"image": image}).replace("%2B", "%2b"), 200)):
        reply = request(service.http_url, "POST", "/extension/qualitycheck", raw=body.encode(),
                        headers={**basic(service), "Content-Type": "application/x-www-form-urlencoded"})
        assert reply.status == status, (body[:80], reply.body)
        if status == 400:
            assert reply.json == {"Message": "InvalidSampleData"}


def test_a_classic_json_body_of_millions_of_values_is_refused_before_it_is_built(service):
    """The direct calls' JSON bodies are counted as the REST transcoder's are (MAX_JSON_SEPARATORS): 6 MB of "{},"
    were two million objects built in the service process."""
    before = rss_mb(service.process.pid)
    body = b'{"liveimage1": [' + b"{}," * 2_000_000 + b"{}]}"
    for path in ("/extension/livedetection", "/extension/qualitycheck"):
        reply = request(service.http_url, "POST", path, raw=body,
                        headers={**basic(service), "Content-Type": "application/json"})
        assert reply.status == 400 and reply.json == {"Message": "InvalidSampleData"}, (path, reply.body)
    assert rss_mb(service.process.pid) - before < 100
