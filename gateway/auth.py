"""JWT authentication (contract section 4): HS256 tokens signed with the client's key."""
from __future__ import annotations

import time

import jwt

from gateway.clients import Client, ClientRegistry
from gateway.errors import Unauthenticated

AUDIENCE = "BWS"
ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["exp", "nbf", "iat", "sub", "iss", "aud"]


def make_token(client_id: str, key: bytes, lifetime_seconds: int = 600, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": client_id, "iss": client_id, "aud": AUDIENCE,
              "iat": issued, "nbf": issued, "exp": issued + lifetime_seconds}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


class Authenticator:
    def __init__(self, registry: ClientRegistry, leeway_seconds: int = 30) -> None:
        self.registry = registry
        self.leeway = leeway_seconds

    def authenticate(self, authorization: str | None) -> Client:
        if not authorization:
            raise Unauthenticated("missing authorization: send 'Bearer <JWT>'")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be 'Bearer <JWT>'")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            claimed = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"token must be signed with {ALGORITHM}")
        issuer = claimed.get("iss")
        client = self.registry.get(issuer) if isinstance(issuer, str) else None
        if client is None:
            raise Unauthenticated("unknown client")
        try:
            claims = jwt.decode(token, client.key, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=client.client_id, leeway=self.leeway,
                                options={"require": _REQUIRED_CLAIMS, "strict_aud": True})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"token audience must be {AUDIENCE!r}") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        if claims.get("sub") != client.client_id:
            raise Unauthenticated("token subject must be the client id")
        return client
