"""gateway/core/tenancy.py: the client a call runs for."""
from __future__ import annotations

import asyncio
import base64

from gateway.core import tenancy
from gateway.core.tenancy import OPERATIONS, Client
from templates_store import PartitionId

KEY = bytes(range(32))


def test_a_client_may_call_its_operations_and_never_shows_its_key():
    client = Client("app", KEY, PartitionId("acme", 1), operations=frozenset({"verify"}))
    assert client.allows("verify") and not client.allows("enroll")
    assert "verify" in OPERATIONS
    assert str(KEY) not in repr(client) and base64.b64encode(KEY).decode() not in repr(client)


def test_the_app_secret_is_the_base64_key_unless_one_is_set():
    plain = Client("app", KEY, PartitionId("acme", 1))
    assert plain.secret_matches(base64.b64encode(KEY).decode()) and not plain.secret_matches("guess")
    own = Client("app", KEY, PartitionId("acme", 1), app_secret="a-long-application-secret")
    assert own.secret_matches("a-long-application-secret") and not own.secret_matches(base64.b64encode(KEY).decode())


async def test_bind_scopes_the_call_to_its_client():
    a, b = Client("a", KEY, PartitionId("acme", 1)), Client("b", KEY, PartitionId("globex", 1))

    async def call(client):
        tenancy.bind(client)
        await asyncio.sleep(0)
        return tenancy.current_client.get(), tenancy.current_tenant.get()

    assert await asyncio.gather(asyncio.create_task(call(a)), asyncio.create_task(call(b))) == [(a, "a"), (b, "b")]
    assert tenancy.current_client.get() is None  # each call's task has its own binding
