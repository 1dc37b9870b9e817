"""EnginePool: the face engine in worker processes, one per core, every job
bounded in time.

Each worker is a `spawn`ed process (grpcio and fork do not mix) that loads the
models once and runs one job at a time, sent and answered over its own pipe.
Jobs wait here for a free worker, in the order they came; a waiting job whose
call is cancelled never reaches a worker. A job past its time limit is
abandoned: its worker is killed and a fresh one started (loading the models
again) while the others go on, so a hostile file holds one worker for at most
the limit. A worker that dies is replaced the same way; the job it was running
fails with EngineUnavailable.

A job already at a worker when its call is cancelled is left to finish (within
its limit) and its answer dropped: killing the worker instead would let any
caller make the service reload its models at will. The cancelled call still
waits for it, so that whoever counts a client's jobs at the workers
(fairness.py) counts it until it is done.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import numpy as np

from gateway.engine.memory import return_freed_memory
from gateway.engine.face_engine import EngineOptions, FaceEngine
from gateway.engine.types import ImageAnalysis, InvalidImage

log = logging.getLogger("bws.engine")

# Between two attempts to start a worker that failed to start (up to the last one, then at that pace).
_RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 15.0, 30.0)


class EngineUnavailable(RuntimeError):
    """A worker died under this call: retryable, a fresh worker replaces it."""


class JobTooLong(InvalidImage):
    """The file took more than its time limit to analyse: the work it asks for is too expensive."""


@dataclass(frozen=True)
class JobLimits:
    image_seconds: float = 30.0  # one image (decoding and analysis), or the stored chips of one template
    video_seconds: float = 120.0  # one video: decoding every frame, then analysing a few


# --- in the worker process ---------------------------------------------------------------------------------

def _exit_with_parent(parent: int) -> None:
    # A worker whose service died (killed, crashed) must not linger holding memory, even in the middle of a job.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _describe_chips(engine: FaceEngine, chips: list[bytes]) -> list[np.ndarray | None]:
    return [engine.describe_chip(c) for c in chips]


_JOBS: dict[str, Callable] = {"analyze": FaceEngine.analyze, "analyze_video": FaceEngine.analyze_video,
                              "describe_chips": _describe_chips}


def _serve(connection: Connection, options: EngineOptions, parent: int) -> None:
    """A worker's life: load the models, say so, then answer jobs until the service closes the pipe."""
    # Ctrl-C reaches every process of the terminal's group: the service stops its workers itself. SIGINT was
    # blocked when this process was started (see _Worker.start), so no KeyboardInterrupt can come before this.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    return_freed_memory()  # decoded pictures and video frames: hundreds of megabytes, freed after each job
    engine = FaceEngine(options)
    connection.send(os.getpid())
    while True:
        try:
            name, args = connection.recv()
        except EOFError:  # the service closed the pipe: stopping, or gone
            return
        try:
            answer = (True, _JOBS[name](engine, *args))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the call that sent the job
            answer = (False, exc)
        try:
            connection.send(answer)
        except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
            connection.send((False, RuntimeError(f"{type(answer[1]).__name__}: {exc}")))


# --- in the service process --------------------------------------------------------------------------------

@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    connection: Connection  # the service's end of the worker's pipe

    @classmethod
    def start(cls, options: EngineOptions) -> "_Worker":
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, options, os.getpid()), daemon=True,
                                  name="bws-engine")
        # The worker inherits this thread's signal mask: it starts with SIGINT blocked (see _serve).
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        theirs.close()  # else the worker's death would not end a recv() here
        return cls(process, ours)

    def wait_ready(self) -> None:
        try:
            self.connection.recv()
        except (EOFError, OSError):
            self.stop()
            raise RuntimeError(f"a face engine worker did not start (exit code {self.process.exitcode}); "
                               "see the messages above") from None

    def call(self, job: tuple[str, tuple]) -> tuple[bool, object]:
        self.connection.send(job)
        return self.connection.recv()

    def stop(self) -> None:
        """Kills the process and reaps it (blocking: in a thread). The pipe is closed when the last thread
        using it is done with it (closing it under a thread still in recv() could hand its number to another
        pipe)."""
        self.process.kill()
        self.process.join()


class EnginePool:
    def __init__(self, workers: int | None = None, options: EngineOptions = EngineOptions(),
                 limits: JobLimits = JobLimits()) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.options = options
        self.limits = limits
        self.in_flight = 0  # jobs waiting for a worker or at one
        self._idle: list[_Worker] = []
        self._waiting: deque[asyncio.Future[_Worker]] = deque()
        self._alive: set[_Worker] = set()
        self._tasks: set[asyncio.Task] = set()  # replacements being started
        # Blocking pipe I/O and process starts and stops: a thread per busy worker, one per replacement.
        self._threads = ThreadPoolExecutor(2 * self.workers + 2, thread_name_prefix="bws-engine")
        self._closed = False

    async def start(self) -> None:
        """Starts every worker and waits until each has loaded its models."""
        started = await asyncio.gather(*(self._start_worker() for _ in range(self.workers)),
                                       return_exceptions=True)
        failed = [s for s in started if isinstance(s, BaseException)]
        if failed:
            raise failed[0]
        for worker in started:
            self._release(worker)

    @property
    def has_texture_liveness(self) -> bool:
        return self.options.pad is not None

    async def analyze(self, data: bytes, want_descriptors: bool = True, want_texture: bool = False,
                      small_faces: bool = False) -> ImageAnalysis:
        limit = self.limits.image_seconds
        return await self._run(("analyze", (data, want_descriptors, want_texture, small_faces)), limit,
                               JobTooLong(f"analysing this image took more than {limit:g} s (BWS_ENGINE_JOB_SECONDS)"))

    async def analyze_video(self, data: bytes, want_texture: bool = False) -> list[tuple[int, ImageAnalysis]]:
        limit = self.limits.video_seconds
        return await self._run(("analyze_video", (data, want_texture)), limit, JobTooLong(
            f"analysing this video took more than {limit:g} s (BWS_ENGINE_VIDEO_JOB_SECONDS)"))

    async def describe_chips(self, chips: list[bytes]) -> list[np.ndarray | None]:
        """The descriptors of stored face chips; None for a chip the face is not found on again."""
        limit = self.limits.image_seconds
        return await self._run(("describe_chips", (chips,)), limit, EngineUnavailable(
            f"the stored thumbnails took more than {limit:g} s to analyse (BWS_ENGINE_JOB_SECONDS); please retry"))

    async def _run(self, job: tuple[str, tuple], limit: float, too_long: Exception):
        if self._closed:
            raise EngineUnavailable("the face engine is stopping")
        self.in_flight += 1
        try:
            worker = await self._acquire()  # a call cancelled here sends nothing to a worker
            running = asyncio.ensure_future(self._execute(worker, job, limit, too_long))
            try:
                ok, value = await asyncio.shield(running)
            except asyncio.CancelledError:
                while not running.done():  # see the module's docstring
                    try:
                        await asyncio.shield(running)
                    except asyncio.CancelledError:
                        pass
                raise
        finally:
            self.in_flight -= 1
        if ok:
            return value
        raise value

    async def _execute(self, worker: _Worker, job: tuple[str, tuple], limit: float,
                       too_long: Exception) -> tuple[bool, object]:
        """The job at `worker`, within `limit` seconds; never raises (the answer may be an exception)."""
        if self._closed:
            return False, EngineUnavailable("the face engine is stopping")
        call = asyncio.get_running_loop().run_in_executor(self._threads, worker.call, job)
        try:
            answer = await asyncio.wait_for(call, limit)
        except asyncio.TimeoutError:
            log.warning("engine job over its time limit: its worker is replaced",
                        extra={"job": job[0], "limit_seconds": limit})
            self._replace(worker)
            return False, too_long
        except (EOFError, OSError):  # the worker died (killed, out of memory, crashed)
            log.warning("engine worker stopped: it is replaced", extra={"job": job[0],
                                                                         "exit_code": worker.process.exitcode})
            self._replace(worker)
            return False, EngineUnavailable("a face engine worker stopped; please retry")
        except Exception as exc:  # noqa: BLE001 - e.g. an answer that cannot be unpickled: the worker is fine
            self._release(worker)
            return False, exc
        self._release(worker)
        return answer

    async def _acquire(self) -> _Worker:
        while self._idle and not self._waiting:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._replace(worker)  # died while idle: no call to fail
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a worker just as the call was cancelled
                self._release(waiter.result())
            raise

    def _release(self, worker: _Worker) -> None:
        """The worker is free: to the first job still waiting, else idle."""
        if self._closed:
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _replace(self, worker: _Worker) -> None:
        self._alive.discard(worker)
        worker.process.kill()  # at once: the limit is the limit; the thread reaps it
        if not self._closed:
            task = asyncio.ensure_future(self._restart(worker))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _restart(self, dead: _Worker) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._threads, dead.stop)
        for attempt in itertools.count():
            try:
                worker = await self._start_worker()
            except RuntimeError as exc:
                pause = _RESTART_BACKOFF_SECONDS[min(attempt, len(_RESTART_BACKOFF_SECONDS) - 1)]
                log.error("engine worker could not be restarted", extra={"reason": str(exc), "retry_in": pause})
                await asyncio.sleep(pause)
                continue
            if self._closed:
                await loop.run_in_executor(self._threads, worker.stop)
            else:
                self._release(worker)
            return

    async def _start_worker(self) -> _Worker:
        loop = asyncio.get_running_loop()
        worker = await loop.run_in_executor(self._threads, _Worker.start, self.options)
        self._alive.add(worker)
        try:
            await loop.run_in_executor(self._threads, worker.wait_ready)
        except BaseException:
            self._alive.discard(worker)
            raise
        return worker

    def close(self) -> None:
        """Stops every worker (jobs still running are abandoned) and fails the jobs still waiting."""
        self._closed = True
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_exception(EngineUnavailable("the face engine is stopping"))
        self._waiting.clear()
        for task in self._tasks:
            task.cancel()
        workers = list(self._alive)
        for worker in workers:
            worker.process.terminate()
        for worker in workers:
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        self._alive.clear()
        self._idle.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)
