"""The user guide's LightGBM workflow, run as written (imports from skquant)."""

from __future__ import annotations

import json
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.feature_selection import RFECV
from sklearn.metrics import classification_report, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score

from skquant import LightGBMTrainer, load_model_config

FAST = {"n_estimators": 20, "n_jobs": 1, "early_stopping_rounds": 0}


def _market_like(n=1500, n_features=12, seed=0):
    """Fat-tailed features and a weak signal in three of them, indexed by business day."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2015-01-01", periods=n, name="date")
    X = pd.DataFrame(
        rng.standard_t(df=4, size=(n, n_features)) * 0.01,
        index=dates,
        columns=[f"feat_{i:02d}" for i in range(n_features)],
    )
    signal = 0.6 * X["feat_00"] - 0.4 * X["feat_03"] + 0.3 * X["feat_07"]
    noise = rng.standard_t(df=3, size=n) * 0.01
    y = pd.Series(signal + noise, index=dates, name="fwd_ret")
    return X, y


@pytest.fixture(scope="module")
def data():
    X, y = _market_like()
    split = int(len(X) * 0.8)
    return X.iloc[:split], y.iloc[:split], X.iloc[split:], y.iloc[split:]


def test_guide_conservative_train_and_importance(data):
    X_train, y_train, X_val, y_val = data
    config = load_model_config("lightgbm", variant="conservative", overrides={"n_jobs": 1})
    trainer = LightGBMTrainer(config)
    assert trainer.train(X_train, y_train) is trainer

    importance = trainer.get_feature_importance()
    assert isinstance(importance, pd.Series)
    assert importance.is_monotonic_decreasing
    assert set(importance.index) == set(X_train.columns)
    top_features = importance.head(60).index.tolist()
    X_train_selected = X_train[top_features]
    assert X_train_selected.shape == X_train.shape
    # the informative features rank first
    assert set(top_features[:3]) == {"feat_00", "feat_03", "feat_07"}
    assert trainer.get_feature_importance(target="fwd_ret").equals(importance)
    with pytest.raises(ValueError, match="Unknown target 'TTH'"):
        trainer.get_feature_importance(target="TTH")

    y_pred = trainer.predict(X_val)
    assert np.isfinite(mean_squared_error(y_val, y_pred))
    assert r2_score(y_val, y_pred) > 0


def test_guide_env_variant(monkeypatch, data):
    X_train, y_train, _, _ = data
    monkeypatch.setenv("MODEL_VARIANT", "conservative")
    trainer = LightGBMTrainer(n_jobs=1, n_estimators=30)  # Automatically uses conservative
    trainer.train(X_train, y_train)
    assert trainer.config_["learning_rate"] == 0.01
    assert trainer.config_["n_estimators"] == 30  # explicit wins


def test_early_stopping_stops_on_noisy_data(data):
    X_train, y_train, X_val, y_val = data
    config = load_model_config(
        "lightgbm",
        overrides={"n_estimators": 3000, "learning_rate": 0.05, "early_stopping_rounds": 50},
    )
    trainer = LightGBMTrainer(config, n_jobs=1).train(X_train, y_train, X_val, y_val)
    assert trainer.best_iteration_ is not None and trainer.best_iteration_ < 1000
    assert set(trainer.evals_result_) == {"train", "valid"}
    train_curve = trainer.evals_result_["train"]["l2"]
    valid_curve = trainer.evals_result_["valid"]["l2"]
    assert len(train_curve) == len(valid_curve) < 3000
    assert train_curve[-1] < train_curve[0]  # it learned before stopping


def test_early_stopping_without_val_uses_chronological_tail(data):
    X_train, y_train, _, _ = data
    trainer = LightGBMTrainer(
        n_estimators=3000, learning_rate=0.05, early_stopping_rounds=50, n_jobs=1
    ).train(X_train, y_train)
    assert trainer.best_iteration_ < 3000
    # the tail is the latest 20% of dates, after an embargo of the target's horizon
    # (fwd_ret: 1 date): the booster saw only the older rows
    n_tail = int(np.ceil(len(X_train) * trainer.config_["validation_fraction"]))
    assert trainer.config_["embargo_days"] == 1
    assert trainer.model_.n_features_in_ == X_train.shape[1]
    ref = LightGBMTrainer(
        n_estimators=trainer.best_iteration_, learning_rate=0.05, early_stopping_rounds=0, n_jobs=1
    ).fit(X_train.iloc[: -n_tail - 1], y_train.iloc[: -n_tail - 1])
    np.testing.assert_allclose(trainer.predict(X_train), ref.predict(X_train))


def test_tail_on_shuffled_panel_holds_out_latest_dates():
    """Rows of a panel in any order: the validation tail is the latest dates, whole."""
    from skquant.utils._time import chronological_tail_split

    dates = pd.bdate_range("2020-01-01", periods=50)
    index = pd.MultiIndex.from_product([dates, ["AAA", "BBB", "CCC"]], names=["date", "symbol"])
    frame = pd.DataFrame({"x": np.arange(len(index))}, index=index).sample(frac=1, random_state=0)
    train, tail = chronological_tail_split(frame, 0.2)
    train_dates = frame.index.get_level_values("date")[train]
    tail_dates = frame.index.get_level_values("date")[tail]
    assert train_dates.max() < tail_dates.min()
    assert tail_dates.nunique() == 10 and len(tail) == 30


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_grid_search_and_rfecv_with_time_series_split(task, data):
    X_train, y_train, _, _ = data
    y = (y_train > 0).astype(int) if task == "classification" else y_train
    param_grid = {"n_estimators": [10, 20], "learning_rate": [0.05, 0.1], "max_depth": [2, 3]}
    scoring = "accuracy" if task == "classification" else "neg_mean_squared_error"
    grid = GridSearchCV(
        LightGBMTrainer(task=task, n_jobs=1, early_stopping_rounds=0),
        param_grid=param_grid,
        cv=TimeSeriesSplit(5),
        scoring=scoring,
    )
    grid.fit(X_train, y)
    assert set(grid.best_params_) == set(param_grid)
    assert grid.best_estimator_.config_["n_estimators"] == grid.best_params_["n_estimators"]

    selector = RFECV(
        LightGBMTrainer(task=task, **FAST), step=4, cv=TimeSeriesSplit(5), scoring=scoring
    )
    X_selected = selector.fit_transform(X_train, y)
    assert 1 <= X_selected.shape[1] <= X_train.shape[1]


def test_guide_rfecv_on_trainer_model(data):
    X_train, y_train, _, _ = data
    trainer = LightGBMTrainer(**FAST).train(X_train, y_train)
    selector = RFECV(estimator=trainer.model, step=4, cv=5, scoring="neg_mean_squared_error")
    X_train_selected = selector.fit_transform(X_train, y_train)
    assert X_train_selected.shape[0] == len(X_train)


def test_task_tags_drive_sklearn_behaviour(data):
    X_train, y_train, _, _ = data
    assert is_regressor(LightGBMTrainer())
    clf = LightGBMTrainer(task="classification", **FAST)
    assert is_classifier(clf)
    assert is_classifier(LightGBMTrainer({"task": "classification"}))
    y = np.where(y_train > 0, "up", "down")
    scores = cross_val_score(clf, X_train, y, cv=TimeSeriesSplit(3))
    assert scores.shape == (3,)
    fitted = clone(clf).fit(X_train, y)
    assert set(fitted.predict(X_train)) <= {"up", "down"}
    proba = fitted.predict_proba(X_train)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not hasattr(LightGBMTrainer(**FAST).fit(X_train, y_train), "predict_proba")
    report = classification_report(y, fitted.predict(X_train))
    assert "up" in report


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_clone_pickle_joblib_round_trips(task, data, tmp_path):
    X_train, y_train, X_val, _ = data
    y = (y_train > 0).astype(int) if task == "classification" else y_train
    trainer = LightGBMTrainer(task=task, **FAST).fit(X_train, y)
    expected = trainer.predict(X_val)
    np.testing.assert_array_equal(clone(trainer).fit(X_train, y).predict(X_val), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(trainer)).predict(X_val), expected)
    joblib.dump(trainer, tmp_path / "trainer.pkl")
    np.testing.assert_array_equal(joblib.load(tmp_path / "trainer.pkl").predict(X_val), expected)


def test_guide_save_and_load_snippet(data, tmp_path):
    X_train, y_train, X_new, _ = data
    trainer = LightGBMTrainer(load_model_config("lightgbm", overrides={"n_estimators": 20}))
    trainer.train(X_train, y_train)

    models = tmp_path / "models"
    models.mkdir()
    joblib.dump(trainer.model, models / "lightgbm_AAPL_2025-11-13.pkl")
    with open(models / "lightgbm_AAPL_2025-11-13_config.json", "w") as f:
        json.dump(trainer.config, f, indent=2)

    model = joblib.load(models / "lightgbm_AAPL_2025-11-13.pkl")
    y_pred = model.predict(X_new.to_numpy())
    np.testing.assert_allclose(y_pred, trainer.predict(X_new))
    assert (
        json.loads((models / "lightgbm_AAPL_2025-11-13_config.json").read_text())["n_estimators"]
        == 20
    )


def test_guide_learning_curve_snippet(data, monkeypatch):
    """The guide's learning curves, as written, on a LightGBM trainer: it was an
    AttributeError (LightGBM has evals_result_, not XGBoost's evals_result())."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    X_train, y_train, X_val, y_val = data
    trainer = LightGBMTrainer(n_estimators=30, early_stopping_rounds=5, n_jobs=1)
    trainer.train(X_train, y_train, X_val, y_val)

    history = trainer.model.evals_result()
    plt.plot(history["validation_0"]["rmse"], label="Train")
    plt.plot(history["validation_1"]["rmse"], label="Val")
    plt.legend()
    plt.show()
    plt.close("all")

    np.testing.assert_allclose(
        np.square(history["validation_1"]["rmse"]), trainer.evals_result_["valid"]["l2"]
    )
    assert len(history["validation_0"]["rmse"]) == len(trainer.evals_result_["train"]["l2"])
    rmse = mean_squared_error(y_val, trainer.predict(X_val)) ** 0.5  # the kept trees' curve
    assert history["validation_1"]["rmse"][trainer.best_iteration_ - 1] == pytest.approx(rmse)


def test_bad_input_errors(data):
    X_train, y_train, X_val, _ = data
    y_bad = y_train.copy()
    y_bad.iloc[3] = np.nan
    with pytest.raises(ValueError, match="y"):
        LightGBMTrainer(**FAST).fit(X_train, y_bad)
    trainer = LightGBMTrainer(**FAST).fit(X_train, y_train)
    with pytest.raises(ValueError, match="feat_"):
        trainer.predict(X_val.drop(columns="feat_05"))
    with pytest.raises(ValueError, match="both X_val and y_val"):
        LightGBMTrainer(**FAST).train(X_train, y_train, X_val, None)
    # NaN in X is allowed: LightGBM handles missing values
    X_nan = X_train.copy()
    X_nan.iloc[::7, 2] = np.nan
    assert np.isfinite(LightGBMTrainer(**FAST).fit(X_nan, y_train).predict(X_nan)).all()
