"""Found in review: health and reflection, which anyone may call unauthenticated (grpcurl, Kubernetes' gRPC
probes), accepted 64 MiB messages (the server-wide limit the BWS calls need): a few concurrent calls grew the
process by gigabytes. Their calls now read their messages from the request byte budget under one shared share, a
message over 64 KiB refused unparsed, and a health Check that finds no room is answered unread with the server's
status: memory stays bounded and probes keep answering."""
from __future__ import annotations

import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.security.own_service import own_service
from tests.security.raw_calls import SilentCalls
from tests.security.test_bodies import _RssSampler

MB = 1 << 20
BIG = "x" * (60 * MB)
OPTIONS = [("grpc.max_send_message_length", 64 * MB)]
CALLS = 8
RSS_BOUND_MB = 400  # one 64 MiB share, a few copies of it: where 8 calls used to take gigabytes


@pytest.fixture(scope="module")
def public(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("public"), redis_server.url, BWS_WORKERS="1",
                     BWS_MAX_BODY_BYTES_IN_FLIGHT=str(128 * MB), BWS_REQUEST_RECEIVE_SECONDS="2") as service:
        yield service


def at_once(calls) -> list:
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        try:
            answers[i] = ("OK", calls[i]())
        except grpc.RpcError as error:
            answers[i] = (error.code().name, error.details())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def big_check(service):
    with grpc.insecure_channel(service.grpc_target, options=OPTIONS) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=BIG), timeout=60)


def big_lookup(service):
    with grpc.insecure_channel(service.grpc_target, options=OPTIONS) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=BIG)
        return list(stub.ServerReflectionInfo(iter([request]), timeout=60))


def test_large_unauthenticated_messages_do_not_grow_the_process(public):
    sampler = _RssSampler(public.process.pid)
    before = sampler.peak
    sampler.start()
    answers = at_once([lambda: big_check(public)] * CALLS + [lambda: big_lookup(public)] * CALLS)
    sampler.done.set()
    sampler.join()
    assert sampler.peak - before < RSS_BOUND_MB, (before, sampler.peak)
    refused = f"health and reflection requests are limited to {64 * 1024} bytes"
    for code, detail in answers[:CALLS]:  # refused, or (no room) answered unread with the server's status
        assert (code, detail) == ("RESOURCE_EXHAUSTED", refused) or (
            code == "OK" and detail.status == health_pb2.HealthCheckResponse.SERVING), (code, detail)
    for code, detail in answers[CALLS:]:
        assert code == "RESOURCE_EXHAUSTED" and ("limited to" in detail or "retry" in detail), (code, detail)
    assert ("RESOURCE_EXHAUSTED", refused) in answers[:CALLS] and ("RESOURCE_EXHAUSTED", refused) in answers[CALLS:]


def test_ordinary_health_and_reflection_calls_still_work(public):
    with public.channel() as channel:
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
        named = health_pb2.HealthCheckRequest(service="bioid.services.v1.FaceRecognition")
        assert health.Check(named).status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as unknown:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=5)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        (listed,) = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = {s.name for s in listed.list_services_response.service}
        assert "bioid.services.v1.FaceRecognition" in names


def test_probes_answer_while_the_share_is_taken(public):
    """A caller holding the share with a message that never comes does not stop the probes."""
    with public.channel() as channel:
        silent = SilentCalls(channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                             reflection_pb2.ServerReflectionRequest.SerializeToString,
                             reflection_pb2.ServerReflectionResponse.FromString, streaming_response=True, timeout=30)
        held = silent.calls[0]
        try:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(3):
                assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as late:
                list(held)
            assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert "did not arrive within 2 s" in late.value.details()
        finally:
            silent.stop.set()
