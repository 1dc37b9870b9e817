"""The BWS 2 token flow as the service performs it: issue a token for one user
and one task, take uploads, run the task on them once, keep the result.

The tasks reuse the BWS 3 logic (FaceRecognition, Liveness) on the same
engine, store and tenants, so a class enrolled here verifies over gRPC and the
other way round.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
import time
from dataclasses import dataclass, field

from gateway.core import tenancy
from gateway.infra.clients import Client, ClientRegistry
from gateway.engine import InvalidImage
from gateway.engine.motion import DIRECTIONS
from gateway.core.errors import ErrorKind, InvalidArgument, NotFound, PermissionDenied, ServiceError, Unauthenticated
from gateway.transport.extension import task_tokens
from gateway.transport.extension.image_end import image_bytes
from gateway.transport.extension.tasks import TASKS
from gateway.core.fairness import image_pixels
from gateway.core.job_errors import Classic, classic_code
from gateway.core.liveness import LiveImage, Liveness
from gateway.core.recognition import EnrollmentAction, FaceRecognition, mean_descriptor
from templates_store import Bcid, PartitionId
from templates_store.samples import SampleRefused, SampleStore

MAX_TRIES = task_tokens.MAX_TRIES
CHALLENGE_LENGTH = 3
RESULT_GRACE_SECONDS = 600  # the application may fetch a result this long after its token expired
# A data URL's header, up to its comma: matched within its first MAX_DATA_URL_HEADER bytes only. Run over a whole
# body (";a;a;a..." for 50 MB, no comma), the pattern took seconds in the event loop, and every call waited.
_DATA_URL_HEADER = re.compile(r"data:image/(?:png|jpeg|jpg|bmp)(?:;[a-z0-9=.+-]+)*;base64", re.I)
MAX_DATA_URL_HEADER = 256
_NOBODY = Client("", b"\0" * 32, PartitionId("nobody", 0), app_secret=secrets.token_urlsafe(32))
# A refused sample's HTTP status and BWS error code, by the cap it is over; an application over its cap may retry
# once its tokens' samples are used or expired.
_REFUSALS = {"count": (400, "TooManySamples"), "token": (413, "SamplesTooLarge"), "pixels": (413, "SamplesTooLarge"),
             "application": (429, "ApplicationSampleLimit")}
APPLICATION_RETRY_SECONDS = 60
_WARNINGS = {"FaceSize": "ImageTooSmall", "Sharpness": "ImageTooBlurry", "FaceInsideImage": "FaceCutOff"}


class UploadRefused(ServiceError):
    """A sample over a cap, answered {"Accepted": false, "Error": code, "Message": message} with `status`."""
    kind = ErrorKind.RESOURCE_EXHAUSTED

    def __init__(self, message: str, code: str, status: int, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code, self.status, self.retry_after = code, status, retry_after


@dataclass
class TaskResult:
    status: int
    body: dict = field(default_factory=dict)


def parse_flag(value: str | None, default: bool, name: str) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise InvalidArgument(f"{name} must be true or false")


def decode_data_url(body: bytes) -> bytes:
    """The image of a data URL. Its header is read within its first bytes; its data is base64 (other bytes,
    non-ASCII ones too, are refused as such: never an error further on)."""
    body = body.strip()
    comma = body.find(b",", 0, MAX_DATA_URL_HEADER + 1)
    if comma < 0 or not _DATA_URL_HEADER.fullmatch(body[:comma].decode("ascii", errors="replace")):
        raise InvalidArgument("the body must be an image data URL: data:image/png|jpeg|bmp;base64,...")
    try:
        return base64.b64decode(b"".join(body[comma + 1:].split()), validate=True)
    except binascii.Error:
        raise InvalidArgument("the data URL is not valid base64") from None


class ExtensionFlow:
    def __init__(self, registry: ClientRegistry, recognition: FaceRecognition, liveness: Liveness,
                 samples: SampleStore, token_lifetime: int = 600, task_timeout: float = 60.0,
                 max_token_lifetime: int = 3600) -> None:
        self.registry = registry
        self.recognition = recognition
        self.liveness = liveness
        self.samples = samples
        self.token_lifetime = token_lifetime
        self.task_timeout = task_timeout
        self.max_token_lifetime = max_token_lifetime

    def app(self, authorization: str | None) -> Client:
        """The application of a Basic `appId:appSecret` header."""
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            raise Unauthenticated("Basic authentication with app id and app secret is required")
        try:
            app_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 (UnicodeDecodeError)
            raise Unauthenticated("malformed Basic authentication") from None
        client = self.registry.get(app_id)
        # An unknown application costs the same comparison as a known one and reads the same.
        matches = (client or _NOBODY).secret_matches(secret)
        if client is None or not matches:
            raise Unauthenticated("unknown application or wrong secret")
        return client

    def token(self, app: Client, app_id: str | None, bcid_text: str | None, task: str | None, max_tries: str | None,
              live_detection: str | None, challenge: str | None) -> str:
        if app_id is not None and app_id != app.client_id:
            raise Unauthenticated("the id parameter must name the authenticated application")
        if task not in TASKS:
            raise InvalidArgument(f"task must be one of {', '.join(TASKS)}")
        try:
            partition, class_id = task_tokens.parse_target(bcid_text or "", task)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        task_tokens.authorize(app, partition, task)
        try:
            tries = int(max_tries) if max_tries else 3
        except ValueError:
            raise InvalidArgument("maxtries must be a number") from None
        if not 1 <= tries <= MAX_TRIES:
            raise InvalidArgument(f"maxtries must be between 1 and {MAX_TRIES}")
        directions = tuple(secrets.choice(list(DIRECTIONS)) for _ in range(CHALLENGE_LENGTH)) \
            if parse_flag(challenge, False, "challenge") else ()
        return task_tokens.issue(app, partition, class_id, task, tries,
                                 parse_flag(live_detection, True, "livedetection"), directions, self.token_lifetime)

    def bearer(self, authorization: str | None) -> tuple[Client, task_tokens.BwsToken]:
        """The application and token of a `Bearer <BWS token>` header, checked as of now."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("a BWS token is required: Authorization: Bearer <token>")
        client, bws_token = task_tokens.validate(self.registry, token.strip(), self.max_token_lifetime)
        tenancy.bind(client)  # its engine jobs count against its own cap
        return client, bws_token

    async def upload(self, token: task_tokens.BwsToken, image: bytes, tag: str | None, index: str | None) -> dict:
        """Keep one sample (decoded from its data URL) for a token that `bearer` validated before the body was
        read. What is checked and kept is the image file alone: bytes sent after its end are dropped first."""
        try:
            position = int(index) if index not in (None, "") else int(time.time() * 1000)
        except ValueError:
            raise InvalidArgument("index must be a number") from None
        try:
            image = image_bytes(image)
        except InvalidArgument as exc:
            return {"Accepted": False, "Error": "InvalidSample", "Message": exc.message}
        try:
            analysis = await self.recognition.engine.analyze(image, want_descriptors=False)
        except InvalidImage as exc:
            return {"Accepted": False, "Error": "InvalidSample", "Message": str(exc)}
        if not analysis.faces:
            return {"Accepted": False, "Error": "NoFaceFound"}
        if len(analysis.faces) > 1:
            return {"Accepted": False, "Error": "MultipleFacesFound"}
        concerns = [c for c in analysis.faces[0].checks if not c.passed or c.score < 1 and c.check == "FaceInsideImage"]
        warnings = [_warning(c) for c in concerns]
        try:
            # The token's samples together stay within the task's pixel budget: checked here, not when the task
            # has taken them and used a try.
            await self.samples.add(token.partition, token.app_id, token.samples_id, position, (tag or "").lower(),
                                   image, token.ttl_ms, image_pixels(image))
        except SampleRefused as exc:
            status, code = _REFUSALS[exc.reason]
            raise UploadRefused(str(exc), code, status,
                                APPLICATION_RETRY_SECONDS if exc.reason == "application" else None) from None
        return {"Accepted": True, "Warnings": [w for w in warnings if w]}

    async def run(self, authorization: str | None, task: str, live_detection: str | None,
                  max_results: str | None) -> TaskResult:
        client, token = self.bearer(authorization)
        if token.task != task:
            raise PermissionDenied(f"this token is for {token.task}, not {task}")
        try:
            limit = int(max_results) if max_results else 20
        except ValueError:
            raise InvalidArgument("maxresults must be a number") from None
        wants_liveness = token.live_detection or parse_flag(live_detection, False, "livedetection")
        tries = await self.samples.count_try(token.partition, token.samples_id, token.ttl_ms)
        if tries > token.max_tries:
            raise PermissionDenied(f"the token's {token.max_tries} tries are used up")
        samples = await self.samples.take(token.partition, token.app_id, token.samples_id)
        if not samples:
            raise InvalidArgument("no samples uploaded")
        try:
            body = await asyncio.wait_for(self._perform(client, token, samples, wants_liveness, max(1, limit)),
                                          self.task_timeout)
            status = 200
        except asyncio.TimeoutError:
            body, status = {"Success": False, "Error": "ExecutionOfJobTimedOut"}, 500
        result = {"Action": TASKS[task].action, "BCID": token.bcid_text, "Success": body["Success"],
                  "Error": body.get("Error"), "Matches": body.get("Matches", [])}
        await self.samples.put_result(token.partition, token.samples_id, result,
                                      token.ttl_ms + RESULT_GRACE_SECONDS * 1000)
        return TaskResult(status, body)

    async def _perform(self, client: Client, token: task_tokens.BwsToken, samples, wants_liveness: bool,
                       limit: int) -> dict:
        analyses = await self.liveness.analyze([LiveImage(s.image, (s.tag,) if s.tag else ()) for s in samples],
                                               "samples")
        if wants_liveness:
            if len(samples) < 2 and not self.liveness.passive:  # one sample: passive liveness only
                return {"Success": False, "Error": "NotEnoughSamples"}
            tags = [s.tag or None for s in samples]
            if token.challenge and tags[1:] != list(token.challenge[:len(samples) - 1]):
                return {"Success": False, "Error": "ChallengeResponseFailed"}
            judged = self.liveness.judge(analyses, tags)
            if not judged.live:
                challenge_failed = classic_code(judged.errors) == Classic.CHALLENGE_RESPONSE_FAILED
                return {"Success": False, "Error": Classic.CHALLENGE_RESPONSE_FAILED if challenge_failed
                        else Classic.LIVE_DETECTION_FAILED}
        if token.task == "livenessdetection":
            return {"Success": True, "Error": None}
        if token.task == "enroll":
            done = await self.recognition.enroll_analyses(client, token.bcid, analyses)
            ok = done.action in (EnrollmentAction.NEW_TEMPLATE_CREATED, EnrollmentAction.TEMPLATE_UPDATED)
            return {"Success": ok, "Error": None if ok else classic_code(done.errors)}
        if token.task == "verify":
            try:
                verified = await self.recognition.verify_analyses(client, token.bcid, analyses)
            except NotFound:
                return {"Success": False, "Error": "NoTemplateAvailable"}
            return {"Success": verified.verified, "Error": classic_code(verified.errors)}
        faces = [a.face for a in analyses if a.face is not None]
        if not faces:
            return {"Success": False, "Error": "NoSuitableFaceImage", "Matches": []}
        matches = await self.recognition.identify(client, mean_descriptor([f.descriptor for f in faces]), limit)
        listed = [{"BCID": str(Bcid(client.partition, m.class_id)), "Score": round(m.score, 6)} for m in matches]
        return {"Success": bool(listed), "Error": None, "Matches": listed}

    async def result(self, app: Client, access_token: str | None) -> dict | None:
        if not access_token:
            raise InvalidArgument("access_token is required")
        client, token = task_tokens.validate(self.registry, access_token, self.max_token_lifetime,
                                        leeway=RESULT_GRACE_SECONDS)
        if client.client_id != app.client_id:
            raise Unauthenticated("the token belongs to another application")
        return await self.samples.result(token.partition, token.samples_id)


def _warning(check) -> str | None:
    if check.check == "Brightness":
        return "ImageOverexposed" if "overexposed" in check.message else "ImageTooDark"
    return _WARNINGS.get(check.check)

