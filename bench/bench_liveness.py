"""Passive liveness cost, in one run, side by side with the engine alone:

(a) in-process, per image: FaceEngine.analyze() without and with passive
    liveness (the bundled models fused: the added latency per face), and each
    bundled model on its own (the MiniFASNet pair, the suri model);
(b) one-image LivenessDetection over real gRPC (a service with its worker pool)
    next to the in-process engine with passive liveness on the same images.

    python bench/bench_liveness.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_service import IMAGES, Service, ms, timed  # noqa: E402
from bws_proto import bioidwebservice_pb2 as bws  # noqa: E402
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc  # noqa: E402
from bws_proto import bwsmessages_pb2 as msg  # noqa: E402
from gateway.engine import EngineOptions, FaceEngine, PadOptions  # noqa: E402
from gateway.engine.images import decode_image  # noqa: E402
from gateway.engine.pad import BUNDLED  # noqa: E402
from templates_store import KeyRing  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import FACES  # noqa: E402


def row(name: str, samples: list[float], reference: float) -> None:
    p50, p95 = ms(samples)
    print(f"    {name:34} {p50:>7.1f}ms {p95:>7.1f}ms {p50 / reference:>13.2f}")


def in_process(engine: FaceEngine, images: list[bytes], rounds: int) -> None:
    plain, passive = [], []
    models = {name: make() for name, make in BUNDLED.items()}
    alone: dict[str, list[float]] = {name: [] for name in models}
    for image in images:  # warm-up
        engine.analyze(image, want_texture=True)
    for _ in range(rounds):
        for image in images:
            plain.append(timed(engine.analyze, image))
            passive.append(timed(functools.partial(engine.analyze, image, want_texture=True)))
            pixels, _ = decode_image(image)
            box = engine.analyze_pixels(pixels, want_descriptors=False).faces[0].box
            for name, model in models.items():
                alone[name].append(timed(functools.partial(model.score, pixels, box)))
    reference = ms(plain)[0]
    print(f"(a) in-process, {len(plain)} images (one face each), one at a time")
    print(f"    {'':34} {'p50':>9} {'p95':>9} {'p50 / engine':>13}")
    row("engine alone (analyze)", plain, reference)
    row("engine + passive liveness (fused)", passive, reference)
    for name, samples in alone.items():
        row(f"{name} alone (crop + run)", samples, reference)
    added = float(np.median(np.array(passive) - np.array(plain))) * 1000
    print(f"    added by passive liveness (all models): {added:.1f} ms per face (median of the differences)")


def over_grpc(engine: FaceEngine, images: list[bytes], rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        redis_server = EmbeddedRedis(root / "redis", port=free_port()).start()
        (root / "keys.json").write_text(KeyRing.generate().to_json())
        service = Service(root / "service", redis_server.url, os.cpu_count() or 1, root / "keys.json")
        try:
            stub = bws_grpc.BioIDWebServiceStub(service.channel)

            def call(image: bytes):
                request = bws.LivenessDetectionRequest(live_images=[msg.ImageData(image=image)])
                return stub.LivenessDetection(request, metadata=service.metadata, timeout=60)

            for image in images:
                call(image)
            engine_times, grpc_times = [], []
            for _ in range(rounds):
                for image in images:
                    engine_times.append(timed(functools.partial(engine.analyze, image, want_texture=True)))
                    grpc_times.append(timed(call, image))
            reference = ms(engine_times)[0]
            print(f"(b) one-image LivenessDetection, {len(grpc_times)} calls, one at a time")
            print(f"    {'':34} {'p50':>9} {'p95':>9} {'p50 / engine':>13}")
            row("engine + passive, in-process", engine_times, reference)
            row("LivenessDetection over gRPC", grpc_times, reference)
        finally:
            service.close()
            redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    images = [(FACES / name).read_bytes() for name in IMAGES]
    engine = FaceEngine(EngineOptions(pad=PadOptions()))
    in_process(engine, images, args.rounds)
    over_grpc(engine, images, args.rounds)


if __name__ == "__main__":
    main()
