"""`python -m gateway`: serve until SIGTERM or Ctrl-C."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from gateway import logs
from gateway.app import create_app
from gateway.config import Settings


async def serve(settings: Settings) -> None:
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
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        sys.exit(f"bws-gateway: {exc}")
    logs.configure(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except (OSError, RuntimeError, ValueError) as exc:
        logging.getLogger("bws").error("cannot start", extra={"reason": str(exc)})
        sys.exit(1)


if __name__ == "__main__":
    main()
