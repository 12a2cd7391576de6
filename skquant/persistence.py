"""Save a fitted model with its config and results; load it back, verified.

:func:`save_model` writes one directory per model::

    model.joblib            the fitted estimator (``model.skops`` with format="skops")
    config.json             the resolved hyper-parameters (``config_``)
    metrics.json            whatever metrics you pass (validation scores, Sharpe, ...)
    feature_importance.csv  when the model has ``get_feature_importance``
    metadata.json           versions (skquant, the core stack and the libraries whose
                            objects the model holds), feature names, creation time,
                            SHA-256 of the model

Every file is written first to a staging folder beside the model's, then moved in by
renames, ``metadata.json`` last, after the earlier model's files (its ``metadata.json``
first) are set aside in another folder beside it, removed only once the new model is in
place: a save that fails leaves the earlier model as it was, and one killed during the
renames leaves the earlier model set aside, which the next :func:`save_model` or
:func:`load_model` of the folder puts back (never a live save's; one process at a
time, and a restore killed midway is finished by the next), never a mix of two
models. :func:`load_model` reads the model
file once, checks the SHA-256 of those bytes against the one recorded in
``metadata.json`` and only then unpickles the same bytes, so a corrupted, truncated or
modified model file is refused with a clear error instead of crashing (or running code)
inside ``pickle``. This detects corruption and tampering of the model file alone; it
does not prove authenticity: whoever can rewrite both ``metadata.json`` and the model
file gets past it. Load models only from sources you trust (or use ``format="skops"``).
"""

from __future__ import annotations

import datetime as _dt
import glob
import hashlib
import io
import json
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from importlib import metadata as _importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from skquant.utils._io import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_json,
    file_sha256,
    leftover_folders,
    remove_leftover_folders,
)
from skquant.utils._warnings import caller_stacklevel

__all__ = ["ModelIntegrityError", "load_metadata", "load_model", "save_model"]

FORMATS = ("joblib", "skops")
MODEL_FILES = {"joblib": "model.joblib", "skops": "model.skops"}
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
IMPORTANCE_FILE = "feature_importance.csv"
METADATA_FILE = "metadata.json"
# the files of a model folder that save_model writes besides metadata.json
_MODEL_FOLDER_FILES = (*MODEL_FILES.values(), CONFIG_FILE, METRICS_FILE, IMPORTANCE_FILE)
_METADATA_VERSION = 1

# Distributions whose versions are recorded: always the core stack, and a heavy
# library only when the saved model holds its objects (or, for skops, is written by
# it): a Ridge saved where torch is installed warned, loaded where it is not, that
# torch and skorch were "not installed".
_CORE_LIBRARIES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib")
_MODEL_LIBRARIES = ("lightgbm", "xgboost", "xgboost-cpu", "ngboost", "torch", "skorch", "skops")
# the model libraries' distributions by the top-level module their objects come from
# (skorch's nets hold torch modules, which skorch pickles through torch itself)
_LIBRARIES_OF_MODULE = {
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost", "xgboost-cpu"),
    "ngboost": ("ngboost",),
    "torch": ("torch",),
    "skorch": ("skorch", "torch"),
}

# The types `load_model(format="skops")` trusts beyond skops' own defaults: named
# types, never whole modules (a module holds functions too: trusting every name under
# `builtins` let a file call builtins.eval, under `sklearn` dump_svmlight_file), and
# the classes that skquant's model and strategy modules define (`_trusted_by_default`).
_SKOPS_TRUSTED_TYPES = frozenset(
    {
        "collections.OrderedDict",
        "lightgbm.basic.Booster",
        "lightgbm.sklearn.LGBMClassifier",
        "lightgbm.sklearn.LGBMRegressor",
        "xgboost.core.Booster",
        "xgboost.sklearn.XGBClassifier",
        "xgboost.sklearn.XGBRegressor",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)
# skquant's packages whose classes hold fitted state only (estimators, their helpers)
_SKOPS_TRUSTED_PACKAGES = ("skquant.models.", "skquant.strategies.")


class ModelIntegrityError(ValueError):
    """A saved model directory is incomplete, altered or unreadable."""


class LibraryVersionWarning(UserWarning):
    """A model was saved with other library versions than the ones installed."""


# ----------------------------------------------------------------------------- helpers
def _sha256_bytes(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _library_versions(names: Iterable[str] = _CORE_LIBRARIES + _MODEL_LIBRARIES) -> dict[str, str]:
    """``{distribution: version}`` of those of ``names`` that are installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = _importlib_metadata.version(name)
        except _importlib_metadata.PackageNotFoundError:
            continue
    return versions


class _ModuleRecorder(pickle.Pickler):
    """Pickles into nothing, noting the top-level module of every object, class and
    function met on the way (arrays' buffers are passed by, not copied)."""

    def __init__(self) -> None:
        super().__init__(_Discard(), protocol=5, buffer_callback=lambda buffer: None)
        self.modules: set[str] = set()

    def reducer_override(self, obj):
        for owner in (type(obj), obj):
            module = getattr(owner, "__module__", None)
            if isinstance(module, str):
                self.modules.add(module.partition(".")[0])
        return NotImplemented  # pickled as usual


class _Discard:
    def write(self, data) -> int:
        return len(data)


def _model_libraries(estimator, format: str) -> tuple[str, ...]:
    """The model libraries (of ``_MODEL_LIBRARIES``) whose objects ``estimator`` holds,
    plus skops for ``format="skops"``: all of them when its objects cannot be walked."""
    try:
        recorder = _ModuleRecorder()
        recorder.dump(estimator)
    except Exception:  # noqa: BLE001 - unknown: record every installed one, as before
        return _MODEL_LIBRARIES
    used = {lib for module in recorder.modules for lib in _LIBRARIES_OF_MODULE.get(module, ())}
    if format == "skops":
        used.add("skops")
    return tuple(name for name in _MODEL_LIBRARIES if name in used)


def _skquant_version() -> str:
    from skquant import __version__

    return __version__


def _feature_names(estimator, data) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and data is not None and hasattr(data, "columns"):
        names = data.columns
    if names is None:
        n = getattr(estimator, "n_features_in_", None)
        return None if n is None else [f"x{i}" for i in range(int(n))]
    return [str(name) for name in names]


def _data_summary(data) -> dict[str, Any] | None:
    """Shape, columns, dtypes and date range of the data the model was trained on."""
    if data is None:
        return None
    from skquant.utils._time import dates_of

    summary: dict[str, Any] = {"n_rows": len(data)}
    if hasattr(data, "columns"):
        summary["columns"] = [str(c) for c in data.columns]
        summary["dtypes"] = {str(c): str(t) for c, t in data.dtypes.items()}
    else:
        summary["shape"] = list(np.shape(data))
    dates = dates_of(data)
    if dates is not None and len(dates):
        summary["start"] = str(np.min(dates))
        summary["end"] = str(np.max(dates))
    return summary


def _config_of(estimator) -> dict[str, Any]:
    config = getattr(estimator, "config_", None)
    if isinstance(config, Mapping):
        return dict(config)
    steps = getattr(estimator, "steps", None)
    if isinstance(steps, list) and all(isinstance(s, tuple) and len(s) == 2 for s in steps):
        # a Pipeline: each step's resolved config (its repr said nothing of a trainer's)
        return {"steps": [[str(name), _config_of(step)] for name, step in steps]}
    if hasattr(estimator, "get_params"):
        return {
            key: value
            for key, value in estimator.get_params(deep=False).items()
            if not hasattr(value, "get_params")
        }
    return {}


# ----------------------------------------------------------------------------- save
def save_model(
    estimator,
    path: str | os.PathLike,
    *,
    metrics: Mapping[str, Any] | None = None,
    data=None,
    format: str = "joblib",
) -> Path:
    """Save a fitted model with its config, metrics, importances and metadata.

    Parameters
    ----------
    estimator : fitted estimator
        Usually a skquant trainer or strategy; any picklable object works. A
        scikit-learn estimator that is not fitted raises ``NotFittedError``.
    path : str or path-like
        The directory to write (created if needed; files in it are replaced).
    metrics : dict, default=None
        Results to keep beside the model (e.g. validation RMSE, Sharpe). Written to
        ``metrics.json``; NaN and infinities become ``null``.
    data : DataFrame or array-like, default=None
        The training features. Their shape, columns, dtypes and date range go to
        ``metadata.json``; their columns name the features when the estimator
        does not know them.
    format : {"joblib", "skops"}, default="joblib"
        ``"skops"`` writes ``model.skops`` (needs the ``skops`` package), which
        :func:`load_model` can read without running arbitrary pickled code.

    Returns
    -------
    path : pathlib.Path
        The model directory.

    Warns
    -----
    UserWarning
        When the saved ``feature_importance.csv`` is all zeros: the model never used
        a feature, so its order is the column order. ``metadata.json`` records it as
        ``importance_all_zero`` (None when no importance was saved).

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from sklearn.linear_model import Ridge
    >>> from skquant import save_model, load_model
    >>> X = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10)})
    >>> model = Ridge().fit(X, 2 * X["a"])
    >>> folder = save_model(model, tempfile.mkdtemp() + "/ridge", metrics={"rmse": 0.0})
    >>> sorted(p.name for p in folder.iterdir())
    ['config.json', 'metadata.json', 'metrics.json', 'model.joblib']
    >>> bool(np.allclose(load_model(folder).predict(X), model.predict(X)))
    True
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}.")
    if isinstance(estimator, BaseEstimator):
        # saved unfitted, it loads without complaint and fails only at predict
        check_is_fitted(
            estimator,
            msg="save_model saves a fitted model: this %(name)s is not fitted yet. Call fit first.",
        )
    if metrics is not None and not isinstance(metrics, Mapping):
        raise ValueError(f"metrics must be a dict of name: value, got {type(metrics).__name__}.")
    folder = Path(os.fspath(path))
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path {str(folder)!r} exists and is not a directory.")
    folder.mkdir(parents=True, exist_ok=True)
    _put_back_replaced(folder)
    _refuse_while_restoring(folder)
    _remove_abandoned_staging(folder)
    # Everything is written to a staging folder beside the model's first: the model
    # saved there before stays loadable during the long dump, and is replaced by
    # renames only (a save interrupted in the dump overwrote its model file, which
    # then read as "modified after saving").
    staging = Path(
        tempfile.mkdtemp(prefix=f".{folder.name}{_STAGING}{os.getpid()}-", dir=folder.parent)
    )
    replaced = None
    try:
        _write_files(staging, estimator, metrics, data, format)
        written = sorted(p.name for p in staging.iterdir())
        # From here the earlier model no longer loads (its metadata.json is set aside
        # first, then its other files: the other format's model, a stale importance go
        # too) and this one loads only once its own metadata.json is in place, last. A
        # crash in between leaves the earlier files aside, put back by the next
        # save_model or load_model (they were deleted: the earlier model was lost).
        replaced = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}{_REPLACED}{os.getpid()}-", dir=folder.parent)
        )
        set_aside = []
        for name in (METADATA_FILE, *_MODEL_FOLDER_FILES):
            if (folder / name).is_file():
                os.replace(folder / name, replaced / name)
                set_aside.append(name)
        # the marker lists the earlier files: a restore deletes only the others beside
        # (the new model's), never one of these that an interrupted restore put back
        atomic_write_json(replaced / _ALL_SET_ASIDE, set_aside)
        for name in written:
            if name != METADATA_FILE:
                os.replace(staging / name, folder / name)
        os.replace(staging / METADATA_FILE, folder / METADATA_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if replaced is not None:  # the earlier model's files: gone, or back if this failed
            _put_back(folder, replaced)
    return folder


_STAGING = ".saving-"
_REPLACED = ".replaced-"  # the earlier model's files, set aside while the new ones move in
_RESTORING = ".restoring-"  # a set-aside folder that one process claimed to put back
# marks a set-aside folder that holds every earlier file; it lists their names (JSON)
_ALL_SET_ASIDE = ".all-set-aside"
_RESTORE_WAIT_S = 2.0  # how long a load waits for another process's restore to finish


def _put_back_replaced(folder: Path) -> None:
    """Put back the earlier model that a killed ``save_model`` of ``folder`` had set
    aside (those of a process no longer running, on POSIX, where that can be asked
    safely), and remove the other set-aside folders such saves left. A restore that
    was itself killed (its claimed folder's process gone) is finished first; one that
    another process is running is waited for, briefly."""
    for kind in (_RESTORING, _REPLACED):
        for replaced in leftover_folders(folder.parent, f".{folder.name}{kind}", unknown_too=False):
            _put_back(folder, replaced)
    deadline = time.monotonic() + _RESTORE_WAIT_S
    while (
        not (folder / METADATA_FILE).is_file()
        and _restoring_folders(folder)
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)


def _restoring_folders(folder: Path) -> list[Path]:
    """The set-aside folders of ``folder`` that a process has claimed to put back
    (``.<name>.restoring-<pid>-...``), sorted by name."""
    return sorted(folder.parent.glob(f"{glob.escape(f'.{folder.name}{_RESTORING}')}*"))


def _refuse_while_restoring(folder: Path) -> None:
    """Refuse to save into ``folder`` while another live process puts its earlier
    model back (what :func:`_put_back_replaced` left: a live run's claimed folder).
    Saving on would let that restore, once it resumed, move the earlier files over
    the new model's: the save said it had finished, and the folder held the older
    model, or a mix of the two."""
    restoring = _restoring_folders(folder)
    if restoring:
        raise RuntimeError(
            f"Another process is putting back the earlier model of {str(folder)!r} "
            f"(its folder {restoring[0].name!r}, left by a save that was killed): save "
            "again once it has finished, or once that process has ended."
        )


def _claim(folder: Path, replaced: Path) -> Path | None:
    """Rename ``replaced`` (a set-aside folder, or a claimed one whose process is gone)
    to ``.<name>.restoring-<this pid>-...``: one rename, which only one process wins,
    so two restores never interleave (the second deleted files the first had put
    back). None when another process claimed it first."""
    for kind in (_REPLACED, _RESTORING):
        prefix = f".{folder.name}{kind}"
        if replaced.name.startswith(prefix):  # <prefix><pid>-<random>
            suffix = replaced.name[len(prefix) :].split("-", 1)[-1]
            break
    else:  # not a name save_model makes
        return None
    claimed = folder.parent / f".{folder.name}{_RESTORING}{os.getpid()}-{suffix}"
    try:
        os.rename(replaced, claimed)
    except FileNotFoundError:
        return None
    return claimed


def _put_back(folder: Path, replaced: Path) -> None:
    """Remove ``replaced``, a save's set-aside earlier files, once ``folder`` holds a
    finished model; else move them back (the new model's partial files out), the
    earlier ``metadata.json`` last. Claims ``replaced`` first (see :func:`_claim`), and
    can be killed at any step and run again: a file already put back stays."""
    claimed = _claim(folder, replaced)
    if claimed is None:  # another process restores it
        return
    if not (folder / METADATA_FILE).is_file() and (claimed / METADATA_FILE).is_file():
        earlier = _set_aside_names(claimed)
        if earlier is not None:  # all set aside: the files beside not listed are the new model's
            for name in _MODEL_FOLDER_FILES:
                if name not in earlier:
                    (folder / name).unlink(missing_ok=True)
        for name in _MODEL_FOLDER_FILES:
            if (folder / METADATA_FILE).is_file():
                break  # a newer model finished meanwhile: it stays, whole
            if (claimed / name).is_file():
                os.replace(claimed / name, folder / name)
        try:  # never over a metadata.json that a newer finished save wrote meanwhile
            os.link(claimed / METADATA_FILE, folder / METADATA_FILE)
        except FileExistsError:
            pass
    shutil.rmtree(claimed, ignore_errors=True)


def _set_aside_names(replaced: Path) -> list[str] | None:
    """The names of the earlier files that ``save_model`` set aside in ``replaced``,
    from its marker; None before all were (no marker: the files beside are the earlier
    model's). A marker without the list (written empty by an earlier skquant) counts the
    files still in ``replaced``."""
    try:
        names = json.loads((replaced / _ALL_SET_ASIDE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        names = None
    if not isinstance(names, list):
        return [p.name for p in replaced.iterdir()]
    return [str(name) for name in names]


def _remove_abandoned_staging(folder: Path) -> None:
    """Remove the staging folders that a killed ``save_model`` of ``folder`` left (those
    of a process no longer running; on POSIX, where that can be asked safely)."""
    remove_leftover_folders(folder.parent, f".{folder.name}{_STAGING}", unknown_too=False)


def _final_step(estimator):
    """A Pipeline's last step (whose task the metadata records), else None."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if isinstance(steps, list) and steps else None


def _write_files(staging: Path, estimator, metrics, data, format: str) -> None:
    """Write the model, config, metrics, importances and metadata into ``staging``."""
    model_file = staging / MODEL_FILES[format]
    if format == "joblib":
        import joblib

        atomic_write(model_file, lambda handle: joblib.dump(estimator, handle))
    else:
        from skquant.utils._optional import import_optional

        sio = import_optional("skops.io")
        try:
            payload = sio.dumps(estimator)
        except TypeError as exc:  # e.g. pandas objects: "no default __reduce__ ..."
            raise ValueError(
                f"skops cannot store this {type(estimator).__name__} ({exc}; skops stores "
                "no pandas objects, which MetaLearningTrainer's weights_ are): save it "
                'with format="joblib".'
            ) from exc
        atomic_write_bytes(model_file, payload)
    atomic_write_json(staging / CONFIG_FILE, _config_of(estimator))
    atomic_write_json(staging / METRICS_FILE, dict(metrics or {}))

    importance = None
    if hasattr(estimator, "get_feature_importance"):
        # its all-zero warning would name a get_feature_importance call the user never
        # made: save_model says it in its own words, and metadata.json records it
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r".*every importance is 0", category=UserWarning
            )
            try:
                importance = estimator.get_feature_importance()
            except (AttributeError, NotImplementedError, ValueError, TypeError):
                importance = None  # a model family without importances
    all_zero = False
    if importance is not None:
        import pandas as pd

        frame = pd.DataFrame(importance) if not isinstance(importance, pd.DataFrame) else importance
        atomic_write_bytes(staging / IMPORTANCE_FILE, frame.to_csv().encode("utf-8"))
        values = frame.select_dtypes("number").to_numpy(dtype=float)
        all_zero = bool(values.size) and bool(np.all(values == 0))
        if all_zero:
            warnings.warn(
                f"save_model: the saved {IMPORTANCE_FILE} of {type(estimator).__name__} is "
                "all zeros: the model never used a feature (e.g. every tree is a single leaf, or every "
                "coefficient is 0), so its order is the column order: do not select features from it.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )

    meta = {
        "metadata_version": _METADATA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "format": format,
        "model_file": model_file.name,
        "sha256": file_sha256(model_file),
        "size_bytes": model_file.stat().st_size,
        "skquant_version": _skquant_version(),
        "python_version": platform.python_version(),
        "platform": sys.platform,
        # the core stack and the libraries the model uses: the ones whose versions
        # load_model compares
        "libraries": _library_versions(_CORE_LIBRARIES + _model_libraries(estimator, format)),
        "feature_names": _feature_names(estimator, data),
        "task": getattr(estimator, "task_", getattr(_final_step(estimator), "task_", None)),
        "data": _data_summary(data),
        # feature_importance.csv ranks nothing (every importance 0); None without one
        "importance_all_zero": all_zero if importance is not None else None,
    }
    atomic_write_json(staging / METADATA_FILE, meta)


# ----------------------------------------------------------------------------- load
def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Read ``metadata.json`` of a model directory.

    Raises
    ------
    ModelIntegrityError
        If the directory or its metadata is missing or unreadable.
    """
    folder = Path(os.fspath(path))
    if folder.is_file():
        raise ModelIntegrityError(
            f"{str(folder)!r} is a file: pass the model's directory (save_model's path), "
            f"{str(folder.parent)!r}."
        )
    if not folder.is_dir():
        raise ModelIntegrityError(f"Model directory {str(folder)!r} does not exist.")
    meta_file = folder / METADATA_FILE
    if not meta_file.is_file():
        try:  # a save killed while it replaced the model set the earlier one aside
            _put_back_replaced(folder)
        except OSError:
            pass  # a folder this process may not write: refused as unfinished below
    if not meta_file.is_file():
        restoring = _restoring_folders(folder)
        if restoring:  # a live process still puts the earlier model back
            raise ModelIntegrityError(
                f"{str(folder)!r} has no {METADATA_FILE} yet: another process is putting "
                f"back the earlier model (its folder {restoring[0].name!r}, left by a save "
                "that was killed); load again once it has finished, or once that process "
                "has ended."
            )
        raise ModelIntegrityError(
            f"{str(folder)!r} has no {METADATA_FILE}: not a saved model, or the save did "
            "not finish."
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelIntegrityError(f"{str(meta_file)!r} is not valid JSON: {exc}.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
        raise ModelIntegrityError(f"{str(meta_file)!r} has no 'sha256' of the model file.")
    if meta.get("format", "joblib") not in FORMATS:
        raise ModelIntegrityError(
            f"{str(meta_file)!r}: unknown format {meta['format']!r} (one of {list(FORMATS)})."
        )
    if not isinstance(meta.get("model_file", ""), str):
        raise ModelIntegrityError(f"{str(meta_file)!r}: 'model_file' must be a file name.")
    version = meta.get("metadata_version")
    if type(version) is not int or not 1 <= version <= _METADATA_VERSION:
        raise ModelIntegrityError(
            f"{str(meta_file)!r}: metadata_version {version!r} is not one this skquant "
            f"reads (1 to {_METADATA_VERSION}): saved by a newer skquant, or not by "
            "save_model."
        )
    libraries = meta.get("libraries") or {}
    if not isinstance(libraries, dict) or not all(
        isinstance(v, str) or v is None for v in libraries.values()
    ):
        raise ModelIntegrityError(
            f"{str(meta_file)!r}: 'libraries' must map each library to its version, got "
            f"{libraries!r:.80}."
        )
    return meta


def _check_versions(meta: Mapping[str, Any], where: Path) -> None:
    saved = dict(meta.get("libraries") or {})
    saved["skquant"] = meta.get("skquant_version")
    installed = _library_versions()
    installed["skquant"] = _skquant_version()
    differ = [
        f"{name} {saved[name]} (installed: {installed.get(name, 'not installed')})"
        for name in sorted(saved)
        if saved[name] is not None and installed.get(name) != saved[name]
    ]
    if differ:
        warnings.warn(
            f"The model in {str(where)!r} was saved with other library versions: "
            f"{', '.join(differ)}. Predictions may differ or loading may fail.",
            LibraryVersionWarning,
            stacklevel=3,
        )


def load_model(
    path: str | os.PathLike,
    *,
    format: str | None = None,
    trusted: Iterable[str] | None = None,
):
    """Load a model saved by :func:`save_model`, after verifying its SHA-256.

    Parameters
    ----------
    path : str or path-like
        The model directory.
    format : {"joblib", "skops"}, default=None
        ``None`` loads whatever was saved. ``"skops"`` insists on the skops file
        and loads it with :func:`skops.io.load`, which only builds the types it
        is told to trust: use it for files from sources you do not trust
        (``joblib``/``pickle`` can run arbitrary code while loading).
    trusted : list of str, default=None
        With ``format="skops"``: extra fully qualified type names to trust, on top
        of skops' defaults (scikit-learn's estimators, NumPy arrays, the builtin
        containers), the classes of skquant's models and strategies, LightGBM's
        and XGBoost's boosters and scikit-learn estimators, and scikit-learn's
        fitted trees. Any other type in the file is refused, functions included
        (the NGBoost and neural-net families need theirs named here).

    Returns
    -------
    estimator : object
        The fitted estimator.

    Raises
    ------
    ModelIntegrityError
        A missing or incomplete directory, a model file whose SHA-256 differs from
        the recorded one (altered or truncated), a file that cannot be unpickled,
        or (skops) a type that is not trusted. A subclass of ``ValueError``.

    Warns
    -----
    LibraryVersionWarning
        When skquant or a library recorded in ``metadata.json`` (the core stack and
        the libraries the model uses) has another version now, or is not installed;
        the model is still loaded.

    Examples
    --------
    >>> from skquant import load_model  # doctest: +SKIP
    >>> model = load_model("models/AAPL/lightgbm")  # doctest: +SKIP
    >>> y_pred = model.predict(X_new)  # doctest: +SKIP
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)} or None, got {format!r}.")
    folder = Path(os.fspath(path))
    meta = load_metadata(folder)
    saved_format = meta.get("format", "joblib")
    if format is not None and format != saved_format:
        raise ModelIntegrityError(
            f"The model in {str(folder)!r} was saved with format={saved_format!r}, not "
            f"{format!r}; re-save it with save_model(..., format={format!r})."
        )
    model_file = folder / meta.get("model_file", MODEL_FILES[saved_format])
    if model_file.parent != folder or model_file.name not in MODEL_FILES.values():
        raise ModelIntegrityError(f"metadata.json names an unexpected model file {model_file}.")
    if not model_file.is_file():
        raise ModelIntegrityError(f"Model file {str(model_file)!r} is missing.")
    # Read once and unpickle exactly the bytes that were hashed: a file swapped
    # between the check and the load cannot slip through.
    payload = model_file.read_bytes()
    actual = _sha256_bytes(payload)
    if actual != meta["sha256"]:
        size = len(payload)
        expected_size = meta.get("size_bytes")
        detail = (
            f"it is truncated ({size} of {expected_size} bytes)"
            if isinstance(expected_size, int) and size < expected_size
            else "it was modified after saving"
        )
        raise ModelIntegrityError(
            f"Refusing to load {str(model_file)!r}: its SHA-256 {actual[:12]}... differs "
            f"from the recorded {meta['sha256'][:12]}...; {detail}."
        )
    _check_versions(meta, folder)
    if saved_format == "skops":
        model = _load_skops(model_file, payload, trusted)
    else:
        model = _load_joblib(model_file, payload)
    recorded, built = meta.get("estimator"), f"{type(model).__module__}.{type(model).__qualname__}"
    if isinstance(recorded, str) and recorded != built:
        raise ModelIntegrityError(
            f"{str(model_file)!r} holds a {built}, but metadata.json records a {recorded}."
        )
    return model


def _load_joblib(model_file: Path, payload: bytes):
    import joblib

    try:
        return joblib.load(io.BytesIO(payload))
    except Exception as exc:  # the hash matched, so the file is as saved but unreadable here
        raise ModelIntegrityError(
            f"Could not load {str(model_file)!r} ({type(exc).__name__}: {exc}); "
            "check the library versions in metadata.json."
        ) from exc


def _trusted_by_default(name: str) -> bool:
    """Whether ``load_model(format="skops")`` trusts type ``name`` without ``trusted=``:
    one of :data:`_SKOPS_TRUSTED_TYPES`, or a class that a module of skquant's models
    or strategies defines (only those modules are imported to tell; a function there,
    or a name the module does not define, is not trusted)."""
    if name in _SKOPS_TRUSTED_TYPES:
        return True
    module, _, attribute = name.rpartition(".")
    if not module.startswith(_SKOPS_TRUSTED_PACKAGES) or not attribute:
        return False
    import importlib

    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type) and found.__module__ == module


def _load_skops(model_file: Path, payload: bytes, trusted: Iterable[str] | None):
    from skquant.utils._optional import import_optional

    sio = import_optional("skops.io")
    if isinstance(trusted, str):  # one name, not its characters
        trusted = [trusted]
    extra = set() if trusted is None else {str(t) for t in trusted}
    try:
        unknown = sio.get_untrusted_types(data=payload)
    except Exception as exc:
        raise ModelIntegrityError(f"{str(model_file)!r} is not a skops file: {exc}.") from exc
    refused = [name for name in unknown if name not in extra and not _trusted_by_default(name)]
    if refused:
        raise ModelIntegrityError(
            f"{str(model_file)!r} holds types that are not trusted: {', '.join(refused)}. "
            "Inspect them and pass trusted=[...] to load_model if you trust them."
        )
    try:
        return sio.loads(payload, trusted=list(unknown))
    except Exception as exc:
        raise ModelIntegrityError(f"Could not load {str(model_file)!r}: {exc}.") from exc
