"""Embargo inside the trainers' own splits: the early-stopping tail and out-of-fold blocks.

A label of horizon h on row t is computed from prices up to t + h. An inner split
that puts training rows right against its held-out rows lets those labels see the
held-out period; ``embargo_days`` drops the dates in between.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skquant import (
    CascadeStrategy,
    LightGBMTrainer,
    MetaLearningTrainer,
    RewardBasedTrainer,
    SingleTaskStrategy,
    WalkForwardEngine,
    WalkForwardSplit,
    load_model_config,
    make_synthetic_panel,
)
from skquant.model_selection import chronological_oof_predict
from skquant.utils._time import chronological_tail_split, dates_of
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
    with pytest.warns(UserWarning, match="counted in rows"):
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
    # an embargo the user never passed says where it came from
    with pytest.raises(ValueError, match=r"embargo=10 \(the horizon y tells\) leaves no"):
        chronological_oof_predict(_FitDates(), frame, frame["x"].rename("fwd_ret_10"), n_splits=3)
    # a stacking trainer's user knows the parameter as embargo_days (it named embargo only)
    X, y = frame[["x"]], frame["x"].rename("y")
    with pytest.raises(ValueError, match="embargo=10 leaves .*embargo_days of EnsembleTrainer"):
        MetaLearningTrainer(estimators=[Ridge()], n_splits=3, embargo_days=10).fit(X, y)
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


def test_engine_embargo_of_zero_reaches_its_trainers_without_a_warning():
    """The engine fits each fold's trainer on an array target, which tells no horizon:
    an engine embargo of 0 (told, on a one-period label) left the trainer's None in
    place, which now warns that its embargo is 0 for want of a horizon. The engine's
    resolved embargo, 0 included, is the trainer's."""
    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    engine = WalkForwardEngine(
        panel, target="fwd_ret", embargo_days=0, train_days=80, test_days=40,
        step_days=40, min_train_samples=1,
    )  # fmt: skip
    config = load_model_config(
        "lightgbm", overrides={"n_estimators": 10, "early_stopping_rounds": 3, "n_jobs": 1}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = engine.run("lightgbm", config)
    assert not [w for w in caught if "embargo_days=None" in str(w.message)]
    assert engine.last_model_.config_["embargo_days"] == 0 and len(result.folds) >= 2


def test_cascade_stages_are_embargoed():
    from skquant import CascadeStrategy

    frame = _panel_frame(60, ["A", "B"], seed=2).sort_index()
    y = (2 * frame["x"]).rename("target")  # frame["x"] itself is refused as the target
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


# --------------------------------------------------------------------------- composites
# A composite trainer (meta-learning, reward-based, cascade) builds its own bases or
# stages; each of those that early-stops on a tail of its rows drops at least the
# composite's embargo before it, or a larger one of its own.

_FAST_LGB = dict(n_estimators=10, early_stopping_rounds=3, n_jobs=1)


def _gap_in_dates(dates, train, tail) -> int:
    """Dates strictly between the last training row and the first tail row."""
    position = np.ravel(np.unique(dates, return_inverse=True)[1])
    return int(position[tail].min() - position[train].max() - 1)


@pytest.fixture
def tail_gaps(monkeypatch):
    """Records, for every early-stopping tail a trainer cuts, the dates between it and
    the older rows it trains on; rows without dates are taken to be ``tail_gaps.dates``."""
    import skquant.models._base as base

    class Gaps(list):
        dates = None

    gaps = Gaps()
    cut = base.chronological_tail_split

    def spy(X, fraction, embargo=0):
        train, tail = cut(X, fraction, embargo)
        dates = dates_of(X)
        gaps.append(_gap_in_dates(gaps.dates if dates is None else dates, train, tail))
        return train, tail

    monkeypatch.setattr(base, "chronological_tail_split", spy)
    return gaps


def _panel_xy(n_dates=120):
    frame = _panel_frame(n_dates, ["A", "B", "C"], seed=3).sort_index()
    rng = np.random.default_rng(0)
    X = frame.assign(z=rng.normal(size=len(frame)))
    return X, (X["z"] + 0.1 * rng.normal(size=len(X))).rename("target")


@pytest.mark.parametrize("own, expected", [(None, 4), (6, 6), (2, 4)])
def test_meta_learning_embargoes_its_bases_tails(tail_gaps, own, expected):
    X, y = _panel_xy()
    base = LightGBMTrainer(embargo_days=own, **_FAST_LGB)
    meta = MetaLearningTrainer(estimators=[base, "ridge"], n_splits=2, embargo_days=4).fit(X, y)
    assert len(tail_gaps) == 3  # two out-of-fold fits and the refit
    assert set(tail_gaps) == {expected}
    assert meta.estimators_[0][1].config_["embargo_days"] == expected
    assert base.embargo_days == own  # the estimator given is never changed


def test_meta_learning_embargoes_pipeline_bases(tail_gaps):
    X, y = _panel_xy()
    pipe = make_pipeline(StandardScaler(), LightGBMTrainer(**_FAST_LGB))
    MetaLearningTrainer(
        estimators=[pipe.set_output(transform="pandas")], n_splits=2, embargo_days=4
    ).fit(X, y)
    assert tail_gaps and set(tail_gaps) == {4}


@pytest.mark.parametrize("own, expected", [(None, 4), (6, 6)])
def test_reward_based_embargoes_its_base_tail(tail_gaps, own, expected):
    X, y = _panel_xy()
    base = LightGBMTrainer(embargo_days=own, **_FAST_LGB)
    model = RewardBasedTrainer(estimator=base, embargo_days=4).fit(X, y)
    assert tail_gaps == [expected]
    assert model.model_.config_["embargo_days"] == expected
    assert model.config_["embargo_days"] == 4


def test_cascade_embargoes_its_stages_tails(tail_gaps):
    X, y = _panel_xy()
    cascade = CascadeStrategy(
        [LightGBMTrainer(**_FAST_LGB), LightGBMTrainer(**_FAST_LGB)], n_splits=2, embargo_days=4
    ).fit(X, y)
    assert len(tail_gaps) == 4  # stage 0, its two out-of-fold fits, stage 1
    assert set(tail_gaps) == {4}
    assert [s.config_["embargo_days"] for s in cascade.stages_] == [4, 4]


@pytest.mark.parametrize(
    "name, config",
    [
        ("meta_learning", {"estimators": [LightGBMTrainer(**_FAST_LGB)], "n_splits": 2}),
        ("reward_based", {"estimator": LightGBMTrainer(**_FAST_LGB)}),
    ],
)
def test_engine_embargo_reaches_the_bases_of_named_composites(tail_gaps, name, config):
    panel = make_synthetic_panel(n_symbols=3, n_days=260, random_state=0)
    engine = WalkForwardEngine(
        panel,
        target="fwd_ret_5",
        return_col="fwd_ret",
        train_days=100,
        test_days=50,
        step_days=50,
        min_train_samples=1,
        embargo_days=5,
    )
    engine.run(name, config, metrics=["sharpe"])
    assert tail_gaps and set(tail_gaps) == {5}


# --------------------------------------------------------------------------- no dates
_IN_ROWS = "counted in rows, not dates"


def test_tail_split_warns_when_the_embargo_is_counted_in_rows():
    with pytest.warns(UserWarning, match=_IN_ROWS) as record:
        chronological_tail_split(np.zeros((20, 1)), 0.25, embargo=3)
    assert len(record) == 1
    assert record[0].filename == __file__  # it points at the caller's line
    assert 'set_output(transform="pandas")' in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chronological_tail_split(np.zeros((20, 1)), 0.25, embargo=0)
        chronological_tail_split(_panel_frame(20, ["A"], seed=0), 0.25, embargo=3)


def test_oof_warns_when_the_embargo_is_counted_in_rows():
    frame = _panel_frame(30, ["A", "B"], seed=0).sort_index()
    with pytest.warns(UserWarning, match=_IN_ROWS) as record:
        chronological_oof_predict(Ridge(), frame.to_numpy(), frame["x"], n_splits=2, embargo=2)
    assert len(record) == 1
    # without an embargo the blocks are still rows: that warns too (a panel of arrays
    # in symbol order had every stacking prediction move with later rows: audit)
    with pytest.warns(UserWarning, match="carries no dates"):
        chronological_oof_predict(Ridge(), frame.to_numpy(), frame["x"], n_splits=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chronological_oof_predict(Ridge(), frame, frame["x"], n_splits=2, embargo=2)


def test_pipeline_tail_embargo_in_dates_with_pandas_output(tail_gaps):
    """After StandardScaler the trainer gets an array: it warns, and the embargo of 5
    spans about 5 / 3 dates; with pandas output the index, and the dates, reach it."""
    X, y = _panel_xy()
    tail_gaps.dates = dates_of(X)  # the dates of the scaler's output rows
    with pytest.warns(UserWarning, match=_IN_ROWS):
        make_pipeline(StandardScaler(), LightGBMTrainer(embargo_days=5, **_FAST_LGB)).fit(X, y)
    assert tail_gaps == [1]
    tail_gaps.clear()
    pipe = make_pipeline(StandardScaler(), LightGBMTrainer(embargo_days=5, **_FAST_LGB))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        pipe.set_output(transform="pandas").fit(X, y)
    assert tail_gaps == [5]


def test_the_embargo_in_rows_warning_comes_once_per_cross_validate_or_search():
    """A trainer behind StandardScaler warned that its embargo is counted in rows at
    every fit of scikit-learn's loop: 5 copies from one cross_validate, 11 from one
    GridSearchCV (10 fits and the refit). It now comes once per call of the loop (the
    search's refit, outside the loop, says it once more), at the caller's line; a
    trainer fitted on its own still warns at each fit."""
    from sklearn.model_selection import GridSearchCV, cross_validate

    X, y = _panel_xy(n_dates=200)
    pipe = make_pipeline(StandardScaler(), LightGBMTrainer(embargo_days=5, **_FAST_LGB))
    cv = WalkForwardSplit(train_days=60, test_days=20, step_days=20, min_train_samples=1,
                          embargo_days=5)  # fmt: skip
    search = GridSearchCV(pipe, {"lightgbmtrainer__n_estimators": [5, 10]}, cv=cv)

    def in_rows(run):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
        said = [w for w in caught if _IN_ROWS in str(w.message)]
        assert {w.filename for w in said} == {__file__}
        return len(said)

    assert cv.get_n_splits(X) >= 5
    assert in_rows(lambda: cross_validate(pipe, X, y, cv=cv)) == 1
    assert in_rows(lambda: cross_validate(pipe, X, y, cv=cv)) == 1  # a second call: again
    assert in_rows(lambda: search.fit(X, y)) == 2  # the folds' and the refit's
    assert in_rows(lambda: [pipe.fit(X, y) for _ in range(2)]) == 2  # outside any loop


def test_engine_embargo_reaches_a_given_estimators_tails(tail_gaps):
    """engine.run(estimator=...) left the estimator's own early-stopping tail at its
    YAML embargo of 0 (a 5-day target: 4 dates of training labels reaching into it);
    the engine now fits a copy embargoed as its folds are, Pipeline steps included, and
    the caller's estimator is left as it was."""
    panel = make_synthetic_panel(n_symbols=3, n_days=260, random_state=0)
    engine = WalkForwardEngine(panel, target="fwd_ret_5", return_col="fwd_ret", train_days=100,
                               test_days=50, step_days=50, min_train_samples=1)  # fmt: skip
    trainer = LightGBMTrainer(**_FAST_LGB)
    pipe = make_pipeline(StandardScaler(), LightGBMTrainer(**_FAST_LGB))
    strategy = SingleTaskStrategy("lightgbm", dict(_FAST_LGB))  # builds its trainer by name
    for estimator in (trainer, pipe.set_output(transform="pandas"), strategy):
        tail_gaps.clear()
        engine.run(estimator=estimator, metrics=["sharpe"])
        assert tail_gaps and set(tail_gaps) == {engine.embargo_days_} == {5}, estimator
    assert trainer.embargo_days is None and pipe[-1].embargo_days is None
    assert strategy.embargo_days is None


def test_cascade_auto_embargoes_each_stage_tail_by_its_own_horizon(tail_gaps):
    """With "auto" the out-of-fold embargo is the earlier stages' longest horizon, but a
    stage's own early-stopping tail needs its own target's: a chain fwd_ret -> fwd_ret_5
    early-stopped its last stage with 1 date, a one-stage fwd_ret_5 cascade with 0."""
    X, y = _panel_xy()
    targets = pd.DataFrame({"fwd_ret": y, "fwd_ret_5": y.rolling(5).mean().bfill()})
    stages = [LightGBMTrainer(**_FAST_LGB), LightGBMTrainer(**_FAST_LGB)]
    cascade = CascadeStrategy(stages, n_splits=2).fit(X, targets)
    assert cascade.embargo_days_ == 1  # the blocks: the first stage's horizon
    assert [s.config_["embargo_days"] for s in cascade.stages_] == [1, 5]
    single = CascadeStrategy([LightGBMTrainer(**_FAST_LGB)], target_names=["fwd_ret_5"])
    single.fit(X, targets)
    assert single.embargo_days_ == 0 and single.stages_[0].config_["embargo_days"] == 5


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: LightGBMTrainer(n_estimators=10, n_jobs=1, **kw),
        pytest.param(
            lambda **kw: __import__("skquant").MLPTrainer(epochs=2, device="cpu", **kw),
            marks=pytest.mark.requires("torch", "skorch"),
        ),
    ],
)
def test_a_trainers_tail_is_embargoed_by_the_targets_horizon_by_default(make):
    """A trainer fitted on fwd_ret_5 (or TTH from make_labels) as the guide does
    early-stopped on a tail embargoed by 0 dates (its YAML default): the last training
    labels came from the tail's prices. Its default embargo is now the horizon the
    target tells (metadata, else name); an explicit smaller one warns."""
    from skquant import make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=2, n_days=200, random_state=0)
    X = panel[["ret_1", "ret_5", "ret_21"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for target in ("fwd_ret_5", "TTH"):  # 5 periods, by make_labels' metadata
            assert make().fit(X, panel[target]).config_["embargo_days"] == 5
        named = panel["fwd_ret_5"].rename("ret_10d")
        named.attrs = {}
        assert make().fit(X, named).config_["embargo_days"] == 10  # by its name
        assert make(embargo_days=4).fit(X, panel["fwd_ret_5"]).config_["embargo_days"] == 4
        assert make().fit(X, panel["fwd_ret"]).config_["embargo_days"] == 1
        unnamed = panel["fwd_ret_5"].to_numpy()  # no name: nothing known
        assert make(embargo_days=0).fit(X, unnamed).config_["embargo_days"] == 0  # as told
    # the horizon lost with the name: the embargo silently became 0 (a 5-period label
    # on the last training rows computed from the tail's prices); now it says so
    with pytest.warns(
        UserWarning, match="embargo_days=None.* the target \\(an array or an unnamed"
    ):
        assert make().fit(X, unnamed).config_["embargo_days"] == 0
    for target, source in (("fwd_ret_5", "metadata"), ("TTH", "metadata")):
        with pytest.warns(UserWarning, match=f"'{target}' spans 5 periods \\(by its {source}\\)"):
            make(embargo_days=0).fit(X, panel[target])
    with pytest.warns(UserWarning, match="'ret_10d' spans 10 periods \\(by its name\\)"):
        make(embargo_days=3).fit(X, named)


def test_default_tail_gap_is_the_horizon(tail_gaps):
    """The dates actually dropped before the tail, not only what config_ says."""
    X, y = _panel_xy()
    LightGBMTrainer(**_FAST_LGB).fit(X, y.rename("fwd_ret_5"))
    LightGBMTrainer(**_FAST_LGB).fit(X, y.rename("target"))  # no horizon known
    assert tail_gaps == [5, 0]


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: __import__("skquant").EnsembleTrainer(
            hgb_max_iter=5, rf_n_estimators=5, n_splits=3, **kw
        ),
        lambda **kw: MetaLearningTrainer(
            estimators=[Ridge(), ("r10", Ridge(alpha=10.0))], n_splits=3, **kw
        ),
    ],
)
def test_out_of_fold_blocks_are_embargoed_by_the_targets_horizon_by_default(make, monkeypatch):
    """The stacking ensemble's and the meta-learner's out-of-fold blocks were embargoed
    by 0 dates unless told: a base fitted on labels computed from the block's prices."""
    import skquant.models._ensemble as ensemble
    import skquant.models._meta as meta

    embargoes = []
    for module in (ensemble, meta):
        original = module.chronological_oof_predict

        def spy(*args, _original=original, **kwargs):
            embargoes.append(kwargs.get("embargo"))
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, "chronological_oof_predict", spy)
    X, y = _panel_xy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert make().fit(X, y.rename("fwd_ret_5")).config_["embargo_days"] == 5
    assert embargoes and set(embargoes) == {5}
    with pytest.warns(
        UserWarning, match="out-of-fold blocks .* embargo_days=1, but the target"
    ) as w:
        make(embargo_days=1).fit(X, y.rename("fwd_ret_5"))
    # once, by the trainer: chronological_oof_predict's own check stays quiet
    assert not [r for r in w if "chronological_oof_predict" in str(r.message)]


@pytest.mark.requires("torch", "skorch")
def test_a_multi_task_nets_tail_is_embargoed_by_its_longest_horizon():
    """A frame of targets told no horizon, so the multi-task net's tail was embargoed
    by 0 dates and never warned; now by the longest horizon of its columns."""
    from skquant import MultiTaskTrainer

    panel = make_synthetic_panel(n_symbols=2, n_days=200, random_state=0)
    X = panel[["ret_1", "ret_5", "ret_21"]]
    targets = panel[["fwd_ret", "fwd_ret_5"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        net = MultiTaskTrainer(epochs=2, device="cpu").fit(X, targets)
    assert net.config_["embargo_days"] == 5
    with pytest.warns(UserWarning, match=r"\['fwd_ret', 'fwd_ret_5'\] spans 5 periods"):
        MultiTaskTrainer(epochs=2, device="cpu", embargo_days=0).fit(X, targets)


_CALENDARS = {  # a calendar and its step
    "weekdays": (pd.bdate_range("2020-01-01", periods=120), np.timedelta64(1, "D")),
    "every day": (pd.date_range("2020-01-01", periods=120, freq="D"), np.timedelta64(1, "D")),
    "hourly": (pd.date_range("2020-01-01", periods=120, freq="h"), np.timedelta64(1, "h")),
    "weekly": (pd.date_range("2020-01-03", periods=120, freq="W-FRI"), np.timedelta64(7, "D")),
    "weekdays, UTC": (
        pd.bdate_range("2020-01-01", periods=120, tz="UTC"),
        np.timedelta64(1, "D"),
    ),
}


@settings(max_examples=100, deadline=None)
@given(
    calendar=st.sampled_from(sorted(_CALENDARS)),
    last=st.integers(0, 80),
    gap=st.integers(0, 20),
    n_train=st.integers(1, 40),
    n_val=st.integers(1, 15),
)
def test_periods_between_counts_the_calendars_own_dates(calendar, last, gap, n_train, n_val):
    """On a regular calendar (no holidays) the periods between the last training date
    and the first validation date, judged from the dates of both sides, are the
    calendar's dates strictly between once the dates show its step (and, on a trading
    calendar, a weekend without dates); before that, never fewer."""
    from skquant.utils._time import periods_between

    dates, step = _CALENDARS[calendar]
    first = last + gap + 1
    seen = dates[max(last - n_train + 1, 0) : last + 1].append(dates[first : first + n_val])
    found, between = periods_between(seen, dates[last], dates[first]), first - last - 1
    if len(seen) < 2:
        assert found is None
        return
    steps_seen = (seen[1:] - seen[:-1]).min() == step
    weekend_seen = (pd.date_range(seen[0], seen[-1], freq="D").dayofweek >= 5).any()
    if steps_seen and (weekend_seen or not calendar.startswith("weekdays")):
        assert found == between
    elif steps_seen:  # one week's weekdays: as well a calendar that trades every day
        assert found >= between
    else:  # the step unseen (a Friday and a Monday): the count is in larger steps
        assert found is not None


def test_periods_between_errs_high_over_holidays_and_nights():
    """Without the calendar's holidays or trading hours the count can only be too
    high: the check it serves then misses a short gap rather than warn wrongly."""
    from skquant.utils._time import periods_between

    days = pd.bdate_range("2020-12-21", "2020-12-31").drop(pd.Timestamp("2020-12-25"))
    assert periods_between(days, pd.Timestamp("2020-12-24"), pd.Timestamp("2020-12-28")) == 1
    session = pd.date_range("2020-01-06 09:00", periods=7, freq="h")  # 09:00 .. 15:00
    assert periods_between(session, session[-1], pd.Timestamp("2020-01-07 09:00")) == 17


def test_the_no_horizon_embargo_warning_is_shown_once_per_estimator():
    """Inside RFECV or GridSearchCV every inner fit warned again that an array target
    tells no horizon (17 times for one RFECV fit on 4 features): scikit-learn resets
    the warnings registry around each fit, so Python's once-per-line did not hold."""
    from sklearn.feature_selection import RFECV

    panel = make_synthetic_panel(n_symbols=2, n_days=150, random_state=0)
    X = panel.drop(columns=[c for c in panel.columns if c.startswith(("fwd_", "y_"))]).iloc[:, :4]
    trainer = LightGBMTrainer(n_estimators=10, early_stopping_rounds=3, n_jobs=1)
    selector = RFECV(trainer, cv=WalkForwardSplit(train_days=60, test_days=30, step_days=30,
                                                   min_train_samples=1))  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        selector.fit(X, panel["fwd_ret"].to_numpy(), groups=X.index.get_level_values("date"))
    told = [w for w in caught if "tells no label horizon" in str(w.message)]
    assert len(told) == 1, len(told)
    assert "Pass embargo_days=H" in str(told[0].message)


def test_each_target_without_a_horizon_is_told_its_embargo_is_zero():
    """Shown once per estimator, the warning came for a panel's first label read from
    a CSV (no make_labels metadata) and not for the next: MFE and y_will_peak, both
    5-day labels, got embargo 0 silently after TTH had warned."""
    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    panel.attrs = {}  # as read back from CSV
    told = {}
    for target in ("TTH", "MFE", "y_will_peak", "TTH"):
        y = panel[target].copy()
        y.attrs = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            trainer = LightGBMTrainer(n_estimators=5, n_jobs=1).fit(panel[["ret_1"]], y)
        assert trainer.config_["embargo_days"] == 0
        said = [w for w in caught if "tells no label horizon" in str(w.message)]
        told[target] = told.get(target, 0) + len(said)
        assert all(f"named '{target}'" in str(w.message) for w in said), said
    assert told == {"TTH": 1, "MFE": 1, "y_will_peak": 1}, told


def test_engine_embargo_reaches_a_cascades_auto_embargo():
    """Inside the engine a cascade's embargo_days='auto' was left to the cascade, which
    got an unnamed array 'y' and estimated its horizon from each fold's autocorrelation:
    8 dates against the engine's 5 (fwd_ret_5, make_labels metadata), with a 'carries no
    horizon' warning per fold. It is now the engine's embargo (a longer explicit one
    too), and each fold's target keeps its name and the horizon the engine resolved."""
    from skquant.utils._embargo import embargo_at_least

    panel = make_synthetic_panel(n_symbols=3, n_days=300, random_state=0)
    kwargs = dict(target="fwd_ret_5", return_col="fwd_ret", features=["ret_1", "ret_5", "vol_21"],
                  train_days=100, test_days=50, step_days=50, min_train_samples=1)  # fmt: skip
    cascade = CascadeStrategy([Ridge(), Ridge()], n_splits=2)
    for embargo, expected in [("auto", 5), (7, 7)]:
        engine = WalkForwardEngine(panel, embargo_days=embargo, **kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = engine.run(estimator=cascade, metrics=["sharpe"])
        assert not [w for w in caught if "horizon" in str(w.message)], embargo
        assert len(result.folds) >= 3 and engine.embargo_days_ == expected
        fitted = engine.last_model_
        assert fitted.embargo_days_ == expected
        assert fitted.stage_targets_ == ["fwd_ret_5", "fwd_ret_5"]  # not 'y'
    assert cascade.embargo_days == "auto"  # the caller's is left as it was
    # an explicit engine embargo below the horizon - 1 warns once, when the engine is
    # built: its fold models (cascade, trainer) do not repeat it fold after fold
    with pytest.warns(UserWarning, match="embargo_days=2 is below the label horizon"):
        engine = WalkForwardEngine(panel, embargo_days=2, **kwargs)
    trainer = LightGBMTrainer(**_FAST_LGB)
    for estimator in (cascade, trainer):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            engine.run(estimator=estimator, metrics=["sharpe"])
        assert not [w for w in caught if "horizon" in str(w.message)], estimator
    assert engine.last_model_.config_["embargo_days"] == 2
    # no embargo resolved by the caller: the cascade still resolves its own
    assert embargo_at_least(CascadeStrategy(), None).embargo_days == "auto"
    assert embargo_at_least(CascadeStrategy(), 3).embargo_days == 3
    assert embargo_at_least(CascadeStrategy(embargo_days=9), 3).embargo_days == 9


def test_a_threaded_run_with_a_short_embargo_leaves_the_filters_as_they_were():
    """The folds' repeats of the short-embargo warning are filtered with
    catch_warnings, which swaps the process's filters: in threads (joblib's threading
    backend, Dask's processes=False) two folds at once could restore each other's and
    leave an 'ignore' behind for good. Threads skip the filtering (the repeats come);
    the filters after the run are those before it."""
    import joblib

    panel = make_synthetic_panel(n_symbols=3, n_days=300, random_state=0)
    with pytest.warns(UserWarning, match="embargo_days=2 is below the label horizon"):
        engine = WalkForwardEngine(panel, target="fwd_ret_5", return_col="fwd_ret",
                                   features=["ret_1", "ret_5"], train_days=100, test_days=50,
                                   step_days=10, min_train_samples=1, embargo_days=2,
                                   n_jobs=4)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the folds' repeats, from the threads
        before = list(warnings.filters)
        with joblib.parallel_config(backend="threading"):
            engine.run(estimator=LightGBMTrainer(**_FAST_LGB), metrics=["sharpe"])
        assert warnings.filters == before


@pytest.mark.parametrize(
    ("hours", "zone"),
    [(0, None), (16, None), (0, "America/New_York")],
    ids=["midnight", "stamped-at-the-close", "new-york-midnight-in-utc"],
)
def test_periods_between_counts_trading_dates_at_any_time_of_day(hours, zone):
    """Daily bars stamped at the close (16:00), or New York midnight read in UTC (04:00
    or 05:00, as the CLI reads files written with offsets), were counted in steps of
    their smallest spacing (23 hours over daylight saving time, a Friday to Monday 3
    days): a validation set 2 trading dates after the training dates of a 5-period
    label missed the "too close" warning that midnight dates give."""
    from skquant.utils._time import periods_between

    days = pd.bdate_range("2024-01-01", periods=120) + pd.Timedelta(hours, unit="h")
    if zone is not None:
        days = days.tz_localize(zone).tz_convert("UTC")
    assert periods_between(days, days[99], days[102]) == 2
    assert periods_between(days, days[4], days[5]) == 0  # Friday to Monday
    X = pd.DataFrame({"a": np.random.default_rng(0).normal(size=120)}, index=days.rename("date"))
    y = pd.Series(np.random.default_rng(1).normal(size=120), index=X.index, name="fwd_ret_5")
    with pytest.warns(UserWarning, match=r"2 period\(s\) after the last training date"):
        LightGBMTrainer(n_estimators=5, n_jobs=1).fit(
            X[:100], y[:100], X_val=X[102:], y_val=y[102:]
        )
