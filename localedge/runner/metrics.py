"""``python -m localedge metrics``: each module's current Prometheus metrics, scraped from the running
local runner's modules the way IoT Edge's metrics collector scrapes them (an HTTP GET of each
module's ``/metrics``), printed as the modules serve them.

The modules' metrics URLs come from the running runner's state file (:mod:`localedge.runner.discovery`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from localedge.commandline import add_command
from localedge.http_get import get
from localedge.runner.discovery import running_states, state_dir

logger = logging.getLogger("localedge")

SCRAPE_TIMEOUT_S = 10.0  # as the collector, a scrape that does not answer is given up


def scrape(url: str, timeout_s: float = SCRAPE_TIMEOUT_S) -> str:
    """GET ``url`` as a Prometheus scraper does (``timeout_s`` to connect and to read); the exposition text.
    Raises OSError (out of reach, timed out, a status of 400 or more) or ValueError (not an http URL)."""
    _, body = get(url, timeout_s, {"Accept": "text/plain;version=0.0.4;q=1,*/*;q=0.1", "User-Agent": "localedge-metrics"})
    return body.decode("utf-8", errors="replace")


def print_metrics(state: Mapping[str, Any], modules: list[str], out: TextIO) -> int:
    """Print each module's metrics (``# <Module> <url>`` then its exposition text); the number that failed."""
    failed = 0
    for name, where in state["modules"].items():
        if modules and name not in modules:
            continue
        url = where.get("url")
        if not url:
            out.write(f"# {name}: {where.get('why', 'no metrics endpoint')}\n\n")
            failed += 1
            continue
        try:
            text = scrape(url)
        except (OSError, ValueError) as exc:
            out.write(f"# {name} {url}: scrape failed: {getattr(exc, 'reason', exc)}\n\n")
            failed += 1
            continue
        out.write(f"# {name} {url}\n{text}\n")
    return failed


def add_parser(commands: Any) -> None:
    """Add the ``metrics`` command to the CLI's subparsers."""
    cmd = add_command(
        commands, "metrics", "print each module's current Prometheus metrics from the running runner",
        "Scrape each module's METRICS_PORT (the runner gives each a free loopback port) and print the Prometheus text, "
        "as the IoT Edge metrics collector would read it.",
        ["python -m localedge metrics", "python -m localedge metrics ImageClassifierService"])
    cmd.add_argument("modules", nargs="*", metavar="MODULE", help="only these modules (default: all)")
    cmd.add_argument("--runner", type=int, metavar="PID", help="the runner to ask, when several run (default: each)")
    cmd.set_defaults(func=main)


def main(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Scrape and print; 0 when every module asked for answered, 1 otherwise (or when no runner runs)."""
    states = [s for s in running_states(state_dir()) if args.runner is None or int(s["pid"]) == args.runner]
    if not states:
        which = f" with pid {args.runner}" if args.runner is not None else ""
        logger.error("no local runner%s is running: start one with `python -m localedge run`", which)
        return 1
    failed = 0
    for state in states:
        if len(states) > 1:
            out.write(f"# runner {state['pid']}\n")
        unknown = sorted(set(args.modules) - set(state["modules"]))
        if unknown:
            logger.error("runner %s runs no module %s (modules: %s)", state["pid"], ", ".join(unknown),
                         ", ".join(state["modules"]))
            failed += len(unknown)
        failed += print_metrics(state, list(args.modules), out)
    out.flush()
    return 1 if failed else 0
