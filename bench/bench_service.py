"""The service over real gRPC against the engine alone, in the same run.

(a) per-image Enroll and Verify latency over gRPC (p50, p95), one call at a
    time, next to FaceEngine.analyze() in-process on the same images;
(b) Verify throughput with the worker pool (one worker per core) against one
    worker, with as many concurrent callers as twice the cores.

    python bench/bench_service.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bws_proto import bwsmessages_pb2 as msg  # noqa: E402
from bws_proto import facerecognition_pb2 as fr  # noqa: E402
from bws_proto import facerecognition_pb2_grpc as fr_grpc  # noqa: E402
from gateway.engine import FaceEngine  # noqa: E402
from templates_store import KeyRing  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import FACES, start_service, stop_service, write_clients_file  # noqa: E402

IMAGES = ["obama_1.jpg", "obama_2.jpg", "biden_1.jpg", "biden_2.jpg", "kit_harington_1.jpg", "kit_harington_2.jpg",
          "rose_leslie_1.jpg", "rose_leslie_2.jpg", "alex_lacamoire_1.png", "lin_manuel_miranda_1.png"]


def ms(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)) * 1000, float(np.percentile(samples, 95)) * 1000


class Service:
    def __init__(self, tmp: Path, redis_url: str, workers: int, keys_file: Path) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.clients = write_clients_file(tmp / "clients.json")
        self.target, self.process, _, _ = start_service(tmp, redis_url, tmp / "clients.json", keys_file,
                                                        BWS_WORKERS=str(workers), BWS_LOG_LEVEL="WARNING")
        import grpc

        self.channel = grpc.insecure_channel(self.target, options=[("grpc.max_send_message_length", 64 << 20)])
        self.stub = fr_grpc.FaceRecognitionStub(self.channel)
        self.metadata = self.clients["tenant-a"].metadata()

    def enroll(self, class_id: int, image: bytes):
        return self.stub.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=[msg.ImageData(image=image)]),
                                metadata=self.metadata, timeout=60)

    def verify(self, class_id: int, image: bytes):
        return self.stub.Verify(fr.FaceVerificationRequest(classId=class_id, image=msg.ImageData(image=image)),
                                metadata=self.metadata, timeout=60)

    def close(self) -> None:
        self.channel.close()
        stop_service(self.process)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def latency(service: Service, engine: FaceEngine, images: list[bytes], rounds: int) -> None:
    engine_times, enroll_times, verify_times = [], [], []
    class_base = 10_000_000 + int(time.time()) % 1_000_000 * 100
    for image in images:  # warm-up
        engine.analyze(image)
        service.enroll(class_base, image)
    for r in range(rounds):
        for i, image in enumerate(images):
            engine_times.append(timed(engine.analyze, image))
            enroll_times.append(timed(service.enroll, class_base + 1 + r * len(images) + i, image))
            verify_times.append(timed(service.verify, class_base, image))
    e50, e95 = ms(engine_times)
    print(f"(a) per-image latency, {len(engine_times)} calls each, one at a time")
    print(f"    {'':18} {'p50':>9} {'p95':>9} {'p50 / engine':>13}")
    print(f"    {'engine in-process':18} {e50:>7.1f}ms {e95:>7.1f}ms {1:>13.2f}")
    for name, samples in (("Enroll over gRPC", enroll_times), ("Verify over gRPC", verify_times)):
        p50, p95 = ms(samples)
        print(f"    {name:18} {p50:>7.1f}ms {p95:>7.1f}ms {p50 / e50:>13.2f}")


def throughput(service: Service, images: list[bytes], calls: int, callers: int) -> float:
    class_id = 9_000_000_000
    service.enroll(class_id, images[0])
    work = [images[i % len(images)] for i in range(calls)]
    start = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(lambda image: service.verify(class_id, image), work))
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    images = [(FACES / name).read_bytes() for name in IMAGES]
    print(f"machine: {cores} cores; {len(images)} fixture photos (394x424 to 2204x970 pixels)")
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis", port=free_port()).start()
        try:
            engine = FaceEngine()
            keys_file = Path(tmp) / "keys.json"
            keys_file.write_text(KeyRing.generate().to_json())
            pooled = Service(Path(tmp) / "pooled", redis_server.url, cores, keys_file)
            try:
                latency(pooled, engine, images, args.rounds)
                pooled_rate = throughput(pooled, images, args.calls, 2 * cores)
            finally:
                pooled.close()
            single = Service(Path(tmp) / "single", redis_server.url, 1, keys_file)
            try:
                single_rate = throughput(single, images, args.calls, 2 * cores)
            finally:
                single.close()
            print(f"(b) Verify throughput, {args.calls} calls from {2 * cores} concurrent callers")
            print(f"    {cores} workers: {pooled_rate:.2f} images/s; 1 worker: {single_rate:.2f} images/s; "
                  f"speed-up {pooled_rate / single_rate:.2f}x")
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
