"""Keeping the service's resident memory flat under concurrent requests (glibc only).

Each request allocates a few buffers of 0.1-1 MB (the upload, the decoded image, the tensor).
glibc's dynamic mmap threshold soon serves such sizes from the heap, and with one malloc arena
per worker thread the freed memory stays resident, adding ~10 MB per concurrent request. A fixed
128 KiB mmap threshold returns those buffers to the system at once, and two arenas bound the
rest. ONNX Runtime keeps its own arena for activations, so inference speed is unchanged
(benchmarks/classifier_service.py measures both).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MMAP_THRESHOLD_BYTES = 128 * 1024
ARENAS = 2


def limit_heap_growth() -> bool:
    """Apply the settings above; call before starting threads. Returns False where not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = all(mallopt(option, value) == 1 for option, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES), (M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_BYTES), (M_ARENA_MAX, ARENAS)))
    logger.debug("glibc heap limits %s", "applied" if done else "not applied")
    return done
