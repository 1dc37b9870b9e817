"""Found in review: the embedded Redis stopped whatever redis-server its data directory's pid file named, so a
stale pid file (the server long gone, its pid reused) could make the service kill another redis-server. It now
stops only a server of its own: this user's, working in this data directory."""
from __future__ import annotations

import os

import psutil
import pytest

from templates_store.embedded import DataDirInUse, EmbeddedRedis, free_port


def test_a_stale_pid_file_naming_another_redis_server_is_left_alone(tmp_path):
    other = EmbeddedRedis(tmp_path / "other", port=free_port()).start()
    ours = EmbeddedRedis(tmp_path / "ours", port=free_port())
    try:
        (tmp_path / "ours").mkdir()
        ours.pid_file.write_text(str(other.process.pid))  # stale: names a redis-server that is not ours
        ours.start()
        assert other.running and psutil.pid_exists(other.process.pid)
        assert ours.running
    finally:
        ours.stop()
        other.stop()


def test_our_own_leftover_server_is_still_stopped(tmp_path):
    first = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    left = first.process.pid  # the service was killed: its server runs on, its lock died with it
    os.close(first._lock)
    first._lock = None
    second = EmbeddedRedis(tmp_path / "redis", port=free_port())
    try:
        second.start()
        first.process.wait(10)
        assert not psutil.pid_exists(left) or psutil.Process(left).status() == psutil.STATUS_ZOMBIE
        assert second.running
    finally:
        second.stop()
        first.stop()


def test_a_running_services_server_is_not_taken_for_a_leftover(tmp_path):
    """Found by a newcomer: a second `make run` in the same checkout stopped the first service's Redis as stale."""
    running = EmbeddedRedis(tmp_path / "redis", port=free_port()).start()
    second = EmbeddedRedis(tmp_path / "redis", port=free_port())
    try:
        with pytest.raises(DataDirInUse, match="in use by another running service"):
            second.start()
        assert running.running and not second.running
    finally:
        second.stop()
        running.stop()
    EmbeddedRedis(tmp_path / "redis", port=free_port()).start().stop()  # free again once the first stopped
