"""MLflow tracking of ``walkforward`` and ``train-all`` (``--tracking-uri``, ``--experiment``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.test_cli import fast_config, write_symbols

mlflow = pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the module (creating its tables takes seconds).

    MLflow fixes a SQLite store's artifact root (``./mlruns``) when the process first
    opens it, so it is opened from the store's folder: no artifact lands in the repo.
    """
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlruns.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        mlflow.MlflowClient(tracking_uri=uri).search_experiments()  # creates the tables
    return root, uri


@pytest.fixture
def client(store, monkeypatch):
    """The store's client; the working folder (MLflow's artifact root) is the store's."""
    root, uri = store
    monkeypatch.chdir(root)  # artifacts go to ./mlruns beside the store, not into the repo
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return mlflow.MlflowClient(tracking_uri=uri)


def _runs(client, experiment: str):
    found = client.get_experiment_by_name(experiment)
    return [] if found is None else client.search_runs([found.experiment_id])


def _children(runs, parent):
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def _parent_and_children(runs):
    """The one top-level run of ``runs`` and the runs nested under it."""
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return parent, _children(runs, parent)


def _walkforward_args(tmp_path):
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=200, seed=5)
    return [
        "-q", "walkforward", "--input-dir", str(data), "--target", "fwd_ret_1d",
        "--output-dir", str(tmp_path / "wf"),
        "--config", str(fast_config(tmp_path, rounds=20, patience=0)),
        "--train-days", "60", "--test-days", "30", "--step-days", "30",
        "--embargo-days", "1", "--min-train-samples", "50", "--n-jobs", "1",
    ]  # fmt: skip


def test_walkforward_logs_one_run(client, store, tmp_path):
    from skquant.cli import main

    args = _walkforward_args(tmp_path)
    assert main([*args, "--tracking-uri", store[1], "--experiment", "wf-test"]) == 0
    (run,) = _runs(client, "wf-test")
    assert run.info.status == "FINISHED"
    out = tmp_path / "wf"
    summary = json.loads((out / "summary.json").read_text())
    assert run.data.metrics["sharpe"] == summary["sharpe"]
    numeric = {k for k, v in summary.items() if isinstance(v, (int, float))}
    assert numeric <= set(run.data.metrics)
    folds = pd.read_csv(out / "folds.csv")
    history = client.get_metric_history(run.info.run_id, "fold/sharpe")
    assert sorted(m.step for m in history) == sorted(folds["fold"])
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
        folds.sort_values("fold")["sharpe"].tolist()
    )
    params = run.data.params
    assert params["model"] == "lightgbm" and params["target"] == "fwd_ret_1d"
    assert params["windows.train_days"] == "60" and params["portfolio.rule"] == "sign"
    assert params["config.num_leaves"] == "7" and params["n_features"] == "3"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"summary.json", "folds.csv", "walkforward.png", "run_manifest.json"} <= artifacts
    assert "predictions.parquet" not in artifacts
    # nothing of MLflow's global state is left in the process
    assert "MLFLOW_TRACKING_URI" not in os.environ
    assert run.info.artifact_uri.startswith(str(store[0]))


def test_train_all_logs_a_parent_and_one_nested_run_per_pair(client, store, tmp_path):
    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=160)
    out = tmp_path / "models"
    code = main(
        ["-q", "train-all", "--input-dir", str(data), "--output-dir", str(out),
         "--target", "fwd_ret_1d", "--models", "lightgbm",
         "--config", str(fast_config(tmp_path, rounds=20, patience=5)), "--val-days", "30",
         "--n-jobs", "2", "--tracking-uri", store[1], "--experiment", "train-test"]
    )  # fmt: skip
    assert code == 0
    runs = _runs(client, "train-test")
    parent, nested = _parent_and_children(runs)
    assert len(runs) == 3 and len(nested) == 2
    assert parent.data.metrics["trained"] == 2
    assert sorted(r.data.tags["mlflow.runName"] for r in nested) == ["AAA/lightgbm", "BBB/lightgbm"]
    for run in nested:
        symbol = run.data.params["symbol"]
        saved = json.loads((out / symbol / "lightgbm" / "metrics.json").read_text())
        assert run.data.metrics["rmse"] == saved["rmse"]
        assert run.data.metrics["trading.sharpe"] == saved["trading"]["sharpe"]
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
        assert {"model/metadata.json", "model/config.json", "model/metrics.json"} <= artifacts


def test_tune_logs_a_study_run_with_one_nested_run_per_trial(client, store, tmp_path):
    from tests.test_tune import _folder, _tune_cli

    data, config = _folder(tmp_path)
    out = tmp_path / "out"
    flags = ["--tracking-uri", store[1], "--experiment", "tune-test"]
    assert _tune_cli(data, config, out, "--n-trials", "2", *flags) == 0
    runs = _runs(client, "tune-test")
    parent, trials = _parent_and_children(runs)
    assert len(runs) == 3 and len(trials) == 2
    assert parent.data.tags["mlflow.runName"] == "skquant-lightgbm"
    summary = json.loads((out / "summary.json").read_text())
    assert parent.data.metrics["best_score"] == summary["best_score"]
    assert {"best_config.yaml", "trials.csv", "summary.json"} <= {
        a.path for a in client.list_artifacts(parent.info.run_id)
    }
    table = pd.read_csv(out / "trials.csv").set_index("trial")
    for run in trials:
        number = int(run.data.params["trial"])
        assert run.data.metrics["sharpe"] == pytest.approx(table.loc[number, "score"])
        history = client.get_metric_history(run.info.run_id, "fold/sharpe")
        # one step per fold the trial ran, numbered as the engine numbers folds
        assert len(history) == table.loc[number, "n_folds"] >= 1
        assert len({m.step for m in history}) == len(history)


def test_benchmark_logs_the_leaderboard_and_one_nested_run_per_model_and_seed(
    client, store, tmp_path
):
    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=200, seed=5)
    out = tmp_path / "board"
    # ftrl_proximal takes no random_state, so it runs once; lightgbm once a seed
    code = main(
        ["-q", "benchmark", "--models", "ftrl_proximal,lightgbm", "--seeds", "2", "--input-dir",
         str(data), "--target", "fwd_ret_1d", "--features", "f0,f1,f2", "--train-days", "60",
         "--test-days", "60", "--step-days", "60", "--min-train-samples", "50",
         "--output-dir", str(out), "--n-jobs", "1",
         "--tracking-uri", store[1], "--experiment", "board-test"]
    )  # fmt: skip
    assert code == 0
    runs = _runs(client, "board-test")
    parent, nested = _parent_and_children(runs)
    assert len(runs) == 4 and len(nested) == 3
    assert sorted((r.data.params["model"], r.data.params["seed"]) for r in nested) == [
        ("ftrl_proximal", "0"),
        ("lightgbm", "0"),
        ("lightgbm", "1"),
    ]
    assert {"leaderboard.csv", "leaderboard.md", "leaderboard.json"} <= {
        a.path for a in client.list_artifacts(parent.info.run_id)
    }
    for run in nested:
        model, seed = run.data.params["model"], run.data.params["seed"]
        saved = json.loads((out / "runs" / model / f"seed={seed}" / "summary.json").read_text())
        assert run.data.metrics["sharpe"] == pytest.approx(saved["sharpe"])


def _usage_error_args(command, tmp_path):
    """Each tracked command's arguments, all valid but a target the files lack."""
    from tests.test_tune import _folder

    if command == "walkforward":
        return _walkforward_args(tmp_path)
    data, config = _folder(tmp_path)
    out = ["--output-dir", str(tmp_path / "out"), "--input-dir", str(data), "--n-jobs", "1"]
    if command == "train-all":
        return ["-q", "train-all", "--models", "lightgbm", "--config", str(config), *out]
    windows = ["--train-days", "100", "--test-days", "50", "--step-days", "50",
               "--min-train-samples", "100"]  # fmt: skip
    if command == "tune":
        return ["-q", "tune", "--model", "lightgbm", "--config", str(config), "--n-trials", "1",
                *windows, *out]  # fmt: skip
    return ["-q", "benchmark", "--models", "ftrl_proximal", "--seeds", "1", *windows, *out]


@pytest.mark.parametrize("command", ["walkforward", "train-all", "tune", "benchmark"])
def test_a_usage_error_leaves_no_run_in_the_store(client, store, tmp_path, capsys, command):
    """Bad input ends the command with exit 2 before its MLflow run opens (a FAILED
    run was left for each mistyped option or column)."""
    from skquant.cli import main

    experiment = f"usage-{command}"
    args = [*_usage_error_args(command, tmp_path), "--target", "no_such_column"]
    code = main([*args, "--tracking-uri", store[1], "--experiment", experiment])
    assert code == 2
    assert "no_such_column" in capsys.readouterr().err
    assert _runs(client, experiment) == []


def test_a_run_that_fails_during_the_work_is_recorded_failed(client, store, tmp_path, monkeypatch):
    from skquant.cli import main
    from skquant.walkforward import WalkForwardEngine

    def crash(self, *args, **kwargs):
        raise RuntimeError("a fold crashed")

    monkeypatch.setattr(WalkForwardEngine, "run", crash)
    args = [*_walkforward_args(tmp_path), "--tracking-uri", store[1], "--experiment", "crash"]
    assert main(args) == 3
    (run,) = _runs(client, "crash")
    assert run.info.status == "FAILED"


def test_tracking_uri_from_the_environment(client, store, monkeypatch):
    from skquant.utils._tracking import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store[1])
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "env-test")
    with tracking(run_name="parent") as parent:
        parent.log_params({"a": {"b": 1}, "features": ["x"] * 300, "bad key!": 2})
        for trial in range(2):
            with parent.child(f"trial {trial}") as run:
                run.log_metrics({"sharpe": 0.5 * trial, "note": "text"}, step=trial)
    runs = _runs(client, "env-test")
    assert len(runs) == 3
    (top,) = [r for r in runs if r.data.tags["mlflow.runName"] == "parent"]
    assert top.data.params["a.b"] == "1" and top.data.params["bad key_"] == "2"
    assert len(top.data.params["features"]) == 500  # cut to the limit every store accepts
    assert top.data.params["features"].endswith("...")
    children = _children(runs, top)
    assert sorted(r.data.metrics["sharpe"] for r in children) == [0.0, 0.5]
    assert all("note" not in r.data.metrics for r in children)


def test_a_failing_block_marks_the_run_failed(client, store):
    from skquant.utils._tracking import tracking

    with pytest.raises(RuntimeError):
        with tracking(store[1], "fail-test"):
            raise RuntimeError("boom")
    (run,) = _runs(client, "fail-test")
    assert run.info.status == "FAILED"


def test_missing_mlflow_is_a_usage_error_naming_the_extra(monkeypatch, capsys, tmp_path):
    from skquant.cli import main

    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises ImportError
    code = main(["walkforward", "--tracking-uri", f"sqlite:///{tmp_path}/x.db"])
    assert code == 2
    assert "skquant[mlflow]" in capsys.readouterr().err


def test_without_the_flags_mlflow_is_not_imported(tmp_path):
    args = _walkforward_args(tmp_path)
    script = (
        "import sys\nfrom skquant.cli import main\n"
        f"assert main({args!r}) == 0\n"
        "assert 'mlflow' not in sys.modules, 'mlflow was imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update({"OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"})
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "wf" / "summary.json").is_file()


def test_a_store_mlflow_cannot_open_is_a_usage_error_naming_the_option(
    monkeypatch, capsys, tmp_path
):
    """MLflow 3 refuses a folder store, and no MLflow knows foo://: the command read the
    data, then ended with "unexpected error: MlflowException ..." (exit 3)."""
    import mlflow

    from skquant.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["walkforward", "--tracking-uri", "foo://bar"]) == 2
    err = capsys.readouterr().err
    assert "--tracking-uri 'foo://bar': MLflow cannot use this store: " in err, err
    assert "sqlite:///PATH/mlflow.db" in err and "unexpected" not in err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "foo://bar")
    assert main(["walkforward"]) == 2
    assert "$MLFLOW_TRACKING_URI 'foo://bar'" in capsys.readouterr().err
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    if int(mlflow.__version__.split(".")[0]) >= 3:
        monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
        assert main(["walkforward", "--tracking-uri", str(tmp_path / "runs")]) == 2
        assert "MLFLOW_ALLOW_FILE_STORE" in capsys.readouterr().err
