"""Short-lived state of the BWS 2 token flow, per token, in Redis.

    bws:{s/p}:ext:<token id>:samples   hash: index -> sealed (tag, image), lives as long as the token
    bws:{s/p}:ext:<token id>:tries     counter of task calls
    bws:{s/p}:ext:<token id>:result    JSON of the last task's result

Samples are face images: they are encrypted like enhanced templates, bound to
the token and index. `take` reads and deletes them in one transaction, so a
sample can never serve two task calls.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from redis.asyncio import Redis

from templates_store.bcid import PartitionId
from templates_store.crypto import KeyRing

_ADD = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('HLEN', KEYS[1])
"""


class TooManySamples(Exception):
    pass


@dataclass(frozen=True)
class Sample:
    index: int
    tag: str
    image: bytes


class SampleStore:
    def __init__(self, redis: Redis, keys: KeyRing, max_samples: int = 10) -> None:
        self.redis = redis
        self.keys = keys
        self.max_samples = max_samples
        self._add = redis.register_script(_ADD)

    @staticmethod
    def _key(partition: PartitionId, token_id: str, what: str) -> str:
        return f"bws:{{{partition}}}:ext:{token_id}:{what}"

    @staticmethod
    def _aad(token_id: str, index: int) -> bytes:
        return f"bws-sample|{token_id}|{index}".encode()

    async def add(self, partition: PartitionId, token_id: str, index: int, tag: str, image: bytes,
                  ttl_ms: int) -> int:
        """Stores a sample (replacing one with the same index); the number now stored."""
        encoded_tag = tag.encode()
        sealed = self.keys.seal(struct.pack("<H", len(encoded_tag)) + encoded_tag + image,
                                self._aad(token_id, index))
        count = await self._add(keys=[self._key(partition, token_id, "samples")],
                                args=[index, sealed, self.max_samples, max(1, ttl_ms)])
        if count < 0:
            raise TooManySamples(f"at most {self.max_samples} samples per token")
        return int(count)

    async def take(self, partition: PartitionId, token_id: str) -> list[Sample]:
        """Every stored sample, ordered by index, removed from storage in the same transaction."""
        key = self._key(partition, token_id, "samples")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(key)
            pipe.delete(key)
            stored, _ = await pipe.execute()
        samples = []
        for raw_index, sealed in stored.items():
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
