"""Warnings that point at the user's own line."""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import types
import warnings
import weakref
from collections.abc import Iterator


class LeakageWarning(UserWarning):
    """A column looks ahead: left out of the features, or found among them.

    Public as :class:`skquant.leakage.LeakageWarning`; defined here so that every
    layer (the trainers, the strategies) can raise it.
    """


LeakageWarning.__module__ = "skquant.leakage"


def frames_within(frame, modules) -> Iterator:
    """``frame`` and its callers, outward, while each belongs to one of ``modules``
    (dotted names: ``"sklearn"`` is scikit-learn and every module in it,
    ``"sklearn.utils"`` that subpackage only)."""
    while frame is not None and _belongs(frame, modules):
        yield frame
        frame = frame.f_back


def first_frame_outside(frame, modules):
    """The first of ``frame`` and its callers that belongs to none of ``modules``
    (:func:`frames_within`); None when the stack ends first."""
    while frame is not None and _belongs(frame, modules):
        frame = frame.f_back
    return frame


def called_from_skquant(depth: int = 1) -> bool:
    """Whether the function ``depth`` frames out from the one asking (1: that function
    itself) was called by skquant's own code, which checked its input where it came
    from and is not warned again."""
    return _belongs(sys._getframe(depth + 1), ("skquant",))


def _belongs(frame, modules) -> bool:
    name = frame.f_globals.get("__name__", "")
    return any(name == module or name.startswith(module + ".") for module in modules)


def caller_stacklevel(also: tuple[str, ...] = ()) -> int:
    """``stacklevel`` of the first frame outside skquant, scikit-learn, joblib and
    optuna, so that a warning points at the user's call (``fit``, ``train``,
    ``WalkForwardEngine(...)``, ``cross_validate(...)``, whose joblib loop consumes a
    splitter's generator, ``tune(...)``, whose study runs skquant's objective)
    whatever the path to it. ``also`` names further top-level
    modules to pass (``"copy"`` for a warning raised from ``__deepcopy__``)."""
    # the frame that calls warnings.warn is level 1
    passed = ("skquant", "sklearn", "joblib", "optuna", "optuna_integration", *also)
    return 1 + sum(1 for _ in frames_within(sys._getframe(1), passed))


@contextlib.contextmanager
def record_warnings(filters: list | None = None) -> Iterator[list]:
    """Catch every warning of a worker's symbol into the yielded list: a worker process
    printed each as a raw Python warning (``.../__main__.py:8: UserWarning: ...``),
    once per process. The per-symbol commands keep them in the symbol's result
    (``skquant.cli._runner.keep_warnings``); a benchmark run, in its record.

    ``warnings.catch_warnings`` swaps process-wide state, so it serves the main thread
    only. A worker thread (Dask's, which run several symbols in one process) records
    through one shared ``showwarning`` that files each warning under the thread that
    raised it; the filters stay the process's (a warning a thread already showed from
    the same line may not be shown again).

    ``filters`` (``list(warnings.filters)`` of the process that asked for the work)
    records under those filters instead of all warnings: a warning they ignore (a
    library's ``DeprecationWarning``, or one a user filtered out) is not recorded, in a
    worker process as in the caller's.
    """
    if threading.current_thread() is threading.main_thread():
        with warnings.catch_warnings(record=True) as caught:
            if filters is None:
                warnings.simplefilter("always")
            else:
                _use_filters(filters)
            yield caught
        return
    caught: list = []
    with _THREAD_HOOK_LOCK:
        if warnings.showwarning is not _show_in_thread:
            global _shown_otherwise
            _shown_otherwise = warnings.showwarning
            warnings.showwarning = _show_in_thread
    previous = getattr(_THREAD_RECORD, "caught", None)
    _THREAD_RECORD.caught = caught
    try:
        yield caught
    finally:
        _THREAD_RECORD.caught = previous


def _use_filters(filters: list) -> None:
    """Make ``filters`` (entries of another process's ``warnings.filters``) the
    filters, through the public calls (which also reset the registries). A pattern
    gets ``filterwarnings``' flags: one compiled by hand with others loses them."""
    warnings.resetwarnings()
    for action, message, category, module, lineno in reversed(filters):
        warnings.filterwarnings(action, _pattern(message), category, _pattern(module), lineno)


def _pattern(part) -> str:
    """A filter's message or module as ``filterwarnings`` takes it: a compiled one's
    pattern, a plain string (Python's own defaults, matched exactly) escaped, None
    (any) empty."""
    if part is None:
        return ""
    return part.pattern if hasattr(part, "pattern") else re.escape(part) + r"\Z"


_THREAD_RECORD = threading.local()  # the list record_warnings fills, per worker thread
_THREAD_HOOK_LOCK = threading.Lock()
_shown_otherwise = warnings.showwarning  # what the hook passes a warning on to


def _show_in_thread(message, category, filename, lineno, file=None, line=None):
    """``warnings.showwarning`` while worker threads record: into the raising thread's
    list when it records (:func:`record_warnings`), else shown as before."""
    caught = getattr(_THREAD_RECORD, "caught", None)
    if caught is None:
        _shown_otherwise(message, category, filename, lineno, file, line)
    else:
        caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))


def _show_new(caught, said: set) -> None:
    """Show each warning of ``caught`` whose (category, text, place) is not in ``said``,
    and add it there. It passed the filters when it was raised (an ignored one was not
    recorded, an error one raised), so it is shown as it came, through
    ``warnings.showwarning`` (which ``pytest.warns`` and a command's hook replace): given
    again, the filters would match another module (the file's path, not ``__name__``)
    and drop a user's ``DeprecationWarning`` from ``__main__``."""
    for w in caught:
        key = (w.category, str(w.message), w.filename, w.lineno)
        if key not in said:
            said.add(key)
            warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)


@contextlib.contextmanager
def _shown_once(said: set) -> Iterator[None]:
    """Record the block's warnings, then show those not in ``said`` (:func:`_show_new`),
    also when the block raises (the warnings that explain the error). In the main
    thread only: ``catch_warnings`` swaps process-wide state, so two threads inside
    it at once lost each other's warnings, and every later one in the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            yield
    finally:
        _show_new(caught, said)


def each_warning_once():
    """Say each distinct warning raised inside the block once, where it was raised.

    A scorer run once per feature and shuffle on the same ``y`` (permutation
    importance) repeats its warnings about ``y`` that many times, whatever the
    filters: scikit-learn's loops reset the registry Python's ``"default"`` action
    keeps. Warnings the filters ignore stay ignored, and one they turn into an error
    still raises where it was raised. Outside the main thread the warnings pass
    unchanged.
    """
    return _shown_once(set())


# the warnings each joblib Parallel run (cross_validate's, a search's) has said, by run
_SAID_IN_RUN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _innermost_parallel(frame):
    """The innermost joblib ``Parallel`` whose ``__call__`` is on the stack between
    ``frame`` and the user's code (frames of skquant, scikit-learn, joblib, contextlib):
    the loop scikit-learn made for this call (a user's own ``Parallel`` around it, which
    may be called again, is not it). None when there is none (a worker process)."""
    from joblib import Parallel

    passed = ("skquant", "sklearn", "joblib", "contextlib")
    return next(
        (
            f.f_locals["self"]
            for f in frames_within(frame, passed)
            if isinstance(f.f_locals.get("self"), Parallel)
        ),
        None,
    )


# the warnings each loop scikit-learn runs without joblib has said, by the iterator it
# loops over (RFECV's folds with n_jobs=1: its splitter's generator, one per fit)
_SAID_IN_LOOP: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _innermost_plain_loop(frame):
    """The generator that the innermost of scikit-learn's generator expressions between
    ``frame`` and the user's code loops over: a loop it runs without joblib (RFECV's folds with
    ``n_jobs=1``, ``list(f(train, test) for train, test in cv.split(X, y))``). A
    generator (the splitter's), made afresh by each call and gone when the loop ends,
    so it stands for this call alone: no frame nor object of the call is kept. None
    when there is none, or it loops over something else."""
    passed = ("skquant", "sklearn", "joblib", "contextlib")
    for f in frames_within(frame, passed):
        if f.f_code.co_name == "<genexpr>" and _belongs(f, ("sklearn",)):
            source = f.f_locals.get(".0")
            return source if isinstance(source, types.GeneratorType) else None
    return None


def once_per_parallel_run():
    """Say each distinct warning raised inside the block once per run of the joblib
    ``Parallel`` loop that scikit-learn runs the block in (``cross_validate``'s folds,
    a search's candidates and folds).

    scikit-learn runs each fold inside ``warnings.catch_warnings``, which resets the
    registry Python's ``"default"`` action keeps: a scorer's warning about ``X`` or
    its dates came once per fold (5 identical ones for 5 folds). A later loop (another
    ``cross_validate`` call) says them again. A loop scikit-learn runs without joblib
    (``RFECV`` with ``n_jobs=1``: 115 copies of one warning from one fit) counts as
    one run per call too. Outside such a loop, in a worker process
    and in a thread other than the main one, the block's warnings pass unchanged.
    Warnings the filters ignore stay ignored, one they turn into an error still
    raises where it was raised, and a fold whose scoring raised still says its own.
    """
    if threading.current_thread() is not threading.main_thread():
        return contextlib.nullcontext()
    run = _innermost_parallel(sys._getframe(1))
    if run is None:
        loop = _innermost_plain_loop(sys._getframe(1))
        if loop is None:
            return contextlib.nullcontext()
        return _shown_once(_SAID_IN_LOOP.setdefault(loop, set()))
    # one call of the loop (joblib stamps each with its start time, and a parallel one
    # with an id; without them, the object): a user's own Parallel called twice is two
    call = (getattr(run, "_start_time", None), getattr(run, "_call_id", None))
    entry = _SAID_IN_RUN.get(run)
    if entry is None or entry[0] != call:
        entry = _SAID_IN_RUN[run] = (call, set())
    return _shown_once(entry[1])
