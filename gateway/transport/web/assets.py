"""The pages' scripts and stylesheets (/web/static/) and the headers every answer of the HTTP port carries.

A page has one address, where it is served with its Content-Security-Policy (/capture, /docs); the HTML files
themselves are not served under /web/static/. Every answer is marked nosniff, and one that sets no policy of
its own (JSON, errors, scripts) gets a closed one, so nothing the port serves runs as a page unplanned."""
from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"

ASSET_TYPES = {".js": "text/javascript", ".css": "text/css"}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
SECURITY_BASE = "object-src 'none'; base-uri 'none'"
CLOSED_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

def add_routes(app: web.Application) -> None:
    async def asset(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        kind = ASSET_TYPES.get(Path(name).suffix)
        if kind is None or not _NAME.fullmatch(name) or not (STATIC / name).is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(STATIC / name, headers={**ASSET_HEADERS, "Content-Type": kind})

    app.router.add_get("/web/static/{name}", asset)
    app.on_response_prepare.append(_security_headers)

async def _security_headers(_: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", CLOSED_POLICY)
