"""The store on a real 3-master Redis Cluster and behind real Sentinels."""
import asyncio

import numpy as np
import pytest
from templates_store import Bcid, KeyRing, PartitionId, SearchIndex, TemplateStore
from templates_store.buckets import LEGACY, Layout
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
        await samples.add(partitions[1], "app", "tok", 1, "up", b"image-bytes", 60_000)
        assert [s.tag for s in await samples.take(partitions[1], "app", "tok")] == ["up"]
        assert await samples.take(partitions[1], "app", "tok") == []
    finally:
        await redis.aclose()


@pytest.mark.parametrize("topology", ["cluster", "redis7_cluster"])
def test_store_on_a_three_master_cluster(topology, request):
    asyncio.run(_exercise(request.getfixturevalue(topology).url, "cluster-store"))


def test_partitions_really_spread_over_the_masters(cluster):
    import redis

    owners = set()
    for p in range(1, 7):
        key = Layout(PartitionId("cluster-store", p), LEGACY).all[0].classes_key
        slot = redis.Redis(host="127.0.0.1", port=cluster.ports[0]).execute_command("CLUSTER KEYSLOT", key)
        owners.add(min(2, slot * 3 // 16384))
    assert len(owners) > 1


@pytest.mark.parametrize("topology", ["sentinels", "redis7_sentinels"])
def test_store_behind_sentinels_survives_a_failover(topology, request):
    sentinels = request.getfixturevalue(topology)
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


def test_one_partition_spreads_evenly_over_the_masters(cluster):
    import redis

    templates = 3000
    partition = PartitionId("cluster-spread", 1)

    async def fill() -> int:
        client = connect(cluster.url)
        store = TemplateStore(client, KeyRing.generate())
        vectors = normalize(np.random.default_rng(3).standard_normal((templates, 128)).astype(np.float32))
        await store.bulk_insert(partition, [(c, EnhancedTemplate.empty(1).merged(vectors[c - 1:c], [], 1.0))
                                            for c in range(1, templates + 1)], False, 1.0)
        count = await store.count(partition)
        await client.aclose()
        return count

    assert asyncio.run(fill()) == templates
    per_master = [sum(1 for _ in redis.Redis(host="127.0.0.1", port=port).scan_iter(
        match=f"bws:{{{partition}#*:tpl:*", count=1000)) for port in cluster.ports]
    assert sum(per_master) == templates
    assert all(abs(n - templates / 3) <= 0.2 * templates / 3 for n in per_master), per_master


def test_a_cluster_failover_during_enrollment_loses_nothing(cluster_with_replicas):
    from redis.exceptions import RedisError

    partition = PartitionId("cluster-failover", 1)

    async def enroll_all() -> None:
        client = connect(cluster_with_replicas.url)
        store = TemplateStore(client, KeyRing.generate())
        failover, after_failover, class_id = None, 0, 0
        while after_failover < 50:  # enrollments go on before, during and after the failover
            class_id += 1
            if class_id == 60:  # the replica of the first master takes over
                failover = asyncio.create_task(asyncio.to_thread(
                    cluster_with_replicas.failover, cluster_with_replicas.replica_ports[0]))
            after_failover += bool(failover and failover.done())
            for _attempt in range(100):  # what a caller does with UNAVAILABLE: try again
                try:
                    await store.update_template(Bcid(partition, class_id), _add(class_id), False)
                    break
                except (RedisError, OSError):
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.005)
        await failover
        classes = range(1, class_id + 1)
        # Everything acknowledged is there and indexable.
        assert await store.count(partition) == len(classes)
        statuses = [await store.get_status(Bcid(partition, c)) for c in classes]
        assert all(s.available and s.feature_vectors >= 1 for s in statuses)
        index = SearchIndex()
        await IndexSync(store, index, 1).load_all()
        assert index.sizes()[partition] == len(classes)
        await client.aclose()

    asyncio.run(enroll_all())
    role = cluster_with_replicas.replica_ports[0]
    import redis
    assert redis.Redis(host="127.0.0.1", port=role).info("replication")["role"] == "master"
