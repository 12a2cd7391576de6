"""How every trainer's ``fit`` treats its input: what scikit-learn's checks found.

Early stopping on a chronological tail must take any array-like, say "n_samples" when
it cannot be cut, and stay off for data too small to cut; library estimators must get
only their own parameters (``test_common``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import _NotAnArray

from skquant import (
    LightGBMTrainer,
    MetaLearningTrainer,
    MLPTrainer,
    NGBoostTrainer,
    VAETrainer,
    XGBoostTrainer,
)
from skquant.utils._time import MIN_ROWS_FOR_TAIL, chronological_tail_split

_NET = {"hidden_layer_sizes": [4], "epochs": 2, "device": "cpu"}


def _data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize(
    "trainer",
    [
        LightGBMTrainer(n_estimators=5, early_stopping_rounds=2),
        XGBoostTrainer(n_estimators=5, early_stopping_rounds=2),
        NGBoostTrainer(n_estimators=5, early_stopping_rounds=2),
        MLPTrainer(early_stopping_rounds=2, **_NET),
    ],
    ids=lambda t: type(t).__name__,
)
def test_early_stopping_tail_takes_any_array_like(trainer):
    """An array-like without ``len`` (sklearn's _NotAnArray) used to fail in the tail split."""
    X, y = _data()
    trainer.fit(_NotAnArray(X), _NotAnArray(y), sample_weight=_NotAnArray(np.ones(len(y))))
    assert "valid" in trainer.evals_result_  # the tail was held out
    assert trainer.predict(X).shape == (len(X),)


def test_vae_tail_takes_any_array_like():
    X, _ = _data()
    vae = VAETrainer(latent_dim=2, early_stopping_rounds=2, **_NET).fit(_NotAnArray(X))
    assert "valid" in vae.evals_result_


def test_uncuttable_tail_names_the_sample_count():
    with pytest.raises(ValueError, match="embargo_days=20 cannot split n_samples = 12 "):
        chronological_tail_split(np.zeros((12, 1)), 0.2, embargo=20)
    trainer = LightGBMTrainer(n_estimators=5, early_stopping_rounds=2, embargo_days=30)
    with pytest.raises(ValueError, match="n_samples = 30"):
        trainer.fit(*_data(30))


def test_too_few_rows_train_without_early_stopping():
    """Like HistGradientBoosting's early_stopping="auto": below MIN_ROWS_FOR_TAIL rows
    no tail is held out (it would be one row), from it on one is."""
    X, y = _data(MIN_ROWS_FOR_TAIL - 1)
    small = LightGBMTrainer(n_estimators=5, early_stopping_rounds=2, min_child_samples=1)
    small.fit(X, y)
    assert "valid" not in small.evals_result_ and small.best_iteration_ is None
    X, y = _data(MIN_ROWS_FOR_TAIL)
    assert "valid" in small.fit(X, y).evals_result_


def test_meta_learning_fits_ten_rows_and_refuses_nan():
    """Its bases' folds of two rows used to fail with LightGBM's '1 sample' error."""
    X, y = _data(10)
    meta = MetaLearningTrainer(
        estimators=[LightGBMTrainer(n_estimators=5), XGBoostTrainer(n_estimators=5), "ridge"]
    )
    assert meta.fit(X, y).predict(X).shape == (10,)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        meta.fit(X_nan, y)
    with pytest.raises(ValueError, match="NaN"):
        meta.predict(X_nan)
