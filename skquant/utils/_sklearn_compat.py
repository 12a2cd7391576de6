"""The one place where skquant imports scikit-learn's private helpers.

``_fit_context`` and the parameter-constraint classes are private in scikit-learn
(1.6 through 1.9 all ship them at these paths). Keeping the imports here means a
future move in scikit-learn is fixed in one file.
"""

import re

import numpy as np
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
    no column of a 200-column frame)."""
    try:
        return _validate_data(_estimator, X, y, **check_params)
    except (ValueError, TypeError) as exc:
        # only numpy's failed conversion to numbers: another error (a missing column,
        # an infinite y) is scikit-learn's to tell, and a dtype=None caller (the
        # cascade, whose stages may encode text) does not ask for numbers
        dtype = check_params.get("dtype", "numeric")
        if dtype is None or dtype is object or not _CONVERSION_ERROR.search(str(exc)):
            raise
        found = _first_non_number(X)
        if found is None:
            raise
        column, value, column_dtype = found
        raise ValueError(
            f"X's column {column!r} (dtype {column_dtype}) holds {value!r}, which is not a "
            "number: the features must be numeric. Encode it (a column per category) "
            "or drop it."
        ) from exc


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
