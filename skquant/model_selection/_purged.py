"""Purged k-fold and combinatorial purged cross-validation over distinct dates.

Lopez de Prado (2018), Advances in Financial Machine Learning, ch. 7 (purging and
embargo) and ch. 12 (combinatorial purged cross-validation). The backtest paths of
:class:`CombinatorialPurgedCV` follow skfolio's definition
(``skfolio/model_selection/_combinatorial.py``, ``recombined_paths``): the splits are
the combinations of test blocks in ``itertools.combinations`` order, and the j-th
split (in that order) that tests block b serves block b on path j.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import sys
import threading
import warnings
import weakref
from collections.abc import Iterator
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import indexable

from skquant.model_selection._base import BaseTimeSplitter, period_codes
from skquant.utils._docs import fill_doc
from skquant.utils._sklearn_compat import Interval, _num_samples
from skquant.utils._warnings import caller_stacklevel, first_frame_outside, frames_within

__all__ = ["CombinatorialPurgedCV", "PurgedKFold"]


def _test_and_train_dates(
    test_dates: np.ndarray, label_horizon: int, embargo_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean date masks ``(test, train)`` from the test-date mask.

    A non-test date ``d`` is purged when a test date lies in ``(d, d + label_horizon]``
    (its label window reaches into a test block) and embargoed when one lies in
    ``[d - embargo_days, d)`` (it is among the ``embargo_days`` dates after a test
    block); every other non-test date trains.
    """
    counts = np.concatenate([[0], np.cumsum(test_dates)])
    n = len(test_dates)
    position = np.arange(n)
    ahead = counts[np.minimum(position + label_horizon + 1, n)] - counts[position + 1]
    behind = counts[position] - counts[np.maximum(position - embargo_days, 0)]
    train = ~test_dates & (ahead == 0) & (behind == 0)
    return test_dates, train


def _fold_consumer(splitter) -> str | None:
    """Which scikit-learn tool reads ``splitter``'s folds to fit on their test parts.

    The reader is the first frame above the splitter's own ``split`` and ``_split``
    (a subclass's overrides that re-yield them included: every frame whose ``self``
    is ``splitter``). Returns ``"cross_val_predict"`` for scikit-learn's
    ``cross_val_predict`` (which ``StackingRegressor`` and ``StackingClassifier`` call,
    subclasses included), ``"calibration-oof"`` when ``CalibratedClassifierCV``
    (``ensemble=False``) calls it, ``"calibration"`` when ``CalibratedClassifierCV``
    (``ensemble=True``, the default) loops over the folds itself, else ``None``
    (scoring, searching, a user's loop).
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_locals.get("self") is splitter:
        frame = frame.f_back
    if frame is None:  # pragma: no cover - a splitter method at the top of the stack
        return None
    module = frame.f_globals.get("__name__", "")
    if module == "sklearn.calibration":
        return "calibration"
    if frame.f_code.co_name == "cross_val_predict" and module.startswith("sklearn."):
        caller = first_frame_outside(frame.f_back, ("sklearn.utils",))  # validate_params'
        if caller is not None and caller.f_globals.get("__name__") == "sklearn.calibration":
            return "calibration-oof"
        return "cross_val_predict"
    return None


def _copied_for_first_base_model(frame) -> bool:
    """Whether scikit-learn's stacking (``frame``: the loop that copies the splitter)
    copies it for its first base model: once per ``fit``, not once per base model
    (n_jobs=1 said it 6 times for 6 base models; the later copies of n_jobs > 1 are
    made in joblib's dispatch thread, away from the user's line). True when the loop's
    variables are not the ones expected (warn rather than stay silent).
    """
    stack, est = frame.f_locals.get("self"), frame.f_locals.get("est")
    estimators = getattr(stack, "estimators", None)
    if est is None or not isinstance(estimators, list):
        return True
    for pair in estimators:
        base = pair[1] if isinstance(pair, tuple) and len(pair) == 2 else None
        if not (isinstance(base, str) and base == "drop"):
            return base is est
    return True


# a copy whose parameter-only warnings were given when it was made, marked with the id
# of the process that gave them; its split skips them once (see __deepcopy__)
_WARNED_WHEN_COPIED = "_warned_when_copied"

# the joblib Parallel objects (one per search fit or cross_validate call) of the
# scikit-learn tools whose clones of a CalibratedClassifierCV were warned about
_SAID_FOR_CALIBRATION: weakref.WeakSet = weakref.WeakSet()


def _calibration_consumer(frame, splitter) -> str | None:
    """How a ``CalibratedClassifierCV`` will read ``splitter``'s folds, when
    scikit-learn's ``clone`` (``frame``: the frame that deep-copies ``splitter``) is
    cloning that calibrator and ``splitter`` is its ``cv``: ``"calibration"``
    (``ensemble=True``), ``"calibration-oof"`` (``ensemble=False``, or ``"auto"``
    with a ``FrozenEstimator``). None otherwise, or when the calibrator's
    ``ensemble`` is not one of those (its ``split`` then warns itself).
    """
    from sklearn.calibration import CalibratedClassifierCV

    for f in frames_within(frame, ("sklearn.base",)):
        calibrator = f.f_locals.get("estimator")
        if isinstance(calibrator, CalibratedClassifierCV) and calibrator.cv is splitter:
            ensemble = calibrator.ensemble
            if isinstance(ensemble, str) and ensemble == "auto":
                ensemble = type(calibrator.estimator).__name__ != "FrozenEstimator"
            if isinstance(ensemble, (bool, np.bool_)):
                return "calibration" if ensemble else "calibration-oof"
            return None
    return None


def _parallel_runs(frame) -> tuple[list, list]:
    """The joblib ``Parallel`` objects of the scikit-learn tools copying from
    ``frame`` (between it and the user's code: frames of skquant, scikit-learn,
    joblib, contextlib): ``(held, running)``. ``held`` are those a scikit-learn
    frame keeps in a variable (a search's ``fit`` makes one per call and keeps it
    through the refit; ``cross_validate`` one per call); ``running`` are those whose
    methods are on the stack (joblib's dispatch thread of ``n_jobs > 1`` holds no
    scikit-learn frame that keeps one). A user's own ``Parallel`` around a ``clone``
    is in neither list when no scikit-learn frame keeps it.
    """
    from joblib import Parallel

    held, running = [], []
    for f in frames_within(frame, ("skquant", "sklearn", "joblib", "contextlib")):
        local = f.f_locals
        if f.f_globals.get("__name__", "").startswith("sklearn."):
            held += [v for k, v in local.items() if k != "self" and isinstance(v, Parallel)]
        if isinstance(local.get("self"), Parallel):
            running.append(local["self"])
    return held, running


def _calibration_runs(frame) -> tuple[list, bool]:
    """The runs a scikit-learn frame keeps (``held``, see :func:`_parallel_runs`) of
    the tools copying from ``frame``, and whether the calibration warnings were given
    for one of them, or one of those ``running``, already."""
    held, running = _parallel_runs(frame)
    return held, any(run in _SAID_FOR_CALIBRATION for run in held + running)


def _marked_elsewhere(marker) -> bool:
    """Whether a calibration clone's mark was set in another process (a worker)."""
    return type(marker) is int and marker != os.getpid()


def _warned_for_this_split(marker) -> bool:
    """Whether the copy a split runs on (its mark ``marker``, popped) was warned about
    for this split: a stacking copy (``True``, split by that fit alone); a calibration
    clone marked in another process (it runs in a worker of the run that warned), or
    in this one while that run is on the stack. A clone a run left behind (the search
    ``cross_validate(..., return_estimator=True)`` returns holds one) warns when the
    user fits it later."""
    if marker is True:
        return True
    if type(marker) is not int:
        return False
    if _marked_elsewhere(marker):
        return True
    return _calibration_runs(sys._getframe(2))[1]


class _BasePurgedSplitter(BaseTimeSplitter):
    """Contiguous date blocks; each test set a combination of blocks, purged and embargoed."""

    _horizon_param = "label_horizon"  # the purge before each test block

    def _n_blocks(self) -> int:
        raise NotImplementedError  # pragma: no cover - abstract

    def _n_blocks_name(self) -> str:
        raise NotImplementedError  # pragma: no cover - abstract

    def _combinations(self) -> list[tuple[int, ...]]:
        raise NotImplementedError  # pragma: no cover - abstract

    def _blocks(self, n_dates: int) -> np.ndarray:
        """Each date's block: ``n_blocks`` contiguous runs, sizes differing by at most one."""
        n_blocks = self._n_blocks()
        if n_dates < n_blocks:
            raise ValueError(
                f"{self._n_blocks_name()}={n_blocks} needs at least {n_blocks} distinct "
                f"dates (one per block); the data has {n_dates}."
            )
        block = np.empty(n_dates, dtype=np.intp)
        for b, part in enumerate(np.array_split(np.arange(n_dates), n_blocks)):
            block[part] = b
        return block

    def _test_sets_partition(self) -> bool:
        """Whether each date is in exactly one test set (as ``cross_val_predict`` needs)."""
        return getattr(self, "n_test_folds", 1) == 1

    def __deepcopy__(self, memo: dict) -> _BasePurgedSplitter:
        """Copy; warn here, in the caller's process, when scikit-learn's stacking copies
        the splitter for its ``cross_val_predict`` calls, or a search or
        ``cross_validate`` clones a ``CalibratedClassifierCV`` whose ``cv`` it is.

        ``StackingRegressor`` and ``StackingClassifier`` hand each base model's
        ``cross_val_predict`` a deep copy, which ``n_jobs > 1`` runs (and splits) in
        a worker process: the warnings ``split`` gave there were printed raw by each
        worker, from ``multiprocessing/process.py``, and never reached the caller's
        filters or ``pytest.warns`` (n_jobs=1 gave them at the user's ``fit`` line).
        The warnings that depend on the parameters only are given here instead, once
        per ``fit`` (on the first base model's copy), for every ``n_jobs``, and the
        copies' ``split`` does not repeat them.

        A search (``GridSearchCV``...) or ``cross_validate`` of a
        ``CalibratedClassifierCV`` clones it, and ``clone`` deep-copies its ``cv``,
        once per candidate and fold and for the refit: n_jobs=1 said the calibration
        warning once per fold and again for the refit (4 for 3 folds), n_jobs=2 raw
        in the workers. They are given here instead, once per call of the tool (its
        ``Parallel`` object), at the caller's line, and each copy's next ``split``
        does not repeat them. A clone made elsewhere (a user's ``clone``) is not
        marked: its ``split`` warns at the ``fit`` as before.
        """
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        for name, value in self.__dict__.items():
            if name != _WARNED_WHEN_COPIED:
                setattr(copied, name, copy.deepcopy(value, memo))
        frame = first_frame_outside(sys._getframe(1), ("copy",))
        if frame is not None and frame.f_globals.get("__name__") == "sklearn.ensemble._stacking":
            setattr(copied, _WARNED_WHEN_COPIED, True)  # split by that fit only
            if _copied_for_first_base_model(frame):
                self._warn_embargo_below_horizon(also=("copy",))
                self._warn_if_folds_feed_a_fit("cross_val_predict", also=("copy",))
        elif frame is not None:
            consumer = _calibration_consumer(frame, self)
            if consumer is not None:
                self._warn_once_per_calibration_run(frame, consumer, copied)
        return copied

    def _warn_once_per_calibration_run(self, frame, consumer: str, copied) -> None:
        """Give the parameter-only warnings for a clone of a ``CalibratedClassifierCV``
        (``consumer``, see :func:`_calibration_consumer`) once per run of the
        scikit-learn tool that clones it, and mark ``copied`` so that its ``split``
        does not repeat them. Without such a run (a user's ``clone``), or in a thread
        other than the main one before the run has warned, nothing is marked and the
        copy's ``split`` warns itself (more warnings, never fewer)."""
        held, said = _calibration_runs(frame)
        marker = getattr(self, _WARNED_WHEN_COPIED, None)
        if _marked_elsewhere(marker):
            # a copy of a copy warned about in another process (a search that
            # cross_validate cloned, now in a worker): its clones keep that mark, so
            # that, sent back to that process (return_estimator=True), they warn there
            # again when a user fits them outside the run
            setattr(copied, _WARNED_WHEN_COPIED, marker)
            return
        if said:
            setattr(copied, _WARNED_WHEN_COPIED, os.getpid())  # a later clone of the run
            return
        if not held or threading.current_thread() is not threading.main_thread():
            return
        for run in held:
            _SAID_FOR_CALIBRATION.add(run)
        setattr(copied, _WARNED_WHEN_COPIED, os.getpid())
        self._warn_embargo_below_horizon(also=("copy",))
        self._warn_if_folds_feed_a_fit(consumer, also=("copy",))

    def _warn_embargo_below_horizon(self, also: tuple[str, ...] = ()) -> None:
        """Warn when ``embargo_days`` leaves training labels overlapping a test block's."""
        if self.embargo_days < self.label_horizon - 1:
            # The last test date's label spans the label_horizon periods after it; a
            # training date d periods later shares label_horizon - d of them.
            warnings.warn(
                f"embargo_days={self.embargo_days} is below label_horizon - 1 = "
                f"{self.label_horizon - 1}: the labels of the training dates just after "
                "each test block overlap the last test labels' window, so the "
                "out-of-sample score is inflated. Use embargo_days >= "
                f"{self.label_horizon - 1} (the label horizon, {self.label_horizon}, is "
                "what the walk-forward tools' embargo_days='auto' uses).",
                UserWarning,
                stacklevel=caller_stacklevel(also),
            )

    def _warn_if_folds_feed_a_fit(
        self, consumer: str | None = None, also: tuple[str, ...] = ()
    ) -> None:
        """Warn when scikit-learn fits a second model on the folds' test predictions.

        Every split but the last trains on dates after its test rows, which is fine
        for a score but not for predictions that something is fitted on: a stacking
        meta-learner (``cross_val_predict``) or a calibrator (``CalibratedClassifierCV``,
        either ``ensemble``) learns from a model that had seen the future. ``consumer``
        is the reader of the folds when known, else found from the call stack.
        """
        if consumer is None:
            consumer = _fold_consumer(self)
        # cross_val_predict refuses test sets that do not partition the dates itself
        if consumer is None or (consumer != "calibration" and not self._test_sets_partition()):
            return
        name = type(self).__name__
        if consumer == "cross_val_predict":
            message = (
                f"{name} is giving folds to cross_val_predict (which "
                "StackingRegressor and StackingClassifier call): every block but the last "
                "is predicted by a model trained on later dates too, so these "
                "out-of-fold predictions, a meta-learner fitted on them or a backtest of "
                "them have seen the future. Use chronological_oof_predict (expanding, "
                "time-ordered folds), EnsembleTrainer or MetaLearningTrainer for stacking, "
                "and WalkForwardSplit or WalkForwardEngine for a backtest."
            )
        else:
            how = "through cross_val_predict, " if consumer == "calibration-oof" else ""
            message = (
                f"{name} is giving folds to CalibratedClassifierCV ({how}ensemble="
                f"{consumer == 'calibration'}): every split but the last calibrates on "
                "test rows that its model's training dates come after, so the calibrator "
                "learns how right a model that had seen the future is, not how right it "
                "is on dates after its training, and its probabilities have seen the "
                "future too. Calibrate on dates "
                "after the training: CalibratedClassifierCV(cv=WalkForwardSplit(...)) "
                "(ensemble=True, the default) fits each calibrator on a test window that "
                "follows its model's training window."
            )
        warnings.warn(message, UserWarning, stacklevel=caller_stacklevel(also))

    def _split(self, codes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # a copy of stacking's or of a calibration's clone was warned about when it
        # was made (see __deepcopy__); its later splits (a refit by the user) warn
        if not _warned_for_this_split(self.__dict__.pop(_WARNED_WHEN_COPIED, None)):
            self._warn_embargo_below_horizon()
            self._warn_if_folds_feed_a_fit()
        block = self._blocks(int(codes.max()) + 1 if len(codes) else 0)
        for combination in self._combinations():
            test, train = _test_and_train_dates(
                np.isin(block, combination), self.label_horizon, self.embargo_days
            )
            if not train.any():
                raise ValueError(
                    f"Test blocks {list(combination)} leave no training date after purging "
                    f"label_horizon={self.label_horizon} and embargo_days={self.embargo_days} "
                    f"dates around them ({len(block)} dates in {self._n_blocks()} blocks); "
                    "lower them or use more dates."
                )
            yield np.flatnonzero(train[codes]), np.flatnonzero(test[codes])

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of splits (it does not depend on the data).

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        self._validate_params()
        return len(self._combinations())


@fill_doc
class PurgedKFold(_BasePurgedSplitter):
    """K-fold cross-validation over contiguous date blocks, with purging and embargo.

    The sorted distinct dates are cut into ``n_splits`` contiguous blocks (sizes
    differ by at most one, the larger first); each block is the test set once, in
    time order. Training uses every other date except:

    - purged dates: a date whose label window, the next ``label_horizon`` dates,
      reaches into the test block (the ``label_horizon`` dates just before it);
    - embargoed dates: the ``embargo_days`` dates just after the test block.

    Nothing else is dropped, so training dates lie on both sides of the test block.
    Rows that share a date always fall on the same side. For scoring and searching,
    not for out-of-fold predictions that something is then fitted on: a block's model
    trained on later dates too. So ``cross_val_predict`` (and scikit-learn's
    stacking) with it warns, stack with :func:`chronological_oof_predict`; and
    ``CalibratedClassifierCV`` with it warns for either ``ensemble`` (with ``True``,
    the default, each block's calibrator learns from that block's model, which saw
    the later blocks), calibrate with ``cv=WalkForwardSplit(...)``. The warning
    comes from the tool that reads the folds (subclasses of the splitter and of
    those tools included), not from a search that such a tool fits; stacking gives
    it once per ``fit``, and a search or ``cross_validate`` of such a calibration
    (which clones it for every candidate and fold) once per call, at the caller's
    line, for any ``n_jobs``.

    ``n_splits=3, label_horizon=1, embargo_days=1`` on 12 dates (``*`` train,
    ``p`` purged, ``e`` embargoed, ``x`` test)::

        date    0 1 2 3 4 5 6 7 8 9 10 11
        split 0 | x x x x e * * * * * *  * |
        split 1 | * * * p x x x x e * *  * |
        split 2 | * * * * * * * p x x x  x |

    Parameters
    ----------
    n_splits : int, default=5
        Number of date blocks (and of splits); at least 2.
    label_horizon : int, default=0
        Dates each label looks ahead (5 for a 5-day forward return): a training date
        within ``label_horizon`` dates before a test block is purged. ``split`` warns
        when ``y`` tells a horizon above ``label_horizon + 1`` (a name such as
        ``fwd_ret_5``, ``make_labels`` metadata).
    embargo_days : int, default=0
        Dates after each test block dropped from training (serial correlation of
        features and of the test labels with later training rows). Below
        ``label_horizon - 1`` the training labels just after a test block share
        periods with the test labels, and ``split`` warns.

    See Also
    --------
    CombinatorialPurgedCV : every combination of several test blocks.
    WalkForwardSplit : training always before testing.

    Notes
    -----
    {splitter.dates}
    Lopez de Prado (2018), Advances in Financial Machine Learning, ch. 7.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import PurgedKFold
    >>> X = pd.DataFrame({"f": np.arange(12.0)},
    ...                  index=pd.bdate_range("2024-01-01", periods=12))
    >>> cv = PurgedKFold(n_splits=3, label_horizon=1, embargo_days=1)
    >>> for train, test in cv.split(X):
    ...     print(train.tolist(), test.tolist())
    [5, 6, 7, 8, 9, 10, 11] [0, 1, 2, 3]
    [0, 1, 2, 9, 10, 11] [4, 5, 6, 7]
    [0, 1, 2, 3, 4, 5, 6] [8, 9, 10, 11]
    """

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "label_horizon": [Interval(Integral, 0, None, closed="left")],
        "embargo_days": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_splits=5, label_horizon=0, embargo_days=0):
        self.n_splits = n_splits
        self.label_horizon = label_horizon
        self.embargo_days = embargo_days

    def _n_blocks(self) -> int:
        return self.n_splits

    def _n_blocks_name(self) -> str:
        return "n_splits"

    def _combinations(self) -> list[tuple[int, ...]]:
        return [(b,) for b in range(self.n_splits)]


class CombinatorialPurgedCV(_BasePurgedSplitter):
    """Combinatorial purged cross-validation (CPCV) over contiguous date blocks.

    The sorted distinct dates are cut into ``n_folds`` contiguous blocks (sizes
    differ by at most one, the larger first). Every combination of
    ``n_test_folds`` blocks is a test set, in ``itertools.combinations`` order, so
    there are ``C(n_folds, n_test_folds)`` splits. Around each test block, training
    drops the ``label_horizon`` dates before it (purged: their labels reach into
    it) and the ``embargo_days`` dates after it (embargoed); nothing else.

    Each block is tested in ``C(n_folds - 1, n_test_folds - 1)`` splits, which
    assemble into ``n_paths = C(n_folds, n_test_folds) * n_test_folds / n_folds``
    backtest paths: each path covers every date once, block b coming from the j-th
    split that tests b on path j (skfolio's path definition). :meth:`paths` does
    the assembly from per-split out-of-sample predictions, so a model gets a
    distribution of path Sharpe ratios instead of one number. The test sets
    overlap, so ``cross_val_predict`` refuses this splitter: use :meth:`paths`.
    ``CalibratedClassifierCV`` (``ensemble=True``, the default) takes it and warns:
    every split but the last calibrates on blocks its model's training dates follow
    (see :class:`PurgedKFold`).

    skfolio's ``purged_size=p`` drops ``p`` dates on both sides of a test block and
    its ``embargo_size=e`` ``e`` more after it: that is ``label_horizon=p,
    embargo_days=p + e`` here. Its blocks put the remainder of the dates in the
    last block; these are ``np.array_split``'s.

    ``n_folds=4, n_test_folds=2, label_horizon=1, embargo_days=0`` on 8 dates::

        date    0 1 2 3 4 5 6 7
        split 0 | x x x x * * * * |
        split 1 | x x * p x x * * |
        split 2 | x x * * * p x x |
        split 3 | * p x x x x * * |
        split 4 | * p x x * p x x |
        split 5 | * * * p x x x x |

    Parameters
    ----------
    n_folds : int, default=6
        Number of contiguous date blocks; at least 2.
    n_test_folds : int, default=2
        Blocks in each test set; at least 1 and below ``n_folds``.
    label_horizon : int, default=0
        Dates each label looks ahead: a training date within ``label_horizon`` dates
        before a test block is purged; ``split`` warns when ``y`` tells a longer
        horizon (see :class:`PurgedKFold`).
    embargo_days : int, default=0
        Dates after each test block dropped from training; below
        ``label_horizon - 1`` ``split`` warns (see :class:`PurgedKFold`).

    Attributes
    ----------
    n_paths : int
        Number of backtest paths, ``C(n_folds, n_test_folds) * n_test_folds / n_folds``.

    See Also
    --------
    PurgedKFold : one test block at a time (``n_test_folds=1``, one path).

    Notes
    -----
    Lopez de Prado (2018), Advances in Financial Machine Learning, ch. 12; the path
    assembly as in skfolio's ``CombinatorialPurgedCV``. The test set of a split is
    one array of row positions (a scikit-learn splitter), not one array per block.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skquant import CombinatorialPurgedCV
    >>> X = pd.DataFrame({"f": np.arange(8.0)},
    ...                  index=pd.bdate_range("2024-01-01", periods=8))
    >>> cv = CombinatorialPurgedCV(n_folds=4, n_test_folds=2, label_horizon=1)
    >>> cv.get_n_splits(), cv.n_paths
    (6, 3)
    >>> predictions = [X["f"].to_numpy()[test] * 10 for _, test in cv.split(X)]
    >>> cv.paths(X, predictions).shape
    (8, 3)
    """

    _parameter_constraints: dict = {
        "n_folds": [Interval(Integral, 2, None, closed="left")],
        "n_test_folds": [Interval(Integral, 1, None, closed="left")],
        "label_horizon": [Interval(Integral, 0, None, closed="left")],
        "embargo_days": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_folds=6, n_test_folds=2, label_horizon=0, embargo_days=0):
        self.n_folds = n_folds
        self.n_test_folds = n_test_folds
        self.label_horizon = label_horizon
        self.embargo_days = embargo_days

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.n_test_folds >= self.n_folds:
            raise ValueError(
                f"The 'n_test_folds' parameter of {type(self).__name__} must be below "
                f"n_folds={self.n_folds} (some block must train); got {self.n_test_folds}."
            )

    def _n_blocks(self) -> int:
        return self.n_folds

    def _n_blocks_name(self) -> str:
        return "n_folds"

    def _combinations(self) -> list[tuple[int, ...]]:
        return list(itertools.combinations(range(self.n_folds), self.n_test_folds))

    @property
    def n_paths(self) -> int:
        """Number of backtest paths: ``C(n_folds, n_test_folds) * n_test_folds / n_folds``."""
        self._validate_params()
        return math.comb(self.n_folds - 1, self.n_test_folds - 1)

    def path_ids(self) -> np.ndarray:
        """The path served by each test block of each split.

        Returns
        -------
        path_ids : ndarray of shape (n_splits, n_test_folds)
            ``path_ids[i, j]`` is the path that the j-th test block (in block order)
            of split ``i`` belongs to: the number of earlier splits testing that block.

        Raises
        ------
        ValueError
            For invalid parameters, naming them (as ``n_paths`` and ``split``).
        """
        self._validate_params()  # n_test_folds >= n_folds gave an empty array, silently
        combinations = self._combinations()
        seen = np.zeros(self.n_folds, dtype=np.intp)
        ids = np.empty((len(combinations), self.n_test_folds), dtype=np.intp)
        for i, combination in enumerate(combinations):
            ids[i] = seen[list(combination)]
            seen[list(combination)] += 1
        return ids

    def paths(self, X, predictions, groups=None) -> pd.DataFrame:
        """Assemble per-split out-of-sample predictions into the backtest paths.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The data that was split (its dates, as in ``split``).
        predictions : sequence of array-like
            One 1-D array per split, in ``split`` order, each with one value per row
            of that split's test set (in the order of its row positions), e.g.
            ``[clone(model).fit(X.iloc[tr], y.iloc[tr]).predict(X.iloc[te]) for tr, te
            in cv.split(X)]``.
        groups : array-like of shape (n_samples,), default=None
            Each row's date, as in ``split``.

        Returns
        -------
        paths : DataFrame of shape (n_samples, n_paths)
            Column ``p`` holds path ``p``'s prediction for every row; indexed like
            ``X`` when ``X`` has an index. Trading each column gives one backtest.

        Raises
        ------
        ValueError
            If ``predictions`` does not hold one array per split, each as long as
            its split's test set.
        """
        self._validate_params()
        X, groups = indexable(X, groups)
        codes, _ = period_codes(X, groups)
        block = self._blocks(int(codes.max()) + 1 if len(codes) else 0)[codes]
        combinations = self._combinations()
        predictions = list(predictions)
        if len(predictions) != len(combinations):
            raise ValueError(
                f"predictions holds {len(predictions)} arrays; {type(self).__name__} "
                f"made {len(combinations)} splits (one array per split, in split order)."
            )
        out = np.full((_num_samples(X), self.n_paths), np.nan)
        for i, (combination, ids) in enumerate(zip(combinations, self.path_ids(), strict=True)):
            test = np.flatnonzero(np.isin(block, combination))
            values = np.asarray(predictions[i], dtype=np.float64)
            if values.ndim > 1 and int(np.prod(values.shape[1:])) != 1:
                raise ValueError(
                    f"predictions[{i}] has shape {values.shape}: one value a test row is "
                    "expected (a classifier's predict_proba(X)[:, 1], not the whole "
                    "matrix)."
                )
            values = values.reshape(-1)
            if len(values) != len(test):
                raise ValueError(
                    f"predictions[{i}] has {len(values)} values; split {i} tests {len(test)} rows."
                )
            for b, path in zip(combination, ids, strict=True):
                in_block = block[test] == b
                out[test[in_block], path] = values[in_block]
        index = X.index if hasattr(X, "index") else None
        return pd.DataFrame(out, index=index, columns=range(self.n_paths))
