"""Found in review: header values that are no ASCII (UTF-8 text, or bytes that are not UTF-8 at all)
answered 500 with a traceback: the REST transcoder forwarded them as gRPC metadata (which only carries
printable ASCII) and PyJWT could not encode undecodable bytes. They are a 401, or ignored (reference-number)."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.security.forge import extension_token


def _get(service, path: str, headers: bytes) -> tuple[int, bytes]:
    address = urlsplit(service.http_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + headers + b"\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _api(service) -> bytes:
    return service.clients["tenant-a"].token().encode()


@pytest.mark.parametrize("suffix", [b"\xc3\xa9", b"\xff\xfe"], ids=["utf8", "not-utf8"])
def test_non_ascii_authorization_is_401_on_rest(service, suffix):
    status, body = _get(service, "/api/face/v1/classcount",
                        b"Authorization: Bearer " + _api(service) + suffix + b"\r\n")
    assert status == 401 and json.loads(body)["code"] == 16, (status, body)


@pytest.mark.parametrize("suffix", [b"\xc3\xa9", b"\xff\xfe"], ids=["utf8", "not-utf8"])
def test_non_ascii_reference_number_is_ignored(service, suffix):
    status, body = _get(service, "/api/face/v1/classcount",
                        b"Authorization: Bearer " + _api(service) + b"\r\nReference-Number: ab" + suffix + b"\r\n")
    assert status == 200 and "numberOfClasses" in json.loads(body), (status, body)


@pytest.mark.parametrize("path", ["/extension/verify", "/extension/livenessdetection"])
def test_non_ascii_bws_token_is_401(service, path):
    token = extension_token(service.clients["tenant-a"].key, "tenant-a", "acme/1/5", path.rsplit("/", 1)[1])
    status, body = _get(service, path, b"Authorization: Bearer " + token.encode() + b"\xff\r\n")
    assert status == 401 and json.loads(body)["Success"] is False, (status, body)


@pytest.mark.parametrize("suffix", [b"\xc3\xa9", b"\xff"], ids=["utf8", "not-utf8"])
@pytest.mark.parametrize("path", ["/extension/token?bcid=acme/1/5&task=enroll", "/extension/result?access_token=x"])
def test_non_ascii_basic_authentication_is_401(service, path, suffix):
    status, body = _get(service, path, b"Authorization: Basic " + suffix + b"\r\n")
    assert status == 401 and "malformed" in json.loads(body)["Error"], (status, body)
