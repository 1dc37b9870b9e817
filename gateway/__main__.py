"""`python -m gateway`: serve until SIGTERM or Ctrl-C."""
from __future__ import annotations

import asyncio
import signal

from gateway.cli import commands as cli
from gateway.settings import Settings


async def serve(settings: Settings) -> None:
    from gateway.app import create_app  # here, so that --help and the file commands start fast
    from gateway.engine.memory import return_freed_memory

    return_freed_memory()
    app = create_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
    except BaseException:
        await app.stop()
        raise
    try:
        await stop.wait()
    finally:
        await app.stop()


def main() -> None:
    cli.main(serve)  # `bws-gateway [serve|clients|keys|token]`; serve is the default


if __name__ == "__main__":
    main()
