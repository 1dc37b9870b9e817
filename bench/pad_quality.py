"""Passive liveness (the bundled MiniFASNet pair): decisions and margin on the
material whose source we can name, at the service's threshold (LIVE_SCORE).

Bona fide:  the model's live sample (T1; T2 is filed live by the authors but the
            model itself calls it an attack) and the project's face fixtures
            (digital press photos: what an *uploaded* photo gets);
            --lfw: the calibration photos of shared/calibration/lfw (read in place).
Attacks:    the model's two attack samples (F1, F2: real print/screen captures);
            synthetic stand-ins made here from every bona fide image: a print
            held in a room (paper margin, print gamut, tilt, on a wall) and a
            screen replay (subpixel grid, moire from resampling, raised blacks,
            glare, bezel). Synthetic attacks are WEAK stand-ins for real ones.

APCER = attacks accepted / attacks; BPCER = bona fide refused / bona fide.

    python bench/pad_quality.py [--lfw ../shared/calibration/lfw]
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.engine import EngineOptions, FaceEngine, PadOptions  # noqa: E402
from gateway.core.liveness import LIVE_SCORE  # noqa: E402
from tests.conftest import FACES  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "minifasnet"


def load(path: Path) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _wall(size: tuple[int, int], seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]]
    base = 150 + 40 * np.sin(x / 97.0 + seed) * np.cos(y / 131.0) + rng.normal(0, 4, (size[1], size[0]))
    tint = np.array([1.0, 0.95, 0.85])
    return Image.fromarray(np.clip(base[..., None] * tint, 0, 255).astype(np.uint8))


def printed(image: Image.Image, seed: int) -> Image.Image:
    """A print held in front of the camera: paper margin, duller colours, tilted, on a wall."""
    paper = ImageEnhance.Color(ImageEnhance.Contrast(image).enhance(0.8)).enhance(0.8)
    paper = ImageOps.expand(paper, border=max(6, paper.width // 30), fill=(238, 236, 230))
    frame = _wall((640, 480), seed)
    paper.thumbnail((int(640 * 0.75), int(480 * 0.9)))
    paper = paper.rotate(4 + seed % 5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0))
    mask = paper.convert("L").point(lambda v: 255 if v > 0 else 0)
    frame.paste(paper, ((640 - paper.width) // 2, (480 - paper.height) // 2), mask)
    return frame.filter(ImageFilter.GaussianBlur(0.6))


def screen(image: Image.Image, seed: int) -> Image.Image:
    """A phone/tablet screen replaying the photo, filmed: pixel grid, moire, raised blacks, glare, bezel."""
    shown = image.copy()
    shown.thumbnail((200, 200))
    pixels = np.asarray(shown.resize((shown.width * 3, shown.height * 3), Image.Resampling.NEAREST), np.float32)
    stripes = np.zeros_like(pixels)
    for channel in range(3):  # RGB subpixel columns
        stripes[:, channel::3, channel] = 1.0
    pixels = pixels * (0.35 + 0.65 * stripes) * 1.6
    pixels = 25 + pixels * (230 / 255) * np.array([0.95, 1.0, 1.08])  # backlight: raised blacks, blue cast
    h, w = pixels.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    glare = 60 * np.exp(-(((x - w * 0.7) / (w * 0.25)) ** 2 + ((y - h * 0.3) / (h * 0.3)) ** 2))
    pixels = np.clip(pixels + glare[..., None], 0, 255).astype(np.uint8)
    panel = ImageOps.expand(Image.fromarray(pixels), border=max(8, w // 20), fill=(12, 12, 14))
    frame = _wall((640, 480), seed + 7)
    panel.thumbnail((int(640 * 0.8), int(480 * 0.92)), Image.Resampling.BILINEAR)  # moire from resampling
    frame.paste(panel, ((640 - panel.width) // 2, (480 - panel.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(0.5))


def score(engine: FaceEngine, data: bytes) -> float | None:
    """The passive score of the image's one face (None: not exactly one face found)."""
    analysis = engine.analyze(data, want_descriptors=False, want_texture=True)
    return analysis.faces[0].texture_score if len(analysis.faces) == 1 else None


def report(name: str, scores: list[float | None], attack: bool) -> list[float]:
    found = [s for s in scores if s is not None]
    wrong = sum((s >= LIVE_SCORE) if attack else (s < LIVE_SCORE) for s in found)
    rate = "APCER" if attack else "BPCER"
    extreme = (f"highest {max(found):.3f}" if attack else f"lowest {min(found):.3f}") if found else ""
    near = sum(abs(s - LIVE_SCORE) < 0.1 for s in found)
    print(f"  {name:44} {rate} {wrong:>4} / {len(found):<4} = {wrong / max(1, len(found)):6.1%}   {extreme:14} "
          f"within 0.1 of the threshold: {near}   (no single face: {len(scores) - len(found)})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, default=None, help="a folder of photos (bench only, read in place)")
    args = parser.parse_args()
    engine = FaceEngine(EngineOptions(pad=PadOptions()))
    fixtures = sorted(p for p in FACES.iterdir() if p.suffix in (".jpg", ".png") and "group" not in p.name)
    live_samples = [SAMPLES / "image_T1.jpg"]
    bona_fide = [load(p) for p in live_samples + fixtures]
    print(f"threshold: live when the passive score >= {LIVE_SCORE}")
    print("bona fide")
    genuine = report("model's live capture sample (T1)", [score(engine, p.read_bytes()) for p in live_samples], False)
    genuine += report("project fixtures, digital photos", [score(engine, p.read_bytes()) for p in fixtures], False)
    print("  (T2, filed live by the authors, is judged an attack by the model itself: "
          f"{score(engine, (SAMPLES / 'image_T2.jpg').read_bytes()):.3f})")
    if args.lfw:
        photos = sorted(args.lfw.glob("*.jpg"))
        report(f"calibration photos ({args.lfw.name}), digital", [score(engine, p.read_bytes()) for p in photos],
               False)
    print("attacks")
    attacks = report("model's attack samples (F1, F2), real",
                     [score(engine, (SAMPLES / n).read_bytes()) for n in ("image_F1.jpg", "image_F2.jpg")], True)
    attacks += report("synthetic print held in a room (weak)",
                      [score(engine, jpeg(printed(im, i))) for i, im in enumerate(bona_fide)], True)
    attacks += report("synthetic screen replay (weak)",
                      [score(engine, jpeg(screen(im, i))) for i, im in enumerate(bona_fide)], True)
    if genuine and attacks:
        print(f"margin: lowest bona fide (T1 + fixtures) {min(genuine):.3f}, highest attack {max(attacks):.3f}, "
              f"threshold {LIVE_SCORE}")


if __name__ == "__main__":
    main()
