import base64
import json

import pytest

from templates_store.crypto import KeyRing, TemplateDecryptionError, is_sealed


def test_round_trip_and_binding_to_associated_data():
    keys = KeyRing.generate("k1")
    blob = keys.seal(b"secret template", b"acme/1/5|enhanced")
    assert is_sealed(blob) and b"secret template" not in blob
    assert keys.open(blob, b"acme/1/5|enhanced") == b"secret template"
    with pytest.raises(TemplateDecryptionError):
        keys.open(blob, b"acme/1/6|enhanced")  # moved to another class


def test_tampering_is_detected():
    keys = KeyRing.generate()
    blob = bytearray(keys.seal(b"x" * 100, b"aad"))
    blob[-5] ^= 1
    with pytest.raises(TemplateDecryptionError):
        keys.open(bytes(blob), b"aad")


def test_rotation_keeps_old_blobs_readable():
    old = KeyRing.generate("old")
    blob = old.seal(b"v", b"a")
    rotated = KeyRing(active="new", keys={**old.keys, "new": KeyRing.generate("new").keys["new"]})
    assert rotated.open(blob, b"a") == b"v"
    assert rotated.key_id_of(rotated.seal(b"v", b"a")) == "new"
    with pytest.raises(TemplateDecryptionError, match="unknown key id"):
        KeyRing.generate("other").open(blob, b"a")


@pytest.mark.parametrize("document, message", [
    ({"active": "k1", "keys": {"k1": base64.b64encode(b"short").decode()}}, "32 bytes"),
    ({"active": "k2", "keys": {"k1": base64.b64encode(bytes(32)).decode()}}, "not in the key ring"),
    ({"keys": {}}, "keys file must look like"),
])
def test_bad_key_files_are_refused(document, message):
    with pytest.raises(ValueError, match=message):
        KeyRing.from_json(json.dumps(document))
