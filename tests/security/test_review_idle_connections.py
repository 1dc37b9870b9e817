"""Found in review: an HTTP connection that never completed its request headers (or sent none) stayed
open for an hour (aiohttp's default), so anyone could hold thousands of connections with a few bytes
each. Such connections are now closed after BWS_HTTP_IDLE_SECONDS (75 s by default)."""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from tests.security.own_service import own_service

IDLE_SECONDS = 2


def _closed_within(connection: socket.socket, seconds: float) -> bool:
    connection.settimeout(seconds)
    try:
        return connection.recv(100) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_idle_and_slow_header_connections_are_closed(tmp_path, redis_server):
    with own_service(tmp_path, redis_server.url, BWS_HTTP_IDLE_SECONDS=str(IDLE_SECONDS)) as service:
        address = urlsplit(service.http_url)
        idle = socket.create_connection((address.hostname, address.port))
        slow = socket.create_connection((address.hostname, address.port))
        slow.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        started = time.monotonic()
        try:
            assert _closed_within(idle, IDLE_SECONDS + 10)
            assert _closed_within(slow, IDLE_SECONDS + 10)
            assert time.monotonic() - started < IDLE_SECONDS + 10
        finally:
            idle.close()
            slow.close()
        with socket.create_connection((address.hostname, address.port), timeout=10) as working:
            working.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert working.recv(100).startswith(b"HTTP/1.1 200")
