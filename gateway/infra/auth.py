"""JWT authentication (contract section 4), as BioID's own clients sign their tokens (bws_proto/api_token.py):
HS256, HS384 or HS512 with the client's key; the client is named by `sub`; `aud` is "BWS" (a string or a list
holding it, compared without case: BioID's web app sends "bws"); `exp` required, `iat` and `nbf` optional.

Algorithm confusion is impossible: the key is always the registry's HMAC key of the named client, only the three
HMAC-SHA2 algorithms are tried, and a header that names a key or a key source (kid, jku, jwk, x5u, x5c, crit, ...)
is refused; each of these reads as the one generic INVALID text, like an unknown client or a bad signature."""
from __future__ import annotations

import secrets
import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from bws_proto.api_token import ALGORITHMS, AUDIENCE, make_token
from gateway.core.errors import Unauthenticated
from gateway.infra.clients import Client, ClientRegistry

__all__ = ["ALGORITHMS", "AUDIENCE", "Authenticator", "check_lifetime", "make_token", "verify_signed"]
DEFAULT_MAX_LIFETIME_SECONDS = 24 * 3600  # a JWT a client signs itself (BWSTools' CLI signs 1000 minutes)
INVALID = "invalid token: unknown client or bad signature"  # one text for all of these: no client-id enumeration
_REQUIRED_CLAIMS = ["exp", "sub", "aud"]
_HEADER = frozenset({"alg", "typ"})  # all BioID's clients write
_DECOY_KEY = secrets.token_bytes(64)  # an unknown client's token is checked against it: the same work either way


def verify_signed(registry: ClientRegistry, token: str, required: list[str], leeway: int, invalid: str,
                  identity: str = "iss", audience: str | None = None) -> tuple[Client, dict]:
    """The client named by the `identity` claim and the claims of a token signed with its key.

    An unknown client, a bad signature, an algorithm other than HS256/HS384/HS512 and a header naming a key
    raise the same `invalid` text. With `audience`, PyJWT checks it (a string, exactly); without, the caller does.
    Other claim failures (expiry...) surface as PyJWT errors for the caller to word: they are only reached once
    the signature is good."""
    _ascii(token)
    try:
        header = jwt.get_unverified_header(token)
        claimed = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated("malformed token") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS or not _HEADER.issuperset(header):
        raise Unauthenticated(invalid)
    name = claimed.get(identity)
    client = registry.get(name) if isinstance(name, str) else None
    try:
        with warnings.catch_warnings():  # keys of 256 bits are accepted with HS384 and HS512 too
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            claims = jwt.decode(token, client.key if client else _DECOY_KEY, algorithms=[algorithm],
                                audience=audience, leeway=leeway,
                                options={"require": required, "strict_aud": True, "verify_aud": audience is not None})
    except (jwt.InvalidSignatureError, jwt.DecodeError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
        raise Unauthenticated(invalid) from None
    if client is None:
        raise Unauthenticated(invalid)
    return client, claims


def _ascii(token: str) -> None:
    """A JWT is ASCII; other text (header bytes that are not even UTF-8) would fail inside PyJWT."""
    if not token.isascii():
        raise Unauthenticated("malformed token")


def names_audience(aud: object) -> bool:
    """`aud` is "BWS", or a list holding it, in any case."""
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return any(isinstance(v, str) and v.upper() == AUDIENCE for v in values)


def check_lifetime(claims: dict, max_lifetime: int, leeway: int, what: str = "token") -> None:
    """Refuse tokens that live longer than the maximum, counted from issue (when `iat` is there) and from now."""
    try:
        expires = float(claims["exp"])
        issued = None if claims.get("iat") is None else float(claims["iat"])
    except (KeyError, TypeError, ValueError):
        raise Unauthenticated(f"{what} must carry numeric exp and iat") from None
    if (issued is not None and expires - issued > max_lifetime) or expires - time.time() > max_lifetime + leeway:
        raise Unauthenticated(f"{what} lifetime over the maximum of {max_lifetime} seconds")


EXPIRED = ("token expired: make a new one (bws token, bws-gateway token, or your JWT code with the client key); "
           "tokens live minutes, make one per session or call")

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
        try:
            client, claims = verify_signed(self.registry, token.strip(), _REQUIRED_CLAIMS, self.leeway, INVALID,
                                           identity="sub")
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token not valid yet") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        if not names_audience(claims.get("aud")):
            raise Unauthenticated(f"token audience must be {AUDIENCE!r}")
        check_lifetime(claims, self.max_lifetime, self.leeway)
        return client
