"""Reading HTTP request bodies within limits: one body's size, and the bytes
held by all requests at once (gateway/infra/budget.py, shared with the gRPC port, so
a burst of large uploads cannot grow the process without bound). Callers
authenticate before they read."""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import Iterator

from aiohttp import web

from gateway.infra.budget import ByteBudget, Hold

MAX_BODY_BYTES = 50 * 1024 * 1024


class BodyError(Exception):
    """A body that is not read; `status` is the HTTP answer; with `close`, the connection is closed after it."""
    status = 400
    close = False


class BodyTooLarge(BodyError):
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")


class BodyIncomplete(BodyError):
    def __init__(self) -> None:
        super().__init__("the request body ended before its declared length")


class BodyLate(BodyError):
    status = 408
    close = True  # the rest of the body may still come: the connection cannot carry another request

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s (BWS_REQUEST_RECEIVE_SECONDS)")


def refusing(error: BodyError, response: web.StreamResponse) -> web.StreamResponse:
    """The answer to a body error, closing the connection when the error needs it."""
    if error.close:
        response.force_close()
    return response


@contextmanager
def holding_body(budget: ByteBudget, request: web.Request, client: str, max_body: int = MAX_BODY_BYTES,
                 read: bool = True) -> Iterator[Hold]:
    """Hold what the request declares (a chunked body: the largest allowed; no body, or one that is not `read`:
    nothing) for the authenticated client, or refuse before a byte is read (BodyTooLarge, OverBudget). The hold
    lasts the caller's block: read, parse and the whole call."""
    declared = request.content_length if read and request.can_read_body else 0
    if declared is not None and declared > max_body:
        raise BodyTooLarge(max_body)
    with budget.holding(max_body if declared is None else declared, client) as hold:
        yield hold


async def read_body(request: web.Request, hold: Hold, max_body: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, within the budget's receive time (else BodyLate); a chunked body that grows past the limit
    raises BodyTooLarge. The hold shrinks to it."""
    try:
        body = await asyncio.wait_for(request.read(), hold.budget.receive_seconds)
    except asyncio.TimeoutError:
        raise BodyLate(hold.budget.receive_seconds) from None
    except web.HTTPRequestEntityTooLarge:
        raise BodyTooLarge(max_body) from None
    except ConnectionError:  # the client went away mid-body: nobody to answer, nothing to log
        raise BodyIncomplete() from None
    hold.shrink(len(body))
    return body
