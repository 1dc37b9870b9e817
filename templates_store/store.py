"""TemplateStore: templates in Redis, one hash per BCID, spread over buckets.

Key layout (templates_store/buckets.py): a partition's templates are sharded
into buckets, each its own hash slot; a template, its class-set and tag-set
memberships and its change-stream entry share their bucket's hash tag, so one
transaction can touch them all, also on Redis Cluster:

    bws:{bucket}:tpl:<classId>   hash: compact, enhanced, tags, enrolled, encoder, fv, thumbs
    bws:{bucket}:classes         set of classIds
    bws:{bucket}:tag:<tag>       set of classIds holding the tag
    bws:{bucket}:changes         stream of {op, class, seq} for other replicas' indexes
    bws:{bucket}:seq             number of the bucket's last change
    bws:{s/p}:meta               the partition's bucket count
    bws:partitions               set of "s/p" (the only key outside a partition)

Writes are optimistic transactions (WATCH/MULTI/EXEC, retried on conflict):
a failure leaves the old template or the new one, never a mix, and concurrent
enrollments of one class both keep their feature vectors.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, Iterable, TypeVar

import numpy as np
from redis.asyncio import Redis
from redis.exceptions import WatchError

from templates_store.bcid import Bcid, PartitionId
from templates_store.buckets import LEGACY, Bucket, Layout, check_bucket_count, meta_key
from templates_store.crypto import KeyRing, TemplateDecryptionError, is_sealed
from templates_store.templates import (COMPACT_RECORD, CompactTemplate, EnhancedTemplate, TemplateFormatError,
                                       Thumbnail)

log = logging.getLogger(__name__)
T = TypeVar("T")

PARTITIONS_KEY = "bws:partitions"
DEFAULT_BUCKETS = 24
CHANGES_MAXLEN = 10_000  # per bucket; a follower further behind notices the gap and reloads the bucket
MAX_TAGS = 64
MAX_TAG_LENGTH = 128
_MAX_ATTEMPTS = 50
_COUNT_TAGGED = "return #redis.call('SINTER', unpack(KEYS))"
# Numbers each change of a bucket, so a follower sees when trimming dropped some.
_RECORD_CHANGE = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'op', ARGV[1], 'class', ARGV[2], 'seq', seq)
return seq
"""
# A delete, whole and atomic, outside MULTI (Redis 7 refuses to queue a script in a transaction when full): on a
# full Redis (maxmemory, noeviction) a script's first write may be refused but never a later one, so the template
# is freed first and its change record (which needs memory) always follows. KEYS: template, class set, changes, seq;
# ARGV: classId, the stream's length, the prefix of the bucket's tag sets (same hash tag: same slot). Nil: no
# template.
_DELETE = """
local tags = redis.call('HMGET', KEYS[1], 'enrolled', 'tags')
if not tags[1] then
  return false
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
for _, tag in ipairs(cjson.decode(tags[2] or '[]')) do
  redis.call('SREM', ARGV[3] .. tag, ARGV[1])
end
local seq = redis.call('INCR', KEYS[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'op', 'delete', 'class', ARGV[1], 'seq', seq)
return seq
"""
# The index fields of a batch of one bucket's templates, shaped for numpy: the
# plain compact templates (the usual case) concatenated with their classIds
# joined, so the client decodes them as one record array; tags only where a
# template has some (by position); anything else (encrypted, odd) per template.
# A reply of a few strings costs far less to parse than one of thousands of
# elements. The script reads template keys it derives from the bucket's class
# set: all in the bucket's slot, the one it is routed to.
_INDEX_ROWS = """
local scanned = redis.call('SSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local ids, records, tagged, others = {}, {}, {}, {}
for _, class_id in ipairs(scanned[2]) do
  local row = redis.call('HMGET', ARGV[3] .. class_id, 'compact', 'tags')
  local compact, tags = row[1], row[2]
  if compact then
    if #compact == tonumber(ARGV[4]) and string.sub(compact, 1, 4) == ARGV[5] then
      ids[#ids + 1] = class_id
      records[#records + 1] = compact
      if tags and tags ~= '[]' then
        tagged[#tagged + 1] = #ids
        tagged[#tagged + 1] = tags
      end
    else
      others[#others + 1] = class_id
      others[#others + 1] = compact
      others[#others + 1] = tags or '[]'
    end
  end
end
return {scanned[1], table.concat(ids, ','), table.concat(records), tagged, others}
"""


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
class IndexBatch:
    """Readable templates of one bucket, decoded together."""
    class_ids: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, 128) float32
    encoders: np.ndarray  # (n,) encoder versions
    tags: list[frozenset[str]]


@dataclass(frozen=True)
class Change:
    stream_id: str
    op: str
    class_id: int
    seq: int | None  # None for changes written before changes were numbered


@dataclass(frozen=True)
class StreamPosition:
    """The last change of a bucket a follower has applied."""
    stream_id: str = "0-0"
    seq: int | None = 0


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


def _change(stream_id: bytes, data: dict) -> Change:
    seq = data.get(b"seq")
    return Change(stream_id.decode(), data[b"op"].decode(), int(data[b"class"]), int(seq) if seq else None)


class TemplateStore:
    def __init__(self, redis: Redis, keys: KeyRing, default_buckets: int = DEFAULT_BUCKETS,
                 changes_maxlen: int = CHANGES_MAXLEN) -> None:
        self.redis = redis
        self.keys = keys
        self.default_buckets = check_bucket_count(default_buckets)
        self.changes_maxlen = changes_maxlen
        self._layouts: dict[PartitionId, Layout] = {}
        self._tag_sets: dict[bytes | None, frozenset[str]] = {}

    # --- layout ------------------------------------------------------------

    async def layout(self, partition: PartitionId, create: bool = False) -> Layout | None:
        """How the partition's keys are laid out; None for a partition without
        data unless `create`, which records the default bucket count for it."""
        known = self._layouts.get(partition)
        if known is not None:
            return known
        raw = await self.redis.hget(meta_key(partition), "buckets")
        if raw is None:
            # Data in the old single-slot layout is recorded as such (0 buckets),
            # so every process keeps agreeing on it, even if it empties later.
            if await self.redis.exists(Layout(partition, LEGACY).all[0].classes_key):
                chosen = LEGACY
            elif not create:
                return None
            else:
                chosen = self.default_buckets
            await self.redis.hsetnx(meta_key(partition), "buckets", chosen)
            raw = await self.redis.hget(meta_key(partition), "buckets")
        layout = self._layouts[partition] = Layout(partition, int(raw))
        return layout

    async def _bucket(self, bcid: Bcid, create: bool = False) -> Bucket | None:
        layout = await self.layout(bcid.partition, create)
        return None if layout is None else layout.bucket_of(bcid.class_id)

    async def template_key(self, bcid: Bcid) -> str | None:
        bucket = await self._bucket(bcid)
        return None if bucket is None else bucket.template_key(bcid.class_id)

    # --- reading -----------------------------------------------------------

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    def _decode_compact(self, bcid: Bcid, blob: bytes) -> CompactTemplate:
        if is_sealed(blob):
            blob = self.keys.open(blob, _aad(bcid, "compact"))
        return CompactTemplate.from_bytes(blob)

    def _decode_enhanced(self, bcid: Bcid, blob: bytes) -> EnhancedTemplate:
        return EnhancedTemplate.from_bytes(self.keys.open(blob, _aad(bcid, "enhanced")))

    async def _fields(self, bcid: Bcid, *names: str) -> list[bytes | None]:
        key = await self.template_key(bcid)
        return [None] * len(names) if key is None else await self.redis.hmget(key, *names)

    async def get_compact(self, bcid: Bcid) -> CompactTemplate:
        (blob,) = await self._fields(bcid, "compact")
        if blob is None:
            raise TemplateNotFound(bcid)
        return self._decode_compact(bcid, blob)

    async def get_enhanced(self, bcid: Bcid) -> EnhancedTemplate:
        (blob,) = await self._fields(bcid, "enhanced")
        if blob is None:
            raise TemplateNotFound(bcid)
        return self._decode_enhanced(bcid, blob)

    async def get_status(self, bcid: Bcid, with_thumbnails: bool = False) -> TemplateStatus:
        fields = await self._fields(bcid, "enrolled", "tags", "encoder", "fv", "thumbs")
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
        """Templates of the partition holding all the tags, summed over its buckets."""
        tags = clean_tags(tags)
        layout = await self.layout(partition)
        if layout is None:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in layout.all:
                if not tags:
                    pipe.scard(bucket.classes_key)
                elif len(tags) == 1:
                    pipe.scard(bucket.tag_key(tags[0]))
                else:
                    pipe.eval(_COUNT_TAGGED, len(tags), *(bucket.tag_key(t) for t in tags))
            return sum(int(n) for n in await pipe.execute())

    async def partitions(self) -> list[PartitionId]:
        return sorted(PartitionId.parse(p.decode()) for p in await self.redis.smembers(PARTITIONS_KEY))

    def _tag_set(self, raw: bytes | None) -> frozenset[str]:
        tags = self._tag_sets.get(raw)
        if tags is None:
            tags = self._tag_sets[raw] = frozenset(json.loads(raw or b"[]"))
        return tags

    def _readable(self, bcid: Bcid, blob: bytes) -> bytes | None:
        """The plain compact record, or None (logged) when it cannot be read:
        one unreadable template (a key missing from the ring, corruption) must
        not take the others out of search."""
        try:
            if is_sealed(blob):
                blob = self.keys.open(blob, _aad(bcid, "compact"))
            if len(blob) != COMPACT_RECORD.itemsize:
                raise TemplateFormatError("compact template has the wrong size")
            return blob
        except (TemplateDecryptionError, TemplateFormatError) as exc:
            log.error("template not indexed", extra={"bcid": str(bcid), "reason": str(exc)})
            return None

    def decode_batch(self, partition: PartitionId, ids: bytes, records: bytes, tagged: list,
                     others: list) -> IndexBatch:
        """Index rows from one _INDEX_ROWS reply, the plain ones decoded as one numpy record array."""
        class_ids = [int(c) for c in ids.split(b",")] if ids else []
        compact = np.frombuffer(records, COMPACT_RECORD)
        tags = [self._tag_set(None)] * len(class_ids)
        for position, raw in zip(tagged[0::2], tagged[1::2]):
            tags[int(position) - 1] = self._tag_set(raw)
        extra = []
        for class_id, blob, raw in zip(others[0::3], others[1::3], others[2::3]):
            plain = self._readable(Bcid(partition, int(class_id)), blob)
            if plain is not None:
                class_ids.append(int(class_id))
                extra.append(plain)
                tags.append(self._tag_set(raw))
        if extra:
            compact = np.concatenate([compact, np.frombuffer(b"".join(extra), COMPACT_RECORD)])
        good = compact["magic"] == CompactTemplate.MAGIC
        if not good.all():
            log.error("templates not indexed", extra={"partition": str(partition), "reason": "not compact templates",
                                                      "count": int((~good).sum())})
            tags = [t for t, g in zip(tags, good) if g]
        return IndexBatch(np.array(class_ids, np.int64)[good], compact["vector"][good].astype(np.float32),
                          compact["encoder"][good].astype(np.int64), tags)

    async def index_entry(self, bcid: Bcid) -> IndexEntry | None:
        compact, tags = await self._fields(bcid, "compact", "tags")
        if compact is None or self._readable(bcid, compact) is None:
            return None
        return IndexEntry(bcid.class_id, self._decode_compact(bcid, compact), self._tag_set(tags))

    async def scan_bucket(self, layout: Layout, bucket: Bucket, batch: int = 2000) -> AsyncIterator[IndexBatch]:
        """Every readable template of one bucket, a batch per round trip."""
        cursor = b"0"
        prefix = bucket.template_key(0)[:-1]
        while True:
            cursor, ids, records, tagged, others = await self.redis.eval(
                _INDEX_ROWS, 1, bucket.classes_key, cursor, batch, prefix, COMPACT_RECORD.itemsize,
                CompactTemplate.MAGIC)
            if ids or others:
                yield self.decode_batch(layout.partition, ids, records, tagged, others)
            if cursor in (b"0", 0):
                return

    async def scan_partition(self, partition: PartitionId, batch: int = 2000) -> AsyncIterator[IndexBatch]:
        layout = await self.layout(partition)
        for bucket in layout.all if layout else ():
            async for rows in self.scan_bucket(layout, bucket, batch):
                yield rows

    async def positions(self, layout: Layout, buckets: Iterable[Bucket] | None = None) -> list[StreamPosition]:
        """The last change of each bucket (all of them by default)."""
        chosen = list(layout.all if buckets is None else buckets)
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in chosen:
                pipe.xrevrange(bucket.changes_key, count=1)
            lasts = await pipe.execute()
        positions = []
        for last in lasts:
            change = _change(*last[0]) if last else None
            positions.append(StreamPosition(change.stream_id, change.seq) if change else StreamPosition())
        return positions

    async def changes_since(self, layout: Layout, positions: list[StreamPosition],
                            count: int = 1000) -> list[list[Change]]:
        """Each bucket's changes after its position, all buckets in one pipeline."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket, position in zip(layout.all, positions):
                after = position.stream_id
                pipe.xrange(bucket.changes_key, min=f"({after}" if after != "0-0" else "-", count=count)
            batches = await pipe.execute()
        return [[_change(sid, data) for sid, data in rows] for rows in batches]

    # --- writing -----------------------------------------------------------

    def _template_fields(self, bcid: Bcid, template: EnhancedTemplate, encrypt_compact: bool, enrolled,
                         tags) -> dict:
        compact = template.compact().to_bytes()
        if encrypt_compact:
            compact = self.keys.seal(compact, _aad(bcid, "compact"))
        return {
            "compact": compact,
            "enhanced": self.keys.seal(template.to_bytes(), _aad(bcid, "enhanced")),
            "enrolled": enrolled,
            "tags": tags,
            "encoder": template.encoder_version,
            "fv": len(template.vectors),
            "thumbs": len(template.thumbnails),
        }

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
        bucket = await self._bucket(bcid, create=True)
        key = bucket.template_key(bcid.class_id)

        async def write(pipe) -> bool:
            enhanced_blob, enrolled, tags = await pipe.hmget(key, "enhanced", "enrolled", "tags")
            current = self._decode_enhanced(bcid, enhanced_blob) if enhanced_blob is not None else None
            updated = change(current)
            stamp = time.time() if now is None else now
            mapping = self._template_fields(bcid, updated, encrypt_compact,
                                            enrolled if enrolled is not None else repr(stamp),
                                            tags if tags is not None else "[]")
            pipe.multi()
            pipe.hset(key, mapping=mapping)
            pipe.sadd(bucket.classes_key, bcid.class_id)
            self._record_change(pipe, bucket, bcid, "upsert")
            return current is None

        created = await self._watched(key, write)
        await self.redis.sadd(PARTITIONS_KEY, str(bcid.partition))
        return EnrollResult(created=created, status=await self.get_status(bcid))

    async def bulk_insert(self, partition: PartitionId, templates: list[tuple[int, EnhancedTemplate]],
                          encrypt_compact: bool, now: float) -> None:
        """Writes new templates in the format update_template writes, pipelined
        and without change-stream entries: for filling a store no replica runs
        on yet (benchmarks, imports). Existing templates of these classes are
        overwritten."""
        layout = await self.layout(partition, create=True)
        numbers = layout.numbers(np.array([c for c, _ in templates], np.int64))
        async with self.redis.pipeline(transaction=False) as pipe:
            for (class_id, template), number in zip(templates, numbers):
                bucket = layout.all[number]
                pipe.hset(bucket.template_key(class_id),
                          mapping=self._template_fields(Bcid(partition, class_id), template, encrypt_compact,
                                                        repr(now), "[]"))
            for number in set(numbers.tolist()):
                members = [c for (c, _), n in zip(templates, numbers) if n == number]
                pipe.sadd(layout.all[number].classes_key, *members)
            pipe.sadd(PARTITIONS_KEY, str(partition))
            await pipe.execute()

    async def set_tags(self, bcid: Bcid, tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        new_tags = clean_tags(tags)

        def write(pipe, bucket: Bucket, old_tags: tuple[str, ...]) -> None:
            pipe.hset(bucket.template_key(bcid.class_id), "tags", json.dumps(list(new_tags)))
            for tag in set(old_tags) - set(new_tags):
                pipe.srem(bucket.tag_key(tag), bcid.class_id)
            for tag in set(new_tags) - set(old_tags):
                pipe.sadd(bucket.tag_key(tag), bcid.class_id)
            self._record_change(pipe, bucket, bcid, "upsert")

        await self._modify_existing(bcid, write)
        return new_tags

    async def delete(self, bcid: Bcid) -> None:
        """Works on a full Redis too (see _DELETE): a delete frees memory, and its change record is never lost."""
        bucket = await self._bucket(bcid)
        if bucket is None:
            raise TemplateNotFound(bcid)
        deleted = await self.redis.eval(_DELETE, 4, bucket.template_key(bcid.class_id), bucket.classes_key,
                                        bucket.changes_key, bucket.seq_key, bcid.class_id, self.changes_maxlen,
                                        bucket.tag_key(""))
        if deleted is None:
            raise TemplateNotFound(bcid)

    async def _modify_existing(self, bcid: Bcid, write: Callable) -> None:
        bucket = await self._bucket(bcid)
        if bucket is None:
            raise TemplateNotFound(bcid)
        key = bucket.template_key(bcid.class_id)

        async def checked(pipe) -> None:
            exists, tags = await pipe.hmget(key, "enrolled", "tags")
            if exists is None:
                raise TemplateNotFound(bcid)
            pipe.multi()
            write(pipe, bucket, tuple(json.loads(tags or b"[]")))

        await self._watched(key, checked)

    async def _watched(self, key: str, body: Callable[..., Awaitable[T]]) -> T:
        """One optimistic transaction on a template's key: `body` reads (the key
        is watched), calls pipe.multi() and queues its writes; everything runs
        again when another writer got in between, at most _MAX_ATTEMPTS times."""
        for _ in range(_MAX_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    result = await body(pipe)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise RuntimeError(f"too much contention on {key}")

    def _record_change(self, pipe, bucket: Bucket, bcid: Bcid, op: str) -> None:
        pipe.eval(_RECORD_CHANGE, 2, bucket.changes_key, bucket.seq_key, op, bcid.class_id, self.changes_maxlen)
