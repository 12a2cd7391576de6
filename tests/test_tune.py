"""``skquant tune`` and ``skquant.model_selection.tune``: the search spaces of the YAML
files, the engine's per-fold hook the pruner listens to, the study's storage, and the
files the command writes."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from skquant.config import (
    list_models,
    list_variants,
    load_model_config,
    load_search_space,
    sample_search_space,
)
from skquant.metrics import sharpe_ratio
from skquant.registry import get_trainer

optuna = pytest.importorskip("optuna")

# small trees on a tiny panel: a trial takes well under a second
FAST = {"n_estimators": 15, "early_stopping_rounds": 0, "n_jobs": 1}
SPACE = {
    "learning_rate": {"type": "float", "low": 0.05, "high": 0.3, "log": True},
    "num_leaves": {"type": "int", "low": 3, "high": 15},
    "min_child_samples": {"type": "int", "low": 5, "high": 40},
}
WINDOWS = {"train_days": 100, "test_days": 50, "step_days": 50, "min_train_samples": 100}


@pytest.fixture(scope="module")
def panel():
    from skquant import make_synthetic_panel

    return make_synthetic_panel(n_symbols=3, n_days=300, random_state=0)


def _tune(panel, **kwargs):
    from skquant.model_selection import tune

    params = {"model": "lightgbm", "target": "fwd_ret", "config": dict(FAST),
              "search_space": SPACE, **WINDOWS, **kwargs}  # fmt: skip
    return tune(panel, **params)


# ----------------------------------------------------------------------- search spaces
@pytest.mark.parametrize("model", list_models())
def test_every_family_search_space_samples_params_its_trainer_accepts(model):
    from skquant.utils._sklearn_compat import validate_parameter_constraints

    space = load_search_space(model)
    assert space, f"{model}.yaml has an empty search_space"
    assert "search_space" not in list_variants(model)
    cls = get_trainer(model)
    random = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trials = [random.ask() for _ in range(3)]
    for edge in (0, -1):  # every parameter at its lower, then its upper end
        fixed = {
            name: spec["choices"][edge] if spec["type"] == "categorical"
            else (spec["low"], spec["high"])[edge]
            for name, spec in space.items()
        }  # fmt: skip
        trials.append(optuna.trial.FixedTrial(fixed))
    for trial in trials:
        params = sample_search_space(trial, space)
        assert set(params) == set(space)
        for name, value in params.items():
            spec = space[name]
            if spec["type"] == "categorical":
                assert value in spec["choices"]
            else:
                assert spec["low"] <= value <= spec["high"]
                assert isinstance(value, int if spec["type"] == "int" else float)
        trainer = cls(load_model_config(model, overrides=params)).set_params(**params)
        assert {k: trainer.get_params()[k] for k in params} == params
        validate_parameter_constraints(cls._parameter_constraints, params, caller_name=model)


def _config_file(tmp_path, space_yaml: str):
    path = tmp_path / "mine.yaml"
    path.write_text("model: lightgbm\nsearch_space:\n" + space_yaml + "variants:\n  balanced: {}\n")
    return path


@pytest.mark.parametrize(
    "space_yaml, needles",
    [
        ("  learnin_rate: {type: float, low: 0.01, high: 0.1}\n", ["learnin_rate", "learning_rate"]),
        ("  learning_rate: {type: double, low: 0.01, high: 0.1}\n", ["learning_rate", "double"]),
        ("  learning_rate: {type: float, low: 0.1, high: 0.01}\n", ["learning_rate", "below"]),
        ("  learning_rate: {type: float, low: 0.0, high: 0.1, log: true}\n", ["learning_rate", "log"]),
        ("  num_leaves: {type: int, low: 2.5, high: 9}\n", ["num_leaves", "integer"]),
        ("  num_leaves: {type: int, lo: 2, high: 9}\n", ["num_leaves", "'lo'"]),
        ("  max_depth: {type: categorical, choices: []}\n", ["max_depth", "choices"]),
        ("  max_depth: {type: categorical, choices: [[3, 4]]}\n", ["max_depth", "choices"]),
        ("  max_depth: 5\n", ["max_depth", "mapping"]),
        ("  - learning_rate\n", ["search_space", "mapping"]),
        # values the trainer refuses: every trial failed at its first fit
        ("  num_leaves: {type: float, low: 7, high: 127}\n", ["num_leaves", "an int", "7.0"]),
        ("  subsample: {type: float, low: 0.5, high: 1.5}\n", ["subsample", "1.5"]),
        ("  importance_type: {type: categorical, choices: [gain, cover]}\n",
         ["importance_type", "'cover'"]),
    ],
)  # fmt: skip
def test_a_malformed_search_space_is_an_error_naming_file_and_key(tmp_path, space_yaml, needles):
    path = _config_file(tmp_path, space_yaml)
    for load in (load_model_config, load_search_space):
        with pytest.raises(ValueError) as info:
            load(path)
        message = str(info.value)
        assert "mine.yaml" in message
        for needle in needles:
            assert needle in message


def test_a_config_file_without_search_space_has_its_familys(tmp_path):
    path = tmp_path / "lightgbm_fast.yaml"
    path.write_text("model: lightgbm\nvariants:\n  balanced: {n_estimators: 5}\n")
    assert load_search_space(path) == load_search_space("lightgbm")
    stray = tmp_path / "stray.yaml"
    stray.write_text("variants:\n  balanced: {}\n")
    with pytest.raises(ValueError, match=r"stray.yaml.*search_space"):
        load_search_space(stray)


def test_configs_show_prints_the_search_space(capsys):
    from skquant.cli import main

    assert main(["-q", "configs", "show", "xgboost", "--search-space"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == load_search_space("xgboost")
    # --variant was dropped without a word: a model has one search space
    assert main(["-q", "configs", "show", "xgboost", "--search-space", "--variant", "x"]) == 2
    assert "--variant does not apply to --search-space" in capsys.readouterr().err


# --------------------------------------------------------------- the engine's fold hook
def test_on_fold_reports_each_folds_scores_in_order_and_can_stop_the_run(panel):
    from skquant import WalkForwardEngine

    engine = WalkForwardEngine(panel, target="fwd_ret", n_jobs=2, **WINDOWS)
    seen = []
    with joblib.parallel_config(backend="threading"):  # folds in parallel, no start-up
        result = engine.run("lightgbm", dict(FAST), metrics=("sharpe", "hit_rate"),
                            on_fold=lambda k, scores: seen.append((k, scores)))  # fmt: skip
    assert [k for k, _ in seen] == list(range(len(result.folds)))
    for k, scores in seen:
        for metric in ("sharpe", "hit_rate", "n_train", "test_start"):
            assert scores[metric] == result.folds.loc[k, metric]

    class Stop(Exception):
        pass

    def stop_after_fold_1(k, scores):
        seen.append(k)
        if k == 1:
            raise Stop

    seen.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with joblib.parallel_config(backend="threading"):
            try:
                engine.run("lightgbm", dict(FAST), on_fold=stop_after_fold_1)
            except Stop:
                pass
            else:
                pytest.fail("on_fold's exception did not stop the run")
        gc.collect()  # joblib would warn as it drops the folds still running
    assert seen == [0, 1]
    assert not [w for w in caught if "cancelled" in str(w.message)]  # on purpose: quiet


# ----------------------------------------------------------------------------- tune
class _PruneFromTrial1AtFold1(optuna.pruners.BasePruner):
    """Deterministic: trial 0 runs to the end, every later trial stops after fold 1."""

    def prune(self, study, trial):
        return trial.number >= 1 and (trial.last_step or 0) >= 1


def test_a_pruned_trials_sharpe_counts_each_date_once(panel, monkeypatch):
    """With overlapping test windows (step_days < test_days, the engine's default) a
    pruned trial's Sharpe ratio joined its folds' whole windows: fold 1's first 25
    dates counted twice, though a complete trial's served returns count each date once
    (leaderboard audit)."""
    import skquant.walkforward._tune as tune_module

    lengths = []

    def recording(returns, **kwargs):
        lengths.append(len(returns))
        return sharpe_ratio(returns, **kwargs)

    monkeypatch.setattr(tune_module, "sharpe_ratio", recording)
    study, _ = _tune(panel, n_trials=2, pruner=_PruneFromTrial1AtFold1(), step_days=25)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED"]
    complete, pruned = lengths  # one Sharpe ratio per trial
    assert pruned == 50 + 25  # folds 0 and 1: 50 dates, then the 25 after them
    served = study.trials[0].user_attrs["net_returns"]
    assert complete == len(served)


def test_a_pruned_trial_shows_as_pruned(panel, tmp_path):
    from skquant.walkforward import save_tuning

    study, best = _tune(panel, n_trials=2, pruner=_PruneFromTrial1AtFold1())
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "PRUNED"]
    assert sorted(study.trials[1].intermediate_values) == [0, 1]  # stopped after fold 1
    assert len(study.trials[0].intermediate_values) == 4  # all folds of the complete one
    summary = save_tuning(study, best, tmp_path)
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert trials["state"].tolist() == ["COMPLETE", "PRUNED"]
    assert trials["n_folds"].tolist() == [4, 2]
    # a pruned trial has no score: Optuna's value for it is its last fold's, which read
    # as a whole trial's (one stood above the best score, audit)
    assert trials["score"].iloc[0] == pytest.approx(study.trials[0].value)
    assert study.trials[1].value is not None and np.isnan(trials["score"].iloc[1])
    assert (summary["n_complete"], summary["n_pruned"]) == (1, 1)
    # the pruned trial was a try too: the deflated Sharpe counts both trials, and its
    # Sharpe ratio on the folds it ran enters the spread (it was left out: variance 0,
    # and the "deflated" Sharpe was the best trial's PSR, audit)
    from skquant.metrics import deflated_sharpe_ratio, probabilistic_sharpe_ratio

    returns = study.trials[0].user_attrs["net_returns"]
    sharpes = [t.user_attrs["sharpe_per_period"] for t in study.trials]
    assert summary["deflated_sharpe_n_trials"] == 2
    assert summary["trials_sharpe_variance"] == pytest.approx(np.var(sharpes, ddof=1))
    assert summary["trials_sharpe_variance"] > 0
    assert summary["deflated_sharpe"] == pytest.approx(
        deflated_sharpe_ratio(returns, n_trials=2, trials_sharpe_variance=np.var(sharpes, ddof=1))
    )
    assert summary["deflated_sharpe"] < probabilistic_sharpe_ratio(returns)
    # one complete trial: no importances to plot, which is left out rather than failing
    assert summary["plots"] == ["optimization_history.png"]
    assert not (tmp_path / "param_importances.png").exists()


def test_the_intermediate_values_are_the_folds_scores(panel):
    from skquant import WalkForwardEngine

    study, best = _tune(panel, n_trials=1)
    trial = study.trials[0]
    result = WalkForwardEngine(panel, target="fwd_ret", **WINDOWS).run("lightgbm", best)
    assert trial.value == pytest.approx(result.summary["sharpe"])
    folds = [trial.intermediate_values[k] for k in range(len(result.folds))]
    np.testing.assert_allclose(folds, result.folds["sharpe"])


def test_the_deflated_sharpe_needs_the_spread_of_the_trials_it_counts():
    """With several tries but one Sharpe ratio (the others failed), a variance of 0 made
    the deflated Sharpe the undeflated PSR; it is None, with the reason."""
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from skquant.walkforward import tuning_summary

    rng = np.random.default_rng(0)
    study = optuna.create_study(direction="maximize")
    distributions = {"learning_rate": FloatDistribution(0.01, 0.3)}
    net = rng.normal(0.001, 0.01, 200).tolist()
    study.add_trial(create_trial(
        state=TrialState.COMPLETE, value=1.0, params={"learning_rate": 0.1},
        distributions=distributions,
        user_attrs={"sharpe_per_period": 0.1, "net_returns": net},
    ))  # fmt: skip
    for _ in range(3):
        study.add_trial(create_trial(state=TrialState.FAIL))
    summary = tuning_summary(study)
    assert summary["deflated_sharpe"] is None
    assert "4 trials were tried but 1 has a Sharpe ratio" in summary["deflated_sharpe_note"]


def test_a_rerun_with_the_same_storage_continues_the_study(panel, tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    first, _ = _tune(panel, n_trials=2, storage=storage)
    again, best = _tune(panel, n_trials=1, storage=storage)
    assert again.study_name == first.study_name == "skquant-lightgbm"
    assert [t.number for t in again.trials] == [0, 1, 2]
    # the continued study draws a new point, not the first run's first one again
    assert again.trials[2].params != again.trials[0].params
    assert best == {**FAST, **again.best_params}  # the config given, tuned
    with pytest.raises(ValueError, match=r"skquant-lightgbm.*metric"):
        _tune(panel, n_trials=1, storage=storage, metric="hit_rate")
    # another cost, other data or another target made one study of two objectives, and
    # the deflated Sharpe counted their trials together (audit: 4 + 4 trials, silently)
    for kwargs, differs in (
        ({"cost_bps": 5.0}, r"cost_bps: 0\.0, now 5\.0"),
        ({"data": panel.assign(ret_1=panel["ret_1"] * 2)}, "data_sha256"),
        ({"portfolio": "rank"}, "portfolio: 'sign', now 'rank'"),
    ):
        with pytest.raises(ValueError, match=f"another evaluation \\(.*{differs}.*not comparable"):
            _tune(kwargs.pop("data", panel), n_trials=1, storage=storage, **kwargs)
    # other folds: the message names them without printing every fold of both runs
    # (it printed both lists in full, thousands of characters on a long history)
    with pytest.raises(ValueError, match=r"another evaluation \(.*folds: ") as caught:
        _tune(panel, n_trials=1, storage=storage, step_days=5)
    assert len(str(caught.value)) < 500, len(str(caught.value))
    assert len(optuna.load_study(study_name="skquant-lightgbm", storage=storage).trials) == 3


def test_tune_rejects_a_variant_with_a_config_dict_and_another_familys_file(panel, tmp_path):
    with pytest.raises(ValueError, match="variant"):
        _tune(panel, n_trials=1, variant="balanced")
    path = tmp_path / "x.yaml"
    path.write_text("model: xgboost\nvariants:\n  balanced: {}\n")
    with pytest.raises(ValueError, match=r"x.yaml.*xgboost"):
        _tune(panel, n_trials=1, config=str(path))


# ------------------------------------------------------------------------- the command
def _folder(tmp_path):
    from tests.test_cli import write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=300)
    config = tmp_path / "lightgbm.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": "lightgbm",
                "defaults": FAST,
                "search_space": SPACE,
                "variants": {"balanced": {}, "aggressive": {}},
            }  # fmt: skip
        )
    )
    return data, config


def _tune_cli(data, config, out, *extra):
    from skquant.cli import main

    return main(
        ["-q", "tune", "--model", "lightgbm", "--config", str(config), "--input-dir", str(data),
         "--target", "fwd_ret_1d", "--train-days", "100", "--test-days", "50",
         "--step-days", "50", "--min-train-samples", "100", "--n-jobs", "1",
         "--output-dir", str(out), *extra]
    )  # fmt: skip


def test_tune_command_writes_a_loadable_best_config_and_the_deflated_sharpe(tmp_path):
    from skquant import WalkForwardEngine, deflated_sharpe_ratio
    from skquant.cli import main
    from skquant.cli._walkforward import load_panel

    data, config = _folder(tmp_path)
    out = tmp_path / "out"
    assert _tune_cli(data, config, out, "--n-trials", "3") == 0
    assert {p.name for p in out.iterdir()} == {
        "best_config.yaml", "trials.csv", "summary.json",
        "optimization_history.png", "param_importances.png",
    }  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == summary["n_trials"] == 3
    assert set(trials["state"]) == {"COMPLETE"}
    assert set(SPACE) <= set(trials.columns)
    assert summary["best_score"] == trials["score"].max()

    best = load_model_config(out / "best_config.yaml")  # loads as is
    assert best == {**load_model_config(config), **summary["best_params"]}
    assert load_model_config(out / "best_config.yaml", variant="aggressive") == best
    # --config takes it as is (walkforward's own default variant included)
    wf = tmp_path / "wf"
    assert main(["-q", "walkforward", "--config", str(out / "best_config.yaml"),
                 "--input-dir", str(data), "--target", "fwd_ret_1d", "--train-days", "100",
                 "--test-days", "50", "--step-days", "50", "--min-train-samples", "100",
                 "--n-jobs", "1", "--output-dir", str(wf)]) == 0  # fmt: skip
    assert json.loads((wf / "summary.json").read_text())["sharpe"] == pytest.approx(
        summary["best_score"]
    )

    # the deflated Sharpe ratio: the best trial's net returns against the expected best
    # of 3 trials with the variance of their per-period Sharpe ratios
    panel, _, _ = load_panel(str(data), "fwd_ret_1d")
    engine = WalkForwardEngine(panel, target="fwd_ret_1d", **WINDOWS)
    net = engine.run("lightgbm", best).returns["net"].dropna()
    per_period = trials["score"] / np.sqrt(engine.periods_per_year_)
    expected = deflated_sharpe_ratio(net, n_trials=3, trials_sharpe_variance=per_period.var())
    assert summary["deflated_sharpe"] == pytest.approx(expected)
    assert 0 <= summary["deflated_sharpe"] <= 1


def test_tune_command_continues_a_stored_study(tmp_path):
    data, config = _folder(tmp_path)
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    assert _tune_cli(data, config, tmp_path / "a", "--n-trials", "1", "--storage", storage) == 0
    assert _tune_cli(data, config, tmp_path / "b", "--n-trials", "2", "--storage", storage) == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["n_trials"] == len(pd.read_csv(tmp_path / "b" / "trials.csv")) == 3


@pytest.mark.parametrize(
    "extra, needles",
    [
        (["--model", "no_such_model"], ["no_such_model"]),
        (["--metric", "sharpness"], ["sharpness"]),
        (["--n-trials", "0"], ["--n-trials"]),
    ],
)
def test_tune_bad_usage_is_one_line_exit_2(tmp_path, extra, needles):
    from tests.test_cli import assert_one_line_error, run_cli

    data, _ = _folder(tmp_path)
    args = {"--model": "lightgbm", "--n-trials": "1", "--metric": "sharpe"}
    args.update(dict(zip(extra[::2], extra[1::2], strict=True)))
    flat = [x for pair in args.items() for x in pair]
    proc = run_cli("tune", *flat, "--input-dir", data, "--target", "fwd_ret_1d",
                   "--output-dir", tmp_path / "out")  # fmt: skip
    assert_one_line_error(proc, *needles)


def test_tune_command_names_a_malformed_search_space(tmp_path, capsys):
    data, _ = _folder(tmp_path)
    bad = _config_file(tmp_path, "  num_leaves: {type: int, low: 9, high: 2}\n")
    assert _tune_cli(data, bad, tmp_path / "out", "--n-trials", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mine.yaml" in err[0] and "num_leaves" in err[0]


def test_model_selection_stays_light():
    code = (
        "import sys, skquant.model_selection as m; "
        "assert 'optuna' not in sys.modules and 'skquant.walkforward' not in sys.modules; "
        "assert callable(m.tune) and 'optuna' not in sys.modules; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def _states(db) -> list[str]:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return [state for (state,) in con.execute("SELECT state FROM trials")]
    except sqlite3.Error:  # not created yet, or locked by the writer for a moment
        return []


def test_a_killed_tune_loses_only_the_trial_in_flight(tmp_path):
    import os
    import signal
    import time

    data, config = _folder(tmp_path)
    db = tmp_path / "tune.db"
    args = [sys.executable, "-m", "skquant", "-q", "tune", "--model", "lightgbm",
            "--config", config, "--input-dir", data, "--target", "fwd_ret_1d",
            "--train-days", "100", "--test-days", "50", "--step-days", "50",
            "--min-train-samples", "100", "--n-jobs", "1", "--output-dir", tmp_path / "out",
            "--storage", f"sqlite:///{db}", "--n-trials", "200"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 90
    while "COMPLETE" not in _states(db) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _states(db)
    assert 1 <= before.count("COMPLETE") < 200, "the run must be killed mid-way"
    assert set(before) <= {"COMPLETE", "RUNNING"} and before.count("RUNNING") <= 1

    # the same study, one more trial
    assert _tune_cli(data, config, tmp_path / "out", "--storage", f"sqlite:///{db}",
                     "--n-trials", "1") == 0  # fmt: skip
    after = _states(db)
    assert after.count("COMPLETE") == before.count("COMPLETE") + 1
    trials = pd.read_csv(tmp_path / "out" / "trials.csv")
    assert len(trials) == len(after)


def test_quantile_is_part_of_the_evaluation_only_for_the_quantile_portfolio(panel, tmp_path):
    """--quantile moves no weight under portfolio="sign": a continued study took another
    one for another evaluation ("quantile: 0.2, now 0.3"). Studies stored before, which
    recorded it for every portfolio, still continue."""
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    _tune(panel, n_trials=1, storage=storage, study_name="sign")
    _tune(panel, n_trials=1, storage=storage, study_name="sign", quantile=0.3)
    # a study stored before: its evaluation holds the quantile of a sign portfolio
    stored = optuna.load_study(study_name="sign", storage=storage)
    evaluation = stored.user_attrs["evaluation"]
    assert "quantile" not in evaluation and evaluation["portfolio"] == "sign"
    stored.set_user_attr("evaluation", {**evaluation, "quantile": 0.2})
    again, _ = _tune(panel, n_trials=1, storage=storage, study_name="sign", quantile=0.4)
    assert len(again.trials) == 3
    # the quantile portfolio reads it (3 symbols: one in each leg from 0.34 on)
    _tune(panel, n_trials=1, storage=storage, study_name="q", portfolio="quantile", quantile=0.4)
    with pytest.raises(ValueError, match=r"another evaluation \(quantile: 0\.4, now 0\.5\)"):
        _tune(panel, n_trials=1, storage=storage, study_name="q", portfolio="quantile",
              quantile=0.5)  # fmt: skip


def test_a_continued_study_says_how_many_trials_a_killed_run_left_running(panel, tmp_path):
    """A trial a killed run left RUNNING stays so for good, and the summary line
    ("best trial 4 of 8 (5 complete, 2 pruned)") hid it."""
    from skquant.walkforward import tuning_summary

    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    _tune(panel, n_trials=1, storage=storage)
    optuna.load_study(study_name="skquant-lightgbm", storage=storage).ask()  # killed mid-trial
    with pytest.warns(UserWarning, match=r"holds 1 trial\(s\) still RUNNING \(1\): left so by"):
        study, _ = _tune(panel, n_trials=1, storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "RUNNING", "COMPLETE"]
    from skquant.cli._tune import _trial_counts

    counts = _trial_counts(tuning_summary(study))
    assert counts == "2 complete, 0 pruned, 1 left RUNNING by a killed run or running elsewhere"
    with warnings.catch_warnings(record=True) as caught:  # a study with none: no warning
        warnings.simplefilter("always")
        _tune(panel, n_trials=1, storage=f"sqlite:///{tmp_path / 'other.db'}")
    assert not [w for w in caught if "RUNNING" in str(w.message)]


def test_tune_says_when_its_best_trial_learned_nothing(tmp_path, capsys):
    """A trial whose model predicted one constant value in every fold was crowned best,
    its Sharpe the market's, with no caveat: the engine's warning printed once, before
    trial 1 (audit). summary.json counts the best trial's constant folds, and the
    command warns when they are half of them or more."""
    data, config = _folder(tmp_path)
    spec = yaml.safe_load(config.read_text())
    spec["search_space"] = {"min_child_samples": {"type": "int", "low": 5000, "high": 6000}}
    config.write_text(yaml.safe_dump(spec))  # no leaf that small: no split, one value
    assert _tune_cli(data, config, tmp_path / "out", "--n-trials", "2") == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["best_constant_folds"] == summary["best_n_folds"] == 4
    assert "the best trial's model predicted one constant value for every test row in 4 of " \
           "4 folds" in capsys.readouterr().err  # fmt: skip
    data, config = _folder(tmp_path / "learns")
    assert _tune_cli(data, config, tmp_path / "learns" / "out", "--n-trials", "1") == 0
    summary = json.loads((tmp_path / "learns" / "out" / "summary.json").read_text())
    assert summary["best_constant_folds"] == 0 and summary["best_n_folds"] == 4
    assert summary["best_one_sided_folds"] == 0
    assert "constant" not in capsys.readouterr().err


def test_tune_says_when_its_best_trial_only_held_the_market(tmp_path, capsys):
    """A best trial whose model took one side on every test row of most folds (10 of 18
    in a user's run: its Sharpe mostly the market's) was reported with
    best_constant_folds 0 and no caveat. A positive target (MFE) traded on the return
    column is long everywhere."""
    data, config = _folder(tmp_path)
    out = tmp_path / "out"
    assert _tune_cli(data, config, out, "--n-trials", "1", "--target", "MFE",
                     "--return-col", "fwd_ret_1d") == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_constant_folds"] == 0
    assert summary["best_one_sided_folds"] == summary["best_n_folds"] == 4
    err = capsys.readouterr().err
    assert "the best trial's model took the same side (long, or short) on every test row " \
           "in 4 of 4 folds: under --portfolio sign" in err, err  # fmt: skip
    out = tmp_path / "ranked"
    assert _tune_cli(data, config, out, "--n-trials", "1", "--target", "MFE",
                     "--return-col", "fwd_ret_1d", "--portfolio", "rank") == 0  # fmt: skip
    assert json.loads((out / "summary.json").read_text())["best_one_sided_folds"] == 0
    assert "same side" not in capsys.readouterr().err


def test_a_failed_trial_raises_without_optuna_printing_its_traceback():
    """Optuna logs a failed trial as a WARNING with the error's traceback, which tune
    then raises: the command printed both, a 10-frame traceback above its one-line
    error (audit). Run in a fresh process: Optuna's handler writes to the stderr it
    found when it was set up."""
    import subprocess
    import sys

    code = (
        "from skquant import make_synthetic_panel\n"
        "from skquant.model_selection import tune\n"
        "panel = make_synthetic_panel(n_symbols=3, n_days=300, random_state=0)\n"
        "try:\n"
        "    tune(panel, model='lightgbm', target='fwd_ret', n_trials=1,\n"
        f"         config={{**{FAST!r}, 'n_estimators': 'ten'}}, search_space={SPACE!r},\n"
        f"         **{WINDOWS!r})\n"
        "except ValueError as exc:\n"
        "    print('raised:', exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "raised: The 'n_estimators' parameter" in proc.stdout, proc.stderr
    assert "Traceback" not in proc.stderr and "Trial 0 failed" not in proc.stderr, proc.stderr


def test_constant_folds_follow_the_engines_rule():
    """A classifier's labels can be one class while its probabilities vary (review:
    [4, 4] for a model the engine found learning), and a (symbol, date) index put the
    symbols where the dates were read (no fold counted)."""
    from skquant.walkforward._tune import _constant_folds

    dates = pd.bdate_range("2024-01-01", periods=6)
    index = pd.MultiIndex.from_product([["A", "B"], dates], names=["symbol", "date"])
    fold = np.tile(np.repeat([0, 1], 3), 2)
    varying = np.linspace(0.6, 0.9, len(index))
    clf = pd.DataFrame({"prediction": 1, "proba": varying, "fold": fold}, index=index)
    assert _constant_folds(clf) == [0, 2]
    flat = pd.DataFrame({"prediction": 0.5, "fold": fold}, index=index)
    assert _constant_folds(flat) == [2, 2]
    one_date = flat.assign(fold=np.arange(len(index)) % 6)  # each fold one date, 2 symbols
    assert _constant_folds(one_date) == [0, 0]


def test_one_sided_folds_follow_the_engines_rule():
    from skquant.walkforward._tune import _one_sided_folds

    dates = pd.bdate_range("2024-01-01", periods=6)
    index = pd.MultiIndex.from_product([["A", "B"], dates], names=["symbol", "date"])
    fold = np.tile(np.repeat([0, 1], 3), 2)
    # fold 0 of symbol A short, everything else long: fold 1 is long on every row
    score = np.where((fold == 0) & (np.arange(len(index)) < 6), -1.0, 1.0) * np.linspace(
        0.1, 0.9, len(index)
    )
    frame = pd.DataFrame({"prediction": score, "position": np.sign(score), "fold": fold},
                         index=index)  # fmt: skip
    assert _one_sided_folds(frame, "sign") == 1 and _one_sided_folds(frame, "long_only") == 1
    short = frame.assign(prediction=-score, position=-np.sign(score))  # fold 1 all short
    assert _one_sided_folds(short, "sign") == 1 and _one_sided_folds(short, "long_only") == 0
    assert _one_sided_folds(frame, "rank") == 0
    flat = frame.assign(prediction=0.5, position=1.0)  # constant: counted as such instead
    assert _one_sided_folds(flat, "sign") == 0


def test_tune_command_shows_each_trials_folds_and_quiet_hides_them(tmp_path, capsys):
    """A trial of a slow model takes minutes: the command draws a bar over its folds
    (it printed nothing until the trial ended); ``-q`` and the library stay quiet."""
    from skquant.cli import main

    data, config = _folder(tmp_path)
    args = ["tune", "--model", "lightgbm", "--config", str(config), "--input-dir", str(data),
            "--target", "fwd_ret_1d", "--train-days", "100", "--test-days", "50",
            "--step-days", "50", "--min-train-samples", "100", "--n-jobs", "1",
            "--n-trials", "2"]  # fmt: skip
    assert main([*args, "--output-dir", str(tmp_path / "loud")]) == 0
    err = capsys.readouterr().err
    assert err.count("walk-forward folds") >= 2 and "4/4" in err  # one bar per trial
    assert main(["-q", *args, "--output-dir", str(tmp_path / "quiet")]) == 0
    assert "walk-forward folds" not in capsys.readouterr().err


def test_the_engines_warnings_in_a_trial_point_at_the_tune_call(panel):
    """The study runs skquant's objective from optuna's own loop: the engine's
    warnings pointed into optuna/study/_optimize.py instead of the user's line."""
    space = {"learning_rate": SPACE["learning_rate"]}
    stump = {**FAST, "min_child_samples": 10_000}  # no split: one constant per fold
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _tune(panel, n_trials=1, search_space=space, config=stump)
    told = [w for w in caught if "one constant value" in str(w.message)]
    assert told, [str(w.message) for w in caught]
    assert {w.filename for w in told} == {__file__}, [(w.filename, w.lineno) for w in told]


def test_the_best_trials_market_folds_count_constant_and_one_sided_together():
    """5 constant and 5 one-sided folds of 18 are 10 folds that held the market, and
    neither count alone (each under half) was told."""
    from skquant.cli._tune import _market_folds_warnings

    def said(constant, sided, n_folds=18):
        summary = {"best_constant_folds": constant, "best_one_sided_folds": sided,
                   "best_n_folds": n_folds}  # fmt: skip
        return _market_folds_warnings(summary, "sign", "sharpe")

    (line,) = said(5, 5)
    assert "same side (long, or short) on every test row in 5 of 18 folds (and predicted " \
           "one constant value in 5 more)" in line  # fmt: skip
    assert said(4, 4) == [] and said(0, 0) == []
    (line,) = said(9, 0)
    assert "one constant value for every test row in 9 of 18 folds" in line
    assert said(None, None, None) == []  # a study from before these were kept
