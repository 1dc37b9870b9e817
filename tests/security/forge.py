"""Tokens an application can sign for itself: it holds its own HS256 key, so it can claim anything."""
from __future__ import annotations

import secrets
import time

import jwt


def extension_token(key: bytes, app: str, bcid: str, task: str, lifetime: int = 600, **claims) -> str:
    now = int(time.time())
    body = {"iss": app, "sub": app, "aud": "BWS-extension", "jti": secrets.token_urlsafe(8), "iat": now, "nbf": now,
            "exp": now + lifetime, "bcid": bcid, "task": task, "maxtries": 3, "livedetection": False,
            "challenge": []}
    body.update(claims)
    return jwt.encode(body, key, algorithm="HS256")


def api_token(key: bytes, client: str, lifetime: int = 600, **claims) -> str:
    now = int(time.time())
    body = {"sub": client, "iss": client, "aud": "BWS", "iat": now, "nbf": now, "exp": now + lifetime}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="HS256")
