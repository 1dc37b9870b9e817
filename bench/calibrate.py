"""Accuracy on the calibration photos (LFW, ../shared/calibration/lfw): every
genuine and impostor pair, for the previous engine (dlib HOG + ResNet) and the
current one (YuNet + SFace), side by side; the verification threshold and the
PhotoVerify levels read from the measured impostor scores, next to the values
in gateway/engine/encoders/sface.py; and (--quality) the false non-match rate of small,
blurred, dark and turned faces at the threshold, which sets the quality
minimums below which the engine refuses a face.

These are the network's figures, on the most central face of every photo. What
the service delivers (its face choice, refusals and error codes, offline and
over gRPC) is measured by bench/service_accuracy.py.

    python bench/calibrate.py [--quality] [--people 150]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dlib_reference import DlibReference  # noqa: E402

from gateway.core import calibration, scoring  # noqa: E402
from gateway.engine import EngineOptions, FaceEngine, QualityLimits  # noqa: E402
from gateway.engine import quality  # noqa: E402
from gateway.engine.encoders.sface import align  # noqa: E402

LFW = ROOT.parent / "shared" / "calibration" / "lfw"
FMRS = (0.01, 0.001, 0.0001)
# Below this many impostor pairs above a threshold, a rate read there is an extrapolation.
MIN_PAIRS_PAST = 10


def people(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob("*.jpg")):
        found[path.name.split("__")[0]].append(path)
    return {name: paths for name, paths in found.items() if len(paths) >= 2}


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _central(boxes: list[tuple[float, float, float, float]], image: np.ndarray) -> int:
    """The index of the box nearest the picture's centre (LFW's labelled face is centred)."""
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    return min(range(len(boxes)), key=lambda i: math.hypot((boxes[i][0] + boxes[i][2]) / 2 - cx,
                                                           (boxes[i][1] + boxes[i][3]) / 2 - cy))


def central_descriptor(engine: FaceEngine, image: np.ndarray) -> np.ndarray | None:
    found = engine._finder.find(image, engine.options.detect_max_side).faces
    if not found:
        return None
    chosen = found[_central([d.box for d in found], image)]
    return engine._encoder.describe(align(image, chosen.points))


def central_dlib_descriptor(reference: DlibReference, image: np.ndarray) -> np.ndarray | None:
    found = reference.detect(image)
    if not found:
        return None
    chosen = found[_central([(r.left(), r.top(), r.right(), r.bottom()) for r in found], image)]
    return reference.describe(image, chosen)


def pair_cosines(vectors: dict[Path, np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Genuine cosines (-inf where a photo gave no descriptor) and impostor cosines (pairs with both)."""
    names = list(vectors)
    owner = np.array([p.name.split("__")[0] for p in names])
    genuine = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            if owner[i] == owner[j]:
                va, vb = vectors[a], vectors[names[j]]
                genuine.append(-math.inf if va is None or vb is None else float(np.dot(va, vb)))
    found = [i for i, p in enumerate(names) if vectors[p] is not None]
    matrix = np.stack([vectors[names[i]] for i in found])
    cosines = matrix @ matrix.T
    different = owner[found][:, None] != owner[found][None, :]
    upper = np.triu(np.ones_like(different), 1)
    return np.array(genuine), cosines[different & upper.astype(bool)]


def cosine_at_fmr(impostors: np.ndarray, fmr: float) -> float:
    """The lowest cosine that at most `fmr` of the impostor pairs reach."""
    ranked = np.sort(impostors)[::-1]
    allowed = int(math.floor(fmr * len(ranked)))
    return float(np.nextafter(ranked[allowed], np.inf))


def tail_extrapolation(impostors: np.ndarray, fmr: float, fit_from: float = 0.001) -> float:
    """The cosine at `fmr` from an exponential fit of the impostor tail above the
    `fit_from` quantile (log survival linear in the cosine)."""
    ranked = np.sort(impostors)[::-1]
    top = ranked[: max(MIN_PAIRS_PAST, int(fit_from * len(ranked)))]
    survival = np.arange(1, len(top) + 1) / len(ranked)
    slope, intercept = np.polyfit(top, np.log(survival), 1)
    return float((math.log(fmr) - intercept) / slope)


def describe(name: str, genuine: np.ndarray, impostors: np.ndarray, photos: int, missing: int) -> None:
    print(f"\n{name}: {photos} photos, no face found in {missing} (the most central face of the others); "
          f"{len(genuine)} genuine pairs, {len(impostors)} impostor pairs")
    for fmr in FMRS:
        at = cosine_at_fmr(impostors, fmr)
        print(f"  FMR {fmr:>7.2%}: cosine >= {at:.4f}, FNMR {np.mean(genuine < at):.2%} "
              f"({np.mean(genuine[np.isfinite(genuine)] < at):.2%} of the pairs where both faces were found)")


def levels(impostors: np.ndarray) -> None:
    print("\nPhotoVerify levels (current engine): distance limits read from the impostor pairs")
    print(f"  {'level':6} {'FAR':>8} {'pairs past':>10} {'measured':>9} {'in code':>8} {'FAR in code':>11}  source")
    for level, far in calibration.LEVEL_FAR.items():
        supported = far * len(impostors) >= MIN_PAIRS_PAST
        cosine = cosine_at_fmr(impostors, far) if supported else tail_extrapolation(impostors, far)
        limit = calibration.LEVEL_DISTANCE[level]
        measured_far = float(np.mean(np.sqrt(np.maximum(0, 2 - 2 * impostors)) <= limit))
        print(f"  {level:6} {far:>8.3%} {far * len(impostors):>10.1f} {math.sqrt(2 - 2 * cosine):>9.4f} "
              f"{limit:>8.4f} {measured_far:>11.4%}  {'measured' if supported else 'extrapolated (tail fit)'}")


def threshold_report(genuine: np.ndarray, impostors: np.ndarray) -> None:
    cosine = scoring.cosine_from_score(0.5)
    print(f"\ndefault threshold (score 0.5 = cosine {cosine:.4f}, calibration.VERIFY_COSINE "
          f"{calibration.VERIFY_COSINE}): FMR {np.mean(impostors >= cosine):.3%} "
          f"({int(np.sum(impostors >= cosine))} of {len(impostors)}), FNMR {np.mean(genuine < cosine):.2%}")


def face_sharpness(engine: FaceEngine, image: np.ndarray) -> float:
    """The Sharpness check's measure (variance of the Laplacian of the aligned face) of the largest face."""
    found = max(engine._finder.find(image, engine.options.detect_max_side).faces, key=lambda d: d.box[2] - d.box[0])
    return quality.laplacian_variance(align(image, found.points).mean(axis=2))


def degrade_report(engine: FaceEngine, groups: dict[str, list[Path]], clean: dict[Path, np.ndarray | None],
                   count: int) -> None:
    """FNMR at the threshold when the first photo of a genuine pair is degraded (the second stays clean)."""
    cosine = scoring.cosine_from_score(0.5)
    pairs = [(paths[0], paths[1]) for paths in list(groups.values())[:count] if clean[paths[1]] is not None]

    def run(label: str, change: Callable[[Image.Image, float], Image.Image | None]) -> None:
        found = refused = matched = tried = 0
        eyes, sharpness = [], []
        for a, b in pairs:
            image = Image.open(a).convert("RGB")
            before = engine.analyze_pixels(np.asarray(image), want_descriptors=False)
            if len(before.faces) != 1:
                continue
            eye = before.faces[0].left_eye.x - before.faces[0].right_eye.x
            changed = change(image, float(math.hypot(eye, before.faces[0].left_eye.y - before.faces[0].right_eye.y)))
            if changed is None:
                continue
            tried += 1
            analysis = engine.analyze_pixels(np.asarray(changed))
            found += len(analysis.faces) == 1
            if len(analysis.faces) == 1:
                face = analysis.faces[0]
                eyes.append(math.hypot(face.left_eye.x - face.right_eye.x, face.left_eye.y - face.right_eye.y))
                sharpness.append(face_sharpness(engine, np.asarray(changed)))
                refused += face.descriptor is None
                matched += face.descriptor is not None and float(np.dot(face.descriptor, clean[b])) >= cosine
        if tried:
            print(f"  {label:28} {tried:>5} {found / tried:>8.1%} {refused / tried:>8.1%} {1 - matched / tried:>8.1%}"
                  f"  (medians: eyes {np.median(eyes) if eyes else 0:.0f} px, "
                  f"sharpness {np.median(sharpness) if sharpness else 0:.1f})")

    print(f"\nDegraded faces ({len(pairs)} genuine pairs, first photo degraded), FNMR at the default threshold:")
    print(f"  {'condition':28} {'pairs':>5} {'found':>8} {'refused':>8} {'FNMR':>8}")
    run("none", lambda im, eye: im)
    for target in (32, 24, 16, 12, 10, 8, 6):
        run(f"eyes {target} px apart", lambda im, eye, t=target: None if t >= eye else
            im.resize((max(1, round(im.width * t / eye)), max(1, round(im.height * t / eye))),
                      Image.Resampling.BILINEAR))
    for sigma in (0.05, 0.1, 0.15, 0.2, 0.3):
        run(f"blur {sigma:.2f} eye distances", lambda im, eye, s=sigma: im.filter(ImageFilter.GaussianBlur(s * eye)))
    for factor in (0.5, 0.25, 0.15, 0.08, 0.04, 0.02):
        run(f"brightness x{factor}", lambda im, eye, f=factor: ImageEnhance.Brightness(im).enhance(f))


def pose_report(engine: FaceEngine, groups: dict[str, list[Path]], clean: dict[Path, np.ndarray | None]) -> None:
    """FNMR at the threshold by how turned the more turned face of a genuine pair is (HeadPose check)."""
    cosine = scoring.cosine_from_score(0.5)
    pose: dict[Path, float] = {}
    for paths in groups.values():
        for path in paths:
            analysis = engine.analyze_pixels(pixels(path), want_descriptors=False)
            if len(analysis.faces) == 1:
                pose[path] = {c.check: c.score for c in analysis.faces[0].checks}["HeadPose"]
    bins: dict[str, list[bool]] = defaultdict(list)
    for paths in groups.values():
        for i, a in enumerate(paths):
            for b in paths[i + 1:]:
                if a in pose and b in pose and clean[a] is not None and clean[b] is not None:
                    worst = min(pose[a], pose[b])
                    label = next(f"HeadPose >= {edge:.2f}" for edge in (0.8, 0.6, 0.45, 0.3, 0.0) if worst >= edge)
                    bins[label].append(float(np.dot(clean[a], clean[b])) < cosine)
    print("\nTurned faces (natural poses of the calibration photos), FNMR at the default threshold:")
    for label in sorted(bins, reverse=True):
        print(f"  {label:28} {len(bins[label]):>5} pairs  FNMR {np.mean(bins[label]):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, default=LFW)
    parser.add_argument("--quality", action="store_true", help="also measure degraded and turned faces")
    parser.add_argument("--people", type=int, default=150, help="genuine pairs to degrade (--quality)")
    parser.add_argument("--no-dlib", action="store_true", help="skip the previous engine")
    args = parser.parse_args()
    if not args.lfw.is_dir():
        print(f"calibration photos not found at {args.lfw}: nothing to measure (see the README, Accuracy)")
        return
    groups = people(args.lfw)
    paths = [p for group in groups.values() for p in group]
    # Measures the network, so nothing is refused on quality here.
    unrefused = QualityLimits(usable_eye_distance=0, usable_sharpness=0, usable_brightness=0)
    engine = FaceEngine(EngineOptions(quality_limits=unrefused))
    started = time.perf_counter()
    current, group_photos = {}, 0
    for p in paths:
        image = pixels(p)
        current[p] = central_descriptor(engine, image)
        group_photos += len(engine.analyze_pixels(image, want_descriptors=False).faces) > 1
    print(f"current engine (YuNet + SFace): {time.perf_counter() - started:.0f} s for {len(paths)} photos; "
          f"{group_photos} photos show faces of similar size that no bystander rule removes: the service refuses "
          "those as MultipleFacesFound (BWS_MULTIPLE_FACES=refuse)")
    genuine, impostors = pair_cosines(current)
    if not args.no_dlib:
        reference = DlibReference()
        started = time.perf_counter()
        old = {p: central_dlib_descriptor(reference, pixels(p)) for p in paths}
        print(f"previous engine (dlib HOG + ResNet): {time.perf_counter() - started:.0f} s")
        describe("previous engine (dlib HOG + ResNet)", *pair_cosines(old), len(paths),
                 sum(v is None for v in old.values()))
    describe("current engine (YuNet + SFace)", genuine, impostors, len(paths), sum(v is None for v in current.values()))
    threshold_report(genuine, impostors)
    levels(impostors)
    if args.quality:
        degrade_report(engine, groups, current, args.people)
        pose_report(engine, groups, current)


if __name__ == "__main__":
    main()
