"""Moves partitions written in the legacy single-slot layout into buckets.

    python -m templates_store.migrate --redis-url redis://localhost:6379/0 [--buckets 24] [--partition acme/1]

Run it with the service stopped (replicas cache a partition's layout). Blobs
are copied as they are: their encryption binds them to the BCID, not to the
key, so no key file is needed. The bucket count is recorded only after every
template was copied, so an interrupted run leaves the partition readable in
its old layout and running the command again completes it; the old keys are
deleted last.
"""
from __future__ import annotations

import argparse
import asyncio
import json
from typing import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from templates_store.bcid import PartitionId
from templates_store.buckets import LEGACY, Bucket, Layout, check_bucket_count, meta_key
from templates_store.connection import connect
from templates_store.store import DEFAULT_BUCKETS, PARTITIONS_KEY

_BATCH = 500


async def _legacy_templates(redis: Redis, legacy: Bucket) -> AsyncIterator[list[tuple[int, dict]]]:
    cursor = 0
    while True:
        cursor, members = await redis.sscan(legacy.classes_key, cursor, count=_BATCH)
        class_ids = [int(m) for m in members]
        async with redis.pipeline(transaction=False) as pipe:
            for class_id in class_ids:
                pipe.hgetall(legacy.template_key(class_id))
            rows = await pipe.execute()
        yield [(c, fields) for c, fields in zip(class_ids, rows) if fields]
        if cursor == 0:
            return


def _tags(fields: dict) -> list[str]:
    return json.loads(fields.get(b"tags") or b"[]")


async def _copy(redis: Redis, partition: PartitionId, buckets: int) -> int:
    legacy, target = Layout(partition, LEGACY).all[0], Layout(partition, buckets)
    copied = 0
    async for batch in _legacy_templates(redis, legacy):
        async with redis.pipeline(transaction=False) as pipe:
            for class_id, fields in batch:
                bucket = target.bucket_of(class_id)
                pipe.hset(bucket.template_key(class_id), mapping=fields)
                pipe.sadd(bucket.classes_key, class_id)
                for tag in _tags(fields):
                    pipe.sadd(bucket.tag_key(tag), class_id)
            await pipe.execute()
        copied += len(batch)
    return copied


async def _drop_legacy(redis: Redis, partition: PartitionId) -> None:
    legacy = Layout(partition, LEGACY).all[0]
    async for batch in _legacy_templates(redis, legacy):
        async with redis.pipeline(transaction=False) as pipe:
            for class_id, fields in batch:
                pipe.delete(legacy.template_key(class_id))
                for tag in _tags(fields):
                    pipe.delete(legacy.tag_key(tag))
                pipe.srem(legacy.classes_key, class_id)
            await pipe.execute()
    for key in (legacy.classes_key, legacy.changes_key, legacy.seq_key):
        await redis.delete(key)


async def migrate_partition(redis: Redis, partition: PartitionId, buckets: int) -> tuple[int, int | None]:
    """Templates copied into buckets, or 0 and the bucket count the partition already had (it is kept)."""
    check_bucket_count(buckets)
    recorded = await redis.hget(meta_key(partition), "buckets")
    if recorded is None or int(recorded) == LEGACY:
        copied = await _copy(redis, partition, buckets)
        await redis.hset(meta_key(partition), "buckets", buckets)
        await _drop_legacy(redis, partition)
        return copied, None
    await _drop_legacy(redis, partition)
    return 0, int(recorded)


async def migrate(redis: Redis, buckets: int,
                  partitions: list[PartitionId] | None = None) -> dict[str, tuple[int, int | None]]:
    chosen = partitions or sorted(PartitionId.parse(p.decode()) for p in await redis.smembers(PARTITIONS_KEY))
    return {str(p): await migrate_partition(redis, p, buckets) for p in chosen}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m templates_store.migrate", description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", required=True, help="as BWS_REDIS_URL (a password goes in the URL)")
    parser.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS)
    parser.add_argument("--partition", action="append", type=PartitionId.parse,
                        help="storage/partition to migrate (repeatable); default: every partition")
    args = parser.parse_args(argv)
    if not args.redis_url.strip():
        raise SystemExit("migrate: --redis-url is empty: give the Redis URL the service uses (its BWS_REDIS_URL; the "
                         "embedded Redis of `make run` writes its url to data/redis/url while it runs)")

    async def run() -> dict[str, tuple[int, int | None]]:
        redis = connect(args.redis_url)
        try:
            return await migrate(redis, args.buckets, args.partition)
        finally:
            await redis.aclose()

    try:
        moved = asyncio.run(run())
    except (RedisError, OSError, ValueError) as error:  # the URL may hold a password: name the error, not the URL
        raise SystemExit(f"migrate: cannot use Redis at --redis-url: {error}") from None
    for partition, (copied, kept) in moved.items():
        if kept is None:
            print(f"{partition}: {copied} template(s) moved into {args.buckets} buckets")
        else:
            print(f"{partition}: already in {kept} buckets, nothing to move (a partition's bucket count is kept)")
    if not moved:
        print("no partition to migrate")


if __name__ == "__main__":
    main()
