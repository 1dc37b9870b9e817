"""Swagger UI at /docs, from the files of the swagger-ui-bundle package (no
CDN), reading /openapi.json."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

STATIC = Path(__file__).resolve().parent / "static"
# Swagger UI sets inline styles; nothing is fetched from another origin (its online validator is off).
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def add_routes(app: web.Application) -> None:
    async def docs(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "docs.html", headers=HEADERS)

    app.router.add_get("/docs", docs)
    app.router.add_static("/docs/swagger-ui", Path(str(swagger_ui_path)))
