"""BWS tokens: short-lived JWTs for one user (BCID) and one task, signed HS256
with the application's own key. Their audience differs from the API's, so
neither kind of token is accepted in place of the other."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

from gateway.clients import Client, ClientRegistry
from gateway.errors import Unauthenticated
from templates_store import Bcid

AUDIENCE = "BWS-extension"
TASKS = {"enroll": "enroll", "verify": "verify", "identify": "search", "livenessdetection": "liveness"}
ACTIONS = {"enroll": "enrollment", "verify": "verification", "identify": "identification",
           "livenessdetection": "livenessdetection"}


@dataclass(frozen=True)
class BwsToken:
    token_id: str
    app_id: str
    bcid: Bcid
    task: str
    max_tries: int
    live_detection: bool
    challenge: tuple[str, ...]
    expires: float

    @property
    def ttl_ms(self) -> int:
        return max(1, int((self.expires - time.time()) * 1000))


def issue(client: Client, bcid: Bcid, task: str, max_tries: int, live_detection: bool, challenge: tuple[str, ...],
          lifetime: int) -> str:
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": AUDIENCE, "jti": secrets.token_urlsafe(16),
              "iat": now, "nbf": now, "exp": now + lifetime, "bcid": str(bcid), "task": task, "maxtries": max_tries,
              "livedetection": live_detection, "challenge": list(challenge)}
    return jwt.encode(claims, client.key, algorithm="HS256")


def validate(registry: ClientRegistry, token: str, leeway: int = 10) -> tuple[Client, BwsToken]:
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("malformed BWS token") from None
    client = registry.get(unverified.get("iss")) if isinstance(unverified.get("iss"), str) else None
    if client is None:
        raise Unauthenticated("unknown application")
    try:
        claims = jwt.decode(token, client.key, algorithms=["HS256"], audience=AUDIENCE, issuer=client.client_id,
                            leeway=leeway, options={"require": ["exp", "nbf", "iat", "jti", "aud", "iss"]})
        bws_token = BwsToken(claims["jti"], client.client_id, Bcid.parse(claims["bcid"]), claims["task"],
                             int(claims["maxtries"]), bool(claims["livedetection"]), tuple(claims["challenge"]),
                             float(claims["exp"]))
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("BWS token expired") from None
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        raise Unauthenticated("invalid BWS token") from None
    if bws_token.task not in TASKS:
        raise Unauthenticated("invalid BWS token")
    return client, bws_token
