"""JSON log lines: one object per line with the record's structured extras.
Nothing here ever receives image or template data; callers log ids and sizes.

Credentials are redacted in one place, the formatter, whoever logged them (our code, aiohttp, grpc):
Bearer and Basic values, `Authorization:` values, `access_token=` and such query values, and JWT-shaped
text, in the message, every extra and the exception text. A request aiohttp's parser refuses (a line
over 8 KB, a malformed header) is one line with its reason, not a traceback quoting the request.

Nor does a line hold a Redis command: redis-py writes the failed command, arguments and payload included, into
some of its exceptions' messages (a pipeline's error names "Command # 1 (HSET <key> compact <template bytes>)",
cluster routing errors print the arguments). A Redis error is shown by its type and, for a reply of the server,
its error code only: in tracebacks (chained exceptions too), message arguments and extras."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from types import TracebackType
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from redis import exceptions as redis_errors

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
REDACTED = "[redacted]"
_CREDENTIALS = [
    (re.compile(r"(?i)(authorization['\"]?\s*[:=,]\s*['\"]?)[^\r\n'\"\\]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s'\",;\\]+"), rf"\g<1>\g<2>{REDACTED}"),
    (re.compile(r"(?i)\b(access_token|token|secret|password|key)=[^&\s'\"\\]*"), rf"\g<1>={REDACTED}"),
    (re.compile(r"\be[wy][A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]*){0,2}"), REDACTED),  # base64url JSON: a JWT
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@"), rf"\g<1>{REDACTED}@"),  # a URL's user:password
]
_QUOTED = re.compile(r":\s*(?:b'|b\"|bytearray\().*", re.S)  # where aiohttp's reason quotes the request
_REDIS_ERRORS = (redis_errors.RedisError, redis_errors.RedisClusterException)
# The error code a Redis server puts first in its replies (OOM, WRONGTYPE, NOSCRIPT, ...), wherever redis-py
# embedded the reply in its own message.
_SERVER_CODE = re.compile(r"(?:^|caused error: \(?['\"]?)([A-Z][A-Z_]{1,31})\b")


def redact(text: str) -> str:
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def redis_server_code(error: BaseException) -> str | None:
    """The error code of the server's reply a Redis client error carries (OOM, MISCONF, ...), if any."""
    if not isinstance(error, redis_errors.ResponseError) or not error.args:
        return None
    found = _SERVER_CODE.search(str(error.args[0]))
    return found.group(1) if found else None


def redis_error_text(error: BaseException) -> str:
    """What may be logged of a Redis client error: its type, and the server's error code if it has one."""
    server_code = redis_server_code(error)
    code = f" ({server_code})" if server_code else ""
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


def _redacted(value: Any) -> Any:
    if isinstance(value, _REDIS_ERRORS):
        return redis_error_text(value)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redacted(v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, tuple) and any(isinstance(a, _REDIS_ERRORS) for a in record.args):
            record.args = tuple(redis_error_text(a) if isinstance(a, _REDIS_ERRORS) else a for a in record.args)
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                 "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        entry.update({k: _redacted(v) for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)

    def formatException(self, exc_info: tuple[type, BaseException, TracebackType | None]) -> str:  # noqa: N802
        return exception_text(exc_info[1]).rstrip("\n") if exc_info[1] is not None else "NoneType: None"


class RefusedRequests(logging.Filter):
    """aiohttp logs a request its parser refuses as an error with a traceback whose text quotes the start of
    the request (its Authorization header, its URL with access_token). It is the client's fault: one INFO
    line with the reason, without the quote (debug stays debug: aiohttp keeps non-HTTP noise there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(error, HttpProcessingError):
            reason = _QUOTED.sub("", str(error.message).strip().splitlines()[0] if error.message else "")
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
            record.msg, record.args, record.exc_info, record.exc_text = "HTTP request refused", (), None, None
            record.status, record.reason = error.code, f"{type(error).__name__}: {reason}".rstrip(": ")
            record.remote = remote
            if record.levelno > logging.DEBUG:
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RefusedRequests())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
