"""Re-read the client registry and the key file when they change (mtime poll) or on SIGHUP,
without a restart. A file that does not load keeps the previous value and logs one error."""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("bws")


@dataclass
class WatchedFile:
    what: str  # "client registry", "key file": for the log
    path: Path
    load: Callable[[Path], Any]
    apply: Callable[[Any], None]
    _stamp: tuple[int, int, int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._stamp = self._current()

    def _current(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def check(self, force: bool = False) -> bool:
        """Reload when the file changed (or when forced); True when a new value was applied."""
        stamp = self._current()
        if stamp == self._stamp and not force:
            return False
        self._stamp = stamp  # a broken version is reported once, not at every poll
        try:
            value = self.load(self.path)
        except Exception as exc:  # whatever the file holds, the service keeps the previous value
            log.error(f"{self.what} not reloaded: keeping the previous one",
                      extra={"path": str(self.path), "reason": str(exc) or type(exc).__name__})
            return False
        self.apply(value)
        log.info(f"{self.what} reloaded", extra={"path": str(self.path)})
        return True


class Reloader:
    def __init__(self, files: list[WatchedFile], poll_seconds: float) -> None:
        self.files = files
        self.poll_seconds = poll_seconds

    def reload_now(self) -> None:
        for watched in self.files:
            watched.check(force=True)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            for watched in self.files:
                watched.check()
