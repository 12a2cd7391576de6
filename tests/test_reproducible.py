"""Reproducibility: every config variant is seeded; the same fit or command gives the same output."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from skquant import get_trainer, list_models, list_variants, load_model_config

# Families without a random_state parameter, and why they need none.
_UNSEEDED = {
    "change_point": "Bayesian online change-point detection is a deterministic recursion.",
    "ftrl_proximal": "FTRL-Proximal passes over the rows in time order and draws nothing.",
    "meta_learning": "Its base models are seeded by their own family's config; the meta-model "
    "is a closed-form ridge fit.",
    "reward_based": "Its base model is seeded by its own family's config; the weights are a "
    "formula of the rewards.",
}

_NET = {"epochs": 2, "batch_size": 32, "device": "cpu"}
_TORCH = {"mlp", "multi_task", "lstm", "cnn1d", "transformer", "vae", "gan"}

# Default (balanced) config of each family with tiny sizes; random_state is left to it.
_TINY: dict[str, dict] = {
    "lightgbm": {"n_estimators": 10, "n_jobs": 1},
    "xgboost": {"n_estimators": 10, "n_jobs": 1},
    "quantile_lightgbm": {"n_estimators": 10, "n_jobs": 1},
    "ngboost": {"n_estimators": 10},
    "ensemble": {"n_splits": 2, "hgb_max_iter": 5, "rf_n_estimators": 5, "n_jobs": 1},
    "mlp": {"hidden_layer_sizes": [8], **_NET},
    "multi_task": {"hidden_layer_sizes": [8], "head_size": 4, **_NET},
    "lstm": {"seq_len": 3, "hidden_size": 8, **_NET},
    "cnn1d": {"seq_len": 3, "channels": [4], **_NET},
    "transformer": {"seq_len": 3, "d_model": 4, "n_heads": 1, "num_layers": 1, **_NET},
    "vae": {"latent_dim": 2, "hidden_layer_sizes": [8], **_NET},
    "gan": {"latent_dim": 2, "generator_layer_sizes": [8], "discriminator_layer_sizes": [8]} | _NET,
    "gmm_regime": {"n_components": 2, "n_init": 1, "max_iter": 20},
    "change_point": {"max_run_length": 20},
    "ftrl_proximal": {"n_passes": 2},
    "meta_learning": {"estimators": ["lightgbm", "ridge"], "n_splits": 2},
    "reward_based": {},
}


def _data(n=160, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(n, 4)),
        columns=["f0", "f1", "f2", "f3"],
        index=pd.bdate_range("2022-01-03", periods=n, name="date"),
    )
    y = pd.Series(0.5 * X["f0"] + rng.normal(scale=0.5, size=n), index=X.index, name="y")
    return X, y


def _outputs(trainer, X) -> list[np.ndarray]:
    out = []
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(trainer, method):
            out.append(np.asarray(getattr(trainer, method)(X), dtype=float))
    if hasattr(trainer, "sample"):
        out.append(np.asarray(trainer.sample(20), dtype=float))
    assert out, f"{type(trainer).__name__} has no output to compare"
    return out


def test_every_family_has_tiny_sizes():
    assert set(_TINY) == set(list_models())


@pytest.mark.parametrize("name", list_models())
def test_every_variant_resolves_a_random_state(name):
    seeded = "random_state" in inspect.signature(get_trainer(name)).parameters
    assert seeded != (name in _UNSEEDED), name
    if not seeded:
        return
    for variant in list_variants(name):
        config = load_model_config(name, variant=variant)
        assert config.get("random_state") is not None, f"{name}/{variant} sets no random_state"


@pytest.mark.parametrize("name", list_models())
def test_default_config_fit_twice_gives_identical_outputs(name):
    X, y = _data()
    if name == "multi_task":
        y = pd.concat({"a": y, "b": y.abs()}, axis=1)
    config = load_model_config(name, overrides=_TINY[name])
    torch = pytest.importorskip("torch") if name in _TORCH else None
    threads = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(1)  # bit-identical on the CPU
    try:
        first, second = (_outputs(get_trainer(name)(config).fit(X, y), X) for _ in range(2))
    finally:
        if torch:
            torch.set_num_threads(threads)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_walkforward_command_twice_gives_identical_files(tmp_path):
    import json

    from tests.test_cli import run_cli, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=100, seed=3)
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        # the ensemble's default variant here (aggressive) bootstraps a random forest
        proc = run_cli(
            "walkforward", "--model", "ensemble", "--input-dir", data,
            "--target", "fwd_ret_1d", "--features", "f0,f1,f2", "--output-dir", out,
            "--train-days", "60", "--test-days", "20", "--step-days", "20",
            "--embargo-days", "1", "--min-train-samples", "50", "--n-jobs", "1",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outputs.append(
            (
                pd.read_parquet(out / "predictions.parquet"),
                json.loads((out / "summary.json").read_text()),
            )
        )
    (pred_a, summary_a), (pred_b, summary_b) = outputs
    assert len(pred_a) > 0
    pd.testing.assert_frame_equal(pred_a, pred_b)
    assert summary_a == summary_b
