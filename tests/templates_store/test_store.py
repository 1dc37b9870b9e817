"""TemplateStore against a real redis-server."""
import asyncio
import itertools

import numpy as np
import pytest
import redis

from templates_store import Bcid, PartitionId, TemplateNotFound
from templates_store.crypto import is_sealed
from templates_store.templates import EnhancedTemplate, Thumbnail, normalize

_partitions = itertools.count(1)



@pytest.fixture
def partition():
    return PartitionId("store-test", next(_partitions))


def _vectors(n, seed=0):
    return normalize(np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32))


def _adding(vectors, thumbnails=()):
    def change(current):
        return (current or EnhancedTemplate.empty(1)).merged(vectors, list(thumbnails), 100.0)
    return change


async def test_enroll_creates_then_updates(store, partition):
    bcid = Bcid(partition, 42)
    first = await store.update_template(bcid, _adding(_vectors(2), [Thumbnail(1, b"png1")]), False)
    assert first.created and first.status.feature_vectors == 2 and first.status.thumbnails_stored == 1
    second = await store.update_template(bcid, _adding(_vectors(1, seed=3)), False)
    assert not second.created and second.status.feature_vectors == 3
    assert second.status.enrolled == first.status.enrolled
    enhanced = await store.get_enhanced(bcid)
    assert len(enhanced.vectors) == 3 and enhanced.thumbnails[0].png == b"png1"
    assert await store.count(partition) == 1
    assert partition in await store.partitions()


async def test_enhanced_always_encrypted_compact_only_on_request(store, partition):
    plain, sealed = Bcid(partition, 1), Bcid(partition, 2)
    await store.update_template(plain, _adding(_vectors(1)), encrypt_compact=False)
    await store.update_template(sealed, _adding(_vectors(1)), encrypt_compact=True)
    raw = redis.Redis.from_url(_url(store))
    plain_key, sealed_key = await store.template_key(plain), await store.template_key(sealed)
    assert is_sealed(raw.hget(plain_key, "enhanced")) and is_sealed(raw.hget(sealed_key, "enhanced"))
    assert not is_sealed(raw.hget(plain_key, "compact"))
    assert is_sealed(raw.hget(sealed_key, "compact"))
    assert np.allclose((await store.get_compact(sealed)).vector, _vectors(1)[0], atol=1e-6)


def _url(store) -> str:
    kwargs = store.redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


async def test_a_blob_moved_to_another_class_does_not_open(store, partition):
    source, target = Bcid(partition, 10), Bcid(partition, 11)
    await store.update_template(source, _adding(_vectors(1)), encrypt_compact=True)
    await store.update_template(target, _adding(_vectors(1, seed=5)), encrypt_compact=True)
    raw = redis.Redis.from_url(_url(store))
    raw.hset(await store.template_key(target), "enhanced", raw.hget(await store.template_key(source), "enhanced"))
    with pytest.raises(Exception, match="authentication"):
        await store.get_enhanced(target)


async def test_concurrent_enrollments_lose_no_vector(store, partition):
    bcid = Bcid(partition, 7)
    await asyncio.gather(*(store.update_template(bcid, _adding(_vectors(1, seed=i)), False) for i in range(12)))
    assert (await store.get_status(bcid)).feature_vectors == 12
    assert len((await store.get_enhanced(bcid)).vectors) == 12


async def test_a_failure_mid_enroll_leaves_the_old_template(store, partition):
    bcid = Bcid(partition, 8)
    await store.update_template(bcid, _adding(_vectors(2)), False)

    def failing(current):
        raise RuntimeError("engine died mid-enroll")

    with pytest.raises(RuntimeError):
        await store.update_template(bcid, failing, False)

    kills = []

    def kill_connection_before_exec(current):
        # The transaction is queued but not executed: dropping the connection
        # discards all of it; the store retries on a fresh connection.
        if not kills:
            kills.append(redis.Redis.from_url(_url(store)).client_kill_filter(_type="normal", skipme=True))
        return _adding(_vectors(1, seed=9))(current)

    await store.update_template(bcid, kill_connection_before_exec, False)
    assert kills == [kills[0]] and kills[0] >= 1
    status = await store.get_status(bcid)
    enhanced = await store.get_enhanced(bcid)
    assert status.feature_vectors == len(enhanced.vectors) == 3
    assert len(enhanced.enrolled) == 3


async def test_tags_are_redis_sets_and_counts_use_them(store, partition):
    for class_id, tags in [(1, ["a", "b"]), (2, ["a"]), (3, [])]:
        await store.update_template(Bcid(partition, class_id), _adding(_vectors(1, seed=class_id)), False)
        await store.set_tags(Bcid(partition, class_id), tags)
    assert await store.count(partition) == 3
    assert await store.count(partition, ["a"]) == 2
    assert await store.count(partition, ["a", "b"]) == 1
    assert await store.count(partition, ["nope"]) == 0
    await store.set_tags(Bcid(partition, 1), ["c"])
    assert await store.count(partition, ["a"]) == 1 and await store.count(partition, ["c"]) == 1
    assert (await store.get_status(Bcid(partition, 1))).tags == ("c",)
    with pytest.raises(TemplateNotFound):
        await store.set_tags(Bcid(partition, 99), ["x"])


async def test_delete_removes_template_sets_and_records_the_change(store, partition):
    bcid = Bcid(partition, 5)
    await store.update_template(bcid, _adding(_vectors(1)), False)
    await store.set_tags(bcid, ["t"])
    layout = await store.layout(partition)
    before = await store.positions(layout)
    await store.delete(bcid)
    assert not (await store.get_status(bcid)).available
    assert await store.count(partition) == 0 and await store.count(partition, ["t"]) == 0
    changes = [c for bucket in await store.changes_since(layout, before) for c in bucket]
    assert [(c.op, c.class_id, c.seq) for c in changes] == [("delete", 5, 3)]  # after enroll and set_tags
    with pytest.raises(TemplateNotFound):
        await store.delete(bcid)


async def test_partitions_do_not_see_each_other(store, partition):
    other = PartitionId("store-test-other", partition.partition)
    await store.update_template(Bcid(partition, 1), _adding(_vectors(1)), False)
    assert await store.count(other) == 0
    assert not (await store.get_status(Bcid(other, 1))).available
    with pytest.raises(TemplateNotFound):
        await store.get_compact(Bcid(other, 1))


async def test_scan_partition_yields_every_template(store, partition):
    for class_id in range(1, 26):
        await store.update_template(Bcid(partition, class_id), _adding(_vectors(1, seed=class_id)), False)
    seen = []
    async for batch in store.scan_partition(partition, batch=7):
        seen.extend(batch.class_ids.tolist())
    assert sorted(seen) == list(range(1, 26))
