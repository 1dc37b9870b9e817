"""IndexSync keeps an index equal to Redis, also for writes made elsewhere."""
import itertools

import numpy as np

from templates_store import Bcid, PartitionId, SearchIndex
from templates_store.sync import IndexSync
from templates_store.templates import EnhancedTemplate, normalize

_storages = itertools.count(1)



def _vector(seed):
    return normalize(np.random.default_rng(seed).standard_normal((1, 128)).astype(np.float32))


def _add(seed):
    return lambda current: (current or EnhancedTemplate.empty(1)).merged(_vector(seed), [], 1.0)


async def test_load_then_follow_changes_made_by_another_writer(store):
    partition = PartitionId(f"sync-{next(_storages)}", 3)
    await store.update_template(Bcid(partition, 1), _add(1), False)
    await store.update_template(Bcid(partition, 2), _add(2), True)
    index = SearchIndex()
    sync = IndexSync(store, index, encoder_version=1)
    await sync.load_all()
    assert sync.ready.is_set() and index.sizes()[partition] == 2

    # Another replica writes: this index learns it from the change stream.
    await store.update_template(Bcid(partition, 3), _add(3), False)
    await store.set_tags(Bcid(partition, 3), ["vip"])
    await store.delete(Bcid(partition, 1))
    new_partition = PartitionId(f"sync-{next(_storages)}", 1)
    await store.update_template(Bcid(new_partition, 9), _add(9), False)
    await sync.poll_once()
    await sync.poll_once()
    assert index.sizes()[partition] == 2 and index.sizes()[new_partition] == 1
    found = index.partition(partition).search(_vector(3), k=1, required_tags=frozenset({"vip"}))[0]
    assert [m.class_id for m in found] == [3]
    assert all(m.class_id != 1 for m in index.partition(partition).search(_vector(1), k=5)[0])


async def test_templates_of_another_encoder_version_are_not_indexed(store):
    partition = PartitionId(f"sync-{next(_storages)}", 1)
    old_encoder = lambda current: EnhancedTemplate.empty(0).merged(_vector(1), [], 1)
    await store.update_template(Bcid(partition, 1), old_encoder, False)
    index = SearchIndex()
    await IndexSync(store, index, encoder_version=1).load_all()
    assert index.sizes()[partition] == 0


async def test_an_unreadable_template_does_not_stop_the_load(store, redis_server):
    partition = PartitionId(f"sync-{next(_storages)}", 1)
    await store.update_template(Bcid(partition, 1), _add(1), encrypt_compact=True)
    await store.update_template(Bcid(partition, 2), _add(2), encrypt_compact=True)
    unknown_key_id = b"BWX1\x02k9" + bytes(40)
    await store.redis.hset(await store.template_key(Bcid(partition, 1)), "compact", unknown_key_id)
    index = SearchIndex()
    await IndexSync(store, index, encoder_version=1).load_all()
    assert [m.class_id for m in index.partition(partition).search(_vector(1), k=5)[0]] == [2]
