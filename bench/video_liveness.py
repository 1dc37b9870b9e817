"""Video liveness decisions on clips synthesised here from named material (no
real live selfie video or real replay video is available to this project):

* "two poses": letterboxed frames of two different photos of one person
  (obama_1 then obama_3): the stand-in for a head that turns (also exactly how
  an attacker with two photos would try);
* flat replays: one photo (a fixture, the model's live sample T1, its attack
  sample F2) rotated and zoomed as a hand moves a picture;
* synthetic screen replay and print of the "two poses" clip (tests/e2e/media.py
  stand-ins: WEAK substitutes for a real phone replay);
* held still: a fixture photo with 2 px of jitter and sensor noise (the stand-in
  for a person who only holds the phone; also exactly a photo held still), and
  the same as a synthetic screen replay and print: motion cannot decide, passive
  liveness on every frame does.

Each clip is encoded as MP4/H.264, MOV/H.264 and WebM/VP8 and judged by the
service logic (Liveness.detect_video) on a real engine worker.

    python bench/video_liveness.py
"""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pad_quality import SAMPLES, load  # noqa: E402
from gateway.app import engine_options  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.engine import EnginePool  # noqa: E402
from gateway.core.liveness import Liveness  # noqa: E402
from gateway.engine.motion import displacement  # noqa: E402
from tests.e2e.media import held_still, letterbox, photo, printed, screen, video  # noqa: E402

FORMATS = (("mp4", "libx264"), ("mov", "libx264"), ("webm", "libvpx"))


def moved(still: Image.Image) -> list[Image.Image]:
    frames = []
    for i in range(12):
        zoom = 1 - 0.015 * i
        w, h = still.size
        crop = still.crop((i * 3, i * 2, i * 3 + int(w * zoom), i * 2 + int(h * zoom))).resize((w, h))
        frames.append(crop.rotate(i * 1.0, resample=Image.Resampling.BICUBIC))
    return frames


def clips() -> dict[str, list[Image.Image]]:
    poses = [letterbox(photo("obama_1.jpg"))] * 6 + [letterbox(photo("obama_3.jpg"))] * 6
    return {
        "two poses (live stand-in)": poses,
        "flat replay: fixture photo moved": moved(letterbox(photo("obama_1.jpg"))),
        "flat replay: model's live sample T1 moved": moved(load(SAMPLES / "image_T1.jpg")),
        "flat replay: model's attack sample F2 moved": moved(load(SAMPLES / "image_F2.jpg")),
        "synthetic screen replay of two poses": [screen(f, i) for i, f in enumerate(poses)],
        "synthetic print of two poses": [printed(f, i) for i, f in enumerate(poses)],
        "held still: obama_1": held_still(letterbox(photo("obama_1.jpg"))),
        "held still: biden_1": held_still(letterbox(photo("biden_1.jpg"))),
        "held still: rose_leslie_1": held_still(letterbox(photo("rose_leslie_1.jpg"))),
        "held still: model's live sample T1": held_still(load(SAMPLES / "image_T1.jpg")),
        "held still: synthetic screen replay": [screen(f, 0) for f in held_still(letterbox(photo("obama_1.jpg")))],
        "held still: synthetic print": [printed(f, 0) for f in held_still(letterbox(photo("obama_1.jpg")))],
        "held still: model's attack sample F2": held_still(load(SAMPLES / "image_F2.jpg")),
    }


async def main() -> None:
    settings = Settings.from_env({})
    pool = EnginePool(1, engine_options(settings))
    await pool.start()
    liveness = Liveness(settings, pool)
    try:
        for name, frames in clips().items():
            for container, codec in FORMATS:
                outcome = await liveness.detect_video(video(frames, container=container, codec=codec))
                motion = max((m.score for m in outcome.motions if m), default=0.0)
                moved = max((displacement(outcome.analyses[0].faces[0].landmarks, a.faces[0].landmarks)
                             for a in outcome.analyses[1:] if a.faces), default=0.0)
                textures = [a.faces[0].texture_score for a in outcome.analyses if len(a.faces) == 1]
                errors = "; ".join(e.message[:70] for e in outcome.errors)
                print(f"{name:44} {container:4} live={outcome.live!s:5} score={outcome.score:.3f} "
                      f"motion={motion:.3f} moved={moved:.2f} passive={[round(t, 2) for t in textures]} "
                      f"frames={outcome.frame_numbers} {errors}")
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
