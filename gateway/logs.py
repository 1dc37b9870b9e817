"""JSON log lines: one object per line with the record's structured extras.
Nothing here ever receives image or template data; callers log ids and sizes.

Credentials are redacted in one place, the formatter, whoever logged them (our code, aiohttp, grpc):
Bearer and Basic values, `Authorization:` values, `access_token=` and such query values, and JWT-shaped
text, in the message, every extra and the exception text. A request aiohttp's parser refuses (a line
over 8 KB, a malformed header) is one line with its reason, not a traceback quoting the request."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

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


def redact(text: str) -> str:
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value: Any) -> Any:
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
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                 "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        entry.update({k: _redacted(v) for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


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
