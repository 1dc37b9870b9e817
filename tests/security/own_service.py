"""A service of the test's own (own settings, own Redis), for attacks that
need to restart, kill or overload it without disturbing the shared one."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from PIL import Image

from templates_store import KeyRing
from tests.conftest import Service, start_service, stop_service, write_clients_file


@contextlib.contextmanager
def own_service(tmp_path: Path, redis_url: str, **env: str):
    clients = write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate("own1").to_json())
    target, process, log_path, full_env = start_service(tmp_path, redis_url, tmp_path / "clients.json",
                                                        tmp_path / "keys.json", **env)
    try:
        yield Service(target, process, clients, redis_url, log_path, f"http://127.0.0.1:{full_env['BWS_HTTP_PORT']}",
                      f"http://127.0.0.1:{full_env['BWS_METRICS_PORT']}")
    finally:
        stop_service(process)


def log_records(service: Service) -> list[dict]:
    return [json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")]


def blank_png(side: int = 6300) -> bytes:
    """A pixel bomb: tens of megapixels decoded, a few kilobytes sent."""
    buffer = io.BytesIO()
    Image.new("L", (side, side), 200).save(buffer, "PNG")
    return buffer.getvalue()
