"""The shared base of the feature trainers that need no target (regimes, change points).

A feature trainer is fitted on ``X`` alone (``y`` is accepted and ignored, as in
scikit-learn's transformers) and its ``train(X_train, ...)`` returns the fitted
features of ``X_train``, as ``fit_transform`` does (see ``API.md``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin

from skquant.models._base import BaseTrainer
from skquant.utils._docs import fill_doc
from skquant.utils._panel import apply_per_series, series_positions
from skquant.utils._sklearn_compat import (
    TransformerTags,
    _fit_context,
    check_is_fitted,
    validate_data,
)
from skquant.utils._target import check_labels_not_features
from skquant.utils._time import dates_of, warn_rows_as_one_series
from skquant.utils._variant import in_cloning_variant


class BaseFeatureTrainer(TransformerMixin, BaseTrainer):
    """Base class of the unsupervised, transforming trainers (not for direct use).

    Subclasses implement ``_fit_features(X, config, series)`` (sets ``model_`` and the
    fitted state; ``series`` are the row positions of each symbol in time order, see
    :func:`~skquant.utils._panel.series_positions`), ``_transform(X)`` (the feature
    array of one series) and ``_output_names()`` (its column names).

    ``fit`` refuses a column of ``X`` that holds ``y`` and warns about label-like
    column names, as the supervised trainers do: a feature model fitted on a label
    hands it on to the model after it (a regime mixture on ``fwd_ret_5`` before a
    LightGBM lifted its out-of-sample R2 from about 0 to 0.77).

    A subclass whose rows depend on earlier rows (a filter, a trailing window) sets
    ``_along_time = True``: ``transform`` then runs ``_transform`` once per symbol of
    a (date, symbol) panel, in date order, so a symbol's features never depend on
    another symbol's rows or on the row order.
    """

    _along_time = False
    _train_takes_X_val = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags()
        tags.target_tags.required = False
        return tags

    @in_cloning_variant
    @_fit_context(prefer_skip_nested_validation=True)
    @fill_doc
    def fit(self, X, y=None):
        """Fit the feature model on ``X``.

        {fit.X_rows}
        y : array-like of shape (n_samples,), default=None
            Not fitted (present for API consistency: a Pipeline passes its target); a
            column of ``X`` that holds it raises, as in a supervised trainer's fit
            (see ``check_labels_not_features``: label-like column names warn, with or
            without ``y``).

        {returns.self}
        """
        check_labels_not_features(X, y)
        config = self._resolve_config()
        Xa = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self.config_ = config
        self._fit_features(Xa, config, self._series_of(X, len(Xa)))
        return self

    def train(self, X_train, y_train=None, X_val=None, y_val=None):
        """Fit on ``X_train`` and return its features, as ``fit_transform`` does.

        The return rule of a feature trainer: ``train`` returns the features of
        ``X_train`` (a supervised trainer's returns the fitted trainer). ``y_train``
        reaches ``fit`` (which ignores it unless the model is conditional, see
        ``GANTrainer``); ``X_val`` is the early-stopping set of a model that takes one
        (``_train_takes_X_val``); ``y_val`` is accepted for the guide's uniform
        ``trainer.train(...)`` call and ignored.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            The features of ``X_train``.
        """
        fit_params = {"X_val": X_val} if self._train_takes_X_val else {}
        return self.fit(X_train, y_train, **fit_params).transform(X_train)

    def _validate_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _per_series(self, func, X) -> np.ndarray:
        """``func`` on the validated rows of each symbol of ``X`` in date order."""
        Xa = self._validate_X(X)
        return apply_per_series(func, Xa, self._series_of(X, len(Xa)))

    def _series_of(self, X, n_rows: int) -> list[np.ndarray]:
        """:func:`~skquant.utils._panel.series_positions`, with a warning when a model
        that runs along time is given rows without dates (one series in row order)."""
        if self._along_time and n_rows > 1 and dates_of(X) is None:
            warn_rows_as_one_series(f"{type(self).__name__}'s causal features")
        return series_positions(X, n_rows)

    @fill_doc
    def transform(self, X):
        """The features of ``X``, one row per row of ``X``.

        {parameters.X}

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            Columns named by :meth:`get_feature_names_out`, rows in ``X``'s order.
        """
        if self._along_time:
            return self._per_series(self._transform, X)
        return self._transform(self._validate_X(X))

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and return its features (same result as ``fit(X).transform(X)``)."""
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Ignored (the output columns do not depend on the input names); checked
            against ``feature_names_in_`` when given.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self)
        if input_features is not None:
            given = np.asarray(input_features, dtype=object)
            if len(given) != self.n_features_in_ or (
                hasattr(self, "feature_names_in_")
                and not np.array_equal(given, self.feature_names_in_)
            ):
                raise ValueError("input_features is not equal to feature_names_in_.")
        return np.asarray(self._output_names(), dtype=object)

    def _fit_features(
        self, X: np.ndarray, config: dict, series: list[np.ndarray]
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    def _transform(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _output_names(self) -> list[str]:  # pragma: no cover
        raise NotImplementedError


def select_columns(estimator, columns, param: str = "features") -> np.ndarray:
    """Positions of ``columns`` (names or positions; None = all) among the fitted inputs.

    Raises a ``ValueError`` naming ``param`` for an unknown name or position.
    """
    n = estimator.n_features_in_
    if columns is None:
        return np.arange(n)
    single = isinstance(columns, (str, int, np.integer))
    items = [columns] if single else list(columns)
    if not items:
        raise ValueError(f"{param} must name at least one column, got an empty list.")
    names = getattr(estimator, "feature_names_in_", None)
    out = []
    for item in items:
        if isinstance(item, str):
            if names is None or item not in names:
                valid = "no names: X was not a DataFrame" if names is None else list(names)
                raise ValueError(f"{param}: unknown column {item!r}; valid columns: {valid}.")
            out.append(int(np.flatnonzero(names == item)[0]))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -n <= item < n:
                raise ValueError(f"{param}: column position {item} out of range for {n} columns.")
            out.append(int(item) % n)
        else:
            raise ValueError(f"{param} must hold column names or integer positions, got {item!r}.")
    return np.asarray(out, dtype=np.intp)
