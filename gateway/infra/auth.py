"""JWT authentication (contract section 4): HS256 tokens signed with the client's key (made by
bws_proto/api_token.py)."""
from __future__ import annotations

import secrets
import time

import jwt

from bws_proto.api_token import ALGORITHM, AUDIENCE, make_token
from gateway.infra.clients import Client, ClientRegistry
from gateway.core.errors import Unauthenticated

__all__ = ["ALGORITHM", "AUDIENCE", "Authenticator", "check_lifetime", "make_token", "verify_signed"]
DEFAULT_MAX_LIFETIME_SECONDS = 3600
INVALID = "invalid token: unknown client or bad signature"  # one text for both: no client-id enumeration
_REQUIRED_CLAIMS = ["exp", "nbf", "iat", "sub", "iss", "aud"]
_DECOY_KEY = secrets.token_bytes(32)  # an unknown client's token is checked against it: the same work either way


def verify_signed(registry: ClientRegistry, token: str, audience: str, required: list[str], leeway: int,
                  invalid: str) -> tuple[Client, dict]:
    """The issuing client and the claims of an HS256 token signed with its key.

    An unknown issuer and a bad signature raise the same `invalid` text. Other
    claim failures (expiry, audience...) surface as PyJWT errors for the caller
    to word: they are only reached once the signature is good."""
    _ascii(token)
    try:
        claimed = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("malformed token") from None
    issuer = claimed.get("iss")
    client = registry.get(issuer) if isinstance(issuer, str) else None
    try:
        claims = jwt.decode(token, client.key if client else _DECOY_KEY, algorithms=[ALGORITHM], audience=audience,
                            issuer=client.client_id if client else None, leeway=leeway,
                            options={"require": required, "strict_aud": True})
    except (jwt.InvalidSignatureError, jwt.DecodeError):
        raise Unauthenticated(invalid) from None
    if client is None:
        raise Unauthenticated(invalid)
    return client, claims


def _ascii(token: str) -> None:
    """A JWT is ASCII; other text (header bytes that are not even UTF-8) would fail inside PyJWT."""
    if not token.isascii():
        raise Unauthenticated("malformed token")


def check_lifetime(claims: dict, max_lifetime: int, leeway: int, what: str = "token") -> None:
    """Refuse tokens that live longer than the maximum, counted from issue and from now."""
    try:
        expires, issued = float(claims["exp"]), float(claims["iat"])
    except (KeyError, TypeError, ValueError):
        raise Unauthenticated(f"{what} must carry numeric exp and iat") from None
    if expires - issued > max_lifetime or expires - time.time() > max_lifetime + leeway:
        raise Unauthenticated(f"{what} lifetime over the maximum of {max_lifetime} seconds")


class Authenticator:
    def __init__(self, registry: ClientRegistry, leeway_seconds: int = 30,
                 max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS) -> None:
        self.registry = registry
        self.leeway = leeway_seconds
        self.max_lifetime = max_lifetime_seconds

    def authenticate(self, authorization: str | None) -> Client:
        if not authorization:
            raise Unauthenticated("missing authorization: send 'Bearer <JWT>'")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be 'Bearer <JWT>'")
        token = token.strip()
        _ascii(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"token must be signed with {ALGORITHM}")
        try:
            client, claims = verify_signed(self.registry, token, AUDIENCE, _REQUIRED_CLAIMS, self.leeway, INVALID)
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"token audience must be {AUDIENCE!r}") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        if claims.get("sub") != client.client_id:
            raise Unauthenticated("token subject must be the client id")
        check_lifetime(claims, self.max_lifetime, self.leeway)
        return client
