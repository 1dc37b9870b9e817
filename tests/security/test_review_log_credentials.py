"""Found in review: a request over aiohttp's 8 KB limits (a long Authorization header, a long URL with
?access_token=) or a malformed one logged a traceback holding the start of the Authorization header or the
access_token. Such a request is now one line without traceback, and every log line is redacted in one place
(Bearer and Basic values, access_token=, JWT-shaped text) before it is written."""
from __future__ import annotations

import base64
import json
import re
import socket
from urllib.parse import urlsplit

import grpc
import pytest

from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from tests.conftest import APP_SECRETS
from tests.e2e.http import request
from tests.security.forge import extension_token
from tests.security.own_service import own_service

JWT_SHAPED = re.compile(r"e[wy][A-Za-z0-9_-]{10,}")  # base64url of a JSON object, as a JWT starts
PADDING = "A" * 9000  # past aiohttp's 8190-byte line limit


def _send(service, raw: bytes) -> bytes:
    address = urlsplit(service.http_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(raw)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


@pytest.fixture(scope="module")
def logged(tmp_path_factory, redis_server):
    """A service of its own, sent every kind of request that carries a credential and goes wrong."""
    with own_service(tmp_path_factory.mktemp("log-credentials"), redis_server.url, BWS_WORKERS="1") as service:
        api = service.clients["tenant-a"].token()
        bws = extension_token(service.clients["tenant-a"].key, "tenant-a", "acme/1/5", "verify")
        secret = APP_SECRETS["legacy-app"]
        basic = base64.b64encode(f"legacy-app:{secret}".encode()).decode()
        requests = [
            f"GET /api/face/v1/classcount HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api}{PADDING}\r\n\r\n",
            f"GET /extension/result?access_token={bws}{PADDING} HTTP/1.1\r\nHost: x\r\n\r\n",
            f"GET /extension/result?access_token={bws}&x={PADDING} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Basic {basic}\r\n\r\n",
            f"GET /extension/result?access_token={bws} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n"
            "Bad Header\r\n\r\n",
            f"GET /api/face/v1/classcount HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api}\x01\r\n\r\n",
            f"GET /extension/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bws}\r\nX: \x7f\x00\r\n\r\n",
            f"GET /extension/result?access_token={bws} HTTP/9.9\r\nAuthorization: Basic {basic}\r\n\r\n",
            # last: not HTTP at all (aiohttp logs such a first request at debug level only, and so do we)
            f"G\x01T /extension/result?access_token={bws} HTTP/1.1\r\nAuthorization: Bearer {api}\r\n\r\n",
        ]
        answers = [_send(service, text.encode("latin-1")) for text in requests]
        # and the well-formed calls with credentials that fail
        request(service.http_url, "GET", f"/extension/result?access_token={bws}x", headers={
            "Authorization": f"Basic {basic}"})
        request(service.http_url, "GET", "/api/face/v1/classcount", headers={"Authorization": f"Bearer {api}x"})
        with service.channel() as channel:
            stub = fr_grpc.FaceRecognitionStub(channel)
            for value in (f"Bearer {api}{PADDING * 3}", f"Bearer {api}x", f"Bearer {bws}"):
                with pytest.raises(grpc.RpcError):
                    stub.GetClassCount(fr.GetClassCountRequest(), metadata=(("authorization", value),), timeout=30)
        yield service.log_path.read_text(), (api, bws, secret, basic), answers


def test_no_credential_reaches_the_log(logged):
    text, credentials, _ = logged
    for credential in credentials:
        for part in credential.split("."):
            assert part[:12] not in text, part[:12]
    assert not JWT_SHAPED.search(text), JWT_SHAPED.search(text)


def test_each_bad_request_is_one_line_without_traceback(logged):
    text, _, answers = logged
    assert all(answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0] for answer in answers), \
        [a[:40] for a in answers]
    assert "Traceback" not in text
    refused = [json.loads(line) for line in text.splitlines() if '"HTTP request refused"' in line]
    assert len(refused) == len(answers) - 1, refused
    assert all(r["level"] == "INFO" and r["status"] == 400 and r["remote"] == "127.0.0.1" for r in refused), refused
    assert '"reason": "LineTooLong' in text and '"reason": "BadHttpMessage' in text


def test_redaction_covers_message_extras_and_exceptions():
    """The one place: the formatter redacts whatever a logger was given (our code, aiohttp, grpc)."""
    import logging

    from gateway.infra.logs import JsonFormatter

    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQifQ.c2lnbmF0dXJl"
    try:
        raise ValueError(f"bad header b'Authorization: Bearer {token}'")
    except ValueError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "seen %s and access_token=%s&x=1",
                                   ("Basic dXNlcjpzZWNyZXQ=", token), (ValueError, exc, exc.__traceback__))
    record.extra_list = [{"header": f"authorization: Token {token[:30]}"}]
    entry = json.loads(JsonFormatter().format(record))
    flat = json.dumps(entry)
    assert "dXNlcjpzZWNyZXQ" not in flat and "eyJ" not in flat and "c2lnbmF0dXJl" not in flat, flat
    assert "access_token=[redacted]&x=1" in entry["message"] and "Traceback" in entry["exception"]
