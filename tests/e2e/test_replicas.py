"""Two service processes on one Redis: each one's index follows the other's writes."""
import time

import pytest

from tests.conftest import start_service, stop_service
from tests.e2e.helpers import Caller, new_class_id

# Index changes travel through the partition's Redis stream, polled every
# BWS_INDEX_POLL_SECONDS (0.1 s in the tests): the stated bound is 2 seconds.
PROPAGATION_BOUND_SECONDS = 2.0


def _wait_for(predicate, bound=PROPAGATION_BOUND_SECONDS):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def second(service, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replica")
    clients_file, keys_file = service.log_path.parent / "clients.json", service.log_path.parent / "keys.json"
    target, process, _, _ = start_service(tmp, service.redis_url, clients_file, keys_file, BWS_WORKERS="1")
    yield target
    stop_service(process)


def test_a_replica_is_ready_with_everything_already_enrolled(service, second):
    import grpc

    first = Caller(service.channel(), service.clients["tenant-a"])
    class_id = new_class_id()
    first.enroll(class_id, "lin_manuel_miranda_1.png")
    # A replica started now must have loaded the template before it said SERVING.
    tmp_target = second
    with grpc.insecure_channel(tmp_target) as channel:
        replica = Caller(channel, service.clients["tenant-a"])
        assert _wait_for(lambda: any(m.classId == class_id for m in
                                     replica.search("lin_manuel_miranda_1.png", top=True).result[0].matches))


def test_enroll_and_delete_propagate_between_replicas(service, second):
    import grpc

    first = Caller(service.channel(), service.clients["tenant-b"])
    with grpc.insecure_channel(second) as channel:
        replica = Caller(channel, service.clients["tenant-b"])
        class_id = new_class_id()
        replica.enroll(class_id, "kit_harington_2.jpg")
        found = lambda: any(m.classId == class_id for m in first.search("kit_harington_1.jpg").result[0].matches)
        assert _wait_for(found)
        replica.set_tags(class_id, "moved")
        assert _wait_for(lambda: [m.classId for m in first.search("kit_harington_1.jpg", tags=["moved"])
                                  .result[0].matches] == [class_id])
        first.delete(class_id)
        assert _wait_for(lambda: all(m.classId != class_id for m in
                                     replica.search("kit_harington_1.jpg", top=True).result[0].matches))
