"""The classic Web API's direct calls (developer.bioid.com /classicbws/bwsreference/webapi/...), each with Basic
authentication (app id and app secret) as its reference page names it:

  GET  /extension/status                                 StatusResult {Version, Label, Features}
  GET  /extension/isenrolled?bcid=&trait=                200 enrolled, 404 not, no body
  POST /extension/qualitycheck?state=                    QualityCheckResult {Success, Errors, EyeCenters, ...}
  POST /extension/livedetection?state=                   two live images: true/false (with state: a result object)
  POST /extension/passivelivedetection?state=            one image: LiveDetectionResult
  POST /extension/photoverify?accuracy=                  true/false
  POST /extension/photoverify2?accuracy=&state=          {Success, JobID, State, AccuracyLevel, Errors}

Images come as data URLs (RFC 2397): a JSON object (liveimage1, liveimage2, idphoto) or form fields of the same
names, or, for qualitycheck and passivelivedetection, the body itself. "data:," is no image (BioID's
FaceLivenessDetection sample sends it for a missing one); photoverify without a second live image skips the
liveness detection, as the reference says. Samples that cannot be used answer 400 with {"Message": <code>} (the
classic codes of core/job_errors.py), which BioID's samples read. Every call runs for the authenticated
application: its BCIDs must lie in its storage and partition (else 403), its operations allow the call, its
engine jobs count against its share, its body is held in the byte budget."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import unquote_plus

from aiohttp import web

from bws_proto.transcoding.marshal import within_value_limit
from gateway.core import tenancy
from gateway.core.errors import InvalidArgument, NotFound, PermissionDenied, ServiceError
from gateway.core.job_errors import CLASSIC_CODE, Classic, JobError
from gateway.core.liveness import AccuracyLevel, LiveImage
from gateway.core.tenancy import Client
from gateway.engine import ImageAnalysis
from gateway.infra.budget import ByteBudget, OverBudget
from gateway.infra.store_outage import translate
from gateway.transport.extension.flow import ExtensionFlow, decode_data_url
from gateway.transport.extension.http import JOB_ID
from gateway.transport.extension.task_tokens import parse_bcid
from gateway.transport.rest.bodies import BodyError, holding_body, read_body, refusing
from gateway.transport.status import http_status_of

log = logging.getLogger("bws.extension")
TRAITS = ("face", "periocular", "voice")  # BWS's traits; templates here are of faces only
DEFAULT_ACCURACY = 4
_FEATURES = (("QualityCheck", None, "Face"), ("LiveDetection", "liveness", "Face"),
             ("Enrollment", "enroll", "Face"), ("Verification", "verify", "Face"),
             ("Identification", "search", "Face"), ("PhotoVerify", "photoverify", None))
_QUALITY_CODES = {"FaceSize": "ImageTooSmall", "Sharpness": "ImageTooBlurry", "FaceInsideImage": "FaceCutOff"}
MAX_FORM_FIELDS = 16  # more than any call has
_MAX_FIELD_NAME = 64
_MAX_ESCAPE_SHARE = 16  # at most one character in 16 of a data URL's value is a '%'
# The escapes a form-encoded data URL holds (its punctuation and base64's '+', '/', '='), decoded with str.replace;
# urllib's unquote works escape by escape in Python, and a form of 50 MB of "%41" took seconds of the event loop.
_DATA_URL_ESCAPES = [[(f"%{ord(c):02{case}}", c) for c in "+/=:;,"] for case in "Xx"]


class Refused(Exception):
    """A classic answer other than 200: `status` with {"Message": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Samples:
    """The images of one call, by field name (only those sent, "data:," is none)."""
    images: dict[str, bytes]
    state: str | None
    job_id: str | None = None

    def result(self, success: bool, errors: list[dict], **fields) -> dict:
        """A classic result object: Success, JobID, State, Errors and the call's own fields."""
        return {"Success": success, "JobID": self.job_id, "State": self.state, "Errors": errors, **fields}

    def need(self, *names: str) -> list[bytes]:
        if any(name not in self.images for name in names):
            raise Refused(400, Classic.MISSING_DATA)
        return [self.images[name] for name in names]


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"Message": message}, status=status, headers=headers)


def _answer(error: Exception) -> web.Response:
    error = translate(error)
    if isinstance(error, Refused):
        return _message(error.status, error.message)
    if isinstance(error, OverBudget):
        return _message(429, str(error), {"Retry-After": str(error.retry_after)})
    if isinstance(error, BodyError):
        return refusing(error, _message(error.status, str(error)))
    if isinstance(error, ServiceError):
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
        status = http_status_of(error.kind)
        if status == 401:
            headers["WWW-Authenticate"] = "Basic"
        return _message(status, error.message, headers)
    log.exception("classic call failed")
    return _message(500, "internal error")


def _eye_centers(analysis: ImageAnalysis) -> dict | None:
    if len(analysis.faces) != 1:
        return None
    face = analysis.faces[0]
    return {"RightEyeX": face.right_eye.x, "RightEyeY": face.right_eye.y,
            "LeftEyeX": face.left_eye.x, "LeftEyeY": face.left_eye.y}


def _error(code: str, message: str, details: str = "") -> dict:
    return {"Code": code, "Message": message, "Details": details}


def _quality_errors(analysis: ImageAnalysis) -> list[dict]:
    if not analysis.faces:
        return [_error(Classic.NO_FACE_FOUND, "No face found on the image.")]
    if len(analysis.faces) > 1:
        return [_error(Classic.MULTIPLE_FACES_FOUND, "More than one face found on the image.")]
    return [_error(_quality_code(c), c.message or c.check, f"{c.check}: score {c.score:.2f}")
            for c in analysis.all_checks if not c.passed]


def _quality_code(check) -> str:
    if check.check == "Brightness":
        return "ImageOverexposed" if "overexposed" in check.message else "ImageTooDark"
    return _QUALITY_CODES.get(check.check, check.check)


def _usable_or_refuse(analyses: list[ImageAnalysis]) -> None:
    """A sample without one usable face is a 400 naming why, as the classic API answers."""
    for analysis in analyses:
        if analysis.face is None:
            code = Classic.MULTIPLE_FACES_FOUND if len(analysis.faces) > 1 else Classic.NO_FACE_FOUND
            raise Refused(400, code)


def _sample_results(analyses: list[ImageAnalysis]) -> list[dict]:
    return [{"Errors": _quality_errors(a), "EyeCenters": _eye_centers(a)} for a in analyses]


def _job_errors(errors: list[JobError]) -> list[dict]:
    return [_error(CLASSIC_CODE.get(e.error_code, e.error_code), e.message) for e in errors]


class DirectCalls:
    def __init__(self, flow: ExtensionFlow, version: str) -> None:
        self.flow = flow
        self.version = version

    def app(self, request: web.Request, operation: str | None) -> Client:
        client = self.flow.app(request.headers.get("Authorization"))
        request["client"] = client.client_id
        if operation is not None and not client.allows(operation):
            raise PermissionDenied(f"the application may not call {request.path}")
        tenancy.bind(client)  # its engine jobs count against its own share
        return client

    # --- calls without a body ---------------------------------------------------------------------------------

    def status(self, client: Client) -> dict:
        features = [{"Name": name, "Traits": traits,
                     "Storage": client.partition.storage if name in ("Enrollment", "Verification", "Identification")
                     else None,
                     "Partitions": str(client.partition.partition)
                     if name in ("Enrollment", "Verification", "Identification") else None}
                    for name, operation, traits in _FEATURES if operation is None or client.allows(operation)]
        return {"Version": self.version, "Label": f"BWS-compatible gateway {self.version}", "Features": features}

    async def is_enrolled(self, client: Client, bcid_text: str | None, trait: str | None) -> bool:
        if not bcid_text or not trait or trait.lower() not in TRAITS:
            raise InvalidArgument(f"bcid and trait ({', '.join(TRAITS)}) are required")
        try:
            bcid = parse_bcid(bcid_text)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        if bcid.partition != client.partition:
            raise PermissionDenied(f"BCID partition {bcid.partition} is not the application's storage and partition")
        if trait.lower() != "face":
            return False
        status = await self.flow.recognition.template_status(client, bcid.class_id, False)
        return status.available

    # --- calls with images ------------------------------------------------------------------------------------

    async def quality_check(self, samples: Samples) -> dict:
        (image,) = samples.need("image")
        (analysis,) = await _decoded(self.flow.recognition.analyze([image], "image"))
        errors = _quality_errors(analysis)
        return samples.result(not errors, errors, EyeCenters=_eye_centers(analysis), ProcessedSample=None)

    async def live_detection(self, samples: Samples) -> dict:
        images = samples.need("liveimage1", "liveimage2")
        analyses = await _decoded(self.flow.liveness.analyze([LiveImage(i) for i in images], "liveimage"))
        _usable_or_refuse(analyses)
        judged = self.flow.liveness.judge(analyses, [None, None])  # no challenge here: the reference says so
        return samples.result(judged.live, _job_errors(judged.errors), Samples=_sample_results(analyses))

    async def passive_live_detection(self, samples: Samples) -> dict:
        (image,) = samples.need("image")
        judged = await _decoded(self.flow.liveness.detect([LiveImage(image)]))
        _usable_or_refuse(judged.analyses)
        return samples.result(judged.live, _job_errors(judged.errors), Samples=_sample_results(judged.analyses))

    async def photo_verify(self, samples: Samples, accuracy_text: str | None) -> dict:
        accuracy = _accuracy(accuracy_text)
        (photo,) = samples.need("idphoto")
        live = [samples.images[name] for name in ("liveimage1", "liveimage2") if name in samples.images]
        if not live:
            raise Refused(400, Classic.MISSING_DATA)
        without_liveness = "liveimage2" not in samples.images  # the reference: then no liveness detection
        outcome = await _decoded(self.flow.liveness.photo_verify([LiveImage(i) for i in live], photo,
                                                                  without_liveness))
        _usable_or_refuse([outcome.photo, *outcome.liveness.analyses])
        success = outcome.level >= accuracy and not outcome.errors
        return samples.result(success, _job_errors(outcome.errors), AccuracyLevel=int(outcome.level))


def _accuracy(text: str | None) -> AccuracyLevel:
    """1 (worst) to 5 (best), default 4; values outside are taken as the nearest end, as the reference says."""
    if text in (None, ""):
        return AccuracyLevel(DEFAULT_ACCURACY)
    try:
        return AccuracyLevel(min(5, max(1, int(text))))
    except ValueError:
        raise InvalidArgument("accuracy must be a number from 1 to 5") from None


def _images_of(fields: dict, names: tuple[str, ...]) -> dict[str, bytes]:
    images = {}
    for name in names:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and value.strip() in ("", "data:,")):
            continue
        if not isinstance(value, str):
            raise Refused(400, Classic.INVALID_SAMPLE_DATA)
        try:
            image = decode_data_url(value.replace(" ", "+").encode())  # a form's unescaped '+' reads ' '
        except InvalidArgument:
            raise Refused(400, Classic.INVALID_SAMPLE_DATA) from None
        if image:
            images[name] = image
    return images


async def _decoded(job: Awaitable):
    """An image the engine cannot decode is the classic InvalidSampleData."""
    try:
        return await job
    except InvalidArgument:
        raise Refused(400, Classic.INVALID_SAMPLE_DATA) from None


def parse_body(body: bytes, content_type: str, names: tuple[str, ...], raw: bool) -> dict[str, bytes]:
    """The images of a body: a data URL alone (raw), a JSON object, or urlencoded form fields."""
    text = body.decode("ascii", errors="replace").strip()
    if raw and text.startswith("data:"):
        return _images_of({"image": text}, ("image",))
    if content_type == "application/x-www-form-urlencoded" or (not text.startswith("{") and "=" in text):
        try:
            fields = form_fields(text)
        except ValueError:
            raise Refused(400, Classic.INVALID_SAMPLE_DATA) from None
    else:
        try:
            within_value_limit(body)  # 50 MB of "{}," would be 17 million objects
            fields = json.loads(text) if text else {}
        except (ValueError, RecursionError):  # bad JSON, integers of more digits than Python converts, nesting
            raise Refused(400, Classic.INVALID_SAMPLE_DATA) from None
        if isinstance(fields, str) and raw:
            fields = {"image": fields}
        if not isinstance(fields, dict):
            raise Refused(400, Classic.INVALID_SAMPLE_DATA)
    if raw and "image" not in fields:
        fields = {"image": next((v for v in fields.values() if isinstance(v, str)), None)}
    return _images_of(fields, names)


def form_fields(text: str) -> dict[str, str]:
    """The fields of an urlencoded form (the first value of each name; ValueError for more than MAX_FORM_FIELDS),
    in time linear in its length at C speed. Values are read as data URLs, whose escapes are a known few: any
    other escape is left as it is (no data URL holds a '%'), and a value with more escapes than a data URL has
    is left whole. A '+' is kept ('+' and ' ' both read '+' in a data URL)."""
    if text.count("&") >= MAX_FORM_FIELDS:
        raise ValueError("more fields than any call has")
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        if len(name) > _MAX_FIELD_NAME:
            continue  # no field any call reads
        if value.count("%") <= len(value) // _MAX_ESCAPE_SHARE + 64:  # base64's '+' and '/': 1 character in 32
            for escapes in _DATA_URL_ESCAPES:  # upper case (what browsers and urlencode write), then lower case
                if "%" in value:
                    for escape, char in escapes:
                        value = value.replace(escape, char)
        fields.setdefault(unquote_plus(name), value)
    return fields


Handler = Callable[[web.Request], Awaitable[web.Response]]


def add_routes(app: web.Application, calls: DirectCalls, budget: ByteBudget) -> None:
    def with_images(operation: str | None, names: tuple[str, ...], raw: bool, run) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            try:
                client = calls.app(request, operation)  # before a byte of the body is read
                with holding_body(budget, request, client.client_id) as hold:
                    body = await read_body(request, hold)
                    # In a worker thread: the event loop, and every other call on it, goes on meanwhile.
                    images = await asyncio.to_thread(parse_body, body, request.content_type, names, raw)
                    samples = Samples(images, request.query.get("state"), request.get(JOB_ID))
                    return await run(request, samples)
            except Exception as error:  # noqa: BLE001 - every failure becomes an HTTP answer
                return _answer(error)
        return handle

    async def status(request: web.Request) -> web.Response:
        try:
            return web.json_response(calls.status(calls.app(request, None)))
        except Exception as error:  # noqa: BLE001
            return _answer(error)

    async def is_enrolled(request: web.Request) -> web.Response:
        try:
            client = calls.app(request, "status")
            enrolled = await calls.is_enrolled(client, request.query.get("bcid"), request.query.get("trait"))
        except NotFound:
            enrolled = False
        except Exception as error:  # noqa: BLE001
            return _answer(error)
        return web.Response(status=200 if enrolled else 404)

    async def quality(request: web.Request, samples: Samples) -> web.Response:
        return web.json_response(await calls.quality_check(samples))

    async def live(request: web.Request, samples: Samples) -> web.Response:
        result = await calls.live_detection(samples)
        return web.json_response(result if samples.state is not None else result["Success"])

    async def passive(request: web.Request, samples: Samples) -> web.Response:
        return web.json_response(await calls.passive_live_detection(samples))

    def photo(boolean: bool):
        async def run(request: web.Request, samples: Samples) -> web.Response:
            result = await calls.photo_verify(samples, request.query.get("accuracy"))
            return web.json_response(result["Success"] if boolean else result)
        return run

    live_names = ("liveimage1", "liveimage2")
    app.router.add_get("/extension/status", status)
    app.router.add_get("/extension/isenrolled", is_enrolled)
    app.router.add_post("/extension/qualitycheck", with_images(None, ("image",), True, quality))
    app.router.add_post("/extension/livedetection", with_images("liveness", live_names, False, live))
    app.router.add_post("/extension/passivelivedetection", with_images("liveness", ("image",), True, passive))
    for path, boolean in (("/extension/photoverify", True), ("/extension/photoverify2", False)):
        app.router.add_post(path, with_images("photoverify", (*live_names, "idphoto"), False, photo(boolean)))
