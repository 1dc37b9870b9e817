"""Tokens are validated strictly (contract section 4)."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from gateway.infra.auth import Authenticator, make_token
from gateway.infra.clients import Client, ClientRegistry
from gateway.core.errors import Unauthenticated
from templates_store import PartitionId

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


@pytest.fixture
def auth():
    return Authenticator(ClientRegistry([Client("app1", KEY, PartitionId("acme", 1)),
                                         Client("app2", OTHER_KEY, PartitionId("acme", 2))]), leeway_seconds=30)


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": "app1", "iss": "app1", "aud": "BWS", "iat": now, "nbf": now, "exp": now + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_valid_token_names_the_client(auth):
    assert auth.authenticate(f"Bearer {make_token('app1', KEY)}").client_id == "app1"
    assert auth.authenticate(f"bearer   {make_token('app2', OTHER_KEY)}").client_id == "app2"


@pytest.mark.parametrize("header, message", [
    (None, "missing authorization"),
    ("", "missing authorization"),
    ("Basic YTpi", "Bearer"),
    ("Bearer", "Bearer"),
    ("Bearer not.a.token", "malformed"),
])
def test_missing_or_malformed(auth, header, message):
    with pytest.raises(Unauthenticated, match=message):
        auth.authenticate(header)


def _encode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _unsigned(claims):
    return f"{_encode({'alg': 'none', 'typ': 'JWT'})}.{_encode(claims)}."


def _signed_as(header: dict, claims: dict, key: bytes = KEY, digest=hashlib.sha256) -> str:
    """A token whose header says anything, signed HMAC with the client's own key (what a confused verifier
    that takes `alg` from the header and the key as "public key" would accept)."""
    signing_input = f"{_encode(header)}.{_encode(claims)}"
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input.encode(), digest).digest()).rstrip(b"=")
    return f"{signing_input}.{signature.decode()}"


GENERIC = "unknown client or bad signature"


@pytest.mark.parametrize("token, message", [
    (lambda: _unsigned(_claims()), GENERIC),
    (lambda: _signed_as({"alg": "RS256", "typ": "JWT"}, _claims()), GENERIC),
    (lambda: _signed_as({"alg": "ES256", "typ": "JWT"}, _claims()), GENERIC),
    (lambda: _signed_as({"alg": "PS512", "typ": "JWT"}, _claims(), digest=hashlib.sha512), GENERIC),
    (lambda: _signed_as({"alg": "HS256", "typ": "JWT", "kid": "app2"}, _claims()), GENERIC),
    (lambda: _signed_as({"alg": "HS256", "typ": "JWT", "jku": "https://evil.example/keys"}, _claims()), GENERIC),
    (lambda: _signed_as({"alg": "HS256", "typ": "JWT", "crit": ["exp"]}, _claims()), "malformed"),
    (lambda: jwt.encode(_claims(), OTHER_KEY, algorithm="HS512"), GENERIC),
    (lambda: jwt.encode(_claims(sub="app2"), KEY, algorithm="HS256"), GENERIC),  # app1's key, app2 named
    (lambda: jwt.encode(_claims(sub="ghost", iss="ghost"), KEY, algorithm="HS256"), GENERIC),
    (lambda: jwt.encode(_claims(aud="other"), KEY, algorithm="HS256"), "audience"),
    (lambda: jwt.encode(_claims(aud="BWS-extension"), KEY, algorithm="HS256"), "audience"),
    (lambda: jwt.encode(_claims(aud=["other", "x"]), KEY, algorithm="HS256"), "audience"),
    (lambda: jwt.encode(_claims(exp=int(time.time()) - 120), KEY, algorithm="HS256"), "expired"),
    (lambda: jwt.encode(_claims(nbf=int(time.time()) + 120), KEY, algorithm="HS256"), "not valid yet"),
    (lambda: jwt.encode(_claims(exp=None), KEY, algorithm="HS256"), "exp"),
    (lambda: jwt.encode(_claims(sub=None), KEY, algorithm="HS256"), GENERIC),
])
def test_bad_tokens_are_refused(auth, token, message):
    with pytest.raises(Unauthenticated, match=message):
        auth.authenticate(f"Bearer {token()}")


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("claims", [
    {},
    {"nbf": None},  # BioID's Java client sets no nbf
    {"aud": ["BWS"]},  # jjwt writes the audience as a list
    {"aud": ["other", "BWS"]},
    {"aud": "bws", "iss": "demoWeApp"},  # BioID's BWSClient-WebApp
    {"iat": None},
], ids=["plain", "no-nbf", "aud-list", "aud-in-list", "webapp", "no-iat"])
def test_tokens_as_bioid_clients_sign_them(auth, algorithm, claims):
    assert auth.authenticate(f"Bearer {jwt.encode(_claims(**claims), KEY, algorithm=algorithm)}").client_id == "app1"


def test_512_bit_keys_with_every_algorithm():
    key = bytes(range(64))
    auth = Authenticator(ClientRegistry([Client("big", key, PartitionId("acme", 3))]))
    for algorithm in ("HS256", "HS384", "HS512"):
        assert auth.authenticate(f"Bearer {make_token('big', key, algorithm=algorithm)}").client_id == "big"


def test_lifetime_is_capped_from_issue_and_from_now():
    auth = Authenticator(ClientRegistry([Client("app1", KEY, PartitionId("acme", 1))]), max_lifetime_seconds=600)
    now = int(time.time())
    for claims in ({"iat": now, "exp": now + 601}, {"iat": None, "exp": now + 700}):
        with pytest.raises(Unauthenticated, match="lifetime over the maximum of 600"):
            auth.authenticate(f"Bearer {jwt.encode(_claims(**claims), KEY, algorithm='HS256')}")
    assert Authenticator(auth.registry).max_lifetime == 24 * 3600  # BWSTools' 1000-minute tokens pass


def test_small_clock_skew_is_allowed(auth):
    skewed = jwt.encode(_claims(nbf=int(time.time()) + 10, iat=int(time.time()) + 10), KEY, algorithm="HS256")
    assert auth.authenticate(f"Bearer {skewed}").client_id == "app1"
