"""Keeps this process' SearchIndex equal to Redis.

At start-up every partition is loaded (the service is not ready before): its
buckets are read in parallel, a batch of templates per round trip, decoded as
numpy records. Afterwards each bucket's change stream is followed, so
templates enrolled or deleted through another replica reach this one's index.
Applying a change re-reads the template's current state, so replays and
reordering are harmless. Changes are numbered per bucket: a follower that
finds a hole in the numbers (the stream was trimmed past its position)
reloads that bucket instead of missing changes.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from templates_store.bcid import Bcid, PartitionId
from templates_store.buckets import Bucket, Layout
from templates_store.index import PartitionIndex, SearchIndex
from templates_store.store import StreamPosition, TemplateStore

log = logging.getLogger(__name__)
_PARALLEL_BUCKETS = 8


class IndexSync:
    def __init__(self, store: TemplateStore, index: SearchIndex, encoder_version: int,
                 poll_interval: float = 0.25) -> None:
        self.store = store
        self.index = index
        self.encoder_version = encoder_version
        self.poll_interval = poll_interval
        self.ready = asyncio.Event()
        self._positions: dict[PartitionId, list[StreamPosition]] = {}
        self._outdated: dict[PartitionId, set[int]] = {}  # classes of another encoder version, left out
        self._limit = asyncio.Semaphore(_PARALLEL_BUCKETS)

    def outdated(self, partition: PartitionId) -> int:
        """How many templates of the partition another encoder version made (not searchable until upgraded)."""
        return len(self._outdated.get(partition, ()))

    async def load_all(self) -> None:
        for partition in await self.store.partitions():
            await self.load_partition(partition)
        self.ready.set()

    async def _read_bucket(self, layout: Layout, bucket: Bucket, into: PartitionIndex, outdated: set[int]) -> int:
        """Adds the bucket's templates of this encoder version to `into`, a batch
        at a time (so a million templates never sit in memory as float32)."""
        loaded = 0
        async with self._limit:
            async for rows in self.store.scan_bucket(layout, bucket):
                usable = rows.encoders == self.encoder_version
                outdated.update(int(c) for c in rows.class_ids[~usable])
                into.bulk_load(rows.class_ids[usable], rows.vectors[usable],
                               [t for t, u in zip(rows.tags, usable) if u])
                loaded += int(usable.sum())
        return loaded

    async def load_partition(self, partition: PartitionId) -> None:
        layout = await self.store.layout(partition)
        if layout is None:
            return
        # Remember the stream positions first: changes made during the load are
        # replayed afterwards, and replaying is idempotent.
        positions = await self.store.positions(layout)
        fresh = PartitionIndex()
        outdated: set[int] = set()
        await asyncio.gather(*(self._read_bucket(layout, b, fresh, outdated) for b in layout.all))
        self.index.replace(partition, fresh)
        self._positions[partition] = positions
        self._outdated[partition] = outdated
        log.info("index loaded", extra={"partition": str(partition), "templates": len(fresh),
                                        "buckets": layout.count, "skipped_other_encoder": len(outdated)})

    async def reload_bucket(self, layout: Layout, bucket: Bucket) -> None:
        (position,) = await self.store.positions(layout, [bucket])
        fresh = PartitionIndex()
        outdated = self._outdated.setdefault(layout.partition, set())
        outdated.difference_update(c for c in list(outdated) if layout.numbers([c])[0] == bucket.number)
        await self._read_bucket(layout, bucket, fresh, outdated)
        index = self.index.partition(layout.partition)
        index.remove_where(layout.numbers(index.class_ids()) == bucket.number)
        index.merge(fresh)
        self._positions[layout.partition][bucket.number] = position
        log.warning("index bucket reloaded: its change stream was trimmed past this replica's position",
                    extra={"partition": str(layout.partition), "bucket": bucket.number, "templates": len(fresh)})

    async def apply(self, bcid: Bcid) -> None:
        """Brings one class of the index up to date with Redis."""
        entry = await self.store.index_entry(bcid)
        index = self.index.partition(bcid.partition)
        outdated = self._outdated.setdefault(bcid.partition, set())
        outdated.discard(bcid.class_id)
        if entry is not None and entry.template.encoder_version != self.encoder_version:
            outdated.add(bcid.class_id)
        if entry is None or entry.template.encoder_version != self.encoder_version:
            index.remove(bcid.class_id)
        else:
            index.upsert_many([entry.class_id], entry.template.vector[None, :], [entry.tags])

    async def poll_once(self) -> int:
        applied = 0
        for partition in await self.store.partitions():
            if partition not in self._positions:
                await self.load_partition(partition)
                continue
            applied += await self._follow(partition)
        return applied

    async def _follow(self, partition: PartitionId) -> int:
        layout = await self.store.layout(partition)
        positions = self._positions[partition]
        applied = 0
        for bucket, position, changes in zip(layout.all, positions,
                                             await self.store.changes_since(layout, positions)):
            if not changes:
                continue
            first = changes[0].seq
            if first is not None and position.seq is not None and first != position.seq + 1:
                await self.reload_bucket(layout, bucket)
                continue
            for class_id in dict.fromkeys(c.class_id for c in changes):
                await self.apply(Bcid(partition, class_id))
                applied += 1
            positions[bucket.number] = StreamPosition(changes[-1].stream_id, changes[-1].seq)
        return applied

    async def run(self, on_poll: Callable[[Exception | None], None] | None = None) -> None:
        """Polls for ever. `on_poll` hears each poll's outcome (None: it worked)
        and decides what to log; without it every failure is logged."""
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if on_poll is None:
                    log.exception("index sync failed; retrying")
                else:
                    on_poll(exc)
            else:
                if on_poll is not None:
                    on_poll(None)
            await asyncio.sleep(self.poll_interval)
