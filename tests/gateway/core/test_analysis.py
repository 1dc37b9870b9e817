"""gateway/core/analysis.py: the per-call limits, checked before any image reaches the engine, and bad bytes
reported as the field that carried them."""
from __future__ import annotations

import dataclasses

import pytest

from gateway.core.analysis import analyze_images
from gateway.core.errors import InvalidArgument
from tests.gateway.core.fakes import NOT_AN_IMAGE, photo


async def test_each_image_is_analysed(engine, settings):
    analyses = await analyze_images(engine, settings, [photo("alice"), photo("", faces=0)], "images")
    assert [len(a.faces) for a in analyses] == [1, 0] and engine.jobs == ["analyze", "analyze"]
    assert await analyze_images(engine, settings, [], "images") == []


async def test_too_many_images_or_bytes_are_refused_before_the_engine(engine, settings):
    few = dataclasses.replace(settings, max_images=2)
    with pytest.raises(InvalidArgument, match="at most 2 images per call, got 3"):
        await analyze_images(engine, few, [photo("a")] * 3, "images")
    small = dataclasses.replace(settings, max_image_bytes=10)
    with pytest.raises(InvalidArgument, match=r"^live_images\[0\]: image of \d+ bytes is larger than the limit"):
        await analyze_images(engine, small, [photo("a")], "live_images")
    assert engine.jobs == []


async def test_bad_bytes_name_their_field(engine, settings):
    with pytest.raises(InvalidArgument, match=r"^images\[1\]: not an image the service accepts"):
        await analyze_images(engine, settings, [photo("alice"), NOT_AN_IMAGE], "images")
