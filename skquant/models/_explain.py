"""The importance kinds beyond a model's own (``"gain"``): SHAP values and permutation.

``get_feature_importance(kind=...)`` of every trainer (``BaseTrainer``) calls these.
LightGBM and XGBoost give exact SHAP values of their trees themselves
(``pred_contrib``); every other family goes through the ``shap`` package (the
``shap`` extra), on its prediction function with a small background sample of ``X``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.inspection import permutation_importance

from skquant.metrics import get_scorer
from skquant.utils._history import history_periods
from skquant.utils._optional import import_optional
from skquant.utils._sklearn_compat import _num_samples
from skquant.utils._warnings import each_warning_once

IMPORTANCE_KINDS = ("gain", "shap", "permutation")
# Shuffles per feature of kind="permutation", with a fixed seed so it repeats.
PERMUTATION_REPEATS = 5
# Rows of X (evenly spaced) the shap package integrates a hidden feature over.
SHAP_BACKGROUND_ROWS = 50


def check_kind(kind) -> None:
    """ValueError naming ``kind`` and the allowed values unless it is one of them."""
    if not (isinstance(kind, str) and kind in IMPORTANCE_KINDS):
        raise ValueError(
            f"Unknown importance kind={kind!r}; allowed: {', '.join(map(repr, IMPORTANCE_KINDS))}."
        )


def mean_abs(values: np.ndarray) -> np.ndarray:
    """Mean absolute SHAP value per feature, over the rows and the outputs.

    ``values`` has shape (n_samples, n_features) or (n_samples, n_features,
    n_outputs): several outputs (the classes of a multiclass model, the quantiles of a
    quantile model) are averaged.
    """
    values = np.abs(np.asarray(values, dtype=float))
    return values.reshape(values.shape[0], values.shape[1], -1).mean(axis=(0, 2))


def without_bias(contrib, n_features: int) -> np.ndarray:
    """A tree library's ``pred_contrib`` output as (n_samples, n_features, n_outputs).

    LightGBM and XGBoost give one block of ``n_features + 1`` columns per output (one
    output, or one per class), the last column of a block being the bias (the
    expected raw score); the bias is dropped.
    """
    contrib = np.asarray(contrib, dtype=float)
    blocks = contrib.reshape(len(contrib), -1, n_features + 1)[:, :, :-1]
    return blocks.transpose(0, 2, 1)


def check_rows_explainable(estimator) -> None:
    """ValueError when the output for a row reads the rows before it.

    The ``shap`` package evaluates masked copies of one row side by side, without the
    row's past: a model whose output for row t depends on earlier rows (a causal
    feature model's ``history_periods_``: a regime filter's trailing volatility; a
    sequence net's window of ``seq_len`` rows) would be explained as another function
    (each masked copy read as the history of the next), and its SHAP values would
    say nothing of the model.
    """
    name = type(estimator).__name__
    periods = history_periods(estimator)
    if periods <= 0:
        return
    if getattr(estimator, "history_periods_", None):
        reason = f"the {periods} earlier periods of its symbol (history_periods_={periods})"
    elif getattr(estimator, "seq_len", None) == periods + 1:  # a sequence net: its window
        reason = f"the {periods} rows before it (seq_len={periods + 1})"
    else:  # a pipeline or meta-estimator around such a model
        reason = f"the {periods} earlier periods of its symbol, read by a model inside it"
    raise ValueError(
        f"kind='shap' explains rows one at a time, but the output of {name} for a row "
        f"depends on {reason}: the shap package would explain masked copies of a row "
        "read as each other's history, not this model. Use kind='gain'"
        + (
            ", or kind='permutation' on rows indexed by date (and symbol)."
            if is_classifier(estimator) or is_regressor(estimator)
            else "."
        )
    )


def package_shap_values(predict: Callable, Xa: np.ndarray, feature_names) -> np.ndarray:
    """SHAP values of ``predict`` on the rows ``Xa`` through the ``shap`` package.

    A hidden feature takes the values of at most ``SHAP_BACKGROUND_ROWS`` rows of
    ``Xa`` (evenly spaced, so the result repeats); shap's permutation explainer (seed
    0, 10 antithetic permutations per row: exact for a model without interactions
    of more than two features) gives values that add up to each prediction minus
    the background mean.

    Returns
    -------
    values : ndarray of shape (n_samples, n_features) or (n_samples, n_features, n_outputs)
    """
    shap = import_optional("shap")
    rows = np.unique(np.linspace(0, len(Xa) - 1, min(len(Xa), SHAP_BACKGROUND_ROWS)).astype(int))
    masker = shap.maskers.Independent(Xa[rows], max_samples=len(rows))
    explainer = shap.Explainer(
        predict, masker, algorithm="permutation", feature_names=list(feature_names), seed=0
    )
    return np.asarray(explainer(Xa, max_evals="auto", silent=True).values)


def permutation_scorer(estimator):
    """The score ``kind="permutation"`` measures the decrease of.

    A regressor's is the Sharpe ratio of trading the sign of its predictions
    (``get_scorer("sharpe")``); a binary classifier's the hit rate of its direction
    calls (``get_scorer("hit_rate")``: Sharpe on +1/-1 outcomes is a steep function of
    the hit rate, so the rate itself reads more plainly); a multiclass classifier,
    which takes no position, is scored by its accuracy.
    """
    if not is_classifier(estimator):
        return get_scorer("sharpe")
    return get_scorer("hit_rate") if len(estimator.classes_) == 2 else "accuracy"


def permutation_scores(estimator, X, y) -> np.ndarray:
    """Mean decrease of :func:`permutation_scorer` per feature of ``X`` on ``(X, y)``."""
    n_rows, n_labels = _num_samples(X), _num_samples(y)
    if n_rows != n_labels:
        raise ValueError(
            f"kind='permutation': X has {n_rows} rows but y has {n_labels}; pass the labels "
            "of X's rows."
        )
    # the scorer runs 1 + n_features * PERMUTATION_REPEATS times on the same y: a
    # warning about y (a multi-period return booked every period) came 36 times for
    # 7 features
    with each_warning_once():
        result = permutation_importance(
            estimator,
            X,
            y,
            scoring=permutation_scorer(estimator),
            n_repeats=PERMUTATION_REPEATS,
            random_state=0,
        )
    return result.importances_mean


def as_model_input(Xa: np.ndarray, feature_names_in) -> np.ndarray | pd.DataFrame:
    """Rows as the model was fitted on them: a DataFrame with its columns, if it had names."""
    if feature_names_in is None:
        return Xa
    return pd.DataFrame(Xa, columns=feature_names_in)
