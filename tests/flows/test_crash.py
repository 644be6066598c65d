"""A `cleaner run` killed with SIGKILL at any point leaves the corpus as it was, readable,
with no partial dataset visible, and the same command run again gives the corpus an
uninterrupted run gives.

Each case copies a finished first run (input folder A) into a fresh output folder and runs
`cleaner run A B --out OUT` there, with `crashpoints/` on PYTHONPATH: its `sitecustomize`
wraps one library function in every process of the run and, on the chosen call, kills the
run's whole process group (the `cleaner` process, its process-pool workers and the Prefect
server it started) with SIGKILL. In the `extract` case the killed run is the command exactly
as a user runs it, temporary Prefect server and all; the other runs, killed or not, use the
session's Prefect server (PREFECT_API_URL), which saves the ~7 s a temporary server takes
to start and changes nothing in what is written.

What a reader may see is asserted after the kill, on the files left behind:

- every file of the first run (outside hidden names) is byte for byte as it was, the
  manifests included, and every dataset and index dataset reads with pyarrow;
- a partition of the killed run is visible (`<dataset>/run=<id>/`, what both
  `pyarrow.dataset(..., partitioning="hive")` and a `<dataset>/*/*.parquet` glob read) only
  whole: its rows are exactly those the uninterrupted run wrote in that partition;
- before the commit journal is written nothing of the killed run is visible; after it, the
  visible partitions are the first k moves of the journal, in order. So each dataset is
  all-or-nothing, but during the renames one dataset may show the run while another does
  not yet (the case `after_first_rename` shows it). `runs/<id>.json` appears, whole, only
  once every partition is in place, so a reader can take it as the sign that a run is
  committed; `manifest.json` is replaced after it.

Then the same command runs again and must succeed, leave no hidden leftovers, keep the first
run's files, and hold the same rows in every dataset and index dataset as the uninterrupted
reference (run ids aside). Killed before its journal, the run is discarded and redone; killed
after it, the rerun rolls its commit forward (`writers.recover`), then finds every input read
and adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from cleaner.corpus import writers
from cleaner.corpus.check import INDEX_DATASETS  # every dataset of the index, index/rewrites too
from cleaner.corpus.index import INDEX
from tests.flows.server import group_alive

pytestmark = pytest.mark.prefect

CRASHPOINTS = Path(__file__).parent / "crashpoints"
CLEANER = Path(sys.executable).parent / "cleaner"
RUN_SECONDS = 240  # a run takes 5-25 s here; far beyond that it hangs
# Three files per batch: input B makes six batches, so the write reads the spool six times.
CONFIG = "[run]\nbatch_size = 3\n"


@dataclass(frozen=True)
class CrashPoint:
    """Where the run dies: on call `call` (in one process) of `target`, before it runs or
    after it returns, counting only calls made while `within` runs if given; and what the
    run had done by then (`phase`; in the commit, `moved` of the journal's moves, -1: all)."""

    target: str
    phase: str
    call: int = 1
    when: str = "after"
    within: str | None = None
    moved: int | None = None
    manifest_copied: bool = False  # runs/<id>.json in place: the sign the run is committed
    own_server: bool = False  # the run starts its temporary Prefect server, as `cleaner run` does


_JOURNALING = "cleaner.corpus.writers:_apply_journal"
POINTS = {
    # a worker process, on its third page of HTML (B has 8 pages on 2 workers); the whole
    # command as a user runs it, so the kill takes down its temporary Prefect server too
    "extract": CrashPoint("cleaner.clean.extract:extract_document", "prepare", call=3, own_server=True),
    # the flow process, in the dedup visit: its plain documents found, the walk about to begin
    # (a plain document skips `_is_duplicate_document`, so its calls are not counted on)
    "dedup": CrashPoint("cleaner.dedup.visit:_Visit._plain_documents", "dedup"),
    # the write: two of the six spooled batches added to the staged datasets, the third read
    "write": CrashPoint("cleaner.pipeline:read_part", "write", call=3, when="before"),
    # everything staged and synced, the commit journal not yet written
    "staged": CrashPoint("cleaner.corpus.writers:_fsync_tree", "staged"),
    # the journal written, nothing moved
    "journaled": CrashPoint(_JOURNALING, "commit", when="before", moved=0),
    # the first partition renamed into place (and its folder synced), the others not
    "after_first_rename": CrashPoint(
        "cleaner.corpus.writers:_fsync_dir", "commit", within=_JOURNALING, moved=1
    ),
    # every partition in place, the run's manifest being copied to runs/
    "copying_manifest": CrashPoint(
        "shutil:_fastcopy_sendfile", "commit", when="before", within=_JOURNALING, moved=-1
    ),
    # the manifest in runs/ (renamed there by the first os.replace), manifest.json not yet
    "manifest_copied": CrashPoint(
        "os:replace", "commit", call=2, when="before", within=_JOURNALING, moved=-1, manifest_copied=True
    ),
}


# -- the corpus ------------------------------------------------------------------------------

WORDS = (
    "ferry harbour council budget school bridge island storm engine contract teacher parent road "
    "lorry village crossing winter summer market fisher plant worker nurse doctor hospital library "
    "museum river mountain forest farmer harvest rain wind power cable tower station train bus "
    "ticket fare tax rent house street mayor vote election member report survey police court judge "
    "orchard quarry lighthouse pier ferryman choir festival bakery tram canal dam reservoir meadow "
    "shepherd sawmill garage cinema theatre stadium league coach referee goal season pupil exam"
).split()
LINKS = "after before while because although when since until unless so and but or yet".split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 10))]
    words.insert(rng.randint(2, len(words) - 2), rng.choice(LINKS))
    return " ".join(words).capitalize() + f" in {rng.randint(1990, 2030)}."


def _story(seed: int) -> tuple[str, list[str]]:
    """A made-up headline and four paragraphs of 2-3 sentences, the same for the same seed."""
    rng = random.Random(seed)
    title = " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
    return title, [" ".join(_sentence(rng) for _ in range(rng.randint(2, 3))) for _ in range(4)]


def _txt(path: Path, site: str, title: str, paragraphs: list[str]) -> None:
    lines = [site, title, *paragraphs, "Share this article", f"© 2026 {site}. All rights reserved."]
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")


def _html(path: Path, site: str, title: str, paragraphs: list[str]) -> None:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    path.write_text(
        f"<!doctype html><html><head><title>{title} | {site}</title>"
        f'<meta property="og:site_name" content="{site}"></head><body>'
        f'<header><a href="/">{site}</a><nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>'
        f"<article><h1>{title}</h1>\n{body}\n</article>"
        f"<footer><p>© 2026 {site}. All rights reserved.</p></footer></body></html>\n",
        encoding="utf-8",
    )


def _write_inputs(root: Path) -> tuple[Path, Path]:
    """Input A (the first run: 10 pages) and input B (the second: 8 HTML and 7 text pages,
    a near copy of a story of A, an exact copy of one of B, and a JSONL file with a bad line)."""
    a, b = root / "a", root / "b"
    a.mkdir()
    b.mkdir()
    for n in range(10):
        write = _html if n % 3 == 0 else _txt
        write(a / f"a{n:02d}.{'html' if n % 3 == 0 else 'txt'}", "The Dale Courier", *_story(n))
    for n in range(14):
        write, ext = (_html, "html") if n % 2 == 0 else (_txt, "txt")
        write(b / f"b{n:02d}.{ext}", "Northern Post", *_story(100 + n))
    title, paragraphs = _story(4)  # a story of A, one word changed, on another site
    _html(
        b / "b14-copy.html", "Northern Post", title, [paragraphs[0].replace(" ", " the ", 1), *paragraphs[1:]]
    )
    _txt(b / "b15-copy.txt", "Northern Post", *_story(101))  # the same as b01.txt
    records = [
        {"id": f"wire-{n}", "title": _story(200 + n)[0], "text": "\n".join(_story(200 + n)[1])}
        for n in range(2)
    ]
    lines = [json.dumps(r) for r in records] + ["{not json"]
    (b / "b16-wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return a, b


# -- runs --------------------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    log: str


def _cleaner(inputs: list[Path], out: Path, env: dict[str, str], log: Path) -> Run:
    """`cleaner run INPUTS --out OUT` in a session of its own; waits for it and for every
    process of its group to stop."""
    config = out.parent / "crash-test.toml"
    config.write_text(CONFIG, encoding="utf-8")
    args = [
        str(CLEANER),
        "run",
        *map(str, inputs),
        "--out",
        str(out),
        "--config",
        str(config),
        "--workers",
        "2",
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=out.parent,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        proc.wait(RUN_SECONDS)
        deadline = time.monotonic() + 30
        while group_alive(proc.pid):  # a killed run's workers and server: gone with it
            assert time.monotonic() < deadline, (
                f"processes of the run outlived it:\n{log.read_text()[-3000:]}"
            )
            time.sleep(0.1)
    finally:
        if proc.poll() is None or group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    return Run(proc.returncode, log.read_text(errors="replace"))


def _env(api_url: str | None, **crash: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANER_CRASH_")}
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if crash:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CRASHPOINTS), env.get("PYTHONPATH")]))
        env.update(crash)
    return env


def _finished(inputs: list[Path], out: Path, api_url: str, log: Path) -> None:
    run = _cleaner(inputs, out, _env(api_url), log)
    assert run.returncode == 0, run.log[-4000:]


# -- what a reader sees ------------------------------------------------------------------------


def _visible_files(out: Path) -> dict[str, str]:
    """sha256 of every file a reader may look at: none under a name starting with '.'."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


def _partitions(out: Path, name: str) -> dict[str, list[dict]]:
    """Run id -> rows of each partition of a dataset, as a `*/*.parquet` glob finds them,
    each file read on its own (a torn file would fail here)."""
    parts: dict[str, list[dict]] = {}
    for path in sorted((out / name).glob("*/*.parquet")):
        assert path.parent.name.startswith("run="), path
        rows = pq.read_table(path).to_pylist()
        parts.setdefault(path.parent.name.removeprefix("run="), []).extend(rows)
    return parts


def _dataset_rows(out: Path, name: str) -> list[dict]:
    """The whole dataset as pyarrow reads it (hidden files and folders ignored)."""
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()


def _key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=repr)


def _contents(out: Path, first_run: str) -> dict[str, list[str]]:
    """Every dataset's rows, the first run's tagged as such and every later run's alike, in
    a fixed order: what two corpora made of the same runs must share, whatever their ids."""
    contents = {}
    for name in writers.DATASETS + INDEX_DATASETS:
        rows = _dataset_rows(out, name)
        for row in rows:
            row["run"] = "first" if row["run"] == first_run else "later"
        contents[name] = sorted(map(_key, rows))
    contents["index/params.json"] = [(out / INDEX / "params.json").read_text()]
    return contents


@dataclass
class Reference:
    a: Path
    b: Path
    first: Path  # the corpus after the first run, on A
    first_run: str
    first_files: dict[str, str]
    out: Path  # after the second, on A and B, uninterrupted
    second_run: str
    second_partitions: dict[str, dict[str, list[dict]]]
    contents: dict[str, list[str]]


@pytest.fixture(scope="module")
def reference(prefect_server, tmp_path_factory) -> Reference:
    from prefect.settings import PREFECT_API_URL

    assert CLEANER.exists(), f"the cleaner command is not installed beside {sys.executable}"
    root = tmp_path_factory.mktemp("crash-reference")
    (root / "inputs").mkdir()
    a, b = _write_inputs(root / "inputs")
    api_url = PREFECT_API_URL.value()
    first, out = root / "first", root / "reference"
    _finished([a], first, api_url, root / "first.log")
    shutil.copytree(first, out)
    _finished([a, b], out, api_url, root / "second.log")
    first_run = json.loads((first / writers.MANIFEST).read_text())["run_id"]
    second_run = json.loads((out / writers.MANIFEST).read_text())["run_id"]
    second = {name: _partitions(out, name).get(second_run, []) for name in writers.DATASETS + INDEX_DATASETS}
    # The second run adds to every dataset, and finds what the corpus is meant to exercise.
    assert all(second.values()), {name: len(rows) for name, rows in second.items()}
    manifest = json.loads((out / writers.MANIFEST).read_text())
    assert manifest["stages"]["read"]["unchanged"] == 10
    assert manifest["stages"]["extract"]["html_pages"] == 8
    assert manifest["counts"]["rejects_by_reason"] == {"invalid_json": 1}, manifest["counts"]
    # a copy within B, and the edited copy of a story of A found through the index
    first_ids = {d["doc_id"] for d in _dataset_rows(first, "documents")}
    kinds = sorted((d["kind"], d["duplicate_of"] in first_ids) for d in second["duplicates"])
    assert kinds == [("exact", False), ("near", True)], kinds
    return Reference(
        a=a,
        b=b,
        first=first,
        first_run=first_run,
        first_files=_visible_files(first),
        out=out,
        second_run=second_run,
        second_partitions=second,
        contents=_contents(out, first_run),
    )


def _check_staging(staging: Path, crash: CrashPoint) -> None:
    spooled = len(list((staging / "spool").glob("part-*.docs.arrow")))
    partition = staging / "documents" / f"run={staging.name.removeprefix('.staging-')}"
    if crash.phase == "prepare":  # some batches' parts spooled, not all
        assert spooled < 6 and not partition.exists(), spooled
    elif crash.phase == "dedup":  # all spooled, nothing written
        assert spooled == 6 and not partition.exists()
    elif crash.phase == "write":  # the staged datasets opened, the run's manifest not written
        assert spooled == 6 and (partition / "part-00000.parquet").exists()
        assert not (staging / writers.MANIFEST).exists()
    elif crash.phase == "staged":
        assert not spooled and (partition / "part-00000.parquet").exists()
        assert (staging / writers.MANIFEST).exists()


# -- the crashes ------------------------------------------------------------------------------


@pytest.mark.parametrize("point", list(POINTS))
def test_a_run_killed_leaves_the_corpus_readable_and_a_rerun_completes_it(reference, tmp_path, point):
    from prefect.settings import PREFECT_API_URL

    crash = POINTS[point]
    out = tmp_path / "corpus"
    shutil.copytree(reference.first, out)  # the first run, finished
    marker = tmp_path / "crashed"
    settings = {"CLEANER_CRASH_AT": crash.target, "CLEANER_CRASH_CALL": str(crash.call)}
    settings |= {"CLEANER_CRASH_WHEN": crash.when, "CLEANER_CRASH_MARKER": str(marker)}
    if crash.within:
        settings["CLEANER_CRASH_WITHIN"] = crash.within
    api_url = PREFECT_API_URL.value()
    env = _env(None if crash.own_server else api_url, **settings)
    killed = _cleaner([reference.a, reference.b], out, env, tmp_path / "killed.log")

    # It died where it was meant to, by SIGKILL, and nothing of it is left running.
    assert killed.returncode == -signal.SIGKILL, killed.log[-4000:]
    fired = marker.read_text().splitlines()
    assert fired and all(line.startswith(f"{crash.target} call {crash.call} ") for line in fired), fired

    # The first run's files are untouched, its manifests included.
    files = _visible_files(out)
    assert {k: v for k, v in files.items() if k in reference.first_files} == reference.first_files
    # The killed run left its staging folder, with as much done as the kill point says.
    (staging,) = out.glob(".staging-*")
    killed_run = staging.name.removeprefix(".staging-")
    _check_staging(staging, crash)
    # What else a reader finds: partitions of the killed run, each whole, and only those
    # its journal had moved when it died, in the journal's order.
    visible = []
    for name in writers.DATASETS + INDEX_DATASETS:
        parts = _partitions(out, name)
        assert set(parts) <= {reference.first_run, killed_run}, (name, set(parts))
        # pyarrow reads the dataset: what the glob finds, nothing from hidden folders
        assert len(_dataset_rows(out, name)) == sum(map(len, parts.values())), name
        if killed_run in parts:
            visible.append(f"{name}/run={killed_run}")
            normalised = sorted(map(_key, parts[killed_run]))
            assert normalised == sorted(map(_key, reference.second_partitions[name])), name
    runs_file = f"{writers.RUNS}/{killed_run}.json"
    inputs_file = f"{writers.RUNS}/{killed_run}.inputs.parquet"  # a file the journal moves
    if inputs_file in files:
        visible.append(inputs_file)
    new_files = set(files) - set(reference.first_files) - {runs_file}
    assert {f if f == inputs_file else f.rsplit("/", 1)[0] for f in new_files} == set(visible)
    if crash.phase == "commit":
        moves = json.loads((out / ".commit.json").read_text())["moves"]
        moved = len(moves) if crash.moved == -1 else crash.moved
        assert sorted(visible) == sorted(moves[:moved]), (visible, moves)
    else:
        assert not (out / ".commit.json").exists() and not visible
    # The run's manifest is in runs/ only once all its partitions are (and then whole), so a
    # reader can tell a committed run by it; manifest.json is still the first run's.
    assert (runs_file in files) == crash.manifest_copied
    if crash.manifest_copied:
        assert json.loads((out / runs_file).read_text())["run_id"] == killed_run
        assert sorted(visible) == sorted(moves)

    # The same command again finishes the job.
    rerun = _cleaner([reference.a, reference.b], out, _env(api_url), tmp_path / "rerun.log")
    assert rerun.returncode == 0, rerun.log[-4000:]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert not list((out / writers.RUNS).glob(".*"))
    files = _visible_files(out)
    unchanged = {k: v for k, v in files.items() if k in reference.first_files and k != writers.MANIFEST}
    assert unchanged == {k: v for k, v in reference.first_files.items() if k != writers.MANIFEST}
    assert _contents(out, reference.first_run) == reference.contents
    runs = {p.stem: json.loads(p.read_text()) for p in (out / writers.RUNS).glob("*.json")}
    latest = json.loads((out / writers.MANIFEST).read_text())
    second = json.loads((reference.out / writers.MANIFEST).read_text())
    # the second run's data in one partition per dataset: the killed run's if it was rolled
    # forward (the rerun added nothing), else the rerun's
    second_run = killed_run if crash.phase == "commit" else latest["run_id"]
    for name in writers.DATASETS + INDEX_DATASETS:
        assert set(_partitions(out, name)) == {reference.first_run, second_run}, name
    if crash.phase == "commit":
        # The rerun rolled the killed run's commit forward, then found nothing left to read.
        assert set(runs) == {reference.first_run, killed_run, latest["run_id"]}
        assert runs[killed_run]["counts"] == second["counts"] and runs[killed_run]["rows"] == second["rows"]
        assert latest["stages"]["read"]["unchanged"] == 27 and latest["counts"]["documents"] == 0
    else:
        # The killed run's staging was discarded and the rerun did its work again.
        assert set(runs) == {reference.first_run, latest["run_id"]} and latest["run_id"] != killed_run
        assert latest["counts"] == second["counts"] and latest["rows"] == second["rows"]
