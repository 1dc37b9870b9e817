import pytest
import redis.asyncio as aredis

from templates_store import KeyRing, TemplateStore


@pytest.fixture
async def store(redis_server):
    client = aredis.from_url(redis_server.url)
    yield TemplateStore(client, KeyRing.generate("k1"))
    await client.aclose()
