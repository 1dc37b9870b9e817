"""WatchedFile: a changed file is applied; a broken one keeps the previous value and is reported once."""
import logging
import os

from templates_store import KeyRing
from gateway.infra.reload import Reloader, WatchedFile


async def test_changes_are_applied_and_broken_files_keep_the_old_value(tmp_path, caplog):
    path = tmp_path / "keys.json"
    first = KeyRing.generate("k1")
    path.write_text(first.to_json())
    applied = []
    watched = WatchedFile("key file", path, KeyRing.from_file, applied.append)
    assert await watched.check() is False and applied == []  # unchanged since it was loaded

    second = KeyRing(active="k2", keys={**first.keys, "k2": bytes(32)})
    path.write_text(second.to_json())
    assert await watched.check() is True and applied == [second]

    caplog.set_level(logging.INFO, logger="bws")
    path.write_text('{"active": "k3", "keys": {"k3": "short"}}')
    assert await watched.check() is False and await watched.check() is False
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage() == "key file not reloaded: keeping the previous one"
    assert "short" not in errors[0].reason  # the reason never echoes key material
    assert applied == [second]

    path.unlink()  # a removed file is an error too, and keeps the value
    assert await watched.check() is False and applied == [second]
    path.write_text(first.to_json())
    os.utime(path, ns=(1, 1))
    assert await watched.check() is True and applied[-1] == first


async def test_reload_now_rereads_even_when_the_stamp_is_unchanged(tmp_path):
    path = tmp_path / "keys.json"
    ring = KeyRing.generate("k1")
    path.write_text(ring.to_json())
    applied = []
    reloader = Reloader([WatchedFile("key file", path, KeyRing.from_file, applied.append)], poll_seconds=3600)
    await reloader.reload_now()
    assert applied == [ring]


def test_only_small_regular_files_are_read(tmp_path):
    import pytest

    from gateway.infra.files import read_small_file

    (tmp_path / "ok.json").write_text('{"a": 1}')
    assert read_small_file(tmp_path / "ok.json") == '{"a": 1}'
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"x" * 101)
    (tmp_path / "latin1").write_bytes(b"\xe9")
    for name, reason in (("fifo", "is not a regular file"), (".", "is not a regular file"),
                         ("big", "over the 100 bytes allowed"), ("latin1", "is not UTF-8 text"), ("nope", "no file")):
        with pytest.raises(ValueError, match=reason):
            read_small_file(tmp_path / name, max_bytes=100)
