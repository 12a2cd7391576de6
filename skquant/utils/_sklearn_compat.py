"""The one place where skquant imports scikit-learn's private helpers.

``_fit_context`` and the parameter-constraint classes are private in scikit-learn
(1.6 through 1.9 all ship them at these paths). Keeping the imports here means a
future move in scikit-learn is fixed in one file.
"""

import re

import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils._tags import (
    ClassifierTags,
    RegressorTags,
    Tags,
    TransformerTags,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
)
from sklearn.utils.validation import validate_data as _validate_data

__all__ = [
    "ClassifierTags",
    "HasMethods",
    "Hidden",
    "Interval",
    "Options",
    "RegressorTags",
    "StrOptions",
    "Tags",
    "TransformerTags",
    "_check_sample_weight",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "check_is_fitted",
    "validate_data",
    "validate_parameter_constraints",
    "validate_params",
]


_CONVERSION_ERROR = re.compile(
    r"could not convert|float\(\) argument|must be a string or a (real )?number|"
    r"Unable to convert|unsupported operand|not supported between|"
    r"setting an array element with a sequence"
)


# scikit-learn's refusal of NaN or infinity in X (not y: its name is the target's)
_NOT_FINITE = re.compile(r"Input X contains (NaN|infinity)")

# the columns an error lists by name; more are counted
_COLUMNS_NAMED = 5


def validate_data(_estimator, /, X="no_validation", y="no_validation", **check_params):
    """scikit-learn's ``validate_data``; a frame ``X`` whose column cannot become a
    number is named in the error ("could not convert string to float: 'tech'" named
    no column of a 200-column frame), a pandas ``category`` of text and a date column
    too (numpy's "could not be promoted by DateTime64DType" named none either).

    When NaN or infinity is refused, the frame's columns holding them are named, with
    how many rows and the first row (by date when the index has dates), before
    scikit-learn's "Input X contains NaN." (which named no column of make_features'
    warm-up rows). Only the error path reads the columns."""
    # a dtype=None caller (the cascade, whose stages may encode text) does not ask
    # for numbers
    dtype = check_params.get("dtype", "numeric")
    numbers = dtype is not None and dtype is not object
    if numbers:
        _refuse(_first_non_number_dtype(X))
    try:
        return _validate_data(_estimator, X, y, **check_params)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ValueError) and _NOT_FINITE.match(str(exc)):
            finite = check_params.get("ensure_all_finite", check_params.get("force_all_finite"))
            where = _non_finite_columns(X, nan=finite != "allow-nan")
            if where is None:
                raise
            raise ValueError(f"X's {where}: {exc}") from exc
        # only numpy's failed conversion to numbers: another error (a missing column,
        # an infinite y) is scikit-learn's to tell
        if not numbers or not _CONVERSION_ERROR.search(str(exc)):
            raise
        found = _first_non_number(X)
        if found is None:
            raise
        _refuse(found, exc)


def _refuse(found, cause=None):
    """Raise the error naming ``found``'s ``(column, value, dtype)``; None: nothing."""
    if found is None:
        return
    column, value, column_dtype = found
    advice = (
        "Derive numbers from it (a day of the week, the days since an event) or drop it."
        if _is_dated(column_dtype)
        else "Encode it (a column per category) or drop it."
    )
    raise ValueError(
        f"X's column {column!r} (dtype {column_dtype}) holds {value!r}, which is not a "
        f"number: the features must be numeric. {advice}"
    ) from cause


def _first_non_number_dtype(X):
    """``(column, value, dtype)`` of the first column of a frame ``X`` whose dtype is
    no number although numpy might not say so: a pandas ``category`` of text (kept
    as objects that fail later, in the model) and a date, duration or period (which
    fail with numpy's "could not be promoted", or a series silently becomes
    nanoseconds); its first value that is not missing (of a category, its first
    that is not a number). None for anything else (a ``category`` of numbers, or of
    text that all reads as numbers, '0', '1', is numbers)."""
    dtypes = getattr(X, "dtypes", None)
    if not isinstance(X, pd.DataFrame) or dtypes is None:
        return None
    for position, column_dtype in enumerate(dtypes):
        values = None
        if isinstance(column_dtype, pd.CategoricalDtype):
            categories = column_dtype.categories
            if pd.api.types.is_numeric_dtype(categories.dtype):
                continue
            if not _is_dated(categories.dtype):  # numbers as text ('0', '1') are numbers
                bad = categories[pd.isna(pd.to_numeric(categories, errors="coerce"))]
                if not len(bad):
                    continue
                column = X.iloc[:, position]
                values = column[column.isin(bad)]
        elif not _is_dated(column_dtype):
            continue
        if values is None:
            values = X.iloc[:, position].dropna()
        value = values.iloc[0] if len(values) else None
        return X.columns[position], value, column_dtype
    return None


def _is_dated(dtype) -> bool:
    """Whether ``dtype`` is a date (with or without a time zone), a duration or a period."""
    return isinstance(dtype, pd.PeriodDtype) or (
        not isinstance(dtype, pd.CategoricalDtype)
        and (
            pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
        )
    )


def _first_non_number(X):
    """``(column, value, dtype)`` of the first column of a frame ``X`` that does not
    convert to float64, with its first such value; None for anything else."""
    columns, dtypes = getattr(X, "columns", None), getattr(X, "dtypes", None)
    if columns is None or dtypes is None:
        return None
    for position, column in enumerate(columns):
        values = X.iloc[:, position]
        try:
            np.asarray(values, dtype=np.float64)
        except (ValueError, TypeError):
            for value in values:
                try:
                    float(value)
                except (ValueError, TypeError):
                    return column, value, dtypes.iloc[position]
            return column, values.iloc[0], dtypes.iloc[position]
    return None


def _non_finite_columns(X, *, nan: bool = True, name: str = "X") -> str | None:
    """Where a frame ``X`` is not finite, in words: ``"column 'vol_21' holds NaN in
    20 rows (first on 2020-01-01, AAPL)"``, one clause a column (the first
    ``_COLUMNS_NAMED``, then a count). Infinity is counted always, NaN when ``nan``.
    None when ``X`` is no frame or every column is finite (or cannot become numbers).

    The first row is the earliest date's when the index has dates (a warm-up starts
    there whatever the row order), else the first position (``X.iloc[i]``, ``X`` said
    as ``name``).
    """
    from skquant.utils._time import date_level  # which imports this module

    if not isinstance(X, pd.DataFrame):
        return None
    level = 0 if isinstance(X.index, pd.DatetimeIndex) else date_level(X.index)
    clauses = []
    for position, column in enumerate(X.columns):
        try:
            values = X.iloc[:, position].to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError):  # not numbers: another error names it
            continue
        kinds = [("infinity", np.isinf(values))]
        if nan:
            kinds.insert(0, ("NaN", np.isnan(values)))
        counts = [(kind, int(mask.sum())) for kind, mask in kinds if mask.any()]
        if not counts:
            continue
        rows = np.flatnonzero(np.logical_or.reduce([mask for _, mask in kinds]))
        held = " and ".join(f"{kind} in {_rows(count)}" for kind, count in counts)
        clauses.append(f"column {column!r} holds {held} ({_first_row(X.index, rows, level, name)})")
    if not clauses:
        return None
    more = len(clauses) - _COLUMNS_NAMED
    named = "; ".join(clauses[:_COLUMNS_NAMED])
    return named if more <= 0 else f"{named}; and {more} more column{'s' * (more > 1)}"


def _rows(count: int) -> str:
    return f"{count} row{'s' * (count != 1)}"


def _first_row(index, rows: np.ndarray, level, name: str) -> str:
    """``"first on 2020-01-01, AAPL"`` (the earliest of ``rows`` by date, then its other
    index levels) or ``"first at X.iloc[3]"`` without dates (``level`` None)."""
    if level is None:
        return f"first at {name}.iloc[{rows[0]}]"
    dates = index.get_level_values(level)[rows]
    row = rows[np.argmin(np.where(dates.isna(), np.iinfo(np.int64).max, dates.asi8))]
    labels = index[row] if isinstance(index, pd.MultiIndex) else (index[row],)
    labels = [labels[level], *(part for i, part in enumerate(labels) if i != level)]
    return "first on " + ", ".join(_label(part) for part in labels)


def _label(value) -> str:
    """An index value in words: a midnight Timestamp as its day."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date()) if value.tz is None else f"{value.date()} {value.tz}"
    return str(value)
