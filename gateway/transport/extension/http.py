"""The /extension/ routes on the HTTP port: the BWS 2 token API over aiohttp."""
from __future__ import annotations

import json
import logging
import time
from typing import Callable

from aiohttp import web

from gateway.core.errors import ErrorKind, ServiceError
from gateway.infra.store_outage import translate
from gateway.transport.status import http_status_of
from gateway.transport.extension.flow import ExtensionFlow, UploadRefused, decode_data_url
from gateway.infra.budget import ByteBudget, OverBudget
from gateway.infra.calls import new_job_id, record_call
from gateway.transport.extension.tasks import TASKS
from gateway.transport.rest.bodies import BodyError, holding_body, read_body, refusing

log = logging.getLogger("bws.extension")
JOB_ID = web.RequestKey("jobid", str)  # the call's job id, which the classic results name too (JobID)
UNMATCHED = "/extension/(unmatched)"  # the one metrics label of every path that is no /extension/ route


def _json(status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json",
                        headers=headers)


def _failure(error: Exception, task: bool) -> web.Response:
    error = translate(error)
    if isinstance(error, ServiceError):
        status = http_status_of(error.kind)
        body = {"Success": False, "Error": error.message} if task else {"Error": error.message}
        response = _json(status, body, {"Retry-After": str(error.retry_after)} if error.retry_after else None)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer" if task else "Basic"
        return response
    log.exception("extension call failed")
    return _json(500, {"Success": False, "Error": "internal error"} if task else {"Error": "internal error"})


def bookkeeping(on_call: Callable[[str, str, float], None]):
    """Every /extension/ call gets a jobid header, one JSON log line and metrics,
    like the gRPC calls get from their interceptor."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        if not request.path.startswith("/extension/"):
            return await handler(request)
        started, job_id = time.perf_counter(), new_job_id()
        request[JOB_ID] = job_id
        response = await handler(request)
        response.headers["jobid"] = job_id
        record_call(on_call, job_id, request.path, route_label(request), request.get("client"),
                    str(response.status), time.perf_counter() - started)
        return response
    return middleware


def route_label(request: web.Request) -> str:
    """The route template a request matched: callers choose paths, so paths are no label values."""
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else ""
    return template if template.startswith("/extension/") else UNMATCHED


def add_routes(app: web.Application, flow: ExtensionFlow, budget: ByteBudget) -> None:
    """The routes only: their middleware (bookkeeping) is placed by gateway/transport/http_app.py."""

    async def token(request: web.Request) -> web.Response:
        try:
            client = flow.app(request.headers.get("Authorization"))
            request["client"] = client.client_id
            q = request.query
            text = flow.token(client, q.get("id"), q.get("bcid"), q.get("task"), q.get("maxtries"),
                              q.get("livedetection"), q.get("challenge"))
        except Exception as error:  # noqa: BLE001 - every failure becomes an HTTP answer
            return _failure(error, task=False)
        return web.Response(text=text, content_type="text/plain")

    async def upload(request: web.Request) -> web.Response:
        try:
            _, token = flow.bearer(request.headers.get("Authorization"))  # before a byte of the body is read
            request["client"] = token.app_id
            with holding_body(budget, request, token.app_id) as hold:  # until the sample is checked and stored
                image = decode_data_url(await read_body(request, hold))
                body = await flow.upload(token, image, request.query.get("tag"), request.query.get("index"))
        except OverBudget as error:
            return _json(429, {"Accepted": False, "Error": "TooManyRequests", "Message": str(error)},
                         {"Retry-After": str(error.retry_after)})
        except BodyError as error:
            return refusing(error, _json(error.status, {"Accepted": False, "Error": "InvalidSample",
                                                        "Message": str(error)}))
        except UploadRefused as error:
            headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
            return _json(error.status, {"Accepted": False, "Error": error.code, "Message": error.message}, headers)
        except ServiceError as error:
            if error.kind == ErrorKind.INVALID_ARGUMENT:
                return _json(400, {"Accepted": False, "Error": "InvalidSample", "Message": error.message})
            return _failure(error, task=False)
        except Exception as error:  # noqa: BLE001
            return _failure(error, task=False)
        return _json(200, body)

    def task_handler(task: str):
        async def handle(request: web.Request) -> web.Response:
            try:
                result = await flow.run(request.headers.get("Authorization"), task,
                                        request.query.get("livedetection"), request.query.get("maxresults"))
            except Exception as error:  # noqa: BLE001
                return _failure(error, task=True)
            return _json(result.status, result.body)
        return handle

    async def result(request: web.Request) -> web.Response:
        try:
            client = flow.app(request.headers.get("Authorization"))
            request["client"] = client.client_id
            found = await flow.result(client, request.query.get("access_token"))
        except Exception as error:  # noqa: BLE001
            return _failure(error, task=False)
        return web.Response(status=204) if found is None else _json(200, found)

    app.router.add_get("/extension/token", token)
    app.router.add_post("/extension/upload", upload)
    for task in TASKS:
        app.router.add_get(f"/extension/{task}", task_handler(task))
    app.router.add_get("/extension/result", result)
