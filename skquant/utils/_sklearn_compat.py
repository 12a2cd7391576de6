"""The one place where skquant imports scikit-learn's private helpers.

``_fit_context`` and the parameter-constraint classes are private in scikit-learn
(1.6 through 1.9 all ship them at these paths). Keeping the imports here means a
future move in scikit-learn is fixed in one file.
"""

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
    validate_data,
)

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
