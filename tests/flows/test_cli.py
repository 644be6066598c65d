import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from cleaner.errors import InputError
from cleaner.io import readers
from cleaner_flows.cli import build_parser, main


def test_parser_defaults():
    args = build_parser().parse_args(["run"])
    assert (args.paths, args.out, args.config) == ([], "output", None)
    args = build_parser().parse_args(["run", "a", "b", "--out", "x", "--config", "c.toml"])
    assert (args.paths, args.out, args.config) == (["a", "b"], "x", "c.toml")
    assert args.workers is None and build_parser().parse_args(["run", "--workers", "3"]).workers == 3


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_must_be_a_positive_number(workers, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--workers", workers])
    assert "expected a whole number of at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_no_folder_not_the_current_one(out, capsys):
    """`--out "$UNSET"` wrote a lock file into the current folder, then said "no input found"."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--out", out])
    assert "--out: expected a folder, got an empty path" in capsys.readouterr().err


def test_bad_config_is_a_one_line_error_before_prefect_starts(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[dedup]\nthreshold = 2\n")
    assert main(["run", "--config", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "cleaner: error: dedup.threshold must be > 0.0 and <= 1.0, got 2"
    assert not (tmp_path / "out").exists()


def test_missing_input_path_is_an_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope")]) == 2
    assert "input path does not exist" in capsys.readouterr().err


def test_an_empty_input_path_is_an_error_not_the_current_folder(tmp_path, monkeypatch, capsys):
    # `cleaner run "$INBOX"` with INBOX unset read every file under the current folder, other
    # corpora's Parquet files among them.
    (tmp_path / "page.txt").write_text("A page that must not be read.")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.strip() == (
        "cleaner: error: an input path is empty; name the current folder '.' if it is meant"
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="an input path is empty"):
        readers.discover([""])


@pytest.mark.parametrize("address", ["nonsense", "tcp://host", "tcp://host:port"])
def test_a_malformed_dask_address_is_a_usage_error_before_prefect_starts(address, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["run", "--dask", address])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --dask:" in err and "tcp://10.0.0.5:8786" in err and "Traceback" not in err


def _python(code, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def _fresh_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    return env


def test_prefect_defaults_turn_telemetry_off_and_allow_a_slow_first_start(tmp_path):
    code = (
        "from cleaner_flows.server import prefect_defaults; prefect_defaults()\n"
        "from prefect.settings import get_current_settings as s\n"
        "import os\n"
        "print(s().server.analytics_enabled, s().server.ephemeral.startup_timeout_seconds, os.environ['DO_NOT_TRACK'])"
    )
    result = _python(code, env={k: v for k, v in _fresh_env(tmp_path).items() if k != "DO_NOT_TRACK"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "180", "1"]


@pytest.mark.prefect
def test_first_run_on_a_fresh_machine_processes_the_examples_into_output(tmp_path):
    """`cleaner run` with no arguments, a Prefect home that has never been used and no
    Prefect settings in the environment: the database migration outlasts Prefect's default
    start-up timeout, and the command must succeed anyway."""
    env = _fresh_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "cleaner_flows", "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = tmp_path / "output"
    manifest = json.loads((out / "manifest.json").read_text())
    (examples,) = manifest["inputs"]  # the checkout's examples/, or the installed copy
    assert examples.endswith("examples/pages") and Path(examples).is_absolute()
    assert ds.dataset(out / "documents").count_rows() == manifest["counts"]["documents"] > 0
    assert result.stdout.startswith("cleaner: cleaning the bundled examples into output/\n")  # at once
    assert f"written to output/ (run {manifest['run_id']})" in result.stdout
    assert "the corpus: 17 documents, 10 duplicate documents, 0 rejects in 1 run\n" in result.stdout
    assert "dedup:" in result.stderr + result.stdout  # stage logs are shown
    # one temporary server for the run: the process-pool workers use it rather than their own
    assert (result.stderr + result.stdout).count("Starting temporary server") == 1
    # the temporary server's database is its own, not the prefect.db of a user's `prefect server`
    assert sorted(p.name for p in Path(env["PREFECT_HOME"]).glob("*.db")) == ["cleaner-runs.db"]
    assert "View at" not in result.stderr + result.stdout  # no link to a UI that is gone


def test_dask_and_parquet_column_options_parse():
    args = build_parser().parse_args(["run", "--dask", "tcp://10.0.0.5:8786", "--text-column", "body"])
    assert args.dask == "tcp://10.0.0.5:8786" and args.text_column == "body" and args.url_column is None


def test_workers_and_dask_together_are_a_one_line_error(capsys):
    assert main(["run", "--workers", "2", "--dask", "tcp://127.0.0.1:1"]) == 2
    assert "with --dask the cluster's workers run the tasks" in capsys.readouterr().err


def test_reprocess_and_check_parse():
    assert build_parser().parse_args(["run", "in", "--reprocess"]).reprocess is True
    assert build_parser().parse_args(["run"]).reprocess is False
    args = build_parser().parse_args(["check", "corpus", "--repair"])
    assert (args.command, args.corpus, args.repair) == ("check", "corpus", True)
