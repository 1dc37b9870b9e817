"""Cross-cutting concerns of every call, written once:

* MetadataInterceptor: jobid, bws-version, date, reference-number headers and
  the response-time-ms trailer, on failed calls too; the bookkeeping log line.
* ErrorInterceptor: service errors (and the store being unreachable) to gRPC
  status codes; undecodable request messages to INVALID_ARGUMENT; anything
  unexpected to INTERNAL without leaking details.
* AuthInterceptor: the JWT (once per call: a REST call's client comes authenticated from the transcoder), the
  client, and the operations it may call; the
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
import weakref
from dataclasses import dataclass
from email.utils import formatdate
from typing import Awaitable, Callable
from urllib.parse import unquote

import grpc
from google.protobuf import any_pb2, descriptor_pool, duration_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

from gateway.core import tenancy
from gateway.infra.auth import INVALID, Authenticator
from gateway.infra.budget import ByteBudget, Hold, OverBudget
from gateway.infra.calls import new_job_id, record_call
from gateway.core.tenancy import Client, current_client
from gateway.core.errors import (DeadlineExceeded, InvalidArgument, PermissionDenied, ServiceError,
                                 Unauthenticated)
from gateway.infra.store_outage import translate
from gateway.transport.loopback import CLIENT_METADATA, LOOPBACK_METADATA, REFUSAL_METADATA
from gateway.transport.grpc.wire import MAX_FIELDS, field_count_within
from gateway.transport.status import grpc_code

log = logging.getLogger("bws.calls")

BWS_SERVICE_PREFIX = "/bioid.services.v1."
# Which client operation each BWS method needs.
OPERATION_OF_METHOD = {
    "Enroll": "enroll", "Verify": "verify", "Search": "search", "SetTemplateTags": "tags",
    "GetTemplateStatus": "status", "GetClassCount": "count", "DeleteTemplate": "delete",
    "LivenessDetection": "liveness", "VideoLivenessDetection": "liveness", "PhotoVerify": "photoverify",
}
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

    def deserializer(self, deserialize: Callable[[bytes], object] | None,
                     method: str) -> Callable[[bytes], object] | None:
        return deserialize

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not self.applies_to(method):
            return handler
        if handler.unary_unary is None:
            return self._reading(handler, method)
        behavior = handler.unary_unary

        async def wrapped(request, context):
            return await self.around(behavior, request, context, method)

        return grpc.unary_unary_rpc_method_handler(wrapped, request_deserializer=self.deserializer(
                                                       handler.request_deserializer, method),
                                                   response_serializer=handler.response_serializer)

    def _reading(self, handler, method: str):
        """A unary call whose handler reads its own request message (AuthInterceptor: within a time limit, or
        never when it refuses the call) is a stream-unary handler: the outer interceptors wrap it all the
        same."""
        if handler.stream_unary is None or not getattr(handler.stream_unary, "reads_itself", False):
            return handler
        behavior = handler.stream_unary

        async def wrapped(requests, context):
            return await self.around(behavior, requests, context, method)

        wrapped.reads_itself = True
        return grpc.stream_unary_rpc_method_handler(wrapped, request_deserializer=self.deserializer(
                                                        handler.request_deserializer, method),
                                                    response_serializer=handler.response_serializer)


class MetadataInterceptor(UnaryInterceptor):
    def __init__(self, version: str, on_call: Callable[[str, str, float], None] = lambda *_: None) -> None:
        self.version = version
        self.on_call = on_call  # (method, status code name, seconds), e.g. for metrics

    async def around(self, behavior, request, context, method):
        started = time.perf_counter()
        job_id = new_job_id()
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
            record_call(self.on_call, job_id, method, method, client.client_id if client else None,
                        getattr(code, "name", str(code)), elapsed_ms / 1000, reference)


@dataclass(frozen=True)
class UndecodableRequest:
    """Stands in for a request message whose bytes did not parse, or were not parsed (grpc would otherwise
    answer UNKNOWN before any interceptor runs): `message` says why."""
    message: str


def _input_type(method: str) -> Descriptor | None:
    try:
        return descriptor_pool.Default().FindMethodByName(method.strip("/").replace("/", ".")).input_type
    except KeyError:
        return None


class ErrorInterceptor(UnaryInterceptor):
    def deserializer(self, deserialize, method):
        if deserialize is None:
            return None
        descriptor = _input_type(method)

        def tolerant(data: bytes):
            if descriptor is not None and not field_count_within(data, descriptor):
                return UndecodableRequest(f"the request message has more than {MAX_FIELDS} fields: no BWS request "
                                          "has as many")
            try:
                return deserialize(data)
            except DecodeError as exc:
                return UndecodableRequest(f"the request message could not be decoded ({exc}); string fields must "
                                          "be valid UTF-8")
        return tolerant

    async def around(self, behavior, request, context, method):
        try:
            return await behavior(decoded(request), context)
        except Exception as exc:
            error = translate(exc)
            if isinstance(error, ServiceError):
                context.set_code(grpc_code(error.kind))
                context.set_details(error.message)
                if error.retry_after is not None:
                    context.set_trailing_metadata(retry_trailers(grpc_code(error.kind), error.message,
                                                                 error.retry_after))
                return None
            log.exception("unexpected error", extra={"jobid": current_job.get(), "method": method})
            context.set_code(grpc.StatusCode.INTERNAL)
            context.set_details(f"internal error (jobid {current_job.get()})")
        return None


def decoded(request):
    """The request, unless its bytes did not parse (INVALID_ARGUMENT)."""
    if isinstance(request, UndecodableRequest):
        raise InvalidArgument(request.message)
    return request


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
    refuse.reads_itself = True
    return grpc.stream_unary_rpc_method_handler(refuse, response_serializer=handler.response_serializer)


def _unheld(handler, behavior: Behavior):
    return grpc.unary_unary_rpc_method_handler(behavior, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)


def _holding(handler, behavior: Behavior, hold: Hold):
    """The handler running `behavior` with the call's message counted in `hold` (the reserve, taken before the
    message is read): it reads the message itself, refusing the call (DEADLINE_EXCEEDED) when the message has
    not arrived within the budget's receive time; the hold becomes the message's size when it arrives (a larger
    message without room is refused, RESOURCE_EXHAUSTED) and is released when the call ends (or, for a call whose
    handler never runs, when the handler is dropped)."""
    deserialize = handler.request_deserializer

    def counted(data: bytes):
        try:
            hold.resize(len(data))
        except OverBudget as refusal:
            return refusal  # raised by `held`: a deserializer's exception would be an opaque error
        return deserialize(data) if deserialize else data
    weakref.finalize(counted, hold.release)

    async def held(requests, context):
        try:
            request = await first_message(requests, hold.budget.receive_seconds)
            if isinstance(request, OverBudget):
                raise request
            return await behavior(decoded(request), context)
        finally:
            hold.release()
    held.reads_itself = True
    return grpc.stream_unary_rpc_method_handler(held, request_deserializer=counted,
                                                response_serializer=handler.response_serializer)


async def first_message(requests, seconds: float):
    """The stream's first message, or DeadlineExceeded when it has not all arrived within `seconds` (or
    InvalidArgument when the stream ends without one)."""
    reading = asyncio.ensure_future(anext(requests))
    done, _ = await asyncio.wait((reading,), timeout=seconds)
    if not done:
        reading.cancel()
        raise DeadlineExceeded(f"the request message did not arrive within {seconds:g} s "
                               "(BWS_REQUEST_RECEIVE_SECONDS)")
    try:
        return reading.result()
    except StopAsyncIteration:
        raise InvalidArgument("no request message") from None


def _value(metadata, key: str) -> str | None:
    return next((v for k, v in metadata if k == key and isinstance(v, str)), None)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates each call once, before its message is read, then binds the call to its client."""

    def __init__(self, authenticator: Authenticator, budget: ByteBudget | None = None, reserve: int = 0,
                 loopback_secret: str | None = None, receive_wait: float = RECEIVE_WAIT_SECONDS) -> None:
        self.authenticator = authenticator
        self.budget = budget
        self.reserve = reserve  # bytes held for a message before it arrives
        self.loopback_secret = loopback_secret.encode() if loopback_secret else None
        self.receive_wait = receive_wait

    def _from_loopback(self, metadata) -> bool:
        given = _value(metadata, LOOPBACK_METADATA)
        return self.loopback_secret is not None and given is not None and hmac.compare_digest(
            given.encode(), self.loopback_secret)

    def client_of(self, metadata, from_loopback: bool) -> Client:
        """The call's client. A REST call was authenticated by the transcoder, which names its client (or the
        refusal) in metadata that only it can send (with the loopback secret); any other call is authenticated
        here, from its authorization metadata."""
        if from_loopback:
            refusal = _value(metadata, REFUSAL_METADATA)
            if refusal is not None:
                raise Unauthenticated(refusal)
            client = self.authenticator.registry.get(unquote(_value(metadata, CLIENT_METADATA) or ""))
            if client is None:  # removed from the registry since (a reload): as for any unknown client
                raise Unauthenticated(INVALID)
            return client
        return self.authenticator.authenticate(_value(metadata, "authorization"))

    async def intercept_service(self, continuation, handler_call_details):
        """A call whose authorization metadata is refused is answered before its message is read: an
        unauthenticated caller cannot make the service receive (and hold) 64 MB messages. An authenticated
        call's message is received only once its client has room for the reserve in the byte budget (waiting a
        little for it); otherwise RESOURCE_EXHAUSTED with a retry hint, unread."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or not method.startswith(BWS_SERVICE_PREFIX):
            return handler
        metadata = handler_call_details.invocation_metadata or ()
        from_loopback = self._from_loopback(metadata)
        try:
            client = self.client_of(metadata, from_loopback)
        except Unauthenticated as error:
            return _refusal_handler(handler, error)
        behavior = _bound(handler.unary_unary, client, method)
        if self.budget is None or from_loopback:
            return _unheld(handler, behavior)
        try:
            hold = await self.budget.hold_within(self.reserve, client.client_id, self.receive_wait)
        except OverBudget as exc:
            return _refusal_handler(handler, exc)
        return _holding(handler, behavior, hold)


def _bound(behavior: Behavior, client: Client, method: str) -> Behavior:
    """The behavior run for `client`, if it may call `method`."""
    name = method.rsplit("/", 1)[-1]
    operation = OPERATION_OF_METHOD.get(name)

    async def bound(request, context):
        if operation is None or not client.allows(operation):
            raise PermissionDenied(f"client {client.client_id!r} may not call {name}")
        tenancy.bind(client)
        return await behavior(request, context)
    return bound


def client_of_call() -> Client:
    client = current_client.get(None)
    if client is None:  # only reachable if a servicer is registered without AuthInterceptor
        raise Unauthenticated("unauthenticated call")
    return client
