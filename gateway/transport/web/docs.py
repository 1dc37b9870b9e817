"""Swagger UI at /docs, from the files of the swagger-ui-bundle package (no
CDN), reading /openapi.json. Only the three files the page loads are served:
the package's stock index.html (which fetches a petstore example from the
internet), its OAuth redirect page and its initializer are not."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from gateway.transport.web.assets import ASSET_HEADERS, SECURITY_BASE, STATIC

SWAGGER = Path(str(swagger_ui_path))
SWAGGER_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
                 "swagger-ui-standalone-preset.js": "text/javascript"}
# Swagger UI sets inline styles; nothing is fetched from another origin (its online validator is off).
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                      f"frame-ancestors 'none'; {SECURITY_BASE}",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def add_routes(app: web.Application) -> None:
    async def docs(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "docs.html", headers=HEADERS)

    async def swagger_file(request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        if name not in SWAGGER_FILES:
            raise web.HTTPNotFound()
        return web.FileResponse(SWAGGER / name, headers={**ASSET_HEADERS, "Content-Type": SWAGGER_FILES[name]})

    app.router.add_get("/docs", docs)
    app.router.add_get("/docs/swagger-ui/{name}", swagger_file)
