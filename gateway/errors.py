"""Errors of the service logic. Transports map `kind` to their own status codes."""
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


class ServiceError(Exception):
    kind = ErrorKind.INVALID_ARGUMENT

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
