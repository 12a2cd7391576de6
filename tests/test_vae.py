"""VAETrainer: latent features, reconstruction, pipelines, round trips."""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skquant import LightGBMTrainer, VAETrainer, load_model_config  # noqa: E402

DEVICE = os.environ.get("SKQUANT_TEST_DEVICE", "cpu")
torch.set_num_threads(1)
FAST = {"epochs": 20, "batch_size": 64, "lr": 0.01, "device": DEVICE, "random_state": 0}


def _low_rank(n=600, seed=0):
    """Ten columns driven by three factors: a 3-d latent space explains them."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3) @ rng.randn(3, 10) + 0.05 * rng.randn(n, 10)
    index = pd.bdate_range("2020-01-01", periods=n)
    return pd.DataFrame(X, index=index, columns=[f"f{i}" for i in range(10)])


def test_guide_snippet_returns_latent_features():
    X = _low_rank(300)
    y = X["f0"].shift(-1).fillna(0.0)
    config = load_model_config("vae")
    trainer = VAETrainer(config)
    trainer.set_params(epochs=2, device=DEVICE)
    latent = trainer.train(X, y)
    assert latent.shape == (300, config["latent_dim"])
    names = trainer.get_feature_names_out()
    assert names[0] == "vae0" and names[-1] == f"vae{config['latent_dim'] - 1}"
    assert "valid" in trainer.evals_result_  # early stopping on the chronological tail


def test_reconstruction_error_falls_over_epochs():
    X = _low_rank()
    short = VAETrainer(latent_dim=3, **{**FAST, "epochs": 1}, early_stopping_rounds=0).fit(X)
    long = VAETrainer(latent_dim=3, **FAST, early_stopping_rounds=0).fit(X)
    curve = long.evals_result_["train"]["loss"]
    assert len(curve) == 20 and curve[-1] < 0.6 * curve[0]  # negative ELBO, KL included
    assert long.score(X) > short.score(X)
    assert long.score(X) > -0.2  # mean squared error of standardised rows below 0.2
    back = long.inverse_transform(long.transform(X))
    assert r2_score(X, back) > 0.8


def test_pipeline_with_lightgbm():
    pytest.importorskip("lightgbm")  # absent from some GPU images
    X = _low_rank(400)
    y = X["f0"].to_numpy() + 0.1 * np.random.RandomState(1).randn(400)
    pipe = make_pipeline(
        StandardScaler(),
        VAETrainer(latent_dim=3, **FAST),
        LightGBMTrainer(n_estimators=30, n_jobs=1, early_stopping_rounds=0, min_child_samples=5),
    )
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (400,)
    assert r2_score(y, pipe.predict(X)) > 0.5


def test_transform_is_causal_deterministic_and_survives_pickle():
    X = _low_rank(200)
    trainer = VAETrainer(latent_dim=2, **{**FAST, "epochs": 3}).fit(X)
    Z = trainer.transform(X)
    np.testing.assert_allclose(trainer.transform(X.iloc[:50]), Z[:50], rtol=1e-5, atol=1e-6)
    again = VAETrainer(latent_dim=2, **{**FAST, "epochs": 3}).fit(X).transform(X)
    np.testing.assert_array_equal(again, Z)
    restored = pickle.loads(pickle.dumps(trainer))
    np.testing.assert_array_equal(restored.transform(X), Z)
    frame = trainer.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == ["vae0", "vae1"] and frame.index.equals(X.index)
    assert not hasattr(trainer, "predict")
    importance = trainer.get_feature_importance()
    assert len(importance) == 10 and importance.index.name == "feature"


def test_train_early_stops_on_given_validation_rows_and_rejects_bad_input():
    X = _low_rank(300)
    trainer = VAETrainer(latent_dim=3, early_stopping_rounds=2, **{**FAST, "epochs": 50})
    latent = trainer.train(X.iloc[:200], None, X.iloc[200:], None)
    assert latent.shape == (200, 3)
    assert len(trainer.evals_result_["valid"]["loss"]) == trainer.n_epochs_
    with pytest.raises(ValueError, match="latent_dim"):
        trainer.inverse_transform(np.zeros((2, 5)))
    bad = X.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        VAETrainer(**FAST).fit(bad)


@pytest.mark.parametrize("latent_dim", [7, 32])
def test_fit_warns_when_the_latent_space_is_not_narrower_than_the_input(latent_dim):
    # build-features' default --latent-dim 32 on 7 features fitted without a word: a
    # latent space at least as wide as the input compresses nothing
    X = _low_rank(n=120).iloc[:, :7]
    fast = {**FAST, "epochs": 2}
    with pytest.warns(UserWarning, match=rf"latent_dim={latent_dim} is not below n_features_in_=7"):
        VAETrainer(latent_dim=latent_dim, **fast).fit(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*is not below n_features_in_")
        VAETrainer(latent_dim=6, **fast).fit(X)
