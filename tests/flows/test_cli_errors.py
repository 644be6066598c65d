"""What `cleaner run` says when it cannot do its work: one line, exit 2, and as early as it can
know, before Prefect starts; an unexpected error (a bug) is one line and a log of its traceback.
Each case runs the command as a user does, in a process of its own."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.bench_pipeline import generate
from tests.conftest import EXAMPLES


def _cleaner(
    *args: str, tmp_path: Path, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    run_env["PREFECT_HOME"] = os.environ.get("PREFECT_HOME", str(tmp_path / "home"))
    run_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cleaner_flows", "run", *args],
        capture_output=True,
        text=True,
        env=run_env,
        timeout=timeout,
    )


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    """The error, said once, as the command's last line, with no traceback anywhere (the
    lines above it are the run's log, when it had started)."""
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("cleaner: error: ")
    said = line.removeprefix("cleaner: error: ")
    everything = result.stdout + result.stderr
    assert everything.count(said) == 1 and "Traceback" not in everything
    return said


def _output_file(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.write_text("not a folder\n")
    return out


def _under_a_file(tmp_path: Path) -> Path:
    _output_file(tmp_path)
    return tmp_path / "out" / "corpus"


def _garbage_manifest(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")
    return out


def _other_minhash_settings(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "index").mkdir(parents=True)
    from cleaner.config import DedupConfig
    from cleaner.corpus.index import params_of

    (out / "index" / "params.json").write_text(json.dumps(params_of(DedupConfig(num_perm=256, bands=64))))
    return out


def _dangling_link(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "gone")
    return out


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_output_file, "output path exists and is not a folder"),
        (_dangling_link, "is a link to"),  # it said "File exists", after Prefect had started
        (_under_a_file, "out is a file, not a folder"),  # it said "not writable"
        (_garbage_manifest, "is damaged: manifest.json cannot be read"),
        (_other_minhash_settings, "was deduplicated with other MinHash settings (num_perm 256 -> 128"),
    ],
)
def test_an_output_folder_that_cannot_take_the_run_is_one_line_before_prefect_starts(tmp_path, make, says):
    out = make(tmp_path)
    result = _cleaner(str(EXAMPLES / "pages"), "--out", str(out), tmp_path=tmp_path, timeout=60)
    assert says in _one_error_line(result)
    assert "Starting temporary server" not in result.stdout + result.stderr


def test_the_input_folder_as_the_output_is_one_line_before_prefect_starts(tmp_path):
    """`cleaner run in --out in` said it was cleaning, started Prefect, and failed 4 s later."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.txt").write_text("A page of its own.\n")
    result = _cleaner(str(inbox), "--out", str(inbox), tmp_path=tmp_path, timeout=60)
    assert "lies inside the output folder" in _one_error_line(result)
    assert "Starting temporary server" not in result.stdout + result.stderr and result.stdout == ""
    assert sorted(p.name for p in inbox.iterdir()) == ["a.txt"]  # no lock left in the inbox


def test_a_folder_another_run_holds_is_one_line_before_prefect_starts(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = _cleaner(str(EXAMPLES / "pages"), "--out", str(out), tmp_path=tmp_path, timeout=60)
    assert _one_error_line(result) == f"another cleaner run is writing to {out}; wait for it to finish"
    assert "Starting temporary server" not in result.stdout + result.stderr


@pytest.mark.prefect
def test_a_prefect_server_that_does_not_answer_is_one_line_not_an_unexpected_error(tmp_path):
    """PREFECT_API_URL naming a server not started was "unexpected error: RuntimeError: Failed
    to reach API", exit 1, with a traceback file: a setting, not a bug."""
    from tests.flows.server import free_port

    url = f"http://127.0.0.1:{free_port()}/api"
    out = tmp_path / "out"
    result = _cleaner(
        str(EXAMPLES), "--out", str(out), tmp_path=tmp_path, env={"PREFECT_API_URL": url}, timeout=60
    )
    said = _one_error_line(result)
    assert said.startswith(f"the Prefect API at {url} (PREFECT_API_URL) does not answer (")
    assert not out.exists()


def test_no_input_is_an_error_unless_an_empty_inbox_is_allowed(tmp_path):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    result = _cleaner(str(inbox), "--out", str(out), tmp_path=tmp_path)
    assert _one_error_line(result).startswith(f"no input found under {inbox}")
    result = _cleaner(str(inbox), "--out", str(out), "--allow-empty", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"no input found: nothing committed to {out}/" in result.stdout
    assert not (out / "runs").exists()


@pytest.mark.prefect
def test_a_page_without_text_is_a_reject_not_a_warning_of_trafilatura(tmp_path):
    # trafilatura logged "discarding data: None" for each such page, from the workers, in the
    # run's output, where the reject already says it.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "empty.html").write_text(
        '<html><head><title>Nothing</title></head><body><img src="a.png"></body></html>'
    )
    result = _cleaner(str(inbox), "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 rejects" in result.stdout
    assert "trafilatura" not in result.stdout + result.stderr


@pytest.mark.prefect
def test_an_unexpected_error_is_one_line_and_a_log_of_its_traceback(tmp_path):
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "sitecustomize.py").write_text(
        "import cleaner.clean.learned\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('a planted bug')\n"
        "cleaner.clean.learned.learn_boilerplate = broken\n"
    )
    result = _cleaner(
        str(EXAMPLES / "pages"),
        "--out",
        str(tmp_path / "out"),
        tmp_path=tmp_path,
        env={"PYTHONPATH": str(planted), "TMPDIR": str(tmp_path)},  # the log, where the test cleans up
    )
    assert result.returncode == 1, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("cleaner: unexpected error: RuntimeError: a planted bug (traceback in ")
    assert (result.stdout + result.stderr).count("a planted bug") == 1
    log = Path(line.rsplit("traceback in ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path and log.name.startswith("cleaner-") and log.suffix == ".log"
    assert "Traceback" in log.read_text() and "in broken" in log.read_text()
    assert "Traceback" not in result.stdout + result.stderr


@contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A small file system mounted at `folder` for the block (the test is skipped where
    mounting is not allowed)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.prefect
@pytest.mark.skipif(sys.platform != "linux", reason="a tmpfs stands for a full disk")
def test_a_full_disk_names_the_folder_and_the_space(tmp_path):
    with _tmpfs(tmp_path / "disk", "1m") as disk:
        pages = tmp_path / "pages"
        generate(pages, 300, "html")
        out = disk / "out"
        result = _cleaner(str(pages), "--out", str(out), tmp_path=tmp_path)
        said = _one_error_line(result)
        assert said.startswith(f"no space left on the device of {out}: the run had written ")
        assert "free space there or write to another --out (the corpus is as it was)" in said
        assert not out.exists()  # made for the run, removed with it


def test_a_corpus_on_a_read_only_file_system_is_checked_and_reported_and_refuses_a_run(tmp_path, capsys):
    """A backup or a snapshot mounted read-only: `check` took a lock it could not write,
    `report` failed with an unexpected error, and a run said "permission denied"."""
    from cleaner_flows.cli import main
    from tests.growing_corpus import grown

    with _tmpfs(tmp_path / "disk", "4m") as disk:
        corpus = disk / "corpus"
        grown(corpus)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        assert main(["check", str(corpus)]) == 0
        assert capsys.readouterr().out.startswith(f"{corpus}: healthy: ")
        assert main(["report", str(corpus)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"cleaner: error: cannot write {corpus / 'report.html'}: Read-only file system")
        assert err.count("\n") == 1 and "--out" in err
        assert main(["report", str(corpus), "--out", str(tmp_path / "report.html")]) == 0
        (pages := tmp_path / "pages").mkdir()
        (pages / "a.txt").write_text("A page.\n")
        assert main(["run", str(pages), "--out", str(corpus)]) == 2
        assert capsys.readouterr().err.strip().endswith("it is on a read-only file system")
