"""gateway/core/errors.py: one class per error kind, which the transports map through one table."""
from __future__ import annotations

from gateway.core import errors
from gateway.core.errors import ErrorKind, ResourceExhausted, ServiceError


def test_one_error_class_per_kind():
    classes = [cls for cls in ServiceError.__subclasses__() if cls.__module__ == errors.__name__]
    assert sorted(cls.kind.name for cls in classes) == sorted(kind.name for kind in ErrorKind)
    for cls in classes:
        error = cls("what went wrong") if cls is not ResourceExhausted else cls("what went wrong", 2)
        assert error.message == str(error) == "what went wrong"


def test_only_resource_exhausted_carries_a_retry_hint_by_default():
    assert ResourceExhausted("busy", retry_after=5).retry_after == 5
    assert errors.Unavailable("down").retry_after is None and errors.NotFound("gone").retry_after is None
