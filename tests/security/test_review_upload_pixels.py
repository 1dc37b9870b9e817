"""Found in review: /extension/upload accepted each sample on its own, but the task analyses a token's samples
in one call, within the per-call pixel budget: samples that together went over it were accepted, then the task
took them (deleting them) and used a try, only to fail. The token's samples together are now kept within that
budget at upload (413 SamplesTooLarge), and the task runs on what was accepted."""
from __future__ import annotations

import pytest

from tests.e2e.helpers import new_class_id
from tests.e2e.test_extension import Flow
from tests.security.own_service import own_service
from tests.security.test_fairness import face_on_canvas


@pytest.fixture(scope="module")
def small_budget(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("upload-pixels"), redis_server.url, BWS_WORKERS="1",
                     BWS_MAX_PIXELS_PER_CALL="4000000") as service:
        yield service


def test_samples_over_the_task_pixel_budget_are_refused_at_upload(small_budget):
    flow = Flow(small_budget)
    token = flow.token(new_class_id(), "enroll", livedetection="false")
    photo = face_on_canvas("obama_1.jpg", side=1500)  # 2.25 megapixels: one fits the budget, two do not
    first = flow.upload(token, photo, index=1)
    assert first.status == 200 and first.json["Accepted"] is True, first.body
    second = flow.upload(token, photo, index=2)
    assert second.status == 413 and second.json["Error"] == "SamplesTooLarge", second.body
    assert "BWS_MAX_PIXELS_PER_CALL" in second.json["Message"]
    again = flow.upload(token, photo, index=1)  # replacing a sample counts it once
    assert again.status == 200 and again.json["Accepted"] is True, again.body
    enrolled = flow.task(token, "enroll")
    assert enrolled.status == 200 and enrolled.json == {"Success": True, "Error": None}, enrolled.body
