"""The CLI's exit codes and its usage error, shared by its commands."""
from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NEGATIVE = 0, 1, 2, 3


class UsageError(SystemExit):
    """A bad command line (arguments, credentials, files): the message on stderr, exit code 2."""

    def __init__(self, message: str) -> None:
        print(f"bws: {message}", file=sys.stderr)
        super().__init__(EXIT_USAGE)
