"""The fitted stack of :class:`~skquant.models.EnsembleTrainer` and its helpers.

:class:`_FittedStack` is the fitted stacked model (bases refitted on all rows plus the
meta-learner) that :class:`~skquant.models.EnsembleTrainer` exposes as ``model_``. Its
meta-learner is trained on :func:`skquant.model_selection.chronological_oof_predict`.
"""

from __future__ import annotations

import contextlib

import numpy as np
from threadpoolctl import threadpool_limits

from skquant.utils._rows import align_proba as _align_proba


def openmp_threads(n_jobs):
    """Limit OpenMP threads (HistGradientBoosting's) to ``n_jobs`` when it is positive.

    On a busy machine, OpenMP's default of one thread per core makes tiny fits many
    times slower; ``n_jobs=None`` or ``-1`` keeps the library default.
    """
    if n_jobs is None or n_jobs < 1:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n_jobs), user_api="openmp")


class _FittedStack:
    """A fitted stack: base models refitted on all rows and a meta-learner on top.

    Picklable and joblib-friendly; ``predict`` (and ``predict_proba`` for a
    classifier stack) take the same features the base models were fitted on.

    Parameters
    ----------
    estimators : list of (str, estimator)
        Fitted base models.
    final_estimator : estimator
        Fitted meta-learner, trained on out-of-fold base predictions only.
    method : str
        The base-model method feeding the meta-learner (``"predict"`` or
        ``"predict_proba"``).
    passthrough : bool, default=False
        Whether the raw features are also given to the meta-learner.
    classes : ndarray, default=None
        All class labels (sorted) of a classifier stack; ``predict_proba`` has one
        column per class even if the meta-learner's rows lacked one.
    n_jobs : int, default=None
        OpenMP threads of the base models at predict time (None: library default).

    Attributes
    ----------
    named_estimators_ : dict
        Base models by name.
    classes_ : ndarray
        Class labels of a classifier stack (from the meta-learner).
    """

    def __init__(
        self, estimators, final_estimator, method, passthrough=False, classes=None, n_jobs=None
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.method = method
        self.passthrough = passthrough
        self.classes = classes
        self.n_jobs = n_jobs

    @property
    def named_estimators_(self):
        return dict(self.estimators)

    @property
    def final_estimator_(self):
        return self.final_estimator

    @property
    def classes_(self):
        if self.classes is not None:
            return self.classes
        return self.final_estimator.classes_

    def transform(self, X):
        """The meta-learner's inputs: the base models' predictions, column-stacked."""
        with openmp_threads(self.n_jobs):
            predictions = [getattr(est, self.method)(X) for _, est in self.estimators]
        return stack_features(predictions, X, self.passthrough)

    def predict(self, X):
        """Predict with the meta-learner on the base models' predictions."""
        return self.final_estimator.predict(self.transform(X))

    def predict_proba(self, X):
        """Class probabilities of the meta-learner (classifier stacks only)."""
        if not hasattr(self.final_estimator, "predict_proba"):
            raise AttributeError("This stack's meta-learner has no predict_proba.")
        proba = self.final_estimator.predict_proba(self.transform(X))
        if self.classes is None:
            return proba
        return _align_proba(proba, self.final_estimator.classes_, self.classes)


def stack_features(predictions, X=None, passthrough=False) -> np.ndarray:
    """Concatenate base predictions column-wise into meta-learner inputs.

    Binary class probabilities keep only the second column (the first is one minus
    it), as scikit-learn's stacking does, so the meta-learner's inputs are not
    collinear; multiclass probabilities keep every column.
    """
    columns = []
    for pred in predictions:
        pred = np.asarray(pred, dtype=float)
        if pred.ndim == 1:
            pred = pred[:, None]
        elif pred.shape[1] == 2:
            pred = pred[:, 1:]
        columns.append(pred)
    if passthrough and X is not None:
        columns.append(np.asarray(X, dtype=float))
    return np.hstack(columns)
