"""Chronological out-of-fold predictions never come from a model that saw the row."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge

from skquant.model_selection import chronological_oof_predict


class _LatestSeen(RegressorMixin, BaseEstimator):
    """Predicts the largest "time" value (column 0) among its training rows."""

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X, dtype=float)
        self.latest_ = X[:, 0].max()
        self.n_fit_ = len(X)
        self.weight_sum_ = None if sample_weight is None else float(np.sum(sample_weight))
        return self

    def predict(self, X):
        return np.full(len(X), self.latest_)


def test_oof_prediction_only_from_strictly_earlier_rows_by_position():
    n = 60
    X = np.column_stack([np.arange(n, dtype=float), np.random.default_rng(0).normal(size=n)])
    oof, has_oof = chronological_oof_predict(_LatestSeen(), X, np.zeros(n), n_splits=4)
    assert has_oof.sum() == n - 12  # 5 blocks of 12 rows, the first has no prediction
    assert not has_oof[:12].any() and np.isnan(oof[:12]).all()
    # the model that predicted row t saw only rows with time < t
    assert np.all(oof[has_oof] < X[has_oof, 0])
    # expanding window: each block's model saw every row before the block
    assert np.array_equal(np.unique(oof[has_oof]), [11.0, 23.0, 35.0, 47.0])


def test_oof_by_dates_in_a_shuffled_panel():
    dates = pd.date_range("2024-01-01", periods=20, freq="B")
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "symbol"])
    rng = np.random.default_rng(1)
    order = rng.permutation(len(index))
    t = index.get_level_values("date").asi8.astype(float)
    X = pd.DataFrame({"t": t, "f": rng.normal(size=len(t))}, index=index).iloc[order]
    y = pd.Series(np.zeros(len(X)), index=X.index)
    oof, has_oof = chronological_oof_predict(_LatestSeen(), X, y, n_splits=3)
    row_t = X["t"].to_numpy()
    assert np.all(oof[has_oof] < row_t[has_oof])
    # every row of one date is on the same side, and the first 5 dates have no prediction
    first_dates = X.index.get_level_values("date") < dates[5]
    assert np.array_equal(~has_oof, first_dates)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_dates=st.integers(6, 50),
    n_symbols=st.integers(1, 3),
    n_splits=st.integers(1, 5),
    embargo=st.integers(0, 6),
    horizon=st.integers(0, 6),
    seed=st.integers(0, 1000),
)
def test_oof_properties_on_shuffled_panels(n_dates, n_symbols, n_splits, embargo, horizon, seed):
    """No stacking fold looks at a date later than embargo dates before the block it
    serves; blocks are whole dates, contiguous and expanding, whatever the row order."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=n_dates)
    index = pd.MultiIndex.from_product([dates, [f"S{i}" for i in range(n_symbols)]])
    keep = rng.random(len(index)) >= 0.3
    keep[::n_symbols] = True  # every date keeps a row
    position = np.repeat(np.arange(n_dates), n_symbols)[keep]
    X = pd.DataFrame({"t": position.astype(float)}, index=index[keep])
    order = rng.permutation(len(X))
    X, position = X.iloc[order], position[order]
    name = f"fwd_ret_{horizon}" if horizon else "ret"  # a name that tells no horizon
    y = pd.Series(np.zeros(len(X)), index=X.index, name=name)
    if n_dates < n_splits + 1:
        with pytest.raises(ValueError, match=f"n_splits={n_splits} needs at least"):
            chronological_oof_predict(_LatestSeen(), X, y, n_splits=n_splits)
        return
    starts = [b[0] for b in np.array_split(np.arange(n_dates), n_splits + 1)]
    block = np.searchsorted(starts, position, side="right") - 1
    for given_embargo, dropped in ((embargo, embargo), (None, horizon)):
        latest = np.array(starts) - 1 - dropped  # the latest training date of each block
        served = (np.arange(n_splits + 1) > 0) & (latest >= 0)
        if not served.any():
            with pytest.raises(ValueError, match="leaves no training rows"):
                chronological_oof_predict(
                    _LatestSeen(), X, y, n_splits=n_splits, embargo=given_embargo
                )
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an embargo below the horizon
            oof, has_oof = chronological_oof_predict(
                _LatestSeen(), X, y, n_splits=n_splits, embargo=given_embargo
            )
        assert np.array_equal(has_oof, served[block])
        assert np.array_equal(oof[has_oof], latest[block][has_oof])
        assert np.all(oof[has_oof] < position[has_oof] - dropped)


def test_fit_params_are_sliced_to_the_training_rows():
    n = 30
    X = np.arange(n, dtype=float).reshape(-1, 1)
    weights = np.arange(n, dtype=float)
    oof, has_oof = chronological_oof_predict(
        _LatestSeen(), X, np.zeros(n), n_splits=2, fit_params={"sample_weight": weights}
    )
    assert has_oof.sum() == 20 and np.all(oof[has_oof] < X[has_oof, 0])


def test_oof_embargoes_the_label_horizon_y_tells_by_default():
    """A fwd_ret_5 label of the dates just before a predicted block is computed from
    the block's prices: by default they stay out of its training rows (audit: with
    embargo=0 by default, a 1-nearest-neighbour model's out-of-fold predictions on the
    first 3 rows of each block correlated 0.64 with their labels, over 10 seeds, on
    a feature with no information; -0.07 with the 5-date embargo)."""
    dates = pd.bdate_range("2024-01-01", periods=40)
    X = pd.DataFrame({"t": np.arange(40.0)}, index=dates)
    y = pd.Series(np.zeros(40), index=dates, name="fwd_ret_5")
    oof, has_oof = chronological_oof_predict(_LatestSeen(), X, y, n_splits=3)
    for start in (10, 20, 30):  # blocks of 10 dates; 5 dates before each are dropped
        assert has_oof[start] and oof[start] == start - 6
    assert np.all(oof[has_oof] <= X["t"].to_numpy()[has_oof] - 6)
    with pytest.warns(UserWarning, match=r"embargo=0, but the target 'fwd_ret_5' spans 5"):
        oof, _ = chronological_oof_predict(_LatestSeen(), X, y, n_splits=3, embargo=0)
    assert oof[10] == 9  # an explicit embargo is kept
    unnamed = chronological_oof_predict(_LatestSeen(), X, y.to_numpy(), n_splits=3)[0]
    assert unnamed[10] == 9  # no horizon told: no embargo


def test_oof_refuses_y_in_another_row_order():
    """The blocks take rows by position: a y sorted by symbol paired each row of a
    (date, symbol) panel with another row's label, silently (audit: labels up to 29
    dates away)."""
    dates = pd.bdate_range("2024-01-01", periods=30)
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "symbol"])
    X = pd.DataFrame({"t": np.arange(60.0)}, index=index)
    y = pd.Series(np.arange(60.0), index=index, name="y")
    with pytest.raises(ValueError, match=r"y's index differs from X's.*y.loc\[X.index\]"):
        chronological_oof_predict(Ridge(), X, y.sort_index(level="symbol"), n_splits=2)
    aligned = chronological_oof_predict(_LatestSeen(), X, y, n_splits=2)[0]
    for same_rows in (y.to_numpy(), y.reset_index(drop=True)):  # by position, as sklearn
        assert np.array_equal(
            chronological_oof_predict(_LatestSeen(), X, same_rows, n_splits=2)[0],
            aligned,
            equal_nan=True,
        )


def test_predict_proba_aligns_classes_unseen_in_early_folds():
    n = 60
    rng = np.random.default_rng(2)
    X = rng.normal(size=(n, 2))
    y = np.where(np.arange(n) < 40, np.arange(n) % 2, 2)  # class 2 appears late
    oof, has_oof = chronological_oof_predict(
        LogisticRegression(), X, y, n_splits=2, method="predict_proba"
    )
    assert oof.shape == (n, 3)
    assert np.allclose(oof[has_oof].sum(axis=1), 1.0)
    assert np.all(oof[20:40, 2] == 0.0)  # fold trained on rows 0-19 never saw class 2


def test_bad_arguments():
    X = np.zeros((5, 1))
    with pytest.raises(ValueError, match="n_splits"):
        chronological_oof_predict(Ridge(), X, np.zeros(5), n_splits=0)
    with pytest.raises(ValueError, match="at least 7 rows"):
        chronological_oof_predict(Ridge(), X, np.zeros(5), n_splits=6)
    with pytest.raises(ValueError, match="y has 4"):
        chronological_oof_predict(Ridge(), X, np.zeros(4))


def test_ensemble_rejects_one_weighted_class_whatever_the_seed():
    # zero weight on every row of one class leaves a one-class problem; the error
    # names it instead of a NaN deep inside the meta-learner (seed-independent)
    from skquant.models import EnsembleTrainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.tile([0, 1], 20)
    w = (y == 0).astype(float)
    for seed in range(3):
        est = EnsembleTrainer(
            task="classification",
            n_splits=2,
            hgb_max_iter=5,
            rf_n_estimators=3,
            random_state=seed,
            n_jobs=1,
        )
        with pytest.raises(ValueError, match="2 classes among the rows with a positive"):
            est.fit(X, y, sample_weight=w)
