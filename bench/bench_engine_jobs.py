"""How long the largest jobs the limits let through take at an engine worker,
against the job time limits (BWS_ENGINE_JOB_SECONDS, BWS_ENGINE_VIDEO_JOB_SECONDS):
the headroom of the defaults.

Every job runs on a pool of two workers with both busy (the same job twice at
once), with the heaviest options (small faces for an ID photo, passive
liveness), a few rounds; the slowest round is reported.

* photos of 40 MP (BWS_MAX_IMAGE_PIXELS), a face on noise so that they are as
  large as the byte limit allows: baseline and progressive JPEG, PNG; and a
  grey progressive JPEG padded with empty scans to as many as
  BWS_MAX_JPEG_SCANS lets through (tests/security/hostile_files.py);
* videos of BWS_VIDEO_MAX_SECONDS (20 s) of full HD at 30 frames per second
  (the decoded-pixel bound of a clip) at about 19 Mbit/s (the byte limit),
  in H.264, HEVC and VP9.

    python bench/bench_engine_jobs.py [--rounds 3] [--skip-video]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.app import engine_options  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.engine import EnginePool, JobLimits  # noqa: E402
from tests.conftest import face  # noqa: E402
from tests.security.hostile_files import scan_bomb  # noqa: E402

SIDE = (7744, 5163)  # 39.98 MP


def _face_on_noise(size: tuple[int, int], noise: int) -> np.ndarray:
    picture = Image.open(io.BytesIO(face("obama_1.jpg"))).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    pixels = np.asarray(picture).astype(np.int16)
    if not noise:
        return pixels.astype(np.uint8)
    rng = np.random.default_rng(0)
    return np.clip(pixels + rng.integers(-noise, noise, pixels.shape, dtype=np.int16), 0, 255).astype(np.uint8)


def photos(max_bytes: int, max_scans: int) -> dict[str, bytes]:
    image = Image.fromarray(_face_on_noise(SIDE, 40))
    made = {}
    for name, options in (("40 MP baseline JPEG", {}), ("40 MP progressive JPEG", {"progressive": True})):
        for quality in (95, 90, 85, 80, 75, 70):
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality, **options)
            if buffer.tell() <= max_bytes:
                made[f"{name}, q{quality}"] = buffer.getvalue()
                break
    for noise in (1, 0):  # a 40 MP photo with any grain is over 20 MiB as PNG
        buffer = io.BytesIO()
        Image.fromarray(_face_on_noise(SIDE, noise)).save(buffer, "PNG")
        if buffer.tell() <= max_bytes:
            made["40 MP PNG"] = buffer.getvalue()
            break
    made[f"40 MP JPEG, {max_scans} scans (6 + empty ones)"] = scan_bomb(scans=max_scans - 6)
    return made


def clip(codec: str, container: str, seconds: float, rate: int = 30, size=(1920, 1080)) -> bytes:
    still = _face_on_noise((size[0] // 2, size[1] - 100), 0)
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 19_000_000
        stream.options = {"libx264": {"preset": "ultrafast"},
                          "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
                          "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"}}[codec]
        for number in range(int(seconds * rate)):
            frame = np.full((size[1], size[0], 3), 90, np.uint8)
            x = 400 + int(100 * np.sin(number / 20))
            frame[50:50 + still.shape[0], x:x + still.shape[1]] = still
            frame = np.clip(frame.astype(np.int16) + rng.integers(-8, 8, frame.shape, dtype=np.int16), 0, 255)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.astype(np.uint8), format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


async def slowest(pool: EnginePool, job, rounds: int) -> float:
    worst = 0.0
    for _ in range(rounds):
        async def timed():
            started = time.perf_counter()
            await job()
            return time.perf_counter() - started
        worst = max(worst, *(await asyncio.gather(timed(), timed())))
    return worst


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-video", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env({})
    unlimited = JobLimits(3600, 3600)  # measured here, not cut
    pool = EnginePool(2, engine_options(settings), unlimited)
    await pool.start()
    try:
        print(f"image jobs (limit BWS_ENGINE_JOB_SECONDS = {settings.engine_job_seconds:g} s), slowest of "
              f"{args.rounds} rounds, two at once:")
        for name, data in photos(settings.max_image_bytes, settings.max_jpeg_scans).items():
            seconds = await slowest(pool, lambda data=data: pool.analyze(data, small_faces=True, want_texture=True),
                                    args.rounds)
            print(f"  {name:45} {len(data) / 2**20:5.1f} MiB {seconds:6.2f} s  "
                  f"headroom {settings.engine_job_seconds / seconds:5.1f}x")
        if args.skip_video:
            return
        print(f"video jobs (limit BWS_ENGINE_VIDEO_JOB_SECONDS = {settings.engine_video_job_seconds:g} s):")
        for codec, container in (("libx264", "mp4"), ("libvpx-vp9", "webm"), ("libx265", "mp4")):
            started = time.perf_counter()
            data = clip(codec, container, settings.video_max_seconds)
            made = time.perf_counter() - started
            seconds = await slowest(pool, lambda data=data: pool.analyze_video(data, want_texture=True), args.rounds)
            print(f"  20 s 1080p30 {codec:12} {len(data) / 2**20:5.1f} MiB {seconds:6.2f} s  "
                  f"headroom {settings.engine_video_job_seconds / seconds:5.1f}x  (encoded in {made:.0f} s)")
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
