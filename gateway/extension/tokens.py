"""BWS tokens: short-lived JWTs for one user (BCID) and one task, signed HS256
with the application's own key. Their audience differs from the API's, so
neither kind of token is accepted in place of the other.

An application holds its own key, so it can sign any claims: every use of a
token checks again that its BCID lies in the application's partition and that
the application may perform its task (`authorize`)."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from gateway.auth import check_lifetime, verify_signed
from gateway.clients import Client, ClientRegistry
from gateway.errors import PermissionDenied, Unauthenticated
from templates_store import Bcid, PartitionId

AUDIENCE = "BWS-extension"
TASKS = {"enroll": "enroll", "verify": "verify", "identify": "search", "livenessdetection": "liveness"}
ACTIONS = {"enroll": "enrollment", "verify": "verification", "identify": "identification",
           "livenessdetection": "livenessdetection"}
INVALID = "invalid BWS token"  # one text for unknown application and bad signature: no app-id enumeration
_REQUIRED = ["exp", "nbf", "iat", "jti", "aud", "iss"]


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


def parse_target(text: str, task: str) -> tuple[PartitionId, int]:
    """A token's BCID: `storage/partition/classId`, or `storage/partition/0` for identify."""
    if task == "identify" and text.endswith("/0"):
        return PartitionId.parse_bcid(text), 0
    bcid = Bcid.parse(text)
    return bcid.partition, bcid.class_id


def authorize(client: Client, partition: PartitionId, task: str) -> None:
    if partition != client.partition:
        raise PermissionDenied(f"BCID partition {partition} is not the application's storage and partition")
    if task not in TASKS:
        raise PermissionDenied(f"unknown task {task!r}")
    if not client.allows(TASKS[task]):
        raise PermissionDenied(f"the application may not {task}")


def issue(client: Client, partition: PartitionId, class_id: int, task: str, max_tries: int, live_detection: bool,
          challenge: tuple[str, ...], lifetime: int) -> str:
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": AUDIENCE, "jti": secrets.token_urlsafe(16),
              "iat": now, "nbf": now, "exp": now + lifetime, "bcid": f"{partition}/{class_id}", "task": task,
              "maxtries": max_tries, "livedetection": live_detection, "challenge": list(challenge)}
    return jwt.encode(claims, client.key, algorithm="HS256")


def validate(registry: ClientRegistry, token: str, max_lifetime: int, leeway: int = 10) -> tuple[Client, BwsToken]:
    """The application and its token, checked as of now: signature, times, lifetime, partition and operation."""
    try:
        client, claims = verify_signed(registry, token, AUDIENCE, _REQUIRED, leeway, INVALID)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("BWS token expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated(INVALID) from None
    check_lifetime(claims, max_lifetime, leeway, "BWS token")
    try:
        task = claims["task"]
        if not isinstance(task, str) or task not in TASKS:
            raise ValueError(task)
        partition, class_id = parse_target(claims["bcid"], task)
        bws_token = BwsToken(str(claims["jti"]), client.client_id, partition, class_id, task,
                             int(claims["maxtries"]), bool(claims["livedetection"]),
                             tuple(str(c) for c in claims["challenge"]), float(claims["exp"]))
    except (KeyError, ValueError, TypeError, AttributeError):
        raise Unauthenticated(INVALID) from None
    authorize(client, bws_token.partition, bws_token.task)
    return client, bws_token
