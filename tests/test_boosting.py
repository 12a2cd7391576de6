"""XGBoost, quantile LightGBM, NGBoost and the stacking ensemble on small realistic data."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skquant import (
    EnsembleTrainer,
    LightGBMTrainer,
    NGBoostTrainer,
    QuantileLightGBMTrainer,
    XGBoostTrainer,
    load_model_config,
)
from skquant.model_selection import chronological_oof_predict
from skquant.models._stacking import stack_features


def _returns_panel(n_dates=150, symbols=("AAA", "BBB", "CCC"), seed=0, noise=1.0):
    """A (date, symbol) panel of features and a weakly predictable, noisy target."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=n_dates, freq="B")
    index = pd.MultiIndex.from_product([dates, list(symbols)], names=["date", "symbol"])
    n = len(index)
    X = pd.DataFrame(
        {
            "momentum": rng.normal(size=n),
            "value": rng.normal(size=n),
            "volatility": rng.gamma(2.0, 0.5, size=n),
            "noise_1": rng.normal(size=n),
            "noise_2": rng.normal(size=n),
        },
        index=index,
    )
    signal = 0.5 * X["momentum"] - 0.3 * X["value"] * (X["volatility"] > 1)
    y = pd.Series(signal + noise * rng.normal(size=n), index=index, name="fwd_return")
    return X, y


def _roundtrips(trainer, X, method="predict"):
    """Predictions of the fitted trainer, a refitted clone, a pickle and a joblib copy."""
    expected = getattr(trainer, method)(X)
    unpickled = pickle.loads(pickle.dumps(trainer))
    buffer = io.BytesIO()
    joblib.dump(trainer, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    for copy in (unpickled, loaded):
        np.testing.assert_array_equal(getattr(copy, method)(X), expected)
    return expected


# ---------------------------------------------------------------- XGBoost
def test_xgboost_early_stopping_learning_curves_and_guide_snippet():
    X, y = _returns_panel(noise=2.0)
    trainer = XGBoostTrainer(
        n_estimators=3000, learning_rate=0.1, max_depth=4, early_stopping_rounds=20, n_jobs=1
    )
    trainer.train(X, y)
    assert trainer.best_iteration_ is not None and trainer.best_iteration_ < 300
    assert set(trainer.evals_result_) == {"train", "valid"}
    n_rounds = len(trainer.evals_result_["valid"]["rmse"])
    assert trainer.best_iteration_ <= n_rounds == trainer.best_iteration_ + 20
    # the guide's learning-curve snippet on the raw model
    history = trainer.model.evals_result()
    assert history["validation_0"]["rmse"] == trainer.evals_result_["train"]["rmse"]
    assert history["validation_1"]["rmse"] == trainer.evals_result_["valid"]["rmse"]
    assert history["validation_0"]["rmse"][-1] < history["validation_0"]["rmse"][0]
    # predictions use the rounds kept, not the patience rounds after them
    Xa = X.to_numpy()
    kept = trainer.model.predict(Xa, iteration_range=(0, trainer.best_iteration_))
    np.testing.assert_allclose(trainer.predict(X), kept)
    importance = trainer.get_feature_importance()
    assert importance.index[0] == "momentum"
    pred = _roundtrips(trainer, X)
    np.testing.assert_array_equal(clone(trainer).train(X, y).predict(X), pred)


def test_xgboost_without_early_stopping_and_given_validation_set():
    X, y = _returns_panel(n_dates=60)
    trainer = XGBoostTrainer(n_estimators=15, early_stopping_rounds=0, n_jobs=1).fit(X, y)
    assert trainer.best_iteration_ is None and list(trainer.evals_result_) == ["train"]
    assert len(trainer.evals_result_["train"]["rmse"]) == 15
    X_val, y_val = _returns_panel(n_dates=80, seed=1)
    X_val, y_val = X_val.iloc[-60:], y_val.iloc[-60:]  # the 20 dates after X's 60
    trainer = XGBoostTrainer(n_estimators=500, early_stopping_rounds=5, n_jobs=1)
    trainer.train(X, y, X_val, y_val)
    assert set(trainer.evals_result_) == {"train", "valid"} and trainer.best_iteration_ < 500


def test_xgboost_classifier_nan_roundtrips_and_pipeline():
    X, y = _returns_panel(n_dates=80, noise=0.5)
    X = X.copy()
    X.iloc[::7, 1] = np.nan  # missing values are routed by XGBoost
    labels = np.where(y > 0, "up", "down")
    trainer = XGBoostTrainer(
        task="classification", n_estimators=30, early_stopping_rounds=0, n_jobs=1, random_state=0
    ).fit(X, labels)
    assert list(trainer.classes_) == ["down", "up"]
    proba = _roundtrips(trainer, X, "predict_proba")
    assert proba.shape == (len(X), 2)
    assert (trainer.predict(X) == labels).mean() > 0.7
    refit = clone(trainer).fit(X, labels)
    np.testing.assert_array_equal(refit.predict_proba(X), proba)

    pipe = Pipeline([("scale", StandardScaler()), ("model", XGBoostTrainer())])
    pipe.set_params(model__n_estimators=12, model__early_stopping_rounds=0, model__n_jobs=1)
    pipe.fit(X, y)
    assert pipe.named_steps["model"].config_["n_estimators"] == 12
    assert len(pipe.named_steps["model"].evals_result_["train"]["rmse"]) == 12


def test_xgboost_guide_config_and_bad_targets():
    X, y = _returns_panel(n_dates=60)
    trainer = XGBoostTrainer(load_model_config("xgboost", variant="balanced"), n_jobs=1)
    trainer.train(X, y)
    assert trainer.config_["learning_rate"] == 0.03 and trainer.best_iteration_ < 1500
    # XGBoost spellings work as config keys
    cfg = load_model_config("xgboost", overrides={"eta": 0.2, "lambda": 3.0})
    assert cfg["learning_rate"] == 0.2 and cfg["reg_lambda"] == 3.0
    bad = y.copy()
    bad.iloc[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        XGBoostTrainer(n_estimators=5, n_jobs=1).fit(X, bad)
    bad.iloc[3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        XGBoostTrainer(n_estimators=5, n_jobs=1).fit(X, bad)


# ---------------------------------------------------------------- quantile LightGBM
def test_quantile_guide_config_single_alpha():
    X, y = _returns_panel(n_dates=300, noise=0.5)
    config = load_model_config("quantile_lightgbm", overrides={"alpha": 0.5})
    trainer = QuantileLightGBMTrainer(config, n_jobs=1).train(X, y)
    pred = trainer.predict(X)
    assert pred.shape == (len(X),) and trainer.config_["alpha"] == 0.5
    assert list(trainer.evals_result_) == ["train", "valid"]
    assert "quantile" in trainer.evals_result_["valid"]
    assert trainer.best_iteration_ < 1500
    # the median model has a lower pinball loss than the unconditional median
    constant = -np.mean(np.abs(y - np.median(y))) / 2
    assert trainer.score(X, y) > constant
    _roundtrips(trainer, X)


def test_quantiles_never_cross_and_cover_their_levels():
    X, y = _returns_panel(n_dates=200, seed=2)
    X_test, y_test = _returns_panel(n_dates=100, seed=3)
    trainer = QuantileLightGBMTrainer(
        alpha=[0.9, 0.1, 0.5],
        n_estimators=3000,
        learning_rate=0.05,
        min_child_samples=30,
        early_stopping_rounds=30,
        n_jobs=1,
    ).train(X, y)
    np.testing.assert_array_equal(trainer.quantiles_, [0.1, 0.5, 0.9])
    pred = trainer.predict(X_test)
    assert pred.shape == (len(X_test), 3)
    assert np.all(np.diff(pred, axis=1) >= 0)
    # each quantile model was fitted separately; sorting only fixes crossings
    raw = np.column_stack([m.predict(X_test.to_numpy()) for m in trainer.model])
    np.testing.assert_array_equal(np.sort(raw, axis=1), pred)
    below = (y_test.to_numpy()[:, None] < pred).mean(axis=0)
    np.testing.assert_allclose(below, [0.1, 0.5, 0.9], atol=0.07)
    assert set(trainer.evals_result_["valid"]) == {
        "quantile_0.1",
        "quantile_0.5",
        "quantile_0.9",
    }
    assert len(trainer.best_iteration_) == 3 and max(trainer.best_iteration_) < 3000
    assert trainer.get_feature_importance().index[0] == "momentum"
    _roundtrips(trainer, X_test)


@pytest.mark.parametrize("alpha", [1.5, [0.2, 0.2], [0.1, 1.0], []])
def test_quantile_rejects_bad_alpha(alpha):
    X, y = _returns_panel(n_dates=10)
    with pytest.raises(ValueError, match="alpha"):
        QuantileLightGBMTrainer(alpha=alpha, n_estimators=2).fit(X, y)


# ---------------------------------------------------------------- NGBoost
def test_ngboost_interval_coverage_and_early_stopping():
    rng = np.random.default_rng(4)
    n = 500
    X = rng.normal(size=(n, 3))
    y = 2.0 * X[:, 0] + rng.normal(size=n)  # Gaussian noise with unit scale
    trainer = NGBoostTrainer(
        n_estimators=3000,
        learning_rate=0.1,
        max_depth=2,
        early_stopping_rounds=10,
        minibatch_frac=1.0,
        col_sample=1.0,
        random_state=0,
    ).fit(X[:300], y[:300])
    assert trainer.best_iteration_ is not None and trainer.best_iteration_ < 500
    assert set(trainer.evals_result_) == {"train", "valid"}
    assert len(trainer.model.base_models) == trainer.best_iteration_
    lower, upper = trainer.predict_interval(X[300:], alpha=0.2)
    covered = np.mean((y[300:] >= lower) & (y[300:] <= upper))
    assert 0.7 <= covered <= 0.9
    dist = trainer.pred_dist(X[300:])
    np.testing.assert_allclose(dist.params["loc"], trainer.predict(X[300:]))
    assert 0.6 < np.median(dist.params["scale"]) < 1.6
    _roundtrips(trainer, X[300:])
    with pytest.raises(ValueError, match="alpha"):
        trainer.predict_interval(X[300:], alpha=1.5)


def test_ngboost_guide_config_and_lognormal_target():
    X, y = _returns_panel(n_dates=40)
    trainer = NGBoostTrainer(load_model_config("ngboost", variant="aggressive"), random_state=0)
    trainer.train(X, y)
    assert trainer.config_["dist"] == "normal" and trainer.best_iteration_ < 300
    assert trainer.get_feature_importance().shape == (5,)
    with pytest.raises(ValueError, match="lognormal"):
        NGBoostTrainer(dist="lognormal", n_estimators=3, early_stopping_rounds=0).fit(X, y)
    positive = NGBoostTrainer(dist="lognormal", n_estimators=20, early_stopping_rounds=0)
    positive.fit(X, np.exp(y))
    assert np.all(positive.predict_interval(X)[0] > 0)


# ---------------------------------------------------------------- stacking ensemble
_SMALL_STACK = dict(
    n_splits=4,
    hgb_max_iter=30,
    hgb_min_samples_leaf=5,
    rf_n_estimators=30,
    rf_min_samples_leaf=1,
    rf_max_depth=None,
    n_jobs=1,
    random_state=0,
)


def test_ensemble_meta_learner_never_sees_in_sample_predictions():
    # pure noise: deep forests memorise it, so in-sample base predictions would be
    # almost the target and a leaky meta-learner would weight them near 1
    X, _ = _returns_panel(n_dates=100, seed=5)
    y = pd.Series(np.random.default_rng(6).normal(size=len(X)), index=X.index)
    trainer = EnsembleTrainer(**_SMALL_STACK).fit(X, y)
    rf = trainer.model.named_estimators_["rf"]
    assert np.corrcoef(rf.predict(X.to_numpy()), y)[0, 1] > 0.7  # the forest memorises
    # a meta-learner fitted on in-sample predictions trusts the memorising forest...
    in_sample = stack_features([est.predict(X.to_numpy()) for _, est in trainer.model.estimators])
    leaky = _meta_learner(trainer).fit(in_sample, y)
    assert leaky[-1].coef_[1] > 0.5
    # ...the chronological out-of-fold one gives no positive weight to noise
    assert trainer.model.final_estimator_[-1].coef_.max() < 0.2
    # the first block of dates (20 of 100) trained no meta-learner row
    dates = X.index.get_level_values("date")
    assert np.array_equal(~trainer.meta_train_mask_, dates < dates.unique()[20])
    # rebuild the meta-learner's inputs from chronological out-of-fold predictions
    columns = []
    for _, base in trainer.model.estimators:
        oof, has_oof = chronological_oof_predict(clone(base), X, y.to_numpy(), n_splits=4)
        columns.append(oof[has_oof])
    meta = _meta_learner(trainer).fit(stack_features(columns), y[has_oof])
    np.testing.assert_allclose(meta[-1].coef_, trainer.model.final_estimator_[-1].coef_)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_ensemble_fits_with_metadata_routing_on(task):
    """With sklearn.set_config(enable_metadata_routing=True) (the README's way to give the
    dates to a scorer) the ensemble raised "Pipeline.fit got unexpected argument(s)
    {'meta__sample_weight', ...}" on every fit, weighted or not (audit)."""
    import sklearn

    X, y = _returns_panel(n_dates=80)
    target = y if task == "regression" else np.where(y > 0, 1, -1)
    w = np.random.default_rng(0).choice([0.5, 1.0, 3.0], size=len(X))
    method = "predict" if task == "regression" else "predict_proba"
    for weights in (None, w):
        plain = EnsembleTrainer(task=task, **_SMALL_STACK).fit(X, target, sample_weight=weights)
        with sklearn.config_context(enable_metadata_routing=True):
            routed = EnsembleTrainer(task=task, **_SMALL_STACK).fit(
                X, target, sample_weight=weights
            )
            np.testing.assert_array_equal(getattr(routed, method)(X), getattr(plain, method)(X))


def _meta_learner(trainer):
    """The ensemble's meta-learner, unfitted: a Ridge on standardised inputs."""
    return make_pipeline(StandardScaler(), Ridge(alpha=trainer.config_["meta_alpha"]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ensemble_learns_on_a_returns_scale_target(seed):
    """On a returns-scale target (about 1e-2) the Ridge meta-learner's penalty, fixed
    in the raw units of the base predictions, shrank every weight to about 1e-3: the
    ensemble predicted its training mean (std 3.3e-6 against its bases' 3.5e-3, audit of
    the guide). On standardised inputs its spread follows the bases': the ratio was
    0.94-1.19 over seeds 0-4 (0.016-0.028 before), the bound is 0.2."""
    X, y = _returns_panel(n_dates=150, seed=seed)
    trainer = EnsembleTrainer(**_SMALL_STACK).fit(X, 0.01 * y)
    stack = np.std(trainer.predict(X))
    bases = [np.std(est.predict(X.to_numpy())) for _, est in trainer.model.estimators]
    assert stack > 0.2 * min(bases)


def test_ensemble_guide_config_regression():
    X, y = _returns_panel(n_dates=60)
    trainer = EnsembleTrainer(load_model_config("ensemble"), n_jobs=1, random_state=0)
    trainer.train(X, y)
    assert trainer.config_["n_splits"] == 5 and trainer.n_splits_ == 5
    pred = _roundtrips(trainer, X)
    # the raw stack predicts alone, as after joblib.dump(trainer.model)
    buffer = io.BytesIO()
    joblib.dump(trainer.model, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(X.to_numpy()), pred)
    assert trainer.get_feature_importance().index[0] == "momentum"
    assert trainer.score(X, y) > 0


@pytest.mark.parametrize("passthrough", [False, True])
def test_ensemble_classifier_with_nan(passthrough):
    """The ensemble takes NaN features (its bases do), with ``passthrough`` too: the raw
    features reached the Ridge / LogisticRegression meta-learner with their NaN and it
    raised "Input X contains NaN"."""
    X, y = _returns_panel(n_dates=80, noise=0.5)
    X = X.copy()
    X.iloc[::5, 0] = np.nan
    labels = np.where(y > 0, 1, -1)
    trainer = EnsembleTrainer(task="classification", passthrough=passthrough, **_SMALL_STACK)
    trainer.fit(X, labels)
    proba = _roundtrips(trainer, X, "predict_proba")
    np.testing.assert_allclose(trainer.model.predict_proba(X.to_numpy()), proba)
    np.testing.assert_array_equal(trainer.model.predict(X.to_numpy()), trainer.predict(X))
    assert list(trainer.classes_) == [-1, 1] and (trainer.predict(X) == labels).mean() > 0.6


def test_ensemble_passthrough_regression_with_nan():
    X, y = _returns_panel(n_dates=80)
    X = X.copy()
    X.iloc[::5, 0] = np.nan
    trainer = EnsembleTrainer(passthrough=True, **_SMALL_STACK).fit(X, y)
    pred = _roundtrips(trainer, X)
    assert np.isfinite(pred).all() and trainer.score(X, y) > 0
    # a missing raw feature takes the median of the meta-learner's own training rows
    meta = trainer.model.final_estimator_
    rows = X.to_numpy()[trainer.meta_train_mask_, 0]
    assert meta[0].statistics_[-X.shape[1]] == pytest.approx(np.nanmedian(rows))


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "quantile_lightgbm"])
@pytest.mark.parametrize("variant", ["conservative", "balanced", "aggressive"])
def test_every_boosting_variant_splits_on_returns_scale_targets(family, variant):
    """XGBoost's conservative variant had gamma 0.1, a floor on a split's loss reduction
    that no split of a returns-scale target (about 1e-2) reaches: every tree was one
    leaf, every prediction the training mean, and the walk-forward engine printed a
    Sharpe ratio for buying (or shorting) the whole market (audit of the guide). Its
    and LightGBM's reg_alpha 1.0 thresholds a leaf's gradient sum, which scales with
    the target too: 1 to 13 distinct predictions over seeds 0-2, against 52 to 597
    with 0.1, the bound being 10."""
    from skquant import all_estimators

    X, y = _returns_panel(n_dates=200)
    config = load_model_config(family, variant=variant)
    config.update(n_estimators=30, early_stopping_rounds=0)
    trainer = dict(all_estimators())[family](config, n_jobs=1).fit(X, 0.01 * y)
    pred = trainer.predict(X)
    assert len(np.unique(np.round(pred, 12))) > 10, f"{family}/{variant} predicts a constant"


@pytest.mark.parametrize("labels", [(1, 2), (-1, 1), ("down", "up"), (0, 1)])
def test_lightgbm_class_weight_is_keyed_by_class_label(labels):
    """The trainer fits LightGBM on codes 0..K-1, and passed class_weight as given: with
    labels {1, 2}, {1: 20} weighted class 2; {-1, 1} and strings raised KeyError
    (audit). It weighs as the same sample_weight does."""
    X, y = _returns_panel(n_dates=60)
    target = np.where(y > 0, labels[1], labels[0])
    kwargs = dict(task="classification", n_estimators=20, min_child_samples=5, n_jobs=1)
    weighted = LightGBMTrainer(class_weight={labels[0]: 20.0}, **kwargs).fit(X, target)
    by_rows = LightGBMTrainer(**kwargs).fit(
        X, target, sample_weight=np.where(target == labels[0], 20.0, 1.0)
    )
    np.testing.assert_allclose(weighted.predict_proba(X), by_rows.predict_proba(X))
    assert not np.allclose(
        weighted.predict_proba(X), LightGBMTrainer(**kwargs).fit(X, target).predict_proba(X)
    )
    # a config through JSON or YAML keys it by the labels' text
    as_text = LightGBMTrainer(class_weight={str(labels[0]): 20.0}, **kwargs).fit(X, target)
    np.testing.assert_allclose(as_text.predict_proba(X), weighted.predict_proba(X))
    with pytest.raises(ValueError, match=r"class_weight names \['sideways'\]"):
        LightGBMTrainer(class_weight={"sideways": 2.0}, **kwargs).fit(X, target)


def _silent_fit_output(trainer, capfd):
    """What fitting ``trainer`` on a small date-indexed frame prints (stdout and stderr)."""
    X, y = _returns_panel(n_dates=60, symbols=("AAA",))
    X, y = X.droplevel("symbol"), y.droplevel("symbol")
    capfd.readouterr()
    trainer.fit(X, y)
    out = capfd.readouterr()
    return out.out + out.err


@pytest.mark.parametrize("family", [LightGBMTrainer, XGBoostTrainer, QuantileLightGBMTrainer])
@pytest.mark.parametrize("where", ["parameter", "config"])
def test_boosters_take_verbose_minus_one_as_quiet(family, where, capfd):
    """``verbose=-1`` (LightGBM's "silent") was refused ("must be an int in the range
    [0, inf)"); taken as truthy it would have logged every round. It is quiet."""
    if where == "parameter":
        trainer = family(n_estimators=5, verbose=-1)
    else:
        trainer = family({"n_estimators": 5, "verbose": -1})
    assert _silent_fit_output(trainer, capfd) == ""
    assert trainer.config_["verbose"] == -1


@pytest.mark.parametrize(
    ("family", "native", "value", "param"),
    [
        (LightGBMTrainer, "verbosity", -1, "verbose"),
        (LightGBMTrainer, "seed", 3, "random_state"),
        (LightGBMTrainer, "num_threads", 1, "n_jobs"),
        (LightGBMTrainer, "eta", 0.05, "learning_rate"),
        (LightGBMTrainer, "num_boost_round", 7, "n_estimators"),
        (XGBoostTrainer, "verbosity", 0, "verbose"),
        (XGBoostTrainer, "nthread", 1, "n_jobs"),
        (QuantileLightGBMTrainer, "verbosity", -1, "verbose"),
    ],
)
def test_native_library_names_work_in_config_and_are_named_as_keywords(
    family, native, value, param
):
    """The libraries' own spellings of common parameters are config keys for the
    parameter they mean; passed as keywords, the TypeError names the parameter to use."""
    trainer = family({native: value})
    assert trainer._resolve_config()[param] == value
    with pytest.raises(TypeError, match=rf"'{native}'.*{param}={value!r}"):
        family(**{native: value})
