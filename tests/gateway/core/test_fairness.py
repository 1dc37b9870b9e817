"""gateway/core/fairness.py: at most `per_client` engine jobs of one client at the workers, the pixel budget of a
call, and a lost worker reported as a retryable Unavailable."""
from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from gateway.core import tenancy
from gateway.core.errors import InvalidArgument, Unavailable
from gateway.core.fairness import FairEngine, check_pixel_budget, image_pixels, jobs_per_client
from gateway.engine import EngineUnavailable


class SlowPool:
    """Jobs that wait until released; records how many of each client run at once."""

    def __init__(self) -> None:
        self.running: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.release = asyncio.Event()

    async def analyze(self, data: bytes, **_options):
        tenant = tenancy.current_tenant.get()
        self.running[tenant] = self.running.get(tenant, 0) + 1
        self.most[tenant] = max(self.most.get(tenant, 0), self.running[tenant])
        await self.release.wait()
        self.running[tenant] -= 1
        if data == b"lost":
            raise EngineUnavailable("a face engine worker stopped; please retry")
        return data


async def _as(client_id: str, engine: FairEngine, data: bytes = b"x"):
    tenancy.current_tenant.set(client_id)
    return await engine.analyze(data)


async def test_one_client_has_at_most_its_share_at_the_workers():
    pool = SlowPool()
    engine = FairEngine(pool, per_client=2)
    calls = [asyncio.create_task(_as(who, engine)) for who in ["greedy"] * 6 + ["modest"]]
    await asyncio.sleep(0.01)
    assert pool.running == {"greedy": 2, "modest": 1}  # the modest client's job is not behind the greedy ones
    pool.release.set()
    assert await asyncio.gather(*calls) == [b"x"] * 7
    assert pool.most == {"greedy": 2, "modest": 1} and engine._slots == {}


async def test_a_lost_worker_is_unavailable():
    pool = SlowPool()
    pool.release.set()
    with pytest.raises(Unavailable, match="please retry"):
        await _as("a", FairEngine(pool, 1), b"lost")


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_pixel_budget_counts_headers():
    assert image_pixels(_png(40, 30)) == 1200 and image_pixels(b"no image") == 0
    check_pixel_budget([_png(40, 30)] * 2, 2400)
    with pytest.raises(InvalidArgument, match="BWS_MAX_PIXELS_PER_CALL"):
        check_pixel_budget([_png(40, 30)] * 2, 2399)


def test_by_default_one_client_leaves_a_worker_to_the_others():
    assert [jobs_per_client(0, workers) for workers in (1, 2, 4)] == [1, 1, 3]
    assert jobs_per_client(2, 2) == 2  # as configured
