"""The command line with real files and pipes: closed output pipes, resume, bad symbol files."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.test_cli import fast_config, run_cli, write_symbols


# ----------------------------------------------------------------------------- closed pipes
@pytest.mark.parametrize(
    "args",
    [("configs", "list"), ("configs", "show", "lightgbm"), ("--help",)],
)
def test_closed_output_pipe_ends_quietly(args):
    """``skquant configs list | head -n 1``: the reader is gone before anything is written
    (its end of a real pipe is closed before the command starts), so every write fails
    with EPIPE. The command stops quietly, as git and ls do."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "skquant", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode in (0, 141), proc.stderr
    assert proc.stderr == ""


def test_head_reads_the_first_line_and_nothing_is_said():
    proc = subprocess.run(
        f"'{sys.executable}' -m skquant configs list | head -n 1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 141), proc.stderr
    assert proc.stdout.split() == ["model", "variants"]
    assert proc.stderr == ""


def test_a_broken_pipe_that_is_not_the_output_is_still_an_unexpected_error(monkeypatch, capsys):
    """Only a closed output pipe is quiet: a worker's broken pipe is a real failure."""
    import skquant.config
    from skquant.cli import main

    def list_models():
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(skquant.config, "list_models", list_models)
    assert main(["configs", "list"]) == 3
    assert "unexpected error: BrokenPipeError" in capsys.readouterr().err


# ----------------------------------------------------------------------------- resume
def _pair_files(out: Path) -> dict[str, tuple[int, str]]:
    """``{relative path: (mtime_ns, sha256)}`` of every file of every pair folder."""
    return {
        str(path.relative_to(out)): (
            path.stat().st_mtime_ns,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(out.glob("*/*/*"))
        if path.is_file()
    }


def test_unchanged_rerun_with_the_shipped_configs_touches_no_model_file(tmp_path):
    """The shipped configs set ``embargo_days: 0`` and train-all applies its
    ``--embargo-days 5``: the resume check must compare the config as it was saved."""
    data = write_symbols(tmp_path / "data", ["AAA"], n=120)
    out = tmp_path / "out"
    args = ["train-all", "--input-dir", data, "--output-dir", out, "--target", "fwd_ret_1d",
            "--models", "lightgbm,xgboost", "--variant", "aggressive", "--val-days", "20",
            "--embargo-days", "5"]  # fmt: skip
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "2 trained, 0 already finished" in first.stdout
    before = _pair_files(out)
    assert {Path(p).parts[1] for p in before} == {"lightgbm", "xgboost"}
    assert json.loads((out / "AAA" / "lightgbm" / "config.json").read_text())["embargo_days"] == 5

    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "0 trained, 2 already finished" in again.stdout, again.stderr
    assert "retraining" not in again.stderr
    for pair in ("AAA/lightgbm", "AAA/xgboost"):
        assert f"{pair}: already finished" in again.stderr
    assert _pair_files(out) == before  # not one model file rewritten

    # a longer embargo than the one the pairs were trained with does retrain them
    longer = run_cli(*args, "--embargo-days", "6")
    assert "2 trained, 0 already finished" in longer.stdout, longer.stderr
    assert "retraining, embargo_days was 5" in longer.stderr


# ----------------------------------------------------------------------------- bad symbol files
def _good_frame(n=60, seed=0) -> pd.DataFrame:
    """One symbol's rows as the files hold them: dates as text, features, a target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2022-01-03", periods=n).strftime("%Y-%m-%d"),
            "f0": rng.normal(size=n),
            "f1": rng.normal(size=n),
            "f2": rng.normal(size=n),
            "fwd_ret_1d": rng.normal(scale=0.01, size=n),
        }
    )


def _with_text(frame: pd.DataFrame, column: str, row: int, text: str) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = text
    return frame


def _dates_with(frame: pd.DataFrame, rows, make) -> pd.DataFrame:
    frame = frame.copy()
    for row in rows:
        frame.loc[row, "date"] = make(frame.loc[row, "date"])
    return frame


# kind: (the broken frame or raw text, a phrase of the error)
BROKEN = {
    "duplicated dates": (_dates_with(_good_frame(), [5], lambda d: "2022-01-04"), "repeats dates"),
    "unparseable date": (_dates_with(_good_frame(), [7], lambda d: "tomorrow"), "not dates"),
    "dates as numbers": (
        _good_frame().assign(date=lambda f: f["date"].str.replace("-", "").astype(int)),
        "numbers",
    ),
    "text in a feature": (_with_text(_good_frame(), "f1", 9, "n/a!"), "'f1' mixes numbers"),
    "text in the target": (_with_text(_good_frame(), "fwd_ret_1d", 3, "x"), "'fwd_ret_1d'"),
    "empty file": ("", "is empty"),
    "header only": ("date,f0,f1,f2,fwd_ret_1d\n", "is empty"),
    "missing target column": (_good_frame().drop(columns="fwd_ret_1d"), "no column 'fwd_ret_1d'"),
    "missing feature column": (_good_frame().drop(columns="f2"), "no column 'f2'"),
    "mixed time zones": (
        _dates_with(_good_frame(), range(30, 60), lambda d: f"{d}T00:00:00+09:00"),
        "mix time zones",
    ),
    # audit: train-all dropped these target rows silently, walkforward named no file,
    # an infinite feature failed a fold with "Input X contains infinity"
    "infinite feature": (
        _good_frame().assign(f1=lambda f: f["f1"].where(np.arange(len(f)) != 11, np.inf)),
        "'f1' holds 1 infinite values (the first on 2022-01-18)",
    ),
    "infinite target": (
        _good_frame().assign(
            fwd_ret_1d=lambda f: f["fwd_ret_1d"].where(np.arange(len(f)) % 7 > 0, -np.inf)
        ),
        "'fwd_ret_1d' holds 9 infinite values (the first on 2022-01-03)",
    ),
}


def _write(frame_or_text, path: Path) -> Path:
    if isinstance(frame_or_text, str):
        path.write_text(frame_or_text)
    elif path.suffix == ".csv":
        frame_or_text.to_csv(path, index=False)
    else:
        try:
            frame_or_text.to_parquet(path, index=False)
        except Exception:  # pyarrow refuses a column of numbers and text: store it as text
            text = {c: str for c in frame_or_text.columns if frame_or_text[c].dtype == object}
            frame_or_text.astype(text).to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained_good(tmp_path_factory):
    """GOOD.parquet trained once; each bad-file test runs beside it."""
    root = tmp_path_factory.mktemp("bad_files")
    (root / "data").mkdir()
    _write(_good_frame(), root / "data" / "GOOD.parquet")
    config = fast_config(root, rounds=5, patience=0)
    args = ["train-all", "--output-dir", root / "out", "--target", "fwd_ret_1d",
            "--models", "lightgbm", "--config", config, "--val-days", "10"]  # fmt: skip
    proc = run_cli(*args, "--input-dir", root / "data")
    assert proc.returncode == 0, proc.stderr
    return root, args


# one run of the command per kind the issue names (the reader test below covers them all)
COMMAND_KINDS = [
    "duplicated dates",
    "unparseable date",
    "text in a feature",
    "empty file",
    "missing target column",
    "missing feature column",
    "mixed time zones",
    "infinite feature",
    "infinite target",
]


@pytest.mark.parametrize("kind", COMMAND_KINDS)
def test_train_all_names_each_kind_of_bad_file_and_goes_on(trained_good, tmp_path, kind):
    root, args = trained_good
    broken, phrase = BROKEN[kind]
    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    bad = _write(broken, data / "BAD.csv")  # BAD sorts first: it must not set the features
    out = shutil.copytree(root / "out", tmp_path / "out")
    args = [out if a == root / "out" else a for a in args]
    proc = run_cli(*args, "--input-dir", data)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "features (3): f0, f1, f2" in proc.stdout
    failure = next(line for line in proc.stderr.splitlines() if "symbol BAD failed" in line)
    assert bad.name in failure and phrase in failure, failure
    assert "0 trained, 1 already finished (skipped), 1 failed" in proc.stdout
    assert not (out / "BAD").exists()


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_reader_refuses_each_kind_by_file_name(tmp_path, kind):
    from skquant.cli._data import read_symbol

    broken, phrase = BROKEN[kind]
    for suffix in (".csv", ".parquet") if not isinstance(broken, str) else (".csv",):
        path = _write(broken, tmp_path / f"BAD{suffix}")
        with pytest.raises(ValueError, match=re.escape(phrase)) as info:
            read_symbol(path, ["fwd_ret_1d", "f0", "f1", "f2"])
        assert str(info.value).startswith(path.name) or path.name in str(info.value)


def test_reader_names_an_intraday_row_with_its_time(tmp_path):
    """An hourly file that repeated a bar said "repeats dates (2022-01-03)", the date
    every bar of that day shares (and a text cell "on 2022-01-03"); on intraday data
    the time is printed too. Daily files keep the date alone (BROKEN above)."""
    from skquant.cli._data import read_symbol

    frame = _good_frame()  # 60 rows: 7 hourly bars a day from 9:30
    day = np.repeat(pd.bdate_range("2022-01-03", periods=9), 7)[: len(frame)]
    hour = pd.to_timedelta(9.5 + np.tile(np.arange(7), 9)[: len(frame)], unit="h")
    frame["date"] = pd.DatetimeIndex(day + hour).strftime("%Y-%m-%d %H:%M")
    for broken, phrase in (
        (_dates_with(frame, [5], lambda d: "2022-01-03 13:30"), "repeats dates (2022-01-03 13:30)"),
        (_with_text(frame, "f1", 9, "n/a!"), "('n/a!' on 2022-01-04 11:30)"),
    ):
        path = _write(broken, tmp_path / "HOURLY.csv")
        with pytest.raises(ValueError, match=re.escape(phrase)):
            read_symbol(path, ["fwd_ret_1d", "f0", "f1", "f2"])


def test_reader_keeps_good_files_as_they_are(tmp_path):
    from skquant.cli._data import read_symbol

    frame = _good_frame().iloc[::-1]  # rows in any order
    frame["sector"] = "tech"  # a text column is no feature, and no error
    frame.loc[frame.index[4], "f0"] = np.nan  # a missing number is a missing value
    for suffix in (".csv", ".parquet"):
        read = read_symbol(_write(frame, tmp_path / f"AAA{suffix}"), ["fwd_ret_1d", "f0"])
        assert read.index.is_monotonic_increasing and read.index.is_unique
        assert len(read) == 60 and read["f0"].isna().sum() == 1
        assert read["sector"].eq("tech").all()


def test_walkforward_refuses_a_file_lacking_a_feature_by_name(tmp_path):
    """The panel reader holds every file to the columns most files offer."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=120, seed=5)
    pd.read_parquet(data / "AAA.parquet").drop(columns="f2").to_parquet(data / "AAA.parquet")
    from skquant.cli._walkforward import load_panel

    panel, failed, _ = load_panel(str(data), "fwd_ret_1d")
    assert set(failed) == {"AAA"} and "AAA.parquet has no column 'f2'" in failed["AAA"]
    assert set(panel.index.get_level_values("symbol")) == {"BBB", "CCC"}
    assert "f2" in panel.columns


def test_train_all_progress_shows_done_total_eta_and_worker_peak(tmp_path):
    """Each finished symbol's line says how many are done, the time left and its peak memory."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=120)
    proc = run_cli(
        "train-all", "--input-dir", data, "--output-dir", tmp_path / "out",
        "--target", "fwd_ret_1d", "--models", "lightgbm", "--config", fast_config(tmp_path),
        "--val-days", "30", "--n-jobs", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = re.compile(
        r"^\[(\d)/3 (\d+)%, ETA \d+:\d\d:\d\d, worker peak (\d+) MB\] (AAA|BBB|CCC): "
        r"lightgbm trained \(\d+\.\ds\)$"
    )
    found = [m.groups() for m in map(line.match, proc.stderr.splitlines()) if m]
    assert [(done, pct) for done, pct, _, _ in found] == [("1", "33"), ("2", "66"), ("3", "100")]
    assert sorted(symbol for *_, symbol in found) == ["AAA", "BBB", "CCC"]
    assert all(int(peak) > 10 for _, _, peak, _ in found)
    assert proc.stderr.count("ETA 0:00:00") >= 1  # nothing left after the last one


def test_a_log_line_never_lands_on_the_progress_bars_line():
    """ "SYM/lightgbm: already finished, kept" was appended to the drawn bar's line."""
    import io
    import logging

    from tqdm import tqdm

    from skquant.cli._common import setup_logging

    stream = io.StringIO()
    root = logging.getLogger("skquant")
    saved = root.handlers[:], root.level, root.propagate
    try:
        setup_logging(0)
        root.handlers[0].setStream(stream)
        bar = tqdm(total=3, desc="symbols", file=stream)
        bar.update(1)
        logging.getLogger("skquant.cli").info("AAA/lightgbm: already finished, kept")
        bar.close()
    finally:
        root.handlers[:], root.level, root.propagate = saved
    text = stream.getvalue()
    before = text[: text.index("AAA/lightgbm")]
    assert before.endswith(("\r", "\n")), repr(text)


def test_a_log_line_is_one_write_with_its_newline():
    """tqdm.write wrote the line and its newline apart: the --n-jobs worker processes,
    sharing stderr, interleaved "AAA/lightgbm: ...BBB/lightgbm: ..." then two newlines."""
    import logging

    from skquant.cli._common import setup_logging

    class Writes(list):
        def write(self, text):
            self.append(text)

        def flush(self):
            pass

    writes = Writes()
    root = logging.getLogger("skquant")
    saved = root.handlers[:], root.level, root.propagate
    try:
        setup_logging(0)
        root.handlers[0].setStream(writes)
        logging.getLogger("skquant.cli").info("AAA/lightgbm: done")
        logging.getLogger("skquant.cli").info("BBB/lightgbm: done")
    finally:
        root.handlers[:], root.level, root.propagate = saved
    assert [w for w in writes if w] == ["AAA/lightgbm: done\n", "BBB/lightgbm: done\n"]


# ----------------------------------------------------------------------------- random bad files
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_COLUMNS = ["date", "f0", "f1", "f2", "fwd_ret_1d"]
_cells = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", " ", "nan", "inf", "-", "1e400", "2022-13-45", "2022-01-05"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.none(),
)
_breakage = st.one_of(
    st.tuples(st.just("cell"), st.sampled_from(_COLUMNS), st.integers(0, 59), _cells),
    st.tuples(st.just("drop"), st.sampled_from(_COLUMNS)),
    st.tuples(st.just("repeat"), st.integers(0, 59), st.integers(0, 59)),
    st.tuples(st.just("zone"), st.integers(0, 59), st.sampled_from(["Z", "+09:00", "-0500"])),
    st.tuples(st.just("rows"), st.integers(0, 3)),
)


@st.composite
def broken_files(draw):
    """A symbol file with one to four random breakages, as CSV or parquet."""
    frame = _good_frame()
    for step in draw(st.lists(_breakage, min_size=1, max_size=4)):
        rows = [r for r in step[1:] if isinstance(r, int)]
        if step[0] != "rows" and not set(rows) <= set(frame.index):
            continue  # the rows were cut off by an earlier step
        if step[0] == "cell" and step[1] in frame:
            frame = _with_text(frame, step[1], step[2], step[3])
        elif step[0] == "drop" and step[1] in frame:
            frame = frame.drop(columns=step[1])
        elif step[0] == "repeat" and "date" in frame:
            frame = _dates_with(frame, [step[1]], lambda d, other=frame["date"][step[2]]: other)
        elif step[0] == "zone" and "date" in frame:
            frame = _dates_with(frame, [step[1]], lambda d, z=step[2]: f"{d}T00:00:00{z}")
        elif step[0] == "rows":
            frame = frame.head(step[1])
    return frame, draw(st.sampled_from([".csv", ".parquet"]))


def _broken_file(tmp_path: Path, case) -> Path:
    frame, suffix = case
    for old in tmp_path.glob("BAD.*"):
        old.unlink()
    return _write(frame, tmp_path / f"BAD{suffix}")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=broken_files())
def test_reader_refuses_random_broken_files_by_name_or_reads_them_clean(tmp_path, case):
    from skquant.cli._data import read_symbol

    path = _broken_file(tmp_path, case)
    required = ["fwd_ret_1d", "f0", "f1", "f2"]
    try:
        frame = read_symbol(path, required)
    except ValueError as exc:
        assert path.name in str(exc)
        return
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.is_unique
    assert frame.index.is_monotonic_increasing and not frame.index.hasnans
    assert all(pd.api.types.is_numeric_dtype(frame[c]) for c in required)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=broken_files())
def test_train_all_never_ends_in_an_unexpected_error_on_random_bad_files(
    trained_good, tmp_path, case
):
    """In-process (fast): exit 0, 1 (the symbol named) or 2, never 3 or a traceback."""
    import contextlib
    import io

    from skquant.cli import main

    root, args = trained_good
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(root / "data", data)
    _broken_file(data, case)
    out = tmp_path / "out"
    if not out.exists():
        shutil.copytree(root / "out", out)
    shutil.rmtree(out / "BAD", ignore_errors=True)
    argv = [str(out if a == root / "out" else a) for a in args]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--input-dir", str(data), "-q"])
    assert code in (0, 1, 2), err.getvalue()
    assert "Traceback" not in err.getvalue()
    if code == 1:  # the symbol is named (and the file, when the reader refused it)
        assert "symbol BAD failed" in err.getvalue(), err.getvalue()


def test_walkforward_skips_a_file_whose_default_target_holds_an_infinity(tmp_path, capsys):
    """Without --target, a file whose fwd_ret holds an infinity stopped the whole run
    (exit 2) with "--return-col 'fwd_ret' holds 1 infinite values", an option never
    given and no file named; with --target the file was skipped by name (audit)."""
    from skquant.cli import main

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC"], n=160, seed=5)
    for symbol in ("AAA", "BBB", "CCC"):
        frame = pd.read_parquet(data / f"{symbol}.parquet")
        frame = frame.rename(columns={"fwd_ret_1d": "fwd_ret"})
        if symbol == "BBB":
            frame.loc[10, "fwd_ret"] = np.inf
        frame.to_parquet(data / f"{symbol}.parquet", index=False)
    args = ["walkforward", "--input-dir", data, "--output-dir", tmp_path / "wf",
            "--config", fast_config(tmp_path, rounds=5, patience=0), "--train-days", "60",
            "--test-days", "40", "--step-days", "40", "--min-train-samples", "50",
            "--n-jobs", "1", "-q"]  # fmt: skip
    assert main([str(arg) for arg in args]) == 1
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "symbol BBB" in x)
    assert "BBB.parquet: column 'fwd_ret' holds 1 infinite values" in line, err
    assert "--return-col" not in err
    manifest = json.loads((tmp_path / "wf" / "run_manifest.json").read_text())
    assert manifest["symbols"] == ["AAA", "CCC"] and list(manifest["failed_symbols"]) == ["BBB"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_reader_reads_dates_of_one_zone_across_daylight_saving(tmp_path, suffix):
    """A frame in America/New_York written by pandas to CSV holds -05:00 and -04:00
    offsets (daylight saving time): it was refused as "mix time zones (-04:00, -05:00);
    write them all in one zone", which it was (audit). Every date carries an offset, so
    each is one instant: read in UTC. Naive dates mixed with offsets stay refused."""
    from skquant.cli._data import read_symbol

    frame = _good_frame(n=120)
    frame["date"] = pd.DatetimeIndex(frame["date"]).tz_localize("America/New_York")
    read = read_symbol(_write(frame, tmp_path / f"AAA{suffix}"), ["fwd_ret_1d"])
    assert len(read) == 120 and read.index.tz is not None
    expected = pd.DatetimeIndex(frame["date"]).tz_convert("UTC")
    assert (read.index.tz_convert("UTC") == expected).all()


def test_a_file_lacking_the_default_target_is_skipped_by_name(tmp_path):
    """Without --target, one file of four without fwd_ret dropped that column from the
    whole panel (the files are joined on the columns they share): the run stopped with
    exit 2, "the data has no such column", naming no file (audit)."""
    from skquant.cli._walkforward import load_panel

    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "CCC", "DDD"], n=120, seed=5)
    for symbol in ("AAA", "BBB", "CCC", "DDD"):
        frame = pd.read_parquet(data / f"{symbol}.parquet")
        new = "fwd_ret" if symbol != "DDD" else "ret_next"
        frame.rename(columns={"fwd_ret_1d": new}).to_parquet(data / f"{symbol}.parquet")
    panel, failed, _ = load_panel(str(data), None)
    assert set(failed) == {"DDD"} and "DDD.parquet has no column 'fwd_ret'" in failed["DDD"]
    assert "fwd_ret" in panel.columns
    assert set(panel.index.get_level_values("symbol")) == {"AAA", "BBB", "CCC"}


def test_reader_drops_the_row_numbers_of_a_csv_saved_with_its_index(tmp_path):
    """``frame.to_csv(path)`` with a RangeIndex writes the row numbers under a blank
    header; read as the numeric column "Unnamed: 0", walkforward took that row counter
    (a clock) as a feature, its top one in the audit."""
    from skquant.cli._data import read_symbol

    frame = _good_frame()
    frame.to_csv(tmp_path / "AAA.csv")  # index=True: ",date,f0,..."
    read = read_symbol(tmp_path / "AAA.csv", ["fwd_ret_1d"])
    assert list(read.columns) == [c for c in frame.columns if c != "date"]


def test_reader_names_a_date_column_spelled_otherwise(tmp_path):
    """A 'Date' column (as Yahoo's CSV files have it) was refused as "has no 'date'
    column or date index", with no word of the column it has."""
    from skquant.cli._data import read_symbol

    path = _write(_good_frame().rename(columns={"date": "Date"}), tmp_path / "AAA.csv")
    with pytest.raises(ValueError, match=r"AAA.csv has no 'date' column.*'Date'.*rename"):
        read_symbol(path)


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("walkforward", "--target"),
        ("walkforward", "--return-col"),
        ("walkforward", "--features"),
        ("train-all", "--target"),
        ("train-all", "--return-col"),
    ],
)
def test_a_missing_column_names_the_option_that_asked_for_it(tmp_path, command, option):
    """A --target, --return-col or --features column that no file holds was refused in
    the same words for each ("AAA.parquet has no column 'nocol'"), so the user could not
    tell which option to fix; the parts of "no usable symbol file" ended in ".;"."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB"], n=120, seed=5)
    given = {"--target": "fwd_ret_1d", "--return-col": "fwd_ret_1d", "--features": "f0,f1"}
    given[option] = "nocol" if option != "--features" else "f0,nocol"
    extra = (["--train-days", "40", "--test-days", "20", "--step-days", "20",
              "--min-train-samples", "30"] if command == "walkforward"
             else ["--models", "lightgbm", "--val-days", "20"])  # fmt: skip
    proc = run_cli(command, "--input-dir", data, "--output-dir", tmp_path / "out",
                   *[x for pair in given.items() for x in pair], *extra)  # fmt: skip
    assert proc.returncode in (1, 2), proc.stderr
    assert f"has no column 'nocol' ({option})" in proc.stderr, proc.stderr
    assert ".;" not in proc.stderr and ".)." not in proc.stderr, proc.stderr


def test_walkforward_warns_once_of_an_illiquid_symbol_file(tmp_path):
    """A file of a symbol that traded on 45% of the days beside two daily ones stopped
    the run: "come at different frequencies (252 a year: 'AAA', 'BBB'; 126 a year:
    'ILQ')", exit 2. It runs now, and says once, as a skquant warning line, that the
    symbol's labels reach past the embargo."""
    data = write_symbols(tmp_path / "data", ["AAA", "BBB", "ILQ"], n=200, seed=4)
    frame = pd.read_parquet(data / "ILQ.parquet")
    rng = np.random.default_rng(0)
    frame[rng.random(len(frame)) < 0.45].to_parquet(data / "ILQ.parquet", index=False)
    proc = run_cli(
        "walkforward", "--input-dir", data, "--target", "fwd_ret_1d",
        "--output-dir", tmp_path / "wf", "--features", "f0,f1",
        "--config", fast_config(tmp_path, rounds=20, patience=0), "--train-days", "60",
        "--test-days", "30", "--step-days", "30", "--embargo-days", "1",
        "--min-train-samples", "50", "--n-jobs", "1",
        env={"PYTHONWARNINGS": "default"},  # a raw Python warning would show too
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "skips many" in line]
    assert len(lines) == 1 and lines[0].startswith("skquant: warning: 1 symbol of"), proc.stderr
    assert "'ILQ' (4" in lines[0] and "LeakageWarning" not in proc.stderr, proc.stderr


def test_walkforward_refuses_files_stamped_at_each_markets_close(tmp_path):
    """SPY at New York's close (16:00) and EWU at London's (16:30), written with UTC
    offsets: read as UTC instants, no date held both, and walkforward printed 504
    periods a year, a turnover of 1.9989 and an IC of NaN (audit). Refused, naming
    each file's time of day; stamped by date (normalize), the files pass."""
    from skquant.cli._common import UsageError
    from skquant.cli._walkforward import load_panel

    data = write_symbols(tmp_path / "data", ["SPY", "EWU"], n=120, seed=3)
    for symbol, zone, close in (("SPY", "America/New_York", 16), ("EWU", "Europe/London", 16.5)):
        frame = pd.read_parquet(data / f"{symbol}.parquet")
        stamps = (frame["date"] + pd.Timedelta(close, unit="h")).dt.tz_localize(zone)
        frame.assign(date=stamps.astype(str)).to_csv(data / f"{symbol}.csv", index=False)
        (data / f"{symbol}.parquet").unlink()
    with pytest.raises(UsageError, match=r"'EWU' at 16:30 UTC \(mostly\), 'SPY' at 2[01]:00 UTC"):
        load_panel(str(data), "fwd_ret_1d")
    proc = run_cli("walkforward", "--input-dir", data, "--target", "fwd_ret_1d")
    assert proc.returncode == 2 and "normalize" in proc.stderr, proc.stderr
    for symbol in ("SPY", "EWU"):
        frame = pd.read_csv(data / f"{symbol}.csv")
        frame["date"] = pd.to_datetime(frame["date"].str[:10])  # each bar by its date
        frame.to_csv(data / f"{symbol}.csv", index=False)
    panel, failed, _ = load_panel(str(data), "fwd_ret_1d")
    assert not failed and panel.index.get_level_values("date").normalize().equals(
        panel.index.get_level_values("date")
    )


def test_latent_columns_left_out_of_the_features_need_no_build_record(tmp_path):
    """A folder whose files hold a column named like a latent one (vae0) with no
    build-features record was refused whole, though --features left vae0 out
    (walkforward --features ret_1,mom: "no usable symbol file"), and the ~400-character
    reason was repeated for every file on one line (0.8 MB for 2,000 files). Only the
    latent columns used as features are judged; the reason is said once."""
    from skquant.cli import main
    from skquant.cli._common import UsageError
    from skquant.cli._data import first_unseen_date, load_panel

    symbols = [f"S{i}" for i in range(7)]
    data = write_symbols(tmp_path / "data", symbols, n=120, seed=2)
    for symbol in symbols:
        path = data / f"{symbol}.parquet"
        frame = pd.read_parquet(path)
        frame.assign(vae0=frame["f2"]).to_parquet(path, index=False)
    path = data / "S0.parquet"
    assert first_unseen_date(path, ["f0", "f1"]) is None
    with pytest.raises(ValueError, match=r"^S0\.parquet holds vae0, latent columns"):
        first_unseen_date(path, ["f0", "vae0"])
    panel, failed, unseen = load_panel(str(data), "fwd_ret_1d", features=["f0", "f1"])
    assert not failed and not unseen and len(panel) == 7 * 120
    with pytest.raises(UsageError) as caught:
        load_panel(str(data), "fwd_ret_1d")
    message = str(caught.value)
    assert message.count("no record of the dates") == 1, message
    assert "S0.parquet, S1.parquet, S2.parquet, S3.parquet, S4.parquet and 2 more hold" in message
    assert len(message) < 700, len(message)
    # train-all judges the features it trains on too
    args = ["-q", "train-all", "--input-dir", str(data), "--output-dir", str(tmp_path / "out"),
            "--target", "fwd_ret_1d", "--models", "ftrl_proximal", "--val-days", "20",
            "--features", "f0,f1"]  # fmt: skip
    assert main(args) == 0
