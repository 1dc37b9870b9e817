"""EnginePool: the face engine in worker processes, one per core.

Workers are started with the `spawn` method (grpcio and fork do not mix) and
load the models once. A crashed worker breaks the executor; the pool then
starts a new one and the call that hit it fails with EngineUnavailable.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from gateway.engine.face_engine import EngineOptions, FaceEngine
from gateway.engine.types import ImageAnalysis
from gateway.errors import Unavailable

_engine: FaceEngine | None = None


class EngineUnavailable(Unavailable):
    """A worker died under this call: retryable, the pool has been restarted."""


def _exit_with_parent(parent: int) -> None:
    # A worker whose service died (killed, crashed) must not linger holding memory.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_worker(options: EngineOptions) -> None:
    global _engine
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _engine = FaceEngine(options)


def _analyze(data: bytes, want_descriptors: bool, want_texture: bool, small_faces: bool) -> ImageAnalysis:
    assert _engine is not None
    return _engine.analyze(data, want_descriptors, want_texture, small_faces)


def _analyze_video(data: bytes, want_texture: bool) -> list[tuple[int, ImageAnalysis]]:
    assert _engine is not None
    return _engine.analyze_video(data, want_texture)


def _describe_chips(chips: list[bytes]) -> list[np.ndarray | None]:
    assert _engine is not None
    return [_engine.describe_chip(c) for c in chips]


def _warm_up() -> int:
    return os.getpid()


class EnginePool:
    def __init__(self, workers: int | None = None, options: EngineOptions = EngineOptions()) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.options = options
        self.in_flight = 0
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self.options,))

    async def start(self) -> None:
        """Starts every worker and waits until each has loaded its models."""
        await asyncio.gather(*(self._run(_warm_up) for _ in range(self.workers)))

    @property
    def has_texture_liveness(self) -> bool:
        return self.options.pad is not None

    async def analyze(self, data: bytes, want_descriptors: bool = True, want_texture: bool = False,
                      small_faces: bool = False) -> ImageAnalysis:
        return await self._run(_analyze, data, want_descriptors, want_texture, small_faces)

    async def analyze_video(self, data: bytes, want_texture: bool = False) -> list[tuple[int, ImageAnalysis]]:
        return await self._run(_analyze_video, data, want_texture)

    async def describe_chips(self, chips: list[bytes]) -> list[np.ndarray | None]:
        """The descriptors of stored face chips; None for a chip the face is not found on again."""
        return await self._run(_describe_chips, chips)

    async def _run(self, fn, *args):
        executor = self._executor
        self.in_flight += 1
        try:
            return await asyncio.wrap_future(executor.submit(fn, *args))
        except BrokenProcessPool:
            if self._executor is executor:
                self._executor = self._new_executor()
            raise EngineUnavailable("a face engine worker stopped; please retry") from None
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
