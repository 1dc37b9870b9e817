"""Sharing the face engine fairly between clients.

* A pixel budget per call: the decoded size of all images of one call, read
  from their headers (nothing is decoded) before any image goes to a worker.
* A cap on the engine jobs one client has at the workers at once: its other
  jobs wait here, in the service process, so another client's job is next at
  the workers after at most one job (which its time limit bounds, pool.py). A
  waiting job whose call is cancelled (deadline passed, REST caller gone)
  never reaches a worker; one already at a worker still counts until it ends.
"""
from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field

from PIL import Image

from gateway.engine import EnginePool, EngineUnavailable
from gateway.engine.images import JPEG_START, PNG_SIGNATURE, check_headers
from gateway.engine.jpeg import frame_pixels
from gateway.engine.types import ImageLimits, InvalidImage
from gateway.core.errors import InvalidArgument, Unavailable
from gateway.core.tenancy import current_tenant



def image_pixels(data: bytes) -> int:
    """Width x height from the image's header; 0 when the bytes are no image or
    a single image over the per-image limit: the worker reports those, with
    the reason, from the header too. This runs in the event loop: JPEG and PNG sizes come from bounded walks of
    their headers, never Pillow's parsers (a JPEG's metadata segments are parsed in Python)."""
    try:
        check_headers(data)  # bounded: Pillow's header parser alone would run here, in the event loop
    except InvalidImage:
        return 0
    if data.startswith(JPEG_START):
        return _one_image(frame_pixels(data))
    if data.startswith(PNG_SIGNATURE):
        if data[12:16] != b"IHDR":
            return 0
        return _one_image(int.from_bytes(data[16:20], "big") * int.from_bytes(data[20:24], "big"))
    try:
        with Image.open(io.BytesIO(data), formats=list(ImageLimits().formats)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - undecodable bytes are the worker's to report
        return 0
    return width * height


def _one_image(pixels: int) -> int:
    """As Pillow's header parser counts: a single image past its bomb limit is the worker's to refuse, with the
    field that carried it."""
    return 0 if pixels > 2 * Image.MAX_IMAGE_PIXELS else pixels


def check_pixel_budget(images: list[bytes], budget: int) -> None:
    total = sum(image_pixels(data) for data in images)
    if total > budget:
        raise InvalidArgument(f"the images of this call hold {total / 1e6:.1f} megapixels in all, more than "
                              f"the budget of {budget / 1e6:.1f} megapixels per call (BWS_MAX_PIXELS_PER_CALL)")


def jobs_per_client(setting: int, workers: int) -> int:
    """BWS_MAX_ENGINE_JOBS_PER_CLIENT, or by default all workers but one (at least one): one client flooding the
    engine leaves a worker to the others."""
    return setting or max(1, workers - 1)


@dataclass
class _Slots:
    semaphore: asyncio.Semaphore
    users: int = field(default=0)


class FairEngine:
    """EnginePool's API with at most `per_client` jobs of one client at the
    workers at a time. Everything else is the pool's."""

    def __init__(self, pool: EnginePool, per_client: int) -> None:
        self.pool = pool
        self.per_client = per_client
        self._slots: dict[str, _Slots] = {}

    def __getattr__(self, name: str):
        return getattr(self.pool, name)

    async def analyze(self, *args, **kwargs):
        return await self._run(self.pool.analyze, *args, **kwargs)

    async def analyze_video(self, *args, **kwargs):
        return await self._run(self.pool.analyze_video, *args, **kwargs)

    async def describe_chips(self, *args, **kwargs):
        return await self._run(self.pool.describe_chips, *args, **kwargs)

    async def _run(self, job, *args, **kwargs):
        tenant = current_tenant.get()
        slots = self._slots.get(tenant)
        if slots is None:
            slots = self._slots[tenant] = _Slots(asyncio.Semaphore(self.per_client))
        slots.users += 1
        try:
            await slots.semaphore.acquire()
        except BaseException:
            self._leave(tenant, slots)
            raise
        work = asyncio.ensure_future(job(*args, **kwargs))
        work.add_done_callback(lambda done: self._done(tenant, slots, done))
        try:
            return await asyncio.shield(work)
        except EngineUnavailable as exc:  # a worker lost under the job: retryable
            raise Unavailable(str(exc)) from None
        except asyncio.CancelledError:
            # A job still waiting for a worker never reaches one. One at a worker ends within its time limit
            # (pool.py) and counts against the client's cap until then: cancelling calls frees no worker sooner.
            work.cancel()
            raise

    def _done(self, tenant: str, slots: _Slots, work: asyncio.Future) -> None:
        if not work.cancelled():
            work.exception()  # seen: the call may have gone (an error of a call still there reaches it)
        slots.semaphore.release()
        self._leave(tenant, slots)

    def _leave(self, tenant: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0:  # only clients with jobs keep an entry
            del self._slots[tenant]
