"""WalkForwardSplit and time_train_test_split: fold placement, properties, sklearn tools."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skquant import WalkForwardSplit, time_train_test_split


def _panel(n_dates, n_symbols, seed=0, shuffle=True, missing=0.0):
    """A (date, symbol) panel, rows shuffled, some (date, symbol) rows missing."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=n_dates)
    index = pd.MultiIndex.from_product([dates, [f"S{i}" for i in range(n_symbols)]])
    keep = rng.random(len(index)) >= missing
    keep[:n_symbols] = True  # every date stays present through at least one row below
    index = index[keep]
    frame = pd.DataFrame(
        {"a": rng.normal(size=len(index)), "b": rng.normal(size=len(index))}, index=index
    )
    return frame.sample(frac=1.0, random_state=seed) if shuffle else frame


def _row_dates(frame):
    return frame.index.get_level_values(0).to_numpy()


# ---------------------------------------------------------------------- contract
def test_fold_placement_matches_contract():
    X = pd.DataFrame({"f": np.arange(20.0)}, index=pd.bdate_range("2024-01-01", periods=20))
    cv = WalkForwardSplit(
        train_days=5, test_days=4, step_days=3, embargo_days=2, min_train_samples=1
    )
    folds = list(cv.split(X))
    # s_k = 5 + 2 + 3k < 20 -> k = 0..4
    assert len(folds) == cv.get_n_splits(X) == 5
    for k, (train, test) in enumerate(folds):
        s = 7 + 3 * k
        assert test.tolist() == list(range(s, min(s + 4, 20)))
        assert train.tolist() == list(range(s - 2 - 5, s - 2))
    exp = WalkForwardSplit(
        train_days=5, test_days=4, step_days=3, embargo_days=2, min_train_samples=1, expanding=True
    )
    for k, (train, _) in enumerate(exp.split(X)):
        assert train.tolist() == list(range(0, 5 + 3 * k))


def test_split_yields_int_arrays_in_range():
    X = _panel(40, 3)
    for train, test in WalkForwardSplit(10, 5, 5, min_train_samples=1).split(X):
        for part in (train, test):
            assert part.ndim == 1 and part.dtype.kind == "i"
            assert part.min() >= 0 and part.max() < len(X)
            assert np.all(np.diff(part) > 0)


def test_min_train_samples_skips_folds_instead_of_shrinking():
    # 30 dates; dates 0-9 have 1 row, later dates 3 rows
    dates = pd.bdate_range("2024-01-01", periods=30)
    index = pd.MultiIndex.from_tuples(
        [(d, s) for i, d in enumerate(dates) for s in (["A"] if i < 10 else ["A", "B", "C"])]
    )
    X = pd.DataFrame({"f": np.zeros(len(index))}, index=index)
    cv = WalkForwardSplit(train_days=5, test_days=5, step_days=5, min_train_samples=15)
    folds = list(cv.split(X))
    # fold starts 5, 10, 15, 20, 25: training rows 5, 5, 15, 15, 15 -> first two skipped
    assert len(folds) == 3
    assert [len(train) for train, _ in folds] == [15, 15, 15]
    assert _row_dates(X)[folds[0][1]].min() == dates[15]


def test_too_few_dates_error_says_counts():
    X = pd.DataFrame({"f": np.arange(10.0)}, index=pd.bdate_range("2024-01-01", periods=10))
    cv = WalkForwardSplit(train_days=8, test_days=2, embargo_days=2, min_train_samples=1)
    with pytest.raises(ValueError, match=r"10 distinct dates.*at least .* = 11"):
        list(cv.split(X))
    with pytest.raises(ValueError, match="10 distinct dates"):
        cv.get_n_splits(X)


def test_no_fold_with_enough_rows_error():
    X = pd.DataFrame({"f": np.arange(30.0)}, index=pd.bdate_range("2024-01-01", periods=30))
    with pytest.raises(ValueError, match=r"min_train_samples=100.*holds 10 rows"):
        list(WalkForwardSplit(10, 5, 5, min_train_samples=100).split(X))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"train_days": 0}, "train_days"),
        ({"step_days": 1.5}, "step_days"),
        ({"embargo_days": -1}, "embargo_days"),
        ({"expanding": "yes"}, "expanding"),
    ],
)
def test_bad_parameters_name_the_parameter(params, name):
    X = pd.DataFrame({"f": np.arange(30.0)}, index=pd.bdate_range("2024-01-01", periods=30))
    with pytest.raises(ValueError, match=name):
        list(WalkForwardSplit(**params).split(X))


@pytest.mark.parametrize(
    "splitter, name",
    [
        ("WalkForwardSplit", "train_days"),
        ("WalkForwardSplit", "embargo_days"),
        ("PurgedKFold", "label_horizon"),
        ("CombinatorialPurgedCV", "n_test_folds"),
    ],
)
def test_a_bool_is_no_count(splitter, name):
    """scikit-learn's Interval(Integral) takes True as 1: WalkForwardSplit(train_days=True)
    made 20 folds of one date (audit)."""
    import skquant.model_selection as ms

    X = pd.DataFrame({"f": np.arange(30.0)}, index=pd.bdate_range("2024-01-01", periods=30))
    for flag in (True, np.True_):
        with pytest.raises(ValueError, match=f"'{name}' parameter .* must be an int"):
            list(getattr(ms, splitter)(**{name: flag}).split(X))


def test_missing_group_labels_are_refused():
    """NaT in datetime groups was sorted last (into a test window) or first (into a
    training window, tz-aware); None was a raw TypeError."""
    X = np.zeros((30, 1))
    dates = pd.Series(pd.bdate_range("2024-01-01", periods=30))
    cv = WalkForwardSplit(train_days=10, test_days=5, step_days=5, min_train_samples=1)
    for groups in (
        dates.where(dates.index != 3).to_numpy(),
        dates.dt.tz_localize("UTC").where(dates.index != 3),
        np.array([d.date() for d in dates] + [None], dtype=object)[1:],
    ):
        with pytest.raises(ValueError, match="groups holds 1 missing labels"):
            list(cv.split(X, groups=groups))


def test_date_objects_and_periods_in_an_index_are_refused():
    """A (date, symbol) panel whose date level held datetime.date objects or Periods was
    split by row position: 16 folds instead of 4, a date on both sides; the stacking
    helper's predictions moved with later rows (audit)."""
    from sklearn.linear_model import Ridge

    from skquant.model_selection import PurgedKFold, chronological_oof_predict

    days = pd.bdate_range("2024-01-01", periods=12)
    cv = WalkForwardSplit(train_days=4, test_days=2, step_days=2, min_train_samples=1)
    for level, what in (
        ([d.date() for d in days], r"date objects \(2024-01-01\).*pd.to_datetime"),
        (days.to_period("D"), r"Periods \(2024-01-01\).*to_timestamp"),
    ):
        index = pd.MultiIndex.from_product([level, ["A", "B", "C"]], names=["when", "symbol"])
        X = pd.DataFrame({"f": np.arange(len(index), dtype=float)}, index=index)
        for call in (
            lambda X: next(cv.split(X)),
            lambda X: next(PurgedKFold(n_splits=3).split(X)),
            lambda X: chronological_oof_predict(Ridge(), X, X["f"], n_splits=2),
        ):
            with pytest.raises(ValueError, match=f"index level 'when' holds {what}"):
                call(X)
        single = pd.DataFrame({"f": np.arange(12.0)}, index=pd.Index(level, name="day"))
        with pytest.raises(ValueError, match=f"The index level 'day' holds {what}"):
            next(cv.split(single))
    # the datetime64 panel is split by date
    index = pd.MultiIndex.from_product([days, ["A", "B", "C"]], names=["when", "symbol"])
    assert len(list(cv.split(pd.DataFrame({"f": 0.0}, index=index)))) == 4


def test_splitting_rows_without_dates_warns():
    """RFECV hands the splitter an array: without groups each row counted as a date,
    silently (audit: a walk-forward fold of 4 dates instead of 10, a date on both
    sides). It still does (right for one series), with a NoDatesWarning naming groups."""
    import warnings

    from sklearn.linear_model import Ridge

    from skquant.model_selection import (
        CombinatorialPurgedCV,
        NoDatesWarning,
        PurgedKFold,
        chronological_oof_predict,
    )

    X = np.arange(60.0).reshape(-1, 1)
    dates = pd.bdate_range("2024-01-01", periods=60)
    for cv in (
        WalkForwardSplit(train_days=10, test_days=5, step_days=5, min_train_samples=1),
        PurgedKFold(n_splits=3),
        CombinatorialPurgedCV(n_folds=4, n_test_folds=2),
    ):
        with pytest.warns(NoDatesWarning, match=f"{type(cv).__name__}: X carries no dates.*groups"):
            list(cv.split(X))
        with warnings.catch_warnings():
            warnings.simplefilter("error", NoDatesWarning)
            list(cv.split(X, groups=dates))
            list(cv.split(pd.DataFrame(X, index=dates)))
    with pytest.warns(NoDatesWarning, match="chronological_oof_predict: X carries no dates"):
        chronological_oof_predict(Ridge(), X, X.ravel(), n_splits=2)
    # a panel as an array: its last 5 "dates" are 5 rows, date 27 went to both sides,
    # silently (audit)
    panel = np.repeat(np.arange(30.0), 2).reshape(-1, 1)  # 30 dates of 2 symbols
    with pytest.warns(NoDatesWarning, match="time_train_test_split: X carries no dates"):
        train, test = time_train_test_split(panel, test_days=5)
    assert set(train.ravel()) & set(test.ravel()) == {27.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        time_train_test_split(pd.DataFrame(X, index=dates), test_days=5)


def test_get_n_splits_needs_x():
    with pytest.raises(ValueError, match="needs X"):
        WalkForwardSplit().get_n_splits()


def test_groups_and_plain_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    groups = np.repeat(pd.bdate_range("2024-01-01", periods=20).to_numpy(), 3)
    cv = WalkForwardSplit(train_days=10, test_days=5, step_days=5, min_train_samples=1)
    folds = list(cv.split(X, groups=groups))
    assert len(folds) == 2
    assert len(folds[0][0]) == 30 and len(folds[0][1]) == 15
    # no groups, no dates: one row per period in row order
    assert cv.get_n_splits(X) == len(range(10, 60, 5))
    with pytest.raises(ValueError, match=r"groups must be 1-D with one label per row of X \(60\)"):
        list(cv.split(X, groups=groups[:-1]))  # named, not scikit-learn's sample count
    with pytest.raises(ValueError, match="groups must be 1-D"):
        list(cv.split(X, groups=groups.reshape(-1, 1)))


def test_both_index_orders_give_the_same_folds():
    X = _panel(30, 2, shuffle=False)
    swapped = X.swaplevel()
    cv = WalkForwardSplit(10, 5, 5, min_train_samples=1)
    a = [(X.index[tr], X.index[te]) for tr, te in cv.split(X)]
    b = [
        (swapped.index[tr].swaplevel(), swapped.index[te].swaplevel())
        for tr, te in cv.split(swapped)
    ]
    for (tra, tea), (trb, teb) in zip(a, b, strict=True):
        assert tra.sort_values().equals(trb.sort_values())
        assert tea.sort_values().equals(teb.sort_values())


# ---------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_dates=st.integers(2, 80),
    n_symbols=st.integers(1, 4),
    missing=st.sampled_from([0.0, 0.3]),
    train_days=st.integers(1, 30),
    test_days=st.integers(1, 20),
    step_days=st.integers(1, 20),
    embargo_days=st.integers(0, 5),
    min_train_samples=st.integers(0, 40),
    expanding=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_walk_forward_properties(
    n_dates,
    n_symbols,
    missing,
    train_days,
    test_days,
    step_days,
    embargo_days,
    min_train_samples,
    expanding,
    seed,
):
    X = _panel(n_dates, n_symbols, seed=seed, missing=missing)
    cv = WalkForwardSplit(
        train_days, test_days, step_days, min_train_samples, embargo_days, expanding
    )
    row_dates = _row_dates(X)
    distinct = np.unique(row_dates)
    try:
        folds = list(cv.split(X))
    except ValueError as exc:
        # only when the data really has no fold
        assert "distinct dates" in str(exc) or "min_train_samples" in str(exc)
        with pytest.raises(ValueError):
            cv.get_n_splits(X)
        return
    assert len(folds) == cv.get_n_splits(X) >= 1
    # RFECV's path: a plain array with the dates as groups gives the same folds
    by_groups = list(cv.split(X.to_numpy(), groups=row_dates))
    assert len(by_groups) == len(folds)
    for (tr, te), (trg, teg) in zip(folds, by_groups, strict=True):
        assert np.array_equal(tr, trg) and np.array_equal(te, teg)
    test_starts = []
    for train, test in folds:
        assert len(train) >= max(min_train_samples, 1) and len(test) >= 1
        assert not np.intersect1d(train, test).size
        tr_pos = np.searchsorted(distinct, np.unique(row_dates[train]))
        te_pos = np.searchsorted(distinct, np.unique(row_dates[test]))
        # every training date precedes every test date with >= embargo_days dates between
        assert tr_pos.max() + embargo_days < te_pos.min()
        assert te_pos.min() - tr_pos.max() - 1 == embargo_days
        # no date split: every row of a used date is on its side
        assert np.isin(row_dates, row_dates[train]).sum() == len(train)
        assert np.isin(row_dates, row_dates[test]).sum() == len(test)
        # windows: contiguous, at most train_days / test_days dates
        assert len(tr_pos) == tr_pos.max() - tr_pos.min() + 1
        assert len(te_pos) == te_pos.max() - te_pos.min() + 1 <= test_days
        if expanding:
            assert tr_pos.min() == 0
        else:
            assert len(tr_pos) == train_days
        test_starts.append(te_pos.min())
    # test windows advance by multiples of step_days (skipped folds leave gaps)
    offsets = np.asarray(test_starts) - (train_days + embargo_days)
    assert np.all(offsets % step_days == 0) and np.all(np.diff(offsets) > 0)
    # only too-small folds are skipped
    n_laid = len(range(train_days + embargo_days, len(distinct), step_days))
    assert len(folds) <= n_laid
    if min_train_samples <= 1:
        assert len(folds) == n_laid


@settings(max_examples=40, deadline=None)
@given(
    n_dates=st.integers(2, 60),
    n_symbols=st.integers(1, 3),
    test_days=st.integers(1, 30),
    embargo_days=st.integers(0, 5),
    seed=st.integers(0, 100),
)
def test_time_train_test_split_properties(n_dates, n_symbols, test_days, embargo_days, seed):
    X = _panel(n_dates, n_symbols, seed=seed)
    y = pd.Series(np.arange(len(X)), index=X.index)
    if n_dates - test_days - embargo_days < 1:
        with pytest.raises(ValueError, match="distinct dates"):
            time_train_test_split(X, y, test_days=test_days, embargo_days=embargo_days)
        return
    X_tr, X_te, y_tr, y_te = time_train_test_split(
        X, y, test_days=test_days, embargo_days=embargo_days
    )
    distinct = np.unique(_row_dates(X))
    assert X_tr.index.equals(y_tr.index) and X_te.index.equals(y_te.index)
    assert np.unique(_row_dates(X_te)).tolist() == distinct[-test_days:].tolist()
    assert (
        np.unique(_row_dates(X_tr)).tolist()
        == distinct[: n_dates - test_days - embargo_days].tolist()
    )
    n_train = n_dates - test_days - embargo_days
    assert len(X_tr) == (_row_dates(X) < distinct[n_train]).sum()
    assert len(X_te) == (_row_dates(X) >= distinct[-test_days]).sum()


@pytest.mark.filterwarnings("ignore::skquant.model_selection.NoDatesWarning")
def test_time_train_test_split_sizes_and_errors():
    X = np.arange(20.0).reshape(10, 2)
    X_tr, X_te = time_train_test_split(X, test_size=0.25)
    assert X_tr.shape == (7, 2) and X_te.shape == (3, 2)
    assert X_te[0, 0] == 14.0  # the latest rows, unshuffled
    X_tr, X_te = time_train_test_split(X)  # default test_size 0.25
    assert len(X_te) == 3
    with pytest.raises(ValueError, match="not both"):
        time_train_test_split(X, test_days=2, test_size=0.5)
    with pytest.raises(ValueError, match="test_size"):
        time_train_test_split(X, test_size=1.5)
    with pytest.raises(ValueError, match="test_days"):
        time_train_test_split(X, test_days=0)
    with pytest.raises(ValueError, match="embargo_days"):
        time_train_test_split(X, test_days=2, embargo_days=-1)
    # the error names the parameter given (it said test_days=5 for test_size=0.5)
    with pytest.raises(ValueError, match=r"10 distinct dates; test_size=0.5 \(5 dates\) and "):
        time_train_test_split(X, test_size=0.5, embargo_days=5)
    y = pd.Series(np.zeros(10), name="fwd_ret_5")
    with pytest.raises(ValueError, match=r"test_days=5 and embargo_days=5 \(the horizon y tells"):
        time_train_test_split(X, y, test_days=5)


def test_time_train_test_split_embargoes_by_the_labels_horizon_by_default():
    """The guide's validation split kept embargo_days=0 though y carried make_labels'
    5-day horizon: the first 5 validation dates shared prices with the last training
    labels, and early stopping chose on them, silently (audit of the guide)."""
    import warnings

    from skquant import make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=2, n_days=100, random_state=0)
    dates = panel.index.get_level_values("date").unique().sort_values()

    def gap(X_tr, X_te):
        last, first = X_tr.index.get_level_values(0).max(), X_te.index.get_level_values(0).min()
        return dates.get_loc(first) - dates.get_loc(last) - 1

    X = panel[["ret_1", "ret_5"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert gap(*time_train_test_split(X, panel["fwd_ret_5"], test_days=20)[:2]) == 5
        labels = panel[["fwd_ret", "fwd_ret_5", "y_will_peak"]]  # the longest: 5
        assert gap(*time_train_test_split(X, labels, test_days=20)[:2]) == 5
        assert gap(*time_train_test_split(X, panel["fwd_ret"], test_days=20)[:2]) == 1
        assert gap(*time_train_test_split(X, test_days=20)) == 0  # no y: nothing known
        assert (
            gap(*time_train_test_split(X, panel["fwd_ret_5"], test_days=20, embargo_days=4)[:2])
            == 4
        )
    with pytest.warns(UserWarning, match="time_train_test_split holds out the latest dates"):
        time_train_test_split(X, panel["fwd_ret_5"], test_days=20, embargo_days=0)
    # a frame repeating a column name: each column is read by position (review: the
    # lookup by name returned a frame again, recursing without end)
    twice = pd.concat([panel["fwd_ret_5"], panel["fwd_ret"]], axis=1).set_axis(["a", "a"], axis=1)
    twice.attrs = panel.attrs
    assert gap(*time_train_test_split(X, twice, test_days=20)[:2]) == 0  # "a" tells nothing
    named = pd.concat([panel["fwd_ret_5"]] * 2, axis=1)
    assert gap(*time_train_test_split(X, named, test_days=20)[:2]) == 5


@pytest.mark.parametrize(
    ("name", "params", "enough"),
    [
        (
            "WalkForwardSplit",
            {"train_days": 60, "test_days": 20, "min_train_samples": 1},
            {"embargo_days": 4},
        ),
        ("PurgedKFold", {}, {"label_horizon": 4, "embargo_days": 3}),
        ("CombinatorialPurgedCV", {}, {"label_horizon": 5, "embargo_days": 4}),
    ],  # fmt: skip
    ids=["walk-forward", "purged", "combinatorial"],
)
def test_a_splitter_warns_when_y_tells_a_longer_horizon(name, params, enough):
    """``GridSearchCV(cv=WalkForwardSplit())`` on y = fwd_ret_5 trained on labels that
    reach 5 dates into each test window, silently: the splitter ignored y, and its
    embargo_days defaults to 0 (the API's). scikit-learn's search and
    cross_validate pass y as given, so the splitter reads its horizon."""
    import warnings

    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, cross_validate

    from skquant import make_synthetic_panel, model_selection

    short = getattr(model_selection, name)(**params)
    panel = make_synthetic_panel(n_symbols=2, n_days=120, random_state=0)
    X, y = panel[["ret_1", "ret_5"]], panel["fwd_ret_5"]
    param = short._horizon_param
    message = rf"{type(short).__name__} has {param}=0, but y 'fwd_ret_5' spans 5 periods"
    with pytest.warns(UserWarning, match=message):
        GridSearchCV(Ridge(), {"alpha": [1.0]}, cv=short).fit(X, y)
    with pytest.warns(UserWarning, match=message):
        cross_validate(Ridge(), X, y, cv=short)
    with pytest.warns(UserWarning, match="'y_will_peak' spans 5 periods .by its metadata"):
        list(short.split(X, panel["y_will_peak"]))  # make_labels' attrs tell it
    with pytest.warns(UserWarning, match="spans 5 periods .by its name"):
        list(short.split(X, pd.Series(y.to_numpy(), index=y.index, name="fwd_ret_5")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cross_validate(Ridge(), X, y, cv=getattr(model_selection, name)(**params, **enough))
        list(short.split(X, panel["fwd_ret"]))  # horizon 1: nothing to embargo
        list(short.split(X, y.to_numpy()))  # no name, no metadata: nothing known
        list(short.split(X))


def test_a_y_named_in_days_counts_the_bars_of_its_intraday_dates():
    """y 'fwd_ret_1d' on 7 hourly bars a day (a 7-bar return) told a horizon of 1 to
    every tool that reads y's name: a splitter with embargo_days=1 stayed silent and
    time_train_test_split's default embargo was 1 bar, so the last training labels
    reached 6 bars into the test rows; a scorer took it for a one-period return. A day
    unit now counts y's own dates' bars: 7 periods."""
    import warnings

    from sklearn.linear_model import Ridge

    from skquant import get_scorer
    from tests.test_honest_numbers import hourly_panel

    panel = hourly_panel(n_days=30).dropna()
    X, y = panel[["r1", "r7"]], panel["fwd_ret_1d"]
    dates = panel.index.get_level_values("date").unique().sort_values()
    kwargs = dict(train_days=70, test_days=35, min_train_samples=1)
    with pytest.warns(UserWarning, match="y 'fwd_ret_1d' spans 7 periods .by its name"):
        list(WalkForwardSplit(**kwargs, embargo_days=1).split(X, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(WalkForwardSplit(**kwargs, embargo_days=6).split(X, y))
        X_tr, X_te = time_train_test_split(X, y, test_days=35)[:2]
    last, first = X_tr.index.get_level_values(0).max(), X_te.index.get_level_values(0).min()
    assert dates.get_loc(first) - dates.get_loc(last) - 1 == 7
    model = Ridge().fit(X_tr, y.loc[X_tr.index])
    with pytest.warns(UserWarning, match="y 'fwd_ret_1d' says a 7-period horizon .by its name"):
        get_scorer("sharpe")(model, X_te, y.loc[X_te.index])


# ---------------------------------------------------------------------- sklearn tools
@pytest.fixture(scope="module")
def lgb_panel():
    from skquant import make_synthetic_panel

    panel = make_synthetic_panel(n_symbols=3, n_days=160, random_state=0)
    features = ["ret_1", "ret_5", "vol_21", "alpha_1", "alpha_2", "noise_1"]
    return panel[features], panel["fwd_ret"]


_LGB = {"n_estimators": 8, "min_child_samples": 5, "early_stopping_rounds": 0, "n_jobs": 1}
_CV = {"train_days": 60, "test_days": 30, "step_days": 30, "min_train_samples": 100}


def test_grid_and_randomized_search_on_a_panel(lgb_panel):
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    from skquant import LightGBMTrainer, get_scorer

    X, y = lgb_panel
    cv = WalkForwardSplit(**_CV)
    grid = GridSearchCV(
        LightGBMTrainer(**_LGB),
        {"learning_rate": [0.05, 0.2], "max_depth": [2, 3]},
        cv=cv,
        scoring=get_scorer("sharpe"),
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.n_splits_ == cv.get_n_splits(X) == len(range(60, 160, 30))
    assert np.isfinite(grid.best_score_)
    search = RandomizedSearchCV(
        LightGBMTrainer(**_LGB),
        {"learning_rate": [0.05, 0.1, 0.2]},
        n_iter=2,
        cv=cv,
        scoring=get_scorer("max_drawdown"),
        random_state=0,
    ).fit(X, y)
    assert (search.cv_results_["mean_test_score"] <= 0).all()


def test_cross_validate_with_several_trading_scorers(lgb_panel):
    from sklearn.model_selection import cross_val_score, cross_validate

    from skquant import LightGBMTrainer, get_scorer

    X, y = lgb_panel
    scoring = {
        m: get_scorer(m) for m in ("sharpe", "max_drawdown", "hit_rate", "profit_factor", "ic")
    }
    out = cross_validate(LightGBMTrainer(**_LGB), X, y, cv=WalkForwardSplit(**_CV), scoring=scoring)
    for m in scoring:
        assert len(out[f"test_{m}"]) == 4
    assert ((out["test_hit_rate"] >= 0) & (out["test_hit_rate"] <= 1)).all()
    scores = cross_val_score(
        LightGBMTrainer(**_LGB), X, y, cv=WalkForwardSplit(**_CV), scoring=get_scorer("sharpe")
    )
    np.testing.assert_allclose(scores, out["test_sharpe"])


def test_rfecv_and_permutation_test_with_dates_as_groups(lgb_panel):
    import warnings

    import sklearn
    from sklearn.feature_selection import RFECV
    from sklearn.model_selection import permutation_test_score

    from skquant import LightGBMTrainer, get_scorer
    from skquant.model_selection import NoDatesWarning

    X, y = lgb_panel
    dates = X.index.get_level_values("date")
    selector = RFECV(
        LightGBMTrainer(**_LGB), step=2, cv=WalkForwardSplit(**_CV), scoring=get_scorer("sharpe")
    )
    # RFECV turns X into an array: dates come as groups, to the splitter and, with
    # metadata routing on, to the scorer, which books and annualises by them
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("error", NoDatesWarning)
        selector.fit(X, y, groups=dates)
    assert 1 <= selector.n_features_ <= X.shape[1]
    assert len(selector.cv_results_["split0_test_score"]) == len(selector.cv_results_["n_features"])
    score, perm, pvalue = permutation_test_score(
        LightGBMTrainer(**_LGB),
        X,
        y,
        groups=dates,
        cv=WalkForwardSplit(**_CV),
        n_permutations=2,
        scoring=get_scorer("hit_rate"),
        random_state=0,
    )
    assert 0 <= score <= 1 and perm.shape == (2,) and 0 < pvalue <= 1


def test_rfecv_without_groups_says_x_carries_no_dates(lgb_panel):
    from sklearn.feature_selection import RFECV

    from skquant import LightGBMTrainer

    X, y = lgb_panel
    selector = RFECV(LightGBMTrainer(**_LGB), step=2, cv=WalkForwardSplit(**_CV))
    # RFECV hands the splitter an array: each row counts as a date, 60 rows a window
    with pytest.raises(ValueError, match=r"holds 60 rows.*X carries no dates.*groups=dates"):
        selector.fit(X, y)
    # dates in X's index (not dropped by the caller) or as groups: no such hint
    cv = WalkForwardSplit(**{**_CV, "min_train_samples": 10_000})
    for args in ((X,), (X.to_numpy(), None, X.index.get_level_values("date"))):
        with pytest.raises(ValueError, match="min_train_samples") as info:
            list(cv.split(*args))
        assert "carries no dates" not in str(info.value)


def test_text_dates_are_refused_not_split_by_position():
    """A panel read from CSV without parse_dates has text dates: taken as no dates, its
    rows split by position and one date fell on both sides. Text groups that are not
    ISO dates would sort alphabetically ("15/01" before "16/12" of the year before)."""
    from skquant import make_synthetic_panel, time_train_test_split

    panel = make_synthetic_panel(n_symbols=3, n_days=60, random_state=0)
    text = panel.copy()
    text.index = text.index.set_levels(text.index.levels[0].strftime("%Y-%m-%d"), level=0)
    cv = WalkForwardSplit(train_days=31, test_days=10, step_days=10, min_train_samples=1)
    with pytest.raises(
        ValueError, match="index level 'date' holds text \\(2015-02-02\\).*pd.to_datetime"
    ):
        next(cv.split(text))
    with pytest.raises(ValueError, match="index level 'date' holds text"):
        time_train_test_split(text, test_days=10)
    # one series in row order is split by position, as an array is
    single = pd.DataFrame({"f": np.arange(40.0)}, index=pd.RangeIndex(40, name="time"))
    assert len(list(cv.split(single))) == len(list(cv.split(single.to_numpy())))
    numbers = panel.copy()  # 20150202: yyyymmdd as integers
    numbers.index = numbers.index.set_levels(
        numbers.index.levels[0].strftime("%Y%m%d").astype(int), level=0
    )
    with pytest.raises(ValueError, match="index level 'date' holds numbers \\(20150202\\)"):
        next(cv.split(numbers))

    dates = pd.bdate_range("2023-12-01", periods=40)
    X = pd.DataFrame({"f": np.arange(40.0)})
    cv = WalkForwardSplit(train_days=20, test_days=5, step_days=5, min_train_samples=1)
    with pytest.raises(
        ValueError, match="groups holds dates as text \\('01/01/2024'\\) whose alph"
    ) as caught:
        next(cv.split(X, groups=dates.strftime("%d/%m/%Y")))
    # one rule, one message with the scorers' (utils._time.check_text_dates): it names
    # the call that fixes the parameter, as period_returns' names pd.to_datetime(dates)
    assert "convert them with pd.to_datetime(groups) (dayfirst=True" in str(caught.value)
    expected = [(tr.tolist(), te.tolist()) for tr, te in cv.split(X, groups=dates)]
    in_order = (
        dates.strftime("%Y-%m-%d"),
        np.array(list(dates), dtype=object),
        np.array([d.date() for d in dates], dtype=object),
        pd.period_range("2020-01", periods=40, freq="M"),
        [f"{2010 + i // 4}Q{i % 4 + 1}" for i in range(40)],  # read as dates, in order
        [f"{i:04d}" for i in range(40)],  # ids, not dates
        np.array(range(40), dtype=object),
    )
    for same in in_order:
        assert [(tr.tolist(), te.tolist()) for tr, te in cv.split(X, groups=same)] == expected


def test_time_train_test_split_refuses_y_in_another_row_order():
    from skquant import time_train_test_split

    X = pd.DataFrame({"f": np.arange(50.0)}, index=pd.bdate_range("2024-01-01", periods=50))
    y = pd.Series(np.arange(50.0), index=X.index)
    X_tr, X_te, y_tr, y_te = time_train_test_split(X, y, test_days=10)
    assert X_te.index.equals(y_te.index)
    with pytest.raises(ValueError, match="y's index differs from X's"):
        time_train_test_split(X, y.sample(frac=1, random_state=0), test_days=10)
    parts = time_train_test_split(X, y.to_numpy(), test_days=10)  # an array: by position
    np.testing.assert_array_equal(parts[3], y_te.to_numpy())
    parts = time_train_test_split(X, y.reset_index(drop=True), test_days=10)  # 0..n-1 too
    np.testing.assert_array_equal(parts[3], y_te.to_numpy())


def test_dates_that_mix_time_zones_are_named_so():
    """Time-zone-aware dates beside naive ones are kept by pandas as objects: the split,
    make_labels and the engine said "holds Timestamp objects ... convert it with
    pd.to_datetime", which they already were, never naming the mix."""
    from sklearn.linear_model import Ridge

    from skquant import WalkForwardEngine, make_labels

    aware = pd.date_range("2024-01-01", periods=30, tz="UTC")
    naive = pd.date_range("2024-02-01", periods=30)
    frame = pd.DataFrame(
        {"f": np.arange(60.0), "close": 100 + np.arange(60.0), "fwd_ret": np.zeros(60)},
        index=pd.MultiIndex.from_arrays(
            [pd.Index([*aware, *naive]), ["A"] * 60], names=["date", "symbol"]
        ),
    )
    cv = WalkForwardSplit(train_days=10, test_days=5, min_train_samples=1)
    mixed = "index level 'date' mixes time-zone-aware and naive dates"
    with pytest.raises(ValueError, match=mixed):
        next(cv.split(frame))
    with pytest.raises(ValueError, match=mixed):
        make_labels(frame[["close"]], horizon=1)
    with pytest.raises(ValueError, match=mixed):
        WalkForwardEngine(frame, target="fwd_ret", features=["f"]).run(estimator=Ridge())
    zones = frame.copy()
    zones.index = pd.MultiIndex.from_arrays(
        [pd.Index([*aware, *naive.tz_localize("America/New_York")]), ["A"] * 60],
        names=["date", "symbol"],
    )
    with pytest.raises(ValueError, match=r"dates in several time zones \(America/New_York, UTC\)"):
        next(cv.split(zones))
