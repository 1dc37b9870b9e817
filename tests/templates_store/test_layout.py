"""Buckets, the legacy single-slot layout and its migration, memory per template,
and followers that notice a trimmed change stream, against a real redis-server."""
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import redis.asyncio as aredis

from templates_store import Bcid, KeyRing, PartitionId, SearchIndex, TemplateStore
from templates_store.buckets import LEGACY, Layout, meta_key
from templates_store.store import PARTITIONS_KEY
from templates_store.sync import IndexSync
from templates_store.templates import EnhancedTemplate, Thumbnail, normalize
from templates_store.embedded import EmbeddedRedis, free_port
from tests.conftest import ROOT, face

_numbers = itertools.count(1)


def _vectors(n, seed=0):
    return normalize(np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32))


def _add(seed, thumbnails=()):
    return lambda current: (current or EnhancedTemplate.empty(1)).merged(_vectors(1, seed), list(thumbnails), 1.0)


def _partition(name):
    return PartitionId(name, next(_numbers))


async def _filled(redis_server, name: str, buckets: int, templates: int):
    """A store on a fresh partition of `buckets` buckets holding classes 1..templates."""
    client = aredis.from_url(redis_server.url)
    store = TemplateStore(client, KeyRing.generate(), default_buckets=buckets)
    partition = _partition(name)
    for class_id in range(1, templates + 1):
        await store.update_template(Bcid(partition, class_id), _add(class_id), False)
    return client, store, partition


async def test_a_new_partition_records_its_bucket_count_and_spreads_over_the_buckets(redis_server):
    client, store, partition = await _filled(redis_server, "layout", 8, 200)
    assert await client.hget(meta_key(partition), "buckets") == b"8"
    layout = await store.layout(partition)
    sizes = [await client.scard(b.classes_key) for b in layout.all]
    assert sum(sizes) == 200 == await store.count(partition) and min(sizes) >= 10
    # Another process with another default keeps the recorded count.
    other = TemplateStore(client, store.keys, default_buckets=3)
    assert (await other.layout(partition)).buckets == 8 and await other.count(partition) == 200
    await client.aclose()


async def _plant_legacy(client, keys, bcid, tags, chip):
    """A template as the single-slot layout wrote it (format 1, PNG thumbnail)."""
    (legacy,) = Layout(bcid.partition, LEGACY).all
    vector = _vectors(1, bcid.class_id)
    header = json.dumps({"encoder": 1, "enrolled": [1.0], "thumbnails": [[1.0, len(chip)]]}).encode()
    enhanced = b"BWE1" + len(header).to_bytes(4, "little") + header + vector.astype("<f4").tobytes() + chip
    compact = EnhancedTemplate(1, vector, (1.0,)).compact().to_bytes()
    await client.hset(legacy.template_key(bcid.class_id), mapping={
        "compact": compact, "enhanced": keys.seal(enhanced, f"bws-template|enhanced|{bcid}".encode()),
        "enrolled": "1.0", "tags": json.dumps(tags), "encoder": 1, "fv": 1, "thumbs": 1})
    await client.sadd(legacy.classes_key, bcid.class_id)
    for tag in tags:
        await client.sadd(legacy.tag_key(tag), bcid.class_id)
    await client.xadd(legacy.changes_key, {"op": "upsert", "class": bcid.class_id})
    await client.sadd(PARTITIONS_KEY, str(bcid.partition))


async def test_legacy_single_slot_data_keeps_working_then_migrates(redis_server):
    client = aredis.from_url(redis_server.url)
    keys = KeyRing.generate()
    partition = _partition("legacy")
    chip = face("alex_lacamoire_1.png")  # any PNG will do as a stored thumbnail here
    for class_id, tags in [(1, ["a", "b"]), (2, ["a"]), (3, [])]:
        await _plant_legacy(client, keys, Bcid(partition, class_id), tags, chip)
    store = TemplateStore(client, keys)
    assert (await store.layout(partition)).buckets == LEGACY
    assert await client.hget(meta_key(partition), "buckets") == b"0"  # every process agrees from now on
    assert await store.count(partition) == 3 and await store.count(partition, ["a", "b"]) == 1
    assert (await store.get_status(Bcid(partition, 1), with_thumbnails=True)).thumbnails[0].png == chip
    await store.update_template(Bcid(partition, 4), _add(4), False)  # writes stay in the old layout
    (legacy,) = Layout(partition, LEGACY).all
    assert await client.exists(legacy.template_key(4))
    index = SearchIndex()
    await IndexSync(store, index, 1).load_all()
    assert index.sizes()[partition] == 4

    done = subprocess.run([sys.executable, "-m", "templates_store.migrate", "--redis-url", redis_server.url,
                           "--buckets", "6", "--partition", str(partition)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{partition}: 4 template(s) moved into 6 buckets" in done.stdout
    again = subprocess.run([sys.executable, "-m", "templates_store.migrate", "--redis-url", redis_server.url,
                            "--buckets", "8", "--partition", str(partition)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and f"{partition}: already in 6 buckets, nothing to move" in again.stdout

    fresh = TemplateStore(client, keys)
    assert (await fresh.layout(partition)).buckets == 6
    assert not await client.exists(legacy.classes_key, legacy.template_key(1), legacy.tag_key("a"))
    assert await fresh.count(partition) == 4 and await fresh.count(partition, ["a"]) == 2
    status = await fresh.get_status(Bcid(partition, 1), with_thumbnails=True)
    assert status.tags == ("a", "b") and status.thumbnails[0].png == chip
    index = SearchIndex()
    await IndexSync(fresh, index, 1).load_all()
    assert index.sizes()[partition] == 4
    found = index.partition(partition).search(_vectors(1, 2), k=1, required_tags=frozenset({"a"}))[0]
    assert [m.class_id for m in found] == [2]
    await fresh.delete(Bcid(partition, 2))
    assert await fresh.count(partition, ["a"]) == 1
    await client.aclose()


def test_migrate_says_in_one_line_when_redis_cannot_be_reached_and_never_prints_the_url():
    url = f"redis://:a-secret-password@127.0.0.1:{free_port()}/0"  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "templates_store.migrate", "--redis-url", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("migrate: cannot use Redis at --redis-url:") and done.stderr.count("\n") == 1
    assert "a-secret-password" not in done.stderr + done.stdout


def test_migrate_on_a_redis_without_partitions_says_so(tmp_path):
    server = EmbeddedRedis(tmp_path, port=free_port()).start()
    try:
        done = subprocess.run([sys.executable, "-m", "templates_store.migrate", "--redis-url", server.url],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert done.returncode == 0 and done.stdout == "no partition to migrate\n", done.stderr


async def test_a_follower_behind_a_trimmed_stream_reloads_the_bucket(redis_server):
    client, writer, partition = await _filled(redis_server, "trimmed", 2, 10)
    follower_store = TemplateStore(aredis.from_url(redis_server.url), writer.keys)
    index = SearchIndex()
    follower = IndexSync(follower_store, index, 1)
    await follower.load_all()
    assert index.sizes()[partition] == 10

    # While the follower is not looking, templates come and go, and the
    # streams are trimmed past its position.
    for class_id in range(1, 6):
        await writer.delete(Bcid(partition, class_id))
    for class_id in range(11, 31):
        await writer.update_template(Bcid(partition, class_id), _add(class_id), False)
    for bucket in (await writer.layout(partition)).all:
        await client.xtrim(bucket.changes_key, maxlen=1, approximate=False)
    await follower.poll_once()

    in_index = set(index.partition(partition).class_ids().tolist())
    assert in_index == set(range(6, 31))
    assert all(index.partition(partition).search(_vectors(1, c), k=1)[0][0].class_id == c for c in (6, 30))
    # And it keeps following afterwards.
    await writer.delete(Bcid(partition, 30))
    await follower.poll_once()
    assert 30 not in set(index.partition(partition).class_ids().tolist())
    await client.aclose()
    await follower_store.redis.aclose()


@pytest.mark.parametrize("feature_vectors", [1, 3])
async def test_memory_per_feature_vector_with_its_thumbnail(redis_server, feature_vectors):
    from gateway.engine import FaceEngine

    engine = FaceEngine()
    chips = [engine.analyze(face(n)).face.thumbnail_png for n in ("obama_1.jpg", "biden_1.jpg", "obama_2.jpg")]
    client = aredis.from_url(redis_server.url)
    store = TemplateStore(client, KeyRing.generate())
    bcid = Bcid(_partition("memory"), 1)
    for i in range(feature_vectors):
        await store.update_template(bcid, _add(i, [Thumbnail(1.0, chips[i])]), encrypt_compact=True)
    used = await client.memory_usage(await store.template_key(bcid), samples=0)
    assert used <= 12 * 1024 * feature_vectors
    await client.aclose()
