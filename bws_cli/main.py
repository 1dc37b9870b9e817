"""bws: call a BWS-compatible service from the command line and from scripts.

    bws enroll --classid 4711 face1.jpg face2.jpg
    bws verify --classid 4711 probe.jpg
    bws search --tags staff probe.jpg
    bws compare photo1.jpg photo2.jpg
    bws enroll-dir photos/
    bws --rest classcount
    bws --json verify --classid 4711 probe.jpg | jq .score

Where: --host, else BWS_HOST (gRPC host:port, default localhost:50051); with --rest, --host else BWS_URL
(default http://localhost:8080). Credentials: --token or BWS_TOKEN (a ready JWT), else --clientid/--key or
BWS_CLIENT_ID/BWS_CLIENT_KEY (the key in base64), from which a JWT valid a few minutes is made here.

Exit codes, the same for every command: 0 done, and the answer is yes; 3 done, and the answer is no (not
verified, no match found, no match in compare, enrollment failed, not live, photo not recognized); 1 the call
failed (the error is printed), or healthcheck: not serving (as container health checks expect); 2 bad usage
(arguments, credentials, unreadable files).
"""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
from pathlib import Path

from google.protobuf import json_format

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto.api_token import make_token
from bws_cli import enroll_dir
from bws_cli.progress import CallProgress
from bws_cli.usage import EXIT_FAILED, EXIT_NEGATIVE, EXIT_OK, UsageError
from bws_cli.transport import CallFailed, GrpcTransport, RestTransport


def _key(text: str | None) -> bytes:
    if not text:
        raise UsageError("a client key is needed (--key or BWS_CLIENT_KEY, base64)")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise UsageError("--key must be base64") from None


def _read_images(paths: list[str], tags: dict[int, list[str]] | None = None) -> list[msg.ImageData]:
    images = []
    for i, path in enumerate(paths):
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        images.append(msg.ImageData(image=data, tags=(tags or {}).get(i, [])))
    return images


def _tags(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t]


def _quality(properties: msg.ImageProperties) -> str:
    failed = [f"{q.check}: {q.message}" for q in properties.quality_assessments if q.message]
    faces = f"{len(properties.faces)} face(s)"
    return f"{faces}, quality {properties.quality_score:.2f}" + (f" ({'; '.join(failed)})" if failed else "")


def _errors(errors) -> str:
    return "".join(f"\n  error {e.error_code}: {e.message}" for e in errors)


def _summary(args: argparse.Namespace, reply) -> str:
    command = args.command
    m = reply.message
    if command == "enroll":
        action = fr.FaceEnrollmentResponse.EnrollmentAction.Name(m.performed_action)
        lines = [f"{action}: {m.enrolled_images} image(s) enrolled; template has "
                 f"{m.template_status.feature_vectors} feature vector(s)"]
        lines += [f"  image {i}: {_quality(p)}" for i, p in enumerate(m.image_properties)]
        return "\n".join(lines) + _errors(m.errors)
    if command == "verify":
        return f"{'VERIFIED' if m.verified else 'NOT verified'} (score {m.score:.3f}); " \
               f"{_quality(m.image_properties)}" + _errors(m.errors)
    if command == "search":
        lines = []
        for i, result in enumerate(m.result):
            found = ", ".join(f"{x.classId} ({x.score:.3f})" for x in result.matches) or "no match"
            lines.append(f"image {i}: {found}")
        return "\n".join(lines) + _errors(m.errors)
    if command == "gettemplate":
        if not m.available:
            return f"class {m.classId}: no template"
        return (f"class {m.classId}: enrolled {m.enrolled.ToJsonString()}, {m.feature_vectors} feature vector(s), "
                f"{m.thumbnails_stored} thumbnail(s), encoder {m.encoder_version}, tags {list(m.tags)}")
    if command == "classcount":
        return f"{m.number_of_classes} class(es)"
    if command == "compare":
        level = bws.PhotoVerifyResponse.AccuracyLevel.Name(m.verification_level)
        decision = "MATCH" if m.verification_level != bws.PhotoVerifyResponse.NOT_RECOGNIZED else "NO MATCH"
        return _named(args, f"{decision} (score {m.verification_score:.3f}, {level})" + _errors(m.errors))
    if command in ("livedetect", "photoverify"):
        text = f"{'LIVE' if m.live else 'NOT live'} (liveness score {m.liveness_score:.3f})"
        if command == "photoverify":
            level = bws.PhotoVerifyResponse.AccuracyLevel.Name(m.verification_level)
            verdict = f"{level} (score {m.verification_score:.3f})"
            text = verdict if args.no_liveness else f"{verdict}; {text}"  # no liveness was asked: no verdict
        return text + _errors(m.errors)
    return "OK"


def _named(args: argparse.Namespace, text: str) -> str:
    """compare's messages name its files, not the PhotoVerify fields underneath."""
    if args.command != "compare":
        return text
    return text.replace("live_images[0]", args.first).replace("photo:", f"{args.second}:")


def compare_json(args: argparse.Namespace, message) -> dict:
    """`bws compare --json`: the decision, the score and the level, not PhotoVerify's liveness fields."""
    return {"match": message.verification_level != bws.PhotoVerifyResponse.NOT_RECOGNIZED,
            "score": round(message.verification_score, 6),
            "level": bws.PhotoVerifyResponse.AccuracyLevel.Name(message.verification_level),
            "errors": [{"errorCode": e.error_code, "message": _named(args, e.message)} for e in message.errors]}


def is_positive(args: argparse.Namespace, message) -> bool:
    """Whether the answer is what a script hopes for (else exit code 3)."""
    command = args.command
    if command == "enroll":
        return message.performed_action != fr.FaceEnrollmentResponse.ENROLLMENT_FAILED and message.enrolled_images > 0
    if command == "verify":
        return message.verified
    if command == "livedetect":
        return message.live
    if command == "search":
        return any(result.matches for result in message.result)
    if command == "compare":
        return message.verification_level != bws.PhotoVerifyResponse.NOT_RECOGNIZED
    if command == "photoverify":
        return message.verification_level != bws.PhotoVerifyResponse.NOT_RECOGNIZED and (
            message.live or args.no_liveness)
    return True


def build_request(args) -> tuple[str, str, object]:
    c = args.command
    if c == "enroll":
        return "FaceRecognition", "Enroll", fr.FaceEnrollmentRequest(classId=args.classid,
                                                                       images=_read_images(args.images))
    if c == "verify":
        (image,) = _read_images([args.image])
        return "FaceRecognition", "Verify", fr.FaceVerificationRequest(classId=args.classid, image=image)
    if c == "search":
        return "FaceRecognition", "Search", fr.FaceSearchRequest(images=_read_images(args.images),
                                                                   tags=_tags(args.tags), top_matches=args.top)
    if c == "settags":
        return "FaceRecognition", "SetTemplateTags", fr.SetTemplateTagsRequest(classId=args.classid,
                                                                                 tags=_tags(args.tags))
    if c == "gettemplate":
        return "FaceRecognition", "GetTemplateStatus", fr.FaceTemplateStatusRequest(
            classId=args.classid, download_thumbnails=bool(args.thumbnails))
    if c == "classcount":
        return "FaceRecognition", "GetClassCount", fr.GetClassCountRequest(tags=_tags(args.tags))
    if c == "deletetemplate":
        return "FaceRecognition", "DeleteTemplate", fr.DeleteTemplateRequest(classId=args.classid)
    if c == "livedetect":
        challenge = {1: [args.challenge]} if args.challenge else None
        return "BioIDWebService", "LivenessDetection", bws.LivenessDetectionRequest(
            live_images=_read_images(args.images, challenge))
    if c == "photoverify":
        photo = _read_images([args.photo])[0].image
        return "BioIDWebService", "PhotoVerify", bws.PhotoVerifyRequest(
            live_images=_read_images(args.images), photo=photo, disable_liveness_detection=args.no_liveness)
    if c == "compare":
        first, second = _read_images([args.first, args.second])
        return "BioIDWebService", "PhotoVerify", bws.PhotoVerifyRequest(
            live_images=[first], photo=second.image, disable_liveness_detection=True)
    raise UsageError(f"unknown command {c}")


def _common_options(p: argparse.ArgumentParser, defaults: bool) -> None:
    """The connection options, accepted before or after the command."""
    default = (lambda value: value) if defaults else (lambda value: argparse.SUPPRESS)
    p.add_argument("--host", default=default(None), help="gRPC host:port (default: BWS_HOST, else localhost:50051) "
                   "or, with --rest, the base URL (default: BWS_URL, else http://localhost:8080)")
    p.add_argument("--rest", action="store_true", default=default(False), help="use the REST API instead of gRPC")
    p.add_argument("--token", default=default(os.environ.get("BWS_TOKEN")),
                   help="a ready JWT (default: BWS_TOKEN); else one is made from the client id and key")
    p.add_argument("--clientid", default=default(os.environ.get("BWS_CLIENT_ID")), help="default: BWS_CLIENT_ID")
    p.add_argument("--key", default=default(os.environ.get("BWS_CLIENT_KEY")),
                   help="client key, base64 (default: BWS_CLIENT_KEY)")
    p.add_argument("--reference-number", default=default(None), help="sent as reference-number, echoed back")
    p.add_argument("--deadline", type=float, default=default(60.0), help="seconds to wait for the answer")
    p.add_argument("--json", action="store_true", default=default(False),
                   help="print the response (or the error) as JSON on stdout, camelCase as the REST API")
    p.add_argument("-v", "--verbose", action="store_true", default=default(False),
                   help="print the full response and headers")


COMMANDS = {
    "token": "print a JWT for curl or grpcurl (made from the client id and key)",
    "enroll": "enroll face images into a class (creates or updates its template)",
    "verify": "compare one image with a class's template",
    "search": "find the classes whose templates match the faces in the images",
    "settags": "replace a template's tags",
    "gettemplate": "show a template's status, optionally download its thumbnails",
    "classcount": "count the templates (with all of the given tags)",
    "deletetemplate": "delete a class's template",
    "livedetect": "liveness from two or more images of a moving head (one image: passive only)",
    "photoverify": "compare live images with an ID photo",
    "compare": "are two photos the same person? one score and a decision at the service's threshold",
    "enroll-dir": "enroll a folder of photos: a class per sub-folder or per file name; resumable",
    "healthcheck": "is the service ready? (exit code 0 when serving, 1 when not)",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bws", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common_options(p, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, defaults=False)
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        sub.add_parser(name, parents=[common], help=text, description=text)
    c = sub.choices
    c["token"].add_argument("--lifetime", type=int, default=600, help="seconds the token is valid (default: 600)")
    for name in ("enroll", "search", "livedetect"):
        c[name].add_argument("images", nargs="+", metavar="IMAGE")
    c["enroll"].add_argument("--classid", type=int, required=True)
    c["search"].add_argument("--tags", help="comma-separated: only templates with all of them")
    c["search"].add_argument("--top", action="store_true", help="best matches whatever their score")
    c["livedetect"].add_argument("--challenge", choices=["up", "down", "left", "right"],
                                 help="tag the second image with the head movement asked for")
    c["verify"].add_argument("--classid", type=int, required=True)
    c["verify"].add_argument("image", metavar="IMAGE")
    c["settags"].add_argument("--classid", type=int, required=True)
    c["settags"].add_argument("--tags", required=True, help="comma-separated; replaces all tags")
    c["gettemplate"].add_argument("--classid", type=int, required=True)
    c["gettemplate"].add_argument("--thumbnails", metavar="DIR", help="download the face thumbnails into DIR")
    c["classcount"].add_argument("--tags", help="comma-separated: count templates with all of them")
    c["deletetemplate"].add_argument("--classid", type=int, required=True)
    c["photoverify"].add_argument("--photo", required=True, help="the ID photo")
    c["photoverify"].add_argument("--no-liveness", action="store_true", help="compare faces only")
    c["photoverify"].add_argument("images", nargs="+", metavar="IMAGE", help="live images")
    c["compare"].add_argument("first", metavar="PHOTO_A")
    c["compare"].add_argument("second", metavar="PHOTO_B")
    enroll_dir.add_arguments(c["enroll-dir"])
    return p


def _health(args) -> int:
    if args.rest:
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(args.host if "://" in args.host else f"http://{args.host}")
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=args.deadline)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            body = response.read().decode()
        except OSError as exc:
            return _fail(args, "UNAVAILABLE", str(exc), {})
        serving = response.status == 200
        detail = f" {body}" if args.verbose else ""
    else:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(args.host) as channel:
            try:
                status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                                   timeout=args.deadline)
            except grpc.RpcError as error:
                return _fail(args, error.code().name, error.details() or "", {})
        serving = status.status == health_pb2.HealthCheckResponse.SERVING
        detail = ""
    if args.json:
        print(json.dumps({"status": "SERVING" if serving else "NOT_SERVING"}))
    else:
        print(("SERVING" if serving else "NOT SERVING") + detail)
    return EXIT_OK if serving else EXIT_FAILED


def _fail(args, code: str, message: str, headers: dict[str, str]) -> int:
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"failed: {code}: {message}", file=sys.stderr)
    if args.verbose:
        for key, value in sorted(headers.items()):
            print(f"{key}: {value}", file=sys.stderr)
    return EXIT_FAILED


def _token(args) -> str:
    if args.command != "token" and args.token:
        return args.token
    if not args.clientid:
        raise UsageError("a client id is needed (--clientid or BWS_CLIENT_ID), or a token (--token or BWS_TOKEN)")
    return make_token(args.clientid, _key(args.key), getattr(args, "lifetime", 300))


def _metadata(args, token: str) -> list[tuple[str, str]]:
    metadata = [("authorization", f"Bearer {token}")]
    if args.reference_number:
        metadata.append(("reference-number", args.reference_number))
    return metadata


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.host = args.host or (os.environ.get("BWS_URL") or "http://localhost:8080" if args.rest
                              else os.environ.get("BWS_HOST") or "localhost:50051")
    if args.command == "healthcheck":
        return _health(args)
    token = _token(args)
    if args.command == "token":
        print(token)
        return EXIT_OK
    transport = RestTransport(args.host) if args.rest else GrpcTransport(args.host)
    if args.command == "enroll-dir":  # a long run: a fresh token per call (unless a ready one was given)
        return enroll_dir.run(args, transport, lambda: _metadata(args, _token(args)))
    metadata = _metadata(args, token)
    service, method, request = build_request(args)
    with CallProgress(sys.stderr, enabled=sys.stderr.isatty()) as progress:
        try:
            reply = transport.call(service, method, request, metadata, args.deadline, progress.sent)
        except CallFailed as failure:
            return _fail(args, failure.code, _named(args, failure.message), failure.headers)
    if args.json and args.command == "compare":
        print(json.dumps(compare_json(args, reply.message)))
    elif args.json:
        print(json_format.MessageToJson(reply.message, always_print_fields_with_no_presence=True))
    else:
        print(_summary(args, reply))
    if args.command == "gettemplate" and args.thumbnails:
        folder = Path(args.thumbnails)
        folder.mkdir(parents=True, exist_ok=True)
        for i, thumbnail in enumerate(reply.message.thumbnails):
            (folder / f"{args.classid}-{i}.png").write_bytes(thumbnail.image)
        print(f"{len(reply.message.thumbnails)} thumbnail(s) written to {folder}", file=sys.stderr if args.json
              else sys.stdout)
    if args.verbose:
        out = sys.stderr if args.json else sys.stdout
        for key, value in sorted(reply.headers.items()):
            print(f"{key}: {value}", file=out)
        if not args.json:
            print(json_format.MessageToJson(reply.message))
    return EXIT_OK if is_positive(args, reply.message) else EXIT_NEGATIVE


if __name__ == "__main__":
    sys.exit(main())
