"""Analysing the images of one call: the per-call limits (count, bytes,
pixel budget), the fan-out to the engine workers, and bad bytes reported as
the field that carried them."""
from __future__ import annotations

import asyncio

from gateway.config import Settings
from gateway.engine import EnginePool, ImageAnalysis, InvalidImage
from gateway.errors import InvalidArgument
from gateway.fairness import check_pixel_budget


async def analyze_images(engine: EnginePool, settings: Settings, images: list[bytes], field_name: str,
                         **options) -> list[ImageAnalysis]:
    if len(images) > settings.max_images:
        raise InvalidArgument(f"at most {settings.max_images} images per call, got {len(images)}")
    for i, data in enumerate(images):  # before shipping megabytes to a worker
        if len(data) > settings.max_image_bytes:
            raise InvalidArgument(f"{field_name}[{i}]: image of {len(data)} bytes is larger than the limit "
                                  f"of {settings.max_image_bytes} bytes")
    check_pixel_budget(images, settings.max_pixels_per_call)
    outcomes = await asyncio.gather(*(engine.analyze(data, **options) for data in images), return_exceptions=True)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, InvalidImage):
            raise InvalidArgument(f"{field_name}[{i}]: {outcome}")
        if isinstance(outcome, BaseException):
            raise outcome
    return list(outcomes)
