"""CORS for the /extension/ routes: a capture page served from another origin
may call them when its origin is listed in BWS_CORS_ORIGINS (none by default)."""
from __future__ import annotations

from aiohttp import web

PREFIX = "/extension/"
ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"


def cors_middleware(allowed: frozenset[str]):
    @web.middleware
    async def middleware(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if not request.path.startswith(PREFIX) or origin is None:
            return await handler(request)
        permitted = origin.rstrip("/") in allowed
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not permitted:
                return web.Response(status=403, text="origin not allowed")
            return web.Response(status=204, headers={
                "Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS, "Access-Control-Max-Age": MAX_AGE, "Vary": "Origin"})
        response = await handler(request)
        if permitted:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "jobid"
        response.headers["Vary"] = "Origin"
        return response
    return middleware
