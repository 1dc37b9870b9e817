"""JSON log lines: one object per line with the record's structured extras.
Nothing here ever receives image or template data; callers log ids and sizes.

Redis client errors are the exception: redis-py writes the failed command, arguments and payload included, into
some of its exceptions' messages (a pipeline's error names "Command # 1 (HSET <key> compact <template bytes>)",
cluster routing errors print the arguments). Their messages are never logged: a Redis error is shown by its
type and, for a reply of the server, its error code only; this holds for tracebacks (chained exceptions too) and
for Redis errors passed as arguments of a log message."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from types import TracebackType

from redis import exceptions as redis_errors

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_REDIS_ERRORS = (redis_errors.RedisError, redis_errors.RedisClusterException)
# The error code a Redis server puts first in its replies (OOM, WRONGTYPE, NOSCRIPT, ...), wherever redis-py
# embedded the reply in its own message.
_SERVER_CODE = re.compile(r"(?:^|caused error: \(?['\"]?)([A-Z][A-Z_]{1,31})\b")


def redis_error_text(error: BaseException) -> str:
    """What may be logged of a Redis client error: its type, and the server's error code if it has one."""
    found = _SERVER_CODE.search(str(error.args[0])) if error.args else None
    code = f" ({found.group(1)})" if found and isinstance(error, redis_errors.ResponseError) else ""
    return f"{type(error).__module__}.{type(error).__qualname__}{code}: message withheld (may quote a command)"


def exception_text(error: BaseException, seen: set[int] | None = None) -> str:
    """A traceback like Python's (chained exceptions first), each Redis error's message replaced."""
    seen = set() if seen is None else seen
    seen.add(id(error))
    parts = []
    cause, context = error.__cause__, error.__context__
    if cause is not None and id(cause) not in seen:
        parts += [exception_text(cause, seen), "\nThe above exception was the direct cause of the following "
                  "exception:\n\n"]
    elif context is not None and not error.__suppress_context__ and id(context) not in seen:
        parts += [exception_text(context, seen), "\nDuring handling of the above exception, another exception "
                  "occurred:\n\n"]
    if error.__traceback__ is not None:
        parts += ["Traceback (most recent call last):\n", *traceback.format_tb(error.__traceback__)]
    if isinstance(error, _REDIS_ERRORS):
        parts.append(redis_error_text(error) + "\n")
    else:
        parts += traceback.format_exception_only(type(error), error)
    return "".join(parts)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, tuple) and any(isinstance(a, _REDIS_ERRORS) for a in record.args):
            record.args = tuple(redis_error_text(a) if isinstance(a, _REDIS_ERRORS) else a for a in record.args)
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=_json_value)

    def formatException(self, exc_info: tuple[type, BaseException, TracebackType | None]) -> str:  # noqa: N802
        return exception_text(exc_info[1]).rstrip("\n") if exc_info[1] is not None else "NoneType: None"


def _json_value(value: object) -> str:
    return redis_error_text(value) if isinstance(value, _REDIS_ERRORS) else str(value)


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
