"""All configuration, read once from the environment into one typed object."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from gateway import __version__

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # the largest gRPC message received or sent (a fixed limit, not a setting)


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
    max_pixels_per_call: int = 60_000_000  # all images of one call together, from their headers
    # One client's jobs at the engine workers at once; 0: all workers but one (at least one), so another client
    # always finds a worker free of the first.
    max_engine_jobs_per_client: int = 0
    # One engine job's time limit: past it the job is abandoned, its worker replaced, the call refused.
    engine_job_seconds: float = 30.0  # an image (decoded and analysed), or a template's stored thumbnails
    engine_video_job_seconds: float = 120.0  # a video: every frame decoded, a few analysed
    max_jpeg_scans: int = 100  # a progressive JPEG's scans (each a pass over the whole image); photos have ~10
    max_feature_vectors: int = 20  # per template; enrolling more drops the oldest
    # A photo with several faces of similar size (none a bystander): "refuse" it (MultipleFacesFound, BWS's rule)
    # or use its most central face ("primary"). Bystanders are ignored either way (README, Face engine).
    multiple_faces: str = "refuse"
    redis_timeout_seconds: float = 5.0  # connecting to and waiting for Redis; then the call is UNAVAILABLE
    # Liveness: nose parallax (in eye distances) at which motion_liveness_score is 0.5.
    liveness_parallax: float = 0.06
    # Passive liveness: "on" runs the bundled models (or pad_model when set), "off" disables it.
    pad: str = "on"
    # The bundled models (comma-separated: minifasnet, suri), how their live probabilities are fused (mean, min,
    # geometric) and the fused probability from which a face is live (reported scores are live from 0.5 whatever
    # the threshold). The defaults were chosen by bench/pad_fusion.py (README, "Passive liveness").
    pad_models: str = "minifasnet,suri"
    pad_fusion: str = "mean"
    pad_threshold: float = 0.5
    pad_model: Path | None = None  # a custom ONNX presentation-attack-detection model instead of the bundled ones
    pad_input_size: int = 224  # pad_input_size .. pad_live_index: the custom model's input and output
    pad_mean: float = 0.5  # input normalisation: (pixel / 255 - mean) / std, every channel
    pad_std: float = 0.5
    pad_live_index: int = 1
    # A clip whose face hardly moves: "passive" judges it by passive liveness on every frame (as strong as a
    # one-image call, on each frame), "refuse" refuses it for want of motion.
    video_still: str = "passive"
    video_max_bytes: int = 50 * 1024 * 1024
    video_max_seconds: float = 20.0
    extension_token_seconds: int = 600  # lifetime of BWS 2 tokens (/extension/token)
    # BWS 2 tokens an application signs itself (with its key) that live longer (exp - iat) are refused.
    max_extension_token_lifetime_seconds: int = 3600
    # Bytes of samples (/extension/upload, encrypted as stored) one token, and one application's tokens together,
    # may keep in Redis until a task takes them or they expire; over it the upload is refused (413, 429).
    max_sample_bytes_per_token: int = 40 * 1024 * 1024
    max_sample_bytes_per_application: int = 256 * 1024 * 1024
    jwt_leeway_seconds: int = 30
    # API JWTs (signed by the client) that live longer (exp - iat, and from now) are refused; BioID's BWSTools CLI
    # signs 1000 minutes for verify and search.
    max_token_lifetime_seconds: int = 24 * 3600
    # Bytes of requests held at once (infra/budget.py): HTTP bodies from before they are read, gRPC messages from
    # before they are received, until their calls end; one client holds at most half. Over it: 429 /
    # RESOURCE_EXHAUSTED with a retry hint. At least MAX_MESSAGE_BYTES.
    max_body_bytes_in_flight: int = 256 * 1024 * 1024
    # What a gRPC call holds of that budget before its message arrives (then the message's size: a larger message
    # without room is refused). grpc may buffer up to 64 MiB for each call receiving meanwhile: the calls receiving
    # at once are at most the budget over this, so the process stays within (budget / reserve) x 64 MiB of them.
    grpc_message_reserve_bytes: int = 16 * 1024 * 1024
    budget_wait_seconds: float = 2.0  # how long a gRPC call may wait for room in that budget before it is refused
    # A gRPC call's message, an HTTP request's body, must have arrived this long after its bytes were held; then the
    # call is refused (DEADLINE_EXCEEDED / 408, the connection closed) and its hold released.
    request_receive_seconds: float = 60.0
    # /metrics on its own port (the main HTTP port then answers 404); None: on the main port.
    metrics_port: int | None = None
    # Bearer token /metrics requires when set; without port and token the main port shows no per-tenant series.
    metrics_token: str | None = field(default=None, repr=False)
    index_poll_seconds: float = 0.25
    # Buckets (cluster slots) a new partition's templates are sharded into; recorded per partition
    # when it is created, so changing this only affects partitions created afterwards (README "Sizing").
    partition_buckets: int = 24
    grace_seconds: float = 30.0
    # An HTTP connection without a complete request for this long is closed (idle keep-alive connections,
    # and headers sent slowly); aiohttp's own default is an hour.
    http_idle_seconds: float = 75.0
    reload_poll_seconds: float = 2.0  # how often the clients and keys files are checked for changes
    log_level: str = "INFO"
    # TLS for the gRPC and HTTP ports (PEM files); with a client CA, clients must present a certificate it signed.
    tls_cert: Path | None = None
    tls_key: Path | None = field(default=None, repr=False)
    tls_client_ca: Path | None = None
    cors_origins: str = ""  # comma-separated origins allowed to call /extension/ from a browser; none by default
    demo: bool = False  # BWS_DEMO=1: a developer route issues tokens for the capture page; never in production
    version: str = __version__

    def __post_init__(self) -> None:
        if not 0 < self.verify_threshold <= 1:
            raise ValueError("BWS_VERIFY_THRESHOLD must be in ]0, 1]")
        if not 1 <= self.partition_buckets <= 1024:
            raise ValueError("BWS_PARTITION_BUCKETS must be 1 to 1024")
        for name in ("search_top_n", "search_max_matches", "max_images", "max_image_bytes", "max_image_pixels",
                     "max_token_lifetime_seconds", "extension_token_seconds", "max_extension_token_lifetime_seconds",
                     "max_body_bytes_in_flight",
                     "max_pixels_per_call", "max_feature_vectors", "max_sample_bytes_per_token",
                     "max_sample_bytes_per_application", "max_jpeg_scans"):
            if getattr(self, name) < 1:
                raise ValueError(f"BWS_{name.upper()} must be at least 1")
        if not 1 <= self.grpc_message_reserve_bytes <= MAX_MESSAGE_BYTES:
            raise ValueError(f"BWS_GRPC_MESSAGE_RESERVE_BYTES must be 1 to {MAX_MESSAGE_BYTES}")
        if self.max_body_bytes_in_flight < MAX_MESSAGE_BYTES:
            raise ValueError(f"BWS_MAX_BODY_BYTES_IN_FLIGHT must be at least {MAX_MESSAGE_BYTES} (the largest gRPC "
                             "message)")
        if self.extension_token_seconds > self.max_extension_token_lifetime_seconds:
            raise ValueError("BWS_EXTENSION_TOKEN_SECONDS must not exceed BWS_MAX_EXTENSION_TOKEN_LIFETIME_SECONDS")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ValueError("BWS_METRICS_TOKEN must be at least 16 characters")
        if self.max_engine_jobs_per_client < 0:
            raise ValueError("BWS_MAX_ENGINE_JOBS_PER_CLIENT must be 0 (all workers but one) or more")
        if self.engine_job_seconds <= 0 or self.engine_video_job_seconds <= 0:
            raise ValueError("BWS_ENGINE_JOB_SECONDS and BWS_ENGINE_VIDEO_JOB_SECONDS must be positive")
        if self.request_receive_seconds <= 0:
            raise ValueError("BWS_REQUEST_RECEIVE_SECONDS must be positive")
        if self.budget_wait_seconds < 0:
            raise ValueError("BWS_BUDGET_WAIT_SECONDS must be 0 or more")
        if self.http_idle_seconds <= 0:
            raise ValueError("BWS_HTTP_IDLE_SECONDS must be positive")
        if self.redis_timeout_seconds <= 0:
            raise ValueError("BWS_REDIS_TIMEOUT_SECONDS must be positive")
        if not isinstance(logging.getLevelName(self.log_level.upper()), int):
            raise ValueError(f"BWS_LOG_LEVEL={self.log_level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("BWS_TLS_CERT and BWS_TLS_KEY must be set together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("BWS_TLS_CLIENT_CA needs BWS_TLS_CERT and BWS_TLS_KEY")
        if self.pad not in ("on", "off"):
            raise ValueError("BWS_PAD must be on or off")
        if self.video_still not in ("passive", "refuse"):
            raise ValueError("BWS_VIDEO_STILL must be passive or refuse")
        if not 0.0 < self.pad_threshold < 1.0:
            raise ValueError("BWS_PAD_THRESHOLD must lie strictly between 0 and 1")
        if self.multiple_faces not in ("refuse", "primary"):
            raise ValueError("BWS_MULTIPLE_FACES must be refuse or primary")

    @property
    def clients_path(self) -> Path:
        """The client registry in use: BWS_CLIENTS_FILE, else the development registry in the data directory."""
        return self.clients_file or self.data_dir / "dev-clients.json"

    @property
    def keys_path(self) -> Path:
        return self.keys_file or self.data_dir / "dev-keys.json"

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        values = {}
        for f in fields(cls):
            raw = env.get(f"BWS_{f.name.upper()}")
            if raw is None or raw == "" or f.name == "version":
                continue
            kind = f.type.split(" | ")[0]
            try:
                values[f.name] = {"int": int, "float": float, "str": str, "Path": Path, "bool": _flag}[kind](raw)
            except ValueError:
                raise ValueError(f"BWS_{f.name.upper()}={raw!r} is not a valid {kind}") from None
        return cls(**values)


def _flag(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)
