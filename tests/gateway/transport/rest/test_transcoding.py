"""Routes, marshaling and error mapping, straight from the descriptors."""
import json

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from bws_proto import bioidwebservice_pb2, facerecognition_pb2 as fr
from bws_proto.transcoding import marshal
from gateway.transport.rest.error_body import error_body
from gateway.transport.status import http_status
from gateway.transport.openapi.document import openapi_document
from bws_proto.transcoding.routes import compile_template, routes_of

ROUTES = routes_of([fr.DESCRIPTOR, bioidwebservice_pb2.DESCRIPTOR])


def route(verb, template):
    return next(r for r in ROUTES if r.http_method == verb and r.template == template)


def test_every_annotated_method_has_a_route():
    assert {(r.http_method, r.template, r.body) for r in ROUTES} == {
        ("POST", "/api/face/v1/enroll/{classId}", "images"), ("POST", "/api/face/v1/verify/{classId}", "image"),
        ("POST", "/api/face/v1/search", "*"), ("PUT", "/api/face/v1/template/{classId}/tags", "tags"),
        ("GET", "/api/face/v1/template/status/{classId}", ""), ("GET", "/api/face/v1/classcount", ""),
        ("DELETE", "/api/face/v1/template/{classId}", ""), ("POST", "/api/v1/livenessdetection", "*"),
        ("POST", "/api/v1/videolivenessdetection", "*"), ("POST", "/api/v1/photoverify", "*")}
    assert route("POST", "/api/face/v1/search").grpc_path == "/bioid.services.v1.FaceRecognition/Search"


def test_a_new_annotated_rpc_needs_no_rest_code():
    """A service the gateway has never seen gets routes from its annotations alone."""
    from google.api import annotations_pb2, http_pb2

    proto = descriptor_pb2.FileDescriptorProto(name="demo.proto", package="demo", syntax="proto3",
                                               dependency=["google/api/annotations.proto"])
    message = proto.message_type.add(name="Thing")
    message.field.add(name="thing_id", number=1, type=3, label=1, json_name="thingId")
    message.field.add(name="parent", number=2, type=9, label=1, json_name="parent")
    method = proto.service.add(name="Things").method.add(name="GetThing", input_type=".demo.Thing",
                                                         output_type=".demo.Thing")
    method.options.Extensions[annotations_pb2.http].CopyFrom(
        http_pb2.HttpRule(get="/v1/{parent=shelves/*}/things/{thing_id}"))
    pool = descriptor_pool.Default()
    pool.AddSerializedFile(proto.SerializeToString())
    file = pool.FindFileByName("demo.proto")
    (demo,) = routes_of([file])
    assert demo.match("/v1/shelves/s1/things/42") == {"parent": "shelves/s1", "thing_id": "42"}
    request = marshal.request_from_http(demo, {"parent": "shelves/s1", "thing_id": "42"}, {}, b"")
    assert request.thing_id == 42 and request.parent == "shelves/s1"


@pytest.mark.parametrize("template, path, expected", [
    ("/a/{x}", "/a/5", {"x": "5"}), ("/a/{x}", "/a/5/6", None), ("/a/{x=**}", "/a/5/6", {"x": "5/6"}),
    ("/a/{x}/b", "/a/1/b", {"x": "1"}), ("/a/{x}/b", "/a/1/c", None)])
def test_path_templates(template, path, expected):
    pattern, variables = compile_template(template)
    found = pattern.fullmatch(path)
    assert (dict(zip(variables, found.groups())) if found else None) == expected


def test_body_field_path_and_query_binding():
    enroll = marshal.request_from_http(route("POST", "/api/face/v1/enroll/{classId}"), {"classId": "77"}, {},
                                       json.dumps([{"image": "AAEC", "tags": ["up"]}]).encode())
    assert enroll.classId == 77 and enroll.images[0].image == b"\x00\x01\x02" and enroll.images[0].tags == ["up"]
    status = marshal.request_from_http(route("GET", "/api/face/v1/template/status/{classId}"), {"classId": "5"},
                                       {"downloadThumbnails": ["true"]}, b"")
    assert status.download_thumbnails is True
    count = marshal.request_from_http(route("GET", "/api/face/v1/classcount"), {}, {"tags": ["a", "b"]}, b"")
    assert list(count.tags) == ["a", "b"]
    search = marshal.request_from_http(route("POST", "/api/face/v1/search"), {},
                                       {}, b'{"top_matches": true, "tags": ["t"]}')
    assert search.top_matches and search.tags == ["t"]


@pytest.mark.parametrize("verb, template, path_values, query, body, message", [
    ("POST", "/api/face/v1/search", {}, {}, b"[1]", "must be an object"),
    ("POST", "/api/face/v1/search", {}, {}, b"{", "malformed JSON"),
    ("POST", "/api/face/v1/search", {}, {}, b'{"bogus": 1}', "bogus"),
    ("POST", "/api/face/v1/search", {}, {"tags": ["a"]}, b"{}", "query parameters are not accepted"),
    ("GET", "/api/face/v1/classcount", {}, {"what": ["1"]}, b"", "unknown field"),
    ("GET", "/api/face/v1/template/status/{classId}", {"classId": "x1"}, {}, b"", "classId"),
    ("GET", "/api/face/v1/template/status/{classId}", {"classId": "1"}, {"downloadThumbnails": ["yes"]}, b"",
     "true or false"),
])
def test_bad_requests_say_what_is_wrong(verb, template, path_values, query, body, message):
    with pytest.raises(marshal.BadRequest, match=message):
        marshal.request_from_http(route(verb, template), path_values, query, body)


def test_output_json_rules():
    response = fr.FaceEnrollmentResponse(template_status=fr.FaceTemplateStatus(classId=2**62, tags=["a"]))
    data = marshal.to_dict(response)
    assert data["templateStatus"]["classId"] == 2**62  # a number, not "4611686018427387904"
    assert data["status"] == "SUCCEEDED" and data["performedAction"] == "NONE" and data["errors"] == []
    assert data["enrolledImages"] == 0 and data["imageProperties"] == []
    count = marshal.to_dict(fr.GetClassCountResponse(number_of_classes=3))
    assert count == {"numberOfClasses": 3}


@pytest.mark.parametrize("code, status", [
    (grpc.StatusCode.OK, 200), (grpc.StatusCode.INVALID_ARGUMENT, 400), (grpc.StatusCode.FAILED_PRECONDITION, 400),
    (grpc.StatusCode.OUT_OF_RANGE, 400), (grpc.StatusCode.UNAUTHENTICATED, 401),
    (grpc.StatusCode.PERMISSION_DENIED, 403), (grpc.StatusCode.NOT_FOUND, 404), (grpc.StatusCode.CANCELLED, 408),
    (grpc.StatusCode.ALREADY_EXISTS, 409), (grpc.StatusCode.ABORTED, 409), (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    (grpc.StatusCode.UNIMPLEMENTED, 501), (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504), (grpc.StatusCode.INTERNAL, 500), (grpc.StatusCode.UNKNOWN, 500),
    (grpc.StatusCode.DATA_LOSS, 500)])
def test_status_mapping_of_the_contract(code, status):
    assert http_status(code) == status
    assert json.loads(error_body(code, "m")) == {"code": code.value[0], "message": "m", "details": []}


def test_openapi_document_is_valid():
    from openapi_spec_validator import validate

    validate(openapi_document(ROUTES, "t", "1"))
