"""Reading HTTP request bodies within limits: one body's size, and the bytes
of all bodies being read and parsed at once (so a burst of large uploads cannot
grow the process without bound). Callers authenticate before they read."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from aiohttp import web

MAX_BODY_BYTES = 50 * 1024 * 1024


class BodyError(Exception):
    """A body that is not read; `status` is the HTTP answer."""
    status = 400


class BodyTooLarge(BodyError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")


class OverBudget(BodyError):
    status = 503

    def __init__(self, whose: str = "the service is") -> None:
        super().__init__(f"{whose} reading too many request bodies at once: retry shortly")


class BodyIncomplete(BodyError):
    def __init__(self) -> None:
        super().__init__("the request body ended before its declared length")


class BodyBudget:
    """Bytes reserved by the bodies being read now, against a fixed total (one event loop: no lock).

    One client may hold at most half of the total (at least one body): a client that trickles its bodies
    in slowly cannot keep every other client's requests at 503."""

    def __init__(self, total: int, max_body: int = MAX_BODY_BYTES) -> None:
        self.total = total
        self.max_body = max_body
        self.per_client = max(max_body, total // 2)
        self.in_use = 0
        self._by_client: dict[str, int] = {}

    @contextmanager
    def reserve(self, size: int, client: str = "") -> Iterator[None]:
        held = self._by_client.get(client, 0)
        if held + size > self.per_client:
            raise OverBudget("this client is")
        if self.in_use + size > self.total:
            raise OverBudget()
        self.in_use += size
        self._by_client[client] = held + size
        try:
            yield
        finally:
            self.in_use -= size
            self._by_client[client] -= size
            if not self._by_client[client]:
                del self._by_client[client]

    @contextmanager
    def reading(self, request: web.Request, client: str) -> Iterator[None]:
        """Reserve what the request declares (a body without Content-Length: the largest allowed) for the
        authenticated client, or refuse before a byte is read. The reservation lasts while the caller reads
        and parses the body."""
        declared = request.content_length
        if declared is not None and declared > self.max_body:
            raise BodyTooLarge(self.max_body)
        with self.reserve(self.max_body if declared is None else declared, client):
            yield

    async def read(self, request: web.Request) -> bytes:
        """The whole body, inside `reading`; a chunked body that grows past the limit raises BodyTooLarge."""
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise BodyTooLarge(self.max_body) from None
        except ConnectionError:  # the client went away mid-body: nobody to answer, nothing to log
            raise BodyIncomplete() from None
