"""Pieces shared by the CLI commands: errors, logging and exit codes."""

from __future__ import annotations

import argparse
import logging
import sys

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_UNEXPECTED = 3

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


def _number(text: str, kind: type, ok, expected: str):
    """An argparse ``type=`` converter: ``kind(text)`` if ``ok`` of it, else a usage error."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    return _number(text, float, lambda v: 0 < v < 1, "a number in (0, 1)")
