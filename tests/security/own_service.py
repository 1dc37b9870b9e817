"""A service of the test's own (own settings, own Redis), for attacks that
need to restart, kill or overload it without disturbing the shared one."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from PIL import Image

from tests.conftest import Service, launch_service, stop_service


@contextlib.contextmanager
def own_service(tmp_path: Path, redis_url: str, **env: str):
    service = launch_service(tmp_path, redis_url, "own1", **env)
    try:
        yield service
    finally:
        stop_service(service.process)


def log_records(service: Service) -> list[dict]:
    return [json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")]


def blank_png(side: int = 6300) -> bytes:
    """A pixel bomb: tens of megapixels decoded, a few kilobytes sent."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 200).save(buffer, "PNG")
    return buffer.getvalue()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
