"""WatchedFile: a changed file is applied; a broken one keeps the previous value and is reported once."""
import logging
import os

from templates_store import KeyRing
from gateway.reload import Reloader, WatchedFile


def test_changes_are_applied_and_broken_files_keep_the_old_value(tmp_path, caplog):
    path = tmp_path / "keys.json"
    first = KeyRing.generate("k1")
    path.write_text(first.to_json())
    applied = []
    watched = WatchedFile("key file", path, KeyRing.from_file, applied.append)
    assert watched.check() is False and applied == []  # unchanged since it was loaded

    second = KeyRing(active="k2", keys={**first.keys, "k2": bytes(32)})
    path.write_text(second.to_json())
    assert watched.check() is True and applied == [second]

    caplog.set_level(logging.INFO, logger="bws")
    path.write_text('{"active": "k3", "keys": {"k3": "short"}}')
    assert watched.check() is False and watched.check() is False
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage() == "key file not reloaded: keeping the previous one"
    assert "short" not in errors[0].reason  # the reason never echoes key material
    assert applied == [second]

    path.unlink()  # a removed file is an error too, and keeps the value
    assert watched.check() is False and applied == [second]
    path.write_text(first.to_json())
    os.utime(path, ns=(1, 1))
    assert watched.check() is True and applied[-1] == first


def test_reload_now_rereads_even_when_the_stamp_is_unchanged(tmp_path):
    path = tmp_path / "keys.json"
    ring = KeyRing.generate("k1")
    path.write_text(ring.to_json())
    applied = []
    reloader = Reloader([WatchedFile("key file", path, KeyRing.from_file, applied.append)], poll_seconds=3600)
    reloader.reload_now()
    assert applied == [ring]
