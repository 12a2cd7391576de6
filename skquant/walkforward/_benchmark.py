"""A model-zoo leaderboard: many families and seeds through one walk-forward, one table.

Every run is one (model, seed) pair evaluated by the same :class:`WalkForwardEngine`
(same data, folds, portfolio rule and costs); the seed is the trainer's
``random_state``. Each finished run is written to ``runs/<model>/seed=<s>/`` (its
net returns, then ``summary.json``, each atomically), so a re-run reuses the finished
runs and redoes only the missing or crashed ones.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import pydoc
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from skquant.metrics import annual_return, deflated_sharpe_ratio, sharpe_ratio
from skquant.utils._checkpoint import remove_unused
from skquant.utils._cross_section import pearson_ic_by_date
from skquant.utils._equity import equity_curve
from skquant.utils._io import data_hash
from skquant.utils._text import few_names
from skquant.utils._time import dates_of
from skquant.utils._warnings import caller_stacklevel, record_warnings
from skquant.walkforward._engine import WalkForwardEngine

# The statistics of one run, in the leaderboard's column order.
RUN_METRICS = (
    "ic",
    "icir",
    "rank_ic",
    "rank_icir",
    "sharpe",
    "deflated_sharpe",
    "annual_return",
    "max_drawdown",
    "turnover",
    "fit_seconds",
)
# The feature families that join the default list, each ahead of LightGBM.
FEATURE_PIPELINES = ("vae+lightgbm", "gmm_regime+lightgbm")
# Whose versions a leaderboard records.
PACKAGES = ("skquant", "scikit-learn", "lightgbm", "xgboost", "torch", "numpy", "pandas")
# The engine parameters benchmark() sets itself.
_OWN_ENGINE_PARAMS = ("data", "n_jobs", "verbose")


def default_models(*, installed: bool = True) -> list[str]:
    """Every supervised family of the registry, then ``vae+lightgbm`` and ``gmm_regime+lightgbm``.

    A family is supervised when scikit-learn calls it a regressor or a classifier
    (:func:`sklearn.base.is_regressor`, :func:`~sklearn.base.is_classifier`); the
    feature families (VAE, GAN, GMM regimes, change points) are transformers.

    Parameters
    ----------
    installed : bool, default=True
        Leave out the models this install cannot fit: without the ``nets`` extra,
        the nets and ``vae+lightgbm`` (see :func:`skquant.registry.missing_dependencies`).
    """
    from sklearn.base import is_classifier, is_regressor

    from skquant.registry import all_estimators

    supervised = [
        name for name, cls in all_estimators() if is_regressor(cls()) or is_classifier(cls())
    ]
    specs = [*supervised, *FEATURE_PIPELINES]
    return [spec for spec in specs if not (installed and _missing_dependencies(spec))]


def _warn_left_out(left_out: list[str]) -> None:
    """Warn which default models this install leaves out, and what it lacks."""
    if not left_out:
        return
    from skquant.utils._optional import install_hint

    lacking = list(dict.fromkeys(m for spec in left_out for m in _missing_dependencies(spec)))
    warnings.warn(
        f"benchmark: {', '.join(left_out)} left out of the default models: this install "
        f"lacks {' and '.join(lacking)} ({install_hint(lacking[0])}).",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def _missing_dependencies(spec: str) -> list[str]:
    """The optional modules the families of ``spec`` need that this install lacks."""
    from skquant.registry import missing_dependencies

    return list(dict.fromkeys(m for part in spec.split("+") for m in missing_dependencies(part)))


def _families(spec: str) -> list[str]:
    """The registry names of a model spec: ``"lightgbm"`` or ``"vae+lightgbm"``."""
    from sklearn.base import is_classifier, is_regressor

    from skquant.registry import get_trainer

    if not isinstance(spec, str) or not spec:
        raise ValueError(f"models must be registry names, got {spec!r}.")
    parts = spec.split("+")
    classes = [get_trainer(part) for part in parts]  # unknown name: ValueError listing all
    *features, model = zip(parts, classes, strict=True)
    if not (is_regressor(model[1]()) or is_classifier(model[1]())):
        raise ValueError(
            f"models: {spec!r} must end in a supervised family (a regressor or classifier); "
            f"{model[0]!r} is a feature model: use it as {model[0]}+lightgbm."
        )
    for name, cls in features:
        if not hasattr(cls, "transform"):
            raise ValueError(
                f"models: in {spec!r}, {name!r} is not a feature model (it has no transform); "
                "only feature families may stand before '+'."
            )
    missing = _missing_dependencies(spec)
    if missing:
        from skquant.utils._optional import lacks_message

        raise ImportError(lacks_message(f"models: {spec!r}", missing))
    return parts


def _seeded(spec: str) -> bool:
    """Whether a family of ``spec`` takes a ``random_state``: one that takes none
    (ftrl_proximal, meta_learning, reward_based) is deterministic, so its seeds would
    repeat one run, counted as independent seeds (a std of 0) and as trials."""
    from skquant.config import valid_config_keys

    return any("random_state" in valid_config_keys(family)[0] for family in _families(spec))


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1 (or a list of seeds), got {seeds}.")
        return list(range(int(seeds)))
    try:
        values = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise ValueError(f"seeds must be an int or a list of ints, got {seeds!r}.") from None
    if not values or len(set(values)) != len(values):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds!r}.")
    return values


def _family_config(family: str, variant, seed: int, configs) -> dict:
    """The variant's config of ``family`` with ``random_state=seed`` and one thread.

    ``configs[family]`` (the caller's overrides) wins over both; a family without a
    ``random_state`` key is deterministic and ignores the seed.
    """
    from skquant.config import load_model_config, valid_config_keys

    keys, _ = valid_config_keys(family)
    overrides = {"random_state": seed} if "random_state" in keys else {}
    if "n_jobs" in keys:  # runs go in parallel: one OpenMP team per run
        overrides["n_jobs"] = 1
    overrides.update((configs or {}).get(family) or {})
    return load_model_config(family, variant=variant, overrides=overrides)


def _estimator(engine: WalkForwardEngine, spec: str, variant, seed: int, configs):
    """The estimator of one run: a trainer, or raw features + feature models -> a trainer.

    Each trainer is built as :meth:`WalkForwardEngine.run` builds one by name (its inner
    splits embargoed as long as the folds); the engine clones the whole pipeline per
    fold, so a feature model is refitted on each training window only.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    families = _families(spec)
    steps = [
        engine._estimator(f, _family_config(f, variant, seed, configs), None) for f in families
    ]
    if len(steps) == 1:
        return steps[0]
    union = FeatureUnion([("raw", "passthrough"), *zip(families[:-1], steps[:-1], strict=True)])
    # pandas output keeps the (date, symbol) index to the last model, whose early-stopping
    # tail and embargo are then cut in dates (on a bare array they would be cut in rows)
    return Pipeline([("features", union), (families[-1], steps[-1])]).set_output(transform="pandas")


def _version_by_files(module: str) -> str | None:
    """The version of the distribution that installed ``module``'s folder, or None.

    Python 3.10's ``packages_distributions`` reads only ``top_level.txt``, which a
    wheel such as ``xgboost-cpu`` does not ship; its file list names the folder.
    """
    if importlib.util.find_spec(module) is None:
        return None
    for dist in metadata.distributions():
        if any(f.parts[:1] == (module,) for f in dist.files or ()):
            return dist.version
    return None


def package_versions() -> dict:
    """The installed version of each of :data:`PACKAGES` (None where absent).

    A package is looked up by its import name, so another distribution of it
    (``xgboost-cpu``) counts too.
    """
    providers = metadata.packages_distributions()
    versions = {}
    for name in PACKAGES:
        module = "sklearn" if name == "scikit-learn" else name
        versions[name] = None
        for dist in [name, *providers.get(module, [])]:
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
        if versions[name] is None:
            versions[name] = _version_by_files(module)
    versions["python"] = sys.version.split()[0]
    return versions


def _run_one(engine, filters, spec: str, seed: int, estimator, fingerprint: str, folder) -> dict:
    """Evaluate one (model, seed) run; write its returns then its summary.json."""
    from skquant.utils._io import atomic_write_bytes, atomic_write_json

    # each fold kept as it finishes: a killed run resumes, and the same run under
    # another cost or portfolio rule (another fingerprint) fits nothing
    checkpoints = None if folder is None else Path(folder) / "checkpoints"
    started = time.time()
    # a worker process printed each warning raw, without its run: kept in the record,
    # the caller says each once (_RunWarnings), a reused run's too; under the
    # caller's filters (a library's DeprecationWarning, ignored there, is not recorded)
    with record_warnings(filters) as caught:
        result = engine.run(
            estimator=estimator, metrics=("sharpe", "max_drawdown"), checkpoint_dir=checkpoints
        )
    if checkpoints is not None:  # those of this run's earlier settings or data
        remove_unused(checkpoints, since=started)
    pred = result.predictions
    score = pred["proba"] if "proba" in pred else pred["prediction"]
    target = engine.data[engine.target_].reindex(pred.index).to_numpy(dtype=np.float64)
    daily = pearson_ic_by_date(target, score.to_numpy(dtype=np.float64), dates_of(pred)).dropna()
    returns = result.returns[["net", "benchmark"]]
    record = {
        "model": spec,
        "seed": seed,
        "fingerprint": fingerprint,
        "ic": float(daily.mean()),
        "icir": float(daily.mean() / daily.std()) if len(daily) > 1 else float("nan"),
        "ic_dates": len(daily),
        "rank_ic": result.summary["ic"],
        "rank_icir": result.summary["icir"],
        "sharpe": result.summary["sharpe"],
        # the engine's convention: a date without returns counts as a flat period
        "annual_return": annual_return(returns["net"].to_numpy(), result.periods_per_year),
        "max_drawdown": result.summary["max_drawdown"],
        "turnover": result.summary["turnover"],
        "psr": result.summary["psr"],
        "fit_seconds": float(np.mean(result.fit_seconds)),
        "fit_seconds_per_fold": [float(s) for s in result.fit_seconds],
        "n_folds": len(result.folds),
        # [category, message] of each distinct warning, in order
        "warnings": list(
            dict.fromkeys(
                (f"{item.category.__module__}.{item.category.__qualname__}", str(item.message))
                for item in caught
            )
        ),
    }
    if folder is not None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / "returns.csv", returns.to_csv().encode("utf-8"))
        atomic_write_json(folder / "summary.json", record, sort_keys=False)  # marks it done
    return {"record": record, "returns": returns}


# the figures of a warning's text (not the digits of a name, as fwd_ret_5's): runs
# whose warnings differ only in them give one warning; a date (and time) is one figure
_FIGURE = re.compile(
    r"(?<![\w.])(?:\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"
    r"|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?!\w|\.\d)"
)
_BLANK = "\x00"  # stands for a figure in the key: no warning's text holds it


class _RunWarnings:
    """The runs' warnings, each said when a run first gives it (a long benchmark's
    must not wait for its end), naming that run and those of its batch; :meth:`close`
    says once more, naming them all, a warning that later runs gave too (one line
    for 50 runs, not 50 lines, each distinct by its run's name). Warnings that differ
    only in their figures ("summary ic rests on 3030 of 4500 test dates", 3101 in
    the next run) are one warning, whose figures that differ are given as their range
    over the runs it names ("3030 to 3101"); each run's own text stays in its
    ``summary.json``."""

    def __init__(self) -> None:
        # (category, text with its figures blanked) -> [(run, message)]
        self.runs: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.named: dict[tuple[str, str], int] = {}  # how many runs its line named

    def say(self, records: list[dict]) -> None:
        """Say the warnings of ``records`` (a reused run's from its ``summary.json``)
        that no earlier run gave."""
        new = []
        for record in records:
            for category, message in record.get("warnings") or ():
                key = (category, _FIGURE.sub(_BLANK, message))
                if key not in self.runs:
                    new.append(key)
                run = f"{record['model']} seed={record['seed']}"
                self.runs.setdefault(key, []).append((run, message))
        for key in dict.fromkeys(new):
            self.named[key] = len(self.runs[key])
            _warn_as(key[0], self.runs[key])

    def close(self) -> None:
        """Say again, naming every run, each warning that runs after the first gave."""
        for key, runs in self.runs.items():
            if len(runs) > self.named[key]:
                _warn_as(key[0], runs)


def _warn_as(category: str, runs: list[tuple[str, str]]) -> None:
    """Warn the runs' message (:func:`_merged`), naming them, in its own category where
    that can be rebuilt."""
    kind = pydoc.locate(category)
    if not (isinstance(kind, type) and issubclass(kind, Warning)):
        kind = UserWarning
    text = f"{_merged([message for _, message in runs])} ({few_names([r for r, _ in runs])})"
    try:
        warning = kind(text)
    except TypeError:  # keyword-only, as scikit-learn's InconsistentVersionWarning
        warning = UserWarning(text)
    warnings.warn(warning, stacklevel=caller_stacklevel())


def _merged(messages: list[str]) -> str:
    """The text of ``messages``, which differ only in their figures, with each figure
    that differs given as its range ("12 to 4490")."""
    parts = _FIGURE.split(messages[0])
    figures = [_FIGURE.findall(message) for message in messages]
    if any(len(found) != len(parts) - 1 for found in figures):  # pragma: no cover
        return messages[0]  # not one text with other figures after all: the first's
    text = [parts[0]]
    for k, part in enumerate(parts[1:]):
        values = [found[k] for found in figures]
        low, high = min(values, key=_figure_order), max(values, key=_figure_order)
        text.append(low if _figure_order(low) == _figure_order(high) else f"{low} to {high}")
        text.append(part)
    return "".join(text)


def _figure_order(figure: str):
    """A figure's place among its kind: a number's value, a date's ISO text."""
    try:
        return (0, float(figure), "")
    except ValueError:
        return (1, 0.0, figure)


def _finished(folder: Path, fingerprint: str):
    """A finished run of the same settings in ``folder``, or None (missing, crashed, stale)."""
    try:
        record = json.loads((folder / "summary.json").read_text())
        returns = pd.read_csv(folder / "returns.csv", index_col=0, parse_dates=True)
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != fingerprint:
        return None
    record = {k: (float("nan") if v is None else v) for k, v in record.items()}
    return {"record": record, "returns": returns}


def _fingerprint(data_sha: str, settings: dict, estimator) -> str:
    """SHA-256 of what a run depends on: the data, the engine's settings, every
    non-estimator parameter of the estimator (a pipeline's steps' included) and the
    installed versions of skquant and the libraries (an upgrade reruns every run)."""
    params = {
        key: value
        for key, value in estimator.get_params(deep=True).items()
        if key not in ("steps", "transformer_list") and not hasattr(value, "get_params")
    }
    params["__class__"] = type(estimator).__name__
    text = json.dumps(
        [data_sha, settings, params, package_versions()], sort_keys=True, default=repr
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _run_folder(output_dir, spec: str, seed: int):
    if output_dir is None:
        return None
    return Path(output_dir) / "runs" / spec / f"seed={seed}"


@dataclass(eq=False)
class Leaderboard:
    """What :func:`benchmark` returns: the table, the runs behind it, their returns.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``), sorted by mean net Sharpe (best first):
        ``n_seeds`` (1 for a deterministic family, which runs once) and, for each of
        ``ic``, ``icir``, ``rank_ic``, ``rank_icir``,
        ``sharpe``, ``deflated_sharpe``, ``annual_return``, ``max_drawdown``,
        ``turnover`` and ``fit_seconds``, its mean (``_mean``) and standard
        deviation (``_std``, ``ddof=1``; NaN with one seed) over the seeds; NaN
        when a seed has none (an IC of a seed that predicted one value throughout),
        and a model whose Sharpe is NaN ranks last.
    runs : DataFrame
        One row per (model, seed): the same statistics of that run (what its
        ``summary.json`` holds).
    returns : DataFrame
        Net return per date, one column per (model, seed) (a column MultiIndex).
    benchmark : Series
        The equal-weight long return per date (the same for every run).
    manifest : dict
        What makes the table reproducible: package versions, the data's SHA-256,
        the engine's resolved windows, portfolio and costs, the models, variant and
        seeds, the models that take no ``random_state`` (run once), and the number
        and Sharpe variance of the trials.
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    returns: pd.DataFrame
    benchmark: pd.Series
    manifest: dict = field(default_factory=dict)

    def equity(self) -> pd.DataFrame:
        """Net equity per model (the seeds' mean net return per date, compounded from 1),
        and ``benchmark``'s."""
        mean = self.returns.T.groupby(level=0, sort=False).mean().T
        frame = pd.concat(
            [mean[list(self.table.index)], self.benchmark.rename("benchmark")], axis=1
        )
        return frame.apply(equity_curve)

    def to_markdown(self) -> str:
        """The table as Markdown, each statistic ``mean ± std`` over seeds, with its settings."""
        m = self.manifest
        lines = [
            "| model | " + " | ".join(_LABELS[k] for k in RUN_METRICS) + " |",
            "|---|" + "---:|" * len(RUN_METRICS),
        ]
        for model, row in self.table.iterrows():
            cells = [_cell(row[f"{k}_mean"], row[f"{k}_std"], k) for k in RUN_METRICS]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        windows = m.get("windows", {})
        header = [
            f"Walk-forward leaderboard: {len(self.table)} models x {len(m.get('seeds', []))} "
            f"seeds (seeds {m.get('seeds')}), mean ± std over seeds"
            + (
                f"; {', '.join(m['deterministic_models'])} "
                f"{'takes' if len(m['deterministic_models']) == 1 else 'take'} no random_state "
                "and ran once (no ±)."
                if m.get("deterministic_models") and len(m.get("seeds", [])) > 1
                else "."
            ),
            "",
            f"- data: sha256 {m.get('data', {}).get('sha256', '')[:16]}..., "
            f"{m.get('data', {}).get('n_rows')} rows; target {m.get('target')}, "
            f"returns {m.get('return_col')}",
            f"- windows: {', '.join(f'{k}={v}' for k, v in windows.items())}",
            f"- portfolio: {m.get('portfolio')}, quantile {m.get('quantile')}, "
            f"cost {m.get('cost_bps')} bp per unit traded; variant {m.get('variant')}",
            "- versions: " + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items() if v),
            "",
        ]
        return "\n".join(header + lines) + "\n"

    def plot(self, path=None):
        """Net equity per model (seed mean) against the equal-weight benchmark.

        Parameters
        ----------
        path : str or path-like, default=None
            Also save the figure there (PNG by its suffix).

        Returns
        -------
        fig : matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt  # the caller's backend: a library does not switch it

        equity = self.equity()
        fig, ax = plt.subplots(figsize=(9, 5))
        for name in equity.columns:
            style = {"color": "black", "linestyle": "--"} if name == "benchmark" else {}
            ax.plot(equity.index, equity[name], label=name, linewidth=1.2, **style)
        ax.set_ylabel("net equity (mean over seeds)")
        ax.set_title("Walk-forward leaderboard: net equity per model")
        ax.legend(fontsize=8, ncol=2)
        fig.tight_layout()
        if path is not None:
            from skquant.utils._io import atomic_write_figure

            atomic_write_figure(path, fig, dpi=100)
        return fig

    def save(self, directory) -> Path:
        """Write ``leaderboard.csv``, ``leaderboard.md``, ``leaderboard.json`` and
        ``leaderboard.png`` into ``directory`` (each atomically)."""
        from skquant.utils._io import atomic_write_bytes, atomic_write_figure, atomic_write_json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        csv = self.table.to_csv(float_format="%.10g").encode("utf-8")
        atomic_write_bytes(directory / "leaderboard.csv", csv)
        atomic_write_bytes(directory / "leaderboard.md", self.to_markdown().encode("utf-8"))
        atomic_write_json(directory / "leaderboard.json", self.manifest, sort_keys=False)
        import matplotlib.pyplot as plt

        fig = self.plot()
        try:
            atomic_write_figure(directory / "leaderboard.png", fig, dpi=100)
        finally:
            plt.close(fig)
        return directory


_LABELS = {
    "ic": "IC",
    "icir": "ICIR",
    "rank_ic": "Rank IC",
    "rank_icir": "Rank ICIR",
    "sharpe": "Sharpe (net)",
    "deflated_sharpe": "Deflated Sharpe",
    "annual_return": "Annual return",
    "max_drawdown": "Max drawdown",
    "turnover": "Turnover",
    "fit_seconds": "Fit s/fold",
}


def _cell(mean, std, key) -> str:
    if key == "fit_seconds":  # 0.0 said nothing of a fit under 0.05 s
        digits = 1 if abs(mean) >= 1 else 3
    else:
        digits = 3 if key in ("sharpe", "deflated_sharpe") else 4
    text = "nan" if not np.isfinite(mean) else f"{mean:.{digits}f}"
    return text if not np.isfinite(std) else f"{text} ± {std:.{digits}f}"


def _aggregate(done: dict, order: list):
    """The runs (with deflated Sharpe ratios), the per-model table, the net returns per
    run, the benchmark's, and the trials; ``order`` lists the (model, seed) runs."""
    returns = pd.concat(
        {key: done[key]["returns"]["net"] for key in order}, axis=1, names=["model", "seed"]
    ).sort_index()
    bench = done[order[0]]["returns"]["benchmark"].reindex(returns.index)
    per_period = []
    for key in order:
        net = returns[key].to_numpy()
        per_period.append(sharpe_ratio(net[np.isfinite(net)], periods_per_year=1))
    finite = np.array([s for s in per_period if np.isfinite(s)])
    variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
    n_trials = len(order)
    rows = []
    for key in order:
        record = dict(done[key]["record"])
        net = returns[key].to_numpy()
        net = net[np.isfinite(net)]
        record["deflated_sharpe"] = (
            deflated_sharpe_ratio(net, n_trials, variance) if len(net) > 1 else float("nan")
        )
        rows.append(record)
    runs = pd.DataFrame(rows)[["model", "seed", *RUN_METRICS, "psr", "n_folds"]]
    grouped = runs.groupby("model", sort=False)[list(RUN_METRICS)]
    # a seed without a number (NaN) leaves the model's mean unknown: skipping it
    # averaged the other seeds while n_seeds still counted it
    unknown = runs[list(RUN_METRICS)].isna().groupby(runs["model"], sort=False).any()
    mean, std = grouped.mean().mask(unknown), grouped.std(ddof=1).mask(unknown)
    table = pd.DataFrame({"n_seeds": grouped.size()})
    for k in RUN_METRICS:
        table[f"{k}_mean"], table[f"{k}_std"] = mean[k], std[k]
    table = table.sort_values(["sharpe_mean"], ascending=False, kind="stable")
    table.index.name = "model"
    trials = {"n_trials": n_trials, "trials_sharpe_variance": variance}
    return runs, table, returns, bench, trials


def benchmark(
    data: pd.DataFrame,
    *,
    models=None,
    variant: str | None = None,
    seeds=3,
    configs: dict | None = None,
    n_jobs: int | None = None,
    output_dir=None,
    verbose: bool = False,
    **engine_params,
) -> Leaderboard:
    """Run many model families over several seeds through one walk-forward and rank them.

    Each (model, seed) run is one :meth:`WalkForwardEngine.run` of the same engine: the
    same data, folds, embargo, portfolio rule and costs; the seed is the trainer's
    ``random_state``. A family without one (``ftrl_proximal``, ``meta_learning``,
    ``reward_based``; a pipeline none of whose families has one) is deterministic and
    runs once, with the first seed: its seeds would repeat one run, shown as a
    standard deviation of 0 and counted as trials. Per run it records:

    - ``ic``: the mean over dates of the **Pearson** correlation of prediction and
      target across symbols, and ``icir`` = mean / standard deviation of those;
      ``ic_dates``, the number of dates they rest on (a date whose predictions or
      targets are all equal has none);
    - ``rank_ic``, ``rank_icir``: the same with the **Spearman** correlation (the
      engine's ``summary["ic"]`` and ``summary["icir"]``);
    - ``sharpe`` (annualised, on net returns), ``annual_return`` (compound annual
      growth of the net returns), ``max_drawdown``, ``turnover`` (mean per period),
      ``psr``, and ``fit_seconds`` (mean wall seconds of a fold's fit);
    - ``deflated_sharpe``: :func:`~skquant.metrics.deflated_sharpe_ratio` of the run's
      net returns given ``n_trials`` = the number of runs (models x seeds, a
      deterministic family one) and the variance of all runs' per-period Sharpe
      ratios (``ddof=1``).

    The leaderboard holds each statistic's mean and standard deviation over seeds.

    Parameters
    ----------
    data : DataFrame
        The labeled panel, as for :class:`WalkForwardEngine`.
    models : list of str, default=None
        Registry names; ``"vae+lightgbm"`` feeds the raw features plus a feature
        model's (VAE, GMM regimes, GAN, change points) into a supervised family, all
        refitted per fold inside one ``Pipeline``. None means :func:`default_models`:
        every supervised family, ``vae+lightgbm`` and ``gmm_regime+lightgbm``, less
        those this install cannot fit (without the ``nets`` extra: the nets and
        ``vae+lightgbm``), with a ``UserWarning`` naming them.
    variant : str, default=None
        The config variant of every family (None: ``MODEL_VARIANT``, else
        ``balanced``, as :func:`~skquant.load_model_config`).
    seeds : int or list of int, default=3
        Seeds ``0 .. seeds - 1``, or the seeds themselves.
    configs : dict, default=None
        ``{family: {key: value}}`` overrides over each family's variant (for a
        pipeline, per step family). Every family gets ``n_jobs=1`` unless set here.
    n_jobs : int, default=None
        Runs in parallel through joblib (None is 1 unless inside a
        ``joblib.parallel_config`` context, e.g. ``backend="dask"``); folds of a run
        go one after another. The table does not depend on it, but ``fit_seconds``
        measures the machine and differs between runs of the same command.
    output_dir : str or path-like, default=None
        Where ``runs/<model>/seed=<s>/`` (``returns.csv``, then ``summary.json``, and
        the fold checkpoints of :meth:`WalkForwardEngine.run` in ``checkpoints/``) and
        ``leaderboard.csv``, ``.md``, ``.json`` and ``.png`` go. A run whose
        ``summary.json`` exists with the same settings (data hash, engine, config)
        is reused; others are (re)run, loading the folds a killed run or one with
        another ``portfolio``, ``quantile`` or ``cost_bps`` already fitted. None keeps
        everything in memory.
    verbose : bool, default=False
        Print one line per finished run to stderr.
    **engine_params
        :class:`WalkForwardEngine` parameters (``target``, ``return_col``,
        ``features``, the windows or ``cv``, ``portfolio``, ``quantile``,
        ``cost_bps``, ...), all but ``data``, ``n_jobs`` and ``verbose``.

    Returns
    -------
    leaderboard : Leaderboard

    Raises
    ------
    ValueError
        An unknown model (the message lists the registry), a feature model last in a
        spec, bad seeds, an engine parameter that does not exist, and the engine's own
        errors.
    ImportError
        A model in ``models`` that needs an extra this install lacks (the message
        names it), before any run.

    Examples
    --------
    >>> from skquant import make_synthetic_panel
    >>> from skquant.walkforward import benchmark
    >>> panel = make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)
    >>> board = benchmark(panel, models=["lightgbm", "ftrl_proximal"], seeds=2,
    ...                   configs={"lightgbm": {"n_estimators": 20}}, target="fwd_ret",
    ...                   train_days=100, test_days=100, step_days=100,
    ...                   min_train_samples=200)  # doctest: +SKIP
    >>> board.table[["rank_ic_mean", "sharpe_mean"]]  # doctest: +SKIP
    """
    allowed = set(inspect.signature(WalkForwardEngine).parameters) - set(_OWN_ENGINE_PARAMS)
    unknown = sorted(set(engine_params) - allowed)
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {', '.join(unknown)}; benchmark passes these to "
            f"WalkForwardEngine: {', '.join(sorted(allowed))}."
        )
    if models is None:
        specs = default_models()
        _warn_left_out([spec for spec in default_models(installed=False) if spec not in specs])
    else:
        specs = list(models)
    if not specs or len(set(specs)) != len(specs):
        raise ValueError(f"models must be distinct and at least one, got {models!r}.")
    for spec in specs:  # a bad name or a missing extra ends the call before any run
        _families(spec)
    seed_list = _seed_list(seeds)
    engine = WalkForwardEngine(data, n_jobs=1, **engine_params)
    data_sha = data_hash(data)
    settings = {
        "target": engine.target_,
        "return_col": engine.return_col_,
        "features": list(engine.features_),
        "windows": _windows(engine),
        "periods_per_year": engine.periods_per_year_,
        "portfolio": engine.portfolio,
        "quantile": engine.quantile,
        "cost_bps": engine.cost_bps,
    }
    plan = []
    for spec in specs:
        # a deterministic family runs once, with the first seed: one run, one trial
        for seed in seed_list if _seeded(spec) else seed_list[:1]:
            estimator = _estimator(engine, spec, variant, seed, configs)
            fingerprint = _fingerprint(data_sha, settings, estimator)
            plan.append((spec, seed, estimator, fingerprint))

    done = {}
    pending = []
    for spec, seed, estimator, fingerprint in plan:
        folder = _run_folder(output_dir, spec, seed)
        found = None if folder is None else _finished(folder, fingerprint)
        if found is not None:
            done[spec, seed] = found
        else:
            pending.append((spec, seed, estimator, fingerprint, folder))
    # each run's warnings are said as it finishes (a long benchmark's must not wait
    # for its end); those of the reused runs first
    said = _RunWarnings()
    said.say([done[spec, seed]["record"] for spec, seed, *_ in plan if (spec, seed) in done])
    filters = list(warnings.filters)  # the workers record under the caller's
    jobs = (delayed(_run_one)(engine, filters, *args) for args in pending)
    for out in Parallel(n_jobs=n_jobs, batch_size=1, return_as="generator_unordered")(jobs):
        record = out["record"]
        done[record["model"], record["seed"]] = out
        if verbose:
            print(
                f"{record['model']} seed={record['seed']}: sharpe {record['sharpe']:.3f}, "
                f"rank IC {record['rank_ic']:.4f}, {record['fit_seconds']:.1f} s/fold fit",
                file=sys.stderr,
                flush=True,
            )
        said.say([record])
    said.close()

    runs, table, returns, bench, trials = _aggregate(done, [(s, seed) for s, seed, *_ in plan])
    manifest = {
        "versions": package_versions(),
        "data": {
            "sha256": data_sha,
            "n_rows": len(data),
            "columns": [str(c) for c in data.columns],
        },
        **settings,
        "models": specs,
        "variant": variant,
        "configs": configs or {},
        "seeds": seed_list,
        "deterministic_models": [spec for spec in specs if not _seeded(spec)],
        **trials,
        "n_runs_reused": len(plan) - len(pending),
        "table": table.reset_index().to_dict(orient="records"),
    }
    board = Leaderboard(table, runs, returns, bench, manifest)
    if output_dir is not None:
        board.save(output_dir)
    return board


def _windows(engine: WalkForwardEngine) -> dict:
    """The engine's resolved fold placement: the splitter's windows and the fold dates."""
    cv, folds, dates = engine.cv_, engine.folds_, engine._dates
    return {
        "train_days": cv.train_days,
        "test_days": cv.test_days,
        "step_days": cv.step_days,
        "min_train_samples": cv.min_train_samples,
        "embargo_days": engine.embargo_days_,
        "expanding": cv.expanding,
        "n_folds": len(folds),
        "first_test_date": f"{pd.Timestamp(dates[folds[0][2]]):%Y-%m-%d}",
        "last_test_date": f"{pd.Timestamp(dates[folds[-1][3] - 1]):%Y-%m-%d}",
    }
