"""Re-read the client registry and the key file when they change (mtime poll) or on SIGHUP,
without a restart. A file that does not load keeps the previous value and logs one error.

Files are read in a worker thread (asyncio.to_thread) by loaders that accept only small regular files
(gateway/infra/files.py): whatever lies at the path, the event loop, and with it /livez and every call, goes on."""
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
    load: Callable[[Path], Any]  # runs in a worker thread
    apply: Callable[[Any], None]  # runs on the event loop
    _stamp: tuple[int, int, int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._stamp = self._current()

    def _current(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    async def check(self, force: bool = False) -> bool:
        """Reload when the file changed (or when forced); True when a new value was applied."""
        stamp = await asyncio.to_thread(self._current)
        if stamp == self._stamp and not force:
            return False
        self._stamp = stamp  # a broken version is reported once, not at every poll
        try:
            value = await asyncio.to_thread(self.load, self.path)
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
        self._lock = asyncio.Lock()  # a SIGHUP during a poll waits for it: one reader per file at a time
        self._forced: set[asyncio.Task] = set()

    async def check(self, force: bool = False) -> None:
        async with self._lock:
            for watched in self.files:
                await watched.check(force)

    def reload_now(self) -> asyncio.Task:
        """SIGHUP: re-read every file now, whatever its stamp (called on the event loop)."""
        task = asyncio.get_running_loop().create_task(self.check(force=True), name="reload-now")
        self._forced.add(task)  # keep a reference until it is done
        task.add_done_callback(self._forced.discard)
        return task

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self.check()
