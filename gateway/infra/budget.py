"""The bytes of requests the service holds in memory at once, one budget for every transport: an HTTP body from
before its first byte is read until its call ends, a gRPC message from before it is received until its call
ends. One client may hold at most half of the total (at least one largest request), so a client that sends many
large requests, or trickles them in, cannot keep every other client out. One event loop: no lock."""
from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from typing import Iterator

from gateway.core.errors import ResourceExhausted

RETRY_AFTER_SECONDS = 1  # the retry hint of a refusal: holds end with calls, usually within seconds


class OverBudget(ResourceExhausted):
    """A request refused before it is read: RESOURCE_EXHAUSTED / HTTP 429, with a retry hint."""

    def __init__(self, whose: str = "the service is") -> None:
        super().__init__(f"{whose} holding too many request bytes at once: retry shortly", RETRY_AFTER_SECONDS)


class Hold:
    """Bytes one request holds of the budget; released once, whichever way its call ends."""

    def __init__(self, budget: "ByteBudget", client: str, size: int) -> None:
        self.budget, self.client, self.size = budget, client, size
        self.released = False

    def shrink(self, size: int) -> None:
        """Down to what the request turned out to be (a message smaller than the largest allowed)."""
        if not self.released and 0 <= size < self.size:
            self.budget._take(self.client, size - self.size)
            self.size = size

    def resize(self, size: int) -> None:
        """To what the request turned out to be: down, or up if there is room (else OverBudget, unchanged)."""
        if self.released or size <= self.size:
            self.shrink(size)
            return
        refusal = self.budget._refusal(size - self.size, self.client)
        if refusal:
            raise refusal
        self.budget._take(self.client, size - self.size)
        self.size = size

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.budget._take(self.client, -self.size)


class ByteBudget:
    def __init__(self, total: int, largest: int, receive_seconds: float = 60.0) -> None:
        self.total = total
        self.largest = largest  # the largest single request (HTTP body or gRPC message)
        # A request whose body or message has not all arrived this long after its hold was taken is refused and
        # its hold released: a caller that never sends cannot keep its share.
        self.receive_seconds = receive_seconds
        self.per_client = max(largest, total // 2)
        self.in_use = 0
        self._by_client: dict[str, int] = {}
        self._waiters: list[asyncio.Future] = []

    def held_by(self, client: str) -> int:
        return self._by_client.get(client, 0)

    def _refusal(self, size: int, client: str) -> OverBudget | None:
        if self.held_by(client) + size > self.per_client:
            return OverBudget("this client is")
        if self.in_use + size > self.total:
            return OverBudget()
        return None

    def _take(self, client: str, size: int) -> None:
        self.in_use += size
        held = self._by_client.get(client, 0) + size
        if held:
            self._by_client[client] = held
        else:
            self._by_client.pop(client, None)
        if size < 0:
            self._wake()

    def _wake(self) -> None:
        """Lets every waiter check again (from the loop's thread, wherever a release happened)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.get_loop().call_soon_threadsafe(_set_done, waiter)

    def hold(self, size: int, client: str) -> Hold:
        """Now, or OverBudget."""
        refusal = self._refusal(size, client)
        if refusal:
            raise refusal
        self._take(client, size)
        return Hold(self, client, size)

    async def hold_within(self, size: int, client: str, seconds: float) -> Hold:
        """As soon as there is room, waiting at most `seconds` (then OverBudget)."""
        deadline = time.monotonic() + seconds
        while (refusal := self._refusal(size, client)) is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise refusal
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, left)
            except asyncio.TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self.hold(size, client)

    @contextmanager
    def holding(self, size: int, client: str) -> Iterator[Hold]:
        hold = self.hold(size, client)
        try:
            yield hold
        finally:
            hold.release()


def _set_done(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)
