"""What a target looks like: one definition shared by the trainers, the strategies,
the labels and the leak guard (binary or not, label-like by name, its horizon)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from skquant.utils._warnings import caller_stacklevel

# The ``DataFrame.attrs`` key under which make_labels records each label's horizon.
LABELS_ATTR = "skquant_labels"

# Columns that hold (or are derived from) future outcomes, and so are never features:
# y_*, fwd_*, target_*, and TTH / MDD / MFE with or without a suffix, in any case.
_LABEL_LIKE = re.compile(r"^(y_|fwd_|target_)|^(tth|mdd|mfe)(_|$)", re.IGNORECASE)
# A horizon at the end of a label's name: fwd_ret_5, ret_5d, y_20days, tth_10bars.
_NAME_HORIZON = re.compile(r"(?:^|_)(\d+)(?:d|day|days|p|bars?)?$", re.IGNORECASE)


def is_label_like(name) -> bool:
    """Whether a column name looks like a label (``y_*``, ``fwd_*``, ``target_*``, ``TTH``, ``MDD``, ``MFE``).

    Default feature choices (the walk-forward engine, the CLI) leave such columns out,
    so that one target can never leak in as another's feature.
    """
    return bool(_LABEL_LIKE.search(str(name)))


def horizon_from_name(name) -> int | None:
    """The periods a label's name says it spans (``fwd_ret`` 1, ``fwd_ret_5`` 5), or None."""
    text = str(name)
    if text.lower() == "fwd_ret":
        return 1
    if not (is_label_like(text) or "ret" in text.lower()):
        return None
    match = _NAME_HORIZON.search(text)
    return int(match.group(1)) if match and int(match.group(1)) >= 1 else None


def known_horizon(y) -> tuple[int, str] | None:
    """``(horizon, "metadata" or "name")`` of a target Series: from make_labels'
    metadata in its ``attrs`` (a column of a labelled frame carries them), else its
    name; None when neither says (an array, an unnamed or unknown column)."""
    name = getattr(y, "name", None)
    if name is None or isinstance(y, pd.DataFrame):
        return None
    recorded = ((getattr(y, "attrs", None) or {}).get(LABELS_ATTR) or {}).get("horizons") or {}
    if name in recorded:
        return int(recorded[name]), "metadata"
    named = horizon_from_name(name)
    return None if named is None else (named, "name")


def warn_if_tail_overlaps_labels(estimator, y, embargo: int) -> None:
    """Warn when an early-stopping tail is embargoed by fewer dates than the target's
    horizon - 1: the last training labels are computed from the tail's own prices, so
    the tail flatters the model and picks a later iteration. Silent when the horizon
    is unknown (:func:`known_horizon`)."""
    known = known_horizon(y)
    if known is None or embargo >= known[0] - 1:
        return
    horizon, source = known
    warnings.warn(
        f"{type(estimator).__name__} early-stops on a chronological tail of its training "
        f"rows with embargo_days={embargo}, but the target {y.name!r} spans {horizon} "
        f"periods (by its {source}): the last training labels are computed from the "
        f"tail's prices, so the tail flatters the model. Pass embargo_days={horizon} "
        "(the walk-forward engine, train-all and CascadeStrategy set it from the label).",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def is_binary_target(y) -> bool:
    """Whether ``y`` holds exactly two distinct non-missing values."""
    values = pd.Series(np.asarray(y).ravel())
    if values.dtype.kind == "f":
        values = values[np.isfinite(values.to_numpy())]
    head = values.iloc[:1000]  # three distinct values early settle it without hashing every row
    if len(values) > len(head) and head.nunique(dropna=True) > 2:
        return False
    return values.nunique(dropna=True) == 2
