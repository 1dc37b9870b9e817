"""The template store at scale, in one run against a real redis-server it starts.

(a) Redis memory per template with 1 and 3 feature vectors (real face chips,
    through the store's write path): MEMORY USAGE of one template, and the
    INFO memory growth over many templates, per template.
(b) fills one partition with N synthetic templates (random unit descriptors,
    a tiny thumbnail) through TemplateStore.bulk_insert (the write path's
    format, pipelined), then starts the service on it and prints the time
    from start to ready (health SERVING) and Redis memory used;
(c) Search p50 over gRPC at N templates next to its parts: the same Search on
    an empty partition (engine, transport, service) plus the index alone
    (PartitionIndex.search over N in-process); ratio = at N / (empty + index);
(d) Enroll p50 over gRPC into the partition of N templates next to Enroll into
    an empty partition, same service, same run.

    python bench/bench_store.py --templates 100000 [--rounds 15]

Memory: about 1.6 KB of Redis per synthetic template (1M: about 1.6 GB).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import redis.asyncio as aredis
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bws_proto import bwsmessages_pb2 as msg  # noqa: E402
from bws_proto import facerecognition_pb2 as fr  # noqa: E402
from bws_proto import facerecognition_pb2_grpc as fr_grpc  # noqa: E402
from gateway.engine import FaceEngine  # noqa: E402
from templates_store import Bcid, KeyRing, PartitionId, SearchIndex, TemplateStore  # noqa: E402
from templates_store.sync import IndexSync  # noqa: E402
from templates_store.templates import EnhancedTemplate, Thumbnail, normalize  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import FACES, start_service, stop_service, write_clients_file  # noqa: E402

FILLED = PartitionId("acme", 1)  # tenant-a's partition in the test clients file
EMPTY_CLIENT = "tenant-b"  # globex/1, empty
BATCH = 5000


def p50(samples: list[float]) -> float:
    return float(np.percentile(samples, 50)) * 1000


async def used_memory(client) -> int:
    return int((await client.info("memory"))["used_memory"])


async def memory_per_template(url: str, keys: KeyRing, count: int) -> None:
    engine = FaceEngine()
    chips = [engine.analyze((FACES / n).read_bytes()).face.thumbnail_png
             for n in ("obama_1.jpg", "biden_1.jpg", "kit_harington_1.jpg")]
    client = aredis.from_url(url)
    store = TemplateStore(client, keys)
    rng = np.random.default_rng(7)
    print(f"(a) Redis memory per template, real chips (PNG {np.mean([len(c) for c in chips]) / 1024:.1f} KB "
          f"on average), compact template encrypted")
    for vectors in (1, 3):
        partition = PartitionId("memory", vectors)
        before = await used_memory(client)
        for class_id in range(1, count + 1):
            for i in range(vectors):
                thumbnail = Thumbnail(1.0, chips[(class_id + i) % len(chips)])
                await store.update_template(
                    Bcid(partition, class_id),
                    lambda cur, t=thumbnail: (cur or EnhancedTemplate.empty(1)).merged(
                        normalize(rng.standard_normal((1, 128))), [t], 1.0), True)
        grown = (await used_memory(client) - before) / count
        usage = await client.memory_usage(await store.template_key(Bcid(partition, 1)), samples=0)
        print(f"    {vectors} feature vector(s): MEMORY USAGE {usage / 1024:.1f} KB; INFO memory over {count} "
              f"templates {grown / 1024:.1f} KB per template, {grown / vectors / 1024:.1f} KB per feature vector")
    await client.aclose()


def tiny_thumbnail() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 100, 90)).save(buffer, "WEBP", quality=50)
    return buffer.getvalue()


async def fill(url: str, keys: KeyRing, templates: int) -> np.ndarray:
    client = aredis.from_url(url)
    store = TemplateStore(client, keys)
    thumbnail = Thumbnail(1.0, tiny_thumbnail())
    rng = np.random.default_rng(1)
    before = await used_memory(client)
    start = time.perf_counter()
    for first in range(1, templates + 1, BATCH):
        vectors = normalize(rng.standard_normal((min(BATCH, templates + 1 - first), 128)))
        batch = [(first + i, EnhancedTemplate(1, v[None, :], (1.0,), (thumbnail,))) for i, v in enumerate(vectors)]
        await store.bulk_insert(FILLED, batch, False, 1.0)
    used = await used_memory(client)
    print(f"(b) {templates} templates written in {time.perf_counter() - start:.0f} s; Redis used_memory "
          f"{used / 2**30:.2f} GB ({(used - before) / templates:.0f} bytes per template)")
    index = SearchIndex()
    start = time.perf_counter()
    await IndexSync(store, index, 1).load_all()
    print(f"    index loaded in-process in {time.perf_counter() - start:.1f} s "
          f"({index.partition(FILLED).nbytes / len(index.partition(FILLED)):.0f} bytes per template in arrays)")
    await client.aclose()
    return index


def grpc_latencies(target: str, clients, rounds: int, index: SearchIndex) -> None:
    import grpc

    probe = (FACES / "obama_2.jpg").read_bytes()
    enroll_images = [(FACES / n).read_bytes() for n in ("biden_1.jpg", "rose_leslie_1.jpg", "kit_harington_1.jpg")]
    with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        stub = fr_grpc.FaceRecognitionStub(channel)
        filled, empty = clients["tenant-a"].metadata(), clients[EMPTY_CLIENT].metadata()

        def search(md):
            stub.Search(fr.FaceSearchRequest(images=[msg.ImageData(image=probe)], top_matches=True),
                        metadata=md, timeout=120)

        def enroll(md, class_id, image):
            stub.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=[msg.ImageData(image=image)]),
                        metadata=md, timeout=120)

        timings: dict[str, list[float]] = {k: [] for k in ("search_n", "search_0", "enroll_n", "enroll_0")}
        search(filled), search(empty)  # warm-up
        base = 5_000_000_000
        for r in range(rounds):
            image = enroll_images[r % 3]
            for name, call, args in (("search_n", search, (filled,)), ("search_0", search, (empty,)),
                                     ("enroll_n", enroll, (filled, base + r, image)),
                                     ("enroll_0", enroll, (empty, base + r, image))):
                start = time.perf_counter()
                call(*args)
                timings[name].append(time.perf_counter() - start)
    query = normalize(np.random.default_rng(5).standard_normal((1, 128)))
    index_times = []
    partition = index.partition(FILLED)
    for _ in range(rounds):
        start = time.perf_counter()
        partition.search(query, 10)
        index_times.append(time.perf_counter() - start)
    n, zero, alone = p50(timings["search_n"]), p50(timings["search_0"]), p50(index_times)
    print(f"(c) Search p50 over gRPC: {n:.1f} ms at {len(partition)} templates; {zero:.1f} ms on an empty partition; "
          f"index alone {alone:.1f} ms; ratio {n / (zero + alone):.2f}x (target <= 1.2x)")
    en, e0 = p50(timings["enroll_n"]), p50(timings["enroll_0"])
    print(f"(d) Enroll p50 over gRPC: {en:.1f} ms into {len(partition)} templates; {e0:.1f} ms into an empty "
          f"partition; ratio {en / e0:.2f}x (target <= 1.1x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--memory-templates", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port(),
                               extra_args=("--appendonly", "no", "--save", "")).start()
        try:
            keys = KeyRing.generate()
            keys_file = Path(tmp) / "keys.json"
            keys_file.write_text(keys.to_json())
            asyncio.run(memory_per_template(server.url, keys, args.memory_templates))
            index = asyncio.run(fill(server.url, keys, args.templates))
            clients_file = Path(tmp) / "clients.json"
            clients = write_clients_file(clients_file)
            start = time.perf_counter()
            target, process, log_path, _ = start_service(Path(tmp), server.url, clients_file, keys_file,
                                                         BWS_WORKERS="1", BWS_LOG_LEVEL="WARNING")
            print(f"    service start to ready (SERVING): {time.perf_counter() - start:.1f} s over "
                  f"{args.templates} templates (target <= 30 s at 1M)")
            try:
                grpc_latencies(target, clients, args.rounds, index)
            finally:
                stop_service(process)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
