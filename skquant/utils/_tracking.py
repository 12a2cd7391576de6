"""Optional MLflow tracking of a run: parameters, metrics, per-step metrics, artifacts.

:func:`tracking` opens one MLflow run when a tracking URI is given (or
``MLFLOW_TRACKING_URI`` is set) and yields a :class:`Tracker` that logs to it
through an ``MlflowClient`` (no global MLflow state is set);
without a URI it yields a tracker that does nothing, and ``mlflow`` is never
imported. :meth:`Tracker.child` opens a run nested under it (one per
symbol/model pair of ``train-all``, one per trial of a study). It lives in
``skquant.utils`` so that both the command line and library code can log.

MLflow limits what it stores: a parameter key is at most 250 characters of letters,
digits, ``_ - . / :`` and spaces, and a value at most 6000 characters (500 in
MLflow before 2.x and on some hosted servers). :func:`flatten_params` writes
nested settings as ``a.b`` keys, lists as JSON, replaces other characters in keys
by ``_`` and cuts values at :data:`MAX_PARAM_CHARS`; the whole settings stay
readable in the run's artifacts (``run_manifest.json``, ``config.json``).
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

# The limits every MLflow store accepts (older stores: 500 characters a value).
MAX_PARAM_CHARS = 500
MAX_KEY_CHARS = 250
_BAD_KEY_CHARS = re.compile(r"[^\w\-. /:]")
URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"


def tracking_uri(uri: str | None = None) -> str | None:
    """``uri``, else ``$MLFLOW_TRACKING_URI``, else None (no tracking)."""
    return uri or os.environ.get(URI_ENV) or None


def _key(key: str) -> str:
    return _BAD_KEY_CHARS.sub("_", str(key))[:MAX_KEY_CHARS]


def _text(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, (list, tuple, set)):
        from skquant.utils._io import to_jsonable

        text = json.dumps(to_jsonable(list(value)))
    else:
        text = str(value)
    if len(text) > MAX_PARAM_CHARS:
        text = text[: MAX_PARAM_CHARS - 3] + "..."
    return text


def flatten_params(params: Mapping, prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": "1", "c": "[1, 2]"}``, MLflow-safe.

    Nested mappings become dotted keys; lists, tuples and sets JSON; every value a
    string of at most :data:`MAX_PARAM_CHARS` characters (a cut one ends in ``...``).
    """
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, f"{name}."))
        else:
            flat[_key(name)] = _text(value)
    return flat


def numeric_items(values: Mapping, prefix: str = "") -> dict[str, float]:
    """The numbers of ``values`` (nested mappings as dotted keys) as floats.

    Strings, None, booleans and other values are left out; NaN and infinities stay
    (MLflow stores them).
    """
    out: dict[str, float] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(numeric_items(value, f"{name}."))
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            out[_key(name)] = float(value)
    return out


class Tracker:
    """Logs to one MLflow run; without a client every method does nothing.

    It talks to the store through an ``mlflow.MlflowClient``, not MLflow's global
    "active run": nothing is left set in the process (MLflow's ``set_tracking_uri``
    and ``set_experiment`` export ``MLFLOW_TRACKING_URI`` and
    ``MLFLOW_EXPERIMENT_ID``, which later runs and child processes would inherit).

    Parameters
    ----------
    client : mlflow.MlflowClient, default=None
        The store's client; None makes a tracker that logs nothing.
    run_id : str, default=None
        The run logged to.
    experiment_id : str, default=None
        Its experiment (where :meth:`child` runs go).

    Attributes
    ----------
    enabled : bool
        Whether anything is logged.
    """

    def __init__(self, client=None, run_id: str | None = None, experiment_id: str | None = None):
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self._ended = False

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _log(self, **entities) -> None:
        if self.client is not None and any(entities.values()):
            self.client.log_batch(self.run_id, **entities)

    def log_params(self, params: Mapping, prefix: str = "") -> None:
        """Log ``params`` through :func:`flatten_params` (keys under ``prefix``)."""
        if self.client is not None:
            from mlflow.entities import Param

            flat = flatten_params(params, prefix)
            self._log(params=[Param(k, v) for k, v in flat.items()])

    def log_metrics(self, metrics: Mapping, step: int | None = None, prefix: str = "") -> None:
        """Log the numbers of ``metrics`` (:func:`numeric_items`), at ``step`` if given."""
        if self.client is not None:
            from mlflow.entities import Metric

            now = int(time.time() * 1000)
            values = numeric_items(metrics, prefix)
            step = 0 if step is None else int(step)
            self._log(metrics=[Metric(k, v, now, step) for k, v in values.items()])

    def log_steps(self, rows, step: str, prefix: str = "") -> None:
        """Log each row's numbers (a DataFrame or dicts) at the step its ``step`` column gives.

        ``rows`` of a per-fold table with ``step="fold"`` become one metric history
        per column, ``prefix + column``, indexed by fold number.
        """
        if self.client is None:
            return
        records = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
        for record in records:
            number = record[step]
            if isinstance(number, numbers.Real) and math.isfinite(number):
                values = {k: v for k, v in record.items() if k != step}
                self.log_metrics(values, step=int(number), prefix=prefix)

    def set_tags(self, tags: Mapping) -> None:
        """Set run tags (values as MLflow-safe text)."""
        if self.client is not None:
            from mlflow.entities import RunTag

            self._log(tags=[RunTag(k, v) for k, v in (_tags(tags) or {}).items()])

    def log_artifact(self, path, artifact_path: str | None = None) -> None:
        """Log one file under ``artifact_path``."""
        if self.client is not None:
            self.client.log_artifact(self.run_id, str(path), artifact_path=artifact_path)

    def log_artifacts(
        self,
        folder,
        artifact_path: str | None = None,
        exclude: tuple[str, ...] = (),
        recursive: bool = True,
    ) -> None:
        """Log the files of ``folder`` (with its subfolders' if ``recursive``) under
        ``artifact_path``, but those named in ``exclude`` and hidden ones (``.name``).
        """
        if self.client is None:
            return
        folder = Path(folder)
        for path in sorted(folder.rglob("*") if recursive else folder.iterdir()):
            rel = path.relative_to(folder)
            if not path.is_file() or path.name in exclude:
                continue
            if any(part.startswith(".") for part in rel.parts):
                continue
            where = "/".join(p for p in (artifact_path, *rel.parent.parts) if p) or None
            self.log_artifact(path, artifact_path=where)

    def end(self, status: str = "FINISHED") -> None:
        """End the run with ``status`` (FINISHED, FAILED, KILLED) unless already ended."""
        if self.client is not None and not self._ended:
            self.client.set_terminated(self.run_id, status=status)
        self._ended = True

    def fail(self) -> None:
        """End the run with status FAILED (its ``with`` block then ends nothing)."""
        self.end("FAILED")

    def child(self, run_name: str, tags: Mapping | None = None):
        """A run nested under this one, for the ``with`` block (a context manager).

        Examples
        --------
        >>> with tracking("sqlite:///mlruns.db") as parent:  # doctest: +SKIP
        ...     for trial in trials:
        ...         with parent.child(f"trial {trial.number}") as run:
        ...             run.log_params(trial.params)
        ...             run.log_metrics({"sharpe": trial.value})
        """
        if self.client is None:
            return contextlib.nullcontext(self)
        tags = {**(tags or {}), "mlflow.parentRunId": self.run_id}
        return _run(self.client, self.experiment_id, run_name, tags)


def _tags(tags: Mapping | None) -> dict | None:
    return None if not tags else {_key(k): _text(v) for k, v in tags.items()}


@contextlib.contextmanager
def _run(client, experiment_id: str, run_name: str | None, tags) -> Iterator[Tracker]:
    """A new run of ``experiment_id``, FINISHED after the block, FAILED if it raises."""
    run = client.create_run(experiment_id, tags=_tags(tags), run_name=run_name)
    tracker = Tracker(client, run.info.run_id, experiment_id)
    try:
        yield tracker
    except BaseException as exc:
        tracker.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    tracker.end()


def _experiment_id(client, name: str) -> str:
    """The id of experiment ``name``, created if new (also when another process races)."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except Exception:  # created meanwhile by another run: use it
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


@contextlib.contextmanager
def tracking(
    uri: str | None = None,
    experiment: str | None = None,
    *,
    default_experiment: str = "skquant",
    run_name: str | None = None,
    tags: Mapping | None = None,
) -> Iterator[Tracker]:
    """One MLflow run around the ``with`` block, or nothing without a tracking URI.

    Parameters
    ----------
    uri : str, default=None
        The tracking URI (``sqlite:///mlruns.db``, ``http://host:5000``, a folder);
        None reads ``$MLFLOW_TRACKING_URI``; without either nothing is tracked and
        ``mlflow`` is not imported.
    experiment : str, default=None
        The experiment's name (created if new); None reads
        ``$MLFLOW_EXPERIMENT_NAME``, else ``default_experiment``.
    default_experiment : str, default="skquant"
        The experiment when neither ``experiment`` nor the variable names one.
    run_name : str, default=None
        The run's name (MLflow makes one up when None).
    tags : mapping, default=None
        Tags of the run.

    Yields
    ------
    tracker : Tracker
        Logs to the run; a do-nothing tracker without a URI. The run ends FINISHED
        when the block completes, FAILED when it raises (KILLED on Ctrl-C).

    Raises
    ------
    ImportError
        With a URI when ``mlflow`` is not installed (the message names the
        ``mlflow`` extra).
    """
    uri = tracking_uri(uri)
    if uri is None:
        yield Tracker()
        return
    from skquant.utils._optional import import_optional

    mlflow = import_optional("mlflow")
    client = mlflow.MlflowClient(tracking_uri=uri)
    name = experiment or os.environ.get(EXPERIMENT_ENV) or default_experiment
    with _run(client, _experiment_id(client, name), run_name, tags) as tracker:
        yield tracker
