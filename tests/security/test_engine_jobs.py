"""Attack (issue 16): hostile files that pass every byte and pixel limit but hold an engine worker.

A 6320x6320 grey progressive JPEG followed by thousands of empty scans (about 400 KB for 4,000) held a worker
for minutes: two such Enrolls made another tenant's Verify wait 81 s instead of 1 s, and an end user holding
only a capture token could send the same through /extension/upload. Now the scans of a JPEG are counted
before it is decoded (BWS_MAX_JPEG_SCANS), and every engine job has a time limit (BWS_ENGINE_JOB_SECONDS):
past it the job is abandoned, its worker replaced, the call refused with a clear error."""
from __future__ import annotations

import re
import threading
import time

import grpc
import pytest

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import Flow
from tests.security.hostile_files import scan_bomb
from tests.security.own_service import log_records, own_service

JOB_SECONDS = 4


def test_a_scan_bomb_is_refused_before_it_is_decoded(service, a):
    bomb = scan_bomb()
    assert len(bomb) < 500_000  # the file: every byte and pixel limit let it through
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as refused:
        a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(), images=[msg.ImageData(image=bomb)]))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("images[0]: JPEG of more than 100 scans")
    assert "BWS_MAX_JPEG_SCANS" in refused.value.details()
    assert time.monotonic() - started < 60  # refused, not decoded (decoding takes minutes)
    token = Flow(service).token(new_class_id(), "enroll", livedetection="false")
    uploaded = Flow(service).upload(token, bomb)
    assert uploaded.status == 200 and uploaded.json["Accepted"] is False
    assert uploaded.json["Error"] == "InvalidSample" and "more than 100 scans" in uploaded.json["Message"]


@pytest.fixture(scope="module")
def limited(tmp_path_factory, redis_server):
    """Scans let through (so the bombs reach the decoder) and a short job limit: the time limit alone must
    hold the bombs. Tenant A may hold both workers (the default leaves one to the others): the worst case."""
    with own_service(tmp_path_factory.mktemp("engine-jobs"), redis_server.url, BWS_WORKERS="2",
                     BWS_MAX_ENGINE_JOBS_PER_CLIENT="2", BWS_MAX_JPEG_SCANS="1000000",
                     BWS_ENGINE_JOB_SECONDS=str(JOB_SECONDS)) as service:
        yield service


def _engine_in_flight(service) -> float:
    text = request(service.metrics_url, "GET", "/metrics").body.decode()
    return float(re.search(r"^bws_engine_in_flight (\S+)$", text, re.M).group(1))


def test_bombs_are_abandoned_at_the_job_limit_and_another_tenant_is_served(limited):
    bomb = scan_bomb(scans=20_000)  # minutes of decoding on any machine
    with limited.channel() as channel:
        a = Caller(channel, limited.clients["tenant-a"])
        b = Caller(channel, limited.clients["tenant-b"])
        b_class = new_class_id()
        assert b.enroll(b_class, "kit_harington_1.jpg").enrolled_images == 1
        outcomes: dict[str, object] = {}

        def enroll_bomb(name: str) -> None:
            try:
                a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(), images=[msg.ImageData(image=bomb)]))
                outcomes[name] = "accepted"
            except grpc.RpcError as error:
                outcomes[name] = error
            outcomes[f"{name} ended"] = time.monotonic()

        # Three bombs: two take both workers (tenant A's cap here is the number of workers), the third waits.
        bombs = [threading.Thread(target=enroll_bomb, args=(f"bomb {i}",)) for i in range(3)]
        for thread in bombs:
            thread.start()
        deadline = time.monotonic() + 60
        while _engine_in_flight(limited) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _engine_in_flight(limited) >= 2, "the bombs never reached the workers"

        started = time.monotonic()
        verdict = b.stub.Verify(fr.FaceVerificationRequest(classId=b_class, image=msg.ImageData(
            image=face("kit_harington_2.jpg"))), metadata=limited.clients["tenant-b"].metadata(),
            timeout=JOB_SECONDS + 60)
        b_answered = time.monotonic()
        for thread in bombs:
            thread.join(3 * JOB_SECONDS + 120)
        assert verdict.verified
        # B waited for at most one job limit (and a fresh worker's start), not for the bombs' minutes: it was
        # served before the third bomb, queued after it, had reached its own limit.
        assert b_answered < max(outcomes[f"bomb {i} ended"] for i in range(3)), (b_answered - started, outcomes)
        for i in range(3):
            error = outcomes[f"bomb {i}"]
            assert isinstance(error, grpc.RpcError), error
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert error.details() == (f"images[0]: analysing this image took more than {JOB_SECONDS} s "
                                       "(BWS_ENGINE_JOB_SECONDS)")

        # The service still works, for both tenants, and its workers are fresh ones.
        assert b.verify(b_class, "kit_harington_2.jpg").verified
        assert a.enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1
    replaced = [r for r in log_records(limited) if r.get("message") == "engine job over its time limit: its "
                "worker is replaced"]
    assert len(replaced) == 3


def test_a_bomb_uploaded_with_a_capture_token_is_refused_the_same_way(limited):
    flow = Flow(limited)
    token = flow.token(new_class_id(), "enroll", livedetection="false")
    # 5,000 scans: still far past the job limit, and under the 20,000 segments at which the upload's image-end
    # walk (gateway/transport/extension/image_end.py) refuses a file before the engine sees it.
    uploaded = flow.upload(token, scan_bomb(scans=5_000))
    assert uploaded.status == 200 and uploaded.json["Accepted"] is False
    assert uploaded.json["Error"] == "InvalidSample"
    assert uploaded.json["Message"] == f"analysing this image took more than {JOB_SECONDS} s (BWS_ENGINE_JOB_SECONDS)"
    assert flow.upload(token, face("obama_1.jpg")).json["Accepted"] is True  # a fresh worker serves the next

