"""Tokens are validated strictly (contract section 4)."""
import base64
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


def _unsigned(claims):
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
    return f"{encode({'alg': 'none', 'typ': 'JWT'})}.{encode(claims)}."


@pytest.mark.parametrize("token, message", [
    (lambda: _unsigned(_claims()), "HS256"),
    (lambda: jwt.encode(_claims(), KEY, algorithm="HS512"), "HS256"),
    (lambda: jwt.encode(_claims(), OTHER_KEY, algorithm="HS256"), "signature"),
    (lambda: jwt.encode(_claims(aud="other"), KEY, algorithm="HS256"), "audience"),
    (lambda: jwt.encode(_claims(exp=int(time.time()) - 120), KEY, algorithm="HS256"), "expired"),
    (lambda: jwt.encode(_claims(nbf=int(time.time()) + 120), KEY, algorithm="HS256"), "not valid yet"),
    (lambda: jwt.encode(_claims(sub="app2"), KEY, algorithm="HS256"), "subject"),
    (lambda: jwt.encode(_claims(sub="ghost", iss="ghost"), KEY, algorithm="HS256"), "unknown client"),
    (lambda: jwt.encode(_claims(exp=None), KEY, algorithm="HS256"), "exp"),
    (lambda: jwt.encode(_claims(iat=None), KEY, algorithm="HS256"), "iat"),
    (lambda: jwt.encode(_claims(aud=["BWS", "x"]), KEY, algorithm="HS256"), "audience"),
])
def test_bad_tokens_are_refused(auth, token, message):
    with pytest.raises(Unauthenticated, match=message):
        auth.authenticate(f"Bearer {token()}")


def test_small_clock_skew_is_allowed(auth):
    skewed = jwt.encode(_claims(nbf=int(time.time()) + 10, iat=int(time.time()) + 10), KEY, algorithm="HS256")
    assert auth.authenticate(f"Bearer {skewed}").client_id == "app1"
