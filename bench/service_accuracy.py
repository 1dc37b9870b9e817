"""Accuracy as the service delivers it, on the calibration photos (LFW,
../shared/calibration/lfw): each photo enrolled as a class of its own, every
other photo verified against it.

- `engine`: the calls' code path in-process: FaceEngine.analyze() on the
  photo's bytes with the service's options (its face choice, quality
  refusals), the error code Enroll and Verify would answer, the score
  Verify computes and the default threshold.
- `degraded`: each person's first photo made grey, faded, low in contrast,
  small, or JPEG 30: found, and still matching the person's second photo.
- `options`: a horizontally flipped second pass averaged into the descriptor,
  and how a template of several vectors is scored (best vector, mean vector,
  mean of scores).
- `grpc`: the same through a running service: one Enroll per photo, then
  Search calls (20 photos each, every class ranked: BWS_SEARCH_TOP_N is
  raised) give every pair's Verify score; a sample of Verify calls checks
  they are Verify's scores.

Reported: failure to enroll (and why), FNMR at FMR 1% and 0.1% (a photo that
fails counts as a miss in each of its genuine pairs), FMR and FNMR at the
default threshold, and the photos whose face is so unlike every other photo
of the person that the face used is likely someone else.

    python bench/service_accuracy.py engine|grpc|degraded|options [--code CHECKOUT] [--multiple-faces refuse|primary]
        [--label NAME]                  # results cached in $BWS_BENCH_CACHE/<NAME>.npz
    python bench/service_accuracy.py report NAME [NAME ...]

--code runs another checkout's engine or service (e.g. today's main, for
"before" figures): its `gateway` is imported instead of this one.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The shared folder beside the checkout (or beside the worktrees' folder).
LFW = next((p / "shared" / "calibration" / "lfw" for p in ROOT.parents if (p / "shared" / "calibration").is_dir()),
           ROOT.parent / "shared" / "calibration" / "lfw")
CACHE = Path(os.environ.get("BWS_BENCH_CACHE", Path(tempfile.gettempdir()) / "bws-bench"))
FMRS = (0.01, 0.001)
BATCH = 20  # images per Search call (the service's max_images)


def photos(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jpg"))


def person(path: Path) -> str:
    return path.name.split("__")[0]


def error_code(analysis) -> str:
    """The code Enroll answers for an analysis without a usable face ('' when it has one)."""
    if analysis.face is not None:
        return ""
    try:
        from gateway.core.job_errors import enrollment_error
    except ImportError:  # the package's earlier layout
        from gateway.recognition import no_usable_face_error as enrollment_error
    return enrollment_error([analysis]).error_code


def _scoring():
    try:
        from gateway.core import scoring
    except ImportError:  # the package's earlier layout
        from gateway import scoring
    return scoring


def run_engine(paths: list[Path], multiple_faces: str) -> dict:
    from gateway.engine import EngineOptions, FaceEngine

    options = EngineOptions()
    if hasattr(options, "multiple_faces"):
        options = EngineOptions(multiple_faces=multiple_faces)
    engine = FaceEngine(options)
    engine.analyze(paths[0].read_bytes())  # warm-up
    codes, vectors, seconds, found = [], np.full((len(paths), 128), np.nan, np.float32), [], []
    for i, path in enumerate(paths):
        data = path.read_bytes()
        started = time.perf_counter()
        analysis = engine.analyze(data)
        seconds.append(time.perf_counter() - started)
        codes.append(error_code(analysis))
        found.append(len(analysis.faces))
        if analysis.face is not None:
            vectors[i] = analysis.face.descriptor
    scoring = _scoring()
    cosines = vectors @ vectors.T
    scores = np.vectorize(lambda c: scoring.score_from_cosine(c) if np.isfinite(c) else np.nan)(cosines)
    return {"codes": np.array(codes), "scores": scores, "enrolled": np.array([c == "" for c in codes]),
            "probed": np.array([c == "" for c in codes]), "seconds": np.array(seconds), "found": np.array(found)}


def run_grpc(paths: list[Path], multiple_faces: str, workers: int) -> dict:
    from bws_proto import bwsmessages_pb2 as msg
    from bws_proto import facerecognition_pb2 as fr
    from bws_proto import facerecognition_pb2_grpc as fr_grpc
    from templates_store import KeyRing
    from templates_store.embedded import EmbeddedRedis
    from tests.conftest import start_service, stop_service, write_clients_file

    import grpc

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        redis = EmbeddedRedis(tmp / "redis").start()
        clients = write_clients_file(tmp / "clients.json")
        (tmp / "keys.json").write_text(KeyRing.generate("bench").to_json())
        target, process, _, _ = start_service(tmp, redis.url, tmp / "clients.json", tmp / "keys.json",
                                              BWS_WORKERS=str(workers), BWS_LOG_LEVEL="WARNING",
                                              BWS_SEARCH_TOP_N=str(len(paths) + 10), BWS_PAD="off",
                                              BWS_MULTIPLE_FACES=multiple_faces)
        channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)])
        stub = fr_grpc.FaceRecognitionStub(channel)
        metadata = clients["tenant-a"].metadata()
        try:
            images = [p.read_bytes() for p in paths]

            def enroll(i: int) -> str:
                answer = stub.Enroll(fr.FaceEnrollmentRequest(classId=i + 1, images=[msg.ImageData(image=images[i])]),
                                     metadata=metadata, timeout=120)
                return answer.errors[0].error_code if answer.errors else ""

            def search(start: int) -> list:
                batch = [msg.ImageData(image=image) for image in images[start:start + BATCH]]
                return list(stub.Search(fr.FaceSearchRequest(images=batch, top_matches=True), metadata=metadata,
                                        timeout=300).result)

            started = time.perf_counter()
            with ThreadPoolExecutor(2 * workers) as pool:
                codes = list(pool.map(enroll, range(len(paths))))
                enrolled_seconds = time.perf_counter() - started
                results = [r for rs in pool.map(search, range(0, len(paths), BATCH)) for r in rs]
            scores = np.full((len(paths), len(paths)), np.nan)
            probed = np.zeros(len(paths), bool)
            for j, result in enumerate(results):
                probed[j] = len(result.matches) > 0
                for match in result.matches:
                    scores[match.classId - 1, j] = match.score
            checked = verify_sample(stub, fr, msg, metadata, images, paths, scores)
        finally:
            channel.close()
            stop_service(process)
            redis.stop()
    print(f"gRPC: {len(paths)} Enrolls in {enrolled_seconds:.0f} s; {checked}")
    return {"codes": np.array(codes), "scores": scores, "enrolled": np.array([c == "" for c in codes]),
            "probed": probed, "seconds": np.array([]), "found": np.array([])}


def verify_sample(stub, fr, msg, metadata, images, paths, scores, count: int = 100) -> str:
    """Verify calls on the first `count` genuine pairs whose class exists: the largest gap to Search's score."""
    pairs = [(i, j) for i, j in genuine_pairs(paths) if np.isfinite(scores[i, j])][:count]
    gap = 0.0
    for i, j in pairs:
        answer = stub.Verify(fr.FaceVerificationRequest(classId=i + 1, image=msg.ImageData(image=images[j])),
                             metadata=metadata, timeout=120)
        gap = max(gap, abs(answer.score - scores[i, j]))
    return f"{len(pairs)} Verify calls agree with Search's scores within {gap:.2g}"


def degrade(image, kind: str):
    """A degraded copy of a PIL image: what old or poor photos look like."""
    from PIL import Image, ImageEnhance

    if kind == "grey":
        return image.convert("L").convert("RGB")
    if kind == "faded":  # washed out towards old paper, colours gone pale
        paper = Image.new("RGB", image.size, (232, 222, 200))
        return Image.blend(ImageEnhance.Color(image).enhance(0.4), paper, 0.6)
    if kind == "low contrast":
        return ImageEnhance.Contrast(image).enhance(0.2)
    if kind == "dark low contrast":
        return ImageEnhance.Brightness(ImageEnhance.Contrast(image).enhance(0.3)).enhance(0.35)
    if kind == "small":  # 250 px photos at 72 px: faces about 30 px wide
        return image.resize((72, 72), Image.Resampling.LANCZOS)
    if kind == "old scan":  # faded, small and badly compressed
        return degrade(degrade(degrade(image, "faded"), "grey"), "small")
    return image


DEGRADATIONS = ("none", "grey", "faded", "low contrast", "dark low contrast", "small", "JPEG 30", "old scan")


def run_degraded(paths: list[Path]) -> dict:
    """Each person's first photo degraded: found (one face used), and matching the person's clean second photo."""
    import io

    from PIL import Image

    from gateway.engine import FaceEngine

    scoring = _scoring()
    engine = FaceEngine()
    firsts, seconds = {}, {}
    for path in paths:
        (seconds if person(path) in firsts else firsts).setdefault(person(path), path)
    clean = {name: engine.analyze(p.read_bytes()).face for name, p in seconds.items()}
    result = {}
    for kind in DEGRADATIONS:
        found = matched = tried = 0
        for name, path in firsts.items():
            if clean.get(name) is None:
                continue
            buffer = io.BytesIO()
            degrade(Image.open(path).convert("RGB"), kind).save(buffer, "JPEG",
                                                                 quality=30 if kind in ("JPEG 30", "old scan") else 92)
            analysis = engine.analyze(buffer.getvalue())
            tried += 1
            found += analysis.face is not None
            matched += analysis.face is not None and \
                scoring.score(analysis.face.descriptor, clean[name].descriptor) >= 0.5
        result[kind] = np.array([tried, found, matched])
        print(f"  {kind:18} {tried:>5} pairs: face used {found / tried:7.1%}, matching {matched / tried:7.1%}",
              flush=True)
    return result


def run_options(paths: list[Path]) -> dict:
    """Descriptors of the face each photo gives, plain and with a horizontally flipped second pass averaged in
    (and that pass's time), for the accuracy options (report_options)."""
    import cv2
    from PIL import Image

    from gateway.engine import ENCODER, FaceEngine, contrast
    from gateway.engine.choice import choose

    engine = FaceEngine()
    plain, flipped, extra = np.zeros((len(paths), 128), np.float32), np.zeros((len(paths), 128), np.float32), []
    for i, path in enumerate(paths):
        image = np.asarray(Image.open(path).convert("RGB"))
        found = engine._finder.find(image, engine.options.detect_max_side)
        face = choose(found.faces, image.shape[1], image.shape[0], "primary").primary
        if face is None:
            continue
        chip = contrast.for_description(ENCODER.align(found.pixels, face.points))
        plain[i] = engine._encoder.describe(chip)
        started = time.perf_counter()
        mirror = engine._encoder.describe(np.ascontiguousarray(cv2.flip(chip, 1)))
        both = plain[i] + mirror
        flipped[i] = both / np.linalg.norm(both)
        extra.append(time.perf_counter() - started)
    return {"plain": plain, "flipped": flipped, "extra_seconds": np.array(extra)}


def report_options(paths: list[Path], result: dict) -> None:
    owners = np.array([person(p) for p in paths])
    different = owners[:, None] != owners[None, :]
    upper = np.triu(np.ones_like(different, bool), 1)
    pairs = genuine_pairs(paths)
    print(f"\nflipped second pass: +{np.median(result['extra_seconds']) * 1000:.1f} ms per face (median)")
    for name in ("plain", "flipped"):
        cosines = result[name] @ result[name].T
        impostors, genuine = cosines[different & upper], np.array([cosines[i, j] for i, j in pairs])
        print(f"  {name:8}{fnmrs(genuine, impostors)}")
    template_scoring(paths, owners, result["plain"])


def template_scoring(paths: list[Path], owners: np.ndarray, vectors: np.ndarray) -> None:
    """People with three or four photos: all but the last enrolled in one template, the last one verified against
    every template; the template scored by its best vector, its mean vector, or the mean of its vectors' cosines."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(owners):
        groups.setdefault(name, []).append(i)
    people = [name for name, members in groups.items() if len(members) >= 3]
    templates = {name: vectors[groups[name][:-1]] for name in people}
    probes = {name: vectors[groups[name][-1]] for name in people}
    rules = {"best vector": lambda t, p: float(np.max(t @ p)),
             "mean vector": lambda t, p: float(np.dot(t.mean(axis=0) / np.linalg.norm(t.mean(axis=0)), p)),
             "mean of scores": lambda t, p: float(np.mean(t @ p))}
    print(f"  templates of 2-3 photos ({len(people)} people), the person's other photo verified against each:")
    for rule, scored in rules.items():
        genuine = np.array([scored(templates[n], probes[n]) for n in people])
        impostors = np.array([scored(templates[t], probes[p]) for t in people for p in people if t != p])
        print(f"    {rule:15}{fnmrs(genuine, impostors)}  ({len(genuine)} genuine, {len(impostors)} impostor)")


def fnmrs(genuine: np.ndarray, impostors: np.ndarray) -> str:
    return "".join(f"  FNMR at FMR {fmr:.1%}: {np.mean(genuine < score_at_fmr(impostors, fmr)):.2%}" for fmr in FMRS)


def genuine_pairs(paths: list[Path]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(paths)) for j in range(i + 1, len(paths)) if person(paths[i]) == person(paths[j])]


def score_at_fmr(impostors: np.ndarray, fmr: float) -> float:
    """The lowest score that at most `fmr` of the impostor pairs reach."""
    ranked = np.sort(impostors)[::-1]
    return float(np.nextafter(ranked[int(math.floor(fmr * len(ranked)))], np.inf))


def report(label: str, result: dict, paths: list[Path], threshold: float = 0.5) -> None:
    owners = np.array([person(p) for p in paths])
    scores = result["scores"]
    genuine_ij = genuine_pairs(paths)
    # Genuine pairs: class i (enrolled from photo i) verified with photo j; a failure on either side is a miss.
    genuine = np.array([scores[i, j] if np.isfinite(scores[i, j]) else -np.inf for i, j in genuine_ij])
    different = owners[:, None] != owners[None, :]
    upper = np.triu(np.ones_like(different, bool), 1)
    impostors = scores[different & upper]
    impostors = impostors[np.isfinite(impostors)]
    codes = Counter(c for c in result["codes"] if c)
    failed = int(sum(codes.values()))
    print(f"\n{label}: {len(paths)} photos, failure to enroll {failed} ({failed / len(paths):.2%})"
          + (f": {dict((str(k), v) for k, v in codes.items())}" if codes else ""))
    if len(result["seconds"]):
        print(f"  analysis time: mean {result['seconds'].mean() * 1000:.1f} ms, "
              f"median {np.median(result['seconds']) * 1000:.1f} ms per photo")
    print(f"  {len(genuine)} genuine pairs, {len(impostors)} impostor pairs")
    for fmr in FMRS:
        at = score_at_fmr(impostors, fmr)
        print(f"  FMR {fmr:.1%}: score >= {at:.4f}, FNMR {np.mean(genuine < at):.2%} "
              f"({np.mean(genuine[np.isfinite(genuine)] < at):.2%} of the pairs where both photos gave a face)")
    print(f"  default threshold {threshold}: FMR {np.mean(impostors >= threshold):.3%} "
          f"({int(np.sum(impostors >= threshold))} pairs), FNMR {np.mean(genuine < threshold):.2%}")
    wrong_person(paths, scores, result, impostors)


def wrong_person(paths: list[Path], scores: np.ndarray, result: dict, impostors: np.ndarray) -> None:
    """Photos whose best genuine score is at impostor level (below the FMR 1% score): the face used may be another
    person's. Printed with how many faces the engine found on them."""
    level = score_at_fmr(impostors, 0.01)
    suspects = []
    for i, path in enumerate(paths):
        mates = [j for j in range(len(paths)) if j != i and person(paths[j]) == person(path)]
        best = max((max(np.nan_to_num(scores[i, j], nan=-1), np.nan_to_num(scores[j, i], nan=-1)) for j in mates),
                   default=-1)
        if result["enrolled"][i] and 0 <= best < level:
            found = int(result["found"][i]) if len(result["found"]) else -1
            suspects.append(f"{path.name} (best genuine score {best:.3f}, faces counted {found})")
    print(f"  photos with every genuine score below the FMR 1% score ({level:.3f}): {len(suspects)}")
    for line in suspects:
        print(f"    {line}")


def save(label: str, result: dict) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(CACHE / f"{label}.npz", **result)


def load(label: str) -> dict:
    with np.load(CACHE / f"{label}.npz") as data:
        return {k: data[k] for k in data.files}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("engine", "grpc", "degraded", "options", "report"))
    parser.add_argument("labels", nargs="*", help="report: cached results to print")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose engine or service runs")
    parser.add_argument("--lfw", type=Path, default=LFW)
    parser.add_argument("--multiple-faces", default="refuse", choices=("refuse", "primary"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    os.chdir(args.code)
    if not args.lfw.is_dir():
        print(f"calibration photos not found at {args.lfw}: nothing to measure (see the README, Accuracy)")
        return
    paths = photos(args.lfw)
    if args.mode == "report":
        for label in args.labels:
            report(label, load(label), paths)
        return
    label = args.label or f"{args.mode}-{args.multiple_faces}"
    started = time.perf_counter()
    if args.mode == "options":
        result = run_options(paths)
        save(label, result)
        report_options(paths, result)
        return
    if args.mode == "degraded":
        save(label, {k.replace(" ", "_"): v for k, v in run_degraded(paths).items()})
        return
    result = run_engine(paths, args.multiple_faces) if args.mode == "engine" else \
        run_grpc(paths, args.multiple_faces, args.workers)
    print(f"{label}: {time.perf_counter() - started:.0f} s")
    save(label, result)
    report(label, result, paths)


if __name__ == "__main__":
    main()
