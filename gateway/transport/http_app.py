"""The HTTP port, every route and the middleware order in one place (and the metrics port's one route).

Middleware, outermost first:
  1. extension bookkeeping (transport/extension/http.py): jobid, log line and metrics of every /extension/ call
  2. CORS of /extension/ (transport/web/cors.py), inside it, so a preflight is counted too
Routes, matched in this order:
  /livez, /readyz, /openapi.json                    here
  /extension/token|upload|enroll|verify|...|result  transport/extension/http.py (the BWS 2 token flow)
  /extension/status|isenrolled|qualitycheck|livedetection|passivelivedetection|photoverify|photoverify2
                                                    transport/extension/direct.py (the classic direct calls)
  /metrics                                          here, when BWS_METRICS_PORT is not set
  /capture, /web/static/*, /docs, /demo/token       transport/web/pages.py
  everything else                                   the REST transcoder (transport/rest/mux.py): a route of the
                                                    protos' google.api.http annotations, else 404/405
"""
from __future__ import annotations

import hmac
import json
from typing import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from gateway.infra.budget import ByteBudget
from gateway.infra.calls import OnCall
from gateway.infra.metrics import CONTENT_TYPE, Metrics
from gateway.settings import Settings
from gateway.transport.extension import direct
from gateway.transport.extension import http as extension_http
from gateway.transport.extension.flow import ExtensionFlow
from gateway.transport.rest.bodies import MAX_BODY_BYTES
from gateway.transport.rest.mux import Transcoder, json_response
from gateway.transport.web import pages
from gateway.transport.web.cors import cors_middleware

Readiness = Callable[[], Awaitable[dict[str, bool]]]


def build_http_app(settings: Settings, transcoder: Transcoder, ready: Readiness, openapi: dict,
                   flow: ExtensionFlow, budget: ByteBudget, on_call: OnCall, metrics: Metrics) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[
        extension_http.bookkeeping(on_call),
        cors_middleware(settings.allowed_origins),
    ])
    add_health_routes(app, ready, openapi)
    extension_http.add_routes(app, flow, budget)
    direct.add_routes(app, direct.DirectCalls(flow, settings.version), budget)
    if settings.metrics_port is None:  # else /metrics is only on its own port: 404 here
        app.router.add_get("/metrics", metrics_handler(settings, metrics))
    pages.add_routes(app, settings, flow)
    app.router.add_route("*", "/{tail:.*}", transcoder.handle)
    return app


def build_metrics_app(settings: Settings, metrics: Metrics) -> web.Application:
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(settings, metrics))
    return app


def add_health_routes(app: web.Application, ready: Readiness, openapi: dict) -> None:
    openapi_body = json.dumps(openapi).encode()

    async def livez(_: web.Request) -> web.Response:
        return json_response(200, b'{"status":"alive"}')

    async def readyz(_: web.Request) -> web.Response:
        checks = await ready()
        ok = all(checks.values())
        return json_response(200 if ok else 503, json.dumps({"ready": ok, "checks": checks}).encode())

    async def openapi_json(_: web.Request) -> web.Response:
        return json_response(200, openapi_body)

    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", openapi_json)


NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def shows_partitions(settings: Settings) -> bool:
    """Whether /metrics shows the series that name partitions without a token: only on its own port, and, with
    TLS on, only to scrapers with a client certificate (a TLS port without a client CA is as open as the others)."""
    if settings.metrics_port is None:
        return False
    return settings.tls_cert is None or settings.tls_client_ca is not None


def metrics_handler(settings: Settings, metrics: Metrics):
    """With BWS_METRICS_TOKEN, only `Authorization: Bearer <token>` is shown /metrics. Without a token, the
    series that name partitions are left out where anyone may reach the port (see shows_partitions)."""
    async def handle(request: web.Request) -> web.Response:
        expected = settings.metrics_token
        if expected is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
                return web.Response(status=401, text="/metrics needs Authorization: Bearer <BWS_METRICS_TOKEN>\n",
                                    headers={"WWW-Authenticate": "Bearer", **NOSNIFF})
        tenants = expected is not None or shows_partitions(settings)
        return web.Response(body=metrics.render(tenants), headers={"Content-Type": CONTENT_TYPE, **NOSNIFF})
    return handle


class _Handler(RequestHandler):
    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers.update(NOSNIFF)
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Handler(self, loop=self._loop, **self._kwargs)


class HttpRunner(web.AppRunner):
    """aiohttp's runner, whose connections mark their own error answers (a malformed request's 400, which no
    middleware sees) nosniff like every other answer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server
        return server
