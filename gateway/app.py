"""The app factory: the one place where configuration, engine pool, store,
index and servers are built and wired together."""
from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from aiohttp import web
from grpc_health.v1 import health

from bws_proto import bioidwebservice_pb2, facerecognition_pb2

from gateway.auth import Authenticator
from gateway.clients import ClientRegistry, development_registry
from gateway.config import Settings
from gateway.engine import ENCODER_VERSION, EngineOptions, EnginePool, ImageLimits, PadOptions, VideoLimits
from gateway.extension import http as extension_http
from gateway.extension.flow import ExtensionFlow
from gateway.liveness import Liveness
from gateway.metrics import CONTENT_TYPE, Metrics
from gateway.recognition import FaceRecognition
from gateway.rest.mux import Transcoder, build_http_app
from gateway.rest.openapi import openapi_document
from gateway.rest.routes import routes_of
from gateway.rpc.server import MAX_MESSAGE_BYTES, build_server, set_serving
from templates_store import KeyRing, SearchIndex, TemplateStore
from templates_store.connection import connect
from templates_store.embedded import EmbeddedRedis
from templates_store.samples import SampleStore
from templates_store.sync import IndexSync

log = logging.getLogger("bws")


def load_keys(settings: Settings) -> KeyRing:
    if settings.keys_file:
        return KeyRing.from_file(settings.keys_file)
    path = settings.data_dir / "dev-keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(KeyRing.generate("dev1").to_json())
        path.chmod(0o600)
    log.warning("BWS_KEYS_FILE is not set: templates are encrypted with a development key kept in the data "
                "directory; configure a keys file for production", extra={"path": str(path)})
    return KeyRing.from_file(path)


def load_clients(settings: Settings) -> ClientRegistry:
    if settings.clients_file:
        return ClientRegistry.from_file(settings.clients_file)
    registry, path = development_registry(settings.data_dir)
    client = next(iter(registry))
    # Printed for the developer at the console (not logged): the development credentials.
    print(f"\nDevelopment client (BWS_CLIENTS_FILE not set), kept in {path}:\n"
          f"  clientId: {client.client_id}\n  storage/partition: {client.partition}\n"
          f"  key and a token: .venv/bin/python -m gateway.token --clients {path}\n", file=sys.stderr)
    return registry


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
    metrics: Metrics = field(default_factory=Metrics)
    stopping: bool = False
    grpc_port: int = 0
    http_port: int = 0
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        self.metrics.watch(lambda: self.pool.in_flight, self.index.sizes)
        self.grpc_server = build_server(self.recognition, self.liveness, self.authenticator, self.settings.version,
                                        self.health, self.metrics.observe_call)
        self.grpc_port = self.grpc_server.add_insecure_port(f"{self.settings.bind_host}:{self.settings.grpc_port}")
        # REST calls reach the gRPC server through a private unix socket.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="bws-grpc-"))
        internal = f"unix:{self._socket_dir / 'grpc.sock'}"
        self.grpc_server.add_insecure_port(internal)
        await set_serving(self.health, False)
        await self.grpc_server.start()
        self.loopback = grpc.aio.insecure_channel(internal, options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        await self._start_http()
        log.info("listening", extra={"grpc_port": self.grpc_port, "http_port": self.http_port})
        await self.pool.start()
        await self.sync.load_all()
        self._tasks.append(asyncio.create_task(self.sync.run(), name="index-sync"))
        await set_serving(self.health, True)
        log.info("ready", extra={"templates": sum(self.index.sizes().values()), "workers": self.pool.workers})

    async def _start_http(self) -> None:
        routes = routes_of([facerecognition_pb2.DESCRIPTOR, bioidwebservice_pb2.DESCRIPTOR])
        openapi = openapi_document(routes, "BWS-compatible face recognition", self.settings.version)
        http_app = build_http_app(Transcoder(routes, self.loopback), self.readiness, openapi, self._extra_routes)
        self.http_runner = web.AppRunner(http_app, access_log=None, shutdown_timeout=self.settings.grace_seconds)
        await self.http_runner.setup()
        site = web.TCPSite(self.http_runner, self.settings.bind_host, self.settings.http_port)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]

    def _extra_routes(self, app: web.Application) -> None:
        extension_http.add_routes(app, self.extension, self.metrics.observe_call)

        async def metrics(_: web.Request) -> web.Response:
            return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", metrics)

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
            await set_serving(self.health, False)
            await self.health.enter_graceful_shutdown()
            log.info("stopping: draining calls in flight", extra={"grace_seconds": self.settings.grace_seconds})
        # REST handlers call the gRPC server, so HTTP drains first, then gRPC.
        if hasattr(self, "http_runner"):
            await self.http_runner.cleanup()
        if hasattr(self, "grpc_server"):
            await self.grpc_server.stop(self.settings.grace_seconds)
        if hasattr(self, "loopback"):
            await self.loopback.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.pool.close()
        await self.store.redis.aclose()
        if self.embedded_redis:
            self.embedded_redis.stop()
        if hasattr(self, "_socket_dir"):
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def engine_options(settings: Settings) -> EngineOptions:
    pad = None
    if settings.pad_model:
        if not settings.pad_model.is_file():
            raise ValueError(f"BWS_PAD_MODEL: no file {settings.pad_model}")
        pad = PadOptions(str(settings.pad_model), settings.pad_input_size, (settings.pad_mean,) * 3,
                         (settings.pad_std,) * 3, settings.pad_live_index)
    return EngineOptions(
        image_limits=ImageLimits(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels),
        video_limits=VideoLimits(max_bytes=settings.video_max_bytes, max_seconds=settings.video_max_seconds),
        pad=pad)


def create_app(settings: Settings) -> App:
    embedded = None
    redis_url = settings.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(settings.data_dir / "redis").start()
        redis_url = embedded.url
        log.info("embedded Redis started", extra={"data_dir": str(embedded.data_dir)})
    store = TemplateStore(connect(redis_url, settings.redis_password), load_keys(settings),
                          default_buckets=settings.partition_buckets)
    index = SearchIndex()
    pool = EnginePool(settings.workers or None, engine_options(settings))
    clients = load_clients(settings)
    sync = IndexSync(store, index, ENCODER_VERSION, settings.index_poll_seconds)
    recognition = FaceRecognition(settings, pool, store, sync)
    liveness = Liveness(settings, pool)
    extension = ExtensionFlow(clients, recognition, liveness, SampleStore(store.redis, store.keys),
                              settings.extension_token_seconds)
    return App(settings=settings, authenticator=Authenticator(clients, settings.jwt_leeway_seconds),
               pool=pool, store=store, index=index,
               sync=sync,
               recognition=recognition, liveness=liveness, extension=extension,
               health=health.aio.HealthServicer(), embedded_redis=embedded)
