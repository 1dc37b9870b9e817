"""Found in review: an application's count of stored sample bytes only went up. It was lowered when a task took
a token's samples, never when they expired with their token, so an application whose end users abandoned
uploads reached its cap and every later upload was refused, for as long as new uploads kept the counter alive.
Expired tokens' shares are now taken off the count at the next upload."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aredis

from templates_store import KeyRing
from templates_store.bcid import PartitionId
from templates_store.samples import ApplicationSampleBytes, SampleStore

PARTITION = PartitionId.parse("acme/1")


@pytest.fixture(params=["redis_server", "redis7_server"], ids=["valkey9", "redis7"])
async def samples(request):
    client = aredis.from_url(request.getfixturevalue(request.param).url)
    yield SampleStore(client, KeyRing.generate("k1"), max_token_bytes=10_000, max_application_bytes=5_000)
    await client.aclose()


async def test_expired_samples_stop_counting_against_their_application(samples):
    app = f"app-{id(samples)}"
    await samples.add(PARTITION, app, "live", 1, "", b"l" * 500, ttl_ms=60_000)  # keeps the counter alive
    await samples.add(PARTITION, app, "abandoned", 1, "", b"x" * 3_500, ttl_ms=200)
    with pytest.raises(ApplicationSampleBytes):
        await samples.add(PARTITION, app, "other", 1, "", b"y" * 2_000, ttl_ms=60_000)
    await asyncio.sleep(0.5)  # the abandoned token, and its samples, expire
    assert await samples.add(PARTITION, app, "next", 1, "", b"y" * 2_000, ttl_ms=60_000) == 1
    assert await samples.add(PARTITION, app, "next", 2, "", b"z" * 1_000, ttl_ms=60_000) == 2
    with pytest.raises(ApplicationSampleBytes):  # the live ones still count
        await samples.add(PARTITION, app, "more", 1, "", b"w" * 2_000, ttl_ms=60_000)
    taken = await samples.take(PARTITION, app, "next")
    assert [s.index for s in taken] == [1, 2]
    assert await samples.add(PARTITION, app, "more", 1, "", b"w" * 2_000, ttl_ms=60_000) == 1
