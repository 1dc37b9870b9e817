"""All configuration, read once from the environment into one typed object."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from gateway import __version__


@dataclass(frozen=True)
class Settings:
    grpc_port: int = 50051
    http_port: int = 8080
    bind_host: str = "0.0.0.0"
    # redis://, rediss://, unix://, redis+sentinel://, redis+cluster:// (templates_store/connection.py);
    # None: an embedded redis-server under data_dir. Kept out of repr: URLs may hold passwords.
    redis_url: str | None = field(default=None, repr=False)
    redis_password: str | None = field(default=None, repr=False)
    data_dir: Path = Path("data")
    clients_file: Path | None = None  # None: a development client kept in data_dir
    keys_file: Path | None = None  # None: a development key kept in data_dir
    # Similarity score in ]0, 1] at or above which Verify and Search accept a match.
    verify_threshold: float = 0.5
    search_top_n: int = 10
    search_max_matches: int = 100
    workers: int = 0  # engine processes; 0 means one per core
    max_images: int = 20
    max_image_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    # Liveness: nose parallax (in eye distances) at which motion_liveness_score is 0.5.
    liveness_parallax: float = 0.06
    pad_model: Path | None = None  # an ONNX presentation-attack-detection model (passive liveness)
    pad_input_size: int = 224
    pad_mean: float = 0.5  # input normalisation: (pixel / 255 - mean) / std, every channel
    pad_std: float = 0.5
    pad_live_index: int = 1
    video_max_bytes: int = 50 * 1024 * 1024
    video_max_seconds: float = 20.0
    extension_token_seconds: int = 600  # lifetime of BWS 2 tokens (/extension/token)
    jwt_leeway_seconds: int = 30
    index_poll_seconds: float = 0.25
    # Buckets (cluster slots) a new partition's templates are sharded into; recorded per partition
    # when it is created, so changing this only affects partitions created afterwards (README "Sizing").
    partition_buckets: int = 24
    grace_seconds: float = 30.0
    log_level: str = "INFO"
    version: str = __version__

    def __post_init__(self) -> None:
        if not 0 < self.verify_threshold <= 1:
            raise ValueError("BWS_VERIFY_THRESHOLD must be in ]0, 1]")
        if not 1 <= self.partition_buckets <= 1024:
            raise ValueError("BWS_PARTITION_BUCKETS must be 1 to 1024")
        for name in ("search_top_n", "search_max_matches", "max_images", "max_image_bytes", "max_image_pixels"):
            if getattr(self, name) < 1:
                raise ValueError(f"BWS_{name.upper()} must be at least 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        values = {}
        for f in fields(cls):
            raw = env.get(f"BWS_{f.name.upper()}")
            if raw is None or raw == "" or f.name == "version":
                continue
            kind = f.type.split(" | ")[0]
            try:
                values[f.name] = {"int": int, "float": float, "str": str, "Path": Path}[kind](raw)
            except ValueError:
                raise ValueError(f"BWS_{f.name.upper()}={raw!r} is not a valid {kind}") from None
        return cls(**values)
