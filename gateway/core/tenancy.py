"""Tenancy: the client a call is made for (its partition, the operations it may call) and the binding of the
call to it, done once by each transport after authenticating the call."""
from __future__ import annotations

import base64
import hmac
from contextvars import ContextVar
from dataclasses import dataclass

from templates_store import PartitionId

OPERATIONS = frozenset({"enroll", "verify", "search", "tags", "status", "count", "delete", "liveness", "photoverify"})


@dataclass(frozen=True)
class Client:
    client_id: str
    key: bytes
    partition: PartitionId
    encrypt_compact: bool = False
    operations: frozenset[str] = OPERATIONS
    app_secret: str | None = None  # Basic-auth secret of the BWS 2 token API; None: the base64 key

    def __repr__(self) -> str:  # never show the key
        return f"Client({self.client_id!r}, partition={self.partition})"

    def allows(self, operation: str) -> bool:
        return operation in self.operations

    def secret_matches(self, secret: str) -> bool:
        expected = self.app_secret if self.app_secret is not None else base64.b64encode(self.key).decode()
        return hmac.compare_digest(secret.encode(), expected.encode())


# The client a call is made for, and its id (which the engine's fair share is counted by); set by bind().
current_client: ContextVar[Client | None] = ContextVar("current_client", default=None)
current_tenant: ContextVar[str] = ContextVar("current_tenant", default="")


def bind(client: Client) -> None:
    """The call now runs for `client`: its engine jobs count against its own share."""
    current_client.set(client)
    current_tenant.set(client.client_id)
