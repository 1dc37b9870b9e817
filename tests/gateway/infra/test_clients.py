import base64
import json

import pytest

from gateway.infra.clients import OPERATIONS, ClientRegistry, development_registry


def _registry(**entry):
    base = {"clientId": "c1", "key": base64.b64encode(bytes(32)).decode(), "storage": "bioid", "partition": 9876}
    return ClientRegistry.from_json(json.dumps({"clients": [{**base, **entry}]}))


def test_registry_binds_client_to_partition_and_operations():
    client = _registry(operations=["verify"], encryptCompact=True).get("c1")
    assert str(client.partition) == "bioid/9876" and client.encrypt_compact
    assert client.allows("verify") and not client.allows("delete")
    assert _registry().get("c1").operations == OPERATIONS
    assert "key" not in repr(client) and base64.b64encode(bytes(32)).decode() not in repr(client)


@pytest.mark.parametrize("entry, message", [
    ({"key": base64.b64encode(bytes(16)).decode()}, "at least 32 bytes"),
    ({"key": "***"}, "not base64"),
    ({"operations": ["fly"]}, "unknown operations"),
    ({"storage": "a/b"}, "invalid storage name"),
])
def test_bad_registries_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        _registry(**entry)


def test_development_registry_is_created_once_and_kept(tmp_path):
    first, path = development_registry(tmp_path)
    again, _ = development_registry(tmp_path)
    assert next(iter(first)).key == next(iter(again)).key
    assert path.stat().st_mode & 0o777 == 0o600
