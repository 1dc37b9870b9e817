"""Bodies are read only for callers who authenticated, within a byte budget for all bodies at once:
a missing or forged token gets its 401 without the body being read, and memory stays flat."""
from __future__ import annotations

import http.client
import threading
import time

import pytest

from tests.conftest import launch_service, stop_service
from tests.e2e.test_extension import data_url
from tests.security.forge import extension_token
from tests.security.own_service import rss_mb

BUDGET = 80 * 1024 * 1024  # BWS_MAX_BODY_BYTES_IN_FLIGHT of the service under test
PATHS = {"rest": "/api/face/v1/search", "upload": "/extension/upload"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_server):
    started = launch_service(tmp_path_factory.mktemp("bodies"), redis_server.url, "t1", BWS_WORKERS="1",
                             BWS_MAX_BODY_BYTES_IN_FLIGHT=str(BUDGET),
                             BWS_GRACE_SECONDS="2")  # at its stop, no upload left half-sent holds it 10 s
    yield started.process, int(started.http_url.rsplit(":", 1)[1]), started.clients
    stop_service(started.process)


def _authorization(kind: str, clients, valid: bool) -> dict[str, str]:
    client = clients["tenant-a"]
    if not valid:
        return {"Authorization": "Bearer forged.token.value"}
    token = client.token() if kind == "rest" else extension_token(client.key, "tenant-a", "acme/1/5", "enroll")
    return {"Authorization": f"Bearer {token}"}


def _open(port: int, path: str, length: int | None, headers: dict[str, str],
          timeout: float = 20) -> http.client.HTTPConnection:
    """A request whose headers are sent and whose body is not (yet)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", "application/json")
    if length is None:
        connection.putheader("Transfer-Encoding", "chunked")
    else:
        connection.putheader("Content-Length", str(length))
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders()
    return connection


class _RssSampler(threading.Thread):
    """The largest resident size of a process while the sampler runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, rss_mb(pid), threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss_mb(self.pid))


@pytest.mark.parametrize("kind", sorted(PATHS))
@pytest.mark.parametrize("missing", [False, True], ids=["forged", "missing"])
def test_refused_before_the_body_is_read(server, kind, missing):
    """A body declared at 45 MB and never sent: the 401 comes at once (today's code waits for the body)."""
    _, port, clients = server
    headers = {} if missing else _authorization(kind, clients, valid=False)
    connection = _open(port, PATHS[kind], 45 * 1024 * 1024, headers)
    connection.send(b'{"images": [' if kind == "rest" else b"data:image/jpeg;base64,")
    response = connection.getresponse()  # the body never comes: a wait here times out after 20 s
    assert response.status == 401
    connection.close()


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_unauthenticated_large_bodies_do_not_grow_the_process(server, kind):
    """Four unauthenticated 45 MB uploads at once (once: 255 MB -> 963 MB)."""
    process, port, clients = server
    before = rss_mb(process.pid)
    sampler = _RssSampler(process.pid)
    sampler.start()
    payload = b"A" * (45 * 1024 * 1024)
    body = b'{"images":[{"image":"' + payload + b'"}]}' if kind == "rest" else b"data:image/jpeg;base64," + payload
    statuses: list[int | str] = []

    def post():
        connection = _open(port, PATHS[kind], len(body), _authorization(kind, clients, valid=False))
        try:
            connection.send(body)
            statuses.append(connection.getresponse().status)
        except OSError as exc:  # the server may close the connection once it has answered
            statuses.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    time.sleep(0.3)
    sampler.done.set()
    sampler.join()
    assert all(s == 401 or isinstance(s, str) for s in statuses) and 401 in statuses, statuses
    assert sampler.peak - before < 60, (before, sampler.peak)


def test_bodies_in_flight_are_bounded(server):
    """Authenticated bodies being read hold their declared bytes of the budget; past it, 429 (with Retry-After)
    before reading."""
    _, port, clients = server
    holding = _open(port, PATHS["rest"], 50 * 1024 * 1024, _authorization("rest", clients, valid=True))
    holding.send(b'{"images": [')  # read slowly: 50 of the 80 MB budget stay reserved
    time.sleep(0.5)
    try:
        for kind in sorted(PATHS):
            over = _open(port, PATHS[kind], 40 * 1024 * 1024, _authorization(kind, clients, valid=True))
            response = over.getresponse()
            assert response.status == 429 and b"retry" in response.read(), kind
            assert response.getheader("Retry-After") == "1"
            over.close()
    finally:
        holding.close()
    time.sleep(0.5)  # the server notices the closed connection and releases the reservation
    small = _open(port, PATHS["rest"], 2, _authorization("rest", clients, valid=True))
    small.send(b"{}")
    assert small.getresponse().status == 400  # read and parsed: a search needs images
    small.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_upload_over_the_limit_is_413(server, chunked):
    _, port, clients = server
    body = data_url(b"\xff" * (39 * 1024 * 1024))  # 52 MB of data URL
    connection = _open(port, PATHS["upload"], None if chunked else len(body),
                       _authorization("upload", clients, valid=True), timeout=60)
    try:
        if chunked:
            step = 1 << 20
            for start in range(0, len(body), step):
                piece = body[start:start + step]
                connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            connection.send(b"0\r\n\r\n")
        else:
            connection.send(body)
    except OSError:
        pass  # answered (and closed) before all was sent
    response = connection.getresponse()
    assert response.status == 413 and response.getheader("Content-Type").startswith("application/json")
    connection.close()
