"""Found in review: by default one client could hold every engine worker (its cap was the number of workers), so
another tenant's call waited behind its slow jobs. The default is now all workers but one: with two workers and
tenant-a running three slow jobs, tenant-b's quick call finishes before the second of them (where it used to
wait for two: an order, not a timing)."""
from __future__ import annotations

import threading
import time

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.e2e.helpers import Caller, new_class_id
from tests.security.own_service import own_service
from tests.security.test_fairness import face_on_canvas


def test_another_client_finds_a_free_worker(tmp_path, redis_server):
    slow = face_on_canvas("biden_1.jpg")  # a face on a 40-megapixel canvas: seconds of work
    finished: list[str] = []
    with own_service(tmp_path, redis_server.url, BWS_WORKERS="2") as service:
        with service.channel() as channel:
            a = Caller(channel, service.clients["tenant-a"])
            b = Caller(channel, service.clients["tenant-b"])

            def flood():
                a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(), images=[msg.ImageData(image=slow)]))
                finished.append("a")

            threads = [threading.Thread(target=flood) for _ in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.3)  # tenant-a's jobs have reached the service (no timing is asserted)
            b.enroll(new_class_id(), "obama_1.jpg")
            finished.append("b")
            for thread in threads:
                thread.join(120)
    assert finished.index("b") <= 1, finished
