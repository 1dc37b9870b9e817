"""What the REST layer adds over gRPC, in the same run: p50 REST minus p50 gRPC
for GetClassCount and for a one-image Verify (calls alternate between the two).

    python bench/bench_rest.py [--calls 300] [--verify-calls 30]
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bws_proto import bwsmessages_pb2 as msg  # noqa: E402
from bws_proto import facerecognition_pb2 as fr  # noqa: E402
from bws_proto import facerecognition_pb2_grpc as fr_grpc  # noqa: E402
from templates_store import KeyRing  # noqa: E402
from templates_store.embedded import EmbeddedRedis, free_port  # noqa: E402
from tests.conftest import FACES, start_service, stop_service, write_clients_file  # noqa: E402


def alternate(grpc_call, rest_call, calls: int) -> tuple[list[float], list[float]]:
    grpc_call(), rest_call()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(calls):
        for fn, samples in zip((grpc_call, rest_call), times):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return times


def report(name: str, grpc_times: list[float], rest_times: list[float]) -> None:
    g50, r50 = (float(np.percentile(t, 50)) * 1000 for t in (grpc_times, rest_times))
    g95, r95 = (float(np.percentile(t, 95)) * 1000 for t in (grpc_times, rest_times))
    print(f"{name:14} gRPC p50 {g50:7.2f} ms (p95 {g95:7.2f})   REST p50 {r50:7.2f} ms (p95 {r95:7.2f})   "
          f"REST adds {r50 - g50:+.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--verify-calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis_server = EmbeddedRedis(tmp / "redis", port=free_port()).start()
        clients = write_clients_file(tmp / "clients.json")
        (tmp / "keys.json").write_text(KeyRing.generate().to_json())
        target, process, _, env = start_service(tmp, redis_server.url, tmp / "clients.json", tmp / "keys.json",
                                                BWS_LOG_LEVEL="WARNING")
        try:
            token = clients["tenant-a"].token(3600)
            metadata = (("authorization", f"Bearer {token}"),)
            stub = fr_grpc.FaceRecognitionStub(grpc.insecure_channel(target))
            connection = http.client.HTTPConnection("127.0.0.1", int(env["BWS_HTTP_PORT"]), timeout=60)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

            def rest(method: str, path: str, body: bytes | None = None) -> dict:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                assert response.status == 200, data
                return json.loads(data)

            image = (FACES / "obama_2.jpg").read_bytes()
            stub.Enroll(fr.FaceEnrollmentRequest(classId=1, images=[msg.ImageData(image=(FACES / "obama_1.jpg")
                                                                                   .read_bytes())]),
                        metadata=metadata)
            print(f"machine: 2-core VM; {args.calls} GetClassCount and {args.verify_calls} Verify calls each way, "
                  f"alternating, one at a time, keep-alive connections")
            report("GetClassCount", *alternate(
                lambda: stub.GetClassCount(fr.GetClassCountRequest(), metadata=metadata),
                lambda: rest("GET", "/api/face/v1/classcount"), args.calls))
            verify_body = json.dumps({"image": base64.b64encode(image).decode()}).encode()
            report("Verify", *alternate(
                lambda: stub.Verify(fr.FaceVerificationRequest(classId=1, image=msg.ImageData(image=image)),
                                    metadata=metadata),
                lambda: rest("POST", "/api/face/v1/verify/1", verify_body), args.verify_calls))
        finally:
            stop_service(process)
            redis_server.stop()


if __name__ == "__main__":
    main()
