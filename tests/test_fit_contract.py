"""How every trainer's ``fit`` treats its input: what scikit-learn's checks found.

Early stopping on a chronological tail must take any array-like, say "n_samples" when
it cannot be cut, and stay off for data too small to cut; library estimators must get
only their own parameters (``test_common``); a regression on a two-valued target warns.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from skquant import (
    CascadeStrategy,
    ChangePointTrainer,
    FTRLProximalTrainer,
    GANTrainer,
    GMMRegimeTrainer,
    LightGBMTrainer,
    MetaLearningTrainer,
    MLPTrainer,
    NGBoostTrainer,
    RewardBasedTrainer,
    SingleTaskStrategy,
    VAETrainer,
    XGBoostTrainer,
    time_train_test_split,
)
from skquant.models._base import BinaryTargetWarning
from skquant.utils._time import MIN_ROWS_FOR_TAIL, chronological_tail_split


class _NotAnArray:
    """An array-like with nothing but ``__array__`` (no ``len``, no ``shape``), like
    the one scikit-learn's *_not_an_array checks pass."""

    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


_NET = {"hidden_layer_sizes": [4], "epochs": 2, "device": "cpu"}


def _data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] + 0.1 * rng.normal(size=n)


# one family of each kind of early stopping: the boosters, NGBoost, the nets
_EARLY_STOPPING = [
    LightGBMTrainer(n_estimators=5, early_stopping_rounds=2),
    XGBoostTrainer(n_estimators=5, early_stopping_rounds=2),
    NGBoostTrainer(n_estimators=5, early_stopping_rounds=2),
    MLPTrainer(early_stopping_rounds=2, **_NET),
]


def _dated_data(n):
    """``_data(n)`` as a frame of f0, f1, f2 and a Series fwd_ret_5, on weekdays."""
    X, y = _data(n)
    index = pd.bdate_range("2020-01-01", periods=len(X), name="date")
    X = pd.DataFrame(X, columns=["f0", "f1", "f2"], index=index)
    return X, pd.Series(y, index=index, name="fwd_ret_5")


def _name(trainer) -> str:
    return type(trainer).__name__


@pytest.mark.parametrize("trainer", _EARLY_STOPPING, ids=_name)
def test_early_stopping_tail_takes_any_array_like(trainer):
    """An array-like without ``len`` (sklearn's _NotAnArray) used to fail in the tail split."""
    X, y = _data()
    trainer.fit(_NotAnArray(X), _NotAnArray(y), sample_weight=_NotAnArray(np.ones(len(y))))
    assert "valid" in trainer.evals_result_  # the tail was held out
    assert trainer.predict(X).shape == (len(X),)


@pytest.mark.requires("torch", "skorch")
def test_vae_tail_takes_any_array_like():
    X, _ = _data()
    vae = VAETrainer(latent_dim=2, early_stopping_rounds=2, **_NET).fit(_NotAnArray(X))
    assert "valid" in vae.evals_result_


@pytest.mark.parametrize(
    "trainer",
    [*_EARLY_STOPPING, VAETrainer(latent_dim=2, early_stopping_rounds=2, **_NET)],
    ids=_name,
)
def test_bad_validation_rows_are_named_x_val(trainer):
    """Infinity (NaN too where the trainer refuses it) or a wrong width in the
    early-stopping rows used to be reported as "X", the training rows."""
    X, y = _data()
    supervised = not isinstance(trainer, VAETrainer)

    def fit(X_val):
        if supervised:
            return clone(trainer).fit(X, y, X_val=X_val, y_val=y[: len(X_val)])
        return clone(trainer).fit(X, X_val=X_val)

    bad = X[:20].copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"^(Input )?X_val contains (NaN or )?infinity"):
        fit(bad)
    if not trainer.__sklearn_tags__().input_tags.allow_nan:
        bad[3, 1] = np.nan
        with pytest.raises(ValueError, match=r"^(Input )?X_val contains NaN"):
            fit(bad)
    with pytest.raises(ValueError, match=r"^X_val has 2 features, but \w+ is expecting 3"):
        fit(X[:20, :2])
    # a frame's column is named, its row counted in X_val (not X) by position
    X = pd.DataFrame(X, columns=["a", "b", "c"])
    frame = X[:20].copy()
    frame.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"column 'b' holds infinity in 1 row \(first at X_val\.iloc\[3\]\)") as caught:  # fmt: skip
        fit(frame)
    assert "X_val contains" in str(caught.value) and "Input X " not in str(caught.value)


@pytest.mark.parametrize(
    "trainer",
    [*_EARLY_STOPPING, VAETrainer(latent_dim=2, early_stopping_rounds=2, **_NET)],
    ids=_name,
)
def test_a_column_that_is_no_number_is_named(trainer):
    """A frame with a text column failed with numpy's "could not convert string to
    float: 'tech'", naming no column (the engine named it); a number stored as text
    still converts, as scikit-learn converts it."""
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    supervised = not isinstance(trainer, VAETrainer)

    def fit(X, X_val=None):
        if supervised:
            y_val = None if X_val is None else y[: len(X_val)]
            return clone(trainer).fit(X, y, X_val=X_val, y_val=y_val)
        return clone(trainer).fit(X, X_val=X_val)

    with pytest.raises(ValueError, match=r"^X's column 'sector' \(dtype object\) holds 'tech'"):
        fit(frame.assign(sector="tech"))
    with pytest.raises(ValueError, match=r"^X's column 'pair' \(dtype object\) holds \[1, 2\]"):
        fit(frame.assign(pair=[[1, 2]] * len(frame)))  # numpy: "with a sequence"
    fitted = fit(frame.astype({"b": object}))  # numbers as objects: fine
    text = frame.astype({"b": object})
    text.iloc[7, 1] = "n/a"
    with pytest.raises(ValueError, match=r"^X_val's column 'b' \(dtype object\) holds 'n/a'"):
        fit(frame, X_val=text[:20])
    method = fitted.predict if supervised else fitted.transform
    with pytest.raises(ValueError, match=r"^X's column 'b' \(dtype object\) holds 'n/a'"):
        method(text)


def test_a_text_column_a_stage_encodes_leaves_other_errors_alone():
    """The cascade validates with dtype=None: a stage that one-hot encodes a text column
    makes it valid, and the wrapper blamed that column for every other error (a
    missing column at predict, an infinite y): "X's column 'sector' ... not a number"."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skquant.strategies import CascadeStrategy

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                      "sector": rng.choice(["tech", "energy"], 120)},
                     index=pd.bdate_range("2020-01-01", periods=120))  # fmt: skip
    y = pd.Series(rng.normal(size=120), index=X.index, name="fwd_ret")

    def stage():
        encode = make_column_transformer((OneHotEncoder(), ["sector"]), remainder="passthrough")
        return make_pipeline(encode, Ridge())

    cascade = CascadeStrategy(models=[stage(), stage()], n_splits=2, embargo_days=0).fit(X, y)
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        cascade.predict(X.drop(columns="b"))
    with pytest.raises(ValueError, match="Input y contains infinity"):
        clone(cascade).fit(X, y.where(y.index != y.index[3], np.inf))


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


@pytest.mark.parametrize(
    "trainer",
    [
        LightGBMTrainer(n_estimators=5),
        XGBoostTrainer(n_estimators=5),
        FTRLProximalTrainer(),
        MLPTrainer(**_NET),
    ],
    ids=lambda t: type(t).__name__,
)
def test_regression_on_a_binary_target_warns_once(trainer):
    X, y = _data()
    y01 = (y > 0).astype(float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(X, y01)
    binary = [w for w in caught if issubclass(w.category, BinaryTargetWarning)]
    assert len(binary) == 1
    assert issubclass(binary[0].category, UserWarning)
    assert 'task="classification"' in str(binary[0].message)
    assert binary[0].filename == __file__  # it points at the caller's fit
    # a continuous target, or a task chosen explicitly: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinaryTargetWarning)
        trainer.fit(X, y)
        trainer.set_params(task="classification").fit(X, y01)
        trainer.set_params(task="regression").fit(X, y01)
        clone(trainer).set_params(task=None, config={"task": "regression"}).fit(X, y01)


def test_binary_target_warning_not_repeated_by_nested_bases():
    X, y = _data()
    meta = MetaLearningTrainer(estimators=[LightGBMTrainer(n_estimators=5), "ridge"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinaryTargetWarning)
        meta.fit(X, (y > 0).astype(float))  # regression-only: nothing to suggest


def test_strategies_pick_classification_without_the_warning():
    X, y = _data(120)
    index = pd.bdate_range("2020-01-01", periods=len(X), name="date")
    X = pd.DataFrame(X, columns=["f0", "f1", "f2"], index=index)
    targets = pd.DataFrame({"y_will_peak": (y > 0).astype(int), "ret": y}, index=index)
    fast = {"n_estimators": 5, "early_stopping_rounds": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinaryTargetWarning)
        single = SingleTaskStrategy(model_name="lightgbm", model_config=fast)
        single.fit(X, targets["y_will_peak"])
        cascade = CascadeStrategy(["lightgbm", "lightgbm"], [fast, fast], n_splits=2)
        cascade.fit(X, targets)
    assert single.task_ == "classification"
    assert cascade.stage_tasks_ == ["classification", "regression"]


@pytest.mark.parametrize("trainer", _EARLY_STOPPING, ids=_name)
def test_validation_rows_dated_before_the_training_end_warn(trainer):
    """Early stopping on X_val picks the iteration there: X_val from the training
    window's past, or the training rows themselves, were used silently."""
    X, y = _data()
    dates = pd.bdate_range("2024-01-01", periods=len(X))
    X = pd.DataFrame(X, index=dates, columns=["a", "b", "c"])
    X_train, y_train, X_val, y_val = X[:40], y[:40], X[40:], y[40:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone(trainer).fit(X_train, y_train, X_val=X_val, y_val=y_val)
        clone(trainer).fit(X_train.to_numpy(), y_train, X_val=X_val.to_numpy(), y_val=y_val)
    for rows in (slice(0, 20), slice(30, 50)):  # the past; overlapping the training end
        with pytest.warns(UserWarning, match="X_val starts on .* on or before the last training"):
            clone(trainer).fit(X_train, y_train, X_val=X[rows], y_val=y[rows])
    # dates with a time zone against dates without: not comparable, no warning, no error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone(trainer).fit(X_train.tz_localize("UTC"), y_train, X_val=X_val, y_val=y_val)


@pytest.mark.parametrize("trainer", _EARLY_STOPPING, ids=_name)
def test_validation_rows_closer_than_the_label_horizon_warn(trainer):
    """A target of horizon 5 needs 4 dates between the training rows and X_val (the
    last training label reaches 5 dates on); X_val right after the training end was
    taken silently: only "X_val starts after the training dates" was checked."""
    X, y = _data()
    X = pd.DataFrame(X, index=pd.bdate_range("2024-01-01", periods=len(X)), columns=list("abc"))
    y = pd.Series(y, index=X.index, name="fwd_ret_5")
    with pytest.warns(UserWarning, match=r"0 period\(s\) after .* 'fwd_ret_5', of horizon 5"):
        clone(trainer).fit(X[:40], y[:40], X_val=X[40:], y_val=y[40:])
    with pytest.warns(UserWarning, match="3 period"):
        clone(trainer).fit(X[:37], y[:37], X_val=X[40:], y_val=y[40:])
    with warnings.catch_warnings():  # 4 dates dropped between, by the splitter
        warnings.simplefilter("error")
        X_train, X_val, y_train, y_val = time_train_test_split(X, y, test_days=20)
        clone(trainer).fit(X_train, y_train, X_val=X_val, y_val=y_val)
        # a target without a known horizon asks for no gap; nor does the trainer's
        # embargo_days, its own tail's (a cascade sets it to each stage's horizon)
        clone(trainer).fit(X[:40], y[:40].rename("ret"), X_val=X[40:], y_val=y[40:])
        clone(trainer).set_params(embargo_days=2).fit(
            X[:40], y[:40].rename("fwd_ret"), X_val=X[40:], y_val=y[40:]
        )


@pytest.mark.requires("torch", "skorch")
def test_vae_validation_rows_dated_before_the_training_end_warn():
    X, _ = _data()
    X = pd.DataFrame(X, index=pd.bdate_range("2024-01-01", periods=len(X)))
    vae = VAETrainer(latent_dim=2, early_stopping_rounds=2, **_NET)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone(vae).fit(X[:40], X_val=X[40:])
    with pytest.warns(UserWarning, match="X_val starts on 2024-01-01, on or before"):
        clone(vae).fit(X[:40], X_val=X[:20])


@pytest.mark.parametrize(
    "trainer",
    [
        LightGBMTrainer(n_estimators=5),
        XGBoostTrainer(n_estimators=5),
        NGBoostTrainer(n_estimators=5),
        FTRLProximalTrainer(),
        MLPTrainer(**_NET),
        MetaLearningTrainer(estimators=["ridge"]),
        RewardBasedTrainer(),
    ],
    ids=lambda t: type(t).__name__,
)
def test_trainers_refuse_their_target_among_the_features(trainer):
    """A trainer fitted on X that holds y's own column fitted silently (only the
    strategies refused it): a LightGBM fitted on noise with fwd_ret_5 among its features
    learned the identity."""
    from skquant.leakage import LeakageWarning

    X, y = _dated_data(80)
    with pytest.raises(ValueError, match=r"target column\(s\) \['fwd_ret_5'\]"):
        clone(trainer).fit(X.assign(fwd_ret_5=y), y)
    # the target under another name (it was accepted silently), and y as an array
    with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):
        clone(trainer).fit(X.assign(mom=y.to_numpy()), y)
    with pytest.raises(ValueError, match=r"'fwd_ret_5' \(the target y\)"):
        clone(trainer).fit(X.assign(fwd_ret_5=y), y.to_numpy())
    with pytest.warns(LeakageWarning, match="future_40"):
        clone(trainer).fit(X.assign(future_40=y.shift(-3).fillna(0.0)), y)
    clone(trainer).fit(X, y)  # the same rows without the label: fits
    # a trailing return named like the target, which is the next one, is not the target
    ret_1 = y.rename("ret_1")
    clone(trainer).fit(X.assign(ret_1=ret_1.shift(1).fillna(0.0)), ret_1)


def _every_family():
    from tests.test_common import _tested_estimators

    seen = set()
    for trainer in _tested_estimators():
        if type(trainer) not in seen:  # one instance a family
            seen.add(type(trainer))
            yield trainer


@pytest.mark.parametrize("trainer", list(_every_family()), ids=_name)
def test_a_category_or_date_column_is_named(trainer):
    """Every family takes numbers: a pandas ``category`` of text and a date column
    slipped past the check that names a column, and failed later with numpy's "could
    not convert string to float: 'bank'" (FTRL, LightGBM, XGBoost, ...) or "The DType
    <class 'numpy.dtypes.Float64DType'> could not be promoted by <class
    'numpy.dtypes.DateTime64DType'>" (every family). LightGBM is no exception: its
    trainer hands LightGBM arrays, so no column reaches it as a category. A category
    of numbers still fits as numbers."""
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + 0.1 * rng.normal(size=n)).rename("fwd_ret")
    sector = pd.Categorical(np.where(np.arange(n) % 3, "tech", "bank"))
    with pytest.raises(ValueError, match=r"^X's column 'sector' \(dtype category\) holds 'bank'"):
        clone(trainer).fit(X.assign(sector=sector), y)
    dates = pd.date_range("2020-01-01", periods=n)
    for when in (dates, dates.tz_localize("UTC")):
        with pytest.raises(
            ValueError, match=r"^X's column 'when' \(dtype datetime64\[ns(, UTC)?\]\) holds "
        ):
            clone(trainer).fit(X.assign(when=when), y)


@pytest.mark.parametrize(
    "trainer", [FTRLProximalTrainer(), LightGBMTrainer(n_estimators=5, embargo_days=0)], ids=_name
)
def test_a_category_of_numbers_fits_and_is_named_at_predict(trainer):
    """A category whose categories are numbers is numbers (as before); a date column
    at predict is named as at fit."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60), "level": pd.Categorical(np.arange(60) % 3)})
    y = (X["a"] + 0.1 * rng.normal(size=60)).rename("fwd_ret")
    fitted = clone(trainer).fit(X, y)
    assert np.isfinite(fitted.predict(X)).all()
    dated = X.assign(level=pd.date_range("2020-01-01", periods=60))
    with pytest.raises(ValueError, match=r"^X's column 'level' \(dtype datetime64\[ns\]\)"):
        fitted.predict(dated)


@pytest.mark.parametrize("family", ["FTRLProximalTrainer", "GMMRegimeTrainer"])
def test_a_category_of_numbers_as_text_fits_as_numbers(family):
    """A category of numeric strings ('0', '1', '2', as read from a CSV) fitted as
    numbers (FTRL, GMM; scikit-learn's Ridge takes it), then was refused: "X's column
    'level' (dtype category) holds '0', which is not a number". Only categories that
    do not all read as numbers are refused, by their first such value."""
    import skquant

    trainer = getattr(skquant, family)()
    if family == "GMMRegimeTrainer":
        trainer.set_params(n_components=2)
    rng = np.random.default_rng(0)
    level = (np.arange(60) % 3).astype(str)
    index = pd.bdate_range("2020-01-01", periods=60, name="date")
    X = pd.DataFrame({"a": rng.normal(size=60), "level": pd.Categorical(level)}, index=index)
    y = (X["a"] + 0.1 * rng.normal(size=60)).rename("fwd_ret")
    as_numbers = clone(trainer).fit(X.assign(level=level.astype(float)), y)
    fitted = clone(trainer).fit(X, y)
    np.testing.assert_allclose(fitted.predict(X), as_numbers.predict(X))
    mixed = pd.Categorical(np.where(np.arange(60) % 5, level, "bank"))
    with pytest.raises(ValueError, match=r"^X's column 'level' \(dtype category\) holds 'bank'"):
        clone(trainer).fit(X.assign(level=mixed), y)


@pytest.mark.parametrize("trainer", list(_every_family()), ids=_name)
def test_nan_and_infinity_name_the_column_rows_and_first_date(trainer):
    """make_features' warm-up rows (NaN in vol_21 on each symbol's first dates) failed
    with scikit-learn's "Input X contains NaN.", naming no column of the frame. Now the
    column, its number of rows and its earliest date (the rows are symbol-major here:
    the first by position is AAA's, dated later) are named, scikit-learn's text kept
    after them; a family that takes NaN (LightGBM, XGBoost) has infinity named."""
    dates = pd.date_range("2020-01-01", periods=30, name="date")
    index = pd.MultiIndex.from_product([["AAA", "BBB"], dates], names=["symbol", "date"])
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), index=index, columns=["ret_1", "vol_21", "b"])
    y = (X["ret_1"] + 0.1 * rng.normal(size=60)).rename("fwd_ret")
    bad = X.copy()
    bad.loc[("BBB", dates[:3]), "vol_21"] = np.nan  # BBB's warm-up
    bad.loc[("AAA", dates[10]), "vol_21"] = np.nan
    bad.loc[("AAA", dates[20]), "b"] = np.inf
    if trainer.__sklearn_tags__().input_tags.allow_nan:
        expected = [r"X's column 'b' holds infinity in 1 row \(first on 2020-01-21, AAA\): "
                    r"Input X contains infinity"]  # fmt: skip
    else:
        expected = [r"column 'vol_21' holds NaN in 4 rows \(first on 2020-01-01, BBB\); "
                    r"column 'b' holds infinity in 1 row \(first on 2020-01-21, AAA\)",
                    r"(^X's column .*: Input X contains NaN\.|^X contains NaN or infinity)"]  # fmt: skip
    with pytest.raises(ValueError) as caught:
        clone(trainer).fit(bad, y)
    for pattern in expected:
        assert re.search(pattern, str(caught.value)), str(caught.value)


_FEATURE_TRAINERS = [
    GMMRegimeTrainer(n_components=2, volatility_window=0, random_state=0),
    ChangePointTrainer(max_run_length=10),
    pytest.param(
        VAETrainer(latent_dim=1, early_stopping_rounds=0, **_NET),
        marks=pytest.mark.requires("torch", "skorch"),
    ),
    pytest.param(
        GANTrainer(epochs=1, batch_size=64, device="cpu", random_state=0),
        marks=pytest.mark.requires("torch"),
    ),
]


@pytest.mark.parametrize("trainer", _FEATURE_TRAINERS, ids=_name)
def test_feature_trainers_refuse_their_target_among_the_features(trainer):
    """A feature model fitted on X that holds the label passed it on: a regime mixture
    on fwd_ret_5 before a LightGBM lifted the walk-forward R2 from -0.41/-0.00/-0.01 to
    0.41/0.77/0.63, and GMMRegimeTrainer took TTH and y_will_peak without a warning."""
    from skquant.leakage import LeakageWarning

    X, y = _dated_data(80)
    with pytest.raises(ValueError, match=r"target column\(s\) \['fwd_ret_5'\]"):
        clone(trainer).fit(X.assign(fwd_ret_5=y), y)
    with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):
        clone(trainer).fit_transform(X.assign(mom=y.to_numpy()), y)
    with pytest.raises(ValueError, match="the target 'fwd_ret_5'"):  # as a Pipeline fits it
        make_pipeline(clone(trainer), LinearRegression()).fit(X.assign(mom=y.to_numpy()), y)
    # fitted without y (unsupervised): label-like names still warn, and it fits
    tth = (y.abs() * 10).round().rename("TTH")
    with pytest.warns(LeakageWarning, match=r"named like labels \['TTH'\]"):
        clone(trainer).fit(X.assign(TTH=tth))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeakageWarning)
        assert clone(trainer).fit(X).transform(X).shape[0] == len(X)
        clone(trainer).fit(X, y)  # a y that no column holds


def test_a_column_equal_to_the_target_is_refused_whatever_its_name():
    """The target-in-X guard read names only: ``X.assign(mom=y.values)`` fitted (a
    LightGBM learnt the identity). The value check is exact, NaN-aware, per target of
    a multi-output y, and waits for 30 rows: a 0/1 feature can match a binary target
    by chance on fewer."""
    from skquant.utils._target import MIN_ROWS_SAME_AS_TARGET, check_labels_not_features

    rng = np.random.default_rng(0)
    n = 60
    y = pd.Series(rng.normal(size=n), name="fwd_ret_5")
    y.iloc[3] = np.nan
    X = pd.DataFrame({"f0": rng.normal(size=n), "note": ["a"] * n})
    with pytest.raises(ValueError, match=r"column\(s\) 'mom' \(the target 'fwd_ret_5'\)"):
        check_labels_not_features(X.assign(mom=y.to_numpy()), y)
    with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):  # nullable
        check_labels_not_features(X.assign(mom=y.astype("Float64")), y)
    with pytest.raises(ValueError, match=r"column\(s\) 2 \(the target y\)"):
        check_labels_not_features(np.c_[rng.normal(size=(n, 2)), y], y.to_numpy())
    both = pd.DataFrame({"TTH": rng.normal(size=n), "MDD": rng.normal(size=n)})
    with pytest.raises(ValueError, match=r"'q' \(the target 'MDD'\)"):
        check_labels_not_features(X.assign(q=both["MDD"].to_numpy()), both)
    with pytest.raises(ValueError, match=r"1 \(the target y\[:, 1\]\)"):
        check_labels_not_features(np.c_[rng.normal(size=n), both["MDD"]], both.to_numpy())
    # not the target: one value off, NaN against a value, a shifted copy, a constant
    near = y.to_numpy().copy()
    near[-1] += 1e-9
    filled = y.fillna(0.0).to_numpy()
    for other in (near, filled, y.shift(1).to_numpy()):
        check_labels_not_features(X.assign(mom=other), y)
    check_labels_not_features(X.assign(one=1.0), pd.Series(np.ones(n), name="y_const"))
    # a 0/1 feature equal to a binary target: refused from 30 rows, not below
    up = pd.Series(np.arange(MIN_ROWS_SAME_AS_TARGET) % 2, name="y_up")
    with pytest.raises(ValueError, match=r"'flag' \(the target 'y_up'\)"):
        check_labels_not_features(pd.DataFrame({"flag": up.astype(bool)}), up)
    check_labels_not_features(pd.DataFrame({"flag": up[:-1].to_numpy()}), up[:-1])


def test_a_downcast_copy_of_the_target_is_refused():
    """Wide data is often downcast: ``X.astype("float32")`` holding a float64 target
    passed the value check (exact in float64, the float32 copy differs from the
    target on about every row). Compared in the lower of the two precisions, the copy
    is refused under its name or another, either way round; float64 stays exact, and
    the 30-row threshold and NaN-awareness hold."""
    from skquant.utils._target import MIN_ROWS_SAME_AS_TARGET, check_labels_not_features

    rng = np.random.default_rng(0)
    n = 80
    y = pd.Series(rng.normal(size=n), name="fwd_ret_5")
    y.iloc[5] = np.nan
    X = pd.DataFrame({"f0": rng.normal(size=n), "f1": rng.normal(size=n)})
    assert (X.assign(mom=y.to_numpy()).astype("float32")["mom"] != y).sum() > n // 2
    for dtype in ("float32", "float16", "Float32"):
        wide = X.assign(mom=y.to_numpy()).astype(dtype)
        with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):
            check_labels_not_features(wide, y)
    with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):  # mixed
        check_labels_not_features(X.assign(mom=y.astype("float32")), y)
    with pytest.raises(ValueError, match=r"column\(s\) 2 \(the target y\)"):
        check_labels_not_features(np.c_[X, y].astype(np.float32), y.to_numpy())
    with pytest.raises(ValueError, match=r"target column\(s\) \['fwd_ret_5'\]"):
        check_labels_not_features(X.assign(fwd_ret_5=y.astype("float32")), y)
    # a float32 target and the float64 feature it was cut from
    with pytest.raises(ValueError, match=r"'mom' \(the target 'fwd_ret_5'\)"):
        check_labels_not_features(X.assign(mom=y.to_numpy()), y.astype("float32"))
    # not the target: one value off in float32, NaN against a value, float64 near-copy
    near = y.to_numpy(dtype=np.float32).copy()
    near[-1] = np.nextafter(near[-1], np.float32(np.inf))
    check_labels_not_features(X.assign(mom=near), y)
    check_labels_not_features(X.assign(mom=y.fillna(0.0).astype("float32")), y)
    check_labels_not_features(X.assign(mom=y.to_numpy() + 1e-12), y)
    # a float32 0/1 copy of a binary target: refused from 30 rows, not below
    up = pd.Series(np.arange(MIN_ROWS_SAME_AS_TARGET) % 2.0, name="y_up")
    with pytest.raises(ValueError, match=r"'flag' \(the target 'y_up'\)"):
        check_labels_not_features(pd.DataFrame({"flag": up.astype("float32")}), up)
    check_labels_not_features(pd.DataFrame({"flag": up[:-1].astype("float32")}), up[:-1])


def test_label_names_are_seen_behind_scikit_learn_prefixes():
    """A ColumnTransformer's output names (``p__fwd_ret_5``, ``remainder__TTH``)
    passed the label-name guard: a passthrough of the label before a LightGBM lifted
    the walk-forward R2 from about 0 to 0.13/0.64/0.48 with no error or warning."""
    from sklearn.compose import ColumnTransformer

    from skquant.labels import is_label_like
    from skquant.leakage import LeakageWarning

    for name in ["p__fwd_ret_5", "remainder__TTH", "union__cp__y_up", "a__mfe"]:
        assert is_label_like(name), name
    for name in ["p__ret_1", "x__futures_basis", "remainder__my_fwd", "pca0"]:
        assert not is_label_like(name), name
    X, y = _dated_data(80)
    model = LightGBMTrainer(n_estimators=5, embargo_days=5)
    passthrough = ColumnTransformer([("p", "passthrough", ["f0", "fwd_ret_5"])])
    pipe = make_pipeline(passthrough, model).set_output(transform="pandas")
    with pytest.raises(ValueError, match=r"'p__fwd_ret_5' \(the target 'fwd_ret_5'\)"):
        pipe.fit(X.assign(fwd_ret_5=y), y)
    rest = ColumnTransformer([("p", "passthrough", ["f0"])], remainder="passthrough")
    pipe = make_pipeline(rest, model).set_output(transform="pandas")
    with pytest.warns(LeakageWarning, match=r"named like labels \['remainder__TTH'\]"):
        pipe.fit(X.assign(TTH=y.shift(-2).fillna(0.0)), y)
