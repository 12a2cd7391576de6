"""The fast paths behind the engine at a million rows give exactly the slow paths' numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skquant import leak_scores, make_synthetic_panel
from skquant.utils._cross_section import group_ranks
from skquant.utils._target import is_binary_target


def _reference_leak_score(data, column, label, horizon):
    """The leak rule written plainly: pandas ranks of every pair's finite rows."""
    frame = data.sort_index(level=["symbol", "date"])
    x = frame[column].to_numpy(dtype=float)
    y = frame[label].to_numpy(dtype=float)
    lagged = frame.groupby(level="symbol")[label].shift(horizon + 1).to_numpy()
    lagged_x = frame.groupby(level="symbol")[column].shift(max(horizon + 1, 21)).to_numpy()

    def spearman(a, b):
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() < 10:
            return np.nan, 0
        ra = pd.Series(a[ok]).rank().to_numpy()
        rb = pd.Series(b[ok]).rank().to_numpy()
        ra, rb = ra - ra.mean(), rb - rb.mean()
        return float(np.dot(ra, rb) / np.sqrt(np.dot(ra, ra) * np.dot(rb, rb))), int(ok.sum())

    known = abs(np.nan_to_num(spearman(x, lagged)[0]))
    earlier, pairs = spearman(lagged_x, y)
    if np.isfinite(earlier):  # beyond its noise, two standard errors of a correlation
        known = min(known, abs(earlier) + 2 / np.sqrt(pairs))
    return max(0.0, abs(spearman(x, y)[0]) - known)


def test_leak_scores_equal_the_rule_with_ties_and_missing_values():
    """Ranks taken from one sort per column equal pandas' average ranks per pair."""
    panel = make_synthetic_panel(n_symbols=6, n_days=200, random_state=3)
    rng = np.random.default_rng(0)
    panel["tied"] = np.round(panel["ret_1"] * 40)  # many ties
    panel.loc[rng.random(len(panel)) < 0.1, "tied"] = np.nan
    panel["leak"] = panel["fwd_ret"].round(3)
    panel = panel.sample(frac=1.0, random_state=0)  # any row order
    panel["centred"] = panel.groupby(level="symbol")["ret_1"].transform(
        lambda s: s.rolling(5, center=True).mean()
    )
    columns = ["ret_1", "vol_21", "tied", "leak", "centred"]
    scores = leak_scores(panel, columns, "fwd_ret", horizon=1)
    for column in columns:
        expected = _reference_leak_score(panel, column, "fwd_ret", 1)
        assert scores[column] == pytest.approx(expected, rel=1e-12, abs=1e-12), column
    assert scores["leak"] > 0.9 > scores["ret_1"]
    short = panel.loc[panel.index.get_level_values("date") < panel.index.levels[0][25]]
    scores = leak_scores(short, columns, "fwd_ret", horizon=1)  # too few pairs 21 dates back
    for column in columns:
        expected = _reference_leak_score(short, column, "fwd_ret", 1)
        assert scores[column] == pytest.approx(expected, rel=1e-12, abs=1e-12), column


def test_group_ranks_without_ties_match_pandas():
    """The no-ties shortcut of the average ranks gives pandas' ranks."""
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(50), rng.integers(1, 40, size=50))
    values = rng.standard_normal(len(group))
    values[rng.random(len(group)) < 0.05] = np.nan
    expected = pd.Series(values).groupby(group).rank().to_numpy()
    np.testing.assert_array_equal(group_ranks(values, group), expected)


@pytest.mark.parametrize(
    ("values", "binary"),
    [
        (np.r_[np.arange(5.0), np.zeros(2000)], False),  # three values early
        (np.r_[np.zeros(1500), np.ones(1500)], True),
        (np.r_[np.zeros(1500), np.ones(1500), 2.0], False),  # a third value late
        (np.r_[np.zeros(1500), np.ones(1500), np.nan], True),
    ],
)
def test_binary_target_on_long_series(values, binary):
    assert is_binary_target(values) is binary
