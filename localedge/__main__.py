"""Entry point: ``python -m localedge run [--manifest F] [--set M.VAR=V] [--upstream F] [--duration S]``."""

import sys

from localedge.cli import main

sys.exit(main())
