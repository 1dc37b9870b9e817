"""The tasks of the BWS 2 token flow, once: each task's route (/extension/<name>), the client operation a token for
it needs, the Action its result names, and what it does (for the OpenAPI document)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    operation: str  # the client operation (gateway/core/tenancy.py) a token for the task needs
    action: str  # the result's "Action"
    summary: str


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("enroll", "enroll", "enrollment", "Enroll the uploaded samples into the token's BCID."),
    Task("verify", "verify", "verification", "Verify the uploaded samples against the token's BCID."),
    Task("identify", "search", "identification", "Search the application's partition with the uploaded samples."),
    Task("livenessdetection", "liveness", "livenessdetection", "Check the uploaded samples for liveness only."),
)}
