"""JWTs: no client-id enumeration, a maximum lifetime, and development secrets private from the first byte."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time

import grpc
import pytest

from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from gateway.app import load_keys
from gateway.infra.clients import development_registry
from gateway.settings import Settings
from tests.e2e.http import request
from tests.security.forge import api_token

YEAR_9999 = 253402300799


def _grpc_refusal(service, token: str) -> tuple[grpc.StatusCode, str]:
    with service.channel() as channel:
        with pytest.raises(grpc.RpcError) as refused:
            fr_grpc.FaceRecognitionStub(channel).GetClassCount(
                fr.GetClassCountRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=30)
    return refused.value.code(), refused.value.details()


def test_unknown_client_and_bad_signature_read_the_same(service):
    unknown = api_token(b"u" * 32, "no-such-client")
    wrong_key = api_token(b"u" * 32, "tenant-a")
    refusals = [_grpc_refusal(service, t) for t in (unknown, wrong_key)]
    assert refusals[0] == refusals[1] and refusals[0][0] == grpc.StatusCode.UNAUTHENTICATED
    replies = [request(service.http_url, "GET", "/api/face/v1/classcount", headers={"Authorization": f"Bearer {t}"})
               for t in (unknown, wrong_key)]
    assert [r.status for r in replies] == [401, 401] and replies[0].json == replies[1].json


@pytest.mark.parametrize("claims", [
    {"exp": YEAR_9999},
    {"iat": int(time.time()) - 60, "exp": int(time.time()) + 25 * 3600},
    {"iat": None, "exp": int(time.time()) + 25 * 3600},
], ids=["until-9999", "25-hours", "25-hours-without-iat"])
def test_long_lived_api_tokens_are_refused(service, claims):
    token = api_token(service.clients["tenant-a"].key, "tenant-a", **claims)
    code, details = _grpc_refusal(service, token)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "lifetime" in details
    reply = request(service.http_url, "GET", "/api/face/v1/classcount", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 401 and "lifetime" in reply.json["message"]


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_development_secrets_are_private_and_never_written_through_a_link(tmp_path):
    old = os.umask(0)  # the files must not depend on the umask to be private
    try:
        settings = Settings(data_dir=tmp_path / "data")
        load_keys(settings)
        development_registry(settings.data_dir)
        assert _mode(tmp_path / "data" / "dev-keys.json") == 0o600
        assert _mode(tmp_path / "data" / "dev-clients.json") == 0o600
        # A link planted where the key file goes: the key is not written to where it points.
        planted = tmp_path / "planted"
        planted.mkdir()
        (planted / "dev-keys.json").symlink_to(tmp_path / "stolen-key.json")
        with pytest.raises(OSError):
            load_keys(Settings(data_dir=planted))
        assert not (tmp_path / "stolen-key.json").exists()
    finally:
        os.umask(old)


def _encode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _forged(key: bytes, header: dict, digest) -> str:
    encode = _encode
    now = int(time.time())
    signing_input = f"{encode(header)}.{encode({'sub': 'tenant-a', 'aud': 'BWS', 'iat': now, 'exp': now + 300})}"
    signature = base64.urlsafe_b64encode(hmac.new(key, signing_input.encode(), digest).digest()).rstrip(b"=")
    return f"{signing_input}.{signature.decode()}"


@pytest.mark.parametrize("header", [
    {"alg": "none"}, {"alg": "RS256", "typ": "JWT"}, {"alg": "ES256"}, {"alg": "PS512"},
    {"alg": "HS256", "kid": "tenant-b"}, {"alg": "HS512", "jku": "https://attacker.example/jwks.json"},
    {"alg": "HS256", "jwk": {"kty": "oct", "k": "YQ"}},
], ids=lambda h: "-".join(str(v) if not isinstance(v, dict) else "jwk" for v in h.values()))
def test_algorithm_confusion_is_the_one_generic_refusal(service, header):
    """Signed with tenant-a's own HMAC key under a header that names another algorithm or another key: a
    verifier that believed the header would accept it. Both transports answer the generic refusal."""
    token = _forged(service.clients["tenant-a"].key, header, hashlib.sha512 if "512" in header["alg"]
                    else hashlib.sha256)
    if header["alg"] == "none":
        token = token.rsplit(".", 1)[0] + "."
    code, details = _grpc_refusal(service, token)
    assert code == grpc.StatusCode.UNAUTHENTICATED and details == "invalid token: unknown client or bad signature"
    reply = request(service.http_url, "GET", "/api/face/v1/classcount", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 401 and reply.json["message"] == details
