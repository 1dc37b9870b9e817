"""EnginePool: worker processes the pool controls, every job within its time limit (issue 16)."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import psutil
import pytest

from gateway.engine import EngineOptions, EnginePool, EngineUnavailable, ImageLimits, JobLimits, JobTooLong
from tests.conftest import face
from tests.security.hostile_files import scan_bomb

LIMIT = 3.0
BOMB = scan_bomb(scans=20_000)  # minutes of decoding: only the time limit stops it


def _workers() -> set[int]:
    """This process's live engine workers (a killed one is a zombie until the pool reaps it)."""
    pids = set()
    for child in psutil.Process().children():
        try:
            if "spawn_main" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                pids.add(child.pid)
        except psutil.Error:
            pass
    return pids


async def _pool(workers: int) -> EnginePool:
    pool = EnginePool(workers, EngineOptions(image_limits=ImageLimits(max_jpeg_scans=10**6)), JobLimits(LIMIT, LIMIT))
    await pool.start()
    return pool


def _dead(pid: int) -> bool:
    """Exited and not yet reaped by the pool (peeked at without reaping it). psutil's 'zombie' is not enough:
    it shows as soon as the main thread is gone, while the other threads may still be exiting."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


async def _until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.1)


async def test_a_job_over_its_limit_is_abandoned_and_its_worker_replaced_while_the_others_go_on():
    pool = await _pool(2)
    try:
        before = _workers()
        assert len(before) == 2
        bombing = asyncio.ensure_future(pool.analyze(BOMB))
        await asyncio.sleep(0.5)
        assert (await pool.analyze(face("obama_1.jpg"))).face is not None  # the other worker
        assert not bombing.done()
        with pytest.raises(JobTooLong, match=r"^analysing this image took more than 3 s \(BWS_ENGINE_JOB_SECONDS\)$"):
            await bombing

        def replaced() -> bool:  # one fresh worker, one that went on (and the killed one gone)
            now = _workers()
            return len(now) == 2 and len(now & before) == 1

        await _until(replaced)
        assert [a.face is not None for a in await asyncio.gather(
            pool.analyze(face("obama_1.jpg")), pool.analyze(face("biden_1.jpg")))] == [True, True]
    finally:
        pool.close()
    await _until(lambda: not _workers(), 10)


async def test_a_job_waiting_for_a_worker_when_its_call_is_cancelled_never_reaches_one():
    pool = await _pool(1)
    try:
        bombing = asyncio.ensure_future(pool.analyze(BOMB))
        await asyncio.sleep(0.5)
        waiting = asyncio.ensure_future(pool.analyze(BOMB))
        await asyncio.sleep(0.2)
        assert pool.in_flight == 2
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert pool.in_flight == 1 and not bombing.done()  # gone at once, while the first still runs
        with pytest.raises(JobTooLong):
            await bombing
        assert (await pool.analyze(face("obama_1.jpg"))).face is not None
    finally:
        pool.close()


async def test_a_worker_that_dies_fails_its_job_as_unavailable_and_one_dying_idle_fails_none():
    pool = await _pool(1)
    try:
        (worker,) = _workers()
        bombing = asyncio.ensure_future(pool.analyze(BOMB))
        await asyncio.sleep(0.5)
        os.kill(worker, signal.SIGKILL)
        with pytest.raises(EngineUnavailable, match="please retry"):
            await bombing

        def replaced() -> bool:
            now = _workers()
            return len(now) == 1 and worker not in now

        await _until(replaced)
        assert (await pool.analyze(face("obama_1.jpg"))).face is not None  # the fresh worker is ready
        (idle,) = _workers()
        os.kill(idle, signal.SIGKILL)
        await _until(lambda: _dead(idle))
        assert (await pool.analyze(face("obama_1.jpg"))).face is not None  # no call fails for it
    finally:
        pool.close()


async def test_workers_leave_ctrl_c_to_the_service(capfd):
    pool = await _pool(1)
    try:
        (worker,) = _workers()
        os.kill(worker, signal.SIGINT)  # as a terminal's Ctrl-C reaches every process of its group
        await asyncio.sleep(1.0)
        assert _workers() == {worker}
        assert (await pool.analyze(face("obama_1.jpg"))).face is not None
    finally:
        pool.close()
    assert "KeyboardInterrupt" not in capfd.readouterr().err
