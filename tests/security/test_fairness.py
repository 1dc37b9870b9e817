"""Attack: pixel bombs. A few kilobytes of PNG decode to tens of megapixels;
one call of them must not hold every engine worker while other tenants wait,
and its work must stop when its caller goes away."""
import base64
import io
import itertools
import threading
import time

import grpc
import pytest
from PIL import Image

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.security.hostile_files import scan_bomb
from tests.security.own_service import blank_png, log_records, own_service

_references = itertools.count(1)


def face_on_canvas(name: str, side: int = 6300) -> bytes:
    """A real face on a canvas as large as the bombs: about as much work for a worker."""
    canvas = Image.new("RGB", (side, side), (128, 128, 128))
    canvas.paste(Image.open(io.BytesIO(face(name))).convert("RGB"), (side // 3, side // 3))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    return buffer.getvalue()


def test_a_call_over_the_pixel_budget_is_refused_before_any_decoding(service, a):
    bombs = [msg.ImageData(image=blank_png()) for _ in range(2)]  # 79 megapixels in about 100 KB
    with pytest.raises(grpc.RpcError) as refused:
        a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(), images=bombs))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "79.4 megapixels" in refused.value.details() and "budget of 60.0 megapixels" in refused.value.details()
    reply = request(service.http_url, "POST", f"/api/face/v1/enroll/{new_class_id()}",
                    [{"image": base64.b64encode(blank_png()).decode()} for _ in range(2)],
                    {"Authorization": f"Bearer {service.clients['tenant-a'].token()}"})
    assert reply.status == 400 and "BWS_MAX_PIXELS_PER_CALL" in reply.json["message"]
    assert a.enroll(new_class_id(), "obama_1.jpg", "obama_2.jpg").enrolled_images == 2  # within budget


@pytest.fixture(scope="module")
def lenient(tmp_path_factory, redis_server):
    """Two workers and a pixel budget high enough to let the bombs through to the engine."""
    with own_service(tmp_path_factory.mktemp("fairness"), redis_server.url,
                     BWS_MAX_PIXELS_PER_CALL="1000000000") as service:
        yield service


def test_one_client_flooding_the_engine_does_not_starve_another(lenient):
    with lenient.channel() as channel:
        a = Caller(channel, lenient.clients["tenant-a"])
        b = Caller(channel, lenient.clients["tenant-b"])
        b_class = new_class_id()
        assert b.enroll(b_class, "kit_harington_1.jpg").enrolled_images == 1
        a_done = threading.Event()

        def flood():  # twenty bombs (the attack): ten rounds of both workers, had they been A's to take
            try:
                a.Enroll(fr.FaceEnrollmentRequest(classId=new_class_id(),
                                                  images=[msg.ImageData(image=blank_png()) for _ in range(20)]))
            finally:
                a_done.set()

        flooding = threading.Thread(target=flood)
        flooding.start()
        time.sleep(1.0)  # A's jobs are at the workers
        verdict = b.verify(b_class, raw=face_on_canvas("kit_harington_2.jpg"))
        a_still_running = not a_done.is_set()
        flooding.join(180)
        assert verdict.ByteSize() > 0
        assert a_still_running, "B's Verify had to wait until A's whole flood was done"


def test_the_engine_work_of_a_rest_caller_that_went_away_is_cancelled(lenient):
    reference = f"gone-{next(_references)}-{time.time_ns()}"
    # Twenty JPEGs of 100 scans (the most BWS_MAX_JPEG_SCANS lets through), each 100 passes over 40 MP: ten
    # rounds of both workers, far more than the caller's 1.5 s on any machine (six blank PNGs were not, on an
    # idle one).
    bomb = base64.b64encode(scan_bomb(scans=94)).decode()
    body = [{"image": bomb} for _ in range(20)]
    with pytest.raises(OSError):  # the caller gives up and closes its connection
        request(lenient.http_url, "POST", f"/api/face/v1/enroll/{new_class_id()}", body,
                {"Authorization": f"Bearer {lenient.clients['tenant-a'].token()}", "reference-number": reference},
                timeout=1.5)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        lines = [r for r in log_records(lenient) if r.get("reference_number") == reference]
        if lines:
            break
        time.sleep(0.2)
    assert lines and lines[0]["code"] == "CANCELLED", lines
    with lenient.channel() as channel:  # the client's engine slots are free again
        assert Caller(channel, lenient.clients["tenant-a"]).enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1
