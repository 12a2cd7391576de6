"""Checks of fit arguments shared by the trainers and the strategies."""

from __future__ import annotations


def check_validation_pair(X_val, y_val) -> None:
    """Raise unless ``X_val`` and ``y_val`` are both given or both None."""
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")
