"""Attack: calls slipped in after SIGTERM. From the signal on, gRPC refuses
new calls (UNAVAILABLE) at once, while the calls in flight, over gRPC and
REST, run to their end."""
import base64
import signal
import threading
import time

import grpc

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from tests.conftest import face
from tests.e2e.helpers import new_class_id
from tests.e2e.http import request
from tests.security.own_service import own_service

PHOTOS = ["obama_3.jpg", "biden_1.jpg", "alex_lacamoire_2.jpg", "obama_1.jpg", "rose_leslie_1.jpg",
          "kit_harington_1.jpg", "biden_2.jpg", "obama_2.jpg"]


def test_sigterm_refuses_new_grpc_calls_at_once_and_drains_the_calls_in_flight(tmp_path, redis_server):
    with own_service(tmp_path, redis_server.url, BWS_WORKERS="1", BWS_GRACE_SECONDS="120") as service:
        tenant = service.clients["tenant-a"]
        outcome = {}

        def rest_enroll():
            outcome["rest"] = request(service.http_url, "POST", f"/api/face/v1/enroll/{new_class_id()}",
                                      [{"image": base64.b64encode(face(n)).decode()} for n in PHOTOS],
                                      {"Authorization": f"Bearer {tenant.token()}"}, timeout=120)

        def grpc_enroll():
            with service.channel() as channel:
                request_ = fr.FaceEnrollmentRequest(classId=new_class_id(),
                                                    images=[msg.ImageData(image=face(n)) for n in PHOTOS])
                try:
                    outcome["grpc"] = fr_grpc.FaceRecognitionStub(channel).Enroll(
                        request_, metadata=tenant.metadata(), timeout=120)
                except grpc.RpcError as error:
                    outcome["grpc_error"] = error

        callers = [threading.Thread(target=rest_enroll), threading.Thread(target=grpc_enroll)]
        for caller in callers:
            caller.start()
        time.sleep(1.5)  # both calls are in flight
        service.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with service.channel() as late:
            try:
                fr_grpc.FaceRecognitionStub(late).GetClassCount(fr.GetClassCountRequest(),
                                                                metadata=tenant.metadata(), timeout=10)
                late_code = grpc.StatusCode.OK
            except grpc.RpcError as error:
                late_code = error.code()
        for caller in callers:
            caller.join(150)
        assert late_code == grpc.StatusCode.UNAVAILABLE
        assert "grpc_error" not in outcome, outcome.get("grpc_error")
        assert outcome["grpc"].enrolled_images == len(PHOTOS)
        assert outcome["rest"].status == 200 and outcome["rest"].json["enrolledImages"] == len(PHOTOS)
        assert service.process.wait(60) == 0
