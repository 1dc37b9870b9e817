"""Found in review: /web/static/capture.html, /web/static/docs.html and /docs/swagger-ui/index.html were served
without Content-Security-Policy and X-Content-Type-Options; the last is Swagger UI's stock page, which fetches
a petstore example from the internet. Each page now has one address (/capture, /docs) and its headers, the
static files are served with nosniff (only scripts and stylesheets), and Swagger's stock pages not at all."""
from __future__ import annotations

import re

import pytest

from tests.e2e.http import request

PAGES = ["/capture", "/docs"]
RAW_PAGES = ["/web/static/capture.html", "/web/static/docs.html", "/docs/swagger-ui/index.html",
             "/docs/swagger-ui/oauth2-redirect.html", "/docs/swagger-ui/swagger-initializer.js",
             "/docs/swagger-ui/index.j2", "/docs/swagger-ui/", "/web/static/", "/docs/swagger-ui/favicon-32x32.png"]
ASSETS = {"/web/static/capture.js": "javascript", "/web/static/capture.css": "text/css",
          "/web/static/docs.js": "javascript", "/docs/swagger-ui/swagger-ui-bundle.js": "javascript",
          "/docs/swagger-ui/swagger-ui-standalone-preset.js": "javascript",
          "/docs/swagger-ui/swagger-ui.css": "text/css"}
OTHER_ORIGIN = re.compile(rb"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)  # an absolute or scheme-relative URL


def _csp(reply) -> dict[str, list[str]]:
    policy = reply.headers.get("content-security-policy", "")
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_has_its_headers_and_only_its_own_origin(service, path):
    page = request(service.http_url, "GET", path)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = _csp(page)
    assert policy["default-src"] == ["'self'"], policy
    for directive in ("script-src", "style-src", "img-src"):  # nothing loads from another origin
        assert all(s in ("'self'", "'unsafe-inline'", "data:", "blob:") for s in policy.get(directive, [])), policy
    assert "script-src" not in policy or "'unsafe-inline'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], policy
    assert not OTHER_ORIGIN.search(page.body), OTHER_ORIGIN.search(page.body)
    assert b"petstore" not in page.body
    for reference in re.findall(rb'(?:src|href)="([^"]+)"', page.body):
        if reference.startswith(b"data:"):
            continue
        assert reference.startswith(b"/") and not reference.startswith(b"//"), reference
        asset = request(service.http_url, "GET", reference.decode())
        assert asset.status == 200 and asset.headers["x-content-type-options"] == "nosniff", reference
        if not reference.startswith(b"/docs/swagger-ui/"):  # Swagger's own files name W3C namespaces and such:
            assert not OTHER_ORIGIN.search(asset.body), reference  # the page's policy keeps them to this origin


@pytest.mark.parametrize("path", RAW_PAGES)
def test_raw_pages_and_swaggers_stock_pages_are_not_served(service, path):
    reply = request(service.http_url, "GET", path)
    assert reply.status == 404, (path, reply.status, reply.headers.get("content-type"))
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert b"<html" not in reply.body.lower() and b"petstore" not in reply.body


@pytest.mark.parametrize("path, kind", sorted(ASSETS.items()))
def test_static_files_are_served_with_nosniff(service, path, kind):
    reply = request(service.http_url, "GET", path)
    assert reply.status == 200 and kind in reply.headers["content-type"], (path, reply.headers)
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_docs_script_names_no_other_origin(service):
    script = request(service.http_url, "GET", "/web/static/docs.js").body
    assert not OTHER_ORIGIN.search(script) and b"petstore" not in script


@pytest.mark.parametrize("path", ["/livez", "/openapi.json", "/api/face/v1/classcount", "/nope"])
def test_other_answers_carry_nosniff_and_a_closed_policy(service, path):
    reply = request(service.http_url, "GET", path)
    assert reply.headers["x-content-type-options"] == "nosniff", path
    assert _csp(reply).get("default-src") == ["'none'"], (path, reply.headers)
