"""Giving freed memory back: glibc serves large allocations with mmap (returned to the system when freed) until
a large block is freed, then it raises its threshold (up to 32 MiB) and serves them from its heap, which it keeps:
after a few 48 MB REST bodies the service stayed hundreds of megabytes larger. A fixed threshold keeps every
buffer over 128 KiB (request bodies, images, decoded pictures) mapped on its own, so freeing it returns it."""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024  # glibc's own starting value


def return_freed_memory() -> bool:
    """Fixes glibc's thresholds in this process; False where the C library is not glibc (nothing to do)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD))
