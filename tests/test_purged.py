"""PurgedKFold and CombinatorialPurgedCV: blocks, purging, embargo, paths, sklearn tools."""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, StackingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_validate
from sklearn.neighbors import KNeighborsRegressor

from skquant import CombinatorialPurgedCV, PurgedKFold, WalkForwardSplit, get_scorer
from skquant.model_selection import NoDatesWarning


def _panel(n_dates, n_symbols, seed=0, missing=0.3):
    """A shuffled (date, symbol) panel with some rows missing; every date keeps a row."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    index = pd.MultiIndex.from_product([dates, [f"S{i}" for i in range(n_symbols)]])
    keep = rng.random(len(index)) >= missing
    keep[::n_symbols] = True
    index = index[keep]
    frame = pd.DataFrame({"a": rng.normal(size=len(index))}, index=index)
    return frame.sample(frac=1.0, random_state=seed)


def _oracle(n_dates, n_blocks, test_blocks, label_horizon, embargo_days):
    """Date-position sets (test, purged, embargoed) written straight from the contract."""
    blocks = np.array_split(np.arange(n_dates), n_blocks)
    test = set().union(*(set(blocks[b].tolist()) for b in test_blocks))
    purged, embargoed = set(), set()
    for b in test_blocks:
        first, last = blocks[b][0], blocks[b][-1]
        purged |= {d for d in range(first - label_horizon, first) if d >= 0} - test
        embargoed |= {d for d in range(last + 1, last + 1 + embargo_days) if d < n_dates} - test
    return test, purged, embargoed


def _check_split(X, train, test, combination, cv, n_blocks):
    dates = X.index.get_level_values(0)
    distinct = np.unique(dates)
    position = {d: i for i, d in enumerate(distinct)}
    row_pos = np.array([position[d] for d in dates])
    # rows sharing a date fall on one side
    for part in (train, test):
        on_part = np.zeros(len(X), bool)
        on_part[part] = True
        by_date = pd.Series(on_part).groupby(row_pos).agg(["min", "max"])
        assert (by_date["min"] == by_date["max"]).all()
    train_dates, test_dates = set(row_pos[train].tolist()), set(row_pos[test].tolist())
    want_test, purged, embargoed = _oracle(
        len(distinct), n_blocks, combination, cv.label_horizon, cv.embargo_days
    )
    assert test_dates == want_test
    assert not train_dates & test_dates
    # no training label window [d, d + h] touches a test date
    for d in train_dates:
        assert not set(range(d, d + cv.label_horizon + 1)) & test_dates
    # embargoed dates are out of training, and nothing else is dropped
    assert not embargoed & train_dates
    assert train_dates | test_dates | purged | embargoed == set(range(len(distinct)))
    assert train_dates == set(range(len(distinct))) - test_dates - purged - embargoed
    for part in (train, test):
        assert part.dtype.kind == "i" and np.all(np.diff(part) > 0)


def _check_groups_give_the_same_splits(cv, X, splits):
    """RFECV's path: a plain array with each row's date as groups splits as X does."""
    by_groups = list(cv.split(X.to_numpy(), groups=X.index.get_level_values(0)))
    assert len(by_groups) == len(splits)
    for (tr, te), (trg, teg) in zip(splits, by_groups, strict=True):
        assert np.array_equal(tr, trg) and np.array_equal(te, teg)


_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The property tests draw embargoes shorter than the label overlap on purpose.
_short_embargo = pytest.mark.filterwarnings("ignore:embargo_days=.*below label_horizon")


@_short_embargo
@_settings
@given(
    n_dates=st.integers(20, 60),
    n_symbols=st.integers(1, 3),
    n_splits=st.integers(2, 6),
    label_horizon=st.integers(0, 3),
    embargo_days=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_purged_kfold_properties(n_dates, n_symbols, n_splits, label_horizon, embargo_days, seed):
    X = _panel(n_dates, n_symbols, seed)
    cv = PurgedKFold(n_splits=n_splits, label_horizon=label_horizon, embargo_days=embargo_days)
    splits = list(cv.split(X))
    assert len(splits) == cv.get_n_splits(X) == n_splits
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested.tolist()) == list(range(len(X)))  # test blocks partition the rows
    _check_groups_give_the_same_splits(cv, X, splits)
    for k, (train, test) in enumerate(splits):
        _check_split(X, train, test, (k,), cv, n_splits)


@_short_embargo
@_settings
@given(
    n_dates=st.integers(20, 60),
    n_symbols=st.integers(1, 3),
    n_folds=st.integers(2, 6),
    data=st.data(),
    label_horizon=st.integers(0, 2),
    embargo_days=st.integers(0, 2),
    seed=st.integers(0, 1000),
)
def test_combinatorial_properties(
    n_dates, n_symbols, n_folds, data, label_horizon, embargo_days, seed
):
    n_test_folds = data.draw(st.integers(1, n_folds - 1))
    X = _panel(n_dates, n_symbols, seed)
    cv = CombinatorialPurgedCV(n_folds, n_test_folds, label_horizon, embargo_days)
    # by hand: the dates a combination of test blocks leaves for training
    blocks_of = np.array_split(np.arange(n_dates), n_folds)

    def n_train_dates(combination) -> int:
        tested = np.zeros(n_dates, bool)
        for b in combination:
            tested[blocks_of[b]] = True
        dropped = tested.copy()
        for d in range(n_dates):
            if not tested[d] and tested[d + 1 : d + 1 + label_horizon].any():
                dropped[d] = True  # purged: its label window reaches a test date
        for b in combination:
            end = blocks_of[b][-1] + 1
            dropped[end : end + embargo_days] |= ~tested[end : end + embargo_days]
        return int((~dropped).sum())

    combos = list(itertools.combinations(range(n_folds), n_test_folds))
    if min(n_train_dates(c) for c in combos) == 0:
        # a combination with no training date left is refused, naming both parameters
        with pytest.raises(ValueError, match="label_horizon=.*embargo_days="):
            list(cv.split(X))
        return
    splits = list(cv.split(X))
    assert len(splits) == cv.get_n_splits(X) == math.comb(n_folds, n_test_folds)
    _check_groups_give_the_same_splits(cv, X, splits)
    assert cv.n_paths * n_folds == math.comb(n_folds, n_test_folds) * n_test_folds
    times_tested = np.zeros(len(X), int)
    combinations = []
    for train, test in splits:
        times_tested[test] += 1
        dates = np.unique(X.index.get_level_values(0))
        blocks = np.array_split(np.arange(len(dates)), n_folds)
        tested_dates = set(np.searchsorted(dates, X.index.get_level_values(0)[test]).tolist())
        combination = tuple(b for b in range(n_folds) if set(blocks[b].tolist()) <= tested_dates)
        assert len(combination) == n_test_folds
        combinations.append(combination)
        _check_split(X, train, test, combination, cv, n_folds)
    assert len(set(combinations)) == len(combinations)  # every combination once
    assert (times_tested == math.comb(n_folds - 1, n_test_folds - 1)).all()

    # every row lands on every path exactly once, from a split that tested it
    predictions = [np.arange(len(test)) + 1000.0 * i for i, (_, test) in enumerate(splits)]
    paths = cv.paths(X, predictions)
    assert paths.shape == (len(X), cv.n_paths) and paths.index.equals(X.index)
    assert not paths.isna().any().any()
    split_of = np.floor(paths.to_numpy() / 1000).astype(int)
    for row in range(len(X)):
        serving = sorted(split_of[row].tolist())  # the splits serving this row's paths
        assert serving == [i for i, (_, test) in enumerate(splits) if row in set(test)]


def test_paths_follow_skfolio_recombination():
    # skfolio's recombined_paths: for block f, the splits that test f, in order, are paths 0..
    cv = CombinatorialPurgedCV(n_folds=6, n_test_folds=3)
    combos = np.array(list(itertools.combinations(range(6), 3)))
    binary = np.zeros((6, len(combos)))
    binary[combos, np.arange(len(combos))[:, None]] = 1
    recombined = np.argwhere(binary == 1)[:, 1].reshape(6, -1)  # (n_folds, n_paths)
    ids = cv.path_ids()
    for i, combination in enumerate(combos):
        for j, block in enumerate(combination):
            assert recombined[block, ids[i, j]] == i


def test_paths_from_a_models_out_of_sample_predictions():
    X = _panel(60, 3, seed=1, missing=0.0)
    y = X["a"].shift(-1, fill_value=0.0) + 0.1 * X["a"]
    cv = CombinatorialPurgedCV(n_folds=5, n_test_folds=2, label_horizon=1, embargo_days=1)
    oof = [clone(Ridge()).fit(X.iloc[tr], y.iloc[tr]).predict(X.iloc[te]) for tr, te in cv.split(X)]
    paths = cv.paths(X, oof)
    assert paths.shape == (len(X), cv.n_paths) == (len(X), 4)
    assert paths.notna().all().all()  # each path covers every row once
    strategy = np.sign(paths).mul(y, axis=0).groupby(level=0).mean()
    assert strategy.shape == (60, 4)  # one backtest per path: a distribution of Sharpe ratios
    assert paths.nunique(axis=1).gt(1).any()  # the paths differ: models trained on other blocks


def test_purged_kfold_matches_the_picture():
    X = pd.DataFrame({"f": np.arange(12.0)}, index=pd.bdate_range("2024-01-01", periods=12))
    got = [(tr.tolist(), te.tolist()) for tr, te in PurgedKFold(3, 1, 1).split(X)]
    assert got == [
        ([5, 6, 7, 8, 9, 10, 11], [0, 1, 2, 3]),
        ([0, 1, 2, 9, 10, 11], [4, 5, 6, 7]),
        ([0, 1, 2, 3, 4, 5, 6], [8, 9, 10, 11]),
    ]


def test_groups_and_plain_arrays():
    X = _panel(30, 3, seed=2)
    dates = X.index.get_level_values(0).to_numpy()
    cv = PurgedKFold(3, label_horizon=2, embargo_days=1)
    by_index = [(tr.tolist(), te.tolist()) for tr, te in cv.split(X)]
    by_groups = [(tr.tolist(), te.tolist()) for tr, te in cv.split(X.to_numpy(), groups=dates)]
    assert by_index == by_groups
    rows = [te.tolist() for _, te in cv.split(np.zeros((9, 1)))]  # one row per date
    assert rows == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


@pytest.mark.parametrize("cv", [PurgedKFold(3, 2, 1), CombinatorialPurgedCV(4, 2, 2, 1)])
def test_works_in_sklearn_tools(cv):
    X = _panel(80, 3, seed=3, missing=0.0)
    y = X["a"].groupby(level=1).shift(-1).fillna(0.0)
    scores = cross_validate(Ridge(), X, y, cv=cv, scoring=get_scorer("sharpe"))
    assert len(scores["test_score"]) == cv.get_n_splits()
    grid = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=cv).fit(X, y)
    assert len(grid.cv_results_["split0_test_score"]) == 2


@pytest.mark.parametrize(
    ("cv", "match"),
    [
        (CombinatorialPurgedCV(n_folds=4, n_test_folds=4), "n_test_folds.*below n_folds=4"),
        (CombinatorialPurgedCV(n_folds=1), "n_folds"),
        (CombinatorialPurgedCV(n_test_folds=0), "n_test_folds"),
        (PurgedKFold(n_splits=1), "n_splits"),
        (PurgedKFold(n_splits=2.5), "n_splits"),
        (PurgedKFold(label_horizon=-1), "label_horizon"),
        (PurgedKFold(embargo_days="2"), "embargo_days"),
    ],
)
def test_bad_parameters_are_named(cv, match):
    with pytest.raises(ValueError, match=match):
        cv.get_n_splits()
    with pytest.raises(ValueError, match=match):
        list(cv.split(_panel(20, 2)))
    if isinstance(cv, CombinatorialPurgedCV):  # path_ids gave an empty array (audit)
        for method in (lambda: cv.n_paths, cv.path_ids):
            with pytest.raises(ValueError, match=match):
                method()


def test_too_few_dates_name_the_parameter():
    X = _panel(4, 2)
    with pytest.raises(ValueError, match=r"n_splits=5 needs at least 5 distinct dates.*has 4"):
        list(PurgedKFold(5).split(X))
    with pytest.raises(ValueError, match=r"n_folds=6 needs at least 6"):
        list(CombinatorialPurgedCV().split(X))


def test_no_training_date_left_is_an_error():
    X = _panel(10, 1)
    with pytest.raises(ValueError, match="no training date.*label_horizon=5.*embargo_days=5"):
        list(PurgedKFold(2, label_horizon=5, embargo_days=5).split(X))


def test_paths_check_the_predictions():
    X = _panel(20, 2)
    cv = CombinatorialPurgedCV(4, 2)
    with pytest.raises(ValueError, match="predictions holds 2 arrays.*6 splits"):
        cv.paths(X, [np.zeros(3), np.zeros(3)])
    bad = [np.zeros(len(te)) for _, te in cv.split(X)]
    bad[2] = bad[2][:-1]
    with pytest.raises(ValueError, match=r"predictions\[2\] has"):
        cv.paths(X, bad)
    # a predict_proba matrix was flattened: "predictions[0] has 408 values; split 0
    # tests 204 rows", which does not say why
    proba = [np.full((len(te), 2), 0.5) for _, te in cv.split(X)]
    with pytest.raises(ValueError, match=r"has shape \(\d+, 2\): one value a test row .*\[:, 1\]"):
        cv.paths(X, proba)
    one_column = [np.zeros((len(te), 1)) for _, te in cv.split(X)]
    assert np.shape(cv.paths(X, one_column))[0] == len(X)


@pytest.mark.parametrize(
    "make", [PurgedKFold, lambda _, horizon, embargo: CombinatorialPurgedCV(4, 2, horizon, embargo)]
)
def test_an_embargo_shorter_than_the_label_overlap_warns(make):
    """A test date's label spans the next label_horizon periods; a training date d
    periods after the block shares label_horizon - d of them, so an embargo below
    label_horizon - 1 trains on the test labels' returns."""
    X = _panel(40, 2, seed=4, missing=0.0)
    with pytest.warns(UserWarning, match=r"embargo_days=2 is below label_horizon - 1 = 4") as w:
        for _ in make(4, 5, 2).split(X):  # warned from the caller's line
            pass
    assert len(w) == 1 and w[0].filename == __file__
    y = X["a"].groupby(level=1).shift(-1).fillna(0.0)
    with pytest.warns(UserWarning, match="below label_horizon - 1") as w:
        cross_validate(Ridge(), X, y, cv=make(4, 5, 2))  # through joblib's loop
    assert w[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(make(4, 5, 4).split(X))
        list(make(4, 1, 0).split(X))


def test_out_of_fold_predictions_from_purged_folds_warn():
    """cross_val_predict, and scikit-learn's stacking through it, take PurgedKFold (its
    test blocks partition the rows), but the prediction for a block comes from a model
    trained on the later blocks too: a meta-learner fitted on them has seen the future.
    It was silent (audit: the first block of 4 was served by a model that had seen
    the last date)."""
    X = _panel(40, 2, seed=5, missing=0.0)
    t = pd.Series(np.unique(X.index.get_level_values(0), return_inverse=True)[1], X.index)
    y = X["a"].groupby(level=1).shift(-1).fillna(0.0)
    match = "PurgedKFold is giving folds to cross_val_predict.*trained on later dates"
    with pytest.warns(UserWarning, match=match) as w:
        # a 1-nearest-neighbour on the date position predicts the date it trained on
        served_by = cross_val_predict(KNeighborsRegressor(1), t.to_frame(), t, cv=PurgedKFold(4))
    assert w[0].filename == __file__
    assert served_by[t < 10].max() == 10  # block 0 served by a model that saw later dates
    with pytest.warns(UserWarning, match=match):
        StackingRegressor([("r", Ridge())], cv=PurgedKFold(4, 1, 1)).fit(X, y)
    with pytest.warns(UserWarning, match="CombinatorialPurgedCV is giving folds"):
        cross_val_predict(Ridge(), X, y, cv=CombinatorialPurgedCV(4, 1, 1, 1))
    # test sets that overlap: scikit-learn refuses them itself, after no stacking advice
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError, match="part"):
        warnings.simplefilter("always")
        cross_val_predict(Ridge(), X, y, cv=CombinatorialPurgedCV(4, 2, 1, 1))
    assert not [w for w in caught if "is giving folds" in str(w.message)]
    with warnings.catch_warnings():  # scoring and searching with the folds stay quiet
        warnings.simplefilter("error")
        cross_validate(Ridge(), X, y, cv=PurgedKFold(4, 1, 1))
        GridSearchCV(Ridge(), {"alpha": [1.0, 10.0]}, cv=PurgedKFold(4, 1, 1)).fit(X, y)
        list(PurgedKFold(4, 1, 1).split(X))


class _SeesDates(LogisticRegression):
    """A logistic regression that records the last date position it trained on."""

    def fit(self, X, y, sample_weight=None):
        self.last_date_ = int(np.asarray(X)[:, 0].max())
        return super().fit(X, y, sample_weight=sample_weight)


def _dated_classes(n_dates=40, seed=6):
    """One row per date: the date's position ``t``, a feature, a label it tells."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"t": np.arange(n_dates, dtype=float), "a": rng.normal(size=n_dates)},
        index=pd.bdate_range("2020-01-01", periods=n_dates),
    )
    y = pd.Series((X["a"] + rng.normal(size=n_dates) > 0).astype(int), index=X.index)
    return X, y


def test_calibrating_on_purged_folds_warns():
    """CalibratedClassifierCV's default (ensemble=True) fits each fold's calibrator on
    that fold's test block, from the fold's model: with PurgedKFold the calibrators of
    every block but the last learn from a model trained on later dates too. It was
    silent (only ensemble=False, through cross_val_predict, warned): of 4 blocks, the
    calibrators of dates 0-29 came from models that had seen date 39."""
    X, y = _dated_classes()
    match = r"PurgedKFold is giving folds to CalibratedClassifierCV \(ensemble=True\)"
    with pytest.warns(UserWarning, match=match) as w:
        calibrated = CalibratedClassifierCV(_SeesDates(), cv=PurgedKFold(4, 1, 1)).fit(X, y)
    assert w[0].filename == __file__
    seen = [pair.estimator.last_date_ for pair in calibrated.calibrated_classifiers_]
    calibrated_on = [test.max() for _, test in PurgedKFold(4, 1, 1).split(X)]
    assert calibrated_on == [9, 19, 29, 39]
    # the models behind the calibrators of dates 0-29 saw date 39; the last one's stop at 28
    assert [last > block_end for last, block_end in zip(seen, calibrated_on, strict=True)] == [
        True,
        True,
        True,
        False,
    ]
    assert seen[:3] == [39, 39, 39]
    with pytest.warns(UserWarning, match="through cross_val_predict, ensemble=False"):
        CalibratedClassifierCV(LogisticRegression(), cv=PurgedKFold(4, 1, 1), ensemble=False).fit(
            X, y
        )
    # overlapping test sets: sklearn takes them for ensemble=True, so the warning comes
    with pytest.warns(UserWarning, match="CombinatorialPurgedCV is giving folds to Calibrated"):
        CalibratedClassifierCV(LogisticRegression(), cv=CombinatorialPurgedCV(4, 2, 1, 1)).fit(X, y)
    # the advice: each calibrator on a test window after its model's training window
    walk_forward = WalkForwardSplit(
        train_days=16, test_days=8, step_days=8, min_train_samples=1, embargo_days=1
    )
    # skquant's warnings point at this line; the solver's (scikit-learn 1.6 passes
    # L-BFGS-B options newer scipy deprecates or does not know) point into scipy
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        honest = CalibratedClassifierCV(_SeesDates(), cv=walk_forward).fit(X, y)
    assert not [str(w.message) for w in caught if w.filename == __file__]
    assert [pair.estimator.last_date_ for pair in honest.calibrated_classifiers_] == [15, 23, 31]


class _ReyieldingSplit(PurgedKFold):
    """A user's subclass whose split re-yields the parent's folds."""

    def split(self, X, y=None, groups=None):
        yield from super().split(X, y, groups)


class _ReyieldingInnerSplit(PurgedKFold):
    """A user's subclass whose _split re-yields the parent's folds."""

    def _split(self, codes):
        yield from super()._split(codes)


class _MyStacking(StackingClassifier):
    pass


class _MyCalibration(CalibratedClassifierCV):
    def fit(self, X, y, sample_weight=None, **fit_params):
        return super().fit(X, y, sample_weight=sample_weight, **fit_params)


@pytest.mark.parametrize("splitter", [PurgedKFold, _ReyieldingSplit, _ReyieldingInnerSplit])
def test_subclasses_of_the_splitter_and_of_sklearns_tools_still_warn(splitter):
    """The check read the frame a fixed depth above _split: a subclass's split or
    _split that re-yields the folds adds a frame, and cross_val_predict, stacking and
    calibration with it were silent (0 warnings of 4 tools)."""
    X, y = _dated_classes()
    cv = splitter(4, 1, 1)
    name = type(cv).__name__
    tools = [
        ("cross_val_predict", lambda: cross_val_predict(LogisticRegression(), X, y, cv=cv)),
        ("cross_val_predict", lambda: _MyStacking([("l", LogisticRegression())], cv=cv).fit(X, y)),
        ("ensemble=True", lambda: _MyCalibration(LogisticRegression(), cv=cv).fit(X, y)),
        (
            "ensemble=False",
            lambda: _MyCalibration(LogisticRegression(), cv=cv, ensemble=False).fit(X, y),
        ),
    ]
    for consumer, run in tools:
        with pytest.warns(UserWarning, match=rf"{name} is giving folds to .*{consumer}"):
            run()


def test_purged_folds_inside_a_calibrated_search_stay_quiet():
    """A search over purged folds is scoring, even when CalibratedClassifierCV (with
    chronological folds) is what fits it: only the tool that reads the folds counts."""
    X, y = _dated_classes()
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=PurgedKFold(3, 1, 1))
    walk_forward = WalkForwardSplit(
        train_days=16, test_days=8, step_days=8, min_train_samples=1, embargo_days=1
    )
    # skquant's warnings point at these lines, the solver's into scipy (see above)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # both tools hand the search a plain array: one row a date, as X has here
        warnings.simplefilter("ignore", NoDatesWarning)
        CalibratedClassifierCV(search, cv=walk_forward).fit(X, y)
        StackingClassifier([("s", search)], cv=3).fit(X.to_numpy(), y.to_numpy())
    assert not [str(w.message) for w in caught if w.filename == __file__]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_stacking_warns_once_at_the_users_line_for_any_n_jobs(n_jobs):
    """StackingRegressor splits inside each base model's cross_val_predict, which
    n_jobs=2 runs in loky worker processes: the splitter's warnings were printed raw
    there (from multiprocessing/process.py) and none reached the caller (0 caught
    of 2 per base model), and n_jobs=1 said each once per base model (6 of each for 6).
    Now both say each warning once, at the user's fit line, with the same predictions."""
    X, _ = _dated_classes(30)
    y = X["a"] * 2.0
    stack = StackingRegressor(
        [(f"r{i}", Ridge(alpha=i + 1.0)) for i in range(6)],
        cv=PurgedKFold(3, 3, 0),
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictions = stack.fit(X, y).predict(X)
    said = sorted(str(w.message).split(":")[0] for w in caught if w.category is UserWarning)
    assert said == [
        "PurgedKFold is giving folds to cross_val_predict (which StackingRegressor and "
        "StackingClassifier call)",
        "embargo_days=0 is below label_horizon - 1 = 2",
    ]
    assert {w.filename for w in caught if w.category is UserWarning} == {__file__}
    serial = StackingRegressor(stack.estimators, cv=PurgedKFold(3, 3, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_allclose(predictions, serial.fit(X, y).predict(X))


def _fold_warnings(run, about="is giving folds"):
    """The purged splitters' fold warnings (or others, ``about``) that ``run()`` gives
    in this process."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if about in str(w.message)]


@pytest.mark.parametrize(
    ("ensemble", "refit", "said_as"),
    [
        (True, True, r"\(ensemble=True\)"),
        (False, False, r"\(through cross_val_predict, ensemble=False\)"),
    ],
)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_searching_a_purged_calibration_warns_once_per_call(n_jobs, ensemble, refit, said_as):
    """A search clones CalibratedClassifierCV(cv=PurgedKFold) for every candidate and
    fold and for the refit, and each clone's split warned: n_jobs=1 said the same
    calibration warning 4 times for 3 folds (3 for cross_validate's 3), n_jobs=2
    printed it raw in the workers (from multiprocessing/process.py) and only the
    refit's reached the caller (0 with refit=False or cross_validate); the embargo
    warning likewise. Now once per call, at the user's line, for either ensemble."""
    X, y = _dated_classes()
    walk_forward = WalkForwardSplit(
        train_days=16, test_days=8, step_days=8, min_train_samples=1, embargo_days=1
    )
    calibrated = CalibratedClassifierCV(
        LogisticRegression(), cv=PurgedKFold(3, 1, 1), ensemble=ensemble
    )
    search = GridSearchCV(
        calibrated, {"method": ["sigmoid"]}, cv=walk_forward, refit=refit, n_jobs=n_jobs
    )
    for run in [
        lambda: search.fit(X, y),
        lambda: search.fit(X, y),  # each fit of the search says it again
        lambda: cross_validate(calibrated, X, y, cv=walk_forward, n_jobs=n_jobs),
    ]:
        said = _fold_warnings(run)
        assert len(said) == 1
        assert re.search(said_as, str(said[0].message))
        if n_jobs == 1:
            assert said[0].filename == __file__
    # the other warning that depends on the parameters only: once per fit too (was 4)
    search.set_params(estimator__cv=PurgedKFold(3, 3, 0))
    assert len(_fold_warnings(lambda: search.fit(X, y), "embargo_days=0 is below")) == 1


def test_a_purged_calibration_cloned_outside_a_search_warns_at_its_fit():
    """A user's clone is not a search's: its fit warns as the original's does, and the
    search's refitted model warns again when the user fits it again."""
    X, y = _dated_classes()
    calibrated = CalibratedClassifierCV(LogisticRegression(), cv=PurgedKFold(3, 1, 1))
    copy = clone(calibrated)
    said = _fold_warnings(lambda: copy.fit(X, y))
    assert len(said) == 1 and said[0].filename == __file__
    walk_forward = WalkForwardSplit(
        train_days=16, test_days=8, step_days=8, min_train_samples=1, embargo_days=1
    )
    search = GridSearchCV(calibrated, {"method": ["sigmoid"]}, cv=walk_forward)
    assert len(_fold_warnings(lambda: search.fit(X, y))) == 1
    said = _fold_warnings(lambda: search.best_estimator_.fit(X, y))
    assert len(said) == 1 and said[0].filename == __file__
    # a search that cross_validate returns holds a clone of the run, never split: the
    # user's later fits of it, of its calibrator or of a clone of it warned 0 times
    X80, y80 = _dated_classes(n_dates=80)
    outer = WalkForwardSplit(
        train_days=40, test_days=20, step_days=20, min_train_samples=1, embargo_days=1
    )
    said = _fold_warnings(lambda: cross_validate(search, X80, y80, cv=outer, return_estimator=True))
    assert len(said) == 1
    for fit in (
        lambda returned: returned.estimator.fit(X80, y80),
        lambda returned: clone(returned).fit(X80, y80),
        lambda returned: returned.fit(X80, y80),
    ):
        result = cross_validate(search, X80, y80, cv=outer, return_estimator=True)
        said = _fold_warnings(lambda: fit(result["estimator"][0]))  # noqa: B023
        assert len(said) == 1 and said[0].filename == __file__, said
    # calibrating on dates after the training stays quiet in a search
    honest = CalibratedClassifierCV(LogisticRegression(), cv=walk_forward)
    assert not _fold_warnings(lambda: GridSearchCV(honest, {"method": ["sigmoid"]}, cv=3).fit(X, y))
