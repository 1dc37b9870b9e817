"""The record of every BWS call, over any transport, written once: a job id, the metrics (method, status, seconds)
and one JSON log line "call" (never a credential, an image or a template)."""
from __future__ import annotations

import logging
import uuid
from typing import Callable

log = logging.getLogger("bws.calls")
OnCall = Callable[[str, str, float], None]  # (method label, status, seconds), e.g. Metrics.observe_call


def new_job_id() -> str:
    return str(uuid.uuid4())


def record_call(on_call: OnCall, job_id: str, method: str, label: str, client: str | None, code: str,
                seconds: float, reference: str | None = None) -> None:
    """`label`: the metrics label of the method (a route template, never a caller's path)."""
    on_call(label, code, seconds)
    extra = {"jobid": job_id, "method": method, "client": client, "code": code, "duration_ms": round(seconds * 1000, 1)}
    if reference is not None:
        extra["reference_number"] = reference
    log.info("call", extra=extra)
