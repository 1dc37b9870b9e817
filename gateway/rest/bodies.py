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

    def __init__(self) -> None:
        super().__init__("the service is reading too many request bodies at once: retry shortly")


class BodyIncomplete(BodyError):
    def __init__(self) -> None:
        super().__init__("the request body ended before its declared length")


class BodyBudget:
    """Bytes reserved by the bodies being read now, against a fixed total (one event loop: no lock)."""

    def __init__(self, total: int, max_body: int = MAX_BODY_BYTES) -> None:
        self.total = total
        self.max_body = max_body
        self.in_use = 0

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        if self.in_use + size > self.total:
            raise OverBudget()
        self.in_use += size
        try:
            yield
        finally:
            self.in_use -= size

    @contextmanager
    def reading(self, request: web.Request) -> Iterator[None]:
        """Reserve what the request declares (a body without Content-Length: the largest allowed), or refuse
        before a byte is read. The reservation lasts while the caller reads and parses the body."""
        declared = request.content_length
        if declared is not None and declared > self.max_body:
            raise BodyTooLarge(self.max_body)
        with self.reserve(self.max_body if declared is None else declared):
            yield

    async def read(self, request: web.Request) -> bytes:
        """The whole body, inside `reading`; a chunked body that grows past the limit raises BodyTooLarge."""
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise BodyTooLarge(self.max_body) from None
        except ConnectionError:  # the client went away mid-body: nobody to answer, nothing to log
            raise BodyIncomplete() from None
