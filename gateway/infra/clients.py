"""The client registry: who may call, with which key, on which partition, for what; read from its file
(the Client itself is gateway/core/tenancy.py)."""
from __future__ import annotations

import base64
import binascii
import json
import secrets
from pathlib import Path

from gateway.core.tenancy import OPERATIONS, Client
from gateway.infra.files import read_small_file, write_private
from templates_store import PartitionId

MIN_KEY_BYTES = 32  # 256 bits: HS256 and up
NEW_KEY_BYTES = 64  # 512 bits, as BioID's portal hands out


class ClientRegistry:
    def __init__(self, clients: list[Client]) -> None:
        self._clients = {c.client_id: c for c in clients}
        if len(self._clients) != len(clients):
            raise ValueError("client ids must be unique")

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def __iter__(self):
        return iter(self._clients.values())

    def replace(self, other: "ClientRegistry") -> None:
        """Take over a reloaded registry's clients in one assignment (callers hold this object)."""
        self._clients = other._clients

    @classmethod
    def from_json(cls, text: str) -> "ClientRegistry":
        data = json.loads(text)
        return cls([_client(entry) for entry in data["clients"]])

    @classmethod
    def from_file(cls, path: Path) -> "ClientRegistry":
        text = read_small_file(Path(path))
        try:
            return cls.from_json(text)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a valid client registry ({exc})") from None


def _client(entry: dict) -> Client:
    client_id = entry["clientId"]
    try:
        key = base64.b64decode(entry["key"], validate=True)
    except binascii.Error:
        raise ValueError(f"client {client_id!r}: key is not base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"client {client_id!r}: key must be at least {MIN_KEY_BYTES} bytes")
    operations = frozenset(entry.get("operations", OPERATIONS))
    unknown = operations - OPERATIONS
    if unknown:
        raise ValueError(f"client {client_id!r}: unknown operations {sorted(unknown)}")
    app_secret = entry.get("appSecret")
    if app_secret is not None and len(app_secret) < 16:
        raise ValueError(f"client {client_id!r}: appSecret must be at least 16 characters")
    return Client(client_id, key, PartitionId(entry["storage"], int(entry["partition"])),
                  bool(entry.get("encryptCompact", False)), operations, app_secret)


def development_registry(data_dir: Path) -> tuple[ClientRegistry, Path]:
    """A registry with one development client, created once and kept in data_dir."""
    path = Path(data_dir) / "dev-clients.json"
    if not path.exists():
        document = {"clients": [{
            "clientId": "dev-client", "key": base64.b64encode(secrets.token_bytes(NEW_KEY_BYTES)).decode(),
            "storage": "dev", "partition": 1, "encryptCompact": False, "operations": sorted(OPERATIONS),
        }]}
        write_private(path, json.dumps(document, indent=2), exclusive=True)
    return ClientRegistry.from_file(path), path
