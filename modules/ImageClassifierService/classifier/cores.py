"""How many cores this container may use, and how many threads one inference gets by default.

A container sees the host's cores in ``os.cpu_count()``; what it may run on is its CPU affinity
(``docker run --cpuset-cpus``, ``os.sched_getaffinity``) and, over time, its CFS quota
(``--cpus``: cgroup v2 ``cpu.max`` "quota period", cgroup v1 ``cpu.cfs_quota_us`` /
``cpu.cfs_period_us``; "max" or -1: none). Threads beyond either only wait for each other.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
CAMERA_CORES = 1  # left to CameraCapture (frame reading, the scene gate, JPEG encoding) when there are 3 or more


def _quota(cgroup: Path) -> float | None:
    """The CFS quota in cores (1.5 for ``--cpus 1.5``), or None when there is none or it cannot be read."""
    try:
        fields = (cgroup / "cpu.max").read_text().split()  # cgroup v2, the container's own at the root
    except OSError:
        try:
            fields = [(cgroup / "cpu" / name).read_text().strip() for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us")]
        except OSError:
            return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except (ValueError, IndexError):  # "max": no quota
        return None
    return quota / period if quota > 0 and period > 0 else None


def usable_cores(cgroup: Path = CGROUP) -> int:
    """The cores this process may use: its affinity, limited by the cgroup's CPU quota rounded up (at least 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = _quota(cgroup)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def default_inference_threads(cores: int) -> int:
    """Threads per inference on ``cores`` usable cores: all but one (CameraCapture's) from 3 cores up;
    on 1 or 2 cores, all of them, since CameraCapture waits for each answer and reads frames at a
    few % of one core (benchmarks/camera_capture.py) and ONNX Runtime's threads stop spinning
    between runs (classifier/backends.py)."""
    return cores - CAMERA_CORES if cores > 2 else cores
