"""One shape for the parser of each ``python -m localedge`` command (each adds itself in :mod:`localedge.cli`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any


def add_command(commands: Any, name: str, help_text: str, description: str | None, examples: Sequence[str] = (),
                func: Callable[[argparse.Namespace], int] | None = None) -> argparse.ArgumentParser:
    """Add command ``name`` to ``commands`` (the CLI's, or a command's, subparsers) and return its parser.

    help_text: its line in the list of commands; description: the head of its ``--help`` (None: none); examples: command
    lines shown below, under ``example:`` (one) or ``examples:``, as written (RawDescriptionHelpFormatter);
    func: what runs it (``func(args)`` -> exit code), set as the parser's default when given.
    """
    heading = "example:" if len(examples) == 1 else "examples:"
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=heading + "".join(f"\n  {line}" for line in examples) if examples else None)
    if func is not None:
        parser.set_defaults(func=func)
    return parser
