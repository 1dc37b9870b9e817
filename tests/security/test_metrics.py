"""/metrics cannot be inflated by callers, and per-tenant figures are not shown to anonymous callers."""
from __future__ import annotations

import secrets

import pytest

from templates_store import KeyRing
from tests.conftest import start_service, stop_service, write_clients_file
from tests.e2e.http import request


def _series(text: str) -> set[str]:
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_unknown_paths_add_no_series(service):
    request(service.http_url, "GET", "/extension/nope")  # the one "unmatched" series exists from here on
    before = _series(request(service.metrics_url, "GET", "/metrics").body.decode())
    for _ in range(300):
        path = f"/extension/{secrets.token_hex(6)}/{secrets.token_hex(4)}"
        assert request(service.http_url, "GET", path).status == 404
    after = _series(request(service.metrics_url, "GET", "/metrics").body.decode())
    assert after - before == set(), sorted(after - before)[:5]
    assert 'bws_calls_total{code="404",method="/extension/(unmatched)"}' in after


def test_metrics_only_on_their_own_port(service):
    assert request(service.http_url, "GET", "/metrics").status == 404
    text = request(service.metrics_url, "GET", "/metrics").body.decode()
    assert "# TYPE bws_index_templates gauge" in text  # the trusted scrape gets the per-partition figures


@pytest.fixture(scope="module")
def token_service(tmp_path_factory, redis_server):
    """/metrics on the main port behind BWS_METRICS_TOKEN (no BWS_METRICS_PORT)."""
    tmp = tmp_path_factory.mktemp("metrics")
    write_clients_file(tmp / "clients.json")
    (tmp / "keys.json").write_text(KeyRing.generate("t1").to_json())
    token = secrets.token_urlsafe(24)
    _, process, _, env = start_service(tmp, redis_server.url, tmp / "clients.json", tmp / "keys.json",
                                       BWS_WORKERS="1", BWS_METRICS_PORT="", BWS_METRICS_TOKEN=token)
    yield f"http://127.0.0.1:{env['BWS_HTTP_PORT']}", token
    stop_service(process)


def test_metrics_behind_a_bearer_token(token_service):
    url, token = token_service
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {token}x"}):
        reply = request(url, "GET", "/metrics", headers=headers)
        assert reply.status == 401 and b"partition" not in reply.body
    reply = request(url, "GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 200 and b"bws_index_templates" in reply.body
