"""Operating the service: graceful shutdown, metrics, and the bookkeeping log."""
import base64
import json
import signal
import threading
import time

import grpc
import pytest

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from templates_store import KeyRing
from tests.conftest import face, start_service, stop_service, write_clients_file
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request

PHOTOS = ["obama_3.jpg", "biden_1.jpg", "alex_lacamoire_2.jpg", "obama_1.jpg", "rose_leslie_1.jpg",
          "kit_harington_1.jpg", "biden_2.jpg", "obama_2.jpg"]


def test_sigterm_lets_a_slow_enroll_finish(tmp_path, redis_server):
    clients = write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate().to_json())
    target, process, log_path, env = start_service(tmp_path, redis_server.url, tmp_path / "clients.json",
                                                   tmp_path / "keys.json", BWS_WORKERS="1", BWS_GRACE_SECONDS="60")
    outcome = {}
    class_id = new_class_id()

    def slow_enroll():  # 16 large photos on one worker: a few seconds
        with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
            stub = fr_grpc.FaceRecognitionStub(channel)
            images = [msg.ImageData(image=face(n)) for n in PHOTOS * 2]
            try:
                outcome["response"] = stub.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=images),
                                                  metadata=clients["tenant-a"].metadata(), timeout=120)
            except grpc.RpcError as error:
                outcome["error"] = error

    caller = threading.Thread(target=slow_enroll)
    caller.start()
    time.sleep(1.0)  # the call is in flight
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    http_port = int(env["BWS_HTTP_PORT"])
    with pytest.raises(OSError):  # no longer accepting
        request(f"http://127.0.0.1:{http_port}", "GET", "/readyz", timeout=2)
    caller.join(120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["response"].enrolled_images == 16
    assert process.wait(60) == 0
    stop_service(process)
    assert "draining calls in flight" in log_path.read_text()


def test_metrics(service, a):
    a.count()
    with pytest.raises(grpc.RpcError):
        a.delete(998877665544)
    text = request(service.metrics_url, "GET", "/metrics").body.decode()
    assert 'bws_calls_total{code="OK",method="GetClassCount"}' in text
    assert 'bws_calls_total{code="NOT_FOUND",method="DeleteTemplate"}' in text
    assert 'bws_call_duration_seconds_bucket{le="0.005",method="GetClassCount"}' in text
    assert "bws_engine_in_flight 0.0" in text
    assert 'bws_index_templates{partition="acme/1"}' in text
    bad = request(service.http_url, "GET", "/extension/enroll", headers={"Authorization": "Bearer nope"})
    assert bad.status == 401 and len(bad.headers["jobid"]) == 36
    text = request(service.metrics_url, "GET", "/metrics").body.decode()
    assert 'bws_calls_total{code="401",method="/extension/enroll"}' in text
    assert request(service.http_url, "GET", "/metrics").status == 404  # only on BWS_METRICS_PORT


def test_every_call_is_logged_as_json_without_image_or_template_data(service, a):
    class_id = new_class_id()
    a.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=[msg.ImageData(image=face("biden_2.jpg"))]),
             reference="log-ref-77")
    a.status(class_id, thumbnails=True)
    request(service.http_url, "POST", f"/api/face/v1/verify/{class_id}",
            {"image": base64.b64encode(face("biden_1.jpg")).decode()},
            {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"})
    time.sleep(0.2)
    lines = service.log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    enroll = [r for r in records if r.get("reference_number") == "log-ref-77"]
    assert len(enroll) == 1 and enroll[0]["client"] == "tenant-a" and enroll[0]["code"] == "OK"
    assert enroll[0]["method"].endswith("/Enroll") and enroll[0]["duration_ms"] > 0 and len(enroll[0]["jobid"]) == 36
    log = service.log_path.read_text()
    for name in ("biden_1.jpg", "biden_2.jpg"):
        assert base64.b64encode(face(name)[1000:1100]).decode()[:40] not in log
    assert max(len(line) for line in lines) < 2000  # nothing bulky (images, templates, thumbnails) in any line
    keys = json.loads((service.log_path.parent / "keys.json").read_text())["keys"]
    assert all(key not in log for key in keys.values())
    assert all(base64.b64encode(c.key).decode() not in log for c in service.clients.values())


def test_a_dying_engine_worker_is_unavailable_then_replaced(tmp_path, redis_server):
    import psutil

    clients = write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate().to_json())
    target, process, log_path, _ = start_service(tmp_path, redis_server.url, tmp_path / "clients.json",
                                                 tmp_path / "keys.json", BWS_WORKERS="1")
    try:
        with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
            a = Caller(channel, clients["tenant-a"])
            workers = [c for c in psutil.Process(process.pid).children() if "spawn_main" in " ".join(c.cmdline())]
            assert len(workers) == 1
            outcome = {}

            def enroll():
                try:
                    outcome["response"] = a.enroll(new_class_id(), *PHOTOS * 2)  # about 1 s of engine work
                except grpc.RpcError as error:
                    outcome["error"] = error

            caller = threading.Thread(target=enroll)
            caller.start()
            time.sleep(0.3)
            workers[0].kill()
            caller.join(60)
            assert outcome["error"].code() == grpc.StatusCode.UNAVAILABLE
            assert "retry" in outcome["error"].details()
            assert a.enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1  # a fresh worker serves
    finally:
        stop_service(process)
