"""`bws enroll-dir DIR`: enroll a folder of photos, one class per sub-folder or per file name.

    photos/4711/a.jpg photos/4711/b.jpg photos/4712/c.jpg   -> classes 4711 and 4712 (--by folder)
    photos/4711.jpg photos/4711_2.jpg photos/4712-x.png     -> classes 4711 and 4712 (--by name)

A class is the folder's name or the file name's leading digits; other names need a mapping file (--map: CSV
lines `name,class-id`, or a JSON object). Classes are enrolled side by side (--concurrency), the photos of one
class one after the other (each call adds to the class's template). Every enrolled photo is appended to a
journal (default DIR/.bws-enrolled, one line per photo with the service and client it went to), so a second
run skips them: an interrupted run resumes where it stopped."""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Callable

import jwt
from tqdm import tqdm

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_cli.transport import CallFailed
from bws_cli.usage import EXIT_FAILED, EXIT_NEGATIVE, EXIT_OK, UsageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
JOURNAL_NAME = ".bws-enrolled"
# Failures that no other photo would escape: the run stops instead of failing every photo the same way.
FATAL_CODES = {"UNAVAILABLE", "UNAUTHENTICATED", "PERMISSION_DENIED", "HTTP 401", "HTTP 403", "HTTP 503"}
Metadata = Callable[[], list[tuple[str, str]]]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", metavar="DIR", help="the photos: a sub-folder per class, or files named by class")
    p.add_argument("--by", choices=["auto", "folder", "name"], default="auto",
                   help="class per sub-folder or per file name (default: folder when DIR has sub-folders)")
    p.add_argument("--map", type=Path, metavar="FILE",
                   help="names to class ids: CSV lines `name,class-id` or a JSON object {name: id}")
    p.add_argument("--concurrency", type=int, default=4, help="classes enrolled at once (default: 4, at most 32)")
    p.add_argument("--journal", type=Path, help=f"the record of enrolled photos (default: DIR/{JOURNAL_NAME})")


@dataclass
class Plan:
    classes: dict[int, list[Path]] = field(default_factory=dict)
    unmapped: list[tuple[Path, str]] = field(default_factory=list)


def read_map(path: Path | None) -> dict[str, int]:
    if path is None:
        return {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"--map {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            return {str(name): int(class_id) for name, class_id in json.loads(text).items()}
        rows = [line.split(",") for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return {name.strip(): int(class_id) for name, class_id in rows}
    except (ValueError, AttributeError) as exc:
        raise UsageError(f"--map {path}: expected `name,class-id` lines or a JSON object of ids ({exc})") from None


def _leading_id(name: str) -> int | None:
    digits = ""
    for character in name:
        if not character.isdigit():
            break
        digits += character
    rest = name[len(digits):]
    return int(digits) if digits and (not rest or rest[0] in "_-. ") else None


def plan(folder: Path, by: str, mapping: dict[str, int]) -> Plan:
    """Which photos go to which class; the photos no class could be found for, with the reason."""
    folders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if by == "auto":
        by = "folder" if folders else "name"
    result = Plan()
    if by == "folder":
        groups = [(sub.name, sorted(sub.iterdir())) for sub in folders]
    else:
        groups = [(None, sorted(folder.iterdir()))]
    for name, files in groups:
        for path in files:
            if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            key = name if name is not None else path.stem
            class_id = mapping.get(key) if key in mapping else _leading_id(key)
            if class_id is None and name is None:  # per file: the name before _ or - (alice_2.jpg -> alice)
                class_id = mapping.get(key.replace("-", "_").split("_")[0])
            if class_id is None or class_id <= 0:
                result.unmapped.append((path, f"no class id in the name {key!r}: name it by its class id "
                                              "(4711, 4711_2) or give --map"))
            else:
                result.classes.setdefault(class_id, []).append(path)
    return result


class Journal:
    """The photos enrolled so far, per service and client: appended and flushed after every photo."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = path, target
        self._lock = Lock()
        lines = path.read_text().splitlines() if path.exists() else []
        self.done = {line.split("\t", 1)[1] for line in lines if line.startswith(target + "\t")}

    def has(self, relative: str) -> bool:
        return relative in self.done

    def add(self, relative: str) -> None:
        with self._lock, self.path.open("a") as out:
            out.write(f"{self.target}\t{relative}\n")


def _reason(reply) -> str:
    texts = [e.message or e.error_code for e in reply.errors]
    for properties in reply.image_properties:
        texts += [f"{q.check}: {q.message}" for q in properties.quality_assessments if q.message]
    return "; ".join(texts) or "not enrolled"


@dataclass
class Outcome:
    enrolled: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    fatal: str | None = None


def client_of(args: argparse.Namespace) -> str:
    """Whom the photos go to: the client id, or a ready token's subject (read, not verified: the service checks
    it), so a folder enrolled for one client is not skipped for another."""
    if not args.token:  # a token, when given, is what the calls carry
        return args.clientid or "unknown"
    try:
        return str(jwt.decode(args.token, options={"verify_signature": False}).get("sub", "token"))
    except jwt.PyJWTError:
        return "token"


def run(args: argparse.Namespace, transport, metadata: Metadata) -> int:
    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder")
    if not 1 <= args.concurrency <= 32:
        raise UsageError("--concurrency must be 1 to 32")
    chosen = plan(folder, args.by, read_map(args.map))
    journal = Journal(args.journal or folder / JOURNAL_NAME, f"{args.host} {client_of(args)}")
    outcome = Outcome(failed=[(str(p.relative_to(folder)), why) for p, why in chosen.unmapped])
    pending = {class_id: [p for p in paths if not journal.has(str(p.relative_to(folder)))]
               for class_id, paths in chosen.classes.items()}
    total = sum(len(paths) for paths in pending.values())
    outcome.skipped = sum(len(paths) for paths in chosen.classes.values()) - total
    bar = tqdm(total=total, unit="photo", desc="enrolling", file=sys.stderr, disable=not sys.stderr.isatty())
    lock = Lock()
    started = time.monotonic()

    def enroll_class(class_id: int, paths: list[Path]) -> None:
        for path in paths:
            relative = str(path.relative_to(folder))
            if outcome.fatal:
                return
            try:
                request = fr.FaceEnrollmentRequest(classId=class_id, images=[msg.ImageData(image=path.read_bytes())])
                reply = transport.call("FaceRecognition", "Enroll", request, metadata(), args.deadline).message
                ok = reply.performed_action != fr.FaceEnrollmentResponse.ENROLLMENT_FAILED and reply.enrolled_images
                reason = None if ok else _reason(reply)
            except OSError as exc:
                reason = f"cannot read: {exc.strerror}"
            except CallFailed as failure:
                reason = f"{failure.code}: {failure.message.removeprefix('images[0]: ')}"
                if failure.code in FATAL_CODES:
                    outcome.fatal = reason
            with lock:
                if reason is None:
                    journal.add(relative)
                    outcome.enrolled += 1
                else:
                    outcome.failed.append((relative, reason))
                bar.update(1)

    with ThreadPoolExecutor(args.concurrency) as pool:
        for future in [pool.submit(enroll_class, c, paths) for c, paths in pending.items() if paths]:
            future.result()
    bar.close()
    seconds = time.monotonic() - started
    report(args, outcome, len(chosen.classes), seconds)
    if outcome.fatal:
        return EXIT_FAILED
    return EXIT_NEGATIVE if outcome.failed else EXIT_OK


def report(args: argparse.Namespace, outcome: Outcome, classes: int, seconds: float) -> None:
    rate = outcome.enrolled / seconds if seconds > 0 else 0.0
    if args.json:
        print(json.dumps({"enrolled": outcome.enrolled, "skipped": outcome.skipped, "classes": classes,
                          "failed": [{"path": p, "reason": r} for p, r in sorted(outcome.failed)],
                          "stopped": outcome.fatal, "seconds": round(seconds, 3),
                          "photosPerSecond": round(rate, 2)}))
        return
    print(f"{outcome.enrolled} photo(s) enrolled in {seconds:.1f}s ({rate:.1f}/s), {outcome.skipped} skipped "
          f"(enrolled before), {len(outcome.failed)} failed; {classes} class(es) in {args.folder}")
    for path, reason in sorted(outcome.failed):
        print(f"  {path}: {reason}")
    if outcome.fatal:
        print(f"stopped: {outcome.fatal}", file=sys.stderr)
