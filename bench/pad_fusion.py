"""Passive liveness: each bundled model alone and the fusions of both, on all the
material the project has or can make, with per-face latency; the fusion and
threshold the service ships are read from this.

Bona fide (should be live):
  real captures      the MiniFASNet project's live samples T1 and T2 (T2 is live: its authors file it so)
  fixtures           the project's face fixtures (digital press photos)
  clip frames        every fixture as a frame of the test clips, decoded: letterboxed 640x480 H.264,
                     portrait 480x640 stored sideways (rotation -90), 176x144 H.263 3GP
  calibration        --lfw: the calibration photos (read in place, bench only), judged as photos of people
  calibration        the same photos cropped to the largest centred square free of the black fill that the
    cropped          dataset's alignment warp (LFW deep-funneled) left in their corners: with it, a photo is a
                     tilted picture on a dark ground, which MiniFASNet takes for a held print (as it does the
                     letterboxed frames); squares under MIN_CROP pixels (the face would be cut) left out
Attacks (should be refused):
  real attacks       the MiniFASNet project's attack samples F1, F2 (real print/screen captures)
  synthetic print    bench/pad_quality.py's print held in a room, of every real capture and fixture (weak)
  synthetic screen   bench/pad_quality.py's screen replay, of the same (weak)
  replay clip frames the bench's screen replay and print of the "two poses" clip, decoded (weak)

Per face (one box from the engine's detector) each model's live probability is
cached in --cache, so sweeping fusions and thresholds costs nothing; delete the
file after a detector change.

    python bench/pad_fusion.py [--lfw ../shared/calibration/lfw] [--cache /tmp/pad_fusion.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pad_quality import SAMPLES, jpeg, load  # noqa: E402
from gateway.engine import FaceEngine  # noqa: E402
from gateway.engine.images import decode_image  # noqa: E402
from gateway.engine.pad import BUNDLED, FUSIONS  # noqa: E402
from gateway.engine.video import decode_frames  # noqa: E402
from tests.conftest import FACES  # noqa: E402
from tests.e2e.media import letterbox, printed, screen, video  # noqa: E402

LIVE, ATTACK = "live", "attack"
# Live groups of pictures in a dark frame, shown but left out of the limits (see the module doc).
FRAMED = ("letterboxed frames", "calibration")
MIN_CROP = 120
DARK = 14  # a pixel whose channels are all under this is part of the fill (JPEG leaves a few levels)


def fixtures() -> list[Path]:
    return sorted(p for p in FACES.iterdir() if p.suffix in (".jpg", ".png") and "group" not in p.name)


def filled(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The photo cropped to the frame's aspect and scaled to fill it (no border), as a camera frame is."""
    return ImageOps.fit(image, size, Image.Resampling.BILINEAR, centering=(0.5, 0.4))


def clip_frame(image: Image.Image, **how) -> np.ndarray:
    return decode_frames(video([image] * 2, **how))[0][1]


def alignment_fill(pixels: np.ndarray) -> np.ndarray:
    """Where the photo is the near-black fill of an alignment warp: dark regions touching the border."""
    dark = (pixels.max(axis=2) < DARK).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    edge = set(labels[0]) | set(labels[-1]) | set(labels[:, 0]) | set(labels[:, -1])
    return np.isin(labels, [i for i in edge if i and stats[i, cv2.CC_STAT_AREA] >= 30])


def inside_fill(pixels: np.ndarray) -> np.ndarray | None:
    """The largest centred square with at most 0.2% of alignment fill, or None when under MIN_CROP pixels."""
    fill = alignment_fill(pixels)
    height, width = fill.shape
    half = min(height, width) // 2
    while 2 * half >= MIN_CROP and fill[height // 2 - half:height // 2 + half,
                                         width // 2 - half:width // 2 + half].mean() > 0.002:
        half -= 2
    if 2 * half < MIN_CROP:
        return None
    return np.ascontiguousarray(pixels[height // 2 - half:height // 2 + half, width // 2 - half:width // 2 + half])


def material(lfw: Path | None) -> Iterator[tuple[str, str, str, callable]]:
    """(group, live or attack, name, a function giving RGB pixels), lazily."""
    def decoded(data: bytes):
        return lambda: decode_image(data)[0]
    captures = [SAMPLES / "image_T1.jpg", SAMPLES / "image_T2.jpg"]
    for path in captures:
        yield "real captures", LIVE, path.name, decoded(path.read_bytes())
    for path in fixtures():
        yield "fixtures", LIVE, path.name, decoded(path.read_bytes())
    for path in fixtures():
        image = load(path)
        yield "clip frames", LIVE, f"{path.name} 640x480", lambda image=image: clip_frame(filled(image, (640, 480)))
        yield "clip frames", LIVE, f"{path.name} portrait -90", \
            lambda image=image: clip_frame(filled(image, (480, 640)), rotation=-90)
        yield "clip frames", LIVE, f"{path.name} 3gp", \
            lambda image=image: clip_frame(filled(image, (176, 144)), container="3gp", codec="h263")
        yield "letterboxed frames", LIVE, f"{path.name} 640x480", lambda image=image: clip_frame(letterbox(image))
        yield "letterboxed frames", LIVE, f"{path.name} portrait -90", \
            lambda image=image: clip_frame(letterbox(image, (480, 640)), rotation=-90)
    for name in ("image_F1.jpg", "image_F2.jpg"):
        yield "real attacks", ATTACK, name, decoded((SAMPLES / name).read_bytes())
    bona_fide = [load(p) for p in captures[:1] + fixtures()]
    for i, image in enumerate(bona_fide):
        yield "synthetic print", ATTACK, f"print {i}", decoded(jpeg(printed(image, i)))
        yield "synthetic screen", ATTACK, f"screen {i}", decoded(jpeg(screen(image, i)))
    poses = [letterbox(load(FACES / "obama_1.jpg"))] * 3 + [letterbox(load(FACES / "obama_3.jpg"))] * 3
    for i, frame in enumerate(poses):
        yield "replay clip frames", ATTACK, f"screen replay {i}", lambda f=screen(frame, i): clip_frame(f)
        yield "replay clip frames", ATTACK, f"print replay {i}", lambda f=printed(frame, i): clip_frame(f)
    if lfw:
        for path in sorted(lfw.glob("*.jpg")):
            yield "calibration", LIVE, path.name, decoded(path.read_bytes())
        for path in sorted(lfw.glob("*.jpg")):
            yield "calibration cropped", LIVE, path.name, \
                lambda data=path.read_bytes(): inside_fill(decode_image(data)[0])


def measure(lfw: Path | None, cache: Path) -> list[dict]:
    known = {(r["group"], r["name"]): r for r in json.loads(cache.read_text())} if cache.exists() else {}
    engine, models = FaceEngine(), {name: make() for name, make in BUNDLED.items()}
    rows = []
    for group, kind, name, pixels_of in material(lfw):
        if (group, name) in known:
            rows.append(known[(group, name)])
            continue
        pixels = pixels_of()
        if pixels is None:
            continue
        faces = engine.analyze_pixels(pixels, want_descriptors=False).faces
        row = {"group": group, "kind": kind, "name": name, "faces": len(faces)}
        if len(faces) == 1:
            row["box"] = list(map(int, faces[0].box))
            for model_name, model in models.items():
                start = time.perf_counter()
                row[model_name] = model.score(pixels, faces[0].box)
                row[f"{model_name}_ms"] = (time.perf_counter() - start) * 1000
        rows.append(row)
        if len(rows) % 100 == 0:
            cache.write_text(json.dumps(rows))
    cache.write_text(json.dumps(rows))
    return rows


def scorers() -> dict[str, callable]:
    out = {name: (lambda row, name=name: row[name]) for name in BUNDLED}
    for fusion, fuse in FUSIONS.items():
        out[fusion] = lambda row, fuse=fuse: fuse([row[name] for name in BUNDLED])
    return out


def table(rows: list[dict], threshold_of: dict[str, float]) -> None:
    groups = list(dict.fromkeys(r["group"] for r in rows))
    print(f"{'scorer':12} {'thr':>5} " + " ".join(f"{g[:16]:>17}" for g in groups))
    for scorer_name, scorer in scorers().items():
        threshold = threshold_of.get(scorer_name, 0.5)
        cells = []
        for group in groups:
            scored = [r for r in rows if r["group"] == group and "box" in r]
            wrong = sum((scorer(r) < threshold) if r["kind"] == LIVE else (scorer(r) >= threshold) for r in scored)
            sign = "-" if scored and scored[0]["kind"] == LIVE else "+"
            cells.append(f"{sign}{wrong:>4}/{len(scored):<4}{wrong / len(scored):6.1%}" if scored else "")
        print(f"{scorer_name:12} {threshold:5.2f} " + " ".join(f"{c:>17}" for c in cells))
    print("(-: live refused, +: attacks accepted; faces with not exactly one face left out)")


def sweep(rows: list[dict]) -> None:
    """Per scorer and threshold: live refused per live group (those in FRAMED, pictures in a dark frame, left out)
    and attacks accepted, in all and among those MiniFASNet alone refuses at 0.5 ("newly")."""
    scored = [r for r in rows if "box" in r]
    live_groups = [g for g in dict.fromkeys(r["group"] for r in scored if r["kind"] == LIVE) if g not in FRAMED]
    attacks = [r for r in scored if r["kind"] == ATTACK]
    print(f"{'scorer':12} {'thr':>5} " + " ".join(f"{g[:14]:>14}" for g in live_groups) + "  attacks accepted (newly)")
    for scorer_name, scorer in scorers().items():
        for threshold in np.arange(0.3, 0.81, 0.05):
            refused = [np.mean([scorer(r) < threshold for r in scored if r["group"] == g]) for g in live_groups]
            accepted = [r for r in attacks if scorer(r) >= threshold]
            newly = [r for r in accepted if r["minifasnet"] < 0.5]
            both = "  <- both limits" if max(refused) <= 0.05 and not newly else ""
            print(f"{scorer_name:12} {threshold:5.2f} " + " ".join(f"{x:14.1%}" for x in refused)
                  + f"  {len(accepted):>3}/{len(attacks)} ({len(newly)}: "
                  + ", ".join(sorted({r['group'] for r in newly})) + f"){both}")


def forced(rows: list[dict], models: tuple[str, ...] = tuple(BUNDLED)) -> list[dict]:
    """The live faces that every fusion rising with each model's probability, at any threshold, must refuse if it
    refuses every attack MiniFASNet alone refuses at 0.5: those scoring no higher, on every model, than one of
    those attacks."""
    caught = [r for r in rows if r["kind"] == ATTACK and "box" in r and r["minifasnet"] < 0.5]
    return [r for r in rows if r["kind"] == LIVE and "box" in r
            and any(all(r[m] <= a[m] for m in models) for a in caught)]


def bound(rows: list[dict]) -> None:
    refused = forced(rows)
    for group in dict.fromkeys(r["group"] for r in rows if r["kind"] == LIVE and "box" in r):
        total = sum(r["group"] == group and "box" in r for r in rows)
        count = sum(r["group"] == group for r in refused)
        print(f"  {group:20} {count:>4}/{total:<5} {count / total:6.1%}")


def latency(rows: list[dict]) -> None:
    timed = [r for r in rows if all(f"{name}_ms" in r for name in BUNDLED)]
    columns = {name: [r[f"{name}_ms"] for r in timed] for name in BUNDLED}
    columns["both (fused)"] = [sum(r[f"{name}_ms"] for name in BUNDLED) for r in timed]
    for name, times in columns.items():
        print(f"  {name:12} per face: p50 {np.percentile(times, 50):.1f} ms, p90 {np.percentile(times, 90):.1f} ms "
              f"({len(times)} faces, crop and inference, one thread)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, default=None, help="a folder of photos (bench only, read in place)")
    parser.add_argument("--cache", type=Path, default=Path("pad_fusion.json"))
    args = parser.parse_args()
    rows = measure(args.lfw, args.cache)
    print("at each scorer's 0.5:")
    table(rows, {})
    print("thresholds (limits: live refused <= 5% in every live group but the framed ones, no attack accepted that "
          "MiniFASNet refuses):")
    sweep(rows)
    print("refused by any fusion rising with both models that accepts no attack MiniFASNet alone refuses:")
    bound(rows)
    print("latency:")
    latency(rows)


if __name__ == "__main__":
    main()
