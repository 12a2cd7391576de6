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


def validate_data(_estimator, /, X="no_validation", y="no_validation", **check_params):
    """scikit-learn's ``validate_data``; a frame ``X`` whose column cannot become a
    number is named in the error ("could not convert string to float: 'tech'" named
    no column of a 200-column frame), a pandas ``category`` of text and a date column
    too (numpy's "could not be promoted by DateTime64DType" named none either)."""
    # a dtype=None caller (the cascade, whose stages may encode text) does not ask
    # for numbers
    dtype = check_params.get("dtype", "numeric")
    numbers = dtype is not None and dtype is not object
    if numbers:
        _refuse(_first_non_number_dtype(X))
    try:
        return _validate_data(_estimator, X, y, **check_params)
    except (ValueError, TypeError) as exc:
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
    nanoseconds); its first value that is not missing. None for anything else (a
    ``category`` of numbers is numbers)."""
    dtypes = getattr(X, "dtypes", None)
    if not isinstance(X, pd.DataFrame) or dtypes is None:
        return None
    for position, column_dtype in enumerate(dtypes):
        if isinstance(column_dtype, pd.CategoricalDtype):
            if pd.api.types.is_numeric_dtype(column_dtype.categories.dtype):
                continue
        elif not _is_dated(column_dtype):
            continue
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
