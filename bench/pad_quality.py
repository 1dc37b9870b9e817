"""Passive liveness as the service ships it (the bundled models fused, see
bench/pad_fusion.py for each model alone): decisions and margin on the
material whose source we can name, at the service's threshold (LIVE_SCORE).

Bona fide:  the MiniFASNet project's live samples (T1 and T2; MiniFASNet alone
            judges T2 an attack, a model error) and the project's face fixtures
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

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.engine import EngineOptions, FaceEngine, PadOptions  # noqa: E402
from gateway.core.liveness import LIVE_SCORE  # noqa: E402
from tests.conftest import FACES  # noqa: E402
from tests.e2e.media import printed, screen  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "minifasnet"


def load(path: Path) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


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
    live_samples = [SAMPLES / "image_T1.jpg", SAMPLES / "image_T2.jpg"]
    bona_fide = [load(p) for p in live_samples[:1] + fixtures]  # the synthetic attacks: T1 and the fixtures
    print(f"threshold: live when the passive score >= {LIVE_SCORE}")
    print("bona fide")
    genuine = report("live capture samples (T1, T2)", [score(engine, p.read_bytes()) for p in live_samples], False)
    genuine += report("project fixtures, digital photos", [score(engine, p.read_bytes()) for p in fixtures], False)
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
