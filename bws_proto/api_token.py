"""The API token of the contract (section 4), made the one way the server checks it and the CLI sends it: a JWT
signed HS256 with the client's key, issuer and subject the client id, audience "BWS"."""
from __future__ import annotations

import time

import jwt

AUDIENCE = "BWS"
ALGORITHM = "HS256"


def make_token(client_id: str, key: bytes, lifetime_seconds: int = 600, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": client_id, "iss": client_id, "aud": AUDIENCE,
              "iat": issued, "nbf": issued, "exp": issued + lifetime_seconds}
    return jwt.encode(claims, key, algorithm=ALGORITHM)
