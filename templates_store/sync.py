"""Keeps this process' SearchIndex equal to Redis.

At start-up every partition is loaded (the service is not ready before);
afterwards each partition's change stream is followed, so templates enrolled
or deleted through another replica reach this one's index. Applying a change
re-reads the template's current state, so replays and reordering are harmless.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import numpy as np

from templates_store.bcid import Bcid, PartitionId
from templates_store.index import PartitionIndex, SearchIndex
from templates_store.store import TemplateStore

log = logging.getLogger(__name__)


class IndexSync:
    def __init__(self, store: TemplateStore, index: SearchIndex, encoder_version: int,
                 poll_interval: float = 0.25) -> None:
        self.store = store
        self.index = index
        self.encoder_version = encoder_version
        self.poll_interval = poll_interval
        self.ready = asyncio.Event()
        self._positions: dict[PartitionId, str] = {}
        self._outdated: dict[PartitionId, set[int]] = {}  # classes of another encoder version, left out

    def outdated(self, partition: PartitionId) -> int:
        """How many templates of the partition another encoder version made (not searchable until upgraded)."""
        return len(self._outdated.get(partition, ()))

    async def load_all(self) -> None:
        for partition in await self.store.partitions():
            await self.load_partition(partition)
        self.ready.set()

    async def load_partition(self, partition: PartitionId) -> None:
        # Remember the stream position first: changes made during the load are
        # replayed afterwards, and replaying is idempotent.
        position = await self.store.last_change_id(partition)
        fresh = PartitionIndex()
        outdated: set[int] = set()
        async for entries in self.store.scan_partition(partition):
            usable = [e for e in entries if e.template.encoder_version == self.encoder_version]
            outdated.update(e.class_id for e in entries if e.template.encoder_version != self.encoder_version)
            if usable:
                fresh.bulk_load(np.array([e.class_id for e in usable], np.int64),
                                np.stack([e.template.vector for e in usable]), [e.tags for e in usable])
        self.index.replace(partition, fresh)
        self._positions[partition] = position
        self._outdated[partition] = outdated
        log.info("index loaded", extra={"partition": str(partition), "templates": len(fresh),
                                        "skipped_other_encoder": len(outdated)})

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
            changes = await self.store.changes_since(partition, self._positions[partition])
            for class_id in dict.fromkeys(c.class_id for c in changes):
                await self.apply(Bcid(partition, class_id))
                applied += 1
            if changes:
                self._positions[partition] = changes[-1].stream_id
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
