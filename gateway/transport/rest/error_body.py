"""The JSON error body of the contract; its HTTP status is the one table's (gateway/transport/status.py)."""
from __future__ import annotations

import json

import grpc



def error_body(code: grpc.StatusCode, message: str) -> bytes:
    return json.dumps({"code": code.value[0], "message": message, "details": []}).encode()
