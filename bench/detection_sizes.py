"""Faces of every size, and what finding them costs: the scenes of the tests
(tests/gateway/engine/scenes.py: a real photo's face from 20 px to filling a
4000 px frame, landscape, portrait, EXIF-rotated) on the live-image and
ID-photo paths, and whole-image analysis time (decoding to descriptor) of
ordinary photos (the fixture photos, 374 to 2333 px), one core.

    python bench/detection_sizes.py run [--code CHECKOUT] --label NAME [--rounds 5]
    python bench/detection_sizes.py report BEFORE AFTER
    python bench/detection_sizes.py time BEFORE AFTER [...]   # ordinary photos: runs alternated, medians

--code runs another checkout's engine (e.g. today's main, for "before").
Results are cached in $BWS_BENCH_CACHE like bench/service_accuracy.py.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from service_accuracy import load, save  # noqa: E402

ORDINARY = ["obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "biden_1.jpg", "biden_2.jpg", "kit_harington_1.jpg",
            "kit_harington_2.jpg", "rose_leslie_1.jpg", "rose_leslie_2.jpg", "alex_lacamoire_1.png",
            "alex_lacamoire_2.jpg", "lin_manuel_miranda_1.png", "group_two_faces.jpg", "obama_partial.jpg"]
MORE = [(20, 1200, 1600), (30, 4000, 3000), (60, 4000, 3000), (400, 4000, 3000)]


def run(rounds: int, scenes_too: bool = True) -> dict:
    from gateway.engine import FaceEngine
    from tests.conftest import face

    scenes_module = _scenes()
    Scene, jpeg = scenes_module.Scene, scenes_module.jpeg
    engine = FaceEngine()
    scenes = scenes_module.SIZES + [Scene(*m) for m in MORE] if scenes_too else []
    result: dict = {"scenes": np.array([s.name for s in scenes])}
    for path, small in (("live", False), ("id", True)):
        found, ms = [], []
        for scene in scenes:
            data = jpeg(scene)
            started = time.perf_counter()
            analysis = engine.analyze(data, small_faces=small)
            ms.append((time.perf_counter() - started) * 1000)
            found.append(len(analysis.faces) == 1)
        result[f"{path}_found"], result[f"{path}_ms"] = np.array(found), np.array(ms)
    photos = [face(name) for name in ORDINARY]
    for data in photos:  # warm-up
        engine.analyze(data)
    per_round = []
    for _ in range(rounds):
        started = time.perf_counter()
        for data in photos:
            engine.analyze(data)
        per_round.append((time.perf_counter() - started) / len(photos) * 1000)
    result["ordinary_ms"] = np.array(per_round)
    return result


def _scenes():
    """This checkout's scenes module (the other checkout may have none)."""
    spec = importlib.util.spec_from_file_location("scenes", ROOT / "tests" / "gateway" / "engine" / "scenes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scenes"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def report(before: dict, after: dict) -> None:
    print(f"{'scene':28} {'live: before':>14} {'after':>14} {'ID photo: before':>18} {'after':>14}")
    for i, name in enumerate(after["scenes"]):
        cells = []
        for path in ("live", "id"):
            for r in (before, after):
                cells.append(f"{'found' if r[f'{path}_found'][i] else 'missed'} {r[f'{path}_ms'][i]:>5.0f} ms")
        print(f"{name:28} {cells[0]:>14} {cells[1]:>14} {cells[2]:>18} {cells[3]:>14}")
    b, a = statistics.median(before["ordinary_ms"]), statistics.median(after["ordinary_ms"])
    print(f"\nordinary photos ({len(ORDINARY)}), whole-image analysis: before {b:.1f} ms, after {a:.1f} ms per image "
          f"({a / b:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("run", "report", "time"))
    parser.add_argument("labels", nargs="*")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--label", default="sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ordinary-only", action="store_true", help="only the ordinary photos' analysis time")
    args = parser.parse_args()
    if args.mode == "time":
        times = {label: statistics.median(load(label)["ordinary_ms"]) for label in args.labels}
        for label, ms in times.items():
            print(f"{label}: {ms:.1f} ms per image")
        befores = [ms for label, ms in times.items() if "before" in label]
        afters = [ms for label, ms in times.items() if "before" not in label]
        print(f"median of runs: before {statistics.median(befores):.1f} ms, after {statistics.median(afters):.1f} ms "
              f"({statistics.median(afters) / statistics.median(befores):.2f}x)")
        return
    if args.mode == "report":
        report(load(args.labels[0]), load(args.labels[1]))
        return
    sys.path.insert(0, str(args.code.resolve()))
    os.chdir(args.code)
    save(args.label, run(args.rounds, not args.ordinary_only))


if __name__ == "__main__":
    main()
