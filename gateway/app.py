"""The app factory: the one place where configuration, engine pool, store,
index and servers are built and wired together."""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import grpc
from aiohttp import web
from grpc_health.v1 import health

from bws_proto import bioidwebservice_pb2, facerecognition_pb2

from gateway.infra.auth import Authenticator
from gateway.infra.clients import ClientRegistry, development_registry
from gateway.settings import Settings
from gateway.engine import (ENCODER_VERSION, EngineOptions, EnginePool, ImageLimits, JobLimits, PadOptions,
                            VideoLimits)
from gateway.infra.store_outage import STORE_OUTAGE
from gateway.transport.extension.flow import ExtensionFlow
from gateway.core.fairness import FairEngine, jobs_per_client
from gateway.infra.files import read_small_file, write_private
from gateway.core.liveness import Liveness
from gateway.infra.metrics import Metrics
from gateway.core.recognition import FaceRecognition
from gateway.infra.budget import ByteBudget
from gateway.transport.rest.bodies import MAX_BODY_BYTES
from gateway.infra.reload import Reloader, WatchedFile
from gateway.transport.http_app import HttpRunner, build_http_app, build_metrics_app
from gateway.transport.rest.mux import Transcoder
from gateway.transport.openapi.document import openapi_document
from bws_proto.transcoding.routes import routes_of
from gateway.transport.grpc.server import MAX_MESSAGE_BYTES, build_server, port_free, set_alive, set_serving
from gateway.infra.tls import grpc_credentials, http_context, tls_files
from templates_store import KeyRing, SearchIndex, TemplateStore
from templates_store.connection import connect
from templates_store.embedded import EmbeddedRedis
from templates_store.samples import SampleStore
from templates_store.sync import IndexSync

log = logging.getLogger("bws")
HEALTH_POLL_SECONDS = 1.0
T = TypeVar("T")


def keys_from_file(path: Path) -> KeyRing:
    return KeyRing.from_json(read_small_file(path))


def load_keys(settings: Settings) -> KeyRing:
    path = settings.keys_path
    if settings.keys_file:
        return _named("BWS_KEYS_FILE", keys_from_file, path)
    if not path.exists():
        write_private(path, KeyRing.generate("dev1").to_json(), exclusive=True)
    log.warning("BWS_KEYS_FILE is not set: templates are encrypted with a development key kept in the data "
                "directory; configure a keys file for production", extra={"path": str(path)})
    return keys_from_file(path)


def load_clients(settings: Settings) -> ClientRegistry:
    if settings.clients_file:
        return _named("BWS_CLIENTS_FILE", ClientRegistry.from_file, settings.clients_file)
    registry, path = development_registry(settings.data_dir)
    client = next(iter(registry), None)
    if client is None:
        return registry
    # Printed for the developer at the console (not logged): where the development credentials are.
    print(f"\nDevelopment client (BWS_CLIENTS_FILE not set), kept in {path}:\n"
          f"  clientId: {client.client_id}\n  storage/partition: {client.partition}\n"
          f"  a token:   bws-gateway token        (in this checkout: .venv/bin/bws-gateway token)\n"
          f"  more:      bws-gateway clients --help\n", file=sys.stderr)
    return registry


def _named(variable: str, load: Callable[[Path], T], path: Path) -> T:
    """A configured file's first load: its errors (a missing, special or oversized file too) name the variable,
    the file and the command that writes a valid one."""
    try:
        return load(Path(path))
    except ValueError as exc:
        text = str(exc)
        named = text if str(path) in text else f"{path}: {text}"
        command = "keys --help" if variable == "BWS_KEYS_FILE" else "clients --help"
        raise ValueError(f"{variable}: {named} (see `bws-gateway {command}`)") from None


def watch_files(settings: Settings, clients: ClientRegistry, store: TemplateStore, samples: SampleStore) -> Reloader:
    """Reloads of the registry and the key ring replace them in place, in one assignment each."""
    def apply_keys(ring: KeyRing) -> None:
        store.keys = ring
        samples.keys = ring

    return Reloader([WatchedFile("client registry", settings.clients_path, ClientRegistry.from_file, clients.replace),
                     WatchedFile("key file", settings.keys_path, keys_from_file, apply_keys)],
                    settings.reload_poll_seconds)


@dataclass
class App:
    settings: Settings
    authenticator: Authenticator
    pool: EnginePool
    store: TemplateStore
    index: SearchIndex
    sync: IndexSync
    recognition: FaceRecognition
    liveness: Liveness
    extension: ExtensionFlow
    health: health.aio.HealthServicer
    embedded_redis: EmbeddedRedis | None = None
    reloader: Reloader | None = None
    metrics: Metrics = field(default_factory=Metrics)
    stopping: bool = False
    _serving: bool = False
    _health_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    grpc_port: int = 0
    http_port: int = 0
    metrics_port: int | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        await self.store.ping()  # an unreachable Redis fails the start before anything listens
        self.metrics.watch(lambda: self.pool.in_flight, self.index.sizes)
        # One budget for the bytes of requests held at once, over REST, /extension/ and gRPC alike.
        self.budget = ByteBudget(self.settings.max_body_bytes_in_flight, max(MAX_BODY_BYTES, MAX_MESSAGE_BYTES),
                                 self.settings.request_receive_seconds)
        self._loopback_secret = secrets.token_urlsafe(32)
        self.grpc_server = build_server(self.recognition, self.liveness, self.authenticator, self.settings.version,
                                        self.health, self.metrics.observe_call, self.budget, self._loopback_secret,
                                        self.settings.budget_wait_seconds, self.settings.grpc_message_reserve_bytes)
        address = f"{self.settings.bind_host}:{self.settings.grpc_port}"
        tls = tls_files(self.settings)
        # The HTTP context is built first: it reports unreadable PEM files clearly.
        self._http_tls = http_context(tls) if tls else None
        taken = OSError(f"gRPC cannot listen on {address}: the port is taken (another service?) "
                        "or not allowed; choose another with BWS_GRPC_PORT")
        if not port_free(self.settings.bind_host, self.settings.grpc_port):
            raise taken  # checked first: grpc's own refusal also prints a raw E... add_port.cc line on stderr
        try:
            self.grpc_port = (self.grpc_server.add_secure_port(address, grpc_credentials(tls)) if tls
                              else self.grpc_server.add_insecure_port(address))
        except RuntimeError:  # grpcio says only "Failed to bind", pointing at GRPC_VERBOSITY
            raise taken from None
        # REST calls reach the gRPC server through a private unix socket.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="bws-grpc-"))
        internal = f"unix:{self._socket_dir / 'grpc.sock'}"
        self.grpc_server.add_insecure_port(internal)
        await set_serving(self.health, False)
        await set_alive(self.health)
        self._serving = False
        await self.grpc_server.start()
        self.loopback = grpc.aio.insecure_channel(internal, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        await self._start_http()
        if self.settings.demo:
            log.warning("demo mode (BWS_DEMO=1): /demo/token and /demo/apitoken give tokens of every registered "
                        "client to anyone who reaches the HTTP port: never in production",
                        extra={"bind_host": self.settings.bind_host})
        log.info("listening", extra={"bind_host": self.settings.bind_host, "grpc_port": self.grpc_port,
                                     "http_port": self.http_port,
                                     "metrics_port": self.metrics_port, "tls": tls is not None,
                                     "client_certificates": bool(tls and tls.client_ca)})
        await self.pool.start()
        await self.sync.load_all()
        self._tasks.append(asyncio.create_task(self.sync.run(STORE_OUTAGE.observe_poll), name="index-sync"))
        if self.embedded_redis:
            self._tasks.append(asyncio.create_task(self.embedded_redis.supervise(self.update_health),
                                                   name="embedded-redis"))
        if self.reloader:
            self._tasks.append(asyncio.create_task(self.reloader.run(), name="reload-files"))
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reloader.reload_now)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (an in-process test): the poll still reloads
        await self.update_health()
        self._tasks.append(asyncio.create_task(self._follow_readiness(), name="health"))
        log.info("ready", extra={"templates": sum(self.index.sizes().values()), "workers": self.pool.workers})

    async def _start_http(self) -> None:
        routes = routes_of([facerecognition_pb2.DESCRIPTOR, bioidwebservice_pb2.DESCRIPTOR])
        openapi = openapi_document(routes, "BWS-compatible face recognition", self.settings.version)
        transcoder = Transcoder(routes, self.loopback, self.authenticator, self.budget, self._loopback_secret)
        http_app = build_http_app(self.settings, transcoder, self.readiness, openapi, self.extension, self.budget,
                                  self.metrics.observe_call, self.metrics)
        self.http_runner, self.http_port = await self._serve(http_app, self.settings.http_port, self._http_tls,
                                                             "BWS_HTTP_PORT")
        if self.settings.metrics_port is not None:
            # The same TLS (and client CA) as the other ports: the series name partitions.
            self.metrics_runner, self.metrics_port = await self._serve(
                build_metrics_app(self.settings, self.metrics), self.settings.metrics_port, self._http_tls,
                "BWS_METRICS_PORT")

    async def _serve(self, http_app: web.Application, port: int, ssl_context, variable: str
                     ) -> tuple[web.AppRunner, int]:
        runner = HttpRunner(http_app, access_log=None, shutdown_timeout=self.settings.grace_seconds,
                            keepalive_timeout=self.settings.http_idle_seconds)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.bind_host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise OSError(f"HTTP cannot listen on {self.settings.bind_host}:{port}: {reason}; "
                          f"choose another port with {variable}") from None
        return runner, site._server.sockets[0].getsockname()[1]

    async def update_health(self) -> None:
        """gRPC health says what /readyz says: SERVING only with the store reachable, the index loaded and the
        service not stopping."""
        async with self._health_lock:
            serving = all((await self.readiness()).values())
            if serving != self._serving:
                self._serving = serving
                await set_serving(self.health, serving)

    async def _follow_readiness(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_POLL_SECONDS)
            await self.update_health()

    async def readiness(self) -> dict[str, bool]:
        try:
            store = await asyncio.wait_for(self.store.ping(), 2)
        except Exception:
            store = False
        return {"store": store, "index": self.sync.ready.is_set(), "accepting": not self.stopping}

    async def stop(self) -> None:
        """Graceful: report not-ready, stop accepting, let calls in flight finish
        (up to BWS_GRACE_SECONDS), then release everything. Safe after a failed start."""
        self.stopping = True
        if hasattr(self, "grpc_server"):
            self._serving = False
            await set_serving(self.health, False)
            await self.health.enter_graceful_shutdown()
            log.info("stopping: draining calls in flight", extra={"grace_seconds": self.settings.grace_seconds})
        # Both ports refuse new calls at once and drain side by side: a REST call
        # in flight has already reached the gRPC server, which lets it finish.
        draining = []
        if hasattr(self, "grpc_server"):
            draining.append(self.grpc_server.stop(self.settings.grace_seconds))
        if hasattr(self, "http_runner"):
            draining.append(self.http_runner.cleanup())
        if hasattr(self, "metrics_runner"):
            draining.append(self.metrics_runner.cleanup())
        await asyncio.gather(*draining)
        if hasattr(self, "loopback"):
            await self.loopback.close()
        await _cancel(self._tasks)
        self.pool.close()
        await self.store.redis.aclose()
        if self.embedded_redis:
            self.embedded_redis.stop()
        if hasattr(self, "_socket_dir"):
            shutil.rmtree(self._socket_dir, ignore_errors=True)


async def _cancel(tasks: list[asyncio.Task], attempts: int = 10) -> None:
    """Cancel until done: a cancellation that lands inside a redis-py command can be swallowed, and a
    single cancel then left the index-sync loop (and the process) running after SIGTERM."""
    pending = set(tasks)
    for _ in range(attempts):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    log.warning("background tasks did not stop", extra={"tasks": [t.get_name() for t in pending]})


def pad_options(settings: Settings) -> PadOptions | None:
    if settings.pad == "off":
        return None
    if settings.pad_model and not settings.pad_model.is_file():
        raise ValueError(f"BWS_PAD_MODEL: no file {settings.pad_model}")
    custom = str(settings.pad_model) if settings.pad_model else None
    try:
        return PadOptions(custom, settings.pad_input_size, (settings.pad_mean,) * 3, (settings.pad_std,) * 3,
                          settings.pad_live_index, models=tuple(m.strip() for m in settings.pad_models.split(",")
                                                                if m.strip()),
                          fusion=settings.pad_fusion, threshold=settings.pad_threshold)
    except ValueError as exc:
        raise ValueError(f"BWS_PAD_MODELS / BWS_PAD_FUSION: {exc}") from None


def engine_options(settings: Settings) -> EngineOptions:
    pad = pad_options(settings)
    return EngineOptions(
        image_limits=ImageLimits(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels,
                                 max_jpeg_scans=settings.max_jpeg_scans),
        video_limits=VideoLimits(max_bytes=settings.video_max_bytes, max_seconds=settings.video_max_seconds),
        pad=pad, multiple_faces=settings.multiple_faces)


def create_app(settings: Settings) -> App:
    # Everything that can fail on a bad file comes before the embedded Redis starts, so no server is orphaned.
    keys = load_keys(settings)
    clients = load_clients(settings)
    options = engine_options(settings)
    embedded = None
    redis_url = settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        redis_url = embedded.url
        log.info("embedded Redis started", extra={"data_dir": str(embedded.data_dir), "url": embedded.url})
    try:
        store = TemplateStore(connect(redis_url, settings.redis_password, settings.redis_timeout_seconds), keys,
                              default_buckets=settings.partition_buckets)
    except BaseException:
        if embedded:
            embedded.stop()
        raise
    index = SearchIndex()
    pool = EnginePool(settings.workers or None, options,
                      JobLimits(settings.engine_job_seconds, settings.engine_video_job_seconds))
    sync = IndexSync(store, index, ENCODER_VERSION, settings.index_poll_seconds)
    engine = FairEngine(pool, jobs_per_client(settings.max_engine_jobs_per_client, pool.workers))
    recognition = FaceRecognition(settings, engine, store, sync)
    liveness = Liveness(settings, engine)
    samples = SampleStore(store.redis, store.keys, max_token_bytes=settings.max_sample_bytes_per_token,
                          max_application_bytes=settings.max_sample_bytes_per_application,
                          max_token_pixels=settings.max_pixels_per_call)
    extension = ExtensionFlow(clients, recognition, liveness, samples, settings.extension_token_seconds,
                              max_token_lifetime=settings.max_extension_token_lifetime_seconds)
    authenticator = Authenticator(clients, settings.jwt_leeway_seconds, settings.max_token_lifetime_seconds)
    return App(settings=settings, authenticator=authenticator,
               pool=pool, store=store, index=index,
               sync=sync,
               recognition=recognition, liveness=liveness, extension=extension,
               health=health.aio.HealthServicer(), embedded_redis=embedded,
               reloader=watch_files(settings, clients, store, samples))
