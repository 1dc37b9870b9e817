"""Found in review: an application signs its own BWS tokens, so every claim is the signer's choice. A token
with `"maxtries": Infinity` (which PyJWT's JSON reader accepts) answered 500 (an uncaught OverflowError) on
upload, every task and result; `"3"`, `true` or `3.5` were read as numbers. Every malformed claim is now the
one generic invalid-token answer (401), at every use of the token."""
from __future__ import annotations

import base64
import json
import secrets
import time

import jwt
import pytest

from tests.conftest import face
from tests.e2e.http import request
from tests.e2e.test_extension import basic
from tests.security.forge import extension_token

APP, BCID = "tenant-a", "acme/1/4711"
INVALID = "invalid BWS token"
HUGE = "x" * 4000  # the whole token still fits aiohttp's 8 KB header line


def _claims(task: str = "verify") -> dict:
    now = int(time.time())
    return {"iss": APP, "sub": APP, "aud": "BWS-extension", "jti": secrets.token_urlsafe(8), "iat": now, "nbf": now,
            "exp": now + 600, "bcid": BCID, "task": task, "maxtries": 3, "livedetection": False, "challenge": []}


def _raw_token(key: bytes, payload: str) -> str:
    """A token over a JSON text of our own: `1e309`, `NaN` and integers of any size, as a signer may write them."""
    return jwt.api_jws.encode(payload.encode(), key, algorithm="HS256")


# claim -> values a signer may put there (Python values, or raw JSON text in a 1-tuple)
MALFORMED = {
    "maxtries": [float("inf"), float("-inf"), float("nan"), ("1e309",), ("10" * 200,), -1, 0, 16, "3", True, 3.5,
                 {"n": 3}, [3], None],
    "livedetection": ["false", 0, 1, None, {"on": True}, [False]],
    "challenge": ["left", ["sideways"], [1], [["left"]], {"left": 1}, ["left"] * 100, None, [HUGE]],
    "bcid": [4711, ["acme/1/4711"], {"bcid": BCID}, None, f"acme/1/{'9' * 3000}", f"{HUGE}/1/5"],
    "task": [["verify"], {"task": "verify"}, None, 1, "verify" * 600],
    "jti": ["", HUGE, "a b", "jti\n"],
    "exp": [float("inf"), float("nan"), ("1e309",), str(int(time.time()) + 600), True],
    "iat": [float("inf"), float("nan"), str(int(time.time())), True, None],
    "nbf": [float("-inf"), float("nan"), str(int(time.time())), True],
}
CASES = [(claim, value) for claim, values in MALFORMED.items() for value in values]


def _forge(key: bytes, claim: str, value) -> str:
    claims = _claims()
    if isinstance(value, tuple):  # raw JSON text
        claims[claim] = "@RAW@"
        return _raw_token(key, json.dumps(claims).replace('"@RAW@"', value[0]))
    claims[claim] = value
    return _raw_token(key, json.dumps(claims))  # json.dumps writes Infinity and NaN, as PyJWT reads them


def _ids(case) -> str:
    claim, value = case
    text = value[0] if isinstance(value, tuple) else json.dumps(value)
    return f"{claim}={text[:20]}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_a_malformed_claim_is_the_generic_401_at_every_use(service, case):
    token = _forge(service.clients[APP].key, *case)
    bearer = {"Authorization": f"Bearer {token}"}
    upload = request(service.http_url, "POST", "/extension/upload", raw=b"data:image/jpeg;base64," +
                     base64.b64encode(face("obama_1.jpg")), headers={**bearer, "Content-Type": "text/plain"})
    assert (upload.status, upload.json) == (401, {"Error": INVALID}), upload.body
    for task in ("enroll", "verify", "identify", "livenessdetection"):
        run = request(service.http_url, "GET", f"/extension/{task}", headers=bearer)
        assert (run.status, run.json) == (401, {"Success": False, "Error": INVALID}), (task, run.body)
    result = request(service.http_url, "GET", f"/extension/result?access_token={token}", headers=basic(service))
    assert (result.status, result.json) == (401, {"Error": INVALID}), result.body


def test_the_well_formed_token_of_the_same_shape_is_accepted(service):
    """The forging above is sound: with good claims the same construction gets through."""
    token = _raw_token(service.clients[APP].key, json.dumps(_claims()))
    assert request(service.http_url, "GET", "/extension/verify",
                   headers={"Authorization": f"Bearer {token}"}).json["Error"] == "no samples uploaded"
    issued = extension_token(service.clients[APP].key, APP, BCID, "verify", challenge=["left", "up", "down"],
                             livedetection=True, maxtries=15)
    assert request(service.http_url, "GET", f"/extension/result?access_token={issued}",
                   headers=basic(service)).status == 204
