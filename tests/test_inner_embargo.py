"""Embargo inside the trainers' own splits: the early-stopping tail and out-of-fold blocks.

A label of horizon h on row t is computed from prices up to t + h. An inner split
that puts training rows right against its held-out rows lets those labels see the
held-out period; ``embargo_days`` drops the dates in between.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin

from skquant import LightGBMTrainer, WalkForwardEngine, load_model_config, make_synthetic_panel
from skquant.model_selection import chronological_oof_predict
from skquant.utils._time import chronological_tail_split
from tests.test_walkforward import assert_fold_models_hold_out_their_latest_dates


def _panel_frame(n_dates, symbols, seed):
    dates = pd.bdate_range("2020-01-01", periods=n_dates, name="date")
    index = pd.MultiIndex.from_product([dates, symbols], names=["date", "symbol"])
    frame = pd.DataFrame({"x": np.arange(len(index), dtype=float)}, index=index)
    return frame.sample(frac=1.0, random_state=seed)  # any row order


@settings(max_examples=60, deadline=None)
@given(
    n_dates=st.integers(10, 80),
    n_symbols=st.integers(1, 4),
    fraction=st.floats(0.05, 0.5),
    embargo=st.integers(0, 6),
    seed=st.integers(0, 1000),
)
def test_tail_split_embargo_property(n_dates, n_symbols, fraction, embargo, seed):
    frame = _panel_frame(n_dates, [f"S{i}" for i in range(n_symbols)], seed)
    try:
        train, tail = chronological_tail_split(frame, fraction, embargo)
    except ValueError as exc:
        assert "cannot split" in str(exc)
        return
    dates = frame.index.get_level_values("date")
    distinct = np.unique(dates)
    train_dates, tail_dates = np.unique(dates[train]), np.unique(dates[tail])
    assert train_dates.max() < tail_dates.min()
    between = distinct[(distinct > train_dates.max()) & (distinct < tail_dates.min())]
    assert len(between) == embargo  # exactly the embargo, whole dates
    assert len(tail_dates) == int(np.ceil(n_dates * fraction))
    assert set(train).isdisjoint(tail)
    assert train_dates.min() == distinct[0]  # nothing older is dropped


def test_tail_split_embargo_without_dates_counts_rows():
    train, tail = chronological_tail_split(np.zeros((20, 1)), 0.25, embargo=3)
    np.testing.assert_array_equal(tail, np.arange(15, 20))
    np.testing.assert_array_equal(train, np.arange(12))


class _FitDates(RegressorMixin, BaseEstimator):
    """Records the latest training date; predicts it for every row."""

    def fit(self, X, y):
        self.last_ = X.index.get_level_values("date").max()
        return self

    def predict(self, X):
        return np.full(len(X), self.last_.toordinal(), dtype=float)


@pytest.mark.parametrize("embargo", [0, 2, 5])
def test_oof_blocks_are_embargoed(embargo):
    frame = _panel_frame(60, ["A", "B"], seed=1)
    oof, has_oof = chronological_oof_predict(
        _FitDates(), frame, frame["x"], n_splits=3, embargo=embargo
    )
    dates = frame.index.get_level_values("date")
    distinct = np.unique(dates)
    for row in np.flatnonzero(has_oof):
        last_train = pd.Timestamp.fromordinal(int(oof[row]))
        first_date_of_block = dates[has_oof & (oof == oof[row])].min()
        gap = ((distinct > last_train) & (distinct < first_date_of_block)).sum()
        assert gap == embargo


def test_oof_embargo_too_large():
    frame = _panel_frame(8, ["A"], seed=0)
    with pytest.raises(ValueError, match="embargo=10 leaves no training rows"):
        chronological_oof_predict(_FitDates(), frame, frame["x"], n_splits=3, embargo=10)
    with pytest.raises(ValueError, match="embargo must be an integer >= 0"):
        chronological_oof_predict(_FitDates(), frame, frame["x"], n_splits=3, embargo=-1)


def test_trainer_early_stopping_tail_is_embargoed():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2018-01-01", periods=400, name="date")
    X = pd.DataFrame(rng.normal(size=(400, 4)), index=dates, columns=list("abcd"))
    y = pd.Series(X["a"] * 0.5 + rng.normal(size=400), index=dates, name="fwd_ret_5")
    common = dict(n_estimators=200, learning_rate=0.1, n_jobs=1, validation_fraction=0.2)
    trainer = LightGBMTrainer(early_stopping_rounds=20, embargo_days=5, **common).fit(X, y)
    assert trainer.config_["embargo_days"] == 5
    # the booster trained on the rows before the 5 embargoed dates and the 80-date tail
    reference = LightGBMTrainer(
        early_stopping_rounds=0, **{**common, "n_estimators": trainer.best_iteration_}
    ).fit(X.iloc[: 400 - 80 - 5], y.iloc[: 400 - 80 - 5])
    np.testing.assert_allclose(trainer.predict(X), reference.predict(X))


def test_engine_passes_its_embargo_to_named_trainers():
    """Each fold's trainer drops the engine's (or its config's longer) embargo before its tail."""
    panel = make_synthetic_panel(n_symbols=3, n_days=260, random_state=0)
    kwargs = dict(
        target="fwd_ret_5", return_col="fwd_ret", train_days=100, test_days=50, step_days=50
    )
    engine = WalkForwardEngine(panel, embargo_days=5, min_train_samples=1, **kwargs)
    fast = {"n_estimators": 10, "early_stopping_rounds": 3, "n_jobs": 1}
    # a config's longer embargo is kept, a shorter one is raised to the folds' embargo
    for own, expected in [(None, 5), (8, 8), (2, 5)]:
        overrides = fast if own is None else {**fast, "embargo_days": own}
        config = load_model_config("lightgbm", overrides=overrides)
        result = engine.run("lightgbm", config)
        assert_fold_models_hold_out_their_latest_dates(engine, result, config, expected)


def test_cascade_stages_are_embargoed():
    from skquant import CascadeStrategy

    frame = _panel_frame(60, ["A", "B"], seed=2).sort_index()
    y = frame["x"].rename("target")
    cascade = CascadeStrategy([_FitDates(), _FitDates()], n_splits=3, embargo_days=4)
    cascade.fit(frame, y)
    oof = cascade.oof_predictions_.iloc[:, 0].to_numpy()
    dates = frame.index.get_level_values("date")
    distinct = np.unique(dates)
    for row in np.flatnonzero(~np.isnan(oof)):
        last_train = pd.Timestamp.fromordinal(int(oof[row]))
        first_date_of_block = dates[oof == oof[row]].min()
        assert ((distinct > last_train) & (distinct < first_date_of_block)).sum() == 4
    assert cascade.config_["embargo_days"] == 4
