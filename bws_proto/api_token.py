"""The API token of the contract (section 4) as BioID's clients make it and the server checks it: a JWT signed
HS256, HS384 or HS512 with the client's key, subject the client id, audience "BWS" (a string or a list holding it,
in any case), issued-at and expiry; not-before optional. The server and the bws CLI make theirs here."""
from __future__ import annotations

import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

AUDIENCE = "BWS"
ALGORITHMS = ("HS256", "HS384", "HS512")  # HMAC-SHA2 only: never "none", never an asymmetric algorithm
ALGORITHM = "HS256"  # what this service's own tools sign with unless told otherwise


def make_token(client_id: str, key: bytes, lifetime_seconds: int = 600, now: float | None = None,
               algorithm: str = ALGORITHM) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
    issued = int(time.time() if now is None else now)
    claims = {"sub": client_id, "iss": client_id, "aud": AUDIENCE,
              "iat": issued, "nbf": issued, "exp": issued + lifetime_seconds}
    with warnings.catch_warnings():  # a 256-bit key is this service's minimum, also for HS384/HS512
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm)
