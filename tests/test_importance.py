"""Explanations: ``get_feature_importance(kind=...)``, ``walk_forward_importance``,
``train-all --importance shap``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from skquant import (
    FTRLProximalTrainer,
    GMMRegimeTrainer,
    LightGBMTrainer,
    PurgedKFold,
    QuantileLightGBMTrainer,
    WalkForwardSplit,
    XGBoostTrainer,
    make_synthetic_panel,
)
from skquant.inspection import walk_forward_importance

FEATURES = ["signal", "noise_1", "noise_2", "noise_3"]
FAST = {"n_estimators": 40, "learning_rate": 0.3, "n_jobs": 1, "random_state": 0}


def _data(n=300, seed=0, task="regression"):
    """One informative feature (``signal``) among noise, dated rows."""
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, len(FEATURES))),
        columns=FEATURES,
        index=pd.bdate_range("2020-01-01", periods=n, name="date"),
    )
    y = 0.01 * X["signal"] + 0.004 * rng.normal(size=n)
    y = (y > 0).astype(int) if task == "classification" else y.rename("fwd_ret")
    return X, y


def _trainer(family, task, **params):
    cls = {"lightgbm": LightGBMTrainer, "xgboost": XGBoostTrainer}[family]
    extra = {"min_child_samples": 5} if family == "lightgbm" else {}
    return cls(task=task, **{**FAST, **extra, **params})


def _library_contributions(trainer, X):
    """The library's own ``pred_contrib`` of the trees the trainer keeps: (n, n_features + 1)."""
    if isinstance(trainer, LightGBMTrainer):
        booster = trainer.model_.booster_
        return booster.predict(
            X.to_numpy(), pred_contrib=True, num_iteration=trainer.best_iteration_
        )
    import xgboost as xgb

    booster = trainer.model_.get_booster()
    kept = (0, trainer.best_iteration_ or 0)
    return booster.predict(xgb.DMatrix(X.to_numpy()), pred_contribs=True, iteration_range=kept)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost"])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_shap_is_the_mean_absolute_library_contribution(family, task):
    X, y = _data(task=task)
    # early stopping on a short patience, so the kept trees are fewer than the fitted ones
    trainer = _trainer(family, task, n_estimators=200, early_stopping_rounds=3)
    trainer.fit(X.iloc[:200], y.iloc[:200])
    X_new = X.iloc[200:]
    assert trainer.best_iteration_ is not None and trainer.best_iteration_ < 200

    contrib = _library_contributions(trainer, X_new)
    # sum property: the contributions plus the bias give the trainer's raw prediction
    if task == "regression":
        raw = trainer.predict(X_new)
    else:
        p = trainer.predict_proba(X_new)[:, 1]
        raw = np.log(p / (1 - p))
    np.testing.assert_allclose(contrib.sum(axis=1), raw, rtol=1e-5, atol=1e-5)

    importance = trainer.get_feature_importance(kind="shap", X=X_new)
    expected = pd.Series(np.abs(contrib[:, :-1]).mean(axis=0), index=FEATURES)
    assert importance.name == "importance" and importance.index.name == "feature"
    assert importance.is_monotonic_decreasing
    np.testing.assert_allclose(importance[FEATURES], expected[FEATURES], rtol=1e-6, atol=1e-12)
    assert importance.index[0] == "signal"


def test_shap_multiclass_averages_the_classes():
    X, _ = _data()
    y = np.digitize(X["signal"], [-0.5, 0.5])  # three classes
    trainer = _trainer("lightgbm", "classification", n_estimators=10).fit(X, y)
    contrib = trainer.model_.booster_.predict(X.to_numpy(), pred_contrib=True)
    per_class = contrib.reshape(len(X), 3, len(FEATURES) + 1)[:, :, :-1]
    importance = trainer.get_feature_importance(kind="shap", X=X)
    expected = np.abs(per_class).mean(axis=(0, 1))
    np.testing.assert_allclose(importance[FEATURES], expected, rtol=1e-6)


def test_shap_quantile_lightgbm_averages_the_quantile_models():
    X, y = _data()
    trainer = QuantileLightGBMTrainer(alpha=[0.1, 0.9], min_child_samples=5, **FAST).fit(X, y)
    expected = np.mean(
        [
            np.abs(m.booster_.predict(X.to_numpy(), pred_contrib=True)[:, :-1]).mean(axis=0)
            for m in trainer.model_
        ],
        axis=0,
    )
    importance = trainer.get_feature_importance(kind="shap", X=X)
    np.testing.assert_allclose(importance[FEATURES], expected, rtol=1e-6)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_permutation_ranks_the_informative_feature_first(task):
    # Over three data sets (seeds 0-2), shuffling `signal` must cost at least three
    # times more score than shuffling the noisiest other feature: a margin, not a tie
    # broken by luck. The noise features carry no information, so their decrease is
    # near zero (it can be slightly negative).
    for seed in range(3):
        X, y = _data(n=400, seed=seed, task=task)
        trainer = _trainer("lightgbm", task).fit(X.iloc[:250], y.iloc[:250])
        importance = trainer.get_feature_importance(
            kind="permutation", X=X.iloc[250:], y=y.iloc[250:]
        )
        assert importance.index[0] == "signal"
        assert importance["signal"] > 3 * importance.drop("signal").abs().max()
        assert importance["signal"] > 0


def test_permutation_repeats():
    X, y = _data()
    trainer = _trainer("xgboost", "regression").fit(X.iloc[:200], y.iloc[:200])
    first = trainer.get_feature_importance(kind="permutation", X=X.iloc[200:], y=y.iloc[200:])
    again = trainer.get_feature_importance(kind="permutation", X=X.iloc[200:], y=y.iloc[200:])
    pd.testing.assert_series_equal(first, again)


def test_gain_stays_the_default():
    X, y = _data()
    trainer = _trainer("lightgbm", "regression").fit(X, y)
    default = trainer.get_feature_importance()
    pd.testing.assert_series_equal(default, trainer.get_feature_importance(kind="gain"))
    np.testing.assert_array_equal(
        default[FEATURES].to_numpy(), trainer.model_.feature_importances_.astype(float)
    )


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"kind": "shap"}, "needs X; X missing"),
        ({"kind": "permutation"}, "needs X and y; X and y missing"),
        ({"kind": "permutation", "X": "X"}, "needs X and y; y missing"),
        ({"kind": "permutation", "y": "y"}, "needs X and y; X missing"),
        ({"kind": "split"}, "kind='split'; allowed: 'gain', 'shap', 'permutation'"),
        ({"kind": None}, "allowed: 'gain', 'shap', 'permutation'"),
        # was numpy's "operands could not be broadcast"
        ({"kind": "permutation", "X": "X", "y": "y[:10]"}, "X has 120 rows but y has 10"),
    ],
)
def test_bad_arguments_are_named(kwargs, needle):
    X, y = _data(n=120)
    trainer = _trainer("lightgbm", "regression", n_estimators=5).fit(X, y)
    kwargs = {k: {"X": X, "y": y, "y[:10]": y[:10]}.get(v, v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        trainer.get_feature_importance(**kwargs)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("kind", ["shap", "permutation"])
def test_features_must_match_the_fit_as_in_predict(kind):
    X, y = _data(n=120)
    trainer = _trainer("xgboost", "regression", n_estimators=5).fit(X, y)
    with pytest.raises(ValueError, match="noise_3"):
        trainer.get_feature_importance(kind=kind, X=X.drop(columns="noise_3"), y=y)
    with pytest.raises(ValueError, match="4 features"):
        trainer.get_feature_importance(kind=kind, X=X.to_numpy()[:, :3], y=y)


def test_several_quantiles_are_refused_by_name_wherever_one_score_is_traded():
    """QuantileLightGBMTrainer(alpha=[0.1, 0.5, 0.9]) predicts (n, 3): flattened to 3n
    scores, the engine and the scorers failed with "operands could not be broadcast
    together with shapes (597,) (1791,)", and permutation importance called it a
    multi-task net."""
    from sklearn.model_selection import cross_validate

    from skquant import QuantileLightGBMTrainer, WalkForwardEngine, WalkForwardSplit, get_scorer

    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    X, y = panel[["ret_1", "ret_5"]], panel["fwd_ret"]
    quantiles = {"alpha": [0.1, 0.5, 0.9], "n_estimators": 5, "n_jobs": 1}
    said = r"QuantileLightGBMTrainer predicts 3 values a row \(one per quantile of alpha=\[0.1"
    engine = WalkForwardEngine(panel, target="fwd_ret", features=["ret_1", "ret_5"],
                               train_days=100, test_days=50, step_days=50,
                               min_train_samples=100)  # fmt: skip
    with pytest.raises(ValueError, match="A trading position needs one score a row, but " + said):
        engine.run(estimator=QuantileLightGBMTrainer(**quantiles))
    with pytest.raises(ValueError, match=said):
        engine.run("quantile_lightgbm", quantiles)  # alpha from the config
    cv = WalkForwardSplit(train_days=100, test_days=50, step_days=50, min_train_samples=100)
    with pytest.raises(ValueError, match=said):
        cross_validate(QuantileLightGBMTrainer(**quantiles), X, y, cv=cv,
                       scoring=get_scorer("sharpe"), error_score="raise")  # fmt: skip
    model = QuantileLightGBMTrainer(**quantiles).fit(X, y)
    with pytest.raises(ValueError, match="kind='permutation' needs one score a row, but " + said):
        model.get_feature_importance(kind="permutation", X=X, y=y)
    # a ridge penalty per target is no quantile
    from sklearn.linear_model import Ridge

    from skquant.metrics import predict_positions

    ridge = Ridge(alpha=np.array([1.0, 2.0])).fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match=r"Ridge predicts 2 values a row \(one per output\)"):
        predict_positions(ridge, X)


def test_feature_model_has_no_permutation_score():
    X, _ = _data(n=120)
    gmm = GMMRegimeTrainer(n_components=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="kind='permutation'.*GMMRegimeTrainer"):
        gmm.get_feature_importance(kind="permutation", X=X, y=X["signal"])


def test_permutation_needs_one_predicted_target():
    X, y = _data(n=60)
    trainer = _trainer("lightgbm", "regression", n_estimators=5).fit(X, y)
    with pytest.raises(ValueError, match=r"trades one target; y has shape \(60, 2\)"):
        trainer.get_feature_importance(kind="permutation", X=X, y=pd.concat([y, y], axis=1))


def test_shap_without_the_package_names_the_extra(monkeypatch):
    X, y = _data(n=60)
    trainer = FTRLProximalTrainer().fit(X, y)
    monkeypatch.setitem(__import__("sys").modules, "shap", None)  # import shap fails
    with pytest.raises(ImportError, match=r"skquant\[shap\]"):
        trainer.get_feature_importance(kind="shap", X=X)
    # the exact tree contributions need no package
    assert _trainer("lightgbm", "regression", n_estimators=5).fit(X, y).get_feature_importance(
        kind="shap", X=X
    ).shape == (len(FEATURES),)


@pytest.mark.slow  # importing shap and compiling its numba kernels: 15-20 s on a busy machine
def test_shap_package_on_a_linear_family():
    pytest.importorskip("shap")
    X, y = _data(n=200)
    X_new = X.iloc[-12:]  # few rows: every row is also a background row
    trainer = FTRLProximalTrainer().fit(X.iloc[:-12], y.iloc[:-12])
    importance = trainer.get_feature_importance(kind="shap", X=X_new)
    # a linear model's SHAP value with an independent background is exact:
    # coef_j * (x_ij - mean of the background x_j)
    centred = X_new - X_new.mean()
    expected = (np.abs(centred) * np.abs(np.ravel(trainer.coef_))).mean()
    np.testing.assert_allclose(importance[FEATURES], expected[FEATURES], rtol=1e-6, atol=1e-12)
    assert importance.index[0] == "signal"


def test_shap_refuses_a_model_whose_row_output_reads_earlier_rows():
    # The shap package evaluates masked copies of one row side by side, without the
    # row's past: a model whose output for row t reads the rows before it (a regime
    # filter's trailing volatility, a sequence net's window) was explained as another
    # function (a regime probability off by 1.0 against transform's), silently.
    pytest.importorskip("torch")
    from skquant import LSTMTrainer

    X, y = _data(n=120)
    gmm = GMMRegimeTrainer(n_components=2, volatility_window=10, random_state=0).fit(X)
    assert gmm.history_periods_ > 0
    with pytest.raises(ValueError, match=r"kind='shap'.*GMMRegimeTrainer.*history_periods_"):
        gmm.get_feature_importance(kind="shap", X=X.iloc[-10:])
    lstm = LSTMTrainer(seq_len=4, epochs=1, early_stopping_rounds=0, random_state=0)
    lstm.fit(X.iloc[:100], y.iloc[:100])
    with pytest.raises(ValueError, match=r"kind='shap'.*LSTMTrainer.*seq_len=4"):
        lstm.get_feature_importance(kind="shap", X=X.iloc[-10:])
    # kind="gain" still answers; a model without history is still explained
    assert gmm.get_feature_importance().shape == (len(FEATURES),)
    assert lstm.get_feature_importance().shape == (len(FEATURES),)


def test_shap_refusal_names_the_history_of_a_model_inside_a_pipeline():
    # The refusal read every model without ``history_periods_`` as a sequence net and
    # said "(seq_len=N+1)" of a pipeline, which has no seq_len.
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from skquant.models._explain import check_rows_explainable

    X, y = _data(n=120)
    gmm = GMMRegimeTrainer(n_components=2, volatility_window=10, random_state=0)
    pipe = make_pipeline(gmm, Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="earlier periods of its symbol, read by a model") as err:
        check_rows_explainable(pipe)
    assert "seq_len" not in str(err.value)


def _panel(n_days=220, n_symbols=3, seed=0):
    rng = np.random.RandomState(seed)
    index = pd.MultiIndex.from_product(
        [pd.bdate_range("2021-01-01", periods=n_days), [f"S{k}" for k in range(n_symbols)]],
        names=["date", "symbol"],
    )
    X = pd.DataFrame(rng.normal(size=(len(index), len(FEATURES))), index=index, columns=FEATURES)
    y = 0.01 * X["signal"] + 0.004 * rng.normal(size=len(index))
    return X, y


def test_walk_forward_importance_ranks_the_signal_first():
    X, y = _panel()
    cv = WalkForwardSplit(train_days=100, test_days=40, step_days=40, min_train_samples=50)
    n_folds = cv.get_n_splits(X)
    importance = walk_forward_importance(
        _trainer("lightgbm", "regression", n_estimators=20), X, y, cv=cv, n_repeats=2,
        random_state=0,
    )  # fmt: skip
    folds = [f"fold_{k}" for k in range(n_folds)]
    assert n_folds == 3
    assert list(importance.columns) == ["mean", "std_error", *folds]
    assert importance.shape == (len(FEATURES), 2 + n_folds)
    assert importance.index.name == "feature" and set(importance.index) == set(FEATURES)
    assert importance.index[0] == "signal" and importance["mean"].is_monotonic_decreasing
    per_fold = importance[folds]
    np.testing.assert_allclose(importance["mean"], per_fold.mean(axis=1))
    np.testing.assert_allclose(
        importance["std_error"], per_fold.std(axis=1, ddof=1) / np.sqrt(n_folds)
    )
    assert (importance.loc["signal", folds] > 0).all()
    again = walk_forward_importance(
        _trainer("lightgbm", "regression", n_estimators=20), X, y, cv=cv, n_repeats=2,
        random_state=0,
    )  # fmt: skip
    pd.testing.assert_frame_equal(importance, again)


def test_walk_forward_importance_annualises_every_fold_by_all_the_dates():
    """Each fold's scorer inferred the year from its own test dates: an hourly 24/7
    fold of three weekdays looked like a weekday market (252 * 24 = 6048 hours, not
    8760), so the folds' Sharpe decreases came on two scales (audit)."""
    from sklearn.linear_model import LinearRegression

    from skquant import get_scorer

    rng = np.random.default_rng(0)
    hours = pd.date_range("2024-01-01", periods=24 * 28, freq="h")  # four weeks, 24/7
    X = pd.DataFrame(rng.normal(size=(len(hours), 2)), index=hours, columns=["signal", "noise"])
    y = 0.002 * X["signal"] + rng.normal(0, 0.01, len(hours))
    cv = WalkForwardSplit(train_days=24 * 14, test_days=72, step_days=72, min_train_samples=50)
    kwargs = dict(cv=cv, n_repeats=2, random_state=0)
    importance = walk_forward_importance(LinearRegression(), X, y, **kwargs)
    hourly = get_scorer("sharpe", periods_per_year=24 * 365)
    expected = walk_forward_importance(LinearRegression(), X, y, scoring=hourly, **kwargs)
    pd.testing.assert_frame_equal(importance, expected)


class _LongAfterAnUpTrend(RegressorMixin, BaseEstimator):
    """Trades ``signal``, but after a training window whose y rose (mean above 0.005)
    it goes long on every row: shuffling a feature then moves no position."""

    def fit(self, X, y):
        self.long_only_ = float(np.mean(y)) > 0.005
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.ones(len(X)) if self.long_only_ else X["signal"].to_numpy()


def test_walk_forward_importance_of_an_undefined_score_is_not_called_unmoved():
    """An IC undefined on every fold (a constant model) made every importance NaN, and
    the one-sided-fold rule called those folds "every importance is 0" and dropped
    them: the warning said what had not happened. They stay NaN, as the score."""
    from sklearn.dummy import DummyRegressor

    panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    X, y = panel[["ret_1", "ret_5", "alpha_1"]], panel["fwd_ret"]
    cv = WalkForwardSplit(train_days=100, test_days=50, step_days=50, min_train_samples=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = walk_forward_importance(DummyRegressor(), X, y, cv=cv, scoring="ic")
    assert out.isna().all().all()
    assert not [w for w in caught if "every importance is 0" in str(w.message)]
    assert [w for w in caught if "the IC is undefined" in str(w.message)]
    said = [w for w in caught if "the score is undefined (NaN) in fold_0, fold_1" in str(w.message)]
    assert len(said) == 1 and "mean and std_error are NaN" in str(said[0].message)


def test_walk_forward_importance_leaves_out_a_fold_whose_score_is_undefined():
    """Kept in, one fold whose IC was undefined (a model constant there) made every
    feature's mean and std_error NaN, though the other folds measured them."""
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.linear_model import LinearRegression

    panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    first = panel.index.get_level_values(0).min()

    class ConstantOnFirstFold(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.constant_ = X.index.get_level_values(0).min() == first
            self.linear_ = LinearRegression().fit(X, y)
            self.mean_ = float(np.mean(y))
            return self

        def predict(self, X):
            return np.full(len(X), self.mean_) if self.constant_ else self.linear_.predict(X)

    X, y = panel[["ret_1", "ret_5", "alpha_1"]], panel["fwd_ret"]
    cv = WalkForwardSplit(train_days=100, test_days=50, step_days=50, min_train_samples=1)
    with pytest.warns(
        UserWarning, match=r"score is undefined \(NaN\) in fold_0: .* over the other"
    ):
        out = walk_forward_importance(ConstantOnFirstFold(), X, y, cv=cv, scoring="ic")
    measured = out[["fold_1", "fold_2", "fold_3"]]
    assert out["fold_0"].isna().all() and measured.notna().all().all()
    pd.testing.assert_series_equal(out["mean"], measured.mean(axis=1), check_names=False)


def test_walk_forward_importance_leaves_out_a_fold_that_took_one_side():
    """A fold whose model took one side on every test row has every importance exactly
    0 (no shuffle moves a position): it was averaged in silently (the README's panel:
    alpha_1's mean 0.386 with fold_1's zeros, 0.580 over the other folds) where
    get_feature_importance warns for the same model. It is now NaN, named in one
    warning, and left out of mean and std_error."""
    X, y = _data(n=200)
    cv = WalkForwardSplit(train_days=100, test_days=40, step_days=40, min_train_samples=50)
    folds = ["fold_0", "fold_1", "fold_2"]
    kwargs = dict(cv=cv, n_repeats=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every fold trades the signal: quiet
        normal = walk_forward_importance(_LongAfterAnUpTrend(), X, y, **kwargs)
    assert normal[folds].notna().all().all() and (normal.loc["signal", folds] > 0).all()

    up = y.copy()
    up.iloc[:40] += 0.02  # only fold_0's training window rose
    with pytest.warns(UserWarning, match="every importance is 0 in fold_0: .*took one side") as w:
        importance = walk_forward_importance(_LongAfterAnUpTrend(), X, up, **kwargs)
    unmoved = [x for x in w if "every importance is 0" in str(x.message)]
    assert len(unmoved) == 1 and unmoved[0].filename == __file__
    assert "other 2 of 3 folds" in str(unmoved[0].message)
    assert importance["fold_0"].isna().all()
    kept = importance[["fold_1", "fold_2"]]
    assert kept.notna().all().all()
    np.testing.assert_allclose(importance["mean"], kept.mean(axis=1))
    np.testing.assert_allclose(importance["std_error"], kept.std(axis=1, ddof=1) / np.sqrt(2))
    assert importance.index[0] == "signal"
    # every fold one-sided: nothing is ranked, and the result says so
    with pytest.warns(UserWarning, match="fold_0, fold_1, fold_2: .*no fold ranks"):
        none = walk_forward_importance(_LongAfterAnUpTrend(), X, y + 0.02, **kwargs)
    assert none.isna().all().all()


class _NoFold:
    def split(self, X, y=None, groups=None):
        return iter(())


def test_walk_forward_importance_without_a_fold():
    X, y = _panel(n_days=30)
    with pytest.raises(ValueError, match="yields no fold on these 90 rows"):
        walk_forward_importance(LightGBMTrainer(), X, y, cv=_NoFold())


def test_train_all_writes_a_shap_plot_per_pair(tmp_path):
    from tests.test_cli import fast_config, run_cli, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    base = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--val-days", "20",
            "--config", fast_config(tmp_path, rounds=10, patience=0)]  # fmt: skip
    proc = run_cli(*base, "--importance", "shap")
    assert proc.returncode == 0, proc.stderr
    pair = out / "AAA" / "lightgbm"
    png = (pair / "shap_importance.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    written = pd.read_csv(pair / "shap_importance.csv", index_col=0).iloc[:, 0]
    from skquant import load_model

    val = pd.read_parquet(data / "AAA.parquet").set_index("date").iloc[-20:]
    model = load_model(pair)
    expected = model.get_feature_importance(kind="shap", X=val[list(written.index)])
    np.testing.assert_allclose(written.to_numpy(), expected[written.index].to_numpy())
    # default: no importance plot
    proc = run_cli(*base, "--force", "--output-dir", tmp_path / "plain")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "plain" / "AAA" / "lightgbm" / "shap_importance.png").exists()


def test_strategies_explain_a_target_with_kind_x_and_y():
    """The strategies take ``kind``, ``X`` and ``y`` as the trainers do and give the
    importance of the model that predicts ``target``, scored on ``target``'s column."""
    from skquant import CascadeStrategy, SingleTaskStrategy

    X, y = _data(n=300)
    Y = pd.DataFrame({"fwd_ret": y, "other": X["noise_1"] + 0.1 * y})
    config = {**FAST, "min_child_samples": 5}
    single = SingleTaskStrategy("lightgbm", model_config=config).fit(X.iloc[:200], Y.iloc[:200])
    X_new, Y_new = X.iloc[200:], Y.iloc[200:]
    model = single.estimators_["other"]
    for kind in ("shap", "permutation"):
        expected = model.get_feature_importance(kind=kind, X=X_new, y=Y_new["other"])
        for targets in (Y_new, Y_new.to_numpy()):  # by name, or by position in a 2-D array
            got = single.get_feature_importance(target="other", kind=kind, X=X_new, y=targets)
            pd.testing.assert_series_equal(got, expected)
    # another target's column is never scored as this one's
    with pytest.raises(ValueError, match="y has no column 'other'"):
        single.get_feature_importance("other", "permutation", X_new, Y_new[["fwd_ret"]])
    with pytest.raises(ValueError, match="y is the target 'fwd_ret', not 'other'"):
        single.get_feature_importance("other", "permutation", X_new, Y_new["fwd_ret"])
    unnamed = single.get_feature_importance("other", "permutation", X_new, Y_new["other"].values)
    pd.testing.assert_series_equal(unnamed, expected)

    # a chain: the second stage sees X plus the first stage's prediction
    cascade = CascadeStrategy(
        models=("lightgbm", "lightgbm"),
        model_configs=[config, config],
        target_names=["fwd_ret", "other"],
        n_splits=3,
    ).fit(X.iloc[:200], Y.iloc[:200])
    stage_input = X_new.assign(
        **{cascade.stage_feature_names_[0]: cascade.stages_[0].predict(X_new)}
    )
    for kind in ("shap", "permutation"):
        expected = cascade.stages_[1].get_feature_importance(
            kind=kind, X=stage_input, y=Y_new["other"]
        )
        got = cascade.get_feature_importance(target="other", kind=kind, X=X_new, y=Y_new)
        pd.testing.assert_series_equal(got, expected)
    assert cascade.stage_feature_names_[0] in got.index
    with pytest.raises(ValueError, match=r"no column 'other'.*\['y0', 'y1'\]"):
        # an array's columns are y0, y1 as in fit, not the stages' targets by position
        cascade.get_feature_importance("other", "permutation", X_new, Y_new.to_numpy())
    first = cascade.get_feature_importance(target="fwd_ret", kind="shap", X=X_new)
    assert sorted(first.index) == sorted(FEATURES)


def test_multi_task_strategy_passes_kind_x_and_y_to_its_model():
    """Its net already answers kind= per target (the shap values themselves are tested
    with the nets); the strategy used to refuse the arguments."""
    pytest.importorskip("torch")
    from skquant import MultiTaskStrategy

    X, y = _data(n=120)
    Y = pd.DataFrame({"fwd_ret": y, "other": 2 * X["noise_1"]})  # not a column of X
    config = {"epochs": 2, "hidden_layer_sizes": [4], "device": "cpu", "random_state": 0}
    multi = MultiTaskStrategy(model_config=config).fit(X, Y)
    pd.testing.assert_series_equal(
        multi.get_feature_importance(target="other", kind="gain"),
        multi.estimator_.get_feature_importance(target="other"),
    )
    with pytest.raises(ValueError, match="kind='shap' needs X"):
        multi.get_feature_importance(target="other", kind="shap")
    with pytest.raises(ValueError, match=r"predicts 2 values a row \(one per target \['fwd"):
        multi.get_feature_importance(kind="permutation", X=X.iloc[:8], y=Y.iloc[:8])


class _LagModel(RegressorMixin, BaseEstimator):
    """Predicts each row from the row before it of the same symbol: it reads one
    earlier period (``history_periods_``), as a sequence net or a causal filter does."""

    def fit(self, X, y):
        self.history_periods_ = 1
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        signal = X["signal"]
        if isinstance(X.index, pd.MultiIndex):
            return signal.groupby(level="symbol").shift(1).fillna(0.0).to_numpy()
        return signal.shift(1).fillna(0.0).to_numpy()


@pytest.mark.parametrize("panel", [False, True])
def test_walk_forward_importance_gives_each_test_fold_its_history(panel, recwarn):
    """A model that reads earlier rows was scored on each fold's test rows alone: the
    first date of every fold was predicted without the row before it (the trading
    scorer warned that the score was not the model's). The fold's test rows are now
    predicted after the rows of the dates before them, as by the walk-forward engine."""
    X, y = _panel(n_days=200) if panel else _data(n=200)
    seen = []

    def scoring(model, X_test, y_test):
        seen.append((X_test.index, np.asarray(model.predict(X_test))))
        return 0.0

    cv = WalkForwardSplit(train_days=100, test_days=40, step_days=40, min_train_samples=50)
    walk_forward_importance(_LagModel(), X, y, cv=cv, scoring=scoring, n_repeats=1)
    unbroken = pd.Series(_LagModel().fit(X, y).predict(X), index=X.index)
    baselines = [entry for k, entry in enumerate(seen) if k % (1 + len(FEATURES)) == 0]
    assert len(baselines) == cv.get_n_splits(X) == 3
    for index, predicted in baselines:
        np.testing.assert_allclose(predicted, unbroken.loc[index].to_numpy())
    for splitter in (cv, PurgedKFold(n_splits=3)):  # a PurgedKFold fold starts at date 0
        walk_forward_importance(_LagModel(), X, y, cv=splitter, n_repeats=1, random_state=0)
    assert not [w for w in recwarn if "got the test rows alone" in str(w.message)]


class _LagClassifier(ClassifierMixin, BaseEstimator):
    """A classifier with only ``predict_proba`` that reads one earlier period."""

    def fit(self, X, y):
        self.history_periods_ = 1
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        up = 1.0 / (1.0 + np.exp(-X["signal"].shift(1).fillna(0.0).to_numpy()))
        return np.column_stack([1.0 - up, up])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]


def test_walk_forward_importance_with_history_takes_scikit_learn_scorers():
    """roc_auc asks for decision_function first: the history wrapper offered one the
    model lacks, and the scorer raised AttributeError instead of using predict_proba."""
    from sklearn.metrics import get_scorer as sklearn_scorer

    X, y = _data(n=200, task="classification")
    cv = WalkForwardSplit(train_days=100, test_days=40, step_days=40, min_train_samples=50)
    importance = walk_forward_importance(
        _LagClassifier(), X, y, cv=cv, scoring=sklearn_scorer("roc_auc"), n_repeats=1,
        random_state=0,
    )  # fmt: skip
    assert importance.shape == (len(FEATURES), 2 + 3)


@pytest.mark.parametrize("kind", ["gain", "shap", "permutation"])
def test_importance_of_a_model_that_never_split_warns(kind):
    # min_child_samples above the rows: every tree is one leaf, every importance 0,
    # and the sorted Series keeps the column order, which head(60) would select.
    X, y = _data(n=120)
    never_split = LightGBMTrainer(task="regression", **{**FAST, "min_child_samples": 1000})
    never_split.fit(X, y)
    with pytest.warns(UserWarning, match=rf"kind='{kind}'.*every importance is 0.*meaningless"):
        importance = never_split.get_feature_importance(kind=kind, X=X, y=y)
    assert (importance == 0).all()
    assert importance.index.tolist() == FEATURES  # the column order, ranking nothing

    split = _trainer("lightgbm", "regression").fit(X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*every importance is 0")
        assert split.get_feature_importance(kind=kind, X=X, y=y).index[0] == "signal"


def test_all_zero_importance_warning_points_at_the_users_line_through_a_strategy():
    """stacklevel=3 pointed into skquant/strategies/_single.py when a strategy
    delegated get_feature_importance to its trainer: the warning names this line."""
    from skquant.strategies import SingleTaskStrategy

    X, y = _data(n=120)
    strategy = SingleTaskStrategy("lightgbm", {**FAST, "min_child_samples": 1000}).train(X, y)
    for owner in (strategy, strategy.estimators_[strategy.target_names_[0]]):
        with pytest.warns(UserWarning, match="every importance is 0") as record:
            owner.get_feature_importance()
        assert [w.filename for w in record] == [__file__]


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_train_all_says_once_which_models_give_no_shap_importance(tmp_path, n_jobs):
    """A model that cannot be explained row by row (a sequence net) was logged once per
    symbol, ~330 characters each, and at --n-jobs 2 without the "skquant: warning"
    prefix; the run manifest did not keep it. It is now one warning line naming the
    symbols, and each symbol's manifest entry keeps it."""
    pytest.importorskip("torch")
    from tests.test_cli import run_cli, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=120)
    config = tmp_path / "lstm.yaml"
    config.write_text(
        "model: lstm\nvariants:\n  balanced:\n    seq_len: 5\n    hidden_size: 4\n"
        "    epochs: 2\n    device: cpu\n    random_state: 0\n    early_stopping_rounds: 0\n"
    )
    out = tmp_path / "out"
    proc = run_cli("train-all", "--input-dir", data, "--output-dir", out,
                   "--target", "fwd_ret_1d", "--models", "lstm", "--val-days", "20",
                   "--config", config, "--importance", "shap", "--n-jobs", n_jobs)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stderr.splitlines() if "no SHAP importance" in line]
    assert len(said) == 1, proc.stderr
    assert said[0].startswith("skquant: warning: lstm: no SHAP importance: ")
    assert said[0].endswith("(AAA, BBB)")
    manifest = json.loads((out / "run_manifest.json").read_text())
    for entry in manifest["symbols"]:
        kept = entry.get("warnings", [])
        assert any(w.startswith("lstm: no SHAP importance") for w in kept), entry
    assert not (out / "AAA" / "lstm" / "shap_importance.csv").exists()


def test_permutation_says_a_warning_about_y_once():
    """kind='permutation' scores (X, y) once, then once per feature and shuffle, on the
    same y: a warning about y (the README's y_val, a 5-day return booked every period)
    came 1 + 7 features x 5 shuffles = 36 times from one call, however the warning
    filters were set, and from walk_forward_importance that many times a fold (108
    from 3 folds). Each distinct warning is now said once (a fold's own figures make
    its message its own), at the caller's line."""
    panel = make_synthetic_panel(n_symbols=3, n_days=300, random_state=2)
    features = ["ret_1", "ret_5", "ret_21", "vol_21", "range", "alpha_1", "alpha_2"]
    X, y = panel[features], panel["fwd_ret_5"]
    dates = X.index.get_level_values("date")
    train, test = dates < dates.unique()[230], dates >= dates.unique()[240]
    trainer = LightGBMTrainer(**FAST).fit(X[train], y[train])
    for action in ("default", "always"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            trainer.get_feature_importance(kind="permutation", X=X[test], y=y[test])
        overlap = [w for w in caught if "y overlaps itself" in str(w.message)]
        assert len(overlap) == 1, (action, len(overlap))
        assert overlap[0].filename == __file__
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            walk_forward_importance(
                LightGBMTrainer(**FAST), X, y, cv=WalkForwardSplit(
                    train_days=100, test_days=60, step_days=60, min_train_samples=100,
                    embargo_days=5,
                ),
            )  # fmt: skip
        overlap = [w for w in caught if "y overlaps itself" in str(w.message)]
        assert 1 <= len(overlap) <= 3, (action, len(overlap))  # once a fold, at most
