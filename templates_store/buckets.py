"""How a partition's keys spread over Redis Cluster: buckets.

A partition's templates are sharded into a fixed number of buckets, each with
its own hash tag and so its own cluster slot. A template, its class-set and
tag-set memberships and its change-stream entry live in the template's bucket,
so a write stays one single-slot transaction; counts sum over the buckets.

    bws:{s/p}:meta                 hash: buckets (fixed when the partition is created)
    bws:{s/p#b.k}:tpl:<classId>    bucket b's keys; k is chosen so the slot falls in
    bws:{s/p#b.k}:classes          the b-th of N equal slot ranges, which spreads the
    bws:{s/p#b.k}:tag:<tag>        buckets evenly over masters owning contiguous,
    bws:{s/p#b.k}:changes          equal slot ranges (what redis-cli --cluster create does)
    bws:{s/p#b.k}:seq              number of the last change (gap detection)

A partition written before buckets existed is the "legacy" layout (recorded
as 0 buckets when first met): one bucket whose hash tag is {s/p}, the old key
names.
`python -m templates_store.migrate` moves such partitions into buckets.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from templates_store.bcid import PartitionId

LEGACY = 0  # the bucket count recorded for (or assumed of) the legacy single-slot layout
MAX_BUCKETS = 1024
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: consecutive classIds land in different buckets


def meta_key(partition: PartitionId) -> str:
    return f"bws:{{{partition}}}:meta"


def check_bucket_count(count: int) -> int:
    if not 1 <= count <= MAX_BUCKETS:
        raise ValueError(f"a partition has 1 to {MAX_BUCKETS} buckets, not {count}")
    return count


@dataclass(frozen=True)
class Bucket:
    number: int
    tag: str  # the hash tag, without braces

    @property
    def _prefix(self) -> str:
        return f"bws:{{{self.tag}}}"

    @property
    def classes_key(self) -> str:
        return f"{self._prefix}:classes"

    @property
    def changes_key(self) -> str:
        return f"{self._prefix}:changes"

    @property
    def seq_key(self) -> str:
        return f"{self._prefix}:seq"

    def tag_key(self, tag: str) -> str:
        return f"{self._prefix}:tag:{tag}"

    def template_key(self, class_id: int) -> str:
        return f"{self._prefix}:tpl:{class_id}"


def _slot_spread_tag(partition: PartitionId, number: int, count: int) -> str:
    low = number * REDIS_CLUSTER_HASH_SLOTS // count
    high = (number + 1) * REDIS_CLUSTER_HASH_SLOTS // count
    k = 0
    while True:
        tag = f"{partition}#{number}.{k}"
        if low <= key_slot(tag.encode()) < high:
            return tag
        k += 1


@dataclass(frozen=True)
class Layout:
    partition: PartitionId
    buckets: int  # LEGACY (0) or the partition's bucket count

    @property
    def count(self) -> int:
        return max(1, self.buckets)

    @cached_property
    def all(self) -> tuple[Bucket, ...]:
        if self.buckets == LEGACY:
            return (Bucket(0, str(self.partition)),)
        return tuple(Bucket(b, _slot_spread_tag(self.partition, b, self.buckets)) for b in range(self.buckets))

    def numbers(self, class_ids: np.ndarray) -> np.ndarray:
        """The bucket number of each classId (vectorised)."""
        mixed = np.asarray(class_ids, np.int64).astype(np.uint64) * _MIX
        return ((mixed >> np.uint64(32)) % np.uint64(self.count)).astype(np.int64)

    def bucket_of(self, class_id: int) -> Bucket:
        return self.all[int(self.numbers(np.array([class_id]))[0])]
