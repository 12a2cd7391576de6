"""The one config pipeline of the trainers: layers, task, explicit None, library params."""

from __future__ import annotations

import copy
import pickle
from importlib import resources

import numpy as np
import pytest
import yaml
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import get_tags

import skquant.config
from skquant import EnsembleTrainer, LightGBMTrainer, XGBoostTrainer, load_model_config
from skquant.models._base import SKQUANT_ONLY_KEYS, UNSET
from skquant.registry import get_trainer, registered_names


@pytest.fixture
def classification_variant(tmp_path, monkeypatch):
    """A user's own LightGBM YAML variant ``clf`` that sets ``task: classification``.

    The trainers read the package's YAML through ``skquant.config.load_model_config``;
    the fixture points the lightgbm family at a copy of its file with one more variant.
    """
    doc = yaml.safe_load(resources.files("skquant.configs").joinpath("lightgbm.yaml").read_text())
    doc["variants"]["clf"] = {**doc["variants"]["balanced"], "task": "classification"}
    path = tmp_path / "lightgbm.yaml"
    path.write_text(yaml.safe_dump(doc))
    real = skquant.config.load_model_config

    def load(name, variant=None, overrides=None):
        return real(path if name == "lightgbm" else name, variant, overrides)

    monkeypatch.setattr(skquant.config, "load_model_config", load)
    monkeypatch.setenv("MODEL_VARIANT", "clf")
    return path


def test_yaml_task_decides_the_tags_and_the_fit(classification_variant):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    trainer = LightGBMTrainer(n_estimators=3, early_stopping_rounds=0, n_jobs=1)
    assert get_tags(trainer).estimator_type == "classifier"
    assert is_classifier(trainer) and not is_regressor(trainer)
    assert hasattr(trainer, "predict_proba")
    trainer.fit(X, y)
    assert trainer.task_ == "classification"
    assert get_tags(trainer).estimator_type == "classifier"
    assert trainer.predict_proba(X).shape == (80, 2)


def test_explicit_task_wins_over_the_yaml_task(classification_variant):
    trainer = LightGBMTrainer(task="regression")
    assert is_regressor(trainer) and not hasattr(trainer, "predict_proba")


def test_explicit_none_overrides_the_yaml_max_depth():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    assert load_model_config("ensemble")["rf_max_depth"] is not None
    small = {"n_splits": 2, "hgb_max_iter": 3, "rf_n_estimators": 3, "n_jobs": 1}
    unlimited = EnsembleTrainer(small, rf_max_depth=None, hgb_max_depth=None).fit(X, y)
    assert unlimited.config_["rf_max_depth"] is None
    assert unlimited.model_.named_estimators_["rf"].max_depth is None
    assert unlimited.model_.named_estimators_["hgb"].max_depth is None
    default = EnsembleTrainer(small).fit(X, y)
    assert default.config_["rf_max_depth"] == load_model_config("ensemble")["rf_max_depth"]
    assert default.model_.named_estimators_["rf"].max_depth == default.config_["rf_max_depth"]


def test_the_not_set_sentinel_survives_clone_copy_and_pickle():
    trainer = EnsembleTrainer()
    assert trainer.get_params()["rf_max_depth"] is UNSET
    assert clone(trainer).rf_max_depth is UNSET
    assert copy.deepcopy(trainer).rf_max_depth is UNSET
    assert pickle.loads(pickle.dumps(trainer)).rf_max_depth is UNSET
    assert repr(UNSET) == "UNSET" and "UNSET" not in repr(trainer)
    assert clone(EnsembleTrainer(rf_max_depth=None)).rf_max_depth is None


@pytest.mark.parametrize("name", registered_names())
def test_skquant_only_keys_never_reach_a_library_estimator(name):
    cls = get_trainer(name)
    params = cls().get_params(deep=False)
    only = {key: 3 for key in ("embargo_days", "early_stopping_rounds") if key in params}
    trainer = cls(**only)
    config = trainer._resolve_config()
    library = trainer._library_params(config)
    assert not set(library) & SKQUANT_ONLY_KEYS
    assert set(library) <= set(cls._library_keys)


@pytest.mark.parametrize("cls", [LightGBMTrainer, XGBoostTrainer])
def test_a_fitted_booster_holds_no_skquant_key(cls):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    trainer = cls(n_estimators=3, embargo_days=2, validation_fraction=0.3, n_jobs=1).fit(X, y)
    # XGBoost has an early_stopping_rounds of its own, which skquant sets on purpose
    leaked = set(trainer.model_.get_params()) & (SKQUANT_ONLY_KEYS - {"early_stopping_rounds"})
    assert not leaked
