"""Analysing the images of one call: the per-call limits (count, bytes,
pixel budget), the fan-out to the engine workers, and bad bytes reported as
the field that carried them (the first found: the call's other jobs are then
cancelled)."""
from __future__ import annotations

import asyncio

from gateway.settings import Settings
from gateway.engine import EnginePool, ImageAnalysis, InvalidImage
from gateway.core.errors import InvalidArgument
from gateway.core.fairness import check_pixel_budget


def check_image_count(count: int, settings: Settings) -> None:
    """Transports call it too, before they copy a message's images out one by one."""
    if count > settings.max_images:
        raise InvalidArgument(f"at most {settings.max_images} images per call, got {count}")


async def analyze_images(engine: EnginePool, settings: Settings, images: list[bytes], field_name: str,
                         **options) -> list[ImageAnalysis]:
    check_image_count(len(images), settings)
    for i, data in enumerate(images):  # before shipping megabytes to a worker
        if len(data) > settings.max_image_bytes:
            raise InvalidArgument(f"{field_name}[{i}]: image of {len(data)} bytes is larger than the limit "
                                  f"of {settings.max_image_bytes} bytes")
    check_pixel_budget(images, settings.max_pixels_per_call)
    if not images:
        return []
    jobs = [asyncio.ensure_future(engine.analyze(data, **options)) for data in images]
    try:
        await asyncio.wait(jobs, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for job in jobs:  # after the first failure, or when the call is cancelled: the jobs still waiting for a
            job.cancel()  # worker never reach one (one at a worker ends within its time limit)
    failures = [(i, job.exception()) for i, job in enumerate(jobs) if job.done() and not job.cancelled()
                and job.exception() is not None]
    for i, failure in failures:
        if isinstance(failure, InvalidImage):
            raise InvalidArgument(f"{field_name}[{i}]: {failure}")
    if failures:
        raise failures[0][1]
    return [job.result() for job in jobs]
