"""`bws enroll-dir` on this machine: photos per second into a real service (one engine worker per core, real
Redis), at several --concurrency values, over gRPC and REST; then the resumed run that skips everything.

The folder: the fixture photos with one face (10, 394x424 to 2204x970 pixels), copied into --classes sub-folders
of two photos each.

    python bench/bench_enroll_dir.py [--classes 30]
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from templates_store import KeyRing  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import FACES, ROOT, start_service, stop_service, write_clients_file  # noqa: E402

PHOTOS = ["obama_1.jpg", "obama_2.jpg", "biden_1.jpg", "biden_2.jpg", "kit_harington_1.jpg", "kit_harington_2.jpg",
          "rose_leslie_1.jpg", "rose_leslie_2.jpg", "alex_lacamoire_1.png", "lin_manuel_miranda_1.png"]
BWS = str(Path(sys.executable).parent / "bws")


def folder_of(root: Path, classes: int, first_id: int) -> Path:
    for n in range(classes):
        sub = root / str(first_id + n)
        sub.mkdir(parents=True)
        for k in range(2):
            name = PHOTOS[(2 * n + k) % len(PHOTOS)]
            shutil.copy(FACES / name, sub / name)
    return root


def enroll_dir(env: dict[str, str], host: list[str], folder: Path, journal: Path, concurrency: int) -> dict:
    started = time.perf_counter()
    result = subprocess.run([BWS, *host, "--json", "enroll-dir", "--concurrency", str(concurrency),
                             "--journal", str(journal), str(folder)], capture_output=True, text=True, env=env)
    summary = json.loads(result.stdout)
    summary["wall"] = time.perf_counter() - started
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", type=int, default=30)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; {args.classes} classes x 2 fixture photos = {2 * args.classes} photos per run")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        redis_server = EmbeddedRedis(tmp / "redis", port=free_port()).start()
        try:
            clients = write_clients_file(tmp / "clients.json")
            (tmp / "keys.json").write_text(KeyRing.generate().to_json())
            target, process, _, service_env = start_service(tmp, redis_server.url, tmp / "clients.json",
                                                            tmp / "keys.json", BWS_WORKERS=str(cores),
                                                            BWS_LOG_LEVEL="WARNING")
            client = clients["tenant-a"]
            env = dict(os.environ, PYTHONPATH=str(ROOT), BWS_CLIENT_ID=client.client_id,
                       BWS_CLIENT_KEY=base64.b64encode(client.key).decode())
            hosts = {"gRPC": ["--host", target],
                     "REST": ["--rest", "--host", f"http://127.0.0.1:{service_env['BWS_HTTP_PORT']}"]}
            try:
                first_id = 50_000_000 + int(time.time()) % 1_000_000 * 100
                for run, (transport, concurrency) in enumerate([("gRPC", 1), ("gRPC", 2), ("gRPC", 4),
                                                                ("REST", 4)]):
                    folder = folder_of(tmp / f"photos-{run}", args.classes, first_id + run * 10_000)
                    summary = enroll_dir(env, hosts[transport], folder, tmp / f"journal-{run}", concurrency)
                    print(f"{transport} --concurrency {concurrency}: {summary['enrolled']} photos in "
                          f"{summary['seconds']:.1f}s = {summary['photosPerSecond']:.2f} photos/s "
                          f"({len(summary['failed'])} failed)")
                resumed = enroll_dir(env, hosts["gRPC"], tmp / "photos-2", tmp / "journal-2", 4)
                print(f"resumed run (all enrolled before): {resumed['skipped']} skipped, {resumed['enrolled']} "
                      f"enrolled, {resumed['wall']:.2f}s wall time including the CLI's start")
            finally:
                stop_service(process)
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
