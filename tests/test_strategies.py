"""Training strategies: single-task, multi-task and chronological cascades."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeRegressor

from skquant import (
    CascadeStrategy,
    MultiTaskStrategy,
    MultiTaskTrainer,
    SingleTaskStrategy,
    load_model,
    load_model_config,
    save_model,
)

FAST = {"n_estimators": 25, "n_jobs": 1, "early_stopping_rounds": 0}


def _labeled(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2020-01-01", periods=n, name="date")
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)], index=index)
    signal = X["f0"] + 0.5 * X["f1"]
    y = pd.DataFrame(
        {
            "y_will_peak": (signal + rng.normal(scale=0.5, size=n) > 0).astype(int),
            "TTH": np.abs(5 + 2 * X["f2"] + rng.normal(size=n)),
            "MDD": -np.abs(0.02 * X["f3"] + rng.normal(scale=0.01, size=n)),
            "MFE": np.abs(0.03 * signal + rng.normal(scale=0.01, size=n)),
        },
        index=index,
    )
    cut = int(n * 0.8)
    return X.iloc[:cut], y.iloc[:cut], X.iloc[cut:], y.iloc[cut:]


@pytest.fixture(scope="module")
def guide_data():
    return _labeled()


def test_guide_single_task_snippet(guide_data):
    X_train, y_train, X_val, y_val = guide_data
    strategy = SingleTaskStrategy(
        model_name="lightgbm",
        model_config=load_model_config("lightgbm", variant="conservative"),
    )

    model = strategy.train(
        X_train=X_train, y_train=y_train["y_will_peak"], X_val=X_val, y_val=y_val["y_will_peak"]
    )
    assert model is strategy
    assert model.task_ == "classification"
    proba = model.predict_proba(X_val)
    assert proba.shape == (len(X_val), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(np.unique(model.predict(X_val))) <= {0, 1}
    assert model.score(X_val, y_val["y_will_peak"]) > 0.6  # the signal is learnable
    assert model.config_["models"]["y_will_peak"]["max_depth"] == 4  # conservative variant
    assert model.get_feature_importance().index[0] in {"f0", "f1"}


def test_single_task_regression_and_several_targets(guide_data):
    X_train, y_train, X_val, y_val = guide_data
    model = SingleTaskStrategy("lightgbm", FAST).train(X_train, y_train["TTH"])
    assert model.task_ == "regression"
    assert not hasattr(model, "predict_proba")
    assert model.predict(X_val).shape == (len(X_val),)

    several = SingleTaskStrategy("lightgbm", FAST).fit(
        X_train, y_train[["y_will_peak", "MFE"]], X_val=X_val, y_val=y_val[["y_will_peak", "MFE"]]
    )
    assert several.task_ == {"y_will_peak": "classification", "MFE": "regression"}
    pred = several.predict(X_val)
    assert list(pred.columns) == ["y_will_peak", "MFE"] and pred.index.equals(X_val.index)
    with pytest.raises(ValueError, match="target="):
        several.get_feature_importance()
    assert several.get_feature_importance("MFE").size == 5


def test_single_task_config_task_wins(guide_data):
    X_train, y_train, _, _ = guide_data
    model = SingleTaskStrategy("lightgbm", {**FAST, "task": "regression"}).fit(
        X_train, y_train["y_will_peak"]
    )
    assert model.task_ == "regression"


def test_single_task_bad_model_name(guide_data):
    X_train, y_train, _, _ = guide_data
    with pytest.raises(ValueError, match="Unknown model 'lightgbmm'"):
        SingleTaskStrategy("lightgbmm").fit(X_train, y_train["TTH"])


def test_strategy_round_trip_through_save_model(tmp_path, guide_data):
    X_train, y_train, X_val, _ = guide_data
    model = SingleTaskStrategy("lightgbm", FAST).fit(X_train, y_train["y_will_peak"])
    folder = save_model(model, tmp_path / "s", metrics={"auc": 0.7}, data=X_train)
    assert (folder / "feature_importance.csv").is_file()
    np.testing.assert_array_equal(
        load_model(folder).predict_proba(X_val), model.predict_proba(X_val)
    )


def test_guide_multi_task_snippet(guide_data, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")  # fewest epochs; the snippet is unchanged
    X_train, y_train, X_val, y_val = guide_data
    strategy = MultiTaskStrategy(
        model_name="multi_task", target_names=["TTH", "MDD", "MFE"], loss_weights=[1.0, 0.5, 0.5]
    )

    model = strategy.train(
        X_train=X_train,
        y_train=y_train[["TTH", "MDD", "MFE"]],
        X_val=X_val,
        y_val=y_val[["TTH", "MDD", "MFE"]],
    )
    pred = model.predict(X_val)
    assert list(pred.columns) == ["TTH", "MDD", "MFE"]
    assert pred.shape == (len(X_val), 3) and np.isfinite(pred.to_numpy()).all()
    assert model.estimator_.get_params()["loss_weights"] == [1.0, 0.5, 0.5]


def test_multi_task_validation(guide_data):
    X_train, y_train, _, _ = guide_data
    targets = y_train[["TTH", "MDD", "MFE"]]
    with pytest.raises(ValueError, match=r"target_names \['nope'\]"):
        MultiTaskStrategy("lightgbm", target_names=["TTH", "nope"]).fit(X_train, targets)
    with pytest.raises(ValueError, match="loss_weights has 2 values"):
        MultiTaskStrategy("lightgbm", loss_weights=[1, 2]).fit(X_train, targets)
    with pytest.raises(ValueError, match="no loss_weights parameter"):
        MultiTaskStrategy("lightgbm", loss_weights=[1, 1, 1]).fit(X_train, targets)
    with pytest.raises(ValueError, match="does not fit several targets"):
        MultiTaskStrategy("lightgbm", model_config=FAST).fit(X_train, targets)
    with pytest.raises(ValueError, match="at least two targets"):
        MultiTaskStrategy("lightgbm", target_names=["TTH"]).fit(X_train, targets)
    # a dict of target name to weight, as MultiTaskTrainer takes (it raised TypeError:
    # float() argument must be ... not 'dict')
    with pytest.raises(ValueError, match=r"loss_weights names \['nope'\], which are not"):
        MultiTaskStrategy("lightgbm", loss_weights={"nope": 1.0}).fit(X_train, targets)
    with pytest.raises(ValueError, match="no loss_weights parameter"):
        MultiTaskStrategy("lightgbm", loss_weights={"MDD": 0.5}).fit(X_train, targets)


def test_multi_task_loss_weights_by_target_name(guide_data):
    pytest.importorskip("torch")
    X_train, y_train, _, _ = guide_data
    targets = y_train[["TTH", "MDD", "MFE"]]
    config = {"epochs": 2, "device": "cpu", "hidden_layer_sizes": [8], "random_state": 0}
    by_name = MultiTaskStrategy(loss_weights={"MFE": 0.25, "TTH": 2.0}, model_config=config)
    by_name.fit(X_train, targets)
    assert by_name.estimator_.get_params()["loss_weights"] == [2.0, 1.0, 0.25]
    assert by_name.config_["loss_weights"] == [2.0, 1.0, 0.25]


def test_multi_task_gives_a_zero_one_target_a_logistic_head(guide_data):
    """MultiTaskStrategy never set the net's binary_targets: y_will_peak's head was a
    squared error on the standardised 0/1 label, silently (binary_mask_ all False),
    where SingleTaskStrategy classifies the same target."""
    pytest.importorskip("torch")
    X_train, y_train, X_val, _ = guide_data
    names = ["TTH", "MDD", "y_will_peak"]
    config = {"epochs": 2, "device": "cpu", "hidden_layer_sizes": [8], "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the strategy names it: no warning
        warnings.filterwarnings("ignore", message=".*embargo")
        model = MultiTaskStrategy(target_names=names, model_config=config).fit(X_train, y_train)
    assert model.estimator_.binary_mask_.tolist() == [False, False, True]
    assert model.config_["model"]["binary_targets"] == ["y_will_peak"]
    assert model.predict(X_val)["y_will_peak"].between(0, 1).all()
    # an array's targets by the names the strategy gives them; unnamed ones by position
    arr = MultiTaskStrategy(model_config=config).fit(X_train, y_train[names].to_numpy())
    assert arr.estimator_.get_params()["binary_targets"] == ["y2"]
    unnamed = MultiTaskStrategy(model_config=config).fit(
        X_train, y_train[names].T.reset_index(drop=True).T
    )
    assert unnamed.estimator_.binary_mask_.tolist() == [False, False, True]
    assert unnamed.estimator_.get_params()["binary_targets"] == [2]
    # the user's own setting wins, in model_config or on the estimator, [] included
    mine = MultiTaskStrategy(target_names=names, model_config={**config, "binary_targets": []})
    assert not mine.fit(X_train, y_train).estimator_.binary_mask_.any()
    net = MultiTaskTrainer(config, binary_targets=[])
    assert not MultiTaskStrategy(net, names).fit(X_train, y_train).estimator_.binary_mask_.any()


def test_guide_cascade_snippet(guide_data, monkeypatch):
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")  # fastest variants; the snippet is unchanged
    X_train, y_train, X_val, y_val = guide_data
    strategy = CascadeStrategy(models=["lightgbm", "xgboost", "ensemble"])

    final_model = strategy.train(X_train, y_train, X_val, y_val)
    assert len(final_model.stages_) == 3
    assert final_model.stage_targets_ == ["y_will_peak", "TTH", "MDD"]
    assert final_model.stage_tasks_[0] == "classification"
    pred = final_model.predict(X_val)
    assert list(pred.columns) == ["y_will_peak", "TTH", "MDD"]
    assert np.isfinite(pred[["TTH", "MDD"]].to_numpy()).all()


def test_cascade_chain_with_lightgbm(guide_data):
    X_train, y_train, X_val, y_val = guide_data
    cascade = CascadeStrategy(["lightgbm", "lightgbm"], [FAST, FAST], n_splits=3)
    model = cascade.train(
        X_train, y_train[["y_will_peak", "MFE"]], X_val, y_val[["y_will_peak", "MFE"]]
    )
    assert model.stage_tasks_ == ["classification", "regression"]
    assert model.stage_feature_names_ == ["stage0_y_will_peak"]
    # stage 1 saw the features plus stage 0's probability
    assert list(model.stages_[1].feature_names_in_) == [*X_train.columns, "stage0_y_will_peak"]
    stages = model.predict_stages(X_val)
    assert list(stages.columns) == ["stage0_y_will_peak", "stage1_MFE"]
    np.testing.assert_allclose(
        stages["stage0_y_will_peak"], model.stages_[0].predict_proba(X_val)[:, 1]
    )
    np.testing.assert_allclose(model.predict(X_val)["MFE"], stages["stage1_MFE"])


class _Memoriser(RegressorMixin, BaseEstimator):
    """Predicts the training target of the nearest training row: perfect in-sample."""

    def fit(self, X, y):
        self.tree_ = DecisionTreeRegressor(random_state=0).fit(X, y)
        return self

    def predict(self, X):
        return self.tree_.predict(X)


def test_cascade_uses_out_of_fold_predictions_not_in_sample():
    """With a memorising first stage and a pure-noise target, in-sample stage
    predictions would equal the target and the second stage would copy them (slope 1);
    out-of-fold ones carry no information (slope near 0)."""
    rng = np.random.default_rng(1)
    n = 600
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y = pd.Series(rng.normal(size=n), name="noise")
    model = CascadeStrategy([_Memoriser(), LinearRegression()], n_splits=4).fit(X, y)
    slope = model.stages_[1].coef_[-1]
    assert abs(slope) < 0.2, slope
    # and the in-sample alternative really would leak: sanity-check the memoriser
    assert np.allclose(clone(_Memoriser()).fit(X, y).predict(X), y)
    # the second stage trained only on rows with an out-of-fold prediction
    assert model.stages_[1].n_features_in_ == 4
    assert model.oof_predictions_["stage0_noise"].isna().sum() == n // 5


class _LatestDate(RegressorMixin, BaseEstimator):
    """Predicts the latest training date (as an integer) for every row."""

    def fit(self, X, y):
        self.latest_ = float(X["t"].max())
        return self

    def predict(self, X):
        return np.full(len(X), self.latest_)


def test_cascade_oof_predictions_never_look_ahead():
    n = 300
    index = pd.bdate_range("2021-01-01", periods=n, name="date")
    X = pd.DataFrame({"t": np.arange(n, dtype=float)}, index=index)
    y = pd.Series(np.sin(np.arange(n)), index=index, name="y")
    model = CascadeStrategy([_LatestDate(), LinearRegression()], n_splits=3).fit(X, y)
    oof = model.oof_predictions_["stage0_y"]
    has = oof.notna()
    assert has.sum() == n - n // 4
    # every out-of-fold prediction came from a model fitted on strictly earlier rows
    assert (oof[has] < X["t"][has]).all()


def test_cascade_refines_a_single_target(guide_data):
    X_train, y_train, X_val, _ = guide_data
    model = CascadeStrategy(["lightgbm", "lightgbm"], [FAST, FAST], n_splits=2).fit(
        X_train, y_train["MFE"]
    )
    assert model.stage_targets_ == ["MFE", "MFE"] and model.target_names_ == ["MFE"]
    assert model.predict(X_val).shape == (len(X_val),)


def test_cascade_validation(guide_data):
    X_train, y_train, _, _ = guide_data
    with pytest.raises(ValueError, match="model_configs has 1 entries for 2 models"):
        CascadeStrategy(["lightgbm", "lightgbm"], [FAST]).fit(X_train, y_train)
    with pytest.raises(ValueError, match="y has 2 target columns"):
        CascadeStrategy(["lightgbm"] * 3).fit(X_train, y_train[["TTH", "MFE"]])
    with pytest.raises(ValueError, match=r"target_names \['x'\]"):
        CascadeStrategy(["lightgbm"], target_names=["x"]).fit(X_train, y_train)
    with pytest.raises(ValueError, match="models must name"):
        CascadeStrategy([]).fit(X_train, y_train)


def test_cascade_does_not_rename_the_callers_targets():
    X_train, y_train, X_val, y_val = _labeled(n=300)
    # integer column labels: the cascade names its targets "0", "1" on its own copy
    y = y_train[["y_will_peak", "MFE"]].set_axis([0, 1], axis=1)
    yv = y_val[["y_will_peak", "MFE"]].set_axis([0, 1], axis=1)
    columns, val_columns = y.columns, yv.columns
    model = CascadeStrategy(["lightgbm", "lightgbm"], [FAST, FAST], n_splits=2).train(
        X_train, y, X_val, yv
    )
    assert model.stage_targets_ == ["0", "1"]
    assert y.columns is columns and list(y.columns) == [0, 1]
    assert yv.columns is val_columns and list(yv.columns) == [0, 1]


def test_cascade_allows_nan_only_when_every_stage_does():
    assert CascadeStrategy(["lightgbm", "lightgbm"]).__sklearn_tags__().input_tags.allow_nan
    mixed = CascadeStrategy(["lightgbm", LinearRegression()], n_splits=2)
    assert not mixed.__sklearn_tags__().input_tags.allow_nan
    first_nan_free = CascadeStrategy([LinearRegression(), "lightgbm"])
    assert not first_nan_free.__sklearn_tags__().input_tags.allow_nan
    X_train, y_train, _, _ = _labeled(n=200)
    X_nan = X_train.copy()
    X_nan.iloc[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mixed.fit(X_nan, y_train["MFE"])


# ----------------------------------------------------------------------------- sklearn checks
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

_CHECK_FAST = {
    "n_estimators": 10,
    "learning_rate": 0.3,
    "min_child_samples": 1,
    "early_stopping_rounds": 0,
    "n_jobs": 1,
}
_CASCADE = CascadeStrategy(["lightgbm", "lightgbm"], [_CHECK_FAST, _CHECK_FAST], n_splits=2)


def _expected_failed_checks(estimator):
    if isinstance(estimator, CascadeStrategy):
        return {
            "check_regressor_multioutput": (
                "A cascade of n models predicts the first n target columns, one per stage, "
                "so 5 targets with 2 models give 2 outputs by design."
            )
        }
    return {}


@parametrize_with_checks(
    [SingleTaskStrategy("lightgbm", _CHECK_FAST), _CASCADE],
    expected_failed_checks=_expected_failed_checks,
)
def test_strategies_pass_sklearn_checks(estimator, check):
    check(estimator)


def test_cascade_explicit_embargo_below_an_earlier_targets_horizon_warns():
    """An explicit embargo_days below an earlier stage's label horizon - 1 let the
    out-of-fold blocks train on labels computed from the prices of the block they
    predict, silently (audit: embargo_days=0 on fwd_ret_10 gave no warning)."""
    rng = np.random.default_rng(0)
    n = 120
    index = pd.bdate_range("2020-01-01", periods=n, name="date")
    X = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"], index=index)
    # MFE is not X["b"] itself: a column of X equal to a target is refused
    y = pd.DataFrame({"fwd_ret_10": X["a"] + rng.normal(size=n), "MFE": 2 * X["b"]}, index=index)
    stages = [LinearRegression(), LinearRegression()]
    with pytest.warns(UserWarning, match=r"embargo_days=0 is below .*'fwd_ret_10'"):
        model = CascadeStrategy(stages, n_splits=2, embargo_days=0).fit(X, y)
    assert model.embargo_days_ == 0  # kept as given
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CascadeStrategy(stages, n_splits=2, embargo_days=9).fit(X, y)  # horizon - 1 is enough
        # the last stage's target feeds no later stage: its horizon asks nothing here
        CascadeStrategy(stages, n_splits=2, embargo_days=0).fit(X, y[["MFE", "fwd_ret_10"]])


def test_multi_task_takes_y_val_columns_by_name():
    """y_val's columns were taken by position: a y_val with the targets in another order
    early-stopped each head on another target's validation labels, silently."""
    pytest.importorskip("torch")
    X_train, y_train, X_val, y_val = _labeled(n=300)
    cols = ["TTH", "MDD", "MFE"]
    config = {"epochs": 2, "batch_size": 64}

    def valid_loss(yv, target_names=None):
        strategy = MultiTaskStrategy(target_names=target_names, model_config=config)
        model = strategy.fit(X_train, y_train[cols], X_val=X_val, y_val=yv)
        return model.estimator_.evals_result_["valid"]["loss"]

    expected = valid_loss(y_val[cols])
    assert valid_loss(y_val[["MFE", "TTH", "MDD"]]) == expected
    assert valid_loss(y_val, target_names=cols) == expected
    assert valid_loss(y_val[cols].to_numpy()) == expected  # an array: by position
    with pytest.raises(ValueError, match=r"fitted on y \['MFE'\] are not columns of y_val"):
        valid_loss(y_val[["TTH", "MDD", "y_will_peak"]])
    # score reads y's targets by name too (it scored MFE's predictions against TTH)
    model = MultiTaskStrategy(model_config=config).fit(X_train, y_train[cols])
    assert model.score(X_val, y_val[cols[::-1]]) == model.score(X_val, y_val[cols])


def test_cascade_y_val_array_or_series_by_position_or_a_clear_error():
    """A 2-D array y_val beside a DataFrame y raised KeyError: 'y_will_peak'; a 1-D
    y_val for a chain of two targets was taken as the first stage's target."""
    X_train, y_train, X_val, y_val = _labeled(n=300)
    cols = ["y_will_peak", "MFE"]
    cascade = CascadeStrategy(["lightgbm", "lightgbm"], [FAST, FAST], n_splits=2)
    by_name = cascade.fit(X_train, y_train[cols], X_val=X_val, y_val=y_val[cols]).predict(X_val)
    as_array = cascade.fit(X_train, y_train[cols], X_val=X_val, y_val=y_val[cols].to_numpy())
    pd.testing.assert_frame_equal(as_array.predict(X_val), by_name)
    with pytest.raises(ValueError, match=r"y_val has 1 column.*2 targets \['y_will_peak', 'MFE'\]"):
        cascade.fit(X_train, y_train[cols], X_val=X_val, y_val=y_val["MFE"].to_numpy())
    with pytest.raises(ValueError, match=r"y_val has 3 columns.*2 target columns"):
        cascade.fit(X_train, y_train[cols], X_val=X_val, y_val=y_val[cols + ["TTH"]].to_numpy())
    # the targets came from y's columns, not from a target_names the user never gave
    with pytest.raises(ValueError, match=r"stages' targets \['MFE'\] are not columns of y_val"):
        cascade.fit(X_train, y_train[cols], X_val=X_val, y_val=y_val[["y_will_peak", "TTH"]])
    # a refining cascade takes a 1-D y_val (array or Series) as its one target
    refine = clone(cascade)
    refine.fit(X_train, y_train["MFE"], X_val=X_val, y_val=y_val["MFE"].to_numpy())
    assert refine.stage_targets_ == ["MFE", "MFE"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: SingleTaskStrategy("lightgbm", FAST),
        lambda: MultiTaskStrategy(LinearRegression(), target_names=["TTH", "MFE"]),
        lambda: CascadeStrategy([LinearRegression(), LinearRegression()], n_splits=2),
    ],
    ids=["single", "multi", "cascade"],
)
def test_strategies_refuse_a_target_among_the_features(make):
    """X holding the target (or another label) fitted silently: every strategy learnt
    y from its own column (audit: out-of-sample R^2 0.70 on a pure-noise target)."""
    from skquant.leakage import LeakageWarning

    X_train, y_train, _, _ = _labeled(n=200)
    y = y_train[["TTH", "MFE"]] if not isinstance(make(), SingleTaskStrategy) else y_train["MFE"]
    with pytest.raises(ValueError, match=r"X holds the target column\(s\) \['MFE'\]"):
        make().fit(X_train.assign(MFE=y_train["MFE"]), y)
    with pytest.warns(LeakageWarning, match=r"named like labels \['fwd_ret_5'\]"):
        make().fit(X_train.assign(fwd_ret_5=y_train["MDD"]), y)  # another label
    if not isinstance(make(), SingleTaskStrategy):  # a target under another name
        with pytest.raises(ValueError, match=r"'fwd_ret_5' \(the target 'TTH'\)"):
            make().fit(X_train.assign(fwd_ret_5=y_train["TTH"]), y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeakageWarning)
        make().fit(X_train, y)  # causal features only: no warning
        make().fit(X_train.to_numpy(), y)  # no column names to check


def test_strategies_fit_a_model_without_X_val_when_given_validation_rows():
    """train(X, y, X_val, y_val) with a scikit-learn model raised TypeError: Ridge.fit()
    got an unexpected keyword argument 'X_val' (a Pipeline: 'does not accept the X_val
    parameter'); such a model has nothing to stop early, so it fits without them."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, y_train, X_val, y_val = _labeled(n=200)
    for model in [LinearRegression(), make_pipeline(StandardScaler(), LinearRegression())]:
        with pytest.warns(UserWarning, match="fit takes no X_val"):
            single = SingleTaskStrategy(model).train(X_train, y_train["MFE"], X_val, y_val["MFE"])
        expected = clone(model).fit(X_train, y_train["MFE"]).predict(X_val)
        np.testing.assert_allclose(single.predict(X_val), expected)
    cascade = CascadeStrategy(["lightgbm", LinearRegression()], [FAST, None], n_splits=2)
    with pytest.warns(UserWarning, match="LinearRegression.fit takes no X_val"):
        cascade.train(X_train, y_train[["y_will_peak", "MFE"]], X_val, y_val)


def test_strategy_importance_of_a_model_that_never_split_warns(guide_data):
    X_train, y_train, _, _ = guide_data
    one_leaf = {**FAST, "min_child_samples": 10 * len(X_train)}  # every tree one leaf
    single = SingleTaskStrategy("lightgbm", one_leaf).fit(X_train, y_train["TTH"])
    cascade = CascadeStrategy(["lightgbm", "lightgbm"], [FAST, one_leaf], n_splits=2)
    cascade.fit(X_train, y_train[["MFE", "TTH"]])
    for model in (single, cascade):
        with pytest.warns(UserWarning, match="every importance is 0"):
            importance = model.get_feature_importance()
        assert (importance == 0).all()


def _horizon_warnings(caught):
    return [str(w.message) for w in caught if "horizon" in str(w.message)]


def test_cascade_series_target_keeps_its_make_labels_horizon():
    """A Series y was rebuilt as a new frame, losing its attrs: with y_will_peak
    (make_labels horizon 5) embargo_days='auto' became 10, estimated from its
    autocorrelation with a 'carries no horizon' warning; as a one-column frame, 5."""
    from skquant import make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    X = panel[["ret_1", "ret_5", "vol_21"]]
    assert panel["y_will_peak"].attrs["skquant_labels"]["horizons"]["y_will_peak"] == 5
    fitted = {}
    for kind, y in [("series", panel["y_will_peak"]), ("frame", panel[["y_will_peak"]])]:
        cascade = CascadeStrategy([LinearRegression(), LinearRegression()], n_splits=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted[kind] = cascade.fit(X, y)
        assert not _horizon_warnings(caught), kind
    assert fitted["series"].embargo_days_ == fitted["frame"].embargo_days_ == 5
    assert fitted["series"].stage_targets_ == ["y_will_peak", "y_will_peak"]


def test_cascade_auto_embargo_of_a_class_label_target():
    """A binary target of strings ('peak'/'flat') without metadata raised numpy's bare
    'could not convert string to float' from the horizon estimate; its horizon is now
    estimated from the class indicator, as the same label's 0/1 codes are."""
    from skquant import label_horizon, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    X = panel[["ret_1", "ret_5", "vol_21"]]
    codes = pd.Series(panel["y_will_peak"].to_numpy(), index=panel.index, name="peak")
    labels = codes.map({0: "flat", 1: "peak"})  # no make_labels metadata, no horizon in its name
    stages, configs = ["lightgbm", "lightgbm"], [FAST, FAST]  # fitted as classifiers
    with pytest.warns(UserWarning, match="carries no horizon"):
        by_codes = CascadeStrategy(stages, configs, n_splits=2).fit(X, codes).embargo_days_
    with pytest.warns(UserWarning, match="carries no horizon"):
        model = CascadeStrategy(stages, configs, n_splits=2).fit(X, labels)
    assert model.embargo_days_ == by_codes > 1
    assert set(model.predict(X.iloc[:5])) <= {"peak", "flat"}
    # more classes than can be told apart: a clear error naming the way out
    many = pd.DataFrame({"id": [f"c{i}" for i in range(len(panel))]}, index=panel.index)
    with pytest.raises(ValueError, match=r"'id' has \d+ classes.*embargo_days="):
        label_horizon(many, "id")


def test_label_horizon_reads_numbers_stored_as_objects_as_numbers():
    """The class-label path took an object column of returns for 600 classes and
    raised ("its horizon cannot be estimated"); before it, the column's numbers gave
    8. Numbers stored as objects (or a nullable Float64 with NA) are numbers."""
    from skquant import label_horizon, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=2, n_days=300, random_state=0)
    panel.attrs = {}
    frame = panel.assign(numbers=panel["fwd_ret_5"])  # a name that tells no horizon
    numeric = label_horizon(frame, "numbers")
    assert numeric.source == "autocorrelation"
    frame = frame.assign(as_objects=panel["fwd_ret_5"].astype(object),
                         nullable=panel["fwd_ret_5"].astype("Float64"))  # fmt: skip
    frame.loc[frame.index[:3], "nullable"] = pd.NA
    assert label_horizon(frame, "as_objects") == numeric
    assert label_horizon(frame, "nullable").source == "autocorrelation"


def test_cascade_scikit_learn_classifier_stages_classify():
    """A scikit-learn classifier stage was fitted as a regression (the task rule knew
    only skquant's trainers): it passed on ``predict``'s hard labels (a
    LogisticRegression's were 0 on all 399 out-of-fold rows), and 'flat'/'peak'
    labels failed with numpy's bare "could not convert string to float: 'flat'". It
    classifies now, passing on P(last class) as skquant's classifiers do; a regression
    stage on labels is refused naming the stage and the target."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquant import make_synthetic_panel
    from skquant.model_selection import chronological_oof_predict

    panel = make_synthetic_panel(n_symbols=3, n_days=200, random_state=0)
    X = panel[["ret_1", "ret_5", "vol_21"]]
    labels = panel["y_will_peak"].map({0: "flat", 1: "peak"}).rename("peak")
    for first, second in [
        (LogisticRegression(), LogisticRegression()),
        (HistGradientBoostingClassifier(max_iter=5), make_pipeline(StandardScaler(), LogisticRegression())),
    ]:  # fmt: skip
        model = CascadeStrategy([first, second], n_splits=2, embargo_days=10).fit(X, labels)
        assert model.stage_tasks_ == ["classification", "classification"]
        expected, has = chronological_oof_predict(
            first, X, labels, n_splits=2, method="predict_proba", embargo=10
        )
        oof = model.oof_predictions_["stage0_peak"].to_numpy()
        np.testing.assert_allclose(oof[has], expected[has, -1])  # P('peak')
        assert ((oof[has] > 0) & (oof[has] < 1)).all()
        assert set(model.predict(X.iloc[:20])) <= {"flat", "peak"}
        assert model.predict_proba(X.iloc[:20]).shape == (20, 2)
    single = SingleTaskStrategy(LogisticRegression()).fit(X, labels)
    assert single.task_ == "classification" and list(single.classes_) == ["flat", "peak"]
    with pytest.raises(
        ValueError,
        match=r"^Stage 0 \(Ridge\) is fitted as a regression, but its target 'peak' holds 'flat'",
    ):
        CascadeStrategy([Ridge(), Ridge()], n_splits=2, embargo_days=10).fit(X, labels)

    class _NotToBeFitted(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            raise AssertionError("stage 0 was fitted before stage 1 was refused")

    # a later stage's refusal came only at its turn, after the earlier stages' fits
    chain = pd.DataFrame({"peak": labels, "regime": np.where(labels == "peak", "hi", "lo")})
    with pytest.raises(ValueError, match=r"^Stage 1 \(Ridge\) is fitted as a regression"):
        CascadeStrategy([_NotToBeFitted(), Ridge()], n_splits=2, embargo_days=10).fit(X, chain)
    # a SingleTaskStrategy of a regressor on labels: numpy's bare "could not convert
    # string to float: 'flat'" before
    with pytest.raises(
        ValueError,
        match=r"^Ridge \(SingleTaskStrategy\) is fitted as a regression, but its target "
        r"'peak' holds 'flat'",
    ):
        SingleTaskStrategy(Ridge()).fit(X, labels)
