"""BWS 2 task tokens (the /extension/ flow): short-lived JWTs for one user (BCID) and one task, signed HS256
with the application's own key. Their audience differs from the API's, so
neither kind of token is accepted in place of the other.

An application holds its own key, so it can sign any claims: every use of a
token checks again that its BCID lies in the application's partition and that
the application may perform its task (`authorize`)."""
from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass

import jwt

from gateway.infra.auth import check_lifetime, verify_signed
from gateway.infra.clients import Client, ClientRegistry
from gateway.engine.motion import DIRECTIONS
from gateway.core.errors import PermissionDenied, Unauthenticated
from gateway.transport.extension.tasks import TASKS
from templates_store import Bcid, PartitionId

AUDIENCE = "BWS-extension"
INVALID = "invalid BWS token"  # one text for unknown application and bad signature: no app-id enumeration
_REQUIRED = ["exp", "nbf", "iat", "jti", "aud", "iss"]
MAX_TRIES = 15
MAX_CHALLENGE = 9  # directions: one per sample after the first, of at most 10 samples
_MAX_BCID = 200
_JTI = re.compile(r"[!-~]{1,128}")  # printable ASCII, no space: it is part of Redis keys
_MAX_TIME = 2**53  # NumericDate: seconds, exact in a double


@dataclass(frozen=True)
class BwsToken:
    token_id: str
    app_id: str
    partition: PartitionId
    class_id: int  # 0: the whole partition (identify only)
    task: str
    max_tries: int
    live_detection: bool
    challenge: tuple[str, ...]
    expires: float

    @property
    def bcid(self) -> Bcid:
        return Bcid(self.partition, self.class_id)

    @property
    def bcid_text(self) -> str:
        return f"{self.partition}/{self.class_id}"

    @property
    def samples_id(self) -> str:
        """Where the token's samples and result live: the signer chooses the jti, so it is scoped by application."""
        return f"{self.app_id}:{self.token_id}"

    @property
    def ttl_ms(self) -> int:
        return max(1, int((self.expires - time.time()) * 1000))


def _slashed(text: str) -> str:
    """BioID writes BCIDs `storage.partition.classId` (its samples) or with `/`: the last two dots are the
    separators when there is no slash (a storage name may hold dots)."""
    if "/" in text or text.count(".") < 2:
        return text
    storage, partition, class_id = text.rsplit(".", 2)
    return f"{storage}/{partition}/{class_id}"


def parse_bcid(text: str) -> Bcid:
    return Bcid.parse(_slashed(text))


def parse_target(text: str, task: str) -> tuple[PartitionId, int]:
    """A token's BCID: `storage/partition/classId` (or with dots), or `storage/partition/0` for identify."""
    text = _slashed(text)
    if task == "identify" and text.endswith("/0"):
        return PartitionId.parse_bcid(text), 0
    bcid = Bcid.parse(text)
    return bcid.partition, bcid.class_id


def authorize(client: Client, partition: PartitionId, task: str) -> None:
    if partition != client.partition:
        raise PermissionDenied(f"BCID partition {partition} is not the application's storage and partition")
    if task not in TASKS:
        raise PermissionDenied(f"unknown task {task!r}")
    if not client.allows(TASKS[task].operation):
        raise PermissionDenied(f"the application may not {task}")


def issue(client: Client, partition: PartitionId, class_id: int, task: str, max_tries: int, live_detection: bool,
          challenge: tuple[str, ...], lifetime: int) -> str:
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": AUDIENCE, "jti": secrets.token_urlsafe(16),
              "iat": now, "nbf": now, "exp": now + lifetime, "bcid": f"{partition}/{class_id}", "task": task,
              "maxtries": max_tries, "livedetection": live_detection, "challenge": list(challenge)}
    return jwt.encode(claims, client.key, algorithm="HS256")


def validate(registry: ClientRegistry, token: str, max_lifetime: int, leeway: int = 10) -> tuple[Client, BwsToken]:
    """The application and its token, checked as of now: signature, times, lifetime, partition and operation.
    The signer chooses every claim: a claim of the wrong type or range is the same INVALID answer as a bad
    signature, never an exception further on (Infinity, NaN, "3", true, objects, long texts)."""
    try:
        client, claims = verify_signed(registry, token, _REQUIRED, leeway, INVALID, audience=AUDIENCE)
    except jwt.ExpiredSignatureError:  # signed by the application: a malformed exp (true is 1) is no expiry
        raise Unauthenticated(INVALID if _malformed(token) else "BWS token expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated(INVALID) from None
    if _malformed(claims):
        raise Unauthenticated(INVALID)
    check_lifetime(claims, max_lifetime, leeway, "BWS token")
    try:
        partition, class_id = parse_target(claims["bcid"], claims["task"])
    except ValueError:
        raise Unauthenticated(INVALID) from None
    bws_token = BwsToken(claims["jti"], client.client_id, partition, class_id, claims["task"], claims["maxtries"],
                         claims["livedetection"], tuple(claims["challenge"]), float(claims["exp"]))
    authorize(client, bws_token.partition, bws_token.task)
    return client, bws_token


def _malformed(token_or_claims: str | dict) -> bool:
    claims = token_or_claims
    if isinstance(claims, str):  # a token whose signature PyJWT has checked
        claims = jwt.decode(claims, options={"verify_signature": False})
    return not _well_formed(claims)


def _well_formed(claims: object) -> bool:
    """Every claim this service reads, of exactly its type (true is no number) and within its range."""
    if not isinstance(claims, dict):
        return False
    times = [claims.get(name) for name in ("exp", "iat", "nbf")]
    jti, bcid, task, tries, challenge = (claims.get(n) for n in ("jti", "bcid", "task", "maxtries", "challenge"))
    return (all(type(t) in (int, float) and math.isfinite(t) and 0 <= t < _MAX_TIME for t in times)
            and type(jti) is str and _JTI.fullmatch(jti) is not None
            and type(bcid) is str and len(bcid) <= _MAX_BCID
            and type(task) is str and task in TASKS
            and type(tries) is int and 1 <= tries <= MAX_TRIES
            and type(claims.get("livedetection")) is bool
            and type(challenge) is list and len(challenge) <= MAX_CHALLENGE
            and all(type(d) is str and d in DIRECTIONS for d in challenge))
