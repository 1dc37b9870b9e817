"""Attack: an end user with capture tokens fills Redis through /extension/upload. The whole upload used to be
stored, bytes after the image's end included (a photo plus 19 MiB of zeros: 19 MiB in Redis per sample), and
nothing capped what one token or one application keeps. Now only the image file is kept (up to its end: JPEG
EOI, PNG IEND, a BMP its pixel array, a WebP its image chunks), and the bytes of samples per token and per
application are capped (413 / 429 with a JSON answer)."""
from __future__ import annotations

import io
import struct

import pytest
import redis
from PIL import Image

from gateway.core.errors import InvalidArgument
from gateway.transport.extension.image_end import MAX_SEGMENTS, image_bytes
from templates_store.embedded import EmbeddedRedis, free_port
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.test_extension import Flow
from tests.security.own_service import own_service

TRAILER = b"\0" * (19 << 20)
PER_TOKEN = 1_000_000
PER_APPLICATION = 2_500_000


def encoded(kind: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(face("biden_1.jpg"))).save(buffer, kind, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("kind, options", [("JPEG", {}), ("JPEG", {"progressive": True}),
                                           ("JPEG", {"restart_marker_blocks": 2}), ("PNG", {}), ("BMP", {}),
                                           ("WEBP", {"lossless": True})])
def test_only_the_image_is_kept(kind, options):
    image = encoded(kind, **options)
    assert image_bytes(image + TRAILER) == image
    assert image_bytes(image + image) == image  # a second file after the first is not the image either


def test_a_jpeg_marker_inside_a_segment_is_not_its_end():
    """An EXIF thumbnail is a whole JPEG (with its own EOI) inside the APP1 segment."""
    image = face("obama_1.jpg")
    thumbnail = encoded("JPEG")[:2000] + b"\xff\xd9"
    app1 = b"\xff\xe1" + struct.pack(">H", len(thumbnail) + 8) + b"Exif\0\0" + thumbnail
    with_thumbnail = image[:2] + app1 + image[2:]
    assert image_bytes(with_thumbnail + TRAILER) == with_thumbnail


@pytest.mark.parametrize("data", [
    b"not an image", face("obama_1.jpg")[:50_000], encoded("PNG")[:50_000],
    b"BM" + struct.pack("<I", 10 << 20) + encoded("BMP")[6:60_000],
    b"\xff\xd8" + b"\xff\xfe\x00\x02" * (MAX_SEGMENTS + 1) + b"\xff\xd9",  # countless empty comments
], ids=["unknown", "jpeg-without-eoi", "png-without-iend", "bmp-size-past-the-data", "segment-flood"])
def test_files_without_a_clear_end_are_refused(data):
    with pytest.raises(InvalidArgument):
        image_bytes(data)


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("samples")
    server = EmbeddedRedis(tmp / "redis", port=free_port()).start()
    try:
        with own_service(tmp, server.url, BWS_WORKERS="1", BWS_MAX_SAMPLE_BYTES_PER_TOKEN=str(PER_TOKEN),
                         BWS_MAX_SAMPLE_BYTES_PER_APPLICATION=str(PER_APPLICATION)) as service:
            yield service, redis.Redis.from_url(server.url)
    finally:
        server.stop()


def stored_sample_bytes(raw: redis.Redis) -> list[int]:
    return [raw.hstrlen(key, field) for key in raw.scan_iter(match="bws:*:ext:*:samples") for field in raw.hkeys(key)]


def test_bytes_after_the_image_are_not_stored(capped):
    service, raw = capped
    flow = Flow(service)
    class_id = new_class_id()
    with service.channel() as channel:
        Caller(channel, service.clients["tenant-a"]).enroll(class_id, "biden_2.jpg")
    token = flow.token(class_id, "verify", livedetection="false")
    photo = face("biden_1.jpg")
    answer = flow.upload(token, photo + TRAILER)
    assert answer.status == 200 and answer.json["Accepted"] is True, answer.body
    (size,) = stored_sample_bytes(raw)
    assert size < len(photo) + 200, size  # the photo, sealed: not its 19 MiB of zeros
    verified = flow.task(token, "verify")
    assert verified.status == 200 and verified.json["Success"] is True, verified.body  # the kept bytes verify
    assert stored_sample_bytes(raw) == []


def test_sample_bytes_are_capped_per_token_and_application(capped):
    service, raw = capped
    flow = Flow(service)
    photo = face("biden_1.jpg")  # 354 kB: two fit a token, a third does not
    tokens = [flow.token(new_class_id(), "verify", livedetection="false") for _ in range(4)]
    first = [flow.upload(tokens[0], photo, index=i) for i in range(3)]
    assert [a.status for a in first] == [200, 200, 413], [a.body for a in first]
    assert first[2].json["Accepted"] is False and first[2].json["Error"] == "SamplesTooLarge"
    assert "bytes of samples per token" in first[2].json["Message"]
    assert flow.upload(tokens[0], photo, index=1).status == 200  # replacing a sample is no growth

    answers = [flow.upload(token, photo, index=i) for token in tokens[1:] for i in range(2)]
    statuses = [a.status for a in answers]
    assert statuses.count(200) == 5 and statuses[-1] == 429, statuses  # 7 x 354 kB fit in 2.5 MB, not 8
    refused = answers[-1]
    assert refused.json["Accepted"] is False and refused.json["Error"] == "ApplicationSampleLimit"
    assert int(refused.headers["retry-after"]) > 0
    assert sum(stored_sample_bytes(raw)) <= PER_APPLICATION

    # Another application is not held back by this one's samples.
    other = Flow(service, "legacy-app")
    assert other.upload(other.token(new_class_id(), "verify", livedetection="false"), photo).status == 200
    # A task takes its token's samples, which frees the application's share.
    flow.task(tokens[0], "verify")
    assert flow.upload(tokens[3], photo, index=1).status == 200


def test_only_token_flow_keys_expire(capped):
    """What README "Sizing" tells operators: a volatile-* eviction policy can drop the token flow's samples and
    results, never a template (nor the counts that limit tokens and applications: test_review_eviction.py),
    because only the former carry a TTL."""
    service, raw = capped
    flow = Flow(service)
    class_id = new_class_id()
    with service.channel() as channel:
        Caller(channel, service.clients["tenant-a"]).enroll(class_id, "obama_1.jpg")
    token = flow.token(class_id, "verify", livedetection="false")
    assert flow.upload(token, face("obama_2.jpg")).status == 200
    keys = [key.decode() for key in raw.scan_iter(match="bws:*")]
    assert any(":tpl:" in k for k in keys) and any(":ext:" in k for k in keys) and any(":ext-bytes:" in k for k in keys)
    for key in keys:
        ttl = raw.pttl(key)
        assert (ttl > 0) if ":ext:" in key else (ttl == -1), (key, ttl)
