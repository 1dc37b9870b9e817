"""The whole service on Redis Cluster and behind Sentinels (Valkey 9.1), and on Redis 7.0 as users run it: one
server, a cluster, sentinels."""
import asyncio
from types import SimpleNamespace

import pytest

from templates_store import KeyRing, PartitionId
from templates_store.buckets import meta_key
from templates_store.connection import connect
from tests.conftest import start_service, stop_service, write_clients_file
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.test_extension import Flow


async def _recorded_buckets(url: str, partition: PartitionId) -> int:
    client = connect(url)
    try:
        return int(await client.hget(meta_key(partition), "buckets"))
    finally:
        await client.aclose()


@pytest.mark.parametrize("topology", ["cluster", "sentinels", "redis7_server", "redis7_cluster", "redis7_sentinels"])
def test_service_on(topology, request, tmp_path):
    url = request.getfixturevalue(topology).url
    clients = write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate().to_json())
    target, process, log_path, env = start_service(tmp_path, url, tmp_path / "clients.json", tmp_path / "keys.json",
                                                 BWS_WORKERS="1", BWS_PARTITION_BUCKETS="12")
    try:
        import grpc

        with grpc.insecure_channel(target) as channel:
            a = Caller(channel, clients["tenant-a"])
            b = Caller(channel, clients["tenant-b"])
            obama, biden = new_class_id(), new_class_id()
            a.enroll(obama, "obama_1.jpg")
            b.enroll(biden, "biden_1.jpg")
            a.set_tags(obama, "x")
            assert a.verify(obama, "obama_2.jpg").verified
            assert a.search("obama_2.jpg", tags=["x"]).result[0].matches[0].classId == obama
            assert a.count("x") == 1 and b.count() == 1
            assert asyncio.run(_recorded_buckets(url, PartitionId("acme", 1))) == 12
            status = a.status(obama, thumbnails=True)
            assert status.feature_vectors == 1 and status.thumbnails[0].image.startswith(b"\x89PNG")
            a.delete(obama)
            assert a.count() == 0 and b.verify(biden, "biden_2.jpg").verified
        # The BWS 2 token flow (samples in Redis under the partition) on the same topology.
        flow = Flow(SimpleNamespace(http_url=f"http://127.0.0.1:{env['BWS_HTTP_PORT']}", clients=clients))
        class_id = new_class_id()
        token = flow.token(class_id, "enroll", livedetection="false")
        assert flow.upload(token, face("rose_leslie_1.jpg"), index=0).status == 200
        assert flow.task(token, "enroll").json == {"Success": True, "Error": None}
        with grpc.insecure_channel(target) as channel:
            assert Caller(channel, clients["tenant-a"]).verify(class_id, "rose_leslie_2.jpg").verified
    finally:
        stop_service(process)
    assert "Traceback" not in log_path.read_text()
