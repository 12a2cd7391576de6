"""Config variants, overrides and their resolution inside a trainer."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skquant import LightGBMTrainer, list_models, list_variants, load_model_config
from skquant.config import read_config_file
from skquant.config._loader import valid_config_keys

VARIANTS = ("conservative", "balanced", "aggressive")


@pytest.mark.parametrize("name", list_models())
def test_every_model_has_the_three_variants(name):
    assert set(VARIANTS) <= set(list_variants(name))
    for variant in VARIANTS:
        config = load_model_config(name, variant=variant)
        assert config, f"{name}/{variant} is empty"
        json.dumps(config)  # JSON-serialisable


@pytest.mark.parametrize("name", list_models())
def test_every_config_key_has_a_comment(name):
    text = resources.files("skquant.configs").joinpath(f"{name}.yaml").read_text()
    keys, _ = valid_config_keys(name)
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        key = stripped.split(":", 1)[0]
        if key in keys:
            assert "#" in stripped, f"{name}.yaml: key {key!r} has no comment: {line!r}"


def test_conservative_regularises_more_than_aggressive():
    cons = load_model_config("lightgbm", variant="conservative")
    aggr = load_model_config("lightgbm", variant="aggressive")
    assert cons["learning_rate"] < aggr["learning_rate"]
    assert cons["max_depth"] < aggr["max_depth"]
    assert cons["min_child_samples"] > aggr["min_child_samples"]
    assert cons["reg_lambda"] > aggr["reg_lambda"]
    assert cons["early_stopping_rounds"] > aggr["early_stopping_rounds"]
    assert cons["subsample"] < 1 and cons["colsample_bytree"] < 1


def test_guide_overrides():
    config = load_model_config(
        "lightgbm",
        overrides={
            "n_estimators": 2000,
            "learning_rate": 0.01,
            "max_depth": 5,
            "early_stopping_rounds": 50,
        },
    )
    assert config["n_estimators"] == 2000
    assert config["early_stopping_rounds"] == 50
    # the rest of the balanced variant is kept
    assert config["num_leaves"] == load_model_config("lightgbm")["num_leaves"]


def test_library_alias_is_accepted():
    config = load_model_config("lightgbm", overrides={"min_data_in_leaf": 7})
    assert config["min_child_samples"] == 7
    assert "min_data_in_leaf" not in config


def test_unknown_override_names_key_and_suggests():
    with pytest.raises(ValueError, match=r"'n_estimator'.*Did you mean 'n_estimators'"):
        load_model_config("lightgbm", overrides={"n_estimator": 10})


def test_unknown_model_and_variant():
    with pytest.raises(ValueError, match=r"Unknown model 'lightgbmm'.*'lightgbm'"):
        load_model_config("lightgbmm")
    with pytest.raises(ValueError, match=r"Unknown variant 'wild'.*conservative"):
        load_model_config("lightgbm", variant="wild")


def test_variant_from_environment(monkeypatch):
    monkeypatch.setenv("MODEL_VARIANT", "conservative")
    assert load_model_config("lightgbm") == load_model_config("lightgbm", variant="conservative")
    monkeypatch.setenv("MODEL_VARIANT", "nope")
    with pytest.raises(ValueError, match="MODEL_VARIANT"):
        load_model_config("lightgbm")


@pytest.fixture
def user_yaml(tmp_path):
    """A copy of lightgbm.yaml with the guide's `my_experiment` variant added."""
    path = tmp_path / "lightgbm.yaml"
    src = resources.files("skquant.configs").joinpath("lightgbm.yaml")
    with resources.as_file(src) as original:
        shutil.copy(original, path)
    with path.open("a") as fh:
        fh.write(
            "  my_experiment:\n"
            "    n_estimators: 2000\n"
            "    learning_rate: 0.02\n"
            "    max_depth: 6\n"
            "    min_data_in_leaf: 200\n"
        )
    return path


def test_user_variant_from_a_yaml_path(user_yaml):
    assert "my_experiment" in list_variants(user_yaml)
    config = load_model_config(str(user_yaml), variant="my_experiment")
    assert config["learning_rate"] == 0.02
    assert config["min_child_samples"] == 200
    assert config["validation_fraction"] == 0.2  # from `defaults`


def test_yaml_path_keys_are_validated(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("model: lightgbm\nvariants:\n  x:\n    n_trees: 3\n")
    with pytest.raises(ValueError, match=r"'n_trees'.*mine.yaml"):
        load_model_config(path, variant="x")


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("model: lightgbm\nvariants:\n  balanced:\n    n_estimators: [1, 2\n")
    with pytest.raises(ValueError, match=r"broken\.yaml at line \d+"):
        load_model_config(path)


def test_missing_yaml_file(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="does not exist") as info:
        load_model_config(tmp_path / "absent.yaml")
    assert "ships inside" not in str(info.value)
    # the README's `--config configs/lightgbm.yaml` run outside the repository
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"relative to .*ships inside the package: pass the "
                                         r"model name 'lightgbm'"):  # fmt: skip
        load_model_config("configs/lightgbm.yaml")


def test_a_misspelt_section_is_refused_not_dropped(tmp_path):
    """ "defualts:" was dropped without a word: the run used max_depth alone (audit)."""
    path = tmp_path / "typo.yaml"
    path.write_text(
        "model: lightgbm\ndefualts:\n  n_estimators: 3\nvariants:\n  v1:\n    max_depth: 2\n"
    )
    with pytest.raises(
        ValueError, match=r"typo\.yaml: unknown top-level key 'defualts'.*Did you mean 'defaults'"
    ):
        load_model_config(path, variant="v1")
    path.write_text(
        "model: lightgbm\ndefaults:\n  n_estimators: 3\nvariants:\n  v1:\n    max_depth: 2\n"
    )
    assert load_model_config(path, variant="v1")["n_estimators"] == 3


def test_bad_variant_body(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: lightgbm\nvariants:\n  balanced: 3\n")
    with pytest.raises(ValueError, match="variant 'balanced' must be a mapping"):
        load_model_config(path)


# ---------------------------------------------------------------- resolution in the trainer
_value = st.integers(min_value=2, max_value=500)


@settings(max_examples=50, deadline=None)
@given(
    yaml_variant=st.sampled_from(VARIANTS),
    config_value=st.one_of(st.none(), _value),
    explicit_value=st.one_of(st.none(), _value),
)
def test_precedence_yaml_config_explicit(yaml_variant, config_value, explicit_value):
    """explicit parameter > config > YAML variant (MODEL_VARIANT), for any values."""
    config = None if config_value is None else {"num_leaves": config_value}
    trainer = LightGBMTrainer(config, num_leaves=explicit_value)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODEL_VARIANT", yaml_variant)
        resolved = trainer._resolve_config()
    expected = load_model_config("lightgbm", variant=yaml_variant)["num_leaves"]
    if config_value is not None:
        expected = config_value
    if explicit_value is not None:
        expected = explicit_value
    assert resolved["num_leaves"] == expected
    assert json.loads(json.dumps(resolved)) == resolved


@settings(max_examples=25, deadline=None)
@given(
    overrides=st.fixed_dictionaries(
        {},
        optional={
            "n_estimators": st.integers(1, 5000),
            "learning_rate": st.floats(1e-4, 1.0),
            "max_depth": st.integers(-1, 12),
            "reg_lambda": st.floats(0, 100),
        },
    ),
    variant=st.sampled_from(VARIANTS),
)
def test_overrides_round_trip_through_json(overrides, variant):
    config = load_model_config("lightgbm", variant=variant, overrides=overrides)
    for key, value in overrides.items():
        assert config[key] == value
    assert json.loads(json.dumps(config)) == config
    # a config dict read back from JSON configures the same trainer
    again = LightGBMTrainer(json.loads(json.dumps(config)))._resolve_config()
    assert again == LightGBMTrainer(config)._resolve_config()


def test_env_variant_is_read_at_fit_time(monkeypatch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    trainer = LightGBMTrainer(early_stopping_rounds=0, n_estimators=3, n_jobs=1)
    monkeypatch.setenv("MODEL_VARIANT", "conservative")
    trainer.fit(X, y)
    assert (
        trainer.config_["learning_rate"]
        == load_model_config("lightgbm", variant="conservative")["learning_rate"]
    )
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")
    trainer.fit(X, y)
    assert (
        trainer.config_["max_depth"]
        == load_model_config("lightgbm", variant="aggressive")["max_depth"]
    )


def test_invalid_config_value_is_rejected_at_fit():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    with pytest.raises(ValueError, match="learning_rate"):
        LightGBMTrainer({"learning_rate": -1.0}).fit(X, y)
    with pytest.raises(ValueError, match="Unknown config key 'depth'"):
        LightGBMTrainer({"depth": 3}).fit(X, y)
    with pytest.raises(ValueError, match="'config' parameter"):
        LightGBMTrainer("conservative").fit(X, y)


def test_bad_config_files_and_names_are_named(tmp_path, monkeypatch):
    """Each was a raw TypeError or UnicodeDecodeError, accepted silently (a misspelt
    model:, a variant written twice: PyYAML keeps the last), or blamed the wrong thing
    (MODEL_VARIANT when it was unset, a folder that "does not exist")."""
    monkeypatch.delenv("MODEL_VARIANT", raising=False)
    for bad in (None, 3):
        with pytest.raises(ValueError, match="name must be a model's registry name or a YAML"):
            load_model_config(bad)
    with pytest.raises(ValueError, match="is a folder, not a YAML file"):
        load_model_config(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe model: lightgbm")
    with pytest.raises(ValueError, match="binary.yaml' is not UTF-8 text"):
        load_model_config(binary)
    twice = tmp_path / "twice.yaml"
    twice.write_text("model: lightgbm\nvariants:\n  balanced:\n    n_estimators: 5\n"
                     "  balanced:\n    num_leaves: 7\n")  # fmt: skip
    with pytest.raises(
        ValueError, match="twice.yaml at line 5, column 3: found key 'balanced' twice"
    ):
        load_model_config(twice)
    merged = tmp_path / "merged.yaml"  # a merge key's keys may be overridden: no repeat
    merged.write_text("model: lightgbm\ndefaults: &base\n  n_estimators: 100\n  num_leaves: 7\n"
                      "variants:\n  fast:\n    <<: *base\n    n_estimators: 10\n")  # fmt: skip
    assert load_model_config(merged, variant="fast") == {"n_estimators": 10, "num_leaves": 7}
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text("model: lightgbmm\nvariants:\n  balanced:\n    n_estimators: 5\n")
    with pytest.raises(
        ValueError, match="model: Unknown model 'lightgbmm'. Did you mean 'lightgbm'"
    ):
        load_model_config(misspelt)
    empty = tmp_path / "empty.yaml"
    empty.write_text("model: lightgbm\nvariants: {}\n")
    with pytest.raises(ValueError, match="defines no variants"):
        list_variants(empty)
    fast = tmp_path / "fast.yaml"
    fast.write_text("model: lightgbm\nvariants:\n  quick:\n    n_estimators: 5\n")
    with pytest.raises(ValueError, match=r"from the default: variant=None and no MODEL_VARIANT"):
        load_model_config(fast)
    monkeypatch.setenv("MODEL_VARIANT", "slow")
    with pytest.raises(ValueError, match="'slow' \\(from the environment variable MODEL_VARIANT"):
        load_model_config(fast)
    assert load_model_config(fast, variant="quick") == {"n_estimators": 5}


def test_model_variant_reaches_joblib_workers_started_before_it(monkeypatch):
    """cross_validate(n_jobs=2) fitted the balanced variant after MODEL_VARIANT was set
    to aggressive (its workers, started by an earlier call, kept their environment),
    while n_jobs=1 fitted the aggressive one."""
    import pickle

    from joblib import parallel_config
    from sklearn.base import clone
    from sklearn.model_selection import cross_validate

    from skquant import LightGBMTrainer, SingleTaskStrategy

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] + rng.normal(size=120)

    def fitted(n_jobs, estimator):
        with parallel_config(backend="loky"):
            out = cross_validate(estimator, X, y, cv=2, n_jobs=n_jobs, return_estimator=True)
        return out["estimator"]

    fast = {"n_estimators": 3, "early_stopping_rounds": 0, "n_jobs": 1}
    monkeypatch.delenv("MODEL_VARIANT", raising=False)
    fitted(2, LightGBMTrainer(**fast))  # the workers start without a variant
    monkeypatch.setenv("MODEL_VARIANT", "aggressive")
    for n_jobs in (1, 2):
        trainers = fitted(n_jobs, LightGBMTrainer(**fast))
        assert [t.config_["learning_rate"] for t in trainers] == [0.1, 0.1], n_jobs
        strategies = fitted(n_jobs, SingleTaskStrategy("lightgbm", model_config=fast))
        assert [s.estimator_.config_["learning_rate"] for s in strategies] == [0.1, 0.1]
    # the record is used once: a fitted model refitted in another session reads its own
    monkeypatch.setenv("MODEL_VARIANT", "conservative")
    again = pickle.loads(pickle.dumps(clone(LightGBMTrainer(**fast)).fit(X, y)))
    assert "_cloned_by" not in vars(again)


def test_exponent_floats_without_a_dot_are_numbers(tmp_path):
    """PyYAML follows YAML 1.1, where a float needs a dot: `learning_rate: 1e-3` was the
    string '1e-3', shown as `learning_rate: 1e-3` by `skquant configs show` and refused
    only at fit ("must be a float ... Got '1e-3'"); a search-space bound the same."""
    path = tmp_path / "mine.yaml"
    path.write_text(
        "model: lightgbm\n"
        "search_space:\n  reg_lambda: {type: float, low: 1e-3, high: 1E+2, log: true}\n"
        "variants:\n  balanced:\n"
        "    learning_rate: 1e-3\n    reg_lambda: 2.5e2\n    reg_alpha: -1e-2\n"
        "    min_split_gain: .5\n    n_estimators: 100\n    importance_type: '1e-3'\n"
    )
    # read as written (load_model_config refuses reg_alpha < 0 and that importance_type)
    config = read_config_file(path)[0]["variants"]["balanced"]
    assert config["learning_rate"] == 1e-3 and isinstance(config["learning_rate"], float)
    assert config["reg_lambda"] == 250.0 and config["reg_alpha"] == -0.01
    assert config["min_split_gain"] == 0.5
    assert config["n_estimators"] == 100 and isinstance(config["n_estimators"], int)
    assert config["importance_type"] == "1e-3"  # quoted: a string, as written
    from skquant.config import load_search_space

    assert load_search_space(path)["reg_lambda"] == {
        "type": "float", "low": 1e-3, "high": 100.0, "log": True
    }  # fmt: skip


def test_returned_configs_do_not_alias_the_parse_cache():
    """The parsed YAML is cached per text: read_config_file handed out the cached
    document and load_search_space the cached choices lists, so narrowing a returned
    search space or editing a returned document changed every later load in the process."""
    from skquant.config import load_search_space

    doc, _, _ = read_config_file("lightgbm")
    doc["defaults"]["random_state"] = 99
    doc["variants"]["balanced"]["n_estimators"] = 7
    config = load_model_config("lightgbm")
    assert config["random_state"] == 0 and config["n_estimators"] != 7
    space = load_search_space("lstm")
    space["seq_len"]["choices"].append(999)
    assert 999 not in load_search_space("lstm")["seq_len"]["choices"]
    assert 999 not in read_config_file("lstm")[0]["search_space"]["seq_len"]["choices"]


@pytest.mark.parametrize("name", list_models())
def test_every_shipped_variant_and_search_bound_meets_the_parameter_constraints(name):
    """A wrong value in a shipped variant (or a search-space bound a trainer refuses)
    would show only when someone fits that variant; checked here without fitting."""
    from skquant.config import load_search_space
    from skquant.registry import get_trainer, missing_dependencies

    if missing_dependencies(name):
        pytest.skip(f"{name} needs {missing_dependencies(name)}")
    cls = get_trainer(name)
    space = load_search_space(name)
    for variant in list_variants(name):
        config = load_model_config(name, variant=variant)
        cls(**config)._validate_params()
        for key, spec in space.items():
            values = spec.get("choices") or [spec["low"], spec["high"]]
            for value in values:
                cls(**{**config, key: value})._validate_params()


@pytest.mark.parametrize(
    ("section", "line", "key", "expected"),
    [
        ("variant", '    n_estimators: "many"\n', "n_estimators", "an int"),
        ("variant", "    learning_rate: [0.1]\n", "learning_rate", "a float"),
        ("defaults", "  subsample: [0.8]\n", "subsample", "a float"),
        ("variant", "    n_estimators: yes\n", "n_estimators", "a boolean"),
    ],
)
def test_wrong_value_type_is_refused_at_load_naming_file_and_key(
    tmp_path, section, line, key, expected
):
    """A YAML value of the wrong type was only refused at fit, by the trainer, with no
    word of the file it came from; it is refused by load_model_config."""
    path = tmp_path / "mine.yaml"
    defaults = line if section == "defaults" else ""
    variant = line if section == "variant" else "    max_depth: 3\n"
    path.write_text(f"model: lightgbm\ndefaults:\n{defaults}  random_state: 0\n"
                    f"variants:\n  x:\n{variant}")  # fmt: skip
    with pytest.raises(ValueError, match=rf"mine\.yaml.*{key}.*{expected}") as info:
        load_model_config(path, variant="x")
    assert ("variant 'x'" if section == "variant" else "defaults") in str(info.value)


def test_wrong_override_type_is_refused_at_load():
    with pytest.raises(ValueError, match=r"overrides.*'max_depth'.*an int.*'deep'"):
        load_model_config("lightgbm", overrides={"max_depth": "deep"})
    # an alias is checked as the parameter it sets
    with pytest.raises(ValueError, match=r"overrides.*'min_data_in_leaf'.*an int"):
        load_model_config("lightgbm", overrides={"min_data_in_leaf": 2.5})


@pytest.mark.parametrize("name", list_models())
def test_a_resolved_config_configures_its_family_again(name):
    """A saved model's config.json (its config_) was refused as the config of a new
    trainer of the families whose one task is no parameter ("Unknown config key 'task'"
    for ngboost, quantile_lightgbm, multi_task, meta_learning, reward_based)."""
    from skquant.registry import get_trainer, missing_dependencies

    if missing_dependencies(name):
        pytest.skip(f"{name} needs {missing_dependencies(name)}")
    cls = get_trainer(name)
    resolved = json.loads(json.dumps(cls()._resolve_config()))
    assert json.loads(json.dumps(cls(resolved)._resolve_config())) == resolved
    if "task" in resolved and "task" not in cls().get_params():
        with pytest.raises(ValueError, match=r"task.*'regression'"):
            cls({**resolved, "task": "classification"})._resolve_config()


def test_a_parameter_set_twice_in_one_mapping_is_refused(tmp_path):
    """{learning_rate: 0.05, eta: 0.3} took whichever key came last (0.3 here), silently;
    across layers (defaults, variant, overrides) the later layer still wins."""
    with pytest.raises(ValueError, match=r"'learning_rate'.*'eta'.*overrides"):
        load_model_config("lightgbm", overrides={"learning_rate": 0.05, "eta": 0.3})
    with pytest.raises(ValueError, match=r"'eta'.*'learning_rate'.*config"):
        LightGBMTrainer({"eta": 0.3, "learning_rate": 0.05})._resolve_config()
    path = tmp_path / "mine.yaml"
    path.write_text(
        "model: lightgbm\ndefaults:\n  eta: 0.3\nvariants:\n  x:\n    learning_rate: 0.05\n"
        "  y:\n    min_data_in_leaf: 5\n    min_child_samples: 7\n"
    )
    assert load_model_config(path, variant="x")["learning_rate"] == 0.05
    assert load_model_config(path, variant="x", overrides={"eta": 0.1})["learning_rate"] == 0.1
    with pytest.raises(ValueError, match=r"'min_data_in_leaf'.*'min_child_samples'.*mine\.yaml"):
        load_model_config(path, variant="y")
