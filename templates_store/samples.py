"""Short-lived state of the BWS 2 token flow, per token, in Redis.

    bws:{s/p}:ext:<token id>:samples   hash: index -> sealed (tag, image), lives as long as the token
    bws:{s/p}:ext:<token id>:tries     counter of task calls
    bws:{s/p}:ext:<token id>:result    JSON of the last task's result
    bws:{s/p}:ext-bytes:<app id>       bytes of the application's stored samples, lives as long as the
                                       longest-lived of them

Samples are face images: they are encrypted like enhanced templates, bound to
the token and index. `take` reads and deletes them in one transaction, so a
sample can never serve two task calls. The bytes a token and an application
keep are capped; the application's counter is lowered when samples are taken
and otherwise kept until its own expiry, so it never counts less than is
stored (samples that expired with their token still count until then). Every
key here carries a TTL, templates none: a Redis `volatile-*` eviction policy
can only ever evict these.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from redis.asyncio import Redis

from templates_store.bcid import PartitionId
from templates_store.crypto import KeyRing

# KEYS: samples, application bytes. ARGV: index, sealed sample, max samples, ttl ms, max token bytes, max
# application bytes. Hash field lengths are read with HSTRLEN: the samples themselves are not copied.
_ADD = """
local replaced = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if replaced == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
local size = string.len(ARGV[2])
local token_bytes = size - replaced
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  token_bytes = token_bytes + redis.call('HSTRLEN', KEYS[1], field)
end
if token_bytes > tonumber(ARGV[5]) then
  return -2
end
if tonumber(redis.call('GET', KEYS[2]) or '0') + size - replaced > tonumber(ARGV[6]) then
  return -3
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('INCRBY', KEYS[2], size - replaced)
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return redis.call('HLEN', KEYS[1])
"""
# KEYS: samples, application bytes. The samples, removed, and the application's counter lowered by their size.
_TAKE = """
local stored = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
local size = 0
for i = 2, #stored, 2 do
  size = size + string.len(stored[i])
end
if size > 0 and redis.call('EXISTS', KEYS[2]) == 1 and redis.call('DECRBY', KEYS[2], size) <= 0 then
  redis.call('DEL', KEYS[2])
end
return stored
"""


class SampleRefused(Exception):
    """A sample over one of the caps; `reason` says which."""
    reason = ""


class TooManySamples(SampleRefused):
    reason = "count"


class TokenSampleBytes(SampleRefused):
    reason = "token"


class ApplicationSampleBytes(SampleRefused):
    reason = "application"


@dataclass(frozen=True)
class Sample:
    index: int
    tag: str
    image: bytes


class SampleStore:
    def __init__(self, redis: Redis, keys: KeyRing, max_samples: int = 10, max_token_bytes: int = 40 << 20,
                 max_application_bytes: int = 256 << 20) -> None:
        self.redis = redis
        self.keys = keys
        self.max_samples = max_samples
        self.max_token_bytes = max_token_bytes
        self.max_application_bytes = max_application_bytes
        self._add = redis.register_script(_ADD)
        self._take = redis.register_script(_TAKE)

    @staticmethod
    def _key(partition: PartitionId, token_id: str, what: str) -> str:
        return f"bws:{{{partition}}}:ext:{token_id}:{what}"

    @staticmethod
    def _application_key(partition: PartitionId, app_id: str) -> str:
        return f"bws:{{{partition}}}:ext-bytes:{app_id}"

    @staticmethod
    def _aad(token_id: str, index: int) -> bytes:
        return f"bws-sample|{token_id}|{index}".encode()

    async def add(self, partition: PartitionId, app_id: str, token_id: str, index: int, tag: str, image: bytes,
                  ttl_ms: int) -> int:
        """Stores a sample (replacing one with the same index) within the caps; the number now stored."""
        encoded_tag = tag.encode()
        sealed = self.keys.seal(struct.pack("<H", len(encoded_tag)) + encoded_tag + image,
                                self._aad(token_id, index))
        count = await self._add(keys=[self._key(partition, token_id, "samples"),
                                      self._application_key(partition, app_id)],
                                args=[index, sealed, self.max_samples, max(1, ttl_ms), self.max_token_bytes,
                                      self.max_application_bytes])
        if count == -1:
            raise TooManySamples(f"at most {self.max_samples} samples per token")
        if count == -2:
            raise TokenSampleBytes(f"at most {self.max_token_bytes} bytes of samples per token")
        if count == -3:
            raise ApplicationSampleBytes(f"the application keeps {self.max_application_bytes} bytes of samples "
                                         "already: retry when its tokens' samples are used or expired")
        return int(count)

    async def take(self, partition: PartitionId, app_id: str, token_id: str) -> list[Sample]:
        """Every stored sample, ordered by index, removed from storage in the same transaction."""
        flat = await self._take(keys=[self._key(partition, token_id, "samples"),
                                      self._application_key(partition, app_id)])
        samples = []
        for raw_index, sealed in zip(flat[::2], flat[1::2]):
            index = int(raw_index)
            plain = self.keys.open(sealed, self._aad(token_id, index))
            (tag_length,) = struct.unpack_from("<H", plain)
            samples.append(Sample(index, plain[2:2 + tag_length].decode(), plain[2 + tag_length:]))
        return sorted(samples, key=lambda s: s.index)

    async def count_try(self, partition: PartitionId, token_id: str, ttl_ms: int) -> int:
        key = self._key(partition, token_id, "tries")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.pexpire(key, max(1, ttl_ms))
            tries, _ = await pipe.execute()
        return int(tries)

    async def put_result(self, partition: PartitionId, token_id: str, result: dict, ttl_ms: int) -> None:
        await self.redis.set(self._key(partition, token_id, "result"), json.dumps(result), px=max(1, ttl_ms))

    async def result(self, partition: PartitionId, token_id: str) -> dict | None:
        raw = await self.redis.get(self._key(partition, token_id, "result"))
        return json.loads(raw) if raw else None
