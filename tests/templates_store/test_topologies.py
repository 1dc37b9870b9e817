"""The store on a real 3-master Redis Cluster and behind real Sentinels."""
import asyncio

import numpy as np
from templates_store import Bcid, KeyRing, PartitionId, SearchIndex, TemplateStore
from templates_store.connection import connect
from templates_store.samples import SampleStore
from templates_store.sync import IndexSync
from templates_store.templates import EnhancedTemplate, normalize


def _vector(seed):
    return normalize(np.random.default_rng(seed).standard_normal((1, 128)).astype(np.float32))


def _add(seed):
    return lambda current: (current or EnhancedTemplate.empty(1)).merged(_vector(seed), [], 1.0)


async def _exercise(url: str, storage: str) -> None:
    redis = connect(url)
    store = TemplateStore(redis, KeyRing.generate())
    try:
        partitions = [PartitionId(storage, p) for p in range(1, 7)]  # spread over the cluster's slots
        for partition in partitions:
            for class_id in (1, 2, 3):
                await store.update_template(Bcid(partition, class_id), _add(class_id), encrypt_compact=True)
            await store.set_tags(Bcid(partition, 1), ["a", "b"])
            await store.set_tags(Bcid(partition, 2), ["a"])
            assert await store.count(partition) == 3 and await store.count(partition, ["a"]) == 2
            assert await store.count(partition, ["a", "b"]) == 1
            await store.delete(Bcid(partition, 3))
        bcid = Bcid(partitions[0], 9)
        await asyncio.gather(*(store.update_template(bcid, _add(i), False) for i in range(8)))
        assert (await store.get_status(bcid)).feature_vectors == 8  # no lost update across the cluster
        index = SearchIndex()
        await IndexSync(store, index, 1).load_all()
        assert all(index.sizes()[p] == (3 if p == partitions[0] else 2) for p in partitions)
        samples = SampleStore(redis, store.keys)
        await samples.add(partitions[1], "tok", 1, "up", b"image-bytes", 60_000)
        assert [s.tag for s in await samples.take(partitions[1], "tok")] == ["up"]
        assert await samples.take(partitions[1], "tok") == []
    finally:
        await redis.aclose()


def test_store_on_a_three_master_cluster(cluster):
    asyncio.run(_exercise(cluster.url, "cluster-store"))


def test_partitions_really_spread_over_the_masters(cluster):
    import redis

    owners = set()
    for p in range(1, 7):
        key = PartitionId("cluster-store", p).classes_key
        slot = redis.Redis(host="127.0.0.1", port=cluster.ports[0]).execute_command("CLUSTER KEYSLOT", key)
        owners.add(min(2, slot * 3 // 16384))
    assert len(owners) > 1


def test_store_behind_sentinels_survives_a_failover(sentinels):
    asyncio.run(_exercise(sentinels.url, "sentinel-store"))

    async def after_failover():
        redis = connect(sentinels.url)
        store = TemplateStore(redis, KeyRing.generate())
        partition = PartitionId("sentinel-failover", 1)
        await store.update_template(Bcid(partition, 1), _add(1), False)
        sentinels.failover()
        for _ in range(100):  # the client finds the new master through the sentinels
            try:
                await store.update_template(Bcid(partition, 2), _add(2), False)
                break
            except Exception:
                await asyncio.sleep(0.2)
        assert await store.count(partition) == 2
        await redis.aclose()

    asyncio.run(after_failover())
