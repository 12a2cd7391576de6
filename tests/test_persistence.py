"""save_model / load_model: complete directories, verified hashes, atomic writes."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from skquant import LightGBMTrainer, load_model, load_model_config, save_model
from skquant.persistence import LibraryVersionWarning, ModelIntegrityError, load_metadata


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    index = pd.bdate_range("2021-01-01", periods=240, name="date")
    X = pd.DataFrame(rng.normal(size=(240, 4)), columns=["f0", "f1", "f2", "f3"], index=index)
    y = pd.Series(X["f0"] * 2 - X["f1"] + rng.normal(scale=0.1, size=240), index=index, name="y")
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return LightGBMTrainer(n_estimators=30, n_jobs=1, early_stopping_rounds=0).fit(X, y)


@pytest.fixture
def saved(tmp_path, fitted, data):
    X, _ = data
    return save_model(
        fitted, tmp_path / "model", metrics={"rmse": 0.5, "sharpe": np.float64(1.2)}, data=X
    )


def test_directory_contents(saved, fitted, data):
    X, _ = data
    names = sorted(p.name for p in saved.iterdir())
    assert names == [
        "config.json",
        "feature_importance.csv",
        "metadata.json",
        "metrics.json",
        "model.joblib",
    ]
    assert json.loads((saved / "config.json").read_text()) == json.loads(json.dumps(fitted.config_))
    assert json.loads((saved / "metrics.json").read_text()) == {"rmse": 0.5, "sharpe": 1.2}
    importance = pd.read_csv(saved / "feature_importance.csv", index_col=0).iloc[:, 0]
    pd.testing.assert_series_equal(
        importance, fitted.get_feature_importance(), check_names=False, check_index_type=False
    )
    meta = load_metadata(saved)
    assert meta["feature_names"] == ["f0", "f1", "f2", "f3"]
    assert meta["libraries"]["scikit-learn"] and meta["libraries"]["lightgbm"]
    assert meta["python_version"].count(".") == 2
    assert meta["data"]["n_rows"] == 240 and meta["data"]["start"].startswith("2021-01-01")
    import hashlib

    assert meta["sha256"] == hashlib.sha256((saved / "model.joblib").read_bytes()).hexdigest()
    # no temporary file is left behind
    assert not [p for p in saved.iterdir() if p.name.endswith(".tmp")]


def test_round_trip_identical_predictions(saved, fitted, data):
    X, _ = data
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def test_flipped_byte_is_refused(saved):
    model_file = saved / "model.joblib"
    payload = bytearray(model_file.read_bytes())
    payload[len(payload) // 2] ^= 0x01
    model_file.write_bytes(bytes(payload))
    with pytest.raises(ModelIntegrityError, match="SHA-256.*modified"):
        load_model(saved)


def test_truncated_file_is_refused(saved):
    model_file = saved / "model.joblib"
    payload = model_file.read_bytes()
    model_file.write_bytes(payload[: len(payload) // 3])
    with pytest.raises(ModelIntegrityError, match="truncated"):
        load_model(saved)


@pytest.mark.parametrize("fmt", ["joblib", "skops"])
def test_loads_the_bytes_it_verified(tmp_path, fitted, data, monkeypatch, fmt):
    """The model file is read once: garbage written over it right after that read (a
    swap between check and load) is never unpickled."""
    if fmt == "skops":
        pytest.importorskip("skops")
    from pathlib import Path

    X, _ = data
    folder = save_model(fitted, tmp_path / fmt, format=fmt)
    model_file = folder / f"model.{fmt}"
    read_bytes = Path.read_bytes

    def read_then_swap(path):
        payload = read_bytes(path)
        if path == model_file:
            model_file.write_bytes(b"not a model")
        return payload

    monkeypatch.setattr(Path, "read_bytes", read_then_swap)
    loaded = load_model(folder, format=fmt)
    monkeypatch.undo()
    assert model_file.read_bytes() == b"not a model"
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))


def test_missing_or_corrupt_metadata(saved, tmp_path):
    with pytest.raises(ModelIntegrityError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    (saved / "metadata.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="not valid JSON"):
        load_model(saved)
    (saved / "metadata.json").unlink()
    with pytest.raises(ModelIntegrityError, match="metadata.json"):
        load_model(saved)


def test_model_file_path_and_edited_metadata_are_named(saved):
    """The model file itself was "a directory that does not exist"; an edited format or
    model_file ended in a KeyError or TypeError."""
    with pytest.raises(ModelIntegrityError, match="is a file: pass the model's directory"):
        load_model(saved / "model.joblib")
    original = json.loads((saved / "metadata.json").read_text())
    for key, value, message in [
        ("format", "pickle", "unknown format 'pickle'"),
        ("model_file", 5, "'model_file' must be a file name"),
    ]:
        (saved / "metadata.json").write_text(json.dumps({**original, key: value}))
        with pytest.raises(ModelIntegrityError, match=message):
            load_model(saved)
    (saved / "metadata.json").write_text(json.dumps(original))
    load_model(saved)


def test_version_mismatch_warns(saved, fitted, data):
    meta = json.loads((saved / "metadata.json").read_text())
    meta["libraries"]["scikit-learn"] = "0.0.1"
    (saved / "metadata.json").write_text(json.dumps(meta))
    with pytest.warns(LibraryVersionWarning, match=r"scikit-learn 0\.0\.1"):
        loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict(data[0]), fitted.predict(data[0]))


def test_no_warning_when_versions_match(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LibraryVersionWarning)
        load_model(saved)


@pytest.mark.requires("skops")
def test_skops_format(tmp_path, fitted, data):
    X, _ = data
    folder = save_model(fitted, tmp_path / "sk", format="skops")
    assert (folder / "model.skops").is_file() and not (folder / "model.joblib").exists()
    loaded = load_model(folder, format="skops")
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    with pytest.raises(ModelIntegrityError, match="format='joblib'"):
        load_model(save_model(fitted, tmp_path / "jl"), format="skops")


class _Custom:
    """A type outside the trusted modules."""

    def __init__(self):
        self.value = 3

    def predict(self, X):
        return np.full(len(X), self.value)


@pytest.mark.requires("skops")
def test_skops_refuses_untrusted_types(tmp_path):
    folder = save_model(_Custom(), tmp_path / "custom", format="skops")
    with pytest.raises(ModelIntegrityError, match="not trusted.*_Custom"):
        load_model(folder, format="skops")
    name = f"{_Custom.__module__}._Custom"
    assert load_model(folder, format="skops", trusted=[name]).value == 3


def test_crash_during_save_keeps_previous_model(tmp_path, fitted, data, monkeypatch):
    X, _ = data
    folder = save_model(fitted, tmp_path / "m")
    before = (folder / "model.joblib").read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_model(LightGBMTrainer(n_estimators=5, n_jobs=1).fit(X, 2 * X["f0"]), folder)
    monkeypatch.undo()
    assert (folder / "model.joblib").read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X))


def _rewrite_model(folder, payload, **meta_changes):
    """Replace the model file and record its hash, as whoever controls the folder can."""
    import hashlib

    meta = json.loads((folder / "metadata.json").read_text())
    (folder / meta["model_file"]).write_bytes(payload)
    meta.update(sha256=hashlib.sha256(payload).hexdigest(), size_bytes=len(payload))
    meta.update(meta_changes)
    (folder / "metadata.json").write_text(json.dumps(meta))


@pytest.mark.requires("skops")
def test_skops_trusts_types_never_the_functions_of_a_module(tmp_path, fitted):
    """Every name under builtins, numpy, scipy and sklearn was trusted: a skops file
    calling builtins.eval ran its code inside load_model (audit). Only named types and
    the classes of skquant's model and strategy modules are trusted now."""
    import io
    import zipfile

    import skops.io as sio

    from skquant.persistence import _trusted_by_default

    folder = save_model(fitted, tmp_path / "m", format="skops")
    marker = tmp_path / "ran"
    template = json.loads(zipfile.ZipFile(io.BytesIO(sio.dumps(("x",)))).read("schema.json"))
    argument = {k: v for k, v in template.items() if k not in ("protocol", "_skops_version")}
    argument["content"][0]["content"] = json.dumps(f"open({str(marker)!r}, 'w').close()")
    schema = {**template, "__class__": "eval", "__module__": "builtins",
              "__loader__": "ConstructorFromReduceNode", "content": argument}  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(schema))
    _rewrite_model(folder, buffer.getvalue())
    with pytest.raises(ModelIntegrityError, match="not trusted: builtins.eval"):
        load_model(folder, format="skops")
    assert not marker.exists()
    for name in ("builtins.eval", "numpy.memmap", "sklearn.datasets.dump_svmlight_file",
                 "skquant.models._base.warn_if_binary_regression", "skquant.cli._main.main",
                 "skquant.models.nothing_here", "os.system"):  # fmt: skip
        assert not _trusted_by_default(name), name
    for name in ("skquant.models._lightgbm.LightGBMTrainer", "lightgbm.basic.Booster",
                 "skquant.strategies._single.SingleTaskStrategy"):  # fmt: skip
        assert _trusted_by_default(name), name


@pytest.mark.requires("skops")
def test_skops_trusted_takes_one_name_as_a_string(tmp_path):
    folder = save_model(_Custom(), tmp_path / "custom", format="skops")
    name = f"{_Custom.__module__}._Custom"
    assert load_model(folder, format="skops", trusted=name).value == 3  # not its characters


def test_a_model_of_another_type_than_recorded_is_refused(tmp_path, saved):
    """metadata.json records the estimator's type; a model file swapped for another
    (with its hash rewritten) loaded as if it were the recorded one."""
    import joblib
    from sklearn.linear_model import Ridge

    buffer = __import__("io").BytesIO()
    joblib.dump(Ridge(), buffer)
    _rewrite_model(saved, buffer.getvalue())
    with pytest.raises(ModelIntegrityError, match="holds a sklearn.linear_model.*Ridge.*records"):
        load_model(saved)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"metadata_version": 99}, "metadata_version 99 is not one this skquant reads"),
        ({"metadata_version": "1"}, "metadata_version '1'"),
        ({"metadata_version": None}, "metadata_version None"),
        ({"libraries": ["numpy"]}, "'libraries' must map each library to its version"),
        ({"libraries": {"numpy": 2}}, "'libraries' must map"),
    ],
)
def test_metadata_of_another_version_or_shape_is_named(saved, changes, match):
    """A metadata_version of 99, "x" or none loaded silently; a list of libraries ended
    in "dictionary update sequence element #0 has length 5" (audit)."""
    meta = json.loads((saved / "metadata.json").read_text())
    meta.update(changes)
    (saved / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match=f"metadata.json.*{match}"):
        load_model(saved)


def test_a_save_that_fails_after_the_dump_keeps_the_earlier_model(
    tmp_path, fitted, data, monkeypatch
):
    """A save failing after its model file was written (in the config, the metrics)
    had overwritten the earlier model, which was lost and read as "modified after
    saving" (audit). Now the files go to a staging folder first; the earlier model
    stays loadable, with its own metrics."""
    import skquant.persistence

    X, _ = data
    folder = save_model(fitted, tmp_path / "m", metrics={"run": "A"})

    def fail(estimator):
        raise OSError("disk full")

    monkeypatch.setattr(skquant.persistence, "_config_of", fail)
    with pytest.raises(OSError, match="disk full"):
        save_model(LightGBMTrainer(n_estimators=5, n_jobs=1).fit(X, 2 * X["f0"]), folder)
    monkeypatch.undo()
    np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X))
    assert json.loads((folder / "metrics.json").read_text()) == {"run": "A"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder left


def test_a_save_interrupted_while_moving_files_in_keeps_the_earlier_model(
    tmp_path, fitted, data, monkeypatch
):
    """Between the first and the last rename neither model loaded: the earlier model's
    metadata.json was deleted first, so an interrupted save lost it. Its files are now
    set aside, and put back when the save fails: never a mix of the two models."""
    X, _ = data
    folder = save_model(fitted, tmp_path / "m")
    replace, moved = os.replace, []

    def replace_twice(src, dst):  # the moves into the folder, not the staging writes
        if os.path.dirname(dst) == str(folder) and not os.path.basename(src).startswith("."):
            moved.append(dst)
            if len(moved) == 3:
                raise KeyboardInterrupt  # interrupted mid-way
        replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_twice)
    with pytest.raises(KeyboardInterrupt):
        save_model(LightGBMTrainer(n_estimators=5, n_jobs=1).fit(X, 2 * X["f0"]), folder)
    monkeypatch.undo()
    np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # nothing left aside


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked save")
def test_a_save_killed_at_any_rename_keeps_the_earlier_model(tmp_path, fitted, data):
    """A save killed (no finally runs) after it deleted the earlier model's
    metadata.json and before its own was in lost the earlier model: load_model said the
    save did not finish. Killed before each of its renames in turn, the next load_model
    finds the earlier model (put back from beside the folder); once it finishes, the new."""
    import types

    from sklearn.linear_model import Ridge

    import skquant.persistence

    X, y = data
    other = Ridge().fit(X, -y)  # another format of files: no feature_importance.csv
    folder = tmp_path / "m"
    for kill_at in range(1, 30):
        save_model(fitted, folder, metrics={"run": "A"})
        pid = os.fork()
        if pid == 0:  # the save, killed before its kill_at-th rename
            code = 1
            try:
                real, calls = os.replace, []

                def replace(src, dst, calls=calls, real=real, kill_at=kill_at):
                    calls.append(dst)
                    if len(calls) == kill_at:
                        os._exit(9)
                    real(src, dst)

                skquant.persistence.os = types.SimpleNamespace(**{**vars(os), "replace": replace})
                save_model(other, folder, metrics={"run": "B"})
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        loaded = load_model(folder)
        if os.WEXITSTATUS(status) == 0:  # no rename left to die at: the new model is in
            break
        assert os.WEXITSTATUS(status) == 9
        np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X), err_msg=kill_at)
        assert json.loads((folder / "metrics.json").read_text()) == {"run": "A"}
        assert (folder / "feature_importance.csv").is_file(), kill_at
    np.testing.assert_array_equal(loaded.predict(X), other.predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # the next save tidied up
    assert not (folder / "feature_importance.csv").exists()
    assert kill_at > 5  # every rename was a kill point


def _killed_at(kill_at, call, renames_too=False) -> int:
    """Run ``call`` in a forked process killed (``os._exit(9)``, no finally runs) before
    the ``kill_at``-th ``os.replace`` of skquant.persistence (``os.rename`` and ``os.link``
    too with ``renames_too``), or before the one whose destination is ``kill_at`` (a path); its
    exit status: 9 killed, 0 when it ran through."""
    import types

    import skquant.persistence

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            calls = []

            def killing(real):
                def move(src, dst):
                    calls.append(dst)
                    if kill_at in (len(calls), dst):
                        os._exit(9)
                    real(src, dst)

                return move

            patched = {"replace": killing(os.replace)}
            if renames_too:  # the restore claims by a rename and links metadata.json back
                patched["rename"] = killing(os.rename)
                patched["link"] = killing(os.link)
            skquant.persistence.os = types.SimpleNamespace(**{**vars(os), **patched})
            call()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked save")
def test_a_file_an_interrupted_restore_put_back_is_kept(tmp_path, fitted, data):
    """A restore interrupted after it moved the earlier model.joblib back (a second
    Ctrl-C, a killed load_model, or a concurrent one) left it missing from the set-aside
    folder: the next restore deleted it as the new model's and put back the rest, a
    model whose file was gone ("Model file ... is missing"). The set-aside files are now
    listed, and only files not listed are deleted."""
    from sklearn.linear_model import Ridge

    X, y = data
    folder = save_model(fitted, tmp_path / "m", metrics={"run": "A"})
    # killed before its metadata.json moved in: every other new file is in
    assert _killed_at(folder / "metadata.json", lambda: save_model(Ridge().fit(X, -y), folder)) == 9
    (replaced,) = tmp_path.glob(".m.replaced-*")
    os.replace(replaced / "model.joblib", folder / "model.joblib")  # a first restore's step
    np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X))
    assert json.loads((folder / "metrics.json").read_text()) == {"run": "A"}
    assert (folder / "feature_importance.csv").is_file()
    assert not list(tmp_path.glob(".m.re*"))  # no set-aside folder left (.replaced-, .restoring-)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked save")
def test_a_restore_killed_at_any_rename_keeps_the_earlier_model(tmp_path, fitted, data):
    """A save killed before each of its renames, then the load_model that puts the
    earlier model back killed before each of its own renames (the claim of the
    set-aside folder, then each file moved back): the next load_model still finds the
    earlier model, the same predictions, metrics and importance file."""
    from sklearn.linear_model import Ridge

    X, y = data
    other = Ridge().fit(X, -y)
    folder = tmp_path / "m"
    restore_kills = []  # per save kill point: at how many renames the restore died
    for save_kill in range(1, 30):
        for restore_kill in range(1, 30):
            save_model(fitted, folder, metrics={"run": "A"})
            saved = not _killed_at(
                save_kill, lambda: save_model(other, folder, metrics={"run": "B"})
            )
            if saved:  # no rename left to die at: the save ran through
                break
            killed = _killed_at(restore_kill, lambda: load_model(folder), renames_too=True)
            err = f"save killed at {save_kill}, restore at {restore_kill}"
            np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X), err)
            assert json.loads((folder / "metrics.json").read_text()) == {"run": "A"}, err
            assert (folder / "feature_importance.csv").is_file(), err
            if not killed:  # no rename left to die at: the restore ran through
                restore_kills.append(restore_kill - 1)
                break
        else:
            raise AssertionError(f"the restore after a save killed at {save_kill} never ended")
        if saved:
            break
    # 9 save kill points; up to a claim and 5 files moved back (metadata.json last)
    assert len(restore_kills) == 9 and max(restore_kills) == 6, restore_kills
    np.testing.assert_array_equal(load_model(folder).predict(X), other.predict(X))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # the next save tidied up


def test_a_load_waits_for_a_restore_another_process_runs(tmp_path, fitted, data):
    """Two load_model calls (parallel workers) that found the same set-aside model both
    put it back, interleaved. One claims it now; the other waits for it to finish
    instead of refusing the folder as unfinished."""
    import threading

    import skquant.persistence

    X, _ = data
    folder = save_model(fitted, tmp_path / "m")
    claimed = tmp_path / f".m.restoring-{os.getpid()}-abc"  # a live process's restore
    claimed.mkdir()
    for name in ("metadata.json", "model.joblib"):
        os.replace(folder / name, claimed / name)
    restore = threading.Timer(0.3, skquant.persistence._put_back, (folder, claimed))
    restore.start()
    try:
        np.testing.assert_array_equal(load_model(folder).predict(X), fitted.predict(X))
    finally:
        restore.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    # one that outlasts the wait is named, not called an unfinished save
    claimed.mkdir()
    for name in ("metadata.json", "model.joblib"):
        os.replace(folder / name, claimed / name)
    with pytest.raises(ModelIntegrityError, match=r"another process is putting back the earlier"):
        load_model(folder)


@pytest.mark.parametrize("name", ["m", "lgbm[v2]", "run*1"])
def test_a_killed_saves_staging_folder_is_removed_by_the_next_save(tmp_path, fitted, name):
    """A name with glob characters ("lgbm[v2]") was read as a pattern: its leftovers
    were never matched, so never removed."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    abandoned = tmp_path / f".{name}.saving-{dead}-abc123"
    abandoned.mkdir()
    (abandoned / "model.joblib").write_bytes(b"half")
    other = tmp_path / f".{name}.saving-{os.getppid()}-live"  # a running process's: kept
    other.mkdir()
    save_model(fitted, tmp_path / name)
    assert not abandoned.exists() and other.exists()


def test_a_pipeline_keeps_each_steps_resolved_config(tmp_path, data):
    """A Pipeline's config.json held the steps' reprs ("LightGBMTrainer(n_estimators=20)"),
    none of the trainer's resolved config, and metadata.json no task (audit)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    model = make_pipeline(StandardScaler(), LightGBMTrainer(n_estimators=20, n_jobs=1)).fit(X, y)
    folder = save_model(model, tmp_path / "pipe")
    steps = json.loads((folder / "config.json").read_text())["steps"]
    assert [name for name, _ in steps] == ["standardscaler", "lightgbmtrainer"]
    assert steps[0][1] == {"copy": True, "with_mean": True, "with_std": True}
    trainer = model[-1]
    assert steps[1][1] == json.loads(json.dumps(trainer.config_, default=str))
    assert load_metadata(folder)["task"] == "regression"


@pytest.mark.requires("skops")
def test_a_model_skops_cannot_store_is_a_clear_error(tmp_path, fitted, data):
    """MetaLearningTrainer keeps pandas frames, which skops cannot store: save_model
    ended in skops' "no default __reduce__ due to non-trivial __cinit__"."""
    from skquant import MetaLearningTrainer

    X, y = data
    meta = MetaLearningTrainer(estimators=[LightGBMTrainer(n_estimators=5, n_jobs=1), "ridge"])
    meta.fit(X, y)
    folder = save_model(fitted, tmp_path / "m", format="skops")
    with pytest.raises(ValueError, match='skops cannot store this MetaLearningTrainer.*"joblib"'):
        save_model(meta, folder, format="skops")
    assert load_model(folder, format="skops").predict(X).shape == (len(X),)  # kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_bad_arguments(tmp_path, fitted):
    with pytest.raises(ValueError, match="format"):
        save_model(fitted, tmp_path / "x", format="pickle")
    with pytest.raises(ValueError, match="metrics"):
        save_model(fitted, tmp_path / "x", metrics=[1, 2])
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        save_model(fitted, tmp_path / "file")


def test_guide_save_load_snippet(tmp_path, data, monkeypatch):
    """GUIDE.md "Saving & Loading Models", as written."""
    X_train, y_train = data
    X_new = X_train.iloc[-5:]
    monkeypatch.chdir(tmp_path)
    os.makedirs("models")
    config = load_model_config("lightgbm", variant="conservative", overrides={"n_jobs": 1})
    trainer = LightGBMTrainer(config)
    trainer.train(X_train, y_train)

    import joblib

    joblib.dump(trainer.model, "models/lightgbm_AAPL_2025-11-13.pkl")

    import json

    with open("models/lightgbm_AAPL_2025-11-13_config.json", "w") as f:
        json.dump(trainer.config, f, indent=2)

    model = joblib.load("models/lightgbm_AAPL_2025-11-13.pkl")
    y_pred = model.predict(X_new)
    np.testing.assert_allclose(y_pred, trainer.predict(X_new))
    with open("models/lightgbm_AAPL_2025-11-13_config.json") as f:
        assert json.load(f)["max_depth"] == 4


def test_walkforward_summary_json_matches_metrics_json(tmp_path, fitted):
    """One JSON cleaner: a non-finite value is null in summary.json as in metrics.json."""
    from skquant.walkforward import WalkForwardResult

    dates = pd.bdate_range("2024-01-01", periods=3)
    predictions = pd.DataFrame(
        {"prediction": [0.1, -0.2, 0.3], "strategy_return": [0.01, 0.02, 0.0]}, index=dates
    )
    folds = pd.DataFrame({"fold": [0], "profit_factor": [np.inf]})
    summary = {"sharpe": np.float64(1.5), "profit_factor": np.inf, "hit_rate": np.nan}
    result = WalkForwardResult(folds, summary, predictions, dates, tuple(summary))
    out = result.save(tmp_path / "wf")
    written = json.loads((out / "summary.json").read_text())
    assert written == {"sharpe": 1.5, "profit_factor": None, "hit_rate": None}
    saved = save_model(fitted, tmp_path / "model", metrics=summary)
    assert json.loads((saved / "metrics.json").read_text()) == written
    assert pd.read_csv(out / "folds.csv")["profit_factor"].tolist() == [np.inf]
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "predictions.parquet"), predictions, check_freq=False
    )
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_save_model_of_a_model_that_never_split_warns_in_its_own_words(tmp_path, fitted, data):
    """save_model warned 'LightGBMTrainer.get_feature_importance(kind='gain'): every
    importance is 0', a call the user never made, attributed to persistence.py: it
    says the saved file is all zeros, at the user's line, and metadata.json keeps it."""
    from skquant.strategies import SingleTaskStrategy

    X, y = data
    never_split = {"n_estimators": 5, "n_jobs": 1, "early_stopping_rounds": 0,
                   "min_child_samples": 1000}  # fmt: skip
    for name, model in (
        ("trainer", LightGBMTrainer(**never_split).fit(X, y)),
        ("strategy", SingleTaskStrategy("lightgbm", never_split).train(X, y)),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            folder = save_model(model, tmp_path / name)
        messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert not any("get_feature_importance" in m for m in messages), messages
        said = [w for w in caught if "is all zeros" in str(w.message)]
        assert len(said) == 1, messages
        owner = type(model).__name__  # which model never split, for train-all's pairs
        assert f"feature_importance.csv of {owner} is all zeros" in str(said[0].message)
        assert said[0].filename == __file__
        assert load_metadata(folder)["importance_all_zero"] is True
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*all zeros")
        folder = save_model(fitted, tmp_path / "ok")
    assert load_metadata(folder)["importance_all_zero"] is False


def test_a_save_waits_for_no_restore_and_a_restore_never_overwrites_a_newer_model(
    tmp_path, fitted, data, monkeypatch
):
    """A restore that stalled (its process alive) while another process saved a new
    model moved the earlier files over the new ones once it resumed: the save had
    returned, and the folder held the older model. A save is now refused while a live
    process restores, and a restore stops at a metadata.json that a newer save wrote."""
    import skquant.persistence as persistence

    X, y = data
    folder = tmp_path / "m"
    save_model(fitted, folder, metrics={"run": "A"})
    live = tmp_path / f".m{persistence._RESTORING}{os.getpid()}-x"  # this process: live
    live.mkdir()
    with pytest.raises(
        RuntimeError, match=r"Another process is putting back the earlier model of '.*m'"
    ):
        save_model(fitted, folder, metrics={"run": "B"})
    live.rmdir()
    # a restore claimed the earlier files; a newer model finishes before it moves them
    save_model(fitted, folder, metrics={"run": "new"})
    earlier = tmp_path / f".m{persistence._REPLACED}999999999-y"
    earlier.mkdir()
    for name in ("metadata.json", "metrics.json"):
        (earlier / name).write_text((folder / name).read_text().replace('"new"', '"old"'))
    (folder / "metadata.json").rename(tmp_path / "meta.new")
    replace = os.replace

    def newer_save_finishes(src, dst):
        (tmp_path / "meta.new").rename(folder / "metadata.json")
        monkeypatch.setattr(os, "replace", replace)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", newer_save_finishes)
    persistence._put_back(folder, earlier)
    monkeypatch.undo()
    assert json.loads((folder / "metadata.json").read_text()) == json.loads(
        (tmp_path / "m" / "metadata.json").read_text()
    )
    assert "old" not in (folder / "metadata.json").read_text()
    assert not earlier.exists() and not list(tmp_path.glob(f".m{persistence._RESTORING}*"))


def test_an_unfitted_estimator_is_refused(tmp_path):
    """save_model(LightGBMTrainer(), dir) saved it without complaint: it loaded, and
    failed only at predict, far from the mistake."""
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skquant import LightGBMTrainer

    for unfitted in (LightGBMTrainer(), make_pipeline(StandardScaler(), LightGBMTrainer())):
        with pytest.raises(NotFittedError, match="save_model saves a fitted model: this"):
            save_model(unfitted, tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_the_versions_compared_are_of_the_libraries_the_model_uses(
    tmp_path, data, saved, monkeypatch
):
    """metadata.json recorded every installed heavy library: a Ridge saved where torch
    is installed warned, loaded where it is not, "skorch ... (installed: not installed),
    torch ...". Now it records the core stack and the libraries the model holds."""
    from sklearn.linear_model import Ridge

    import skquant.persistence as persistence

    X, y = data
    ridge = save_model(Ridge().fit(X, y), tmp_path / "ridge")
    recorded = set(load_metadata(ridge)["libraries"])
    assert {"scikit-learn", "numpy", "pandas", "scipy", "joblib"} <= recorded
    assert not recorded & set(persistence._MODEL_LIBRARIES), recorded
    booster = saved  # a LightGBMTrainer, which holds a Booster
    assert "lightgbm" in load_metadata(booster)["libraries"]
    real = persistence._library_versions

    def lean(names=persistence._CORE_LIBRARIES + persistence._MODEL_LIBRARIES):
        return {k: v for k, v in real(names).items() if k not in ("torch", "skorch", "lightgbm")}

    monkeypatch.setattr(persistence, "_library_versions", lean)  # a lean serving box
    with warnings.catch_warnings():
        warnings.simplefilter("error", LibraryVersionWarning)
        load_model(ridge)
    with pytest.warns(LibraryVersionWarning, match=r"lightgbm [\d.]+ \(installed: not installed\)"):
        load_model(booster)


@pytest.mark.requires("torch")
def test_a_torch_model_records_torch(tmp_path):
    """The walk over the model's objects finds a library it holds through a subpackage."""
    torch = pytest.importorskip("torch")
    folder = save_model(torch.nn.Linear(2, 1), tmp_path / "net")
    assert "torch" in load_metadata(folder)["libraries"]


def test_an_all_zero_linear_model_is_not_said_to_have_trees(tmp_path, data):
    """save_model's all-zero warning of an FTRL model (every coefficient 0 under a
    strong l1) said "every tree is a single leaf"."""
    from skquant.registry import get_trainer

    X, y = data
    model = get_trainer("ftrl_proximal")(l1=1e9).fit(X, y)
    with pytest.warns(UserWarning, match=r"is all zeros") as caught:
        save_model(model, tmp_path / "ftrl")
    said = next(str(w.message) for w in caught if "is all zeros" in str(w.message))
    assert "every coefficient is 0" in said, said
