"""Pieces shared by the CLI commands: errors, logging and exit codes."""

from __future__ import annotations

import logging
import sys

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2

log = logging.getLogger("skquant.cli")


class UsageError(Exception):
    """Bad usage or bad input: reported in one line, exit code 2."""


def setup_logging(verbosity: int) -> None:
    """``-q`` shows warnings only, default info, ``-v`` debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("skquant")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def split_list(text: str | None) -> list[str] | None:
    """``"a,b, c"`` -> ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    items = [part.strip() for part in text.split(",")]
    return [item for item in items if item]
