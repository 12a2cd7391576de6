"""Warnings that point at the user's own line."""

from __future__ import annotations

import sys


class LeakageWarning(UserWarning):
    """A column looks ahead: left out of the features, or found among them.

    Public as :class:`skquant.leakage.LeakageWarning`; defined here so that every
    layer (the trainers, the strategies) can raise it.
    """


LeakageWarning.__module__ = "skquant.leakage"


def caller_stacklevel() -> int:
    """``stacklevel`` of the first frame outside skquant, scikit-learn and joblib, so
    that a warning points at the user's call (``fit``, ``train``,
    ``WalkForwardEngine(...)``, ``cross_validate(...)``, whose joblib loop consumes a
    splitter's generator) whatever the path to it."""
    frame, level = sys._getframe(1), 1  # the frame that calls warnings.warn is level 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in {
        "skquant",
        "sklearn",
        "joblib",
    }:
        frame, level = frame.f_back, level + 1
    return level
