"""WalkForwardEngine and WalkForwardResult: the contract, time safety, parallel backends, files."""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skquant import (
    CascadeStrategy,
    ChangePointTrainer,
    LightGBMTrainer,
    WalkForwardEngine,
    WalkForwardResult,
    WalkForwardSplit,
    load_model_config,
    make_synthetic_panel,
    max_drawdown,
    sharpe_ratio,
)
from skquant.leakage import plan_labels

FAST = {"n_estimators": 15, "learning_rate": 0.1, "n_jobs": 1, "early_stopping_rounds": 5}


@pytest.fixture(scope="module")
def panel():
    return make_synthetic_panel(n_symbols=4, n_days=330, random_state=0)


class LastTrainDate(RegressorMixin, BaseEstimator):
    """Predicts, for every row, the ordinal of the latest date it was trained on."""

    def fit(self, X, y):
        dates = X.index.get_level_values("date")  # the panel's own (date, symbol) index
        assert isinstance(dates, pd.DatetimeIndex)
        self.last_ = dates.max().value / 1e9
        self.n_dates_ = dates.nunique()
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), self.last_ + self.n_dates_ / 1e6)


def test_guide_snippet_with_target_and_return_col(panel):
    engine = WalkForwardEngine(
        data=panel,
        target="fwd_ret",
        return_col="fwd_ret",
        train_days=252,  # 1 year training
        test_days=63,  # 1 quarter testing
        step_days=21,  # Roll forward monthly
        min_train_samples=1000,
    )
    results = engine.run(
        model_name="lightgbm",
        config=load_model_config("lightgbm", variant="conservative", overrides=FAST),
        metrics=["sharpe", "max_drawdown", "hit_rate"],
    )
    assert isinstance(results, WalkForwardResult)
    folds, summary, pred = results.folds, results.summary, results.predictions
    # folds laid as the contract says: s_k = 252 + e + 21k < 330, with the embargo
    # e = 1 from the one-period target's horizon (embargo_days="auto")
    assert engine.embargo_days_ == engine.label_horizon_ == 1
    assert len(folds) == len(range(253, 330, 21)) == 4
    assert {
        "fold",
        "train_start",
        "train_end",
        "test_start",
        "test_end",
        "n_train",
        "n_test",
    } <= set(folds)
    assert (folds["n_train"] == 252 * 4).all() and folds["n_test"].tolist() == [252, 224, 140, 56]
    assert set(summary) == {
        "sharpe",
        "max_drawdown",
        "hit_rate",
        "turnover",
        "ic",
        "icir",
        "psr",
    } | {"benchmark_sharpe"}
    # each fold early-stopped on a chronological tail of its own training window
    assert folds["best_iteration"].between(1, FAST["n_estimators"]).all()
    assert list(pred.columns) == ["prediction", "position", "weight", "strategy_return", "fold"]
    # aligned to data's index, one row per out-of-sample row
    assert pred.index.isin(panel.index).all() and not pred.index.duplicated().any()
    dates = pred.index.get_level_values("date")
    assert len(pred) == (panel.index.get_level_values("date") >= folds["test_start"].iloc[0]).sum()
    # each row's share of the book's gross return: summed per date, the gross return
    np.testing.assert_allclose(
        pred["strategy_return"], pred["weight"] * panel.loc[pred.index, "fwd_ret"]
    )
    np.testing.assert_allclose(
        pred["strategy_return"].groupby(level="date").sum(), results.returns["gross"]
    )
    np.testing.assert_array_equal(pred["position"], np.sign(pred["prediction"]))
    # no prediction falls on a date its model trained on (or on a training-only date)
    train_end = folds.set_index("fold")["train_end"]
    assert (dates > train_end.loc[pred["fold"]].to_numpy()).all()
    assert dates.min() > folds["train_end"].iloc[0]
    # summary: metrics of the equal-weight daily returns of the predictions
    daily = pred["strategy_return"].groupby(dates).sum()
    assert summary["sharpe"] == pytest.approx(sharpe_ratio(daily))
    assert summary["max_drawdown"] == pytest.approx(max_drawdown(daily))


def test_overlap_keeps_the_most_recent_model_and_folds_use_whole_windows(panel):
    engine = WalkForwardEngine(
        panel, target="fwd_ret", train_days=100, test_days=60, step_days=20, min_train_samples=1
    )
    result = engine.run(estimator=LastTrainDate(), metrics=["sharpe"])
    pred, folds = result.predictions, result.folds
    dates = pred.index.get_level_values("date")
    for k, fold in folds.iterrows():
        served = dates[pred["fold"] == k]
        nxt = folds["test_start"].iloc[k + 1] if k + 1 < len(folds) else None
        expected_end = (
            fold["test_end"]
            if nxt is None
            else min(fold["test_end"], nxt - pd.Timedelta(1, unit="D"))
        )
        assert served.min() == fold["test_start"] and served.max() <= expected_end
        # the model served was trained up to this fold's train_end, on 100 dates
        got = pred.loc[pred["fold"] == k, "prediction"].iloc[0]
        assert got == pytest.approx(fold["train_end"].value / 1e9 + 100 / 1e6)
    # per-fold metrics use each fold's whole (overlapping) test window
    assert folds["n_test"].iloc[0] == 60 * 4
    whole = panel.loc[
        panel.index.get_level_values("date")
        .to_series()
        .between(folds["test_start"][0], folds["test_end"][0])
        .to_numpy(),
        "fwd_ret",
    ]
    assert folds["sharpe"][0] == pytest.approx(sharpe_ratio(whole.groupby(level="date").mean()))


def test_embargo_and_expanding_windows(panel):
    engine = WalkForwardEngine(
        panel,
        target="fwd_ret",
        train_days=80,
        test_days=40,
        step_days=40,
        min_train_samples=1,
        embargo_days=5,
        expanding=True,
    )
    result = engine.run(estimator=LastTrainDate(), metrics=["hit_rate"])
    distinct = panel.index.get_level_values("date").unique().sort_values()
    for k, fold in result.folds.iterrows():
        assert fold["train_start"] == distinct[0]
        gap = distinct.get_loc(fold["test_start"]) - distinct.get_loc(fold["train_end"]) - 1
        assert gap == 5
        assert result.predictions.loc[result.predictions["fold"] == k, "prediction"].iloc[
            0
        ] == pytest.approx(fold["train_end"].value / 1e9 + (80 + 40 * k) / 1e6)


def test_pipeline_classifier_positions_by_probability(panel):
    data = panel.assign(up=(panel["fwd_ret"] > 0).astype(int))
    engine = WalkForwardEngine(
        data,
        target="up",
        return_col="fwd_ret",
        features=["alpha_1", "alpha_2", "noise_1"],
        train_days=120,
        test_days=60,
        step_days=60,
        min_train_samples=1,
    )
    result = engine.run(estimator=make_pipeline(StandardScaler(), LogisticRegression()))
    pred = result.predictions
    assert list(pred.columns) == [
        "prediction",
        "proba",
        "position",
        "weight",
        "strategy_return",
        "fold",
    ]
    np.testing.assert_array_equal(pred["position"], np.where(pred["proba"] > 0.5, 1.0, -1.0))
    assert set(pred["prediction"]) <= {0, 1}
    np.testing.assert_allclose(
        pred["strategy_return"], pred["weight"] * data.loc[pred.index, "fwd_ret"]
    )
    # the planted signal is found out of sample
    assert result.summary["hit_rate"] > 0.5


def test_parallel_backends_give_identical_results(panel):
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    config = load_model_config("lightgbm", overrides=FAST)
    one = WalkForwardEngine(panel, n_jobs=1, **kwargs).run("lightgbm", config)
    two = WalkForwardEngine(panel, n_jobs=2, **kwargs).run("lightgbm", config)
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
    pd.testing.assert_frame_equal(one.folds, two.folds)
    assert one.predictions["prediction"].nunique() > 10  # real models, not constants


def _readme_dask_snippet() -> str:
    """The README's Dask example, read from the README so the two cannot drift apart."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", readme, flags=re.S)
    (snippet,) = [block for block in blocks if 'parallel_config(backend="dask")' in block]
    return snippet


def test_readme_dask_snippet_matches_local_run(panel, capsys):
    """The README's Dask example runs as written and reproduces the n_jobs=1 predictions."""
    pytest.importorskip("distributed")
    namespace = {}
    exec(_readme_dask_snippet(), namespace)
    assert "sharpe" in capsys.readouterr().out
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    local = WalkForwardEngine(panel, n_jobs=1, **kwargs).run(
        "lightgbm", load_model_config("lightgbm", overrides=FAST)
    )
    pd.testing.assert_frame_equal(local.predictions, namespace["result"].predictions)
    pd.testing.assert_frame_equal(local.folds, namespace["result"].folds)


def test_unsorted_input_is_sorted_and_gives_the_same_result(panel):
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    est = Ridge()
    base = WalkForwardEngine(panel, **kwargs).run(estimator=est)
    shuffled = panel.sample(frac=1.0, random_state=0)
    other = WalkForwardEngine(shuffled, **kwargs).run(estimator=est)
    pd.testing.assert_frame_equal(base.predictions, other.predictions)
    swapped = WalkForwardEngine(panel.swaplevel().sort_index(), **kwargs).run(estimator=est)
    np.testing.assert_allclose(
        swapped.predictions.swaplevel().loc[base.predictions.index, "prediction"],
        base.predictions["prediction"],
    )


def test_input_errors(panel):
    kwargs = dict(train_days=100, test_days=50, step_days=50, min_train_samples=1)
    with pytest.raises(ValueError, match="Unknown target column 'nope'"):
        WalkForwardEngine(panel, target="nope", **kwargs)
    with pytest.raises(ValueError, match="Unknown return column 'ret_x'"):
        WalkForwardEngine(panel, target="fwd_ret", return_col="ret_x", **kwargs)
    with pytest.raises(ValueError, match="Unknown feature column 'zzz'"):
        WalkForwardEngine(panel, target="fwd_ret", features=["alpha_1", "zzz"], **kwargs)
    with pytest.raises(ValueError, match="target column 'fwd_ret' cannot also be a feature"):
        WalkForwardEngine(panel, target="fwd_ret", features=["alpha_1", "fwd_ret"], **kwargs)
    with pytest.raises(ValueError, match="feature column 'name' must be numeric"):
        WalkForwardEngine(
            panel.assign(name="x"), target="fwd_ret", features=["alpha_1", "name"], **kwargs
        )
    assert (
        "name"
        not in WalkForwardEngine(panel.assign(name="x"), target="fwd_ret", **kwargs).features_
    )
    dup = pd.concat([panel, panel.iloc[:7]])
    with pytest.raises(ValueError, match="7 duplicate"):
        WalkForwardEngine(dup, target="fwd_ret", **kwargs)
    with pytest.raises(ValueError, match=r"330 distinct dates.*at least .* = 402"):
        WalkForwardEngine(panel, target="fwd_ret", train_days=400)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        WalkForwardEngine(panel.reset_index(drop=True), target="fwd_ret")
    engine = WalkForwardEngine(panel, target="fwd_ret", **kwargs)
    with pytest.raises(ValueError, match="Unknown metric 'sharp'"):
        engine.run(estimator=Ridge(), metrics=["sharp"])
    with pytest.raises(ValueError, match="either model_name"):
        engine.run()
    with pytest.raises(ValueError, match="Unknown model 'lightgmb'"):
        engine.run("lightgmb")


def test_default_features_leave_out_labels(panel):
    engine = WalkForwardEngine(panel, target="fwd_ret_5", return_col="fwd_ret", min_train_samples=1)
    assert engine.features_ == [
        "ret_1",
        "ret_5",
        "ret_21",
        "vol_21",
        "range",
        "dist_high_21",
        "volume_z_21",
        "alpha_1",
        "alpha_2",
        "noise_1",
    ]


def test_result_frame_save_plot_and_progress(panel, tmp_path, capsys):
    engine = WalkForwardEngine(
        panel,
        target="fwd_ret",
        train_days=100,
        test_days=50,
        step_days=50,
        min_train_samples=1,
        verbose=True,
    )
    result = engine.run(
        estimator=Ridge(), metrics=["sharpe", "profit_factor", "information_coefficient"]
    )
    assert "walk-forward folds" in capsys.readouterr().err  # the progress bar
    frame = result.to_frame()
    assert frame.index.is_monotonic_increasing and frame.index.name == "date"
    np.testing.assert_allclose(frame["strategy_return"], result.period_returns())
    assert frame["equity"].iloc[-1] == pytest.approx(np.prod(1 + result.period_returns()))
    assert frame["drawdown"].min() == pytest.approx(max_drawdown(result.period_returns()))

    out = result.save(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == [
        "folds.csv",
        "predictions.parquet",
        "summary.json",
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert all((p.stat().st_mode & 0o777) == (0o666 & ~umask) for p in out.iterdir())
    pd.testing.assert_frame_equal(pd.read_parquet(out / "predictions.parquet"), result.predictions)
    folds = pd.read_csv(
        out / "folds.csv", parse_dates=["train_start", "train_end", "test_start", "test_end"]
    )
    pd.testing.assert_frame_equal(folds, result.folds, check_dtype=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sharpe"] == pytest.approx(result.summary["sharpe"])

    import matplotlib

    matplotlib.use("Agg")
    fig = result.plot("sharpe")  # the five panels of test_report, and sharpe by fold
    assert len(fig.axes) == 6 and fig.axes[5].get_ylabel() == "sharpe"
    with pytest.raises(ValueError, match="Unknown metric"):
        result.plot("calmar")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_engine_folds_match_the_splitter(panel):
    kwargs = dict(train_days=90, test_days=30, step_days=45, min_train_samples=1, embargo_days=3)
    result = WalkForwardEngine(panel, target="fwd_ret", **kwargs).run(
        estimator=Ridge(), metrics=["sharpe"]
    )
    dates = panel.index.get_level_values("date")
    for (train, test), (_, fold) in zip(
        WalkForwardSplit(**kwargs).split(panel), result.folds.iterrows(), strict=True
    ):
        assert dates[train].min() == fold["train_start"] and dates[train].max() == fold["train_end"]
        assert dates[test].min() == fold["test_start"] and dates[test].max() == fold["test_end"]
        assert len(train) == fold["n_train"] and len(test) == fold["n_test"]


def assert_fold_models_hold_out_their_latest_dates(engine, result, config, embargo):
    """Refit each fold's model by hand and check the engine's predictions are its own.

    The hand-made model trains on the fold's rows with a known target, minus the
    latest ``validation_fraction`` of its dates (given as ``X_val``, the
    early-stopping set) and the ``embargo`` dates just before them. Only a trainer
    that cut that same chronological, embargoed tail from the fold's own frame
    predicts the fold's test rows identically.
    """
    data, target, features = engine.data, engine.target, list(engine.features_)
    dates = data.index.get_level_values("date")
    predictions = result.predictions
    for _, fold in result.folds.iterrows():
        in_window = (dates >= fold["train_start"]) & (dates <= fold["train_end"])
        rows = data[in_window & data[target].notna().to_numpy()]
        assert len(rows) == fold["n_train_used"]
        row_dates = rows.index.get_level_values("date")
        distinct = np.unique(row_dates)
        n_tail = int(np.ceil(config["validation_fraction"] * len(distinct)))
        tail = rows[row_dates >= distinct[-n_tail]]
        older = rows[row_dates < distinct[-n_tail - embargo]]
        reference = LightGBMTrainer(config, embargo_days=embargo).fit(
            older[features], older[target], X_val=tail[features], y_val=tail[target]
        )
        assert reference.best_iteration_ == fold["best_iteration"]
        served = predictions[predictions["fold"] == fold["fold"]]
        np.testing.assert_allclose(
            reference.predict(data.loc[served.index, features]), served["prediction"]
        )


def test_early_stopping_tail_is_the_end_of_each_fold_window(panel):
    """The trainer's validation tail is the latest 20% of its own fold's dates."""
    engine = WalkForwardEngine(
        panel, target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1
    )
    config = load_model_config("lightgbm", overrides={**FAST, "validation_fraction": 0.2})
    result = engine.run("lightgbm", config, metrics=["sharpe"])
    assert len(result.folds) > 1 and result.folds["best_iteration"].notna().all()
    assert_fold_models_hold_out_their_latest_dates(engine, result, config, engine.embargo_days_)


class _SequenceProbe(RegressorMixin, BaseEstimator):
    """A stand-in sequence model (``seq_len`` in ``config_``) that reports what it sees.

    It predicts each row's date ordinal, so misaligned predictions show, and records
    the index of every frame it is fitted on or predicts.
    """

    seen: list = []

    def fit(self, X, y):
        self.config_ = {"seq_len": 3}
        _SequenceProbe.seen.append(("fit", X.index))
        return self

    def predict(self, X):
        _SequenceProbe.seen.append(("predict", X.index))
        return X.index.get_level_values("date").map(pd.Timestamp.toordinal).to_numpy(float)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["bare", "pipeline"])
def test_sequence_models_get_the_panel_index_and_history(panel, in_pipeline):
    # in a Pipeline (a scaler before the net) it got no history: the first seq_len - 1
    # dates of every test window were zero-padded
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _SequenceProbe.seen = []
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    engine = WalkForwardEngine(panel, embargo_days=2, n_jobs=1, **kwargs)
    model = _SequenceProbe()
    if in_pipeline:
        model = make_pipeline(StandardScaler().set_output(transform="pandas"), model)
    result = engine.run(estimator=model)
    fits = [index for kind, index in _SequenceProbe.seen if kind == "fit"]
    predicts = [index for kind, index in _SequenceProbe.seen if kind == "predict"]
    assert len(fits) == len(predicts) == len(result.folds)
    for fit_index, pred_index, (_, fold) in zip(
        fits, predicts, result.folds.iterrows(), strict=True
    ):
        # the (date, symbol) panel reaches the model: windows can be cut per symbol
        assert list(fit_index.names) == list(pred_index.names) == ["date", "symbol"]
        pred_dates = pred_index.get_level_values("date").unique().sort_values()
        # two history dates before the test window, all of them from the past
        assert (pred_dates < fold["test_start"]).sum() == 2
        assert pred_dates.max() == fold["test_end"]
    # the history rows' predictions are dropped and the rest stay aligned to their rows
    expected = result.predictions.index.get_level_values("date").map(pd.Timestamp.toordinal)
    np.testing.assert_array_equal(result.predictions["prediction"], expected.to_numpy(float))
    assert len(result.predictions) == len(result.predictions.index.unique())


class _ColumnProbe(RegressorMixin, BaseEstimator):
    """Predicts each row's feature ``column``: the feature a model before it made."""

    def __init__(self, column=0):
        self.column = column

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, self.column]


@pytest.mark.filterwarnings("ignore:the model:UserWarning")
@pytest.mark.parametrize("kind", ["change_point", "regime", "union"])
def test_causal_feature_models_get_their_history(panel, kind):
    """A causal feature model's test-window features are those of the unbroken series.

    Each test window was transformed alone: the change-point detector started a fresh
    run there, ``cp_prob`` 1 on its first ``window`` dates of every fold (0.02 to 0.05
    with history), and the regime filter had no trailing volatility.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    from skquant import ChangePointTrainer, GMMRegimeTrainer

    if kind == "regime":
        feature = GMMRegimeTrainer(
            n_components=2,
            features=["ret_1"],
            volatility_window=10,
            causal=True,
            random_state=0,
        )
        column = 1  # regime_prob_0
    else:
        feature = ChangePointTrainer(
            hazard=0.01, max_run_length=20, window=5, threshold=0.5, column="ret_1"
        )
        column = 0  # cp_prob
    steps = [("features", feature)]
    if kind == "union":
        steps = [("features", FeatureUnion([("cp", feature)]))]
    model = Pipeline([*steps, ("probe", _ColumnProbe(column))])
    model.set_output(transform="pandas")
    engine = WalkForwardEngine(
        panel,
        target="fwd_ret",
        train_days=150,
        test_days=40,
        step_days=40,
        embargo_days=1,
        min_train_samples=1,
        n_jobs=1,
    )
    result = engine.run(estimator=model)
    fold = result.folds.iloc[-1]
    dates = panel.index.get_level_values("date")
    history = panel.loc[dates <= fold["test_end"], engine.features_]
    unbroken = np.asarray(engine.last_model_[0].transform(history), dtype=float)[:, column]
    unbroken = pd.Series(unbroken, index=history.index)
    tested = result.predictions.loc[
        result.predictions.index.get_level_values("date") >= fold["test_start"], "prediction"
    ]
    assert len(tested) > 0
    np.testing.assert_allclose(tested, unbroken.loc[tested.index], atol=1e-3)


def _causal_pipeline(column=0):
    from sklearn.pipeline import Pipeline

    from skquant import ChangePointTrainer

    feature = ChangePointTrainer(max_run_length=20, window=5, column="ret_1")
    model = Pipeline([("features", feature), ("probe", _ColumnProbe(column))])
    return model.set_output(transform="pandas")


def test_history_periods_sees_through_meta_estimators(panel):
    """A meta-estimator needs the history of the models it wraps: a change-point
    pipeline (40 periods) inside GridSearchCV, RFECV or TransformedTargetRegressor
    needed 0, so every test window started it cold."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import StackingRegressor, VotingRegressor
    from sklearn.feature_selection import RFECV
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_union

    from skquant import ChangePointTrainer
    from skquant.utils._history import history_periods

    X, y = panel[["ret_1", "vol_21"]].iloc[:400], panel["fwd_ret"].iloc[:400]
    pipe = _causal_pipeline()
    need = history_periods(clone(pipe).fit(X, y))
    assert need == 40  # 2 * max_run_length
    one_split = [(np.arange(200), np.arange(200, 400))]
    search = GridSearchCV(pipe, {"probe__column": [0]}, cv=one_split)
    target = TransformedTargetRegressor(regressor=pipe, func=np.tanh, inverse_func=np.arctanh)
    linear_pipe = make_pipeline(ChangePointTrainer(max_run_length=20), Ridge())
    selector = RFECV(linear_pipe, cv=one_split, importance_getter="named_steps.ridge.coef_")
    voting = VotingRegressor([("cp", pipe), ("flat", Ridge())])
    stacking = StackingRegressor([("cp", pipe)], final_estimator=linear_pipe, cv=2)
    columns = ColumnTransformer([("cp", ChangePointTrainer(max_run_length=20), ["ret_1"])])
    for meta, expected in [
        (search, need),
        (target, need),
        (selector, need),
        (voting, need),
        (stacking, 2 * need),  # its final model reads the causal model's predictions
        (make_pipeline(columns, Ridge()), need),
        (make_union(ChangePointTrainer(max_run_length=20)), need),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fitted = clone(meta).fit(X, y)
        assert history_periods(fitted) == expected, type(meta).__name__
    # the fitted model is read, not the one given (a grid may change the need)
    grid = GridSearchCV(pipe, {"features__max_run_length": [30]}, cv=one_split)
    assert history_periods(grid.fit(X, y)) == 60
    assert history_periods(grid.estimator) == 0  # unfitted: nothing declared yet
    assert history_periods(GridSearchCV(Ridge(), {"alpha": [1.0]})) == 0


def test_history_periods_sees_through_a_cascade_and_a_dict_of_models(panel):
    """A CascadeStrategy keeps its stages in ``stages_`` (given: ``models``), which
    history_periods did not read: two causal stages of 40 periods each gave 0, so the
    engine started the cascade cold in every test window. Each stage reads the earlier
    stages' predictions, so it needs their history too (the sum, as in a Pipeline); a
    dict of models (a SingleTaskStrategy's ``estimators_``, one per target) was not
    read either."""
    from skquant.utils._history import history_periods

    X = panel[["ret_1", "vol_21"]].iloc[:400]
    y = panel[["fwd_ret", "fwd_ret_5"]].iloc[:400]
    stage = make_pipeline(ChangePointTrainer(max_run_length=20), Ridge())
    need = history_periods(clone(stage).fit(X, y["fwd_ret"]))
    assert need == 40
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        chain = CascadeStrategy(models=[stage, stage], n_splits=2).fit(X, y)
        refine = CascadeStrategy(models=[stage, Ridge()], n_splits=2).fit(X, y["fwd_ret"])
    assert [history_periods(s) for s in chain.stages_] == [need, need]
    assert history_periods(chain) == 2 * need
    assert history_periods(refine) == need

    class _PerTarget(BaseEstimator):
        pass

    per_target = _PerTarget()
    per_target.estimators_ = {"fwd_ret": chain.stages_[0], "fwd_ret_2": Ridge()}
    assert history_periods(per_target) == need


@pytest.mark.filterwarnings("ignore:the model:UserWarning")
@pytest.mark.filterwarnings("ignore:summary ic:UserWarning")
def test_a_causal_pipeline_inside_grid_search_gets_its_history(panel):
    """The engine ran a causal pipeline inside GridSearchCV cold in every test window:
    with a single candidate (the same model) 123 of 398 predictions differed and the
    Sharpe went from -0.024 to 0.626."""
    from sklearn.model_selection import GridSearchCV

    engine = WalkForwardEngine(
        panel,
        target="fwd_ret",
        features=["ret_1", "vol_21"],
        train_days=100,
        test_days=40,
        step_days=40,
        embargo_days=1,
        min_train_samples=1,
        n_jobs=1,
    )
    plain = engine.run(estimator=_causal_pipeline())
    one_split = [(np.arange(200), np.arange(200, 400))]  # within every training window
    search = GridSearchCV(_causal_pipeline(), {"probe__column": [0]}, cv=one_split)
    searched = engine.run(estimator=search)
    np.testing.assert_array_equal(
        searched.predictions["prediction"], plain.predictions["prediction"]
    )


class _DeclaredCascade(CascadeStrategy):
    """A CascadeStrategy that declares the history its two 40-period stages need."""

    history_periods_ = 80


@pytest.mark.filterwarnings("ignore:the model:UserWarning")
@pytest.mark.filterwarnings("ignore:summary ic:UserWarning")
def test_the_engine_gives_a_cascade_of_causal_stages_its_history(panel):
    """The engine ran a cascade of causal stages cold in every test window
    (history_periods 0): its predictions now equal those of the same cascade
    declaring the 80 periods its stages need."""
    engine = WalkForwardEngine(
        panel, target="fwd_ret", features=["ret_1", "vol_21"], train_days=100,
        test_days=40, step_days=40, embargo_days=1, min_train_samples=1, n_jobs=1,
    )  # fmt: skip
    stages = [_causal_pipeline(), make_pipeline(ChangePointTrainer(max_run_length=20), Ridge())]
    plain = engine.run(estimator=CascadeStrategy(models=stages, n_splits=2))
    declared = engine.run(estimator=_DeclaredCascade(models=stages, n_splits=2))
    np.testing.assert_array_equal(
        plain.predictions["prediction"], declared.predictions["prediction"]
    )


def test_default_features_leave_out_every_label_like_column(panel):
    # future_40 (a 40-day forward return) scored below the leak threshold and was a feature
    forward = {"y_dir", "target_5d", "fwd_vol", "mfe", "TTH_10", "future_40", "Forward_Ret"}
    data = panel.assign(**dict.fromkeys(forward, 0.0), futures_basis=1.0)
    engine = WalkForwardEngine(
        data, target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1
    )
    assert not forward & set(engine.features_)
    assert {"alpha_1", "futures_basis"} <= set(engine.features_)


def test_cv_splitter_gives_the_same_run_as_the_window_shortcuts(panel):
    windows = dict(train_days=90, test_days=30, step_days=45, min_train_samples=1)
    shortcut = WalkForwardEngine(panel, target="fwd_ret", embargo_days=3, expanding=True, **windows)
    cv = WalkForwardSplit(embargo_days=3, expanding=True, **windows)
    engine = WalkForwardEngine(panel, target="fwd_ret", cv=cv)
    assert engine.folds_ == shortcut.folds_ and engine.embargo_days_ == 3
    assert repr(engine.cv_) == repr(cv) and engine.cv_ is not cv
    one = shortcut.run(estimator=Ridge(), metrics=["sharpe"])
    two = engine.run(estimator=Ridge(), metrics=["sharpe"])
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
    pd.testing.assert_frame_equal(one.folds, two.folds)


def test_cv_embargo_below_the_label_horizon_warns(panel):
    cv = WalkForwardSplit(train_days=90, test_days=30, step_days=45, min_train_samples=1)
    with pytest.warns(UserWarning, match="embargo_days=0 is below the label horizon - 1 = 4"):
        engine = WalkForwardEngine(panel, target="fwd_ret_5", return_col="fwd_ret", cv=cv)
    assert engine.label_horizon_ == 5 and engine.embargo_days_ == 0


def test_cv_with_a_window_shortcut_is_an_error(panel):
    cv = WalkForwardSplit(train_days=90, test_days=30, step_days=45, min_train_samples=1)
    with pytest.raises(ValueError, match=r"either as cv= or as train_days, embargo_days, not"):
        WalkForwardEngine(panel, target="fwd_ret", cv=cv, train_days=90, embargo_days=2)
    with pytest.raises(ValueError, match="as cv= or as expanding"):
        WalkForwardEngine(panel, target="fwd_ret", cv=cv, expanding=1)
    with pytest.raises(ValueError, match="cv must be a WalkForwardSplit"):
        WalkForwardEngine(panel, target="fwd_ret", cv=5)


class CountingRidge(Ridge):
    """A Ridge that counts its fits in this process (the engine runs n_jobs=1)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_checkpoint_dir_resumes_a_stopped_run_and_refits_only_what_changed(panel, tmp_path):
    kwargs = dict(target="fwd_ret", train_days=100, test_days=40, step_days=40, min_train_samples=1)
    cache = tmp_path / "folds"

    def run(engine=None, on_fold=None, **params):
        CountingRidge.fits = 0
        engine = engine or WalkForwardEngine(panel, n_jobs=1, **kwargs)
        result = engine.run(
            estimator=CountingRidge(**params), checkpoint_dir=cache, on_fold=on_fold
        )
        return result, CountingRidge.fits

    plain = WalkForwardEngine(panel, n_jobs=1, **kwargs).run(estimator=CountingRidge())
    n_folds = len(plain.folds)
    assert n_folds >= 4

    def stop_after_two(k, scores):  # a run killed after its third fold
        if k == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(on_fold=stop_after_two)
    assert len(list(cache.glob("fold-*.joblib"))) == 3  # each fold saved as it finished
    resumed, fits = run()
    assert fits == n_folds - 3
    pd.testing.assert_frame_equal(resumed.predictions, plain.predictions)
    pd.testing.assert_frame_equal(
        resumed.folds.drop(columns="fit_seconds", errors="ignore"),
        plain.folds.drop(columns="fit_seconds", errors="ignore"),
    )
    assert resumed.summary == plain.summary

    again, fits = run()  # the same run: nothing to fit
    assert fits == 0 and again.summary == plain.summary
    costly = WalkForwardEngine(panel, n_jobs=1, cost_bps=10, **kwargs)
    net, fits = run(engine=costly)  # another cost: the same fits, evaluated again
    assert fits == 0 and net.summary["sharpe"] < plain.summary["sharpe"]
    other, fits = run(alpha=5.0)  # another parameter: every fold refitted
    assert fits == n_folds
    assert not np.allclose(other.predictions["prediction"], plain.predictions["prediction"])
    edited = panel.copy()
    edited.iloc[-1, edited.columns.get_loc("alpha_1")] += 1.0  # the last test row's feature
    _, fits = run(engine=WalkForwardEngine(edited, n_jobs=1, **kwargs))
    assert fits == 1  # only the fold that holds the row


def test_last_model_is_the_last_folds_model_and_is_kept_with_its_checkpoint(panel, tmp_path):
    """``last_model_`` is the model the last fold fitted (it predicted that fold's test
    rows); a run that loads every fold loads it too, and a fold whose file was saved
    without it (as another run's earlier fold) is refitted when it becomes the last."""
    kwargs = dict(target="fwd_ret", train_days=100, test_days=40, step_days=40, min_train_samples=1)
    engine = WalkForwardEngine(panel, n_jobs=1, **kwargs)
    CountingRidge.fits = 0
    result = engine.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    n_folds = len(result.folds)
    assert CountingRidge.fits == n_folds
    model = engine.last_model_
    last = result.predictions[result.predictions["fold"] == n_folds - 1]
    features = panel.loc[last.index, engine.features_]
    np.testing.assert_allclose(model.predict(features), last["prediction"])
    engine.last_model_ = None
    CountingRidge.fits = 0
    engine.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    assert CountingRidge.fits == 0  # the last fold's file holds its model
    np.testing.assert_array_equal(engine.last_model_.coef_, model.coef_)

    # the panel cut after an earlier fold's test window: the same fold, now the last
    a, b, c, d = engine.folds_[-3]
    cut = engine._dates[d - 1]
    shorter = WalkForwardEngine(
        panel[panel.index.get_level_values("date") <= cut], n_jobs=1, **kwargs
    )
    assert len(shorter.folds_) == n_folds - 2
    CountingRidge.fits = 0
    shorter.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    assert CountingRidge.fits == 1  # only the last, for its model
    assert shorter.last_model_ is not None


def test_a_damaged_checkpoint_is_refitted(panel, tmp_path):
    kwargs = dict(target="fwd_ret", train_days=100, test_days=40, step_days=40, min_train_samples=1)
    engine = WalkForwardEngine(panel, n_jobs=1, **kwargs)
    first = engine.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    files = sorted(tmp_path.glob("fold-*.joblib"))
    assert len(files) == len(first.folds)
    files[0].write_bytes(b"not a joblib file")
    CountingRidge.fits = 0
    again = engine.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    assert CountingRidge.fits == 1
    pd.testing.assert_frame_equal(again.predictions, first.predictions)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="checkpoint_dir .* is not a folder"):
        engine.run(estimator=Ridge(), checkpoint_dir=tmp_path / "file")


def test_a_checkpoint_is_not_reused_under_another_yaml_variant(panel, tmp_path, monkeypatch):
    """A trainer without a full config reads MODEL_VARIANT's YAML variant when it fits,
    which its parameters do not show: the variant it resolves joins the fold key."""
    from skquant.walkforward import _engine

    kwargs = dict(target="fwd_ret", train_days=100, test_days=100, step_days=100)
    engine = WalkForwardEngine(panel, n_jobs=1, min_train_samples=1, **kwargs)
    fits = []
    fit = _engine._fit_predict_fold
    monkeypatch.setattr(
        _engine, "_fit_predict_fold", lambda *a, **k: fits.append(1) or fit(*a, **k)
    )
    config = {"n_jobs": 1, "n_estimators": 10}  # the other keys come from the variant
    monkeypatch.setenv("MODEL_VARIANT", "conservative")
    first = engine.run("lightgbm", config, checkpoint_dir=tmp_path)
    n_folds = len(first.folds)
    assert len(fits) == n_folds
    engine.run("lightgbm", config, checkpoint_dir=tmp_path)
    assert len(fits) == n_folds  # the same variant: loaded
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")
    other = engine.run("lightgbm", config, checkpoint_dir=tmp_path)
    assert len(fits) == 2 * n_folds
    assert not np.allclose(other.predictions["prediction"], first.predictions["prediction"])


def test_checkpoints_of_a_shorter_panel_serve_its_folds_in_a_longer_one(panel, tmp_path):
    """A fold's key holds its own rows only: appending dates refits just the folds whose
    windows changed, however the panel's arrays and index levels grew."""
    kwargs = dict(target="fwd_ret", train_days=100, test_days=40, step_days=40, min_train_samples=1)
    dates = panel.index.get_level_values("date")
    shorter = panel[dates < dates.unique()[-10]]
    old = WalkForwardEngine(shorter, n_jobs=1, **kwargs)
    old.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    new = WalkForwardEngine(panel, n_jobs=1, **kwargs)

    def windows(engine):
        d = engine._dates  # the fold cuts as dates: (train start, train end, test end)
        return {(d[a], d[b - 1], d[c], d[stop - 1]) for a, b, c, stop in engine.folds_}

    changed = windows(new) - windows(old)
    assert 0 < len(changed) < len(new.folds_)
    CountingRidge.fits = 0
    longer = new.run(estimator=CountingRidge(), checkpoint_dir=tmp_path)
    assert CountingRidge.fits == len(changed)
    plain = new.run(estimator=Ridge())
    pd.testing.assert_frame_equal(longer.predictions, plain.predictions)


def test_checkpoints_never_fail_a_run(panel, tmp_path, monkeypatch, recwarn):
    """An estimator that does not pickle, or a folder that cannot be written, runs the
    folds without checkpoints and says so; all folds loaded in parallel: no warning."""
    from sklearn.preprocessing import FunctionTransformer

    from skquant.utils import _checkpoint

    kwargs = dict(target="fwd_ret", train_days=100, test_days=40, step_days=40, min_train_samples=1)
    engine = WalkForwardEngine(panel, n_jobs=2, **kwargs)
    plain = engine.run(estimator=Ridge())
    engine.run(estimator=Ridge(), checkpoint_dir=tmp_path / "ok")
    recwarn.clear()
    loaded = engine.run(estimator=Ridge(), checkpoint_dir=tmp_path / "ok")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)], recwarn.list
    pd.testing.assert_frame_equal(loaded.predictions, plain.predictions)

    lam = make_pipeline(FunctionTransformer(lambda X: X), Ridge())
    with pytest.warns(UserWarning, match="cannot hash the estimator .* without fold checkpoints"):
        result = engine.run(estimator=lam, checkpoint_dir=tmp_path / "lam")
    pd.testing.assert_frame_equal(result.predictions, plain.predictions)

    def full_disk(path, write):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_checkpoint, "atomic_write", full_disk)
    with pytest.warns(UserWarning, match="cannot save a fold .*No space left"):
        result = engine.run(estimator=Ridge(alpha=2.0), checkpoint_dir=tmp_path / "full")
    assert len(result.folds) == len(plain.folds)


def test_columns_no_pnl_can_be_booked_on_are_refused_before_any_fit(panel):
    """Each of these ran every fold first: an all-NaN return column ended in an
    IndexError from the portfolio, percent or price returns printed a drawdown of -7
    (or a Sharpe of -33), a repeated column an AttributeError."""
    kwargs = dict(target="fwd_ret", features=["ret_1", "ret_5"], train_days=100,
                  test_days=50, step_days=50, min_train_samples=1)  # fmt: skip
    cases = {
        "return_col 'r' holds no values": panel.assign(r=np.nan),
        "return_col 'r' holds 1 infinite": panel.assign(
            r=panel["fwd_ret"].where(np.arange(len(panel)) != 5, np.inf)
        ),  # fmt: skip
        "not a one-period return: its median size": panel.assign(r=panel["fwd_ret"] * 100),
        "below -1 \\(the lowest -3\\).* log returns .* numpy.expm1": panel.assign(
            r=panel["fwd_ret"].where(np.arange(len(panel)) != 5, -3.0)
        ),  # fmt: skip
        "is not a one-period return": panel.assign(r=100 + panel["fwd_ret"].cumsum()),
    }
    for message, data in cases.items():
        with pytest.raises(ValueError, match=message), warnings.catch_warnings():
            warnings.simplefilter("error")  # refused first: no horizon read from a price
            WalkForwardEngine(data, return_col="r", **kwargs)
    with pytest.raises(ValueError, match="target 'fwd_ret' holds no values"):
        WalkForwardEngine(panel.assign(r=panel["fwd_ret"], fwd_ret=np.nan), return_col="r",
                          **{**kwargs, "features": ["ret_5"]})  # fmt: skip
    repeated = pd.concat([panel, panel[["ret_1"]]], axis=1)
    with pytest.raises(ValueError, match="repeated column names: 'ret_1'"):
        WalkForwardEngine(repeated, **kwargs)
    for features in (None, ["ret_1"], "ret_1"):  # plan_labels itself (train-all uses it)
        with pytest.raises(ValueError, match="repeated column names: 'ret_1'"):
            plan_labels(repeated, "fwd_ret", "ret_1" if features else None, features)
    with pytest.raises(ValueError, match="features names 'ret_1' more than once"):
        WalkForwardEngine(panel, **{**kwargs, "features": ["ret_1", "ret_1"]})
    for bad in ("notadate", 2015):  # 2015 read as 1970-01-01 plus 2015 ns
        with pytest.raises(ValueError, match=f"min_test_date must be a date, got {bad!r}"):
            WalkForwardEngine(panel, min_test_date=bad, **kwargs)
    unused = pd.concat([panel, panel[["alpha_1"]]], axis=1)  # repeated, never read
    assert WalkForwardEngine(unused, **kwargs).features_ == ["ret_1", "ret_5"]
    once = WalkForwardEngine(panel, **{**kwargs, "features": iter(["ret_1", "ret_5"])})
    assert once.features_ == ["ret_1", "ret_5"]  # an iterator is read once
    engine = WalkForwardEngine(panel, **kwargs)
    with pytest.raises(ValueError, match="config must be a dict .* load_model_config"):
        engine.run("lightgbm", config="aggressive")
    with pytest.warns(UserWarning, match="features 'ret_5' hold no values \\(all NaN\\)"):
        WalkForwardEngine(panel.assign(ret_5=np.nan), **kwargs)


class LockedRidge(Ridge):
    """A Ridge whose fitted state does not pickle (a lock)."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.lock_ = threading.Lock()
        return self


def test_last_model_is_none_when_it_does_not_pickle_or_the_run_stopped(panel, tmp_path):
    """An unpicklable fitted model crashed the run (it travels back from a worker and
    into its checkpoint); a run stopped early kept an earlier run's last_model_."""
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    plain = WalkForwardEngine(panel, n_jobs=1, **kwargs).run(estimator=Ridge())
    for n_jobs in (1, 2):
        engine = WalkForwardEngine(panel, n_jobs=n_jobs, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # n_jobs=1: "does not pickle"
            result = engine.run(estimator=LockedRidge(), checkpoint_dir=tmp_path / str(n_jobs))
        assert engine.last_model_ is None
        pd.testing.assert_frame_equal(result.predictions, plain.predictions)
    engine = WalkForwardEngine(panel, n_jobs=1, **kwargs)
    with pytest.warns(UserWarning, match="The last fold's model does not pickle"):
        engine.run(estimator=LockedRidge())
    engine.run(estimator=Ridge())
    assert engine.last_model_ is not None

    def stop(k, scores):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine.run(estimator=Ridge(alpha=99.0), on_fold=stop)
    assert engine.last_model_ is None


def test_icir_of_a_constant_daily_ic_follows_the_sharpe_convention():
    """A model whose daily IC is 1.0 on every date made ICIR 1.0 / 0.0: +inf with numpy's
    "divide by zero" RuntimeWarning, which `skquant tune` printed as a stray line."""
    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    data = panel.assign(copy=panel["fwd_ret"])  # a perfect ranking on every date
    engine = WalkForwardEngine(data, target="fwd_ret", features=["copy"], leak_threshold=None,
                               train_days=60, test_days=30, step_days=30,
                               min_train_samples=1)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = engine.run(estimator=LinearRegression())
    assert result.summary["ic"] == pytest.approx(1.0)
    assert result.summary["icir"] == np.inf


class VariantProbe(Ridge):
    """A Ridge that records the MODEL_VARIANT its fit saw (a trainer reads it there)."""

    def fit(self, X, y):
        self.variant_ = os.environ.get("MODEL_VARIANT")
        return super().fit(X, y)


def test_parallel_folds_see_this_runs_model_variant(panel, monkeypatch):
    """A trainer without a config reads MODEL_VARIANT at fit, and a reused worker
    process keeps the environment it started with: after MODEL_VARIANT=conservative,
    n_jobs=2 fitted the balanced variant (n_estimators 1500 against 3000), and the
    checkpoints, keyed by the run's variant, kept those folds as conservative (audit)."""
    kwargs = dict(target="fwd_ret", train_days=100, test_days=50, step_days=50, min_train_samples=1)
    monkeypatch.delenv("MODEL_VARIANT", raising=False)
    engine = WalkForwardEngine(panel, n_jobs=2, **kwargs)
    for variant in (None, "conservative", None):  # the first run starts the workers
        if variant is None:
            monkeypatch.delenv("MODEL_VARIANT", raising=False)
        else:
            monkeypatch.setenv("MODEL_VARIANT", variant)
        engine.run(estimator=VariantProbe())
        assert engine.last_model_.variant_ == variant


def test_data_without_a_date_level_names_its_levels_and_the_fix(panel):
    """A panel read back with its dates in a column (reset_index, a CSV) or indexed by
    (symbol, bar number) was refused with only its index type ("MultiIndex"): now the
    error lists the levels and their dtypes, and the set_index call when a column
    holds the dates."""
    kw = {"target": "fwd_ret", "train_days": 40, "test_days": 20, "min_train_samples": 1}
    flat = panel.reset_index()
    with pytest.raises(ValueError, match=re.escape("data.set_index(['date', 'symbol'])")):
        WalkForwardEngine(flat, **kw)
    with pytest.raises(ValueError, match=re.escape("data.set_index('date', append=True)")):
        WalkForwardEngine(flat.set_index("symbol"), **kw)
    by_bar = flat.assign(bar=flat.groupby("symbol").cumcount()).drop(columns="date")
    with pytest.raises(ValueError, match=r"level\(s\) 'symbol' \(object\), 'bar' \(int64\)"):
        WalkForwardEngine(by_bar.set_index(["symbol", "bar"]), **kw)
    text = flat.assign(date=flat["date"].astype(str)).rename(columns={"date": "Timestamp"})
    with pytest.raises(ValueError, match=re.escape("pd.to_datetime(data['Timestamp'])")):
        WalkForwardEngine(text.set_index("symbol"), **kw)


def test_fold_table_says_how_many_periods_each_row_rests_on():
    """A fold's Sharpe, drawdown and profit factor rest on its dates with a booked
    return, which the table did not show (n_test counts rows of every symbol, and
    dates whose return is unknown, as the data's last, book none)."""
    panel = make_synthetic_panel(n_symbols=3, n_days=130, random_state=0)
    last = panel.index.get_level_values("date") == panel.index.get_level_values("date").max()
    panel.loc[last, "fwd_ret"] = np.nan  # the last date's next return is not known yet
    engine = WalkForwardEngine(
        panel, target="fwd_ret", features=["alpha_1", "alpha_2"], train_days=40,
        test_days=30, step_days=30, min_train_samples=10,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = engine.run(estimator=Ridge())
    folds = result.folds
    assert folds["n_periods"].tolist() == [30, 30, 28]  # 29 test dates, the last unbooked
    assert (folds["n_test"] == [90, 90, 87]).all()
    fold = result.returns["net"][result.to_frame()["fold"] == 2]
    assert folds["n_periods"].iloc[-1] == fold.notna().sum()
    assert folds["sharpe"].iloc[-1] == pytest.approx(sharpe_ratio(fold.dropna()))


def _ic_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "summary ic rests on" in str(w.message)]


def test_summary_ic_says_how_many_test_dates_it_rests_on():
    """summary["ic"] and ["icir"] left out the dates whose IC is undefined (constant
    predictions across the date's symbols, or one row) without a word: a model that
    ranked on a fifth of its dates and was flat on the rest printed IC 1.0."""
    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    dates = panel.index.get_level_values("date")
    distinct = dates.unique()
    flat = dates.isin(distinct[::5])  # the model sees no difference between symbols
    data = panel.assign(copy=np.where(flat, 0.0, panel["fwd_ret"]))
    data = data.drop(index=data.index[dates == distinct[101]][1:])  # one row on that date
    engine = WalkForwardEngine(data, target="fwd_ret", features=["copy"], leak_threshold=None,
                               train_days=60, test_days=30, step_days=30,
                               min_train_samples=1)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = engine.run(estimator=LinearRegression())
    tested = pd.DatetimeIndex(result.returns.index)
    undefined = int(tested.isin(distinct[::5]).sum()) + int(distinct[101] in tested)
    assert undefined > 20
    assert result.summary["ic"] == pytest.approx(1.0)
    (message,) = _ic_warnings(caught)
    n = len(tested)
    assert message.startswith(f"summary ic rests on {n - undefined} of {n} test dates")
    assert f"{undefined} dates had an undefined IC" in message
    # a re-evaluation trades the same predictions: the same note
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result.evaluate(cost_bps=5)
    assert _ic_warnings(caught) == [message]


def test_summary_ic_note_is_silent_when_every_date_has_an_ic_or_one_symbol():
    """No note when every test date has an IC, nor when none has (ic NaN, no mean over
    fewer dates): one series, whose dates each hold one row (the IC is cross-sectional),
    or a model that predicted one constant (the engine warns of that itself)."""
    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    kw = dict(target="fwd_ret", features=["alpha_1", "alpha_2"], train_days=60, test_days=30,
              step_days=30, min_train_samples=1)  # fmt: skip
    one = panel.xs("SYM000", level="symbol", drop_level=False)
    for data, model in ((panel, Ridge()), (panel, DummyRegressor()), (one, Ridge()),
                        (one.droplevel("symbol"), Ridge())):  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = WalkForwardEngine(data, **kw).run(estimator=model)
        assert _ic_warnings(caught) == []  # a constant model: ic NaN, and its own warning
    assert np.isnan(result.summary["ic"])  # one series: no cross-section


def test_an_explicit_year_the_dates_contradict_warns_once_per_run():
    """periods_per_year=252 on weekly data was taken silently: every annualised figure
    of the run inflated, the Sharpe ratio sqrt(252 / 52) = 2.2x. It warns once, when
    the engine reads the data, not again for each fold; the year the dates tell is
    silent."""
    panel = make_synthetic_panel(n_symbols=3, n_days=120, random_state=0)
    days = panel.index.get_level_values("date")
    weeks = pd.date_range("2015-01-02", periods=days.nunique(), freq="W-FRI")
    weekly = panel.set_axis(  # the same rows, one date a week
        pd.MultiIndex.from_arrays(
            [weeks[days.factorize(sort=True)[0]], panel.index.get_level_values("symbol")],
            names=["date", "symbol"],
        )
    )
    kw = dict(target="fwd_ret", features=["alpha_1", "alpha_2"], train_days=40, test_days=20,
              step_days=20, min_train_samples=10)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine = WalkForwardEngine(weekly, periods_per_year=252, **kw)
        result = engine.run(estimator=LinearRegression(), metrics=["sharpe", "sortino"])
    said = [str(w.message) for w in caught if "periods_per_year=252" in str(w.message)]
    assert len(result.folds) == 4 and len(said) == 1, said
    assert "the dates tell 52 periods a year" in said[0] and "2.2x too high" in said[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        right = WalkForwardEngine(weekly, **kw)
        inferred = right.run(estimator=LinearRegression(), metrics=["sharpe"])
    assert right.periods_per_year_ == 52.0
    assert not [w for w in caught if "periods_per_year" in str(w.message)]
    assert result.summary["sharpe"] == pytest.approx(inferred.summary["sharpe"] * np.sqrt(252 / 52))


def test_a_binary_target_by_model_name_is_fitted_as_classification():
    """run("lightgbm", config) on a 0/1 target (y_will_peak) regressed on it and took
    the sign of the regression, a probability estimate in [0, 1]: every position +1,
    the run's Sharpe exactly the equal-weight benchmark's (0.865 and 0.865 on this
    panel), though the contract trades a binary target by the probability above or
    below 0.5, as the walkforward command and SingleTaskStrategy fit it. A task the
    config sets stays the user's."""
    from sklearn.base import is_classifier

    from skquant.models._base import BinaryTargetWarning

    panel = make_synthetic_panel(n_symbols=4, n_days=400, random_state=1)
    config = load_model_config("lightgbm", overrides={"n_estimators": 10, "n_jobs": 1})
    kw = dict(target="y_will_peak", return_col="fwd_ret", train_days=150, test_days=50,
              step_days=50, min_train_samples=100)  # fmt: skip
    engine = WalkForwardEngine(panel, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinaryTargetWarning)
        result = engine.run("lightgbm", config)
    assert is_classifier(engine.last_model_) and "task" not in config
    position = result.predictions["position"]
    assert set(position.unique()) == {-1.0, 1.0}
    assert (position == np.sign(result.predictions["prediction"] - 0.5)).all()
    assert result.summary["sharpe"] != pytest.approx(result.summary["benchmark_sharpe"])
    chosen = WalkForwardEngine(panel, **kw)
    with pytest.warns(UserWarning, match="same side"):
        chosen.run("lightgbm", {**config, "task": "regression"})
    assert not is_classifier(chosen.last_model_)


def _clock_symbol(name, stamps, seed):
    """One symbol's rows on its own ``stamps``: a feature and its next-row return."""
    rng = np.random.default_rng(seed)
    price = pd.Series(100 * np.exp(np.cumsum(rng.normal(5e-4, 0.01, len(stamps)))))
    frame = pd.DataFrame(
        {"r1": price.pct_change().to_numpy(), "fwd_ret": (price.shift(-1) / price - 1).to_numpy()},
        index=pd.MultiIndex.from_arrays(
            [pd.DatetimeIndex(stamps), [name] * len(stamps)], names=["date", "symbol"]
        ),
    )
    return frame.dropna()


@pytest.mark.filterwarnings("ignore:the model took the same side")
def test_the_engine_refuses_symbols_whose_dates_do_not_line_up():
    """Daily bars stamped at each symbol's close, A at 16:00 and B at 17:00: every
    panel date held one symbol, and the run was annualised by 504 a year with a
    turnover of 2.00 a period and an IC of NaN (15 folds where 6 are right), silently
    (both at 16:00: 252, turnover 0.01). Refused, naming the symbols' times."""
    days = pd.bdate_range("2018-01-01", periods=400)
    kwargs = dict(target="fwd_ret", features=["r1"], train_days=252, test_days=63,
                  step_days=63, min_train_samples=100)  # fmt: skip
    same = pd.concat(
        [_clock_symbol(s, days + pd.Timedelta(16, unit="h"), i) for i, s in enumerate("AB")]
    )
    assert WalkForwardEngine(same, **kwargs).run(estimator=Ridge()).summary["turnover"] < 1
    apart = pd.concat(
        [_clock_symbol("A", days + pd.Timedelta(16, unit="h"), 0),
         _clock_symbol("B", days + pd.Timedelta(17, unit="h"), 1)]
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"'A' at 16:00, 'B' at 17:00.*504.*normalize"):
        WalkForwardEngine(apart, **kwargs).run(estimator=Ridge())
    # one symbol off the others' clock is named alone
    off = pd.concat([same, _clock_symbol("C", days + pd.Timedelta(17, unit="h"), 2)])
    with pytest.raises(ValueError, match=r"'C' at 17:00, the other symbols \('A', 'B'\) at 16:00"):
        WalkForwardEngine(off, **kwargs).run(estimator=Ridge())


def test_the_engine_refuses_symbols_at_different_frequencies_off_one_clock():
    """Hourly bars from 9:30 beside daily bars stamped at midnight: the panel's dates
    interleave two clocks (1764 and 252 a year), refused. A weekly symbol on Fridays
    beside a daily one was refused too ("different frequencies", 52 and 252 a year),
    though its dates are the daily symbol's: it is a sparse symbol on the panel's
    clock, whose fwd_ret_3 reaches 15 panel dates ahead past an embargo of 3, so it
    passes with a LeakageWarning saying so (at the user's line)."""
    from skquant.leakage import LeakageWarning

    daily = _clock_symbol("D", pd.bdate_range("2015-01-01", periods=500), 0)
    weekly = _clock_symbol("W", pd.date_range("2015-01-02", periods=100, freq="W-FRI"), 1)
    with pytest.warns(LeakageWarning, match=r"1 symbol of data skips.*'W' \(20%\)") as caught:
        WalkForwardEngine(
            pd.concat([daily, weekly]), target="fwd_ret", features=["r1"], train_days=252,
            test_days=63, min_train_samples=100,
        )  # fmt: skip
    clock = [w for w in caught if "skips many" in str(w.message)]
    assert len(clock) == 1 and clock[0].filename == __file__
    days = pd.bdate_range("2024-01-01", periods=60)
    hours = pd.DatetimeIndex([d + pd.Timedelta(9.5 + i, unit="h") for d in days for i in range(7)])
    hourly = pd.concat([_clock_symbol("H", hours, 2), _clock_symbol("D", days, 3)])
    with pytest.raises(ValueError, match=r"1764 a year: 'H'; 252 a year: 'D'.*not the denser"):
        WalkForwardEngine(hourly, target="fwd_ret", features=["r1"]).run(estimator=Ridge())


def _clock_cases():
    """Panels of symbols on one clock, each with one sparse or gappy symbol 'X'."""
    rng = np.random.default_rng(0)
    days = pd.bdate_range("2020-01-01", periods=500)
    liquid = {f"L{i}": days for i in range(3)}
    minutes = pd.DatetimeIndex(
        [d + pd.Timedelta(570 + m, unit="min") for d in days[:20] for m in range(390)]
    )
    hours = pd.DatetimeIndex(
        [d + pd.Timedelta(9.5 + h, unit="h") for d in days[:200] for h in range(7)]
    )
    return {
        # sparse on the panel's dates: warned
        "45% of days": (liquid | {"X": days[rng.random(500) < 0.45]}, "warn"),
        "60% of days": (liquid | {"X": days[rng.random(500) < 0.6]}, "warn"),
        "12 trades, delisted": (liquid | {"X": days[300:420:10]}, "warn"),
        "Mon/Wed/Fri": (liquid | {"X": days[days.dayofweek.isin([0, 2, 4])]}, "warn"),
        "1-min, 55% of bars": (
            {"A": minutes, "B": minutes, "X": minutes[rng.random(len(minutes)) < 0.55]},
            "warn",
        ),
        "hourly, 50% of bars": (
            {"A": hours, "B": hours, "X": hours[rng.random(len(hours)) < 0.5]},
            "warn",
        ),
        "weekday hours beside 24/7 hours": (
            {
                "A": pd.date_range("2020-01-01", periods=24 * 60, freq="h"),
                "X": pd.DatetimeIndex(
                    [d + pd.Timedelta(10 + h, unit="h") for d in days[:40] for h in range(7)]
                ),
            },
            "warn",
        ),
        # a few missing dates, however long: silent
        "90% of days": (liquid | {"X": days[rng.random(500) < 0.9]}, "silent"),
        "3-month halt": (liquid | {"X": days.delete(slice(100, 163))}, "silent"),
        "3 missing days": (liquid | {"X": days.delete([5, 50, 200])}, "silent"),
        "late listing": (liquid | {"X": days[-30:]}, "silent"),
        "weekdays beside 24/7": (
            liquid | {"X": pd.date_range("2020-01-01", periods=700, freq="D")},
            "silent",
        ),
    }


@pytest.mark.parametrize("case", list(_clock_cases()))
def test_the_panel_clock_warns_of_sparse_symbols_and_not_of_gaps(case):
    """A sparse symbol on the panel's dates was refused as "different frequencies",
    blocking the whole panel: trading on 45% of days (126 a year against 252; its
    5-row labels reach up to 26 panel dates), a delisting stock's 12 sporadic trades
    (26 a year), Mon/Wed/Fri, 55% of minute bars, 50% of hourly bars; one trading on
    60% of days passed silently with the same leak (up to 17 panel dates), and so did
    weekday hourly bars beside 24/7 hourly ones (a 7-bar label reaching 72 panel bars:
    one step in seven skips, but ~17 bars a night). Now each passes with one
    LeakageWarning naming it with its share of the panel's dates (a third of its steps
    skip a panel date or more, or it holds less than half of the panel's dates);
    halts, listings, a few missing days, 90% of days and a weekday daily symbol beside
    a 24/7 one stay silent."""
    from skquant.leakage import LeakageWarning
    from skquant.utils._panel import check_panel_clock

    stamps, expected = _clock_cases()[case]
    index = pd.MultiIndex.from_tuples(
        [(t, s) for s, ix in stamps.items() for t in ix], names=["date", "symbol"]
    )
    if expected == "silent":
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_panel_clock(index)
        return
    with pytest.warns(LeakageWarning) as caught:
        check_panel_clock(index)
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    panel_dates = index.get_level_values("date").unique()
    x = stamps["X"]
    share = len(x) / ((panel_dates >= x[0]) & (panel_dates <= x[-1])).sum()
    assert "1 symbol of data skips many of the panel's dates" in message
    assert f"'X' ({share:.0%})" in message, message
    assert "embargo_days='auto'" in message and "longer embargo_days" in message


def test_the_panel_clock_passes_listings_holidays_and_24_7_symbols():
    """Symbols that start and stop at different dates, markets with different holidays,
    a daily 24/7 symbol beside weekday ones, and symbols with too few dates to judge
    are one clock: none is refused."""
    from skquant.utils._panel import check_panel_clock

    days = pd.bdate_range("2020-01-01", periods=300)
    us, uk = days.drop(days[[10, 50, 120]]), days.drop(days[[11, 80, 200]])
    panel = pd.concat(
        [_clock_symbol("US", us, 0), _clock_symbol("UK", uk, 1),
         _clock_symbol("NEW", days[150:], 2), _clock_symbol("OLD", days[:100], 3),
         _clock_symbol("BTC", pd.date_range("2020-01-01", periods=420), 4),
         _clock_symbol("ODD", days[:5] + pd.Timedelta(17, unit="h"), 5)]
    )  # fmt: skip
    check_panel_clock(panel.index)
    check_panel_clock(panel.index.swaplevel())  # (symbol, date) too
    engine = WalkForwardEngine(
        panel, target="fwd_ret", features=["r1"], train_days=100, test_days=50,
        min_train_samples=50,
    )  # fmt: skip
    assert engine.periods_per_year_ == 365  # the union of the calendars: weekends traded


def _sparse_symbol_closes():
    """Closes of A and B on 300 weekdays and X on 45% of them, by (date, symbol)."""
    days = pd.bdate_range("2020-01-01", periods=300)
    rng = np.random.default_rng(0)
    sparse = days[np.sort(rng.choice(300, 135, replace=False))]  # 45% of the days
    return pd.concat(
        [
            pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(ix)))), index=ix)
            for ix in (days, days, sparse)
        ],
        keys=["A", "B", "X"],
        names=["symbol", "date"],
    ).swaplevel()


def test_labels_made_on_the_panel_record_a_sparse_symbols_reach_and_are_not_warned():
    """make_labels on the whole panel records how far a sparse symbol's labels reach
    (``spans``) and the engine's ``embargo_days="auto"`` covers it, yet the engine
    still warned that the symbol skips the panel's dates. Without that record it
    warns, once."""
    from skquant import make_labels
    from skquant.leakage import LeakageWarning

    close = _sparse_symbol_closes()
    labels = make_labels(close.rename("close"), horizon=5)
    assert labels.attrs["skquant_labels"].get("spans")  # X's labels reach further
    data = labels.assign(r1=close.groupby(level="symbol").pct_change()).dropna()
    params = dict(target="fwd_ret_5", features=["r1"], return_col="fwd_ret",
                  train_days=100, test_days=50, min_train_samples=50)  # fmt: skip
    data.attrs = labels.attrs
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeakageWarning)
        WalkForwardEngine(data, **params)._prepare()
    data.attrs = {}
    with pytest.warns(LeakageWarning, match="skips many of the panel's dates"):
        WalkForwardEngine(data, **params)._prepare()


def test_a_target_make_labels_did_not_record_still_warns_of_a_sparse_symbol():
    """make_labels recorded the spans of its own labels, yet the engine left out the
    sparse-symbol warning for a target of the user's (a 10-row return per symbol)
    whose reach it never recorded: embargo_days 10, no warning, though the sparse
    symbol's 10 rows span far more panel dates. Likewise an embargo given in dates,
    which the record does not widen."""
    from skquant import make_labels
    from skquant.leakage import LeakageWarning

    close = _sparse_symbol_closes()
    labels = make_labels(close.rename("close"), horizon=5)
    by_symbol = close.groupby(level="symbol")
    data = labels.assign(
        r1=by_symbol.pct_change(), my_ret_10=by_symbol.shift(-10) / close - 1
    ).dropna()
    data.attrs = labels.attrs
    assert "my_ret_10" not in data.attrs["skquant_labels"]["spans"]
    params = dict(features=["r1"], return_col="fwd_ret", train_days=100, test_days=50,
                  min_train_samples=50)  # fmt: skip
    with pytest.warns(LeakageWarning, match="skips many of the panel's dates"):
        WalkForwardEngine(data, target="my_ret_10", **params)._prepare()
    with pytest.warns(LeakageWarning, match="skips many of the panel's dates"):
        WalkForwardEngine(data, target="fwd_ret_5", embargo_days=5, **params)._prepare()
    with warnings.catch_warnings():  # the recorded target, embargo "auto": covered
        warnings.simplefilter("error", LeakageWarning)
        WalkForwardEngine(data, target="fwd_ret_5", **params)._prepare()
