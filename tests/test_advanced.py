"""Regimes, change points, FTRL-Proximal, reward-weighted regression, meta-learning."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skquant import ChangePointTrainer, GMMRegimeTrainer, load_model_config


# ---------------------------------------------------------------------------- data
def _regime_series(n=2000, seed=0, switch=1 / 150, vols=(0.01, 0.03)):
    """Returns whose volatility switches between two sticky regimes."""
    rng = np.random.default_rng(seed)
    states = np.zeros(n, dtype=int)
    state = 0
    for t in range(n):
        if rng.random() < switch:
            state = 1 - state
        states[t] = state
    returns = rng.normal(0.0, np.where(states == 1, vols[1], vols[0]))
    return returns, states


def _broken_series(seed=1):
    """Five segments with changes of mean, variance or both at rows 300, 600, 900, 1200."""
    rng = np.random.default_rng(seed)
    segments = [(0, 1), (3, 1), (3, 3), (0, 0.5), (-2, 0.5)]
    x = np.concatenate([rng.normal(m, s, 300) for m, s in segments])
    return x, [300, 600, 900, 1200]


# ---------------------------------------------------------------------------- GMM
@pytest.mark.parametrize("causal", [False, True])
def test_gmm_recovers_two_regimes_ordered_by_volatility(causal):
    returns, states = _regime_series()
    X = pd.DataFrame({"ret": returns})
    gmm = GMMRegimeTrainer(
        n_components=2, volatility_window=10, causal=causal, n_init=2, random_state=0
    ).fit(X)
    # regime 0 must be the calm one: no label permutation is searched here
    accuracy = np.mean(gmm.predict(X) == states)
    assert accuracy >= 0.9, accuracy
    assert gmm.regime_volatility_[0] < gmm.regime_volatility_[1]
    np.testing.assert_allclose(gmm.regime_volatility_, [0.01, 0.03], rtol=0.25)
    proba = gmm.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    features = gmm.transform(X)
    assert list(gmm.get_feature_names_out()) == ["regime", "regime_prob_0", "regime_prob_1"]
    np.testing.assert_array_equal(features[:, 0], gmm.predict(X))
    np.testing.assert_allclose(features[:, 1:], proba)
    np.testing.assert_allclose(gmm.transition_matrix_.sum(axis=1), 1.0)
    assert np.all(np.diag(gmm.transition_matrix_) > 0.9)  # sticky regimes


def test_gmm_labels_stable_across_refits():
    """Fits on different windows and seeds agree on which regime is calm."""
    returns, states = _regime_series(n=3000, seed=3)
    labels = []
    for start, seed in [(0, 0), (500, 1), (1000, 2)]:
        window = returns[start : start + 2000, None]
        gmm = GMMRegimeTrainer(
            n_components=2, volatility_window=10, causal=False, n_init=1, random_state=seed
        ).fit(window)
        labels.append(gmm.predict(returns[2000:, None]))
    assert np.mean(labels[0] == labels[1]) > 0.95
    assert np.mean(labels[0] == labels[2]) > 0.95
    assert np.mean(labels[0] == states[2000:]) > 0.9


def test_gmm_train_returns_features_and_selects_columns():
    returns, _ = _regime_series(n=600)
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise": rng.normal(size=600), "ret": returns})
    gmm = GMMRegimeTrainer(
        load_model_config("gmm_regime", variant="aggressive"),
        n_components=2,
        features=["ret"],
        random_state=0,
    )
    features = gmm.train(X, None)
    assert features.shape == (600, 3)
    np.testing.assert_array_equal(gmm.features_, [1])
    assert gmm.config_["volatility_window"] == 5 and gmm.config_["causal"] is False
    importance = gmm.get_feature_importance()
    assert importance.index[0] == "ret" and importance["noise"] == 0.0
    with pytest.raises(ValueError, match="features: unknown column 'nope'"):
        GMMRegimeTrainer(features=["nope"]).fit(X)


@settings(max_examples=15, deadline=None)
@given(t=st.integers(min_value=1, max_value=400))
def test_gmm_prefix_both_modes(gmm_models, t):
    """Both modes are causal: the features of a prefix are the prefix of the features."""
    X = gmm_models["X"]
    for model in (gmm_models["causal"], gmm_models["rowwise"]):
        np.testing.assert_allclose(model.transform(X[:t]), model.transform(X)[:t], atol=1e-12)


@pytest.fixture(scope="module")
def gmm_models():
    returns, _ = _regime_series(n=400, seed=5)
    X = returns[:, None]
    params = {"n_components": 2, "volatility_window": 5, "n_init": 1, "random_state": 0}
    return {
        "X": X,
        "causal": GMMRegimeTrainer(causal=True, **params).fit(X),
        "rowwise": GMMRegimeTrainer(causal=False, **params).fit(X),
    }


# ---------------------------------------------------------------------------- change points
def test_change_point_detects_known_breaks_within_10_rows():
    x, breaks = _broken_series()
    detector = ChangePointTrainer(hazard=1 / 300, max_run_length=300, window=10, threshold=0.5).fit(
        x[:, None]
    )
    found = detector.change_points_
    for b in breaks:
        hits = found[(found >= b) & (found <= b + 10)]
        assert hits.size, f"break at {b} not detected within 10 rows: {found}"
    assert len(found) <= len(breaks) + 1, found  # at most one false alarm
    features = detector.transform(x[:, None])
    assert list(detector.get_feature_names_out()) == ["cp_prob", "expected_run_length"]
    assert np.all((features[:, 0] >= 0) & (features[:, 0] <= 1 + 1e-12))
    # deep inside a segment the run length is long, right after a break it is short
    assert features[290, 1] > 100 and features[1210, 1] < 30
    np.testing.assert_array_equal(detector.predict(x[:, None]), (features[:, 0] > 0.5).astype(int))


def test_change_point_multivariate_column_choice():
    x, _ = _broken_series()
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise": rng.normal(size=len(x)), "signal": x})
    by_name = ChangePointTrainer(column="signal", window=10, threshold=0.5).fit(X)
    alone = ChangePointTrainer(window=10, threshold=0.5).fit(x[:, None])
    np.testing.assert_allclose(by_name.transform(X), alone.transform(x[:, None]))
    mean = ChangePointTrainer().fit(X)  # default: the mean of the standardised columns
    assert mean.transform(X).shape == (len(x), 2)
    with pytest.raises(ValueError, match="column: unknown column 'price'"):
        ChangePointTrainer(column="price").fit(X)


@pytest.fixture(scope="module")
def change_point_model():
    x, _ = _broken_series(seed=2)
    X = x[:600, None]
    return ChangePointTrainer(max_run_length=50).fit(X), X


@settings(max_examples=20, deadline=None)
@given(t=st.integers(min_value=1, max_value=600))
def test_change_point_prefix(change_point_model, t):
    model, X = change_point_model
    np.testing.assert_allclose(model.transform(X[:t]), model.transform(X)[:t], atol=1e-12)


def test_change_point_truncation_matches_untruncated_on_short_series():
    """With more states than rows, truncation changes nothing."""
    from skquant.models._changepoint import bocpd

    x, _ = _broken_series()
    x = x[250:400]
    full = bocpd(x, hazard=0.01, max_run_length=len(x) + 5, window=3)
    exact = bocpd(x, hazard=0.01, max_run_length=len(x), window=3)
    for a, b in zip(full, exact, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    short = bocpd(x, hazard=0.01, max_run_length=40, window=3)
    assert short[1].max() <= 39 + 1e-9


def _bocpd_reference(x, hazard, window, mu0=0.0, kappa0=1.0, alpha0=1.0, beta0=1.0):
    """Untruncated BOCPD written out with scipy's Student-t, one run at a time."""
    from scipy import stats

    runs = [(1.0, mu0, kappa0, alpha0, beta0)]  # (prob, posterior after the run's rows)
    cp, expected = [], []
    for t, xt in enumerate(x):

        def pdf(mu, kappa, alpha, beta, xt=xt):
            scale = np.sqrt(beta * (kappa + 1) / (alpha * kappa))
            return stats.t.pdf(xt, df=2 * alpha, loc=mu, scale=scale)

        def update(mu, kappa, alpha, beta, xt=xt):
            return (
                (kappa * mu + xt) / (kappa + 1),
                kappa + 1,
                alpha + 0.5,
                beta + kappa * (xt - mu) ** 2 / (2 * (kappa + 1)),
            )

        if t == 0:
            new = [(1.0, *update(mu0, kappa0, alpha0, beta0))]
        else:
            new = [(hazard * pdf(mu0, kappa0, alpha0, beta0), *update(mu0, kappa0, alpha0, beta0))]
            for prob, *post in runs:
                new.append((prob * (1 - hazard) * pdf(*post), *update(*post)))
        total = sum(r[0] for r in new)
        runs = [(r[0] / total, *r[1:]) for r in new]
        cp.append(sum(r[0] for r in runs[:window]))
        expected.append(sum(i * r[0] for i, r in enumerate(runs)))
    return np.array(cp), np.array(expected)


def test_bocpd_matches_direct_reference():
    from skquant.models._changepoint import bocpd

    x, _ = _broken_series()
    x = x[280:340] / 2
    cp, expected, _ = bocpd(x, hazard=0.02, max_run_length=100, window=3, beta0=0.7)
    ref_cp, ref_expected = _bocpd_reference(x, hazard=0.02, window=3, beta0=0.7)
    np.testing.assert_allclose(cp, ref_cp, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(expected, ref_expected, rtol=1e-9)


# ---------------------------------------------------------------------------- FTRL
def _ftrl_reference(X, y, *, alpha, beta, l1, l2, logistic, batch_size=1):
    """McMahan et al. (2013), Algorithm 1, written out coordinate by coordinate.

    The intercept is coordinate d (input 1) without penalty. With ``batch_size > 1``
    the summed gradient of a batch (predicted with the batch-start weights) is one round.
    """
    n_rows, d = X.shape
    z = [0.0] * (d + 1)
    n = [0.0] * (d + 1)

    def weight(i):
        lam1 = 0.0 if i == d else l1
        lam2 = 0.0 if i == d else l2
        if abs(z[i]) <= lam1:
            return 0.0
        sign = 1.0 if z[i] > 0 else -1.0
        return -(z[i] - sign * lam1) / ((beta + n[i] ** 0.5) / alpha + lam2)

    for start in range(0, n_rows, batch_size):
        w = [weight(i) for i in range(d + 1)]
        g = [0.0] * (d + 1)
        for t in range(start, min(start + batch_size, n_rows)):
            x = list(X[t]) + [1.0]
            margin = sum(w[i] * x[i] for i in range(d + 1))
            p = 1.0 / (1.0 + np.exp(-margin)) if logistic else margin
            for i in range(d + 1):
                g[i] += (p - y[t]) * x[i]
        for i in range(d + 1):
            sigma = ((n[i] + g[i] ** 2) ** 0.5 - n[i] ** 0.5) / alpha
            z[i] += g[i] - sigma * w[i]
            n[i] += g[i] ** 2
    w = [weight(i) for i in range(d + 1)]
    return np.array(w[:d]), w[d]


def _stream(n=300, d=6, seed=0, logistic=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    signal = X[:, 0] - 0.5 * X[:, 1] + 0.2
    y = (signal + 0.3 * rng.normal(size=n) > 0).astype(float) if logistic else signal
    return X, y


@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_ftrl_matches_paper_pseudocode(task, batch_size):
    from skquant import FTRLProximalTrainer

    logistic = task == "classification"
    X, y = _stream(logistic=logistic)
    params = {"alpha": 0.3, "beta": 1.0, "l1": 0.5, "l2": 0.7}
    model = FTRLProximalTrainer(task=task, n_passes=1, batch_size=batch_size, **params)
    model.fit(X, y)
    coef, intercept = _ftrl_reference(X, y, logistic=logistic, batch_size=batch_size, **params)
    np.testing.assert_allclose(np.ravel(model.coef_), coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.ravel(model.intercept_), intercept, rtol=0, atol=1e-10)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_ftrl_partial_fit_over_chunks_equals_one_pass(batch_size):
    from skquant import FTRLProximalTrainer

    X, y = _stream(n=400, d=5, seed=1)
    y = np.where(y > 0, "up", "down")
    one_pass = FTRLProximalTrainer(task="classification", n_passes=1, batch_size=batch_size).fit(
        X, y
    )
    stream = FTRLProximalTrainer(task="classification", batch_size=batch_size)
    for chunk in np.array_split(np.arange(400), [64, 160, 320]):  # multiples of 8
        stream.partial_fit(X[chunk], y[chunk], classes=["down", "up"])
    np.testing.assert_allclose(stream.coef_, one_pass.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(stream.intercept_, one_pass.intercept_, rtol=0, atol=1e-12)
    assert stream.n_passes_ == 4
    with pytest.raises(ValueError, match="classes must be passed"):
        FTRLProximalTrainer(task="classification").partial_fit(X, y)


def test_ftrl_partial_fit_refuses_the_target_among_the_features():
    """fit refused an X holding the target; partial_fit learned from it: 30 passes
    over a stream whose X held fwd_ret hit the sign of the test target 0.928 of the
    time (0.483 without it)."""
    from skquant import FTRLProximalTrainer, make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=3, n_days=60, random_state=0)
    X, y = panel[["ret_1", "ret_5", "fwd_ret"]], panel["fwd_ret"]
    model = FTRLProximalTrainer()
    with pytest.raises(ValueError, match=r"X holds the target column\(s\) \['fwd_ret'\]"):
        model.partial_fit(X, y)
    assert not hasattr(model, "model_")
    model.partial_fit(X[["ret_1", "ret_5"]], y)  # the stream goes on without it
    with pytest.raises(ValueError, match="X holds the target column"):
        model.partial_fit(X.rename(columns={"fwd_ret": "ret_5"}).iloc[:, [0, 2]], y.rename("ret_5"))


def test_ftrl_partial_fit_takes_parameters_set_between_chunks():
    # as SGDClassifier.partial_fit: set_params between chunks applies to the next ones
    # (it was ignored: the state kept the first call's config for good)
    from sklearn.base import clone

    from skquant import FTRLProximalTrainer

    X, y = _stream(n=400, d=8, seed=2)
    first, second = slice(0, 200), slice(200, 400)
    kept = FTRLProximalTrainer(task="classification", l1=0.0)
    kept.partial_fit(X[first], y[first], classes=[0, 1]).partial_fit(X[second], y[second])
    changed = FTRLProximalTrainer(task="classification", l1=0.0)
    changed.partial_fit(X[first], y[first], classes=[0, 1])
    changed.set_params(l1=50.0).partial_fit(X[second], y[second])
    assert changed.config_["l1"] == 50.0
    assert np.sum(changed.coef_ == 0) > np.sum(kept.coef_ == 0)
    changed.set_params(l1=0.0).fit(X, y)  # a fit in between: its parameters, then these
    assert changed.set_params(l1=50.0).partial_fit(X[second], y[second]).config_["l1"] == 50.0
    # a config dict changed in place is a change too
    own = FTRLProximalTrainer(config={"task": "classification", "l1": 0.0})
    own.partial_fit(X[first], y[first], classes=[0, 1])
    own.config["l1"] = 50.0
    assert own.partial_fit(X[second], y[second]).config_["l1"] == 50.0
    for key, value in (("fit_intercept", False), ("task", "regression")):
        with pytest.raises(ValueError, match=f"partial_fit: {key}=.*call fit to start over"):
            clone(changed).partial_fit(X[first], y[first], classes=[0, 1]).set_params(
                **{key: value}
            ).partial_fit(X[second], y[second])


def test_ftrl_partial_fit_after_fit_keeps_the_fitted_variant(monkeypatch):
    # the engine sets MODEL_VARIANT only while a fold is fitted: partial_fit on its
    # last_model_ (or on a loaded model) resolved the config anew, the default variant's
    from skquant import FTRLProximalTrainer

    X, y = _stream(n=400, d=5, seed=3)
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")
    model = FTRLProximalTrainer(task="classification").fit(X, y)
    fitted = dict(model.config_)
    monkeypatch.delenv("MODEL_VARIANT")
    assert model.partial_fit(X, y).config_ == fitted
    model.set_params(n_passes=2).partial_fit(X, y)  # a change laid over the fitted config
    assert model.config_ == {**fitted, "n_passes": 2}


def test_ftrl_sparsity_grows_with_l1_and_multiclass():
    from skquant import FTRLProximalTrainer

    rng = np.random.default_rng(2)
    X = rng.normal(size=(1500, 30))
    y = X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + 0.1 * rng.normal(size=1500)
    zeros = []
    for l1 in [0.0, 1.0, 10.0, 100.0]:
        model = FTRLProximalTrainer(alpha=0.2, l1=l1, l2=0.0, n_passes=2).fit(X, y)
        zeros.append(int(np.sum(model.coef_ == 0.0)))
    assert zeros[0] == 0 and zeros == sorted(zeros) and zeros[-1] > zeros[1] > 0, zeros
    assert np.argsort(-np.abs(model.coef_))[0] in (0, 1)
    labels = np.digitize(y, [-1, 1])  # three classes
    clf = FTRLProximalTrainer(task="classification", alpha=0.5, n_passes=3).fit(X, labels)
    assert clf.coef_.shape == (3, 30) and clf.predict_proba(X).shape == (1500, 3)
    assert clf.score(X, labels) > 0.8
    assert len(clf.evals_result_["train"]["loss"]) == 3


def _ftrl_data(task, n=300, d=6):
    X, y = _stream(n=n, d=d, seed=3, logistic=task != "regression")
    if task == "multiclass":
        y = np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])
    return X, y


def _ftrl_state(task, fit_intercept=True, **params):
    from skquant import FTRLProximalTrainer

    X, y = _ftrl_data(task)
    model = FTRLProximalTrainer(
        task="regression" if task == "regression" else "classification",
        batch_size=1,
        n_passes=2,
        fit_intercept=fit_intercept,
        **params,
    ).fit(X, y)
    return model.model_["z"], model.model_["n"], model.coef_, model.intercept_


@pytest.mark.parametrize("penalty", [{"l1": 0.0, "l2": 0.0}, {"l1": 0.5, "l2": 0.7}])
@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_ftrl_compiled_kernel_equals_numpy_loop(task, penalty, monkeypatch):
    pytest.importorskip("numba")
    from skquant.models._ftrl import _compiled_rows

    assert _compiled_rows() is not None  # numba installed: the kernel runs by default
    compiled = _ftrl_state(task, alpha=0.3, beta=1.0, **penalty)
    monkeypatch.setenv("SKQUANT_DISABLE_NUMBA", "1")
    assert _compiled_rows() is None
    numpy_loop = _ftrl_state(task, alpha=0.3, beta=1.0, **penalty)
    for a, b in zip(compiled, numpy_loop, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    if penalty["l1"]:
        assert np.array_equal(compiled[2] == 0, numpy_loop[2] == 0)  # the same exact zeros


@pytest.mark.parametrize("disable", ["0", "1"])
def test_ftrl_exact_partial_fit_over_chunks_equals_one_pass_both_loops(disable, monkeypatch):
    from skquant import FTRLProximalTrainer

    monkeypatch.setenv("SKQUANT_DISABLE_NUMBA", disable)
    X, y = _ftrl_data("multiclass", n=400)
    params = {"task": "classification", "batch_size": 1, "l1": 0.5, "fit_intercept": False}
    one_pass = FTRLProximalTrainer(n_passes=1, **params).fit(X, y)
    stream = FTRLProximalTrainer(**params)
    for chunk in np.array_split(np.arange(400), [1, 97, 250]):
        stream.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    np.testing.assert_array_equal(stream.model_["z"], one_pass.model_["z"])
    np.testing.assert_array_equal(stream.model_["n"], one_pass.model_["n"])


def test_ftrl_without_numba_falls_back_to_the_numpy_loop(monkeypatch):
    import sys

    from skquant.models._ftrl import _compiled_rows

    compiled = _ftrl_state("binary", l1=0.5)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` raises ImportError
    assert _compiled_rows() is None
    np.testing.assert_allclose(_ftrl_state("binary", l1=0.5)[0], compiled[0], rtol=0, atol=1e-10)


def test_ftrl_kernel_imports_where_no_cache_can_be_written(tmp_path):
    """A read-only install with no writable cache directory compiles without a disk cache."""
    import subprocess
    import sys

    numba = pytest.importorskip("numba")
    if not hasattr(numba.config, "CACHE_LOCATOR_CLASSES"):
        pytest.skip("this numba has no NUMBA_CACHE_LOCATOR_CLASSES")
    code = (
        "from skquant.models._ftrl_numba import ftrl_rows\nprint(type(ftrl_rows._cache).__name__)\n"
    )
    # IPythonCacheLocator finds no location for a regular file: no locator is available
    env = {**os.environ, "NUMBA_CACHE_LOCATOR_CLASSES": "IPythonCacheLocator"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["NullCache"], out.stderr


def test_ftrl_fit_checks_the_validation_rows_as_every_trainer_does():
    from sklearn.metrics import log_loss

    from skquant import FTRLProximalTrainer

    X, y = _ftrl_data("multiclass")
    model = FTRLProximalTrainer(task="classification", n_passes=2)
    model.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    expected = log_loss(y[200:], model.predict_proba(X[200:]), labels=model.classes_)
    assert model.evals_result_["valid"]["loss"][-1] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match=r"y_val holds classes \[7\]"):
        model.fit(X[:200], y[:200], X_val=X[200:], y_val=np.full(100, 7))
    with pytest.raises(ValueError, match="X_val has 100 rows but y_val has 99"):
        # y = 2 * X[:, 0]: X[:, 0] itself is the target among the features, refused first
        FTRLProximalTrainer().fit(X[:200], 2 * X[:200, 0], X_val=X[200:], y_val=X[201:, 0])


def test_ftrl_mini_batch_learns_the_signal():
    # its speed is measured in benchmarks/bench_ftrl.py (a timed assertion was here)
    from skquant import FTRLProximalTrainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 50))
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    model = FTRLProximalTrainer(task="classification", batch_size=256, n_passes=1)
    model.partial_fit(X, y, classes=[0, 1])
    assert model.score(X, y) > 0.9


# ---------------------------------------------------------------------------- reward-weighted
def _reward_data(n=1500, seed=0):
    """30% 'good' rows follow y = 2x, the rest y = -x; reward 1 on good rows, 0 elsewhere."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    good = rng.random(n) < 0.3
    y = np.where(good, 2 * X[:, 0], -X[:, 0]) + 0.05 * rng.normal(size=n)
    return X, y, good.astype(float)


def _slope(model, seed=9):
    grid = np.column_stack([np.linspace(-1.8, 1.8, 200), np.zeros(200)])
    return np.polyfit(grid[:, 0], model.predict(grid), 1)[0]


def test_reward_weighted_predictions_follow_high_reward_relation():
    from skquant import LightGBMTrainer, RewardBasedTrainer

    X, y, reward = _reward_data()
    base = LightGBMTrainer(
        n_estimators=100, learning_rate=0.1, early_stopping_rounds=0, n_jobs=1, random_state=0
    )
    plain = base.fit(X, y)
    weighted = RewardBasedTrainer(estimator=base, temperature=0.2, max_weight_ratio=50.0)
    weighted.fit(X, y, reward=reward)
    assert _slope(plain) < 0.5  # the majority (y = -x) dominates an unweighted fit
    assert _slope(weighted) > 1.5  # the rewarding rows' y = 2x wins
    w = weighted.sample_weight_
    assert abs(w.mean() - 1) < 1e-9 and w.max() <= 50.0 + 1e-6
    assert w[reward == 1].min() > 10 * w[reward == 0].max()
    assert weighted.get_feature_importance().index[0] == "x0"


def test_reward_weights_formula_and_default_reward():
    from sklearn.linear_model import LinearRegression

    from skquant import RewardBasedTrainer

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    y = 0.01 * rng.standard_t(4, size=300)  # a return target
    model = RewardBasedTrainer(estimator=LinearRegression(), temperature=1.0, max_weight_ratio=1e6)
    model.fit(X, y)
    r = np.abs(y)  # default reward: the realised return's magnitude
    expected = np.exp(r / r.std())
    np.testing.assert_allclose(model.sample_weight_, expected / expected.mean(), rtol=1e-10)
    clipped = RewardBasedTrainer(
        estimator=LinearRegression(), temperature=0.05, max_weight_ratio=3.0
    ).fit(X, y)
    assert clipped.sample_weight_.max() <= 3.0 + 1e-6
    assert abs(clipped.sample_weight_.mean() - 1) < 1e-9
    signed = RewardBasedTrainer(estimator="ridge", default_reward="target").fit(X, y)
    assert np.all(np.diff(signed.sample_weight_[np.argsort(y)]) >= -1e-12)  # rising in y
    with pytest.raises(ValueError, match="reward has 3 values"):
        model.fit(X, y, reward=[1.0, 2.0, 3.0])


def test_reward_routed_through_grid_search_and_pipeline():
    import sklearn
    from sklearn.exceptions import UnsetMetadataPassedError
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquant import RewardBasedTrainer
    from skquant.models._reward import reward_weights

    X, y, reward = _reward_data(n=900, seed=3)
    with sklearn.config_context(enable_metadata_routing=True):
        trainer = RewardBasedTrainer(estimator=LinearRegression(), max_weight_ratio=50.0)
        with pytest.raises(UnsetMetadataPassedError):
            GridSearchCV(trainer, {"temperature": [0.1, 0.2]}, cv=TimeSeriesSplit(3)).fit(
                X, y, reward=reward
            )
        search = GridSearchCV(
            trainer.set_fit_request(reward=True),
            {"temperature": [0.1, 0.2]},
            cv=TimeSeriesSplit(3),
        ).fit(X, y, reward=reward)
        best = search.best_estimator_
        np.testing.assert_allclose(
            best.sample_weight_, reward_weights(reward, best.temperature, 50.0)
        )
        assert _slope(best) > 1.5
        pipe = make_pipeline(
            StandardScaler(),
            RewardBasedTrainer(estimator=LinearRegression(), temperature=0.2).set_fit_request(
                reward=True
            ),
        ).fit(X, y, reward=reward)
        assert _slope(pipe) > 1.5


# ---------------------------------------------------------------------------- meta-learning
def _switching_data(n=3000, seed=0):
    """y follows x1 in regime 0 and x2 in regime 1; 'regime_prob' is a noisy regime signal."""
    rng = np.random.default_rng(seed)
    states = np.zeros(n, dtype=int)
    state = 0
    for t in range(n):
        if rng.random() < 1 / 100:
            state = 1 - state
        states[t] = state
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = np.where(states == 0, x1, x2) + 0.1 * rng.normal(size=n)
    prob = np.clip(states + 0.15 * rng.normal(size=n), 0, 1)
    X = pd.DataFrame({"x1": x1, "x2": x2, "regime_prob": prob})
    return X, pd.Series(y, name="y")


def _column_model(column):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(ColumnTransformer([("pick", "passthrough", [column])]), LinearRegression())


def test_meta_learner_beats_average_and_best_base_out_of_sample():
    from sklearn.base import clone

    from skquant import MetaLearningTrainer

    X, y = _switching_data()
    train, test = slice(0, 2000), slice(2000, None)
    bases = [("on_x1", _column_model("x1")), ("on_x2", _column_model("x2"))]
    meta = MetaLearningTrainer(estimators=bases, context_features=["regime_prob"], n_splits=4)
    meta.fit(X[train], y[train])
    y_test = y[test].to_numpy()
    mse = {"meta": np.mean((meta.predict(X[test]) - y_test) ** 2)}
    preds = {name: clone(est).fit(X[train], y[train]).predict(X[test]) for name, est in bases}
    for name, pred in preds.items():
        mse[name] = np.mean((pred - y_test) ** 2)
    mse["average"] = np.mean((np.mean(list(preds.values()), axis=0) - y_test) ** 2)
    assert mse["meta"] < 0.5 * min(mse["on_x1"], mse["on_x2"], mse["average"]), mse
    # the weights move from the x1-model to the x2-model as the regime probability rises
    assert meta.weights_.loc["on_x1", "regime_prob"] < 0 < meta.weights_.loc["on_x2", "regime_prob"]
    w = meta.predict_weights(X[test])
    calm = X[test]["regime_prob"].to_numpy() < 0.2
    assert w[calm, 0].mean() > w[calm, 1].mean() + 1
    # without context the weights are constant and the gain is gone
    flat = MetaLearningTrainer(estimators=bases, n_splits=4).fit(X[train], y[train])
    assert flat.weights_.shape == (2, 1)
    assert np.mean((flat.predict(X[test]) - y_test) ** 2) > 2 * mse["meta"]


def test_meta_learner_uses_only_out_of_fold_predictions():
    from sklearn.base import clone
    from sklearn.linear_model import Ridge

    from skquant import LightGBMTrainer, MetaLearningTrainer

    X, y = _switching_data(n=600, seed=1)
    lgbm = LightGBMTrainer(n_estimators=20, early_stopping_rounds=0, n_jobs=1, random_state=0)
    meta = MetaLearningTrainer(
        estimators=[lgbm, "ridge"], context_features="regime_prob", n_splits=3, meta_alpha=0.5
    ).fit(X, y)
    oof = meta.oof_predictions_
    first_block, last_block = np.arange(150), np.arange(450, 600)
    assert np.isnan(oof[first_block]).all() and not np.isnan(oof[150:]).any()
    # the last block is predicted by models fitted on rows 0..449 only
    for j, est in enumerate([lgbm, Ridge()]):
        early = clone(est).fit(X.iloc[:450], y.iloc[:450])
        np.testing.assert_allclose(oof[last_block, j], early.predict(X.iloc[last_block]))
    # the meta-model saw exactly the out-of-fold rows
    C = np.column_stack([np.ones(450), X["regime_prob"].to_numpy()[150:]])
    C[:, 1] = (C[:, 1] - C[:, 1].mean()) / C[:, 1].std()
    design = (oof[150:, :, None] * C[:, None, :]).reshape(450, -1)
    ref = Ridge(alpha=0.5, fit_intercept=False).fit(design, y.to_numpy()[150:])
    np.testing.assert_allclose(meta.weights_.to_numpy().ravel(), ref.coef_, rtol=1e-8)
    assert list(meta.weights_.index) == ["lightgbm", "ridge"]
    assert meta.config_["estimators"] == ["lightgbm", "ridge"]
    assert meta.get_feature_importance().shape == (3,)
    with pytest.raises(ValueError, match="'nope' is neither 'ridge' nor a registry name"):
        MetaLearningTrainer(estimators=["nope"]).fit(X, y)


def test_meta_learner_default_bases_by_registry_name():
    from skquant import MetaLearningTrainer

    bases = MetaLearningTrainer()._bases(load_model_config("meta_learning"))
    assert [name for name, _ in bases] == ["lightgbm", "xgboost", "ridge"]
    assert [type(est).__name__ for _, est in bases] == [
        "LightGBMTrainer",
        "XGBoostTrainer",
        "Ridge",
    ]


def test_reward_weighted_exposes_its_base_learning_curve_and_importances():
    """As every iterative trainer: ``evals_result_`` and ``best_iteration_`` of an
    early-stopped base, and ``feature_importances_`` so that RFECV takes the model."""
    from sklearn.feature_selection import RFECV
    from sklearn.linear_model import LinearRegression

    from skquant import LightGBMTrainer, RewardBasedTrainer, WalkForwardSplit

    X, y, reward = _reward_data(n=600)
    X = np.column_stack([X, np.random.default_rng(5).normal(size=len(X))])  # a noise column
    base = LightGBMTrainer(n_estimators=40, learning_rate=0.1, n_jobs=1, random_state=0)
    model = RewardBasedTrainer(estimator=base).fit(X, y, reward=reward)
    assert model.best_iteration_ == model.model_.best_iteration_ >= 1
    assert set(model.evals_result_) == {"train", "valid"}
    importances = model.feature_importances_
    assert importances.shape == (3,) and importances[0] == importances.max()
    linear = model.set_params(estimator=LinearRegression()).fit(X, y, reward=reward)
    assert not hasattr(linear, "evals_result_") and not hasattr(linear, "best_iteration_")
    np.testing.assert_allclose(linear.feature_importances_, np.abs(linear.model_.coef_))
    cv = WalkForwardSplit(train_days=200, test_days=100, step_days=100, min_train_samples=100)
    selector = RFECV(RewardBasedTrainer(estimator=LinearRegression()), cv=cv).fit(X, y)
    assert selector.support_[0]


def test_reward_weighting_needs_an_estimator_whose_fit_takes_sample_weight():
    """Any fit/predict estimator was taken, then the fit failed on its sample_weight with
    a raw TypeError (FTRL, the meta-learning ensemble: audit)."""
    from skquant import FTRLProximalTrainer, MetaLearningTrainer, RewardBasedTrainer

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    for base in (FTRLProximalTrainer(), MetaLearningTrainer()):
        with pytest.raises(ValueError, match=rf"{type(base).__name__}\.fit takes no sample_weight"):
            RewardBasedTrainer(estimator=base).fit(X, y)


def test_meta_learner_refuses_its_target_among_the_features():
    """MetaLearningTrainer fitted silently with y's own column in X (its bases and its
    weights learnt the label itself)."""
    from sklearn.linear_model import Ridge

    from skquant import MetaLearningTrainer
    from skquant.leakage import LeakageWarning

    X, y = _switching_data(n=300, seed=2)
    y = y.rename("fwd_ret_5")
    meta = MetaLearningTrainer(estimators=[Ridge(), ("strong", Ridge(alpha=100.0))], n_splits=2)
    with pytest.raises(ValueError, match=r"X holds the target column\(s\) \['fwd_ret_5'\]"):
        meta.fit(X.assign(fwd_ret_5=y), y)
    with pytest.warns(LeakageWarning, match=r"named like labels \['y_will_peak'\]"):
        meta.fit(X.assign(y_will_peak=(y > 0).astype(float)), y)
