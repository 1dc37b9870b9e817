"""The face networks the service knows, one module each (engine/encoders/<network>.py, an EncoderSpec with its
calibration beside it). The newest is the one in use; templates made by an older one are upgraded from their
stored face chips (gateway/core/recognition.py). A new network: its module, and one line here."""
from __future__ import annotations

from gateway.engine.encoders import sface
from gateway.engine.encoders.spec import Calibration, Encoder, EncoderSpec

REGISTRY: tuple[EncoderSpec, ...] = (
    sface.SPEC,
)


def current(registry: tuple[EncoderSpec, ...] = REGISTRY) -> EncoderSpec:
    """The network in use: the newest version registered."""
    versions = [spec.version for spec in registry]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two encoders share a version: {sorted(versions)}")
    return max(registry, key=lambda spec: spec.version)


CURRENT = current()

__all__ = ["CURRENT", "Calibration", "Encoder", "EncoderSpec", "REGISTRY", "current"]
