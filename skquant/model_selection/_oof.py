"""Chronological stacking: out-of-fold predictions that never look ahead.

scikit-learn's ``StackingRegressor`` builds the meta-learner's inputs with
``cross_val_predict`` over a partition (KFold by default), so most rows are predicted
by a model that was fitted on *later* rows: the future leaks into the meta-learner.
``TimeSeriesSplit`` is refused there because it is not a partition. The helper
below builds expanding-window out-of-fold predictions instead: the rows are cut into
``n_splits + 1`` consecutive time blocks and every block after the first is predicted
by a clone fitted only on the blocks strictly before it. The first block has no
out-of-fold prediction.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from skquant.model_selection._base import check_same_rows
from skquant.utils._rows import align_proba, take_rows
from skquant.utils._target import tail_embargo
from skquant.utils._time import dates_of, warn_embargo_in_rows, warn_rows_as_dates

__all__ = ["chronological_oof_predict"]


def _time_blocks(X, n_splits: int) -> list[np.ndarray]:
    """Row positions of ``n_splits + 1`` consecutive time blocks, oldest first.

    With dates (a ``DatetimeIndex`` or a datetime level of a ``MultiIndex``) the blocks
    cut the sorted distinct dates, so all rows of one date fall in one block whatever
    the row order; otherwise the rows are taken to be in time order.
    """
    n_blocks = n_splits + 1
    dates = dates_of(X)
    if dates is None:
        n = len(X)
        if n < n_blocks:
            raise ValueError(
                f"n_splits={n_splits} needs at least {n_blocks} rows for "
                f"{n_blocks} time blocks, got {n}."
            )
        return [np.asarray(b) for b in np.array_split(np.arange(n), n_blocks)]
    unique, inverse = np.unique(dates, return_inverse=True)
    if len(unique) < n_blocks:
        raise ValueError(
            f"n_splits={n_splits} needs at least {n_blocks} distinct dates for "
            f"{n_blocks} time blocks, got {len(unique)}."
        )
    date_blocks = np.array_split(np.arange(len(unique)), n_blocks)
    block_of_date = np.empty(len(unique), dtype=np.intp)
    for b, positions in enumerate(date_blocks):
        block_of_date[positions] = b
    block_of_row = block_of_date[np.ravel(inverse)]
    return [np.flatnonzero(block_of_row == b) for b in range(n_blocks)]


def _before_embargo(X, train: np.ndarray, test: np.ndarray, embargo: int) -> np.ndarray:
    """Mask of the ``train`` rows older than the ``embargo`` dates (rows) before ``test``."""
    dates = dates_of(X)
    if dates is None:
        return train < test.min() - embargo
    earlier = np.unique(dates[train])
    first_test = dates[test].min()
    cut = earlier[earlier < first_test]
    if len(cut) <= embargo:
        return np.zeros(len(train), dtype=bool)
    return dates[train] < cut[len(cut) - embargo]


def chronological_oof_predict(
    estimator, X, y, *, n_splits=5, method="predict", fit_params=None, embargo=None
):
    """Out-of-fold predictions from expanding-window, time-ordered folds.

    The rows are cut into ``n_splits + 1`` consecutive time blocks (by distinct dates
    when ``X`` has a ``DatetimeIndex`` or a datetime ``MultiIndex`` level, else by row
    position). Block ``k >= 1`` is predicted by a clone of ``estimator`` fitted only
    on blocks ``0 .. k-1``, i.e. on strictly earlier rows. Rows of block 0 get no
    out-of-fold prediction.

    Parameters
    ----------
    estimator : estimator object
        Unfitted (or fitted; it is cloned) estimator with ``fit`` and ``method``.
    X : {array-like, DataFrame} of shape (n_samples, n_features)
        Features, rows in time order unless the index carries dates.
    y : array-like of shape (n_samples,)
        Target.
    n_splits : int, default=5
        Number of predicted blocks (there are ``n_splits + 1`` blocks in all).
    method : str, default="predict"
        The estimator method giving the predictions, e.g. ``"predict_proba"``.
    fit_params : dict, default=None
        Keyword arguments for ``fit``; array-likes of length ``n_samples`` (such as
        ``sample_weight``) are sliced to the training rows of each fold.
    embargo : int, default=None
        Dates (rows, with a warning, when ``X`` has no dates) dropped from each
        fold's training rows just before the predicted block, so that labels of
        horizon h need ``embargo >= h`` to stay out of the block; a block left with
        no training row gets no prediction. None is the horizon ``y`` tells
        (``make_labels`` metadata in its ``attrs``, else its name such as
        ``fwd_ret_5``), else 0 with a warning; an explicit value below that
        horizon - 1 warns.

    Returns
    -------
    oof : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Out-of-fold predictions; NaN where ``has_oof`` is False.
    has_oof : ndarray of bool of shape (n_samples,)
        Whether the row has an out-of-fold prediction (False for the first block).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skquant.model_selection import chronological_oof_predict
    >>> X = np.arange(12.0).reshape(-1, 1)
    >>> oof, has_oof = chronological_oof_predict(Ridge(), X, X.ravel(), n_splits=2)
    >>> has_oof.tolist()
    [False, False, False, False, True, True, True, True, True, True, True, True]
    """
    if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) or n_splits < 1:
        raise ValueError(f"n_splits must be an integer >= 1, got {n_splits!r}.")
    if embargo is not None and (
        not isinstance(embargo, (int, np.integer)) or isinstance(embargo, bool) or embargo < 0
    ):
        raise ValueError(f"embargo must be an integer >= 0 or None, got {embargo!r}.")
    told = embargo is not None
    # the last training labels before a block are computed from the block's prices
    embargo = tail_embargo(
        "chronological_oof_predict",
        y,
        embargo,
        held_out="each predicted time block",
        param="embargo",
    )
    n = len(X)
    y = np.asarray(y) if not hasattr(y, "iloc") else y
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}.")
    if dates_of(X) is not None and dates_of(y) is not None:
        check_same_rows(X, y)  # both dated: another row order pairs rows with other labels
    fit_params = dict(fit_params or {})
    blocks = _time_blocks(X, n_splits)
    if dates_of(X) is None:  # blocks of rows: right for one series, wrong on a panel
        if embargo:
            warn_embargo_in_rows(embargo)
        else:
            warn_rows_as_dates("chronological_oof_predict", groups=False)
    classes = np.unique(np.asarray(y)) if method == "predict_proba" else None
    has_oof = np.zeros(n, dtype=bool)
    oof = None
    for k in range(1, len(blocks)):
        train = np.sort(np.concatenate(blocks[:k]))
        if embargo:
            train = train[_before_embargo(X, train, blocks[k], embargo)]
            if len(train) == 0:
                continue
        test = blocks[k]
        params = {
            key: take_rows(value, train)
            if hasattr(value, "__len__") and not isinstance(value, str) and len(value) == n
            else value
            for key, value in fit_params.items()
        }
        model = clone(estimator).fit(take_rows(X, train), take_rows(y, train), **params)
        pred = np.asarray(getattr(model, method)(take_rows(X, test)), dtype=float)
        if method == "predict_proba" and classes is not None:
            pred = align_proba(pred, model.classes_, classes)
        if oof is None:
            oof = np.full((n,) + pred.shape[1:], np.nan)
        oof[test] = pred
        has_oof[test] = True
    if oof is None:
        raise ValueError(
            f"embargo={embargo}{'' if told else ' (the horizon y tells)'} leaves no "
            f"training rows before any of the {n_splits} predicted blocks; lower embargo "
            "(embargo_days of EnsembleTrainer, MetaLearningTrainer and CascadeStrategy, "
            "which call this function) or n_splits."
        )
    return oof, has_oof
