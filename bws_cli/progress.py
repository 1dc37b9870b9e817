"""What a call's progress display shows is real work: bytes as the REST transport writes them to the
socket, then the server's time as a spinner with the elapsed seconds (nothing to measure there)."""
from __future__ import annotations

import threading
import time
from typing import TextIO

from tqdm import tqdm

UPLOAD_BAR_BYTES = 1024 * 1024  # smaller bodies leave in one go: no bar


class CallProgress:
    def __init__(self, file: TextIO, enabled: bool) -> None:
        self.file = file
        self.enabled = enabled
        self._upload: tqdm | None = None
        self._sent = 0
        self._done = threading.Event()
        self._uploading = threading.Event()
        self._spinner = threading.Thread(target=self._spin, daemon=True)

    def sent(self, count: int, total: int) -> None:
        """Transport callback: count more bytes of a total-byte body were written to the socket."""
        if not self.enabled or total < UPLOAD_BAR_BYTES:
            return
        if self._upload is None:
            self._uploading.set()
            self._upload = tqdm(total=total, unit="B", unit_scale=True, desc="uploading", file=self.file)
        self._upload.update(count)
        self._sent += count
        if self._sent >= total:
            self._upload.close()
            self._uploading.clear()

    def _spin(self) -> None:
        started = None
        frames = "|/-\\"
        while not self._done.wait(0.1):
            if self._uploading.is_set():
                continue
            started = started or time.monotonic()
            elapsed = time.monotonic() - started
            if elapsed >= 0.5:  # quick answers show nothing
                self.file.write(f"\r{frames[int(elapsed * 10) % 4]} server working {elapsed:.1f}s")
                self.file.flush()
        if started and time.monotonic() - started >= 0.5:
            self.file.write("\r" + " " * 40 + "\r")
            self.file.flush()

    def __enter__(self) -> "CallProgress":
        if self.enabled:
            self._spinner.start()
        return self

    def __exit__(self, *_) -> None:
        self._done.set()
        if self._spinner.is_alive():
            self._spinner.join()
        if self._upload is not None:
            self._upload.close()
