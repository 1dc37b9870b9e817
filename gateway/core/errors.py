"""Errors of the service logic: each has a kind, which gateway/transport/status.py maps to a gRPC code and an
HTTP status (the one table). No transport, infrastructure or store driver here."""
from __future__ import annotations

from enum import Enum


class ErrorKind(Enum):
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


class ServiceError(Exception):
    kind = ErrorKind.INVALID_ARGUMENT
    retry_after: int | None = None  # seconds, a retry hint the transports pass on

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    kind = ErrorKind.INVALID_ARGUMENT


class NotFound(ServiceError):
    kind = ErrorKind.NOT_FOUND


class Unauthenticated(ServiceError):
    kind = ErrorKind.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    kind = ErrorKind.PERMISSION_DENIED


class Unavailable(ServiceError):
    kind = ErrorKind.UNAVAILABLE


class Unimplemented(ServiceError):
    kind = ErrorKind.UNIMPLEMENTED


class DeadlineExceeded(ServiceError):
    """The caller took too long (its request message did not arrive in time)."""
    kind = ErrorKind.DEADLINE_EXCEEDED


class ResourceExhausted(ServiceError):
    kind = ErrorKind.RESOURCE_EXHAUSTED

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
