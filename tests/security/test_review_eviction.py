"""Found in review: the compose file's Redis evicts with `volatile-ttl` (keys with a TTL only, so never a
template), but a token's tries and an application's sample bytes were counted in keys with a TTL: evicted under
memory pressure, a token got its tries back and an application its bytes. Those counts now live in keys without
a TTL (their expired entries removed by the scripts that use them): what volatile eviction may drop is simulated
here by deleting every key that has a TTL."""
from __future__ import annotations

import pytest
import redis.asyncio as aredis

from templates_store import KeyRing
from templates_store.bcid import PartitionId
from templates_store.samples import ApplicationSampleBytes, SampleStore

PARTITION = PartitionId.parse("evict/1")


async def evict_volatile(client: aredis.Redis) -> None:
    async for key in client.scan_iter(match="bws:{evict/1}*"):
        if await client.pttl(key) > 0:
            await client.delete(key)


@pytest.fixture(params=["redis_server", "redis7_server"], ids=["valkey9", "redis7"])
async def samples(request):
    client = aredis.from_url(request.getfixturevalue(request.param).url)
    yield SampleStore(client, KeyRing.generate("k1"), max_token_bytes=10_000, max_application_bytes=5_000), client
    await client.aclose()


async def test_eviction_grants_no_tries_and_no_bytes(samples):
    store, client = samples
    token = f"t{id(store)}"
    assert [await store.count_try(PARTITION, token, 60_000) for _ in range(2)] == [1, 2]
    await store.add(PARTITION, "app", token, 1, "", b"x" * 4_000, ttl_ms=60_000)
    await evict_volatile(client)
    assert await store.count_try(PARTITION, token, 60_000) == 3
    with pytest.raises(ApplicationSampleBytes):
        await store.add(PARTITION, "app", f"{token}-2", 1, "", b"y" * 2_000, ttl_ms=60_000)


async def test_expired_tokens_tries_are_forgotten(samples):
    import asyncio
    store, client = samples
    token = f"old{id(store)}"
    await store.count_try(PARTITION, token, 100)
    await asyncio.sleep(0.3)
    await store.count_try(PARTITION, f"new{id(store)}", 60_000)  # prunes what has expired
    assert await client.hget("bws:{evict/1}:ext-tries", token) is None
