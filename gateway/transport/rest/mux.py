"""The HTTP front: match a route, transcode, call gRPC, transcode back.

Like grpc-gateway's runtime, the pieces are separate and small: routes
(bws_proto/transcoding/routes.py), marshaler (bws_proto/transcoding/marshal.py), error body
(error_body.py, its status from transport/status.py); this module
only strings them together on aiohttp.
"""
from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import quote

import grpc
from aiohttp import web

from gateway.infra.auth import Authenticator
from gateway.core.errors import ErrorKind, ServiceError, Unauthenticated
from gateway.infra.budget import ByteBudget
from bws_proto.transcoding import marshal
from gateway.transport.rest.error_body import error_body
from gateway.transport.status import http_status
from gateway.transport.rest.bodies import BodyError, holding_body, read_body, refusing
from bws_proto.transcoding.routes import Route
from gateway.transport.loopback import CLIENT_METADATA, LOOPBACK_METADATA, REFUSAL_METADATA
from gateway.transport.status import grpc_code

log = logging.getLogger("bws.rest")
FORWARDED_REQUEST_HEADERS = {"authorization": "authorization", "reference-number": "reference-number"}
RETURNED_METADATA = ("jobid", "bws-version", "reference-number", "date", "response-time-ms", "retry-after")
DEFAULT_DEADLINE_SECONDS = 120.0
DISCONNECT_POLL_SECONDS = 0.25
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]+$")  # what gRPC metadata carries: other header values are dropped


def json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def error_response(code: grpc.StatusCode, message: str, headers: dict[str, str] | None = None,
                   status: int | None = None) -> web.Response:
    return json_response(status or http_status(code), error_body(code, message), headers)


class Transcoder:
    def __init__(self, routes: list[Route], channel: grpc.aio.Channel, authenticator: Authenticator,
                 budget: ByteBudget, loopback_secret: str) -> None:
        self.routes = routes
        self.channel = channel
        self.authenticator = authenticator
        self.budget = budget
        self.loopback = ((LOOPBACK_METADATA, loopback_secret),)
        self._calls = {route.grpc_path: channel.unary_unary(
            route.grpc_path,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=marshal.message_class(route.method.output_type).FromString,
        ) for route in routes}

    def find(self, http_method: str, path: str) -> tuple[Route, dict[str, str]] | tuple[None, list[str]]:
        allowed = []
        for route in self.routes:
            values = route.match(path)
            if values is None:
                continue
            if route.http_method == http_method:
                return route, values
            allowed.append(route.http_method)
        return None, allowed

    async def handle(self, request: web.Request) -> web.Response:
        route, found = self.find(request.method, request.path)
        if route is None:
            if found:
                return error_response(grpc.StatusCode.UNIMPLEMENTED, f"method {request.method} not allowed",
                                      {"Allow": ", ".join(sorted(set(found)))}, status=405)
            return error_response(grpc.StatusCode.NOT_FOUND, f"no route for {request.path}")
        metadata = tuple((key, request.headers[header]) for header, key in FORWARDED_REQUEST_HEADERS.items()
                         if _METADATA_VALUE.match(request.headers.get(header, ""))) + self.loopback
        try:  # the call's one authentication
            client = self.authenticator.authenticate(request.headers.get("Authorization"))
        except Unauthenticated as refusal:
            # Refused before a byte of the body is read; the gRPC server answers the refusal, so it carries the
            # BWS headers, log line and metrics of every call.
            refused = metadata + ((REFUSAL_METADATA, _metadata_text(refusal.message)),)
            return await self._call(request, route, marshal.message_class(route.method.input_type)(), refused)
        metadata += ((CLIENT_METADATA, quote(client.client_id)),)
        try:
            # The body's bytes stay held until the call ends: its message is in memory until then.
            with holding_body(self.budget, request, client.client_id, read=bool(route.body)) as hold:
                body = await read_body(request, hold) if route.body else b""
                query = {key: request.query.getall(key) for key in request.query.keys()}
                message = marshal.request_from_http(route, found, query, body)
                del body
                return await self._call(request, route, message, metadata)
        except ServiceError as exc:  # over the byte budget
            retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
            return error_response(grpc_code(exc.kind), exc.message, retry)
        except BodyError as exc:
            code = {413: grpc.StatusCode.RESOURCE_EXHAUSTED, 408: grpc.StatusCode.DEADLINE_EXCEEDED}.get(
                exc.status, grpc.StatusCode.INVALID_ARGUMENT)
            return refusing(exc, error_response(code, str(exc), None, exc.status))
        except marshal.BadRequest as exc:
            return error_response(grpc_code(ErrorKind.INVALID_ARGUMENT), str(exc))

    async def _call(self, request: web.Request, route: Route, message,
                    metadata: tuple[tuple[str, str], ...]) -> web.Response:
        call = self._calls[route.grpc_path](message, metadata=metadata, timeout=DEFAULT_DEADLINE_SECONDS)
        watcher = asyncio.create_task(_cancel_when_caller_gone(request, call))
        try:
            response = await call
        except grpc.aio.AioRpcError as failure:
            headers = _headers(failure.initial_metadata(), failure.trailing_metadata())
            return error_response(failure.code(), failure.details() or failure.code().name, headers)
        except asyncio.CancelledError:
            if not (watcher.done() and watcher.result()):
                raise
            return error_response(grpc.StatusCode.CANCELLED, "the client went away")
        finally:
            watcher.cancel()
        headers = _headers(await call.initial_metadata(), await call.trailing_metadata())
        return json_response(200, marshal.to_json(response), headers)


async def _cancel_when_caller_gone(request: web.Request, call: grpc.aio.Call) -> bool:
    """aiohttp lets a handler run on when its client disconnects: cancel the
    gRPC call then, which drops the engine work it still has waiting."""
    while not call.done():
        if request.transport is None or request.transport.is_closing():
            call.cancel()
            return True
        await asyncio.sleep(DISCONNECT_POLL_SECONDS)
    return False


def _metadata_text(text: str) -> str:
    """gRPC metadata carries printable ASCII only."""
    return text if _METADATA_VALUE.match(text) else "invalid token"


def _headers(*metadata_sets) -> dict[str, str]:
    headers = {}
    for metadata in metadata_sets:
        for key, value in metadata or ():
            if key in RETURNED_METADATA and isinstance(value, str):
                headers[key] = value
    return headers
