"""The template store's outages, as the service sees them: Redis unreachable or full is a retryable
Unavailable for the caller, and one log line when the outage starts (and ends), however many calls fail."""
from __future__ import annotations

import logging
import time

from redis import exceptions as redis_errors

from gateway.core.errors import Unavailable
from gateway.engine import EngineUnavailable
from gateway.infra.logs import redis_server_code

log = logging.getLogger("bws.errors")


# Redis unreachable, frozen, still loading its data, or read-only during a failover: retryable.
STORE_UNAVAILABLE_ERRORS = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ReadOnlyError,
                            redis_errors.ClusterDownError, redis_errors.TryAgainError)
STORE_UNAVAILABLE_MESSAGE = "template store unavailable, retry later"
# Redis at its maxmemory refusing writes (reads still work): retryable once memory is freed.
STORE_FULL_ERRORS = (redis_errors.OutOfMemoryError,)
STORE_FULL_MESSAGE = "template store full (unavailable for writes), retry later"
# Redis unable to write to its disk (a snapshot failed: a full disk; Redis then refuses writes with MISCONF).
STORE_DISK_MESSAGE = "template store cannot write to its disk (unavailable for writes), retry later"


class StoreOutage:
    """Logs an outage of the template store once: a warning when it starts
    (the first failure seen) and an info when it ends (a poll succeeds again),
    however many calls fail in between."""

    def __init__(self) -> None:
        self.down = False

    def failed(self, error: BaseException) -> None:
        if not self.down:
            self.down = True
            log.warning("template store unavailable: calls answer UNAVAILABLE until it is back",
                        extra={"reason": type(error).__name__})

    def recovered(self) -> None:
        if self.down:
            self.down = False
            log.info("template store available again")

    def observe_poll(self, error: Exception | None) -> None:
        """For a background loop that reaches the store: its outcome, None when it worked."""
        if error is None:
            self.recovered()
        elif isinstance(error, STORE_UNAVAILABLE_ERRORS):
            self.failed(error)
        else:
            log.error("index sync failed; retrying", exc_info=error)


STORE_OUTAGE = StoreOutage()


class StoreFull:
    """Logs once that Redis refuses writes (at its maxmemory, or unable to write its disk). Reads keep working
    (the index-sync poll cannot tell when it ends), so a spell of refusals ends after `quiet_seconds` without
    one."""

    def __init__(self, warning: str, quiet_seconds: float = 60.0) -> None:
        self.warning = warning
        self.quiet_seconds = quiet_seconds
        self.last_refusal: float | None = None

    def refused(self, error: BaseException) -> None:
        now = time.monotonic()
        if self.last_refusal is None or now - self.last_refusal > self.quiet_seconds:
            log.warning(self.warning, extra={"reason": type(error).__name__})
        self.last_refusal = now


STORE_FULL = StoreFull("template store full (Redis maxmemory): writes answer UNAVAILABLE until memory is freed")
STORE_DISK = StoreFull("template store cannot write to its disk (Redis MISCONF: its last snapshot failed, a full "
                       "disk?): writes answer UNAVAILABLE until it can save again")


def translate(error: BaseException) -> BaseException:
    """The one mapping of infrastructure failures to service errors, for every
    transport: the store being unreachable or full, or a face engine worker lost, is Unavailable; anything
    else is returned as it is."""
    if isinstance(error, STORE_FULL_ERRORS):
        STORE_FULL.refused(error)
        return Unavailable(STORE_FULL_MESSAGE)
    if redis_server_code(error) == "MISCONF":
        STORE_DISK.refused(error)
        return Unavailable(STORE_DISK_MESSAGE)
    if isinstance(error, STORE_UNAVAILABLE_ERRORS):
        STORE_OUTAGE.failed(error)
        return Unavailable(STORE_UNAVAILABLE_MESSAGE)
    if isinstance(error, EngineUnavailable):
        return Unavailable(str(error))
    return error
