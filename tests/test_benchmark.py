"""The model-zoo leaderboard: skquant.walkforward.benchmark and ``skquant benchmark``."""

from __future__ import annotations

import importlib.util
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from skquant import WalkForwardEngine, make_synthetic_panel
from skquant.metrics import deflated_sharpe_ratio, sharpe_ratio
from skquant.utils._cross_section import pearson_ic_by_date
from skquant.walkforward import benchmark

MODELS = ["lightgbm", "ftrl_proximal"]
SETTINGS = dict(
    models=MODELS,
    variant="aggressive",
    seeds=2,
    configs={"lightgbm": {"n_estimators": 20}},
    target="fwd_ret",
    train_days=100,
    test_days=100,
    step_days=100,
    min_train_samples=200,
)


@pytest.fixture(scope="module")
def panel():
    return make_synthetic_panel(n_symbols=4, n_days=300, random_state=0)


@pytest.fixture(scope="module")
def board_dir(panel, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(panel, output_dir=out, **SETTINGS)
    return out, board


# ftrl_proximal takes no random_state: it runs once
RUNS = [("lightgbm", 0), ("lightgbm", 1), ("ftrl_proximal", 0)]


def _summaries(out):
    return {
        (model, seed): json.loads(
            (out / "runs" / model / f"seed={seed}" / "summary.json").read_text()
        )
        for model, seed in RUNS
    }


def test_fit_seconds_show_what_a_fast_fit_took():
    """'Fit s/fold' kept one decimal: FTRL's 0.02 s fits read 0.0 ± 0.0."""
    from skquant.walkforward._benchmark import _cell

    assert _cell(0.0234, 0.0012, "fit_seconds") == "0.023 ± 0.001"
    assert _cell(17.14, 6.38, "fit_seconds") == "17.1 ± 6.4"
    assert _cell(0.381, 0.071, "sharpe") == "0.381 ± 0.071"


def test_pearson_ic_by_date_is_scipy_pearson_per_date():
    rng = np.random.default_rng(0)
    dates = np.repeat(pd.bdate_range("2024-01-01", periods=4), 6)
    y_true, y_pred = rng.normal(size=24), rng.normal(size=24)
    y_true[3] = np.nan
    y_pred[6:12] = 0.3  # a constant prediction: undefined
    got = pearson_ic_by_date(y_true, y_pred, dates)
    for k, date in enumerate(got.index):
        t, p = y_true[dates == date], y_pred[dates == date]
        keep = ~np.isnan(t)
        if k == 1:
            assert np.isnan(got[date])
        else:
            assert got[date] == pytest.approx(stats.pearsonr(t[keep], p[keep])[0], abs=1e-12)


def test_result_fit_seconds_per_fold_survive_evaluate(panel):
    engine = WalkForwardEngine(
        panel, target="fwd_ret", train_days=100, test_days=100, step_days=100,
        min_train_samples=200,
    )  # fmt: skip
    result = engine.run("ftrl_proximal")
    assert result.fit_seconds.shape == (len(result.folds),)
    assert (result.fit_seconds > 0).all()
    assert "fit_seconds" not in result.folds  # the fold table stays machine-independent
    np.testing.assert_array_equal(result.evaluate(cost_bps=5).fit_seconds, result.fit_seconds)


def test_leaderboard_is_the_mean_and_std_of_the_run_summaries(board_dir):
    out, board = board_dir
    table = pd.read_csv(out / "leaderboard.csv", index_col="model")
    summaries = _summaries(out)
    returns = {
        key: pd.read_csv(out / "runs" / key[0] / f"seed={key[1]}" / "returns.csv")["net"]
        for key in summaries
    }
    per_period = [sharpe_ratio(r.dropna(), periods_per_year=1) for r in returns.values()]
    variance = np.var(per_period, ddof=1)
    assert table["n_seeds"].to_dict() == {"lightgbm": 2, "ftrl_proximal": 1}
    for model in MODELS:
        seeds = [seed for name, seed in RUNS if name == model]
        runs = [summaries[model, seed] for seed in seeds]
        for key in ("ic", "icir", "rank_ic", "rank_icir", "sharpe", "annual_return",
                    "max_drawdown", "turnover", "fit_seconds"):  # fmt: skip
            values = [run[key] for run in runs]
            assert table.loc[model, f"{key}_mean"] == pytest.approx(np.mean(values), rel=1e-8)
            if len(values) == 1:
                assert np.isnan(table.loc[model, f"{key}_std"])
                continue
            assert table.loc[model, f"{key}_std"] == pytest.approx(
                np.std(values, ddof=1), rel=1e-6, abs=1e-12
            )
        dsr = [deflated_sharpe_ratio(returns[model, seed].dropna(), 3, variance) for seed in seeds]
        assert table.loc[model, "deflated_sharpe_mean"] == pytest.approx(np.mean(dsr), rel=1e-8)
        assert runs[0]["fit_seconds"] == pytest.approx(np.mean(runs[0]["fit_seconds_per_fold"]))
    # the run's IC is the Pearson one, its rank IC the engine's Spearman summary["ic"]
    assert board.runs["ic"].ne(board.runs["rank_ic"]).all()
    manifest = json.loads((out / "leaderboard.json").read_text())
    assert manifest["seeds"] == [0, 1] and manifest["n_trials"] == 3
    assert manifest["deterministic_models"] == ["ftrl_proximal"]
    assert len(manifest["data"]["sha256"]) == 64
    assert {"skquant", "scikit-learn", "numpy", "pandas"} <= set(manifest["versions"])
    # looked up by import name: a renamed distribution (xgboost-cpu) is found too
    for module, name in (
        ("lightgbm", "lightgbm"),
        ("xgboost", "xgboost"),
        ("sklearn", "scikit-learn"),
    ):
        if importlib.util.find_spec(module) is not None:
            assert manifest["versions"][name], name
    assert manifest["windows"]["n_folds"] == 2
    md = (out / "leaderboard.md").read_text()
    assert "| lightgbm |" in md and "Rank IC" in md
    assert (out / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"


def test_a_second_call_reuses_the_finished_runs(panel, board_dir, tmp_path):
    out, _ = board_dir
    files = sorted(out.glob("runs/*/seed=*/*"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    crashed = out / "runs" / "lightgbm" / "seed=1" / "summary.json"
    before = json.loads(crashed.read_text())
    crashed.unlink()  # a run killed before its summary was written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(panel, output_dir=out, **SETTINGS)
    assert board.manifest["n_runs_reused"] == 2
    for path in files:
        if path.parent.name != "seed=1" or path.parent.parent.name != "lightgbm":
            assert path.stat().st_mtime_ns == stamps[path], path
    again = json.loads(crashed.read_text())
    assert again["sharpe"] == before["sharpe"]  # rerun, same numbers


def test_the_same_call_gives_the_same_table(panel, board_dir, tmp_path):
    out, _ = board_dir
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        benchmark(panel, output_dir=tmp_path, **SETTINGS)

    def deterministic(path):  # fit seconds measure the machine, not the model
        table = pd.read_csv(path)
        return table.drop(columns=["fit_seconds_mean", "fit_seconds_std"]).to_csv(index=False)

    assert deterministic(tmp_path / "leaderboard.csv") == deterministic(out / "leaderboard.csv")


def test_feature_models_join_as_a_pipeline_and_bad_specs_are_named(panel):
    from sklearn.pipeline import Pipeline

    from skquant.walkforward._benchmark import _estimator

    engine = WalkForwardEngine(
        panel, target="fwd_ret", train_days=100, test_days=100, step_days=100,
        min_train_samples=200,
    )  # fmt: skip
    pipe = _estimator(engine, "gmm_regime+lightgbm", "aggressive", 3, None)
    assert isinstance(pipe, Pipeline) and list(pipe.named_steps) == ["features", "lightgbm"]
    assert pipe.get_params()["lightgbm__config"]["random_state"] == 3
    assert pipe.get_params()["lightgbm__embargo_days"] == engine.embargo_days_
    # the last model gets the (date, symbol) index, so its tail is cut in dates
    features = engine.features_
    head = pipe[:-1].fit_transform(panel[features].iloc[:300])
    assert isinstance(head, pd.DataFrame) and head.index.equals(panel.index[:300])
    with pytest.raises(ValueError, match="feature model"):
        benchmark(panel, models=["lightgbm+vae"], target="fwd_ret")
    with pytest.raises(ValueError, match="Valid models"):
        benchmark(panel, models=["lightgbmm"], target="fwd_ret")
    with pytest.raises(ValueError, match="trian_days"):
        benchmark(panel, models=["lightgbm"], target="fwd_ret", trian_days=5)


def test_cli_benchmark_writes_the_leaderboard(tmp_path):
    from tests.test_cli import run_cli, write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=200, seed=5)
    out = tmp_path / "board"
    proc = run_cli(
        "benchmark", "--models", "ftrl_proximal", "--seeds", "2", "--input-dir", data,
        "--target", "fwd_ret_1d", "--features", "f0,f1,f2", "--train-days", "60",
        "--test-days", "60", "--step-days", "60", "--min-train-samples", "50",
        "--output-dir", out, "--n-jobs", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # a progress line per run: FTRL takes no random_state, so it runs once
    assert "ftrl_proximal seed=0: sharpe" in proc.stderr
    assert "ftrl_proximal seed=1" not in proc.stderr
    assert "| ftrl_proximal |" in proc.stdout
    assert (out / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    table = pd.read_csv(out / "leaderboard.csv", index_col="model")
    assert list(table.index) == ["ftrl_proximal"] and table.loc["ftrl_proximal", "n_seeds"] == 1
    md = (out / "leaderboard.md").read_text()
    assert "ftrl_proximal takes no random_state and ran once (no ±)" in md
    assert "±" not in md.split("| ftrl_proximal |")[1]
    assert (out / "runs" / "ftrl_proximal" / "seed=0" / "summary.json").is_file()
    assert not (out / "runs" / "ftrl_proximal" / "seed=1").exists()


@pytest.mark.slow  # an in-process Dask cluster hung once under pytest-xdist in CI
def test_cli_benchmark_runs_on_a_dask_cluster(tmp_path):
    """--dask-scheduler sends the runs through joblib's dask backend; the table is the
    one a local run gives (an in-process cluster: no worker processes in the tests)."""
    distributed = pytest.importorskip("distributed")
    from skquant.cli import main
    from tests.test_cli import write_symbols

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=200, seed=5)
    args = ["-q", "benchmark", "--models", "ftrl_proximal", "--seeds", "2", "--input-dir",
            str(data), "--target", "fwd_ret_1d", "--features", "f0,f1,f2", "--train-days",
            "60", "--test-days", "60", "--step-days", "60", "--min-train-samples", "50"]  # fmt: skip
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = main([*args, "--output-dir", str(tmp_path / "dask"),
                        "--dask-scheduler", cluster.scheduler_address])  # fmt: skip
        ran_on_dask = bool(cluster.scheduler.task_prefixes)  # the cluster saw the runs
    assert on_dask == 0 and ran_on_dask
    assert main([*args, "--output-dir", str(tmp_path / "local"), "--n-jobs", "1"]) == 0
    keep = [
        c for c in pd.read_csv(tmp_path / "local" / "leaderboard.csv").columns if "fit_" not in c
    ]
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "dask" / "leaderboard.csv")[keep],
        pd.read_csv(tmp_path / "local" / "leaderboard.csv")[keep],
    )


def test_another_cost_reevaluates_every_run_without_refitting(
    panel, board_dir, tmp_path, monkeypatch
):
    """The runs' fold checkpoints: another cost_bps is another run (fingerprint), but
    its folds are those already fitted."""
    import shutil

    from skquant.walkforward import _engine

    out = shutil.copytree(board_dir[0], tmp_path / "board")
    fits = []
    fit = _engine._fit_predict_fold

    def counting(*args, **kwargs):
        fits.append(1)
        return fit(*args, **kwargs)

    monkeypatch.setattr(_engine, "_fit_predict_fold", counting)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(panel, output_dir=out, **SETTINGS, cost_bps=20)
    assert board.manifest["n_runs_reused"] == 0 and not fits
    gross, net = board_dir[1].table["sharpe_mean"], board.table["sharpe_mean"]
    assert (net.loc[gross.index] < gross).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        benchmark(panel, output_dir=tmp_path / "fresh", **SETTINGS, cost_bps=20)
    assert fits  # the counter counts


def test_versions_are_found_without_top_level_txt(monkeypatch):
    """Python 3.10's ``packages_distributions`` reads only ``top_level.txt``, which the
    ``xgboost-cpu`` wheel lacks: the manifest recorded xgboost's version as None there
    (found on a Python 3.10 install)."""
    from importlib import metadata

    from skquant.walkforward._benchmark import package_versions

    monkeypatch.setattr(metadata, "packages_distributions", lambda: {})
    versions = package_versions()
    for module, name in (("xgboost", "xgboost"), ("sklearn", "scikit-learn")):
        if importlib.util.find_spec(module) is not None:
            assert versions[name] == metadata.version(
                "xgboost-cpu" if name == "xgboost" and _has_dist("xgboost-cpu") else name
            ), name
    assert versions["python"]


def _has_dist(name: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_a_runs_annual_return_is_the_engines(panel, tmp_path):
    """The leaderboard dropped a date without returns before annualising, the engine
    counts it as a flat period: one run, two annual returns (audit)."""
    from skquant.metrics import annual_return

    data = panel.copy()
    dates = data.index.get_level_values("date")
    data.loc[dates == dates.unique()[150], "fwd_ret"] = np.nan  # a date no one traded
    settings = {**SETTINGS, "models": ["ftrl_proximal"], "seeds": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(data, output_dir=tmp_path, **settings)
    net = pd.read_csv(tmp_path / "runs" / "ftrl_proximal" / "seed=0" / "returns.csv")["net"]
    assert net.isna().sum() == 1
    # the engine's convention (metrics/_returns.py): a NaN period is a flat one
    expected = annual_return(net.to_numpy(), board.manifest["periods_per_year"])
    assert board.runs["annual_return"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_a_seed_without_a_number_leaves_the_mean_unknown(board_dir, panel, tmp_path):
    """One seed's NaN Sharpe was skipped: the mean of the others stood for the model,
    n_seeds still counting it (audit). The mean is NaN now, and the model ranks last."""
    import shutil

    out, _ = board_dir
    copy = tmp_path / "board"
    shutil.copytree(out, copy)
    summary = copy / "runs" / "lightgbm" / "seed=1" / "summary.json"
    record = json.loads(summary.read_text())
    summary.write_text(json.dumps({**record, "sharpe": None, "ic": None}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(panel, output_dir=copy, **SETTINGS)
    assert board.manifest["n_runs_reused"] == 3
    table = board.table
    assert np.isnan(table.loc["lightgbm", "sharpe_mean"]) and np.isnan(
        table.loc["lightgbm", "ic_mean"]
    )
    assert np.isfinite(table.loc["lightgbm", "max_drawdown_mean"])
    assert np.isfinite(table.loc["ftrl_proximal", "sharpe_mean"])
    assert list(table.index) == ["ftrl_proximal", "lightgbm"]


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_cli_benchmark_says_each_runs_warnings_once_in_its_words(tmp_path, n_jobs):
    """A run's own warning (here the IC's undefined dates: LightGBM on two symbols is
    often flat across a date) came out of a worker process as a raw Python warning,
    ".../multiprocessing/process.py:108: UserWarning: summary ic rests on 3030 of 4500
    test dates ...", without the run it belonged to, and a reused run said nothing.
    Each is now one "skquant: warning:" line naming its runs, the same on a re-run."""
    pytest.importorskip("arch")
    from tests.test_cli import run_cli

    args = ["benchmark", "--models", "lightgbm", "--seeds", "2", "--n-jobs", n_jobs,
            "--output-dir", tmp_path / "board"]  # fmt: skip
    said = []
    for _ in range(2):  # the second call reuses both runs
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert "UserWarning" not in proc.stderr, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if "summary ic rests on" in line]
        assert lines and all(line.startswith("skquant: warning: ") for line in lines), lines
        runs = re.compile(r"\((lightgbm seed=\d)(, lightgbm seed=\d)?\)$")
        assert all(runs.search(line) for line in lines), lines
        assert {"seed=0", "seed=1"} <= set(re.findall(r"seed=\d", lines[-1])), lines
        said.append(lines)
    # the re-run's reused runs come in one batch: one line, the first call's last (its
    # runs named in plan order, the first call's as they finished)
    assert len(said[1]) == 1, said
    assert said[1][0].rpartition(" (")[0] == said[0][-1].rpartition(" (")[0], said
    record = json.loads((tmp_path / "board" / "runs" / "lightgbm" / "seed=0" / "summary.json")
                        .read_text())  # fmt: skip
    assert any("summary ic rests on" in text for _, text in record["warnings"])
    # the dates the run's IC rests on are kept beside it (the Pearson IC's are those of
    # the rank IC the warning counts: a date flat in prediction has neither)
    own = next(text for _, text in record["warnings"] if "summary ic rests on" in text)
    rests_on = re.search(r"rests on (\d+) of \d+", own)
    assert record["ic_dates"] == int(rests_on.group(1))


def test_runs_whose_warning_differs_only_in_its_figures_say_it_once():
    """Each run's IC warning carries its own counts ("rests on 3030 of 4500 test
    dates", 3101 in the next): keyed on the exact text, 4 runs gave 4 lines, the
    default zoo about 50. Now the first run's words, then once naming them all, each
    figure that differs as its range over the runs."""
    from skquant.walkforward._benchmark import _RunWarnings

    def record(model, seed, n):
        text = f"summary ic rests on {n} of 4500 test dates (a date with one symbol)"
        return {"model": model, "seed": seed, "warnings": [["builtins.UserWarning", text]]}

    said = _RunWarnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        said.say([record("lightgbm", 0, 3030)])
        said.say([record("lightgbm", 1, 3101), record("xgboost", 0, 3030)])
        said.say([record("xgboost", 1, 2999.5)])
        said.close()
    lines = [str(w.message) for w in caught]
    assert lines == [
        "summary ic rests on 3030 of 4500 test dates (a date with one symbol) (lightgbm seed=0)",
        "summary ic rests on 2999.5 to 3101 of 4500 test dates (a date with one symbol) "
        "(lightgbm seed=0, lightgbm seed=1, xgboost seed=0, xgboost seed=1)",
    ], lines
    assert {w.category for w in caught} == {UserWarning}
    # the digits of a name are no figure: warnings about two targets stay two
    said = _RunWarnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed, target in enumerate(("fwd_ret_5", "fwd_ret_1")):
            text = f"y {target} overlaps itself."
            said.say([{"model": "m", "seed": seed, "warnings": [["builtins.UserWarning", text]]}])
        said.close()
    assert [str(w.message) for w in caught] == [
        "y fwd_ret_5 overlaps itself. (m seed=0)",
        "y fwd_ret_1 overlaps itself. (m seed=1)",
    ]
    # a '#' in a text is no figure (keyed with '#' for a figure, "column 5" and "column
    # #" were one warning of 1 and 2 figures: close() raised IndexError); a date is one
    # figure ("2019 to 2020-01 to 12-03 to 31" read four)
    said = _RunWarnings()
    texts = ["column 5 of 7 is constant", "column # of 7 is constant",
             "no return on 2020-01-03", "no return on 2019-12-31"]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed, text in enumerate(texts):
            said.say([{"model": "m", "seed": seed, "warnings": [["builtins.UserWarning", text]]}])
        said.close()
    assert [str(w.message) for w in caught] == [
        "column 5 of 7 is constant (m seed=0)",
        "column # of 7 is constant (m seed=1)",
        "no return on 2020-01-03 (m seed=2)",
        "no return on 2019-12-31 to 2020-01-03 (m seed=2, m seed=3)",
    ]


def test_a_run_records_only_what_the_filters_show(panel, monkeypatch):
    """Each run recorded under simplefilter("always"): a library's DeprecationWarning,
    which the filters ignore where it is raised, was kept in summary.json and said
    again at the caller's line, where the filters show it. A warning every run gives
    is said when the first gives it, then once naming them all."""
    import types

    library = types.ModuleType("somelib")
    exec(  # a library warning from its own line
        "import warnings\ndef old():\n    warnings.warn('somelib.old is deprecated', "
        "DeprecationWarning, stacklevel=1)\n",
        library.__dict__,
    )
    real = WalkForwardEngine.run

    def run(self, *args, **kwargs):
        library.old()
        warnings.warn("a run's own warning", UserWarning, stacklevel=1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WalkForwardEngine, "run", run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="somelib")
        board = benchmark(
            panel, models=["lightgbm"], seeds=3, n_jobs=1, target="fwd_ret",
            configs={"lightgbm": {"n_estimators": 5}},
            train_days=100, test_days=100, step_days=100, min_train_samples=200,
        )  # fmt: skip
    said = [str(w.message) for w in caught]
    assert not [m for m in said if "somelib" in m], said
    # said when the first run gives it, then once naming every run that gave it (it
    # was one line per run, each distinct by its run's name: 50 lines for 50 runs)
    own = [m for m in said if m.startswith("a run's own warning")]
    assert own == [
        "a run's own warning (lightgbm seed=0)",
        "a run's own warning (lightgbm seed=0, lightgbm seed=1, lightgbm seed=2)",
    ]
    assert board.runs.shape[0] == 3


def test_a_family_without_a_random_state_runs_once(panel):
    """Risk walk: the seedless families (ftrl_proximal, meta_learning, reward_based) ran
    once per seed, one run repeated: the leaderboard showed n_seeds=3 and '± 0.000' (the
    README's 'ftrl_proximal 0.125 ± 0.000'), and each repeat counted as a trial of the
    deflated Sharpe ratio (lightgbm and ftrl_proximal over 3 seeds: n_trials=6). Now
    such a family runs once, with the first seed, and counts as one trial (4)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = benchmark(panel, **{**SETTINGS, "seeds": 3})
    assert board.manifest["n_trials"] == 4
    assert board.table["n_seeds"].to_dict() == {"lightgbm": 3, "ftrl_proximal": 1}
    assert sorted(map(tuple, board.runs[["model", "seed"]].to_numpy())) == [
        ("ftrl_proximal", 0), ("lightgbm", 0), ("lightgbm", 1), ("lightgbm", 2)
    ]  # fmt: skip
    row = next(line for line in board.to_markdown().splitlines() if "| ftrl_proximal |" in line)
    assert "±" not in row
