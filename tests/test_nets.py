"""The neural-net trainers: early stopping, windows, causality, learnability, round trips.

Set ``SKQUANT_TEST_DEVICE=cuda`` to run every fit here on the GPU
(``benchmarks/gpu_check.sh``); the default is the CPU.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from skquant import (  # noqa: E402
    CNN1DTrainer,
    LSTMTrainer,
    MLPTrainer,
    MultiTaskTrainer,
    TransformerTrainer,
    VAETrainer,
    load_model_config,
)
from skquant.models._nets._sequence import window_index  # noqa: E402

DEVICE = os.environ.get("SKQUANT_TEST_DEVICE", "cpu")
torch.set_num_threads(1)

SEQUENCE = {
    "lstm": lambda **kw: LSTMTrainer(hidden_size=16, **kw),
    "transformer": lambda **kw: TransformerTrainer(
        d_model=16, n_heads=2, num_layers=1, dim_feedforward=32, **kw
    ),
    "cnn1d": lambda **kw: CNN1DTrainer(channels=[16, 16], kernel_size=3, **kw),
}
FAST = {"epochs": 3, "batch_size": 64, "lr": 0.01, "device": DEVICE, "random_state": 0}


def _all_fast():
    return {
        "mlp": MLPTrainer(hidden_layer_sizes=[8], **FAST),
        "multi_task": MultiTaskTrainer(hidden_layer_sizes=[8], head_size=4, **FAST),
        **{name: make(seq_len=4, **FAST) for name, make in SEQUENCE.items()},
    }


def _data(n=300, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = pd.DataFrame(rng.randn(n, n_features), columns=[f"f{i}" for i in range(n_features)])
    X.index = pd.bdate_range("2020-01-01", periods=n)
    y = pd.Series(2.0 * X["f0"].to_numpy() + 0.1 * rng.randn(n), index=X.index, name="ret")
    return X, y


def _lagged(n, lag=3, seed=0):
    """y[t] = x[t - lag] + noise: only a model that sees past rows can learn it."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 2)
    y = np.r_[np.zeros(lag), x[:-lag, 0]] + 0.1 * rng.randn(n)
    return pd.DataFrame(x, columns=["a", "b"]), y


# --------------------------------------------------------------------------- import
def test_import_skquant_and_nets_does_not_import_torch():
    code = (
        "import sys, skquant\n"
        "from skquant import MLPTrainer, LSTMTrainer, MultiTaskTrainer, VAETrainer\n"
        "import skquant.models._nets\n"
        "MLPTrainer(); LSTMTrainer(); MultiTaskTrainer(); VAETrainer()\n"
        "bad = [m for m in ('torch', 'skorch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- guide
@pytest.mark.parametrize(
    ("name", "cls", "overrides"),
    [
        ("mlp", MLPTrainer, {"epochs": 100}),
        ("transformer", TransformerTrainer, None),
        ("lstm", LSTMTrainer, None),
        ("cnn1d", CNN1DTrainer, None),
        ("multi_task", MultiTaskTrainer, None),
    ],
)
def test_guide_snippets(name, cls, overrides):
    config = load_model_config(name, overrides=overrides)
    trainer = cls(config)
    if overrides:
        assert config["epochs"] == 100
    for variant in ("conservative", "balanced", "aggressive"):
        assert load_model_config(name, variant=variant)["epochs"] >= 1
    # the configured net trains (shortened here) and early-stops on a chronological tail
    X, y = _data(200)
    trainer.set_params(epochs=2, device=DEVICE)
    if name == "multi_task":
        trainer.set_params(loss_weights=[1.0, 0.5])
        y = pd.DataFrame({"TTH": y, "MDD": -y})
    trainer.train(X, y)
    assert trainer.config_["early_stopping_rounds"] > 0
    assert len(trainer.evals_result_["valid"]["loss"]) == trainer.n_epochs_


def test_unknown_config_key_is_rejected():
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        load_model_config("mlp", overrides={"hidden_sizes": [4]})


# --------------------------------------------------------------------------- early stopping
def test_train_early_stops_on_the_validation_rows_and_restores_the_best_epoch():
    X, y = _data(400)
    X_val, _ = _data(200, seed=1)
    X_val.index = X_val.index + pd.offsets.BDay(400)  # the dates after X's
    y_val = -2.0 * X_val["f0"]  # the opposite relation: validation loss rises as it learns
    trainer = MLPTrainer(
        hidden_layer_sizes=[16],
        epochs=50,
        lr=0.01,
        early_stopping_rounds=3,
        **{k: v for k, v in FAST.items() if k not in {"epochs", "lr"}},
    )
    assert trainer.train(X, y, X_val, y_val) is trainer
    valid = trainer.evals_result_["valid"]["loss"]
    assert trainer.n_epochs_ < 50
    assert trainer.n_epochs_ == trainer.best_iteration_ + 3
    assert len(trainer.evals_result_["train"]["loss"]) == len(valid) == trainer.n_epochs_
    best = trainer.best_iteration_
    assert valid[best - 1] == pytest.approx(min(valid), rel=1e-3)
    # the kept weights are the best epoch's: their validation loss is the best one
    pred = trainer.predict(X_val)
    loss = np.mean(((pred - y_val.to_numpy()) / trainer.y_scale_[0]) ** 2)
    assert loss == pytest.approx(valid[best - 1], rel=1e-3)


def test_chronological_tail_is_the_validation_set_and_scaler_sees_training_rows_only():
    X, y = _data(200)
    X.iloc[160:] += 100.0  # the latest 20% of dates: a shift the scaler must not see
    trainer = MLPTrainer(
        hidden_layer_sizes=[8], validation_fraction=0.2, early_stopping_rounds=5, **FAST
    ).fit(X, y)
    np.testing.assert_allclose(trainer.mean_, X.iloc[:160].mean().to_numpy())
    assert "valid" in trainer.evals_result_
    no_es = MLPTrainer(hidden_layer_sizes=[8], early_stopping_rounds=0, **FAST).fit(X, y)
    assert "valid" not in no_es.evals_result_ and no_es.best_iteration_ is None
    np.testing.assert_allclose(no_es.mean_, X.mean().to_numpy())


def test_without_standardize_inputs_are_left_alone():
    X, y = _data(100)
    trainer = MLPTrainer(hidden_layer_sizes=[4], standardize=False, **FAST).fit(X, y)
    assert np.all(trainer.mean_ == 0) and np.all(trainer.scale_ == 1)


# --------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("name", ["mlp", "multi_task", "lstm", "transformer", "cnn1d"])
def test_same_seed_same_predictions_and_round_trips(name, tmp_path):
    X, y = _data(160)
    if name == "multi_task":
        y = pd.DataFrame({"a": y, "b": 2 * X["f1"]})  # X["f1"] itself is refused
    trainer = _all_fast()[name].set_params(dropout=0.2)
    pred = np.asarray(trainer.fit(X, y).predict(X))
    again = np.asarray(clone(trainer).fit(X, y).predict(X))
    np.testing.assert_array_equal(pred, again)
    other = np.asarray(clone(trainer).set_params(random_state=1).fit(X, y).predict(X))
    assert not np.allclose(pred, other)
    restored = pickle.loads(pickle.dumps(trainer))
    np.testing.assert_array_equal(np.asarray(restored.predict(X)), pred)
    joblib.dump(trainer, tmp_path / "net.joblib")
    np.testing.assert_array_equal(np.asarray(joblib.load(tmp_path / "net.joblib").predict(X)), pred)
    assert trainer.model is trainer.model_


def test_fit_does_not_change_global_torch_rng():
    X, y = _data(80)
    state = torch.random.get_rng_state()
    MLPTrainer(hidden_layer_sizes=[4], **FAST).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_fits_in_threads_at_once_give_the_sequential_predictions(name):
    """Folds fitted in threads (joblib's threading backend, Dask with processes=False)
    give what each fit gives alone: eight fits with dropout start together behind a
    barrier, each with its own seed. Before, each fit seeded torch's global generator
    and the fits drew from (and restored) each other's state: predictions differed from
    the sequential ones by 0.2 to 1.6 (at most, over three runs)."""
    X, y = _data(200)
    make = {
        "mlp": lambda seed: MLPTrainer(hidden_layer_sizes=[8], dropout=0.3, **FAST),
        "lstm": lambda seed: LSTMTrainer(hidden_size=8, seq_len=3, dropout=0.3, **FAST),
    }[name]
    params = {"batch_size": 8, "epochs": 2}
    seeds = list(range(8))
    alone = [make(s).set_params(random_state=s, **params).fit(X, y).predict(X) for s in seeds]
    barrier = threading.Barrier(len(seeds))

    def fit(seed):
        trainer = make(seed).set_params(random_state=seed, **params)
        barrier.wait()
        return trainer.fit(X, y).predict(X)

    with ThreadPoolExecutor(len(seeds)) as pool:
        together = list(pool.map(fit, seeds))
    for seed, pred, ref in zip(seeds, together, alone, strict=True):
        np.testing.assert_array_equal(pred, ref, err_msg=f"random_state={seed}")


def test_fit_and_predict_leave_torch_global_state_as_they_were():
    X, y = _data(120)
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    for trainer in (MLPTrainer(hidden_layer_sizes=[4], **FAST), LSTMTrainer(seq_len=3, **FAST)):
        trainer.fit(X, y).predict(X)
        trainer.get_feature_importance()
    assert torch.get_num_threads() == threads
    assert torch.equal(state, torch.random.get_rng_state())
    assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_the_lean_skorch_net_trains_exactly_like_skorch_neural_net(name, monkeypatch):
    """LeanNet skips per-batch work only: same losses, stopping epoch, weights, history."""
    import skorch

    from skquant.models._nets import _modules

    lean_net = _modules.LeanNet
    X, y = _data(300)
    params = {"early_stopping_rounds": 2, "grad_clip": 0.5, "epochs": 6}
    fitted = {}
    for kind in ("lean", "skorch"):
        if kind == "skorch":
            monkeypatch.setattr(_modules, "LeanNet", skorch.NeuralNet)
        trainer = clone(_all_fast()[name]).set_params(**params).fit(X, y)
        fitted[kind] = trainer
    lean, plain = fitted["lean"], fitted["skorch"]
    assert type(lean.model_) is lean_net and type(plain.model_) is skorch.NeuralNet
    assert lean.evals_result_ == plain.evals_result_
    assert lean.best_iteration_ == plain.best_iteration_
    np.testing.assert_array_equal(lean.predict(X), plain.predict(X))
    np.testing.assert_array_equal(lean.permutation_importance_, plain.permutation_importance_)
    for a, b in zip(lean.model_.history, plain.model_.history, strict=True):
        assert len(a["batches"]) > 1
        assert a["batches"] == b["batches"]  # every loss and batch size, train and valid
        assert a["train_batch_count"] == b["train_batch_count"]


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_a_net_trains_exactly_what_a_plain_pytorch_loop_trains(name):
    """Same torch seed, same module, AdamW, batch orders and dropout masks: the trainer's
    epoch losses and predictions equal a hand-written loop's to the last bit, so nothing
    the wrapper trims (LeanNet) or adds (standardisation, packing) changes the training."""
    from skquant.models._nets._base import mean_and_std, standardize
    from skquant.models._nets._modules import LSTMModule, MLPModule
    from skquant.models._nets._sequence import make_windows

    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    y = X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.randn(300)
    params = {
        "epochs": 2,
        "batch_size": 64,
        "lr": 0.01,
        "weight_decay": 1e-4,
        "dropout": 0.1,
        "early_stopping_rounds": 0,
        "grad_clip": 0.0,
        "device": "cpu",
        "random_state": 3,
    }
    Xs = standardize(X, *mean_and_std(X))
    if name == "mlp":
        trainer = MLPTrainer(hidden_layer_sizes=[8, 4], **params)
        make_module, inputs = (lambda: MLPModule(4, [8, 4], 0.1, 1)), Xs
    else:
        trainer = LSTMTrainer(seq_len=3, hidden_size=8, num_layers=1, **params)
        make_module, inputs = (lambda: LSTMModule(4, 8, 1, 0.1, 1)), make_windows(Xs, None, 3)
    trainer.fit(X, y)

    ys = ((y - y.mean()) / y.std()).astype(np.float32)
    inputs, targets = torch.as_tensor(inputs), torch.as_tensor(ys)
    with torch.random.fork_rng():
        torch.manual_seed(int(np.random.RandomState(3).randint(np.iinfo(np.int32).max)))
        module = make_module()
        optimizer = torch.optim.AdamW(module.parameters(), lr=0.01, weight_decay=1e-4)
        module.train()
        epoch_losses = []
        for _ in range(2):
            order, total = torch.randperm(300), 0.0
            for start in range(0, 300, 64):
                rows = order[start : start + 64]
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(module(inputs[rows])[:, 0], targets[rows])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            epoch_losses.append(total / 300)
    module.eval()
    with torch.inference_mode():
        raw = torch.cat([module(inputs[start : start + 64]) for start in range(0, 300, 64)])
    assert trainer.evals_result_["train"]["loss"] == epoch_losses
    np.testing.assert_array_equal(
        trainer.predict(X), raw[:, 0].double().numpy() * y.std() + y.mean()
    )


# --------------------------------------------------------------------------- search
def test_grid_search_over_a_net_in_a_pipeline():
    X, y = _data(240)
    pipe = make_pipeline(StandardScaler(), MLPTrainer(hidden_layer_sizes=[8], **FAST))
    grid = GridSearchCV(
        pipe,
        {"mlptrainer__lr": [0.003, 0.03], "mlptrainer__hidden_layer_sizes": [[4], [8]]},
        cv=TimeSeriesSplit(n_splits=2),
    )
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlptrainer__lr", "mlptrainer__hidden_layer_sizes"}
    assert grid.predict(X).shape == (240,)


# --------------------------------------------------------------------------- windows
def test_windows_are_gathered_batch_by_batch_from_the_rows():
    """Sequence nets keep rows plus window positions; every batch (and np.asarray) gives
    exactly the windows the full array holds."""
    from skorch.dataset import Dataset

    from skquant.models._nets._modules import FastLoader
    from skquant.models._nets._sequence import lazy_windows

    dates = pd.bdate_range("2021-01-01", periods=10)
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "symbol"])
    Xs = np.random.RandomState(0).randn(30, 2)
    windows = lazy_windows(Xs, pd.DataFrame(Xs, index=index), 4)
    padded = np.vstack([Xs, np.zeros((1, 2))]).astype(np.float32)
    expected = padded[window_index(pd.DataFrame(Xs, index=index), 30, 4)]
    assert windows.shape == expected.shape and windows.rows.shape == (31, 2)
    np.testing.assert_array_equal(np.asarray(windows), expected)
    np.testing.assert_array_equal(np.asarray(windows[[3, 29]]), expected[[3, 29]])
    y = np.arange(30.0)
    batches = {}
    for name, X in (("lazy", windows), ("full", expected)):
        torch.manual_seed(0)
        batches[name] = list(FastLoader(Dataset(X, y), batch_size=7, shuffle=True))
    for (Xa, ya), (Xb, yb) in zip(batches["lazy"], batches["full"], strict=True):
        assert torch.equal(Xa, Xb) and torch.equal(ya, yb)


def test_window_index_pads_and_never_crosses_symbols():
    dates = pd.bdate_range("2021-01-01", periods=4)
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "symbol"])
    X = pd.DataFrame(np.arange(8.0)[:, None], index=index)
    idx = window_index(X, 8, 3)
    # rows of A are 0, 2, 4, 6; row 4 (A, day 3) looks at A's rows 0, 2, 4
    np.testing.assert_array_equal(idx[4], [0, 2, 4])
    np.testing.assert_array_equal(idx[1], [-1, -1, 1])
    np.testing.assert_array_equal(idx[7], [3, 5, 7])
    plain = window_index(np.zeros((5, 1)), 5, 3)
    np.testing.assert_array_equal(plain[:, -1], np.arange(5))
    np.testing.assert_array_equal(plain[1], [-1, 0, 1])


@settings(max_examples=60, deadline=None)
@given(
    n_symbols=st.integers(1, 4),
    n_dates=st.integers(1, 9),
    seq_len=st.integers(1, 5),
    layout=st.sampled_from(["panel", "shuffled panel", "dates only", "array"]),
    seed=st.integers(0, 2**16),
)
def test_window_index_is_each_rows_own_past_property(n_symbols, n_dates, seq_len, layout, seed):
    """Brute force, row by row: a window is the row and the seq_len - 1 rows before it
    of the same symbol in date order (row order without dates), padded at the start."""
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    index = pd.MultiIndex.from_product([dates, [f"s{i}" for i in range(n_symbols)]])
    X = pd.DataFrame(np.zeros((len(index), 1)), index=index)
    if layout == "shuffled panel":
        X = X.sample(frac=1, random_state=seed)
    elif layout == "dates only":  # one series, rows possibly out of date order
        X = pd.DataFrame(np.zeros((n_dates, 1)), index=dates).sample(frac=1, random_state=seed)
    elif layout == "array":
        X = np.zeros((len(index), 1))
    n = len(X)
    idx = window_index(X, n, seq_len, pad=n)
    for row in range(n):
        if layout == "array":
            past = list(range(row + 1))
        elif layout == "dates only":
            when = X.index.asi8
            past = sorted(np.flatnonzero(when <= when[row]), key=lambda r: when[r])
        else:
            when, who = X.index.get_level_values(0).asi8, X.index.get_level_values(1)
            same = np.flatnonzero((who == who[row]) & (when <= when[row]))
            past = sorted(same, key=lambda r: when[r])
        expected = [n] * max(seq_len - len(past), 0) + list(past[-seq_len:])
        assert idx[row].tolist() == expected


@pytest.mark.parametrize("name", list(SEQUENCE))
def test_sequence_models_are_causal(name):
    X, y = _lagged(200)
    trainer = SEQUENCE[name](seq_len=5, **FAST).fit(X, y)
    pred = trainer.predict(X)
    t = 120
    changed = X.copy()
    changed.iloc[t + 1 :] = np.random.RandomState(3).randn(len(X) - t - 1, 2) * 10
    np.testing.assert_allclose(trainer.predict(changed)[: t + 1], pred[: t + 1], rtol=1e-6)
    assert not np.allclose(trainer.predict(changed)[t + 1 :], pred[t + 1 :])


@pytest.mark.parametrize("name", list(SEQUENCE))
def test_panel_windows_stay_within_a_symbol(name):
    n_dates = 60
    dates = pd.bdate_range("2021-01-01", periods=n_dates)
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "symbol"])
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(2 * n_dates, 2), index=index, columns=["a", "b"])
    y = rng.randn(2 * n_dates)
    trainer = SEQUENCE[name](seq_len=4, **FAST).fit(X, y)
    pred = trainer.predict(X)
    changed = X.copy()
    is_b = X.index.get_level_values("symbol") == "B"
    changed.loc[is_b] = rng.randn(is_b.sum(), 2) * 10
    np.testing.assert_allclose(trainer.predict(changed)[~is_b], pred[~is_b], rtol=1e-6)


@pytest.mark.parametrize("name", list(SEQUENCE))
def test_x_val_windows_reach_back_into_the_training_rows(name, monkeypatch):
    """The windows of an X_val that follows the training rows hold the training rows
    before it, per symbol (they were zero-padded: the net early-stopped on windows it
    never trained on); an X_val that does not follow them is windowed alone."""
    from skquant.models._nets._base import BaseNetTrainer

    dates = pd.bdate_range("2021-01-01", periods=40)
    index = pd.MultiIndex.from_product([dates, ["A", "B"]], names=["date", "symbol"])
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(len(index), 2), index=index, columns=["a", "b"])
    y = pd.Series(rng.randn(len(index)), index=index, name="ret")
    seen = {}
    original = BaseNetTrainer._fit_net

    def spy(self, config, heads, inputs, packed, val_inputs, val_packed):
        seen["val"] = np.asarray(val_inputs)
        return original(self, config, heads, inputs, packed, val_inputs, val_packed)

    monkeypatch.setattr(BaseNetTrainer, "_fit_net", spy)
    train, val = X.iloc[:60], X.iloc[60:]  # 30 dates, then 10
    trainer = SEQUENCE[name](seq_len=4, early_stopping_rounds=2, **FAST)
    trainer.fit(train, y.iloc[:60], X_val=val, y_val=y.iloc[60:])
    scaled = ((X - trainer.mean_) / trainer.scale_).to_numpy(np.float32)
    # the first X_val row (date 31, symbol A): dates 28-30 of A, then itself
    rows_a = np.flatnonzero(X.index.get_level_values("symbol") == "A")
    np.testing.assert_allclose(seen["val"][0], scaled[rows_a[27:31]], rtol=1e-6)
    assert len(seen["val"]) == len(val)
    trainer.fit(train, y.iloc[:60], X_val=X.iloc[50:], y_val=y.iloc[50:])  # overlaps
    assert not seen["val"][0, :3].any()  # its first windows: padding, as before


def test_seq_len_longer_than_every_training_series_is_warned():
    # a panel of 15 dates with seq_len=20: every window was mostly zero padding, silently
    dates = pd.bdate_range("2021-01-01", periods=15)
    index = pd.MultiIndex.from_product([dates, ["A", "B", "C"]], names=["date", "symbol"])
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(45, 2), index=index, columns=["a", "b"])
    y = rng.randn(45)
    with pytest.warns(UserWarning, match=r"seq_len=20 is longer than every series.*holds 15"):
        trainer = LSTMTrainer(seq_len=20, **FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.predict(X.iloc[-3:])  # a short series to predict is the usual case
        LSTMTrainer(seq_len=15, embargo_days=0, **FAST).fit(X, y)  # one whole window per symbol


def test_three_d_windows_are_accepted():
    rng = np.random.RandomState(0)
    X3 = rng.randn(120, 5, 3)
    y = X3[:, 1, 0] + 0.1 * rng.randn(120)
    trainer = LSTMTrainer(hidden_size=8, **FAST).fit(X3, y)
    assert trainer.n_features_in_ == 3 and trainer.input_ndim_ == 3
    assert trainer.predict(X3).shape == (120,)
    with pytest.raises(ValueError, match="3-D"):
        trainer.predict(X3[:, -1, :])


@pytest.mark.parametrize("name", sorted(SEQUENCE))
def test_three_d_windows_of_another_length_are_refused(name):
    # fitted on windows of 5 rows, each net predicted windows of 3 rows silently
    rng = np.random.RandomState(0)
    X3 = rng.randn(60, 5, 3)
    trainer = SEQUENCE[name](**FAST).fit(X3, rng.randn(60))
    assert trainer.seq_len_in_ == 5
    with pytest.raises(ValueError, match=r"X has shape \(60, 3, 3\).*\(n_samples, 5, 3\)"):
        trainer.predict(X3[:, 2:, :])
    assert trainer.predict(X3).shape == (60,)
    # a refit on rows forgets the window length of the 3-D fit
    trainer.fit(X3[:, -1, :], rng.randn(60))
    assert not hasattr(trainer, "seq_len_in_")


@pytest.mark.parametrize("name", ["lstm", "transformer", "cnn1d"])
def test_gradient_checkpointing_gives_the_same_fit(name, monkeypatch):
    # the guide's "enable gradient checkpointing" had no CNN1D option; with it every
    # sequence net recomputes activations in training and skips it at predict
    from skquant.models._nets import _modules

    calls = []

    def counting_checkpoint(*args, **kwargs):
        calls.append(kwargs.get("use_reentrant"))
        return torch.utils.checkpoint.checkpoint(*args, **kwargs)

    monkeypatch.setattr(_modules, "checkpoint", counting_checkpoint)
    X, y = _lagged(150)
    base = SEQUENCE[name](seq_len=4, dropout=0.1, **{**FAST, "epochs": 2})
    plain = base.fit(X, y).predict(X)
    assert calls == []
    fitted = clone(base).set_params(gradient_checkpointing=True).fit(X, y)
    assert fitted.model_.module_.gradient_checkpointing is True
    assert calls and set(calls) == {False}  # non-reentrant, in training
    n_train = len(calls)
    ckpt = fitted.predict(X)
    assert len(calls) == n_train  # a no-op at predict (eval mode, no grad)
    if DEVICE == "cpu":
        # the recomputation runs the same CPU kernels on the same inputs, with dropout's
        # random state replayed (checkpoint's preserve_rng_state), so the gradients and
        # the fitted weights are the same bits: exact equality, not a tolerance
        np.testing.assert_array_equal(ckpt, plain)
    else:
        # cuDNN runs the checkpointed LSTM's first pass with its inference kernel, whose
        # rounding differs; Adam carries the difference through training, so GPU fits agree
        # closely but not to float precision.
        np.testing.assert_allclose(ckpt, plain, atol=0.05)
        assert np.corrcoef(ckpt, plain)[0, 1] > 0.95


@pytest.mark.parametrize("name", ["lstm", "transformer", "cnn1d"])
def test_gradient_checkpointing_is_validated_configured_and_cloned(name):
    make = {"lstm": LSTMTrainer, "transformer": TransformerTrainer, "cnn1d": CNN1DTrainer}[name]
    X, y = _lagged(40)
    with pytest.raises(ValueError, match=r"'gradient_checkpointing' parameter.*bool.*'yes'"):
        make(gradient_checkpointing="yes", **{**FAST, "epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match=r"overrides.*'gradient_checkpointing'.*'yes'"):
        load_model_config(name, overrides={"gradient_checkpointing": "yes"})
    assert load_model_config(name)["gradient_checkpointing"] is False  # the YAML default
    config = load_model_config(name, overrides={"gradient_checkpointing": True})
    assert make(config)._resolve_config()["gradient_checkpointing"] is True
    trainer = make(gradient_checkpointing=True)
    assert clone(trainer).get_params()["gradient_checkpointing"] is True
    assert make().get_params()["gradient_checkpointing"] is None  # config, then YAML decide


# --------------------------------------------------------------------------- learnability
def test_sequence_models_learn_a_lag_that_a_row_model_cannot():
    X, y = _lagged(1500)
    train, test = slice(0, 1200), slice(1200, None)
    settings = {"seq_len": 6, "epochs": 25, "lr": 0.005, "batch_size": 64, "dropout": 0.0}
    settings |= {"early_stopping_rounds": 0, "device": DEVICE, "random_state": 0}
    scores = {}
    for name, make in SEQUENCE.items():
        model = make(**settings).fit(X.iloc[train], y[train])
        # predict with the history before the held-out rows, score the held-out rows only
        scores[name] = r2_score(y[test], model.predict(X)[test])
    mlp = MLPTrainer(
        hidden_layer_sizes=[32], **{k: v for k, v in settings.items() if k != "seq_len"}
    )
    scores["mlp"] = r2_score(y[test], mlp.fit(X.iloc[train], y[train]).predict(X.iloc[test]))
    assert all(scores[name] > 0.8 for name in SEQUENCE), scores
    assert scores["mlp"] < 0.2, scores


# --------------------------------------------------------------------------- tasks
def test_classification_probabilities_and_labels():
    X, y = _data(200)
    labels = np.where(y > 0, "up", "down")
    trainer = MLPTrainer(task="classification", hidden_layer_sizes=[8], **{**FAST, "epochs": 15})
    trainer.fit(X, labels)
    proba = trainer.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(trainer.classes_) == ["down", "up"]
    assert set(trainer.predict(X)) <= {"up", "down"}
    assert trainer.score(X, labels) > 0.8
    assert not hasattr(MLPTrainer(), "predict_proba")


def test_multi_task_heads_names_weights_and_importance():
    X, y = _data(400)
    rng = np.random.RandomState(0)
    Y = pd.DataFrame(
        {
            "TTH": 2 * X["f0"],
            "MDD": -3 * X["f2"] + 0.1 * rng.randn(400),
            "y_will_peak": (X["f3"] > 0).astype(float),
        }
    )
    trainer = MultiTaskTrainer(
        hidden_layer_sizes=[32],
        head_size=8,
        loss_weights=[1.0, 0.5, 0.5],
        binary_targets=["y_will_peak"],
        **{**FAST, "epochs": 20},
    ).train(X, Y)
    pred = trainer.predict(X)
    assert list(pred.columns) == ["TTH", "MDD", "y_will_peak"]
    assert pred.index.equals(X.index)
    assert pred["y_will_peak"].between(0, 1).all()
    assert r2_score(Y["MDD"], pred["MDD"]) > 0.5
    assert trainer.get_feature_importance(target="MDD").index[0] == "f2"
    assert trainer.get_feature_importance(target="TTH").index[0] == "f0"
    assert trainer.get_feature_importance(target="y_will_peak").index[0] == "f3"
    with pytest.raises(ValueError, match="Unknown target"):
        trainer.get_feature_importance(target="MFE")
    with pytest.raises(ValueError, match="loss_weights"):
        clone(trainer).set_params(loss_weights=[1.0]).fit(X, Y)
    bad = Y.assign(y_will_peak=Y["y_will_peak"] * 2)
    with pytest.raises(ValueError, match="y_will_peak"):
        clone(trainer).fit(X, bad)
    arr = clone(trainer).set_params(binary_targets=[2]).fit(X, Y.to_numpy()).predict(X)
    assert isinstance(arr, np.ndarray) and arr.shape == (400, 3)


def test_multi_task_warns_once_about_a_zero_one_target_fitted_as_numbers():
    """A 0/1 column not in binary_targets got a squared-error head silently: the
    binary-regression warning ran for one target column only."""
    from skquant.models._base import BinaryTargetWarning

    X, _ = _data(120)
    Y = pd.DataFrame(  # TTH is not X["f0"] itself: a column of X equal to a target is refused
        {"TTH": 2 * X["f0"], "y_will_peak": (X["f1"] > 0).astype(float)}, index=X.index
    )
    Y["also"] = (X["f2"] > 0).astype(int)
    fast = {**FAST, "epochs": 1, "embargo_days": 0}
    with pytest.warns(BinaryTargetWarning) as record:
        MultiTaskTrainer(hidden_layer_sizes=[4], head_size=0, **fast).fit(X, Y)
    messages = [str(w.message) for w in record if issubclass(w.category, BinaryTargetWarning)]
    assert len(messages) == 1
    assert "['y_will_peak', 'also']" in messages[0] and "binary_targets=" in messages[0]
    with pytest.warns(BinaryTargetWarning, match=r"\[2\]"):  # by position for an array y
        MultiTaskTrainer(hidden_layer_sizes=[4], head_size=0, **fast).fit(
            X, Y[["TTH", "TTH", "also"]].to_numpy()
        )
    # a binary_targets set (the user's choice, [] included) is quiet
    for binary in (["y_will_peak", "also"], []):
        with warnings.catch_warnings():
            warnings.simplefilter("error", BinaryTargetWarning)
            trainer = MultiTaskTrainer(hidden_layer_sizes=[4], head_size=0, **fast)
            trainer.set_params(binary_targets=binary).fit(X, Y)
        assert trainer.binary_mask_.tolist() == [False, bool(binary), bool(binary)]


def test_permutation_importance_ranks_the_informative_feature_first():
    X, y = _data(300)
    trainer = MLPTrainer(hidden_layer_sizes=[16], **{**FAST, "epochs": 10}).fit(X, y)
    importance = trainer.get_feature_importance()
    assert importance.index[0] == "f0" and importance.index.name == "feature"
    assert importance.head(2).index.tolist()[0] == "f0"


def test_permutation_importance_is_the_mean_loss_rise_over_three_shuffles():
    """Each head's loss rise when one column is permuted, averaged over 3 shuffles of the
    last validation rows, as a one-shuffle-at-a-time loop computes it."""
    X, y = _data(400)
    Y = pd.DataFrame({"a": y, "b": -2 * X["f1"]})
    trainer = MultiTaskTrainer(hidden_layer_sizes=[8], head_size=4, **FAST)
    trainer.fit(X[:300], Y[:300], X_val=X[300:], y_val=Y[300:])
    module, criterion = trainer.model_.module_, trainer.model_.criterion_
    module.eval()
    inputs = ((X[300:].to_numpy() - trainer.mean_) / trainer.scale_).astype(np.float32)
    packed = np.column_stack(
        [(Y[300:].to_numpy() - trainer.y_mean_) / trainer.y_scale_, np.ones(100)]
    ).astype(np.float32)

    def losses(values):
        with torch.no_grad():
            out = criterion.per_head(module(torch.as_tensor(values)), torch.as_tensor(packed))
        return np.array([float(loss.mean()) for loss in out])

    rng = np.random.RandomState(0)
    expected = np.zeros((4, 2))
    for j in range(4):
        for _ in range(3):
            shuffled = inputs.copy()
            shuffled[:, j] = inputs[rng.permutation(100), j]
            expected[j] += (losses(shuffled) - losses(inputs)) / 3
    np.testing.assert_allclose(trainer.permutation_importance_, expected, rtol=1e-4, atol=1e-6)
    assert trainer.get_feature_importance(target="b").index[0] == "f1"


@pytest.mark.parametrize("name", ["mlp", "multi_task", "lstm", "vae"])
def test_a_saved_net_holds_no_training_rows(name):
    """Pickling a fitted net keeps its weights and fitted importance, not its rows.

    Four times the training rows (one mini-batch either way, so the skorch history
    is the same size) must not make the pickle grow.
    """
    sizes = []
    for n in (200, 800):
        X, y = _data(n)
        if name == "vae":
            trainer = VAETrainer(latent_dim=2, hidden_layer_sizes=[8], **FAST)
            y = None
        else:
            trainer = clone(_all_fast()[name])
            if name == "multi_task":
                y = pd.DataFrame({"a": y, "b": -y})
        trainer.set_params(batch_size=1024, early_stopping_rounds=0).fit(X, y)
        assert len(trainer.get_feature_importance()) == X.shape[1]
        sizes.append(len(pickle.dumps(trainer)))
    assert sizes[1] - sizes[0] < 1000, sizes


# --------------------------------------------------------------------------- errors and logs
@pytest.mark.filterwarnings("ignore:X_val starts on")  # X_val: X's rows, one made bad
@pytest.mark.parametrize("compiled", ["1", "0"], ids=["numba", "numpy"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_is_a_clear_error_naming_the_array(bad, compiled, monkeypatch):
    """X, X_val and the rows given to predict are checked as they are standardised."""
    if compiled == "1":
        pytest.importorskip("numba")
    monkeypatch.setenv("SKQUANT_DISABLE_NUMBA", "0" if compiled == "1" else "1")
    X, y = _data(50)
    X_bad = X.copy()
    X_bad.iloc[3, 1] = bad
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):
        MLPTrainer(**FAST).fit(X_bad, y)
    with pytest.raises(ValueError, match="^X_val contains NaN or infinity"):
        MLPTrainer(**FAST).fit(X, y, X_val=X_bad, y_val=y)
    fitted = LSTMTrainer(seq_len=3, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):
        fitted.predict(X_bad)
    windows = np.random.RandomState(1).randn(40, 3, 4)
    fitted = LSTMTrainer(seq_len=3, **FAST).fit(windows, y[:40])
    windows[5, 2, 1] = bad
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):  # 3-D windows
        fitted.predict(windows)
    y_bad = y.copy()
    y_bad.iloc[4] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        LSTMTrainer(**FAST).fit(X, y_bad)


@pytest.mark.parametrize("layout", ["C", "F", "3-D", "strided"])
def test_standardize_compiled_and_numpy_paths_give_the_same_float32(layout, monkeypatch):
    """The numba kernel and the NumPy blocks compute the same float64 operations, so
    the same float32 values, also with a large offset (prices) and in every layout."""
    pytest.importorskip("numba")
    from skquant.models._nets._base import mean_and_std, standardize

    rng = np.random.RandomState(0)
    values = 1e5 + rng.randn(20_000, 7) * np.array([1e-3, 1, 10, 1e3, 1e-6, 5, 0.1])
    if layout == "F":
        values = np.asfortranarray(values)
    elif layout == "3-D":
        values = values.reshape(2_000, 10, 7)
    elif layout == "strided":
        values = values[::2]
    axes = tuple(range(values.ndim - 1))
    mean, scale = mean_and_std(values)
    np.testing.assert_allclose(mean, values.mean(axis=axes), rtol=1e-14)
    np.testing.assert_allclose(scale, values.std(axis=axes), rtol=1e-12)
    out = {}
    for disable in ("0", "1"):
        monkeypatch.setenv("SKQUANT_DISABLE_NUMBA", disable)
        out[disable] = standardize(values, mean, scale)
    assert out["0"].dtype == np.float32 and out["0"].flags.c_contiguous
    assert out["0"].shape == values.shape
    np.testing.assert_array_equal(out["0"], out["1"])
    reference = ((values - mean) / scale).astype(np.float32)  # dividing, not multiplying
    np.testing.assert_allclose(out["0"], reference, rtol=1e-6, atol=1e-6)


def test_a_callback_acting_per_batch_sees_every_batch():
    """With a per-batch hook LeanNet runs skorch's own batch loop: the hook sees every
    batch, and the history is skorch's."""
    from skorch import NeuralNet
    from skorch.callbacks import Callback
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    from skquant.models._nets._modules import FastLoader, LeanNet, MLPModule

    class CountBatches(Callback):
        def initialize(self):
            self.seen = []
            return self

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            self.seen.append((training, len(batch[0])))

    rng = np.random.RandomState(0)
    X, y = rng.randn(100, 3).astype(np.float32), rng.randn(100, 1).astype(np.float32)
    nets = {}
    for cls in (LeanNet, NeuralNet):
        torch.manual_seed(0)
        nets[cls] = cls(
            MLPModule,
            module__n_features=3,
            criterion=torch.nn.MSELoss,
            max_epochs=2,
            batch_size=32,
            iterator_train=FastLoader,
            iterator_train__shuffle=True,
            iterator_valid=FastLoader,
            train_split=predefined_split(Dataset(X[:20], y[:20])),
            callbacks=[("count", CountBatches())],
        ).fit(X[20:], y[20:])
    for net in nets.values():
        epoch = [(True, 32), (True, 32), (True, 16), (False, 20)]
        assert dict(net.callbacks_)["count"].seen == epoch * 2
    lean, plain = nets[LeanNet].history, nets[NeuralNet].history
    assert lean[:, "batches"] == plain[:, "batches"]
    assert lean[:, "valid_loss"] == plain[:, "valid_loss"]


def test_verbose_logs_each_epoch_and_is_quiet_by_default(capsys):
    X, y = _data(100)
    MLPTrainer(hidden_layer_sizes=[4], **FAST).fit(X, y)
    assert capsys.readouterr().out == ""
    MLPTrainer(hidden_layer_sizes=[4], verbose=1, **FAST).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and out.count("\n") >= FAST["epochs"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_clear_error():
    X, y = _data(50)
    with pytest.raises(ValueError, match="cuda"):
        MLPTrainer(**{**FAST, "device": "cuda"}).fit(X, y)


def test_transformer_heads_must_divide_width():
    X, y = _data(50)
    with pytest.raises(ValueError, match="multiple of n_heads"):
        TransformerTrainer(d_model=6, n_heads=4, **FAST).fit(X, y)


@pytest.mark.parametrize("three_d", [False, True])
def test_transformer_takes_windows_longer_than_512_rows(three_d):
    # seq_len=520 (allowed by its constraint) failed inside torch: "The size of tensor a
    # (520) must match the size of tensor b (512)", the positional encoding's fixed length
    rng = np.random.RandomState(0)
    settings = {"d_model": 4, "n_heads": 1, "num_layers": 1, "dim_feedforward": 4}
    if three_d:
        X, seq_len = rng.randn(12, 520, 2), None
    else:
        X, seq_len = (
            pd.DataFrame(rng.randn(530, 2), index=pd.bdate_range("2020-01-01", periods=530)),
            520,
        )
    trainer = TransformerTrainer(seq_len=seq_len, **settings, **FAST)
    pred = trainer.fit(X, rng.randn(len(X))).predict(X)
    assert pred.shape == (len(X),) and np.isfinite(pred).all()


def test_the_plain_mse_fast_path_is_the_general_loss():
    """One unweighted squared-error head takes F.mse_loss; the general path (and a loss
    pickled before the fast path existed, which has no ``_plain_mse``) gives the same
    value and gradient."""
    from skquant.models._nets._modules import PackedLoss

    rng = np.random.RandomState(0)
    y_pred = torch.tensor(rng.randn(64, 1), dtype=torch.float32, requires_grad=True)
    packed = torch.tensor(np.column_stack([rng.randn(64), np.ones(64)]), dtype=torch.float32)

    def value_and_grad(loss):
        y_pred.grad = None
        value = loss(y_pred, packed)
        value.backward()
        return value.item(), y_pred.grad.numpy().copy()

    fast = PackedLoss(weighted=False)
    assert fast._plain_mse and not PackedLoss(weighted=True)._plain_mse
    old = pickle.loads(pickle.dumps(PackedLoss(weighted=False)))
    del old.__dict__["_plain_mse"]  # as unpickled from before the fast path
    assert not old._plain_mse
    value, grad = value_and_grad(fast)
    for other in (old, PackedLoss(weighted=True)):  # every weight is 1 in `packed`
        other_value, other_grad = value_and_grad(other)
        np.testing.assert_allclose(other_value, value, rtol=1e-6)
        np.testing.assert_allclose(other_grad, grad, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["mlp", "lstm"])
def test_the_trainers_net_refuses_to_predict_on_features(name):
    """The guide saves ``trainer.model`` and predicts with it. A net's model_ takes the
    trainer's standardised float32 rows (a sequence net's windows): on features skorch
    gave other numbers silently (MLP: correlation 0.37 with the trainer's) or a torch
    shape error (LSTM). It refuses and names what to save; the trainer round-trips."""
    import io

    X, y = _data()
    trainer = _all_fast()[name].fit(X, y)
    for method in ("predict", "predict_proba"):
        with pytest.raises(RuntimeError, match=r"trainer.predict\(X\).*joblib.dump\(trainer"):
            getattr(trainer.model, method)(X.to_numpy(dtype=np.float32))
    buffer = io.BytesIO()
    joblib.dump(trainer, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict(X), trainer.predict(X))


def test_x_val_of_another_time_zone_kind_is_windowed_alone():
    """X_val with naive dates beside tz-aware training dates cannot be ordered against
    them: its windows are its own (reaching back raised TypeError 'Cannot compare
    tz-naive and tz-aware timestamps')."""
    dates = pd.date_range("2021-01-01", periods=60, freq="B", tz="UTC")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(60, 2), index=dates, columns=["a", "b"])
    y = pd.Series(rng.randn(60), index=dates)
    X_val = X.iloc[40:].tz_localize(None)
    trainer = SEQUENCE["lstm"](seq_len=3, early_stopping_rounds=1, **FAST)
    trainer.fit(X.iloc[:40], y.iloc[:40], X_val=X_val, y_val=y.iloc[40:].to_numpy())
    assert trainer.predict(X_val).shape == (20,)
