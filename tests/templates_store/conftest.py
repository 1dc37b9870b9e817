import pytest
import redis.asyncio as aredis

from templates_store import KeyRing, TemplateStore


@pytest.fixture(params=["redis_server", "redis7_server"], ids=["valkey9", "redis7"])
async def store(request):
    """The store on each server the project is tested against."""
    client = aredis.from_url(request.getfixturevalue(request.param).url)
    yield TemplateStore(client, KeyRing.generate("k1"))
    await client.aclose()


@pytest.fixture(scope="session")
def cluster_with_replicas(tmp_path_factory):
    """A real 3-master Redis Cluster, each master with a replica that can take over."""
    from tests.redis_topologies import Cluster

    topology = Cluster(tmp_path_factory.mktemp("cluster-replicas"), replicas=True)
    yield topology
    topology.stop()
