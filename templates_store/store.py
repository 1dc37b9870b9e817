"""TemplateStore: templates in Redis, one hash per BCID.

Key layout (every key of a partition shares the hash tag {storage/partition},
so one transaction can touch a template, its partition's class set, tag sets
and change stream, also on Redis Cluster):

    bws:{s/p}:tpl:<classId>   hash: compact, enhanced, tags, enrolled, encoder, fv, thumbs
    bws:{s/p}:classes         set of classIds
    bws:{s/p}:tag:<tag>       set of classIds holding the tag
    bws:{s/p}:changes         stream of {op, class} for other replicas' indexes
    bws:partitions            set of "s/p" (the only key outside a partition)

Writes are optimistic transactions (WATCH/MULTI/EXEC, retried on conflict):
a failure leaves the old template or the new one, never a mix, and concurrent
enrollments of one class both keep their feature vectors.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from redis.asyncio import Redis
from redis.exceptions import WatchError

from templates_store.bcid import Bcid, PartitionId
from templates_store.crypto import KeyRing, TemplateDecryptionError, is_sealed
from templates_store.templates import CompactTemplate, EnhancedTemplate, TemplateFormatError, Thumbnail

log = logging.getLogger(__name__)
T = TypeVar("T")

PARTITIONS_KEY = "bws:partitions"
CHANGES_MAXLEN = 100_000
MAX_TAGS = 64
MAX_TAG_LENGTH = 128
_MAX_ATTEMPTS = 50
_COUNT_TAGGED = "return #redis.call('SINTER', unpack(KEYS))"


class TemplateNotFound(LookupError):
    def __init__(self, bcid: Bcid) -> None:
        super().__init__(f"no template for class {bcid.class_id}")
        self.bcid = bcid


@dataclass(frozen=True)
class TemplateStatus:
    class_id: int
    available: bool
    enrolled: float | None = None
    tags: tuple[str, ...] = ()
    encoder_version: int = 0
    feature_vectors: int = 0
    thumbnails_stored: int = 0
    thumbnails: tuple[Thumbnail, ...] = field(default=())


@dataclass(frozen=True)
class EnrollResult:
    created: bool
    status: TemplateStatus


@dataclass(frozen=True)
class IndexEntry:
    class_id: int
    template: CompactTemplate
    tags: frozenset[str]


@dataclass(frozen=True)
class Change:
    stream_id: str
    op: str
    class_id: int


def clean_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unique = tuple(sorted(set(tags)))
    if len(unique) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags per template")
    for tag in unique:
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"tags must be 1 to {MAX_TAG_LENGTH} characters")
    return unique


def _aad(bcid: Bcid, field_name: str) -> bytes:
    return f"bws-template|{field_name}|{bcid}".encode()


class TemplateStore:
    def __init__(self, redis: Redis, keys: KeyRing) -> None:
        self.redis = redis
        self.keys = keys
        self._count_tagged = redis.register_script(_COUNT_TAGGED)

    # --- reading -----------------------------------------------------------

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    def _decode_compact(self, bcid: Bcid, blob: bytes) -> CompactTemplate:
        if is_sealed(blob):
            blob = self.keys.open(blob, _aad(bcid, "compact"))
        return CompactTemplate.from_bytes(blob)

    def _decode_enhanced(self, bcid: Bcid, blob: bytes) -> EnhancedTemplate:
        return EnhancedTemplate.from_bytes(self.keys.open(blob, _aad(bcid, "enhanced")))

    async def get_compact(self, bcid: Bcid) -> CompactTemplate:
        blob = await self.redis.hget(bcid.key, "compact")
        if blob is None:
            raise TemplateNotFound(bcid)
        return self._decode_compact(bcid, blob)

    async def get_enhanced(self, bcid: Bcid) -> EnhancedTemplate:
        blob = await self.redis.hget(bcid.key, "enhanced")
        if blob is None:
            raise TemplateNotFound(bcid)
        return self._decode_enhanced(bcid, blob)

    async def get_status(self, bcid: Bcid, with_thumbnails: bool = False) -> TemplateStatus:
        fields = await self.redis.hmget(bcid.key, "enrolled", "tags", "encoder", "fv", "thumbs")
        if fields[0] is None:
            return TemplateStatus(class_id=bcid.class_id, available=False)
        thumbnails: tuple[Thumbnail, ...] = ()
        if with_thumbnails:
            thumbnails = (await self.get_enhanced(bcid)).thumbnails
        return TemplateStatus(
            class_id=bcid.class_id, available=True, enrolled=float(fields[0]),
            tags=tuple(json.loads(fields[1] or b"[]")), encoder_version=int(fields[2]),
            feature_vectors=int(fields[3]), thumbnails_stored=int(fields[4]), thumbnails=thumbnails,
        )

    async def count(self, partition: PartitionId, tags: list[str] | tuple[str, ...] = ()) -> int:
        if not tags:
            return int(await self.redis.scard(partition.classes_key))
        keys = [partition.tag_key(tag) for tag in clean_tags(tags)]
        return int(await self._count_tagged(keys=keys))

    async def partitions(self) -> list[PartitionId]:
        return sorted(PartitionId.parse(p.decode()) for p in await self.redis.smembers(PARTITIONS_KEY))

    def _index_entry(self, bcid: Bcid, compact: bytes | None, tags: bytes | None) -> IndexEntry | None:
        if compact is None:
            return None
        try:
            template = self._decode_compact(bcid, compact)
        except (TemplateDecryptionError, TemplateFormatError) as exc:
            # One unreadable template (a key missing from the ring, corruption)
            # must not take the others out of search.
            log.error("template not indexed", extra={"bcid": str(bcid), "reason": str(exc)})
            return None
        return IndexEntry(bcid.class_id, template, frozenset(json.loads(tags or b"[]")))

    async def index_entry(self, bcid: Bcid) -> IndexEntry | None:
        compact, tags = await self.redis.hmget(bcid.key, "compact", "tags")
        return self._index_entry(bcid, compact, tags)

    async def scan_partition(self, partition: PartitionId, batch: int = 2000) -> AsyncIterator[list[IndexEntry]]:
        """Every readable template of a partition, as index entries, a batch at a time."""
        cursor = 0
        while True:
            cursor, members = await self.redis.sscan(partition.classes_key, cursor, count=batch)
            if members:
                class_ids = [int(m) for m in members]
                async with self.redis.pipeline(transaction=False) as pipe:
                    for class_id in class_ids:
                        pipe.hmget(partition.template_key(class_id), "compact", "tags")
                    rows = await pipe.execute()
                entries = [self._index_entry(Bcid(partition, class_id), compact, tags)
                           for class_id, (compact, tags) in zip(class_ids, rows)]
                yield [e for e in entries if e is not None]
            if cursor == 0:
                return

    async def last_change_id(self, partition: PartitionId) -> str:
        last = await self.redis.xrevrange(partition.changes_key, count=1)
        return last[0][0].decode() if last else "0-0"

    async def changes_since(self, partition: PartitionId, after: str, count: int = 1000) -> list[Change]:
        rows = await self.redis.xrange(partition.changes_key, min=f"({after}", count=count) if after != "0-0" \
            else await self.redis.xrange(partition.changes_key, count=count)
        return [Change(sid.decode(), data[b"op"].decode(), int(data[b"class"])) for sid, data in rows]

    # --- writing -----------------------------------------------------------

    async def update_template(
        self,
        bcid: Bcid,
        change: Callable[[EnhancedTemplate | None], EnhancedTemplate],
        encrypt_compact: bool,
        now: float | None = None,
    ) -> EnrollResult:
        """Read-modify-write of one template, atomically. `change` receives the
        current enhanced template (None when there is none) and returns the new
        one; it is called again if another writer got in between."""
        key = bcid.key

        async def write(pipe) -> bool:
            enhanced_blob, enrolled, tags = await pipe.hmget(key, "enhanced", "enrolled", "tags")
            current = self._decode_enhanced(bcid, enhanced_blob) if enhanced_blob is not None else None
            updated = change(current)
            stamp = time.time() if now is None else now
            compact = updated.compact().to_bytes()
            if encrypt_compact:
                compact = self.keys.seal(compact, _aad(bcid, "compact"))
            pipe.multi()
            pipe.hset(key, mapping={
                "compact": compact,
                "enhanced": self.keys.seal(updated.to_bytes(), _aad(bcid, "enhanced")),
                "enrolled": enrolled if enrolled is not None else repr(stamp),
                "tags": tags if tags is not None else "[]",
                "encoder": updated.encoder_version,
                "fv": len(updated.vectors),
                "thumbs": len(updated.thumbnails),
            })
            pipe.sadd(bcid.partition.classes_key, bcid.class_id)
            self._record_change(pipe, bcid, "upsert")
            return current is None

        created = await self._watched(bcid, write)
        await self.redis.sadd(PARTITIONS_KEY, str(bcid.partition))
        return EnrollResult(created=created, status=await self.get_status(bcid))

    async def set_tags(self, bcid: Bcid, tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        new_tags = clean_tags(tags)

        def write(pipe, old_tags: tuple[str, ...]) -> None:
            pipe.hset(bcid.key, "tags", json.dumps(list(new_tags)))
            for tag in set(old_tags) - set(new_tags):
                pipe.srem(bcid.partition.tag_key(tag), bcid.class_id)
            for tag in set(new_tags) - set(old_tags):
                pipe.sadd(bcid.partition.tag_key(tag), bcid.class_id)
            self._record_change(pipe, bcid, "upsert")

        await self._modify_existing(bcid, write)
        return new_tags

    async def delete(self, bcid: Bcid) -> None:
        def write(pipe, old_tags: tuple[str, ...]) -> None:
            pipe.delete(bcid.key)
            pipe.srem(bcid.partition.classes_key, bcid.class_id)
            for tag in old_tags:
                pipe.srem(bcid.partition.tag_key(tag), bcid.class_id)
            self._record_change(pipe, bcid, "delete")

        await self._modify_existing(bcid, write)

    async def _modify_existing(self, bcid: Bcid, write: Callable) -> None:
        async def checked(pipe) -> None:
            exists, tags = await pipe.hmget(bcid.key, "enrolled", "tags")
            if exists is None:
                raise TemplateNotFound(bcid)
            pipe.multi()
            write(pipe, tuple(json.loads(tags or b"[]")))

        await self._watched(bcid, checked)

    async def _watched(self, bcid: Bcid, body: Callable[..., Awaitable[T]]) -> T:
        """One optimistic transaction on bcid's key: `body` reads (the key is
        watched), calls pipe.multi() and queues its writes; everything runs again
        when another writer got in between, at most _MAX_ATTEMPTS times."""
        for _ in range(_MAX_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(bcid.key)
                    result = await body(pipe)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise RuntimeError(f"too much contention on {bcid}")

    @staticmethod
    def _record_change(pipe, bcid: Bcid, op: str) -> None:
        pipe.xadd(bcid.partition.changes_key, {"op": op, "class": bcid.class_id},
                  maxlen=CHANGES_MAXLEN, approximate=True)
