"""Short-lived state of the BWS 2 token flow, per token, in Redis.

    bws:{s/p}:ext:<token id>:samples   hash: index -> sealed (tag, image), lives as long as the token
    bws:{s/p}:ext:<token id>:pixels    hash: index -> the sample's pixels (the token's samples, together, stay
                                       within one task's pixel budget)
    bws:{s/p}:ext:<token id>:result    JSON of the last task's result
    bws:{s/p}:ext-tries                hash: token id -> its task calls        } no TTL: entries of expired
    bws:{s/p}:ext-tries-expiry         sorted set: token id by its expiry      } tokens are removed by the
    bws:{s/p}:ext-bytes:<app id>       bytes of the application's samples,     } scripts that use them (a
    bws:{s/p}:ext-shares:<app id>      hash: token id -> its bytes of them,    } hundred a call at most)
    bws:{s/p}:ext-expiry:<app id>      sorted set: token id by when its samples expire

Samples are face images: they are encrypted like enhanced templates, bound to
the token and index. `take` reads and deletes them in one transaction, so a
sample can never serve two task calls. The bytes a token and an application
keep are capped; the application's counter is lowered when samples are taken,
and by the share of every token whose samples have expired (checked at each
upload), so it counts what is stored: never less, and expired samples not for long.

Eviction: samples, pixels and results carry a TTL, templates none, and neither do the counts that limit a
token or an application (tries, bytes): a Redis `volatile-*` eviction policy (the compose file's
`volatile-ttl`) can only ever evict a sample or a result, never a template, and never grant a token more tries
or an application more bytes by dropping its count.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from redis.asyncio import Redis

from templates_store.bcid import PartitionId
from templates_store.crypto import KeyRing

# The application's bytes: a total, each token's share of it, and when each token's samples expire; shares of
# tokens past their expiry (at most 100 a call: the work stays bounded) are taken off the total first, so samples
# that expired with their token stop counting. Time is the server's.
_NOW_MS = """
local now_ms = function()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""
_EXPIRE_SHARES = _NOW_MS + """
local expire_shares = function(total_key, shares_key, expiry_key, now)
  local gone = redis.call('ZRANGEBYSCORE', expiry_key, '-inf', now, 'LIMIT', 0, 100)
  local freed = 0
  for _, token in ipairs(gone) do
    freed = freed + tonumber(redis.call('HGET', shares_key, token) or '0')
    redis.call('HDEL', shares_key, token)
    redis.call('ZREM', expiry_key, token)
  end
  if freed > 0 and redis.call('DECRBY', total_key, freed) <= 0 then
    redis.call('DEL', total_key)
  end
end
"""
# KEYS: samples, application bytes, application shares, application expiries, the samples' pixels. ARGV: index,
# sealed sample, max samples, ttl ms, max token bytes, max application bytes, token id, the sample's pixels, max
# pixels of the token's samples (one task's). Hash field lengths are read with HSTRLEN: the samples themselves are
# not copied.
_ADD = _EXPIRE_SHARES + """
local now = now_ms()
expire_shares(KEYS[2], KEYS[3], KEYS[4], now)
local replaced = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if replaced == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
local pixels = tonumber(ARGV[8])
local counted = redis.call('HGETALL', KEYS[5])
for i = 1, #counted, 2 do
  if counted[i] ~= ARGV[1] then
    pixels = pixels + tonumber(counted[i + 1])
  end
end
if pixels > tonumber(ARGV[9]) then
  return -4
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
redis.call('HSET', KEYS[5], ARGV[1], ARGV[8])
redis.call('PEXPIRE', KEYS[5], ARGV[4])
redis.call('INCRBY', KEYS[2], size - replaced)
redis.call('HINCRBY', KEYS[3], ARGV[7], size - replaced)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[4]), ARGV[7])
return redis.call('HLEN', KEYS[1])
"""
# KEYS: tries, their expiries (both the partition's). ARGV: token id, ttl ms. The token's tries, this one counted;
# tokens past their expiry (at most 100 a call) are forgotten first.
_COUNT_TRY = _NOW_MS + """
local now = now_ms()
for _, token in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('HDEL', KEYS[1], token)
  redis.call('ZREM', KEYS[2], token)
end
local tries = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return tries
"""
# KEYS: samples, application bytes, shares, expiries, the samples' pixels. ARGV: token id. The samples, removed,
# and the application's counts lowered by their size.
_TAKE = """
local stored = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[5])
local size = 0
for i = 2, #stored, 2 do
  size = size + string.len(stored[i])
end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
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


class TokenSamplePixels(SampleRefused):
    reason = "pixels"


@dataclass(frozen=True)
class Sample:
    index: int
    tag: str
    image: bytes


class SampleStore:
    def __init__(self, redis: Redis, keys: KeyRing, max_samples: int = 10, max_token_bytes: int = 40 << 20,
                 max_application_bytes: int = 256 << 20, max_token_pixels: int = 60_000_000) -> None:
        self.redis = redis
        self.keys = keys
        self.max_samples = max_samples
        self.max_token_bytes = max_token_bytes
        self.max_application_bytes = max_application_bytes
        self.max_token_pixels = max_token_pixels  # what one task may analyse: its samples together
        self._add = redis.register_script(_ADD)
        self._take = redis.register_script(_TAKE)
        self._count_try = redis.register_script(_COUNT_TRY)

    @staticmethod
    def _key(partition: PartitionId, token_id: str, what: str) -> str:
        return f"bws:{{{partition}}}:ext:{token_id}:{what}"

    @staticmethod
    def _application_keys(partition: PartitionId, app_id: str) -> list[str]:
        """The application's bytes, each token's share of them, and when each token's samples expire."""
        return [f"bws:{{{partition}}}:ext-{what}:{app_id}" for what in ("bytes", "shares", "expiry")]

    @staticmethod
    def _aad(token_id: str, index: int) -> bytes:
        return f"bws-sample|{token_id}|{index}".encode()

    async def add(self, partition: PartitionId, app_id: str, token_id: str, index: int, tag: str, image: bytes,
                  ttl_ms: int, pixels: int = 0) -> int:
        """Stores a sample of `pixels` (replacing one with the same index) within the caps; the number now
        stored."""
        encoded_tag = tag.encode()
        sealed = self.keys.seal(struct.pack("<H", len(encoded_tag)) + encoded_tag + image,
                                self._aad(token_id, index))
        count = await self._add(keys=[self._key(partition, token_id, "samples"),
                                      *self._application_keys(partition, app_id),
                                      self._key(partition, token_id, "pixels")],
                                args=[index, sealed, self.max_samples, max(1, ttl_ms), self.max_token_bytes,
                                      self.max_application_bytes, token_id, pixels, self.max_token_pixels])
        if count == -1:
            raise TooManySamples(f"at most {self.max_samples} samples per token")
        if count == -2:
            raise TokenSampleBytes(f"at most {self.max_token_bytes} bytes of samples per token")
        if count == -4:
            raise TokenSamplePixels(f"the token's samples would hold more than {self.max_token_pixels / 1e6:.1f} "
                                    "megapixels in all, what one task may analyse (BWS_MAX_PIXELS_PER_CALL)")
        if count == -3:
            raise ApplicationSampleBytes(f"the application keeps {self.max_application_bytes} bytes of samples "
                                         "already: retry when its tokens' samples are used or expired")
        return int(count)

    async def take(self, partition: PartitionId, app_id: str, token_id: str) -> list[Sample]:
        """Every stored sample, ordered by index, removed from storage in the same transaction."""
        flat = await self._take(keys=[self._key(partition, token_id, "samples"),
                                      *self._application_keys(partition, app_id),
                                      self._key(partition, token_id, "pixels")], args=[token_id])
        samples = []
        for raw_index, sealed in zip(flat[::2], flat[1::2]):
            index = int(raw_index)
            plain = self.keys.open(sealed, self._aad(token_id, index))
            (tag_length,) = struct.unpack_from("<H", plain)
            samples.append(Sample(index, plain[2:2 + tag_length].decode(), plain[2 + tag_length:]))
        return sorted(samples, key=lambda s: s.index)

    async def count_try(self, partition: PartitionId, token_id: str, ttl_ms: int) -> int:
        """The token's task calls, this one included. Kept without a TTL (see the module's notes)."""
        keys = [f"bws:{{{partition}}}:ext-tries", f"bws:{{{partition}}}:ext-tries-expiry"]
        return int(await self._count_try(keys=keys, args=[token_id, max(1, ttl_ms)]))

    async def put_result(self, partition: PartitionId, token_id: str, result: dict, ttl_ms: int) -> None:
        await self.redis.set(self._key(partition, token_id, "result"), json.dumps(result), px=max(1, ttl_ms))

    async def result(self, partition: PartitionId, token_id: str) -> dict | None:
        raw = await self.redis.get(self._key(partition, token_id, "result"))
        return json.loads(raw) if raw else None
