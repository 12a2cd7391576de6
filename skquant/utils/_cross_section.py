"""Cross-sectional statistics of a panel: one value per date, across its rows.

Rows come grouped into cross-sections by an int ``group`` code, ascending over the
rows (each group's rows contiguous); everything is vectorised with ``np.bincount``
and sorts, no Python loop runs per group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _average_ties(
    sorted_values: np.ndarray, ordinal: np.ndarray, new_group
) -> tuple[np.ndarray, np.ndarray | None]:
    """Ordinal ranks of sorted values with each run of equal values given its mean rank,
    and each value's run length (None when no value is tied)."""
    new_run = new_group | np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    firsts = np.flatnonzero(new_run)
    if len(firsts) == len(ordinal):  # no ties: every rank is its own mean
        return ordinal, None
    lasts = np.r_[firsts[1:] - 1, len(ordinal) - 1]
    lengths = lasts - firsts + 1
    return np.repeat((ordinal[firsts] + ordinal[lasts]) / 2.0, lengths), np.repeat(
        lengths.astype(np.float64), lengths
    )


def group_ranks(
    values: np.ndarray, group: np.ndarray, method: str = "average", return_ties: bool = False
):
    """Rank of each value within its group (1 = smallest; NaN stays NaN).

    ``group`` is ascending over the rows (each group's rows contiguous).
    ``method="average"`` gives tied values their mean rank, ``"first"`` ranks ties in
    row order (as pandas' ``rank``). Groups of similar sizes are sorted as the rows of
    one NaN-padded matrix; very uneven ones by two stable sorts. No per-group loop.
    ``return_ties=True`` (with ``"average"``) also returns how many values of its
    group each value equals, itself included (1 for a NaN).
    """
    n = len(values)
    if n == 0:
        return (np.zeros(0), np.zeros(0)) if return_ties else np.zeros(0)
    ties = None
    kind = "stable" if method == "first" else "quicksort"  # "average" ignores row order
    sizes = np.bincount(group)
    width = int(sizes.max())
    if len(sizes) * width <= 2 * n + 1024:
        pos = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        matrix = np.full((len(sizes), width), np.nan)
        matrix[group, pos] = values
        order = np.argsort(matrix, axis=1, kind=kind)
        ordinal = np.tile(np.arange(1.0, width + 1), len(sizes))
        if method == "average":
            new_row = np.zeros(matrix.size, dtype=bool)
            new_row[::width] = True
            ordinal, lengths = _average_ties(
                np.take_along_axis(matrix, order, 1).ravel(), ordinal, new_row
            )
            if return_ties and lengths is not None:
                placed = np.empty(matrix.shape)
                np.put_along_axis(placed, order, lengths.reshape(matrix.shape), axis=1)
                ties = placed[group, pos]
        placed = np.empty(matrix.shape)
        np.put_along_axis(placed, order, ordinal.reshape(matrix.shape), axis=1)
        ranks = placed[group, pos]
    else:
        order = np.argsort(values, kind=kind)
        small = group.astype(np.uint16) if len(sizes) <= 65536 else group  # radix sort
        order = order[np.argsort(small[order], kind="stable")]
        new_group = np.r_[True, np.diff(group[order]) != 0]
        starts = np.flatnonzero(new_group)
        ordinal = np.arange(1.0, n + 1) - np.repeat(starts, np.diff(np.r_[starts, n]))
        if method == "average":
            ordinal, lengths = _average_ties(values[order], ordinal, new_group)
            if return_ties and lengths is not None:
                ties = np.empty(n)
                ties[order] = lengths
        ranks = np.empty(n)
        ranks[order] = ordinal
    ranks[np.isnan(values)] = np.nan
    if not return_ties:
        return ranks
    if ties is None:
        ties = np.ones(n)
    ties[np.isnan(values)] = 1.0
    return ranks, ties


def cross_section_ic(score, target, group, n_groups: int, known, score_ranks=None) -> np.ndarray:
    """Spearman correlation of score and target across each group's rows (NaN if undefined).

    ``group`` is ascending over the rows; ``known`` marks the rows with both values
    finite (the others are left out); ``score_ranks``, if given, are the ranks of the
    ``known`` scores in their group. A group with fewer than 2 known rows or constant
    values on either side is NaN.
    """
    if score_ranks is None:
        score_ranks = group_ranks(np.where(known, score, np.nan), group)
    mean_rank = ((np.bincount(group, weights=known, minlength=n_groups) + 1.0) / 2.0)[group]
    # one centred column at a time: the arrays are as long as the rows
    cx = np.nan_to_num(score_ranks - mean_rank)
    cy = np.nan_to_num(group_ranks(np.where(known, target, np.nan), group) - mean_rank)
    del mean_rank
    with np.errstate(invalid="ignore", divide="ignore"):
        xy, xx, yy = (
            np.bincount(group, weights=a * b, minlength=n_groups)
            for a, b in ((cx, cy), (cx, cx), (cy, cy))
        )
        ic = xy / np.sqrt(xx * yy)
    return np.where((xx > 0) & (yy > 0), ic, np.nan)


def cross_section_pearson(score, target, group, n_groups: int, known) -> np.ndarray:
    """Pearson correlation of score and target across each group's rows (NaN if undefined).

    As :func:`cross_section_ic` on the values instead of their ranks: ``group`` is
    ascending over the rows, ``known`` marks the rows with both values finite (the
    others are left out), and a group with fewer than 2 known rows or constant values
    on either side is NaN.
    """
    values = np.column_stack([np.where(known, score, 0.0), np.where(known, target, 0.0)])
    counts = np.bincount(group, weights=known, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (
            np.column_stack(
                [np.bincount(group, weights=values[:, j], minlength=n_groups) for j in (0, 1)]
            )
            / counts[:, None]
        )
        centred = np.where(known[:, None], values - means[group], 0.0)
        xy, xx, yy = (
            np.bincount(group, weights=a * b, minlength=n_groups)
            for a, b in ((centred[:, 0], centred[:, 1]), (centred[:, 0],) * 2, (centred[:, 1],) * 2)
        )
        ic = xy / np.sqrt(xx * yy)
    # a constant side leaves rounding residue, not exactly 0: compare with the values' scale
    scale = np.bincount(group, weights=values[:, 0] ** 2, minlength=n_groups)
    scale_t = np.bincount(group, weights=values[:, 1] ** 2, minlength=n_groups)
    tiny = np.finfo(np.float64).eps * 16
    defined = (counts > 1) & (xx > tiny * scale) & (yy > tiny * scale_t)
    return np.where(defined, ic, np.nan)


def _by_date(y_true, y_pred, dates, statistic) -> pd.Series:
    """``statistic(pred, true, codes, n_dates, known)`` per date, as a Series by sorted date."""
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    codes, distinct = pd.factorize(np.asarray(dates), sort=True)
    order = np.argsort(codes, kind="stable")
    t, p, codes = t[order], p[order], codes[order]
    known = ~(np.isnan(t) | np.isnan(p))
    return pd.Series(statistic(p, t, codes, len(distinct), known), index=distinct)


def ic_by_date(y_true: np.ndarray, y_pred: np.ndarray, dates: np.ndarray) -> pd.Series:
    """Spearman correlation of ``y_true`` and ``y_pred`` across the rows of each date.

    Rows may come in any order; a row with NaN on either side is left out. Returns a
    Series by sorted date, NaN on a date with fewer than 2 rows or constant values on
    either side.
    """
    return _by_date(y_true, y_pred, dates, cross_section_ic)


def pearson_ic_by_date(y_true: np.ndarray, y_pred: np.ndarray, dates: np.ndarray) -> pd.Series:
    """Pearson correlation of ``y_true`` and ``y_pred`` across the rows of each date.

    The linear counterpart of :func:`ic_by_date` (same rows, same NaN rules): the
    "IC" of a leaderboard, where ``ic_by_date`` is its "rank IC".
    """
    return _by_date(y_true, y_pred, dates, cross_section_pearson)
