"""Stopping `cleaner run` as terminals and schedulers do: it stops within seconds, leaves the
corpus as it was, exits 128 + the signal, and leaves no process behind; killed outright, its
workers and server die with it; started in the background, it ignores Ctrl-C as programs do.

Each case runs the command as users do (its own temporary Prefect server, its forked
workers) on 1,200 generated pages, in a session of its own, and signals it once it has
started preparing batches."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from benchmarks.bench_pipeline import generate
from tests.flows.test_server import _alive, _children, _cmdline

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.skipif(sys.platform != "linux", reason="process groups and PR_SET_PDEATHSIG are Linux's"),
]
STOP_SECONDS = 20  # 2-6 s here, alone; the bound leaves room for a loaded machine


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stop") / "in"
    generate(root, 1200, "html")
    return root


def _start(
    pages: Path,
    out: Path,
    tmp_path: Path,
    ignore_sigint: bool = False,
    until: str = "discover:",
    then: float = 1.0,
    argv: list[str] | None = None,
    settings: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, Path]:
    """`cleaner run` (or `argv`, with Prefect `settings`) in a session of its own, once its
    log says `until` and `then` seconds more have passed (by default: batches under way on
    the workers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = os.environ.get("PREFECT_HOME", str(tmp_path / "home"))
    env.update(settings or {})
    log = tmp_path / "run.log"

    def background() -> None:  # what a shell does to a job started with `&`
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with log.open("w") as sink:  # the command writes to its own copy of the descriptor
        command = subprocess.Popen(
            argv or [sys.executable, "-m", "cleaner_flows", "run", str(pages), "--out", str(out)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=background if ignore_sigint else None,
        )
    deadline = time.monotonic() + 120
    while until not in log.read_text() and time.monotonic() < deadline:
        assert command.poll() is None, log.read_text()
        time.sleep(0.02)
    time.sleep(then)
    return command, log


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = _children(todo.pop())
        found += children
        todo += children
    return found


def _outliving(pids: list[int], seconds: float = 15) -> list[int]:
    """Those of `pids` still alive after up to `seconds` (the kernel ends a dead parent's
    children with PR_SET_PDEATHSIG, not at once)."""
    deadline = time.monotonic() + seconds
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _assert_as_it_was(out: Path) -> None:
    assert not out.exists(), "nothing of the run is left, not even the folder made for it"


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_process_group_stops_the_run_and_leaves_the_corpus_as_it_was(
    pages, tmp_path, signum, status
):
    out = tmp_path / "out"
    command, log = _start(pages, out, tmp_path)
    processes = [command.pid, *_tree(command.pid)]
    assert len(processes) >= 4, "the command, two workers and the server"
    sent = time.monotonic()
    os.killpg(command.pid, signum)
    assert command.wait(timeout=STOP_SECONDS) == status
    assert time.monotonic() - sent < STOP_SECONDS
    said = log.read_text()
    assert f"stopped by {signal.Signals(signum).name}: {out} is as it was" in said
    assert "Crash detected" not in said and "Traceback" not in said, said  # the command's line only
    _assert_as_it_was(out)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in processes if _alive(p)], "a process outlived the command"


def test_sigterm_to_every_process_including_the_server_stops_the_run(pages, tmp_path):
    """systemd stops a service by signalling every process of it: the server dies with the
    command, and the run must not wait minutes on an API that is gone."""
    out = tmp_path / "out"
    command, log = _start(pages, out, tmp_path)
    processes = [command.pid, *_tree(command.pid)]
    assert any("prefect.server.api.server" in _cmdline(p) for p in processes)
    sent = time.monotonic()
    for pid in processes:
        os.kill(pid, signal.SIGTERM)
    assert command.wait(timeout=STOP_SECONDS) == 143
    assert time.monotonic() - sent < STOP_SECONDS
    assert f"stopped by SIGTERM, after waiting 5 s for the run to stop: {out} is as it was" in log.read_text()
    _assert_as_it_was(out)
    assert not [p for p in processes if _alive(p)]


def test_workers_and_server_die_with_a_killed_command(pages, tmp_path):
    out = tmp_path / "out"
    command, _ = _start(pages, out, tmp_path)
    others = _tree(command.pid)
    assert len(others) >= 3
    os.kill(command.pid, signal.SIGKILL)
    command.wait()
    assert not _outliving(others), "a worker or the server outlived the command"


def test_a_background_run_ignores_ctrl_c_and_commits(pages, tmp_path):
    out = tmp_path / "out"
    command, log = _start(pages, out, tmp_path, ignore_sigint=True)
    os.killpg(command.pid, signal.SIGINT)  # the terminal's Ctrl-C reaches background jobs too
    assert command.wait(timeout=240) == 0, log.read_text()[-2000:]
    assert ds.dataset(out / "documents", partitioning="hive").count_rows() > 0


@pytest.mark.parametrize("after", [0.3, 1.5])
def test_ctrl_c_while_prefect_starts_is_one_line(pages, tmp_path, after):
    """Before the run has begun (its server and workers starting), Ctrl-C was a page of
    KeyboardInterrupt traceback: it is the same one line as later, and nothing is left."""
    out = tmp_path / "out"
    command, log = _start(pages, out, tmp_path, until="cleaner: cleaning", then=after)
    assert "discover:" not in log.read_text(), "the run began: too late for this test"
    processes = [command.pid, *_tree(command.pid)]
    os.killpg(command.pid, signal.SIGINT)
    assert command.wait(timeout=STOP_SECONDS) == 130
    said = log.read_text()
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
    assert said.rstrip().endswith(f"cleaner: stopped by SIGINT: {out} is as it was"), said
    assert not out.exists()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in processes if _alive(p)], "a process outlived the command"


@pytest.fixture(scope="module")
def long_pages(tmp_path_factory) -> Path:
    """30 pages of 1.7 MB, 0.8 s of extraction each: two batches of 12 s, one per worker."""
    root = tmp_path_factory.mktemp("long") / "in"
    root.mkdir()
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghij") for _ in range(6)) for _ in range(3000)]
    for i in range(30):
        paragraphs = "\n".join(
            f"<p>{' '.join(rng.choice(words) for _ in range(40)).capitalize()}.</p>" for _ in range(6000)
        )
        (root / f"p{i:02d}.html").write_text(
            f"<html><head><title>Page {i}</title></head><body><article>{paragraphs}</article></body></html>"
        )
    return root


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_command_alone_stops_it_without_waiting_for_the_batches(
    long_pages, tmp_path, signum, status
):
    """A process manager that signals the command's process only, not its group: the workers
    go on with their batches. Prefect's pool waited for them to finish (SIGTERM, which
    Prefect takes during a flow run: 12 to 19 s on real pages), or the command gave up after
    its 5 s of grace (SIGINT), and the workers' own copies of the pool left semaphores that
    multiprocessing complained of, in two warnings of several lines."""
    out = tmp_path / "out"
    command, log = _start(long_pages, out, tmp_path)
    processes = [command.pid, *_tree(command.pid)]
    sent = time.monotonic()
    os.kill(command.pid, signum)
    assert command.wait(timeout=STOP_SECONDS) == status
    waited = time.monotonic() - sent
    said = log.read_text()
    assert said.rstrip().endswith(f"cleaner: stopped by {signal.Signals(signum).name}: {out} is as it was"), (
        said
    )
    assert "leaked" not in said and "Traceback" not in said, said
    assert waited < 6, f"stopped {waited:.1f} s after the signal, with 11 s of batches left"
    _assert_as_it_was(out)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in processes if _alive(p)], "a process outlived the command"


def test_a_flow_run_killed_outright_takes_its_workers_with_it(prefect_server, pages, tmp_path):
    """A deployment's flow run (the process `prefect worker` starts; the OOM killer's pick)
    killed with SIGKILL left Prefect's own pool workers behind, ~400 MB each, holding the
    worker's pipe open, and the run "Running" for good. The flow's pool is cleaner's, whose
    workers die with the process that entered it."""
    from prefect.settings import PREFECT_API_URL

    out = tmp_path / "out"
    script = (
        "from cleaner_flows.clean_corpus import clean_corpus\n"
        f"clean_corpus(paths=[{str(pages)!r}], out={str(out)!r})\n"
    )
    run, log = _start(
        pages,
        out,
        tmp_path,
        then=2.0,  # batches under way on the spawned workers
        argv=[sys.executable, "-c", script],
        settings={"PREFECT_HOME": str(tmp_path / "home"), "PREFECT_API_URL": PREFECT_API_URL.value()},
    )
    workers = _tree(run.pid)
    assert len(workers) >= 2, log.read_text()
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert not _outliving(workers), "a worker outlived the flow run's process"
