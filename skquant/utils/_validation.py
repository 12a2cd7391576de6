"""Checks of fit arguments shared by the trainers and the strategies."""

from __future__ import annotations

import re

import numpy as np

from skquant.utils._sklearn_compat import validate_data


def check_validation_pair(X_val, y_val) -> None:
    """Raise unless ``X_val`` and ``y_val`` are both given or both None."""
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")


def one_dimensional(values, what: str, hint: str = "") -> np.ndarray:
    """``values`` as a 1-D float64 array; one column of shape ``(n, 1)`` is flattened.

    ``what`` names the argument in the error (``"hit_rate: y_pred"``); ``hint`` is
    appended to it (say what to pass instead).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {np.shape(values)}{hint}.")
    return v


def validate_named(estimator, X, name: str = "X", **check_params):
    """``validate_data(estimator, X, reset=False, ...)`` whose errors name ``name``.

    scikit-learn's messages call every input "X" ("Input X contains NaN.", "X has 2
    features, but ..."); for the early-stopping rows that points at the wrong array,
    so they are rewritten to say ``X_val``.
    """
    try:
        return validate_data(estimator, X, reset=False, **check_params)
    except ValueError as exc:
        if name == "X":
            raise
        message = str(exc)
        renamed = re.sub(r"^(Input )?X\b", rf"\g<1>{name}", message)
        renamed = re.sub(r"\bby X\.$", f"by {name}.", renamed)
        # the named columns' error quotes scikit-learn's after them
        renamed = re.sub(r"\b(Input X\b|X\.iloc\[)", lambda m: m[0].replace("X", name, 1), renamed)
        if renamed == message and name not in message:
            renamed = f"{name}: {message}"
        raise ValueError(renamed) from exc


def several_outputs_error(estimator, n_outputs: int, use: str) -> ValueError:
    """The error for ``use`` (what needs one score a row: a trading position, a
    permutation importance) of an estimator that predicts ``n_outputs`` values a
    row: a quantile model of several ``alpha``, a multi-task net."""
    name = type(estimator).__name__
    alpha = getattr(estimator, "alpha", None)
    if alpha is None:  # set by the config the trainer resolved at fit
        alpha = (getattr(estimator, "config_", None) or {}).get("alpha")
    targets = list(getattr(estimator, "target_names_", None) or [])
    quantiles = np.ndim(alpha) == 1 and len(alpha) == n_outputs
    if quantiles and all(isinstance(a, (int, float)) and 0 < a < 1 for a in alpha):
        what = f"one per quantile of alpha={list(alpha)!r}"
        fix = "Fit alpha=0.5 (the median) to trade the model, or trade one column yourself."
    elif len(targets) == n_outputs:
        what = f"one per target {targets!r}"
        fix = (
            "Fit one single-target model per target to trade it (a multi-task net's "
            "kind='gain' is already the permutation importance of each target's loss: "
            "get_feature_importance(target=...))."
        )
    else:
        what = "one per output"
        fix = "Fit a model of one output."
    return ValueError(
        f"{use} needs one score a row, but {name} predicts {n_outputs} values a row ({what}). {fix}"
    )
