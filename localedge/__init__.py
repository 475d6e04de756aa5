"""The solution on a laptop and on the way to a device.

- :mod:`localedge.runner`: ``python -m localedge run`` and the commands that talk to a running runner;
- :mod:`localedge.deploy`: deployment manifests: loading, ``genconfig``, validation, layered deployments;
- :mod:`localedge.build`: ``check-images``, proof that each module image installs per platform.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the solution's folder (modules/, deployment templates)
