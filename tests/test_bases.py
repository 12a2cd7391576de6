"""The trainers' bases by role: supervised (regressor/classifier) or feature transformer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skquant import EnsembleTrainer
from skquant.models._base import BaseSupervisedTrainer
from skquant.models._feature_base import BaseFeatureTrainer
from skquant.registry import get_trainer, registered_names

_ROLE_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "score")


@pytest.mark.parametrize("name", registered_names())
def test_each_trainer_has_one_role_and_no_hidden_methods(name):
    cls = get_trainer(name)
    assert issubclass(cls, BaseSupervisedTrainer) != issubclass(cls, BaseFeatureTrainer)
    if issubclass(cls, BaseFeatureTrainer):
        # a method a class shows must be there: none inherited only to be hidden
        hidden = [m for m in _ROLE_METHODS if m in dir(cls) and not hasattr(cls(), m)]
        assert not hidden, f"{cls.__name__} hides inherited {hidden}"


def test_the_fit_template_gives_the_ensemble_the_dates_of_the_rows():
    """The stacking folds follow the dates: rows shuffled within dates fit the same stack."""
    rng = np.random.default_rng(0)
    dates = np.repeat(pd.date_range("2020-01-01", periods=30, freq="B"), 4)
    X = pd.DataFrame(rng.normal(size=(120, 3)), index=pd.DatetimeIndex(dates, name="date"))
    y = X[0] + 0.1 * rng.normal(size=120)
    small = {"n_splits": 3, "hgb_max_iter": 3, "rf_n_estimators": 3, "n_jobs": 1}
    trainer = EnsembleTrainer(small, random_state=0).fit(X, y)
    # 4 time blocks of 7-8 dates: the first block's 7 or 8 dates (28 or 32 rows) have no OOF
    assert (~trainer.meta_train_mask_).sum() in (28, 32)
    assert not hasattr(trainer, "_fit_dates")


def _fitted_small(name):
    from skquant import (
        FTRLProximalTrainer,
        GMMRegimeTrainer,
        LightGBMTrainer,
        MetaLearningTrainer,
    )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=80)
    labels = (y > 0).astype(int)
    if name == "lightgbm":
        est = LightGBMTrainer(task="classification", n_estimators=3, n_jobs=1)
        return est.fit(X, labels)
    if name == "meta_learning":
        return MetaLearningTrainer({"n_splits": 2}, context_features=[0]).fit(X, y)
    if name == "gmm_regime":
        return GMMRegimeTrainer(n_components=2, random_state=0).fit(X)
    return FTRLProximalTrainer(n_passes=1).fit(X, y)


@pytest.mark.parametrize("name", ["lightgbm", "meta_learning", "gmm_regime", "ftrl_proximal"])
def test_fitted_state_names_end_with_an_underscore(name):
    est = _fitted_small(name)
    private = [key for key in vars(est) if key.startswith("_") and not key.startswith("__")]
    assert not private, f"{type(est).__name__} keeps fitted state {private}"
