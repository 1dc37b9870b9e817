"""Cross-cutting concerns of every call, written once:

* MetadataInterceptor: jobid, bws-version, date, reference-number headers and
  the response-time-ms trailer, on failed calls too; the bookkeeping log line.
* ErrorInterceptor: service errors (and the store being unreachable) to gRPC
  status codes; undecodable request messages to INVALID_ARGUMENT; anything
  unexpected to INTERNAL without leaking details.
* AuthInterceptor: the JWT, the client, and the operations it may call; the
  bytes of the call's message held in the request byte budget (gateway/infra/budget.py)
  from before it is received until the call ends.

Order (outermost first): metadata, errors, auth.
"""
from __future__ import annotations

import asyncio
import contextvars
import hmac
import logging
import re
import time
import uuid
import weakref
from dataclasses import dataclass
from email.utils import formatdate
from typing import Awaitable, Callable

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

from gateway.core import tenancy
from gateway.infra.auth import Authenticator
from gateway.infra.budget import LOOPBACK_METADATA, ByteBudget, Hold, OverBudget
from gateway.core.tenancy import Client, current_client
from gateway.core.errors import (ErrorKind, InvalidArgument, PermissionDenied, ResourceExhausted, ServiceError,
                                 Unauthenticated)
from gateway.infra.store_outage import translate

log = logging.getLogger("bws.calls")

BWS_SERVICE_PREFIX = "/bioid.services.v1."
# Which client operation each BWS method needs.
OPERATION_OF_METHOD = {
    "Enroll": "enroll", "Verify": "verify", "Search": "search", "SetTemplateTags": "tags",
    "GetTemplateStatus": "status", "GetClassCount": "count", "DeleteTemplate": "delete",
    "LivenessDetection": "liveness", "VideoLivenessDetection": "liveness", "PhotoVerify": "photoverify",
}
GRPC_CODE = {kind: getattr(grpc.StatusCode, kind.value) for kind in ErrorKind}
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]{1,128}$")
# How long a call may wait, before its message is received, for room in the byte budget.
RECEIVE_WAIT_SECONDS = 2.0

current_job: contextvars.ContextVar[str] = contextvars.ContextVar("current_job", default="")

Behavior = Callable[[object, grpc.aio.ServicerContext], Awaitable[object]]


def metadata_value(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for k, v in context.invocation_metadata() or ():
        if k == key:
            return v if isinstance(v, str) else None
    return None


class UnaryInterceptor(grpc.aio.ServerInterceptor):
    """Wraps the unary-unary handlers of the methods `applies_to` accepts."""

    def applies_to(self, method: str) -> bool:
        return method.startswith(BWS_SERVICE_PREFIX)

    async def around(self, behavior: Behavior, request, context: grpc.aio.ServicerContext, method: str):
        raise NotImplementedError

    def deserializer(self, deserialize: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
        return deserialize

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies_to(method):
            return handler
        if handler.unary_unary is None:
            return self._refusal(handler, method)
        behavior = handler.unary_unary

        async def wrapped(request, context):
            return await self.around(behavior, request, context, method)

        return grpc.unary_unary_rpc_method_handler(wrapped, request_deserializer=self.deserializer(
                                                       handler.request_deserializer),
                                                   response_serializer=handler.response_serializer)

    def _refusal(self, handler, method: str):
        """A call refused before its request message is read (see AuthInterceptor) is a stream-unary
        handler that never reads its stream: the outer interceptors wrap it all the same."""
        if handler.stream_unary is None or not getattr(handler.stream_unary, "refusal", False):
            return handler
        behavior = handler.stream_unary

        async def wrapped(requests, context):
            return await self.around(behavior, requests, context, method)

        wrapped.refusal = True
        return grpc.stream_unary_rpc_method_handler(wrapped, response_serializer=handler.response_serializer)


class MetadataInterceptor(UnaryInterceptor):
    def __init__(self, version: str, on_call: Callable[[str, str, float], None] = lambda *_: None) -> None:
        self.version = version
        self.on_call = on_call  # (method, status code name, seconds), e.g. for metrics

    async def around(self, behavior, request, context, method):
        started = time.perf_counter()
        job_id = str(uuid.uuid4())
        current_job.set(job_id)
        reference = metadata_value(context, "reference-number")
        if reference is not None and not _METADATA_VALUE.match(reference):
            reference = None
        headers = [("jobid", job_id), ("bws-version", self.version), ("date", formatdate(usegmt=True))]
        if reference:
            headers.append(("reference-number", reference))
        await context.send_initial_metadata(headers)
        cancelled = False
        try:
            return await behavior(request, context)
        except asyncio.CancelledError:  # the caller went away or its deadline passed
            cancelled = True
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            context.set_trailing_metadata((*(context.trailing_metadata() or ()),
                                           ("response-time-ms", str(round(elapsed_ms)))))
            client = current_client.get(None)
            code = grpc.StatusCode.CANCELLED if cancelled else context.code() or grpc.StatusCode.OK
            code_name = getattr(code, "name", str(code))
            self.on_call(method, code_name, elapsed_ms / 1000)
            log.info("call", extra={"jobid": job_id, "method": method, "client": client.client_id if client else None,
                                    "reference_number": reference, "code": code_name,
                                    "duration_ms": round(elapsed_ms, 1)})


@dataclass(frozen=True)
class UndecodableRequest:
    """Stands in for a request message whose bytes did not parse (grpc would
    otherwise answer UNKNOWN before any interceptor runs)."""
    reason: str


class ErrorInterceptor(UnaryInterceptor):
    def deserializer(self, deserialize):
        if deserialize is None:
            return None

        def tolerant(data: bytes):
            try:
                return deserialize(data)
            except DecodeError as exc:
                return UndecodableRequest(str(exc))
        return tolerant

    async def around(self, behavior, request, context, method):
        try:
            if isinstance(request, UndecodableRequest):
                raise InvalidArgument(f"the request message could not be decoded ({request.reason}); "
                                      "string fields must be valid UTF-8")
            return await behavior(request, context)
        except Exception as exc:
            error = translate(exc)
            if isinstance(error, ServiceError):
                context.set_code(GRPC_CODE[error.kind])
                context.set_details(error.message)
                if error.retry_after is not None:
                    context.set_trailing_metadata(retry_trailers(GRPC_CODE[error.kind], error.message,
                                                                 error.retry_after))
                return None
            log.exception("unexpected error", extra={"jobid": current_job.get(), "method": method})
            context.set_code(grpc.StatusCode.INTERNAL)
            context.set_details(f"internal error (jobid {current_job.get()})")
        return None


def retry_trailers(code: grpc.StatusCode, message: str, seconds: int) -> tuple[tuple[str, str | bytes], ...]:
    """A retry hint two ways: `retry-after` (seconds) and a google.rpc.RetryInfo detail in the rich status."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=seconds)))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return (("retry-after", str(seconds)), ("grpc-status-details-bin", status.SerializeToString()))


def _refusal_handler(handler, error: ServiceError):
    """A stream-unary handler that never reads its stream: the call is answered before its message is read."""
    async def refuse(_requests, _context):
        raise error
    refuse.refusal = True
    return grpc.stream_unary_rpc_method_handler(refuse, response_serializer=handler.response_serializer)


def _holding(handler, hold: Hold):
    """The handler with the call's message counted: the hold (the largest message, taken before the message is
    read) shrinks to the message's size when it arrives and is released when the call ends, or, for a call that
    ends before its behavior runs (the caller went away mid-message), when the call's handler is dropped."""
    deserialize, behavior = handler.request_deserializer, handler.unary_unary

    def counted(data: bytes):
        hold.shrink(len(data))
        return deserialize(data) if deserialize else data
    weakref.finalize(counted, hold.release)

    async def held(request, context):
        try:
            return await behavior(request, context)
        finally:
            hold.release()
    return grpc.unary_unary_rpc_method_handler(held, request_deserializer=counted,
                                               response_serializer=handler.response_serializer)


class AuthInterceptor(UnaryInterceptor):
    def __init__(self, authenticator: Authenticator, budget: ByteBudget | None = None, message_limit: int = 0,
                 loopback_secret: str | None = None, receive_wait: float = RECEIVE_WAIT_SECONDS) -> None:
        self.authenticator = authenticator
        self.budget = budget
        self.message_limit = message_limit
        self.loopback_secret = loopback_secret.encode() if loopback_secret else None
        self.receive_wait = receive_wait

    def _from_loopback(self, metadata) -> bool:
        given = next((v for k, v in metadata if k == LOOPBACK_METADATA and isinstance(v, str)), None)
        return self.loopback_secret is not None and given is not None and hmac.compare_digest(
            given.encode(), self.loopback_secret)

    async def intercept_service(self, continuation, handler_call_details):
        """A call whose authorization metadata is refused is answered before its message is read: an
        unauthenticated caller cannot make the service receive (and hold) 64 MB messages. An authenticated
        call's message is received only once its client has room for the largest message in the byte
        budget (waiting a little for it); otherwise RESOURCE_EXHAUSTED with a retry hint, unread."""
        handler = await super().intercept_service(continuation, handler_call_details)
        if handler is None or handler.unary_unary is None or not self.applies_to(handler_call_details.method):
            return handler
        metadata = handler_call_details.invocation_metadata or ()
        authorization = next((v for k, v in metadata if k == "authorization" and isinstance(v, str)), None)
        try:
            client = self.authenticator.authenticate(authorization)
        except Unauthenticated as error:
            return _refusal_handler(handler, error)
        if self.budget is None or self._from_loopback(metadata):
            return handler
        try:
            hold = await self.budget.hold_within(self.message_limit, client.client_id, self.receive_wait)
        except OverBudget as exc:
            return _refusal_handler(handler, ResourceExhausted(str(exc), exc.retry_after))
        return _holding(handler, hold)

    async def around(self, behavior, request, context, method):
        client = self.authenticator.authenticate(metadata_value(context, "authorization"))
        operation = OPERATION_OF_METHOD.get(method.rsplit("/", 1)[-1])
        if operation is None or not client.allows(operation):
            raise PermissionDenied(f"client {client.client_id!r} may not call {method.rsplit('/', 1)[-1]}")
        tenancy.bind(client)
        return await behavior(request, context)


def client_of_call() -> Client:
    client = current_client.get(None)
    if client is None:  # only reachable if a servicer is registered without AuthInterceptor
        raise Unauthenticated("unauthenticated call")
    return client
