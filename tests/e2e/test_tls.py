"""TLS on both public ports with certificates made here and real clients:
grpcio with channel credentials, httpx, and the grpcurl binary. With a client
CA (mutual TLS) a client without a certificate is refused on both ports."""
from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.settings import Settings
from templates_store import KeyRing
from tests.conftest import ROOT, start_service, stop_service, write_clients_file
from tests.e2e.certs import Pki, make_pki
from tests.e2e.helpers import Caller, new_class_id

GRPCURL = str(ROOT / ".venv" / "bin" / "grpcurl")


class TlsService:
    def __init__(self, pki: Pki, target: str, http_url: str, clients, mutual: bool) -> None:
        self.pki, self.target, self.http_url, self.clients, self.mutual = pki, target, http_url, clients, mutual

    def credentials(self, with_client_cert: bool = True) -> grpc.ChannelCredentials:
        client = (self.pki.client_key.read_bytes(), self.pki.client_cert.read_bytes()) \
            if self.mutual and with_client_cert else (None, None)
        return grpc.ssl_channel_credentials(self.pki.ca.read_bytes(), *client)

    def httpx_client(self, with_client_cert: bool = True) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        if self.mutual and with_client_cert:
            context.load_cert_chain(self.pki.client_cert, self.pki.client_key)
        return httpx.Client(base_url=self.http_url, verify=context, timeout=60)


@pytest.fixture(scope="module", params=["tls", "mutual-tls"])
def tls_service(request, tmp_path_factory, redis_server):
    mutual = request.param == "mutual-tls"
    tmp = tmp_path_factory.mktemp(request.param)
    pki = make_pki(tmp)
    clients = write_clients_file(tmp / "clients.json")
    (tmp / "keys.json").write_text(KeyRing.generate("test1").to_json())
    env = {"BWS_TLS_CERT": str(pki.server_cert), "BWS_TLS_KEY": str(pki.server_key), "BWS_WORKERS": "1"}
    if mutual:
        env["BWS_TLS_CLIENT_CA"] = str(pki.ca)
    client = (pki.client_key.read_bytes(), pki.client_cert.read_bytes()) if mutual else (None, None)
    target, process, _, service_env = start_service(
        tmp, redis_server.url, tmp / "clients.json", tmp / "keys.json",
        credentials=grpc.ssl_channel_credentials(pki.ca.read_bytes(), *client), **env)
    yield TlsService(pki, target, f"https://127.0.0.1:{service_env['BWS_HTTP_PORT']}", clients, mutual)
    stop_service(process)


def test_grpc_over_tls_enrolls_and_verifies(tls_service):
    with grpc.secure_channel(tls_service.target, tls_service.credentials()) as channel:
        caller = Caller(channel, tls_service.clients["tenant-a"])
        class_id = new_class_id()
        caller.enroll(class_id, "obama_1.jpg")
        assert caller.verify(class_id, "obama_3.jpg").verified


def test_plaintext_grpc_is_refused(tls_service):
    with grpc.insecure_channel(tls_service.target) as channel:
        with pytest.raises(grpc.RpcError) as failure:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


def test_https_serves_rest_and_probes(tls_service):
    token = tls_service.clients["tenant-a"].token()
    with tls_service.httpx_client() as client:
        assert client.get("/livez").status_code == 200
        count = client.get("/api/face/v1/classcount", headers={"Authorization": f"Bearer {token}"})
        assert count.status_code == 200, count.text
    with pytest.raises(httpx.ConnectError):
        httpx.get(tls_service.http_url + "/livez", timeout=10)  # the test CA is not trusted by default


def test_grpcurl_with_cacert(tls_service):
    pki = tls_service.pki
    args = [GRPCURL, "-cacert", str(pki.ca)]
    if tls_service.mutual:
        args += ["-cert", str(pki.client_cert), "-key", str(pki.client_key)]
    done = subprocess.run([*args, tls_service.target, "grpc.health.v1.Health/Check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"status": "SERVING"}
    listed = subprocess.run([*args, tls_service.target, "list"], capture_output=True, text=True, timeout=60)
    assert "FaceRecognition" in listed.stdout, listed.stderr


def test_a_client_without_certificate_is_refused_only_with_mutual_tls(tls_service):
    with grpc.secure_channel(tls_service.target, grpc.ssl_channel_credentials(tls_service.pki.ca.read_bytes())) as ch:
        check = lambda: health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        if tls_service.mutual:
            with pytest.raises(grpc.RpcError) as failure:
                check()
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        else:
            assert check().status == health_pb2.HealthCheckResponse.SERVING
    with tls_service.httpx_client(with_client_cert=False) as client:
        if tls_service.mutual:
            with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
                client.get("/livez")
        else:
            assert client.get("/livez").status_code == 200
    done = subprocess.run([GRPCURL, "-connect-timeout", "5", "-cacert", str(tls_service.pki.ca), tls_service.target,
                           "grpc.health.v1.Health/Check"], capture_output=True, text=True, timeout=60)
    assert (done.returncode != 0) == tls_service.mutual, done.stderr


def test_tls_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="set together"):
        Settings.from_env({"BWS_TLS_CERT": str(tmp_path / "c.pem")})
    with pytest.raises(ValueError, match="needs BWS_TLS_CERT"):
        Settings.from_env({"BWS_TLS_CLIENT_CA": str(tmp_path / "ca.pem")})


def test_missing_certificate_file_is_one_clear_startup_error(tmp_path, redis_server):
    write_clients_file(tmp_path / "clients.json")
    (tmp_path / "keys.json").write_text(KeyRing.generate("test1").to_json())
    missing = tmp_path / "nope.pem"
    env = dict(BWS_TLS_CERT=str(missing), BWS_TLS_KEY=str(missing), BWS_REDIS_URL=redis_server.url,
               BWS_CLIENTS_FILE=str(tmp_path / "clients.json"), BWS_KEYS_FILE=str(tmp_path / "keys.json"),
               BWS_DATA_DIR=str(tmp_path / "data"), BWS_GRPC_PORT="0", BWS_HTTP_PORT="0", BWS_WORKERS="1")
    done = subprocess.run([sys.executable, "-m", "gateway"], cwd=ROOT, env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"BWS_TLS_CERT: no file {missing}" in done.stdout + done.stderr

