"""The capture page (/capture), its scripts and stylesheet (/web/static/), the API docs (/docs) and, only with
BWS_DEMO=1, the developer routes: /demo/token (BWS tokens for the capture page), /try (the photo page) and
/demo/apitoken (the API tokens the photo page calls with)."""
from __future__ import annotations

import logging

from aiohttp import web

from gateway.infra.auth import make_token
from gateway.settings import Settings
from gateway.core.errors import ServiceError
from gateway.transport.extension.flow import ExtensionFlow
from gateway.transport.web import assets, docs
from gateway.transport.web.assets import SECURITY_BASE, STATIC
from templates_store import Bcid

__all__ = ["STATIC", "add_routes"]
log = logging.getLogger("bws.web")
# The page only talks to its own origin or an explicitly given one; nothing is loaded from elsewhere.
# The photo page talks to its own origin only and is framed nowhere.
TRY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
                                          f"frame-ancestors 'none'; form-action 'none'; {SECURITY_BASE}",
               "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
DEMO_API_TOKEN_SECONDS = 300
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                           f"connect-src *; frame-ancestors *; {SECURITY_BASE}",
                "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def add_routes(app: web.Application, settings: Settings, flow: ExtensionFlow) -> None:
    """The routes only: their middleware (CORS) is placed by gateway/transport/http_app.py."""
    async def capture(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "capture.html", headers=PAGE_HEADERS)

    app.router.add_get("/capture", capture)
    assets.add_routes(app)
    docs.add_routes(app)
    if settings.demo:
        log.warning("BWS_DEMO is on: /demo/token issues BWS tokens without authentication; never in production")
        app.router.add_get("/demo/token", demo_token(flow))
        app.router.add_get("/demo/apitoken", demo_api_token(flow))
        app.router.add_get("/try", try_page)


async def try_page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "try.html", headers=TRY_HEADERS)


def demo_api_token(flow: ExtensionFlow):
    """An API token (as `bws-gateway token` makes) for ?clientid= or the first registered client, for /try."""
    async def handle(request: web.Request) -> web.Response:
        wanted = request.query.get("clientid")
        client = flow.registry.get(wanted) if wanted else next(iter(flow.registry), None)
        if client is None:
            return web.json_response({"Error": "no such client" if wanted else "no client is registered"}, status=404)
        token = make_token(client.client_id, client.key, DEMO_API_TOKEN_SECONDS)
        return web.Response(text=token, content_type="text/plain", headers={"Cache-Control": "no-store"})
    return handle


def demo_token(flow: ExtensionFlow):
    """A token for any BCID of a registered client, as an application server
    would create it with /extension/token, but without its Basic credentials."""
    async def handle(request: web.Request) -> web.Response:
        q = request.query
        try:
            bcid = Bcid.parse(q.get("bcid", ""))
        except ValueError as exc:
            return web.json_response({"Error": str(exc)}, status=400)
        client = next((c for c in flow.registry if c.partition == bcid.partition), None)
        if client is None:
            return web.json_response({"Error": f"no client owns storage/partition of {bcid}"}, status=404)
        try:
            token = flow.token(client, None, str(bcid), q.get("task"), q.get("maxtries"), q.get("livedetection"),
                               q.get("challenge"))
        except ServiceError as exc:
            return web.json_response({"Error": exc.message}, status=400)
        return web.Response(text=token, content_type="text/plain", headers={"Cache-Control": "no-store"})
    return handle
