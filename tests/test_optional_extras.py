"""An install without an optional extra: what needs it says so before any work.

A missing module is simulated with ``sys.modules[name] = None``, which makes both
``import name`` and ``importlib.util.find_spec(name)`` report it absent (CI also runs
the whole suite on a real core install: leg 4 of ``.ci/run``).
"""

from __future__ import annotations

import sys
import warnings

import pytest

from skquant.registry import missing_dependencies, registered_names
from tests.test_cli import write_symbols

_NETS = {"cnn1d", "gan", "lstm", "mlp", "multi_task", "transformer", "vae"}


@pytest.fixture
def no_torch(monkeypatch):
    """This process without torch (nor skorch, which imports it)."""
    for name in ("torch", "skorch"):
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_dependencies_name_the_nets_extra_only(no_torch):
    for name in registered_names():
        expected = ["torch", "skorch"] if name in _NETS else []
        assert missing_dependencies(name) == expected, name
    with pytest.raises(ValueError, match="Unknown model 'lgbm'"):
        missing_dependencies("lgbm")


@pytest.mark.requires("torch", "skorch")
def test_an_installed_extra_is_not_missing():
    assert all(missing_dependencies(name) == [] for name in registered_names())


def _cli(args, capsys):
    from skquant.cli import main

    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "extra", "needle"),
    [
        ("walkforward", ["--model", "lstm"], "--model: lstm needs torch and skorch"),
        ("train-all", ["--models", "lightgbm,mlp"], "--models: mlp needs torch and skorch"),
        ("benchmark", ["--models", "lightgbm,vae+lightgbm"], "--models: vae needs torch"),
        ("build-features", [], "the VAE features: vae needs torch and skorch"),
    ],
)
def test_a_command_needing_the_nets_exits_2_before_any_work(
    tmp_path, capsys, no_torch, command, extra, needle
):
    data = write_symbols(tmp_path / "data", ["AAA"], n=60)
    out = tmp_path / "out"
    code, err = _cli([command, "--input-dir", str(data), "--output-dir", str(out), *extra], capsys)
    assert code == 2, err
    assert needle in err and "pip install torch==2.13.0" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()  # nothing trained, nothing written


def test_tune_without_optuna_exits_2_naming_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    data = write_symbols(tmp_path / "data", ["AAA"], n=60)
    out = tmp_path / "out"
    code, err = _cli(
        ["tune", "--input-dir", str(data), "--output-dir", str(out)]
        + ["--model", "lightgbm", "--n-trials", "1"],
        capsys,
    )
    assert code == 2, err
    assert "optuna" in err and "pip install 'skquant[tune]'" in err, err
    assert not out.exists()


def test_train_all_phase_leaves_out_the_models_this_install_lacks(tmp_path, capsys, no_torch):
    from skquant.cli._train_all import PHASE_MODELS

    assert set(PHASE_MODELS["sequential"]) & _NETS  # else this test checks nothing
    data = write_symbols(tmp_path / "data", ["AAA"], n=160)
    out = tmp_path / "out"
    args = ["train-all", "--phase", "sequential", "--target", "fwd_ret_1d", "--val-days", "30"]
    args += ["--input-dir", str(data)]
    code, err = _cli([*args, "--output-dir", str(out), "--n-jobs", "1"], capsys)
    assert code == 0, err
    left_out = [m for m in PHASE_MODELS["sequential"] if m in _NETS]
    assert f"{', '.join(left_out)} left out, this install lacks torch and skorch" in err
    trained = {p.name for p in (out / "AAA").iterdir() if p.is_dir()}
    assert trained == set(PHASE_MODELS["sequential"]) - _NETS


def test_benchmark_defaults_to_the_installed_models_and_says_so(no_torch):
    from skquant.walkforward import default_models

    everything = default_models(installed=False)
    installed = default_models()
    assert installed == [
        spec for spec in everything if not set(spec.split("+")) & _NETS
    ]  # the order kept
    assert "vae+lightgbm" in everything and "vae+lightgbm" not in installed


def test_benchmark_refuses_a_model_this_install_lacks_before_any_run(tmp_path, no_torch):
    from skquant.datasets import make_synthetic_panel
    from skquant.walkforward import benchmark

    panel = make_synthetic_panel(n_symbols=2, n_days=120, random_state=0)
    with pytest.raises(ImportError, match=r"models: 'mlp' needs torch and skorch.*torch==2.13.0"):
        benchmark(panel, models=["lightgbm", "mlp"], seeds=1, output_dir=tmp_path / "board")
    assert not (tmp_path / "board").exists()


def test_benchmark_default_models_warn_about_the_left_out_ones(monkeypatch, no_torch):
    import skquant.walkforward._benchmark as bench

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(bench, "WalkForwardEngine", stop)  # stop right after the models
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Stop):
            bench.benchmark(None, seeds=1)
    left_out = [w for w in caught if "left out of the default models" in str(w.message)]
    assert len(left_out) == 1, [str(w.message) for w in caught]
    assert "vae+lightgbm" in str(left_out[0].message)
    assert "torch and skorch" in str(left_out[0].message)
    assert left_out[0].filename == __file__  # it points at the caller's line


def test_conftest_skips_a_test_whose_trainer_needs_a_missing_extra():
    from skquant import get_trainer
    from tests.conftest import _needed_by

    mlp = get_trainer("mlp")(epochs=1)
    assert _needed_by(mlp) == {"torch", "skorch"}
    # a name or a class is only read (configs, docstrings): no extra needed
    assert _needed_by("lstm") == set() and _needed_by(type(mlp)) == set()
    assert _needed_by([get_trainer("lightgbm")(), "ridge"]) == set()
    reward = get_trainer("reward_based")(estimator=mlp)  # a net inside another trainer
    assert _needed_by(reward) == {"torch", "skorch"}


def test_train_all_shap_importance_without_shap_exits_2_before_training(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "shap", None)
    data = write_symbols(tmp_path / "data", ["AAA"], n=60)
    out = tmp_path / "out"
    args = ["train-all", "--models", "lightgbm,ftrl_proximal", "--importance", "shap"]
    code, err = _cli([*args, "--input-dir", str(data), "--output-dir", str(out)], capsys)
    assert code == 2, err
    assert "--importance shap: ftrl_proximal needs shap, which this install lacks" in err, err
    assert "pip install 'skquant[shap]'" in err and not out.exists()


def test_shap_needs_the_package_except_for_the_families_with_tree_contributions(monkeypatch):
    """The registry's list agrees with the trainers: the families that compute exact
    SHAP values of their trees themselves are exactly those that need no package."""
    from skquant import get_trainer
    from skquant.models._base import BaseTrainer

    monkeypatch.setitem(sys.modules, "shap", None)
    for name in registered_names():
        own = get_trainer(name)._tree_contributions is not BaseTrainer._tree_contributions
        needs = "shap" in missing_dependencies(name, importance="shap")
        assert needs is not own, name
        assert "shap" not in missing_dependencies(name, importance="permutation")
    assert missing_dependencies("lightgbm", importance="shap") == []
    with pytest.raises(ValueError, match="Unknown importance='shapley'"):
        missing_dependencies("lightgbm", importance="shapley")


@pytest.mark.parametrize("command", ["train-all", "benchmark"])
def test_dask_scheduler_without_distributed_exits_2_before_any_work(
    tmp_path, capsys, monkeypatch, command
):
    monkeypatch.setitem(sys.modules, "distributed", None)
    data = write_symbols(tmp_path / "data", ["AAA"], n=60)
    out = tmp_path / "out"
    args = [command, "--models", "lightgbm", "--dask-scheduler", "tcp://127.0.0.1:1"]
    code, err = _cli([*args, "--input-dir", str(data), "--output-dir", str(out)], capsys)
    assert code == 2, err
    assert "--dask-scheduler:" in err and "pip install 'skquant[dask]'" in err, err
    assert not out.exists()


@pytest.mark.requires("distributed")
def test_an_unreachable_dask_scheduler_is_a_usage_error_naming_it(monkeypatch):
    import distributed

    from skquant.cli._common import UsageError
    from skquant.cli._runner import dask_backend

    def unreachable(address, *args, **kwargs):  # what Client says after its 30 s timeout
        raise OSError(f"Timed out trying to connect to {address} after 30 s")

    monkeypatch.setattr(distributed, "Client", unreachable)
    with pytest.raises(UsageError, match=r"--dask-scheduler 'tcp://10\.0\.0\.1:8786': Timed out"):
        with dask_backend("tcp://10.0.0.1:8786"):
            pass


def test_benchmark_command_says_what_it_leaves_out_before_the_run(
    tmp_path, capsys, monkeypatch, no_torch
):
    """Without --models the library leaves out what the install lacks; its warning is
    printed when given (library_rules live), not after the run."""
    import functools

    import skquant.walkforward._benchmark as bench

    @functools.wraps(bench.WalkForwardEngine)  # benchmark() reads its parameters
    def stop(*args, **kwargs):  # the run's first step, after the models are chosen
        print("the run starts", file=sys.stderr)
        raise ValueError("stopped here")

    monkeypatch.setattr(bench, "WalkForwardEngine", stop)
    data = write_symbols(tmp_path / "data", ["AAA"], n=60)
    # valid data: the command checks it with an engine of its own before benchmark runs
    valid = ["--target", "fwd_ret_1d", "--train-days", "20", "--test-days", "10",
             "--step-days", "10", "--min-train-samples", "10"]  # fmt: skip
    code, err = _cli(
        ["benchmark", "--input-dir", str(data), "--output-dir", str(tmp_path / "out"), *valid],
        capsys,
    )
    assert code == 2, err
    lines = err.splitlines()
    warned = [i for i, line in enumerate(lines) if "left out of the default models" in line]
    assert warned and warned[0] < lines.index("the run starts"), err
    assert lines[warned[0]].startswith("skquant: warning: benchmark: cnn1d, lstm")


@pytest.mark.parametrize(
    ("command", "model", "config", "needle"),
    [
        (
            "walkforward",
            [
                "--model",
                "meta_learning",
                "--train-days",
                "100",
                "--test-days",
                "20",
                "--min-train-samples",
                "50",
            ],
            "model: meta_learning\ndefaults:\n  estimators: [lightgbm, mlp, ridge]\nvariants:\n  balanced: {}\n",
            "--config: mlp (in meta_learning's estimators) needs torch and skorch",
        ),
        (
            "train-all",
            ["--models", "lightgbm,reward_based", "--val-days", "30"],
            "model: reward_based\ndefaults:\n  estimator: lstm\nvariants:\n  balanced: {}\n",
            "--config: lstm (in reward_based's estimator) needs torch and skorch",
        ),
    ],
)
def test_a_net_named_inside_a_config_exits_2_before_any_work(
    tmp_path, capsys, no_torch, command, model, config, needle
):
    """A family a config names in turn (a meta-learner's bases, a reward-weighted base)
    is checked with the config, not when its first pair is fitted."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=160)
    path = tmp_path / "my.yaml"
    path.write_text(config, encoding="utf-8")
    out = tmp_path / "out"
    args = [command, "--input-dir", str(data), "--output-dir", str(out), *model]
    args += ["--config", str(path), "--target", "fwd_ret_1d", "--leak-threshold", "none"]
    code, err = _cli(args, capsys)
    assert code == 2, err
    assert needle in err and "pip install torch==2.13.0" in err, err
    assert not out.exists()  # nothing trained, nothing written


def test_the_shipped_configs_name_no_family_this_install_lacks(tmp_path, capsys, no_torch):
    """Every variant of the shipped meta-learning and reward-weighted configs runs on a
    core install: their default bases are tree models."""
    from skquant.cli._common import require_config_models
    from skquant.config import load_model_config

    for name in ("meta_learning", "reward_based"):
        for variant in ("conservative", "balanced", "aggressive"):
            require_config_models("--models", name, load_model_config(name, variant=variant))
