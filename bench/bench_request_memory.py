"""The main process' memory while one client sends many large Enrolls at once: the growth of its resident size
(peak and one second after) for N concurrent 61 MB Enrolls (three real photos padded to 19 MiB), on one shared
channel or one channel each; a fresh service (one engine worker) per run.

    python bench/bench_request_memory.py [--calls 10,30] [--channels one,each] [BWS_X=value ...]
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bws_proto import bwsmessages_pb2 as msg  # noqa: E402
from bws_proto import facerecognition_pb2 as fr  # noqa: E402
from bws_proto import facerecognition_pb2_grpc as fr_grpc  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import face, launch_service, stop_service  # noqa: E402

OPTIONS = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]


def run(calls: int, channels: str, env: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis = EmbeddedRedis(tmp / "redis", port=free_port()).start()
        service = launch_service(tmp, redis.url, BWS_WORKERS="1", BWS_LOG_LEVEL="WARNING", **env)
        try:
            request = fr.FaceEnrollmentRequest(classId=5, images=[msg.ImageData(
                image=face("biden_1.jpg") + b"\0" * (19 << 20))] * 3)
            process = psutil.Process(service.process.pid)
            rss = lambda: process.memory_info().rss / 1e6
            time.sleep(2)
            base, peak, done = rss(), [0.0], threading.Event()

            def sample() -> None:
                while not done.wait(0.02):
                    peak[0] = max(peak[0], rss())
            threading.Thread(target=sample, daemon=True).start()
            shared = grpc.insecure_channel(service.grpc_target, options=OPTIONS)
            codes: list[str] = []

            def call() -> None:
                channel = shared if channels == "one" else grpc.insecure_channel(service.grpc_target, options=OPTIONS)
                try:
                    fr_grpc.FaceRecognitionStub(channel).Enroll(request, metadata=service.clients["tenant-a"]
                                                                .metadata(), timeout=180)
                    codes.append("OK")
                except grpc.RpcError as error:
                    codes.append(error.code().name)
            threads = [threading.Thread(target=call) for _ in range(calls)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            time.sleep(1)
            after = rss()
            done.set()
            shared.close()
            return (f"{calls:3} calls, {channels:4} channel(s): base {base:6.0f} MB, peak +{peak[0] - base:6.0f} MB, "
                    f"1 s after +{after - base:6.0f} MB, {seconds:5.1f} s, {dict(collections.Counter(codes))}")
        finally:
            stop_service(service.process)
            redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", default="10,30")
    parser.add_argument("--channels", default="one,each")
    parser.add_argument("env", nargs="*", help="BWS_X=value settings of the service")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    for channels in args.channels.split(","):
        for calls in (int(c) for c in args.calls.split(",")):
            print(run(calls, channels, env), flush=True)


if __name__ == "__main__":
    main()
