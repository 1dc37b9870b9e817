"""The services anyone may call, unauthenticated: health (grpcurl, Kubernetes' gRPC probes) and reflection.

grpc-python has one message size limit per server (64 MiB, for the BWS calls): left alone, a few concurrent 64 MB
health calls grew the process by gigabytes. So these calls, too, read their messages themselves, from the request
byte budget (gateway/infra/budget.py), under one shared name: together they hold at most one client's share. Each
receiving call holds the largest message until its message arrives (what grpc may buffer for it), within the
budget's receive time; a message over PUBLIC_MESSAGE_BYTES is refused (RESOURCE_EXHAUSTED) unparsed. A health
Check that finds no room is answered unread, with the server's own status (the status of "", which every BWS
service shares): probes keep working while the share is taken.
"""
from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2

from gateway.core.errors import ResourceExhausted, ServiceError
from gateway.infra.budget import ByteBudget, Hold, OverBudget
from gateway.transport.grpc.interceptors import BWS_SERVICE_PREFIX, first_message
from gateway.transport.status import grpc_code

PUBLIC_CLIENT = "(health and reflection callers)"
PUBLIC_MESSAGE_BYTES = 64 * 1024  # health requests name a service; reflection requests a symbol or a file
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


class _TooLarge:
    """Stands in for a message over PUBLIC_MESSAGE_BYTES, which is not parsed."""


class MessageTooLarge(ResourceExhausted):
    def __init__(self) -> None:
        super().__init__(f"health and reflection requests are limited to {PUBLIC_MESSAGE_BYTES} bytes")


def _small(deserialize, hold: Hold, shrink: bool = True):
    def checked(data: bytes):
        if len(data) > PUBLIC_MESSAGE_BYTES:
            return _TooLarge()
        if shrink:
            hold.shrink(len(data))
        return deserialize(data) if deserialize else data
    return checked


def _accepted(request):
    if isinstance(request, _TooLarge):
        raise MessageTooLarge()
    return request


async def _abort(context, error: ServiceError) -> None:
    await context.abort(grpc_code(error.kind), error.message)


class PublicInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, budget: ByteBudget, wait_seconds: float) -> None:
        self.budget = budget
        self.wait_seconds = wait_seconds

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(BWS_SERVICE_PREFIX):
            return handler
        try:
            hold = await self.budget.hold_within(self.budget.largest, PUBLIC_CLIENT, self.wait_seconds)
        except OverBudget as refusal:
            if method == HEALTH_CHECK and handler.unary_unary is not None:
                return _unread_check(handler)
            return _refused(handler, refusal)
        if handler.unary_unary is not None:
            return self._unary_unary(handler, hold)
        if handler.unary_stream is not None:
            return self._unary_stream(handler, hold)
        if handler.stream_stream is not None:
            return self._stream_stream(handler, hold)
        hold.release()
        return handler

    async def _request(self, requests, context, hold: Hold):
        try:
            return _accepted(await first_message(requests, self.budget.receive_seconds))
        except ServiceError as error:
            hold.release()
            await _abort(context, error)

    def _unary_unary(self, handler, hold: Hold):
        async def check(requests, context):
            try:
                return await handler.unary_unary(await self._request(requests, context, hold), context)
            finally:
                hold.release()
        return grpc.stream_unary_rpc_method_handler(check, _small(handler.request_deserializer, hold),
                                                    handler.response_serializer)

    def _unary_stream(self, handler, hold: Hold):
        async def watch(requests, context):
            request = await self._request(requests, context, hold)
            hold.release()  # the message is in: a watch may last for hours
            await handler.unary_stream(request, context)
        return grpc.stream_stream_rpc_method_handler(watch, _small(handler.request_deserializer, hold),
                                                     handler.response_serializer)

    def _stream_stream(self, handler, hold: Hold):
        """Reflection: the largest message held for the whole call (a command's worth of lookups: grpc may buffer
        each of its messages), its first message within the receive time, every message within the size limit."""
        async def lookups(requests, context):
            try:
                first = await self._request(requests, context, hold)

                async def checked():
                    yield first
                    async for request in requests:
                        yield _accepted(request)
                try:
                    async for response in handler.stream_stream(checked(), context):
                        yield response
                except ServiceError as error:
                    await _abort(context, error)
            finally:
                hold.release()
        return grpc.stream_stream_rpc_method_handler(lookups, _small(handler.request_deserializer, hold, False),
                                                     handler.response_serializer)


def _unread_check(handler):
    async def check(_requests, context):
        return await handler.unary_unary(health_pb2.HealthCheckRequest(), context)
    return grpc.stream_unary_rpc_method_handler(check, handler.request_deserializer, handler.response_serializer)


def _refused(handler, refusal: OverBudget):
    async def refuse(_requests, context):
        await _abort(context, refusal)
    if handler.stream_stream is not None or handler.unary_stream is not None:
        return grpc.stream_stream_rpc_method_handler(refuse, handler.request_deserializer,
                                                     handler.response_serializer)
    return grpc.stream_unary_rpc_method_handler(refuse, handler.request_deserializer, handler.response_serializer)
