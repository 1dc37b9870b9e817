"""Found in review: with TLS on, the metrics port (BWS_METRICS_PORT) still served plain HTTP, without
authentication, partition names included. It now serves the same TLS as the other ports (with a client CA,
the scraper needs a client certificate too), with real certificates and real clients. Found in the next review:
with TLS but no client CA the port is as open as the others, yet it showed partition names to anyone; they now
need a client certificate (or BWS_METRICS_TOKEN)."""
from __future__ import annotations

import ssl

import grpc
import httpx
import pytest

from templates_store import KeyRing
from tests.conftest import start_service, stop_service, write_clients_file
from tests.e2e.certs import make_pki
from tests.e2e.helpers import Caller, new_class_id


@pytest.fixture(scope="module", params=["tls", "mutual-tls"])
def tls_metrics(request, tmp_path_factory, redis_server):
    mutual = request.param == "mutual-tls"
    tmp = tmp_path_factory.mktemp(f"metrics-{request.param}")
    pki = make_pki(tmp)
    clients = write_clients_file(tmp / "clients.json")
    (tmp / "keys.json").write_text(KeyRing.generate("m1").to_json())
    env = {"BWS_TLS_CERT": str(pki.server_cert), "BWS_TLS_KEY": str(pki.server_key), "BWS_WORKERS": "1"}
    if mutual:
        env["BWS_TLS_CLIENT_CA"] = str(pki.ca)
    client_pair = (pki.client_key.read_bytes(), pki.client_cert.read_bytes()) if mutual else (None, None)
    credentials = grpc.ssl_channel_credentials(pki.ca.read_bytes(), *client_pair)
    target, process, _, service_env = start_service(tmp, redis_server.url, tmp / "clients.json",
                                                    tmp / "keys.json", credentials=credentials, **env)
    with grpc.secure_channel(target, credentials) as channel:  # a template, so a partition series exists
        Caller(channel, clients["tenant-a"]).enroll(new_class_id(), "obama_1.jpg")
    yield pki, mutual, int(service_env["BWS_METRICS_PORT"])
    stop_service(process)


def _context(pki, with_client_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if with_client_cert:
        context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


def test_plain_http_is_not_served_on_the_metrics_port(tls_metrics):
    _, _, port = tls_metrics
    try:
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
        return  # the TLS server does not speak plain HTTP
    assert reply.status_code == 400 and b"acme" not in reply.content and b"bws_" not in reply.content


def test_the_metrics_port_serves_the_same_tls(tls_metrics):
    pki, mutual, port = tls_metrics
    with httpx.Client(verify=_context(pki, with_client_cert=mutual), timeout=30) as client:
        reply = client.get(f"https://127.0.0.1:{port}/metrics")
    assert reply.status_code == 200 and "bws_calls_total" in reply.text
    if mutual:  # a scraper with a client certificate gets every series
        assert 'bws_index_templates{partition="acme/1"}' in reply.text
    else:  # anyone can reach the port: no partition names without the token
        assert "acme" not in reply.text
    with pytest.raises(httpx.ConnectError):  # the certificate is checked: the test CA is not trusted by default
        httpx.get(f"https://127.0.0.1:{port}/metrics", timeout=10)


def test_with_a_client_ca_the_scraper_needs_a_certificate(tls_metrics):
    pki, mutual, port = tls_metrics
    with httpx.Client(verify=_context(pki, with_client_cert=False), timeout=30) as client:
        if not mutual:
            assert client.get(f"https://127.0.0.1:{port}/metrics").status_code == 200
            return
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            client.get(f"https://127.0.0.1:{port}/metrics")
