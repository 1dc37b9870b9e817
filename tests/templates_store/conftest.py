import pytest
import redis.asyncio as aredis

from templates_store import KeyRing, TemplateStore


@pytest.fixture
async def store(redis_server):
    client = aredis.from_url(redis_server.url)
    yield TemplateStore(client, KeyRing.generate("k1"))
    await client.aclose()


@pytest.fixture(scope="session")
def cluster_with_replicas(tmp_path_factory):
    """A real 3-master Redis Cluster, each master with a replica that can take over."""
    from tests.redis_topologies import Cluster

    topology = Cluster(tmp_path_factory.mktemp("cluster-replicas"), replicas=True)
    yield topology
    topology.stop()
