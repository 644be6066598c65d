"""`cleaner.run`, the library's whole run, without Prefect: the same corpus whichever
executor does the work, and its summary."""

from __future__ import annotations

import multiprocessing
import re

import pyarrow.dataset as ds
import pytest

import cleaner
from cleaner import runner
from cleaner.corpus import writers
from cleaner.errors import InputError, OutputError
from tests.conftest import EXAMPLES
from tests.growing_corpus import tables as tables_of
from tests.hostile_corpus import awkward_feed


def _rows(out, run_id):
    """Every dataset's rows, the run's id masked."""
    return {
        name: [
            {k: (v.replace(run_id, "RUN") if isinstance(v, str) else v) for k, v in row.items()}
            for row in ds.dataset(out / name, partitioning="hive").to_table().to_pylist()
        ]
        for name in writers.DATASETS
    }


def test_the_corpus_is_the_same_in_this_process_and_on_a_pool_of_workers(tmp_path, monkeypatch):
    config = {"run": {"batch_size": 4, "lsh_spread_min_rows": 50}}  # several batches, LSH on threads
    inline = cleaner.run([EXAMPLES / "pages"], tmp_path / "inline", config, executor=cleaner.InlineExecutor())
    workers_during_dedup = []
    dedup = runner.visit.deduplicate_sketch

    def watched(*args, **kwargs):
        workers_during_dedup.append(len(multiprocessing.active_children()))
        return dedup(*args, **kwargs)

    monkeypatch.setattr(runner.visit, "deduplicate_sketch", watched)
    with cleaner.LocalExecutor(2) as pool:
        pooled = cleaner.run([EXAMPLES / "pages"], tmp_path / "pool", config, executor=pool)
        again = cleaner.run([EXAMPLES / "pages"], tmp_path / "again", config, executor=pool)
    # the workers stop once the batches are done (the whole-corpus stages run here), and the
    # next run on the same executor starts them again
    assert workers_during_dedup == [0, 0]
    assert again.counts == pooled.counts and again.manifest["stages"]["prepare"]["batches"] > 1
    assert inline.counts == pooled.counts and inline.rows == pooled.rows
    assert inline.counts["duplicate_documents"] > 0 and inline.manifest["stages"]["prepare"]["batches"] > 1
    assert _rows(tmp_path / "inline", inline.run_id) == _rows(tmp_path / "pool", pooled.run_id)
    assert "prefect" not in inline.manifest  # labels only where an orchestrator gives them


def test_an_executor_of_ones_own_needs_only_what_the_readme_lists(tmp_path):
    """The README's contract for an executor of one's own, and nothing more: here a thread
    pool. It makes the corpus the bundled executors make."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    class Threads:
        remote = False

        def __init__(self):
            self.pool = ThreadPoolExecutor(2)
            self.released = 0

        def submit(self, fn, /, **kwargs):
            return self.pool.submit(fn, **kwargs)

        def as_completed(self, futures):
            return as_completed(futures)

        def call(self, fn, /, **kwargs):
            return fn(**kwargs)

        def release(self):
            self.released += 1

    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    for member in ("submit(fn", "as_completed(futures)", "call(fn", "release()", "`remote`"):
        assert member in readme
    config = {"run": {"batch_size": 4}}
    threads = Threads()
    ours = cleaner.run([EXAMPLES / "pages"], tmp_path / "ours", config, executor=threads)
    inline = cleaner.run([EXAMPLES / "pages"], tmp_path / "inline", config, executor=cleaner.InlineExecutor())
    threads.pool.shutdown()
    assert threads.released == 1 and ours.manifest["stages"]["prepare"]["batches"] > 1
    assert _rows(tmp_path / "ours", ours.run_id) == _rows(tmp_path / "inline", inline.run_id)


def test_the_summary_is_the_manifests_and_labels_are_recorded(tmp_path):
    summary = cleaner.run(
        [EXAMPLES / "pages"],
        tmp_path / "out",
        cleaner.Config(),
        executor=cleaner.InlineExecutor(),
        labels={"scheduler_run": "nightly-42"},
    )
    assert summary.as_dict() == {
        "run_id": summary.run_id,
        "out": str(tmp_path / "out"),
        "rows": summary.manifest["rows"],
        "counts": summary.manifest["counts"],
    }
    assert summary.manifest["scheduler_run"] == "nightly-42"
    assert summary.manifest["inputs"] == [(EXAMPLES / "pages").as_posix()]


@pytest.mark.parametrize("label", ["run_id", "config", "schema_version", "rows"])
def test_a_label_may_not_replace_a_field_of_the_manifest(tmp_path, label):
    """labels={"run_id": "airflow-42"} replaced the run's id in its manifest: the corpus was
    damaged beyond repair; {"config": "prod"} made `check` an unexpected error."""
    with pytest.raises(cleaner.ConfigError, match=f"^labels: '{label}' is a field the run's manifest has"):
        cleaner.run(
            [EXAMPLES / "pages"], tmp_path / "out", labels={label: "x"}, executor=cleaner.InlineExecutor()
        )
    assert not (tmp_path / "out").exists()


def test_one_path_is_one_path_not_its_letters(tmp_path):
    summary = cleaner.run(str(EXAMPLES / "pages"), tmp_path / "out", executor=cleaner.InlineExecutor())
    assert summary.manifest["inputs"] == [(EXAMPLES / "pages").as_posix()]


def test_no_input_is_an_error_unless_allowed_and_then_nothing_is_committed(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with pytest.raises(InputError, match="no input found under"):
        cleaner.run([inbox], tmp_path / "out", executor=cleaner.InlineExecutor())
    summary = cleaner.run([inbox], tmp_path / "out", executor=cleaner.InlineExecutor(), allow_empty=True)
    assert summary.run_id is None and summary.counts is None
    assert writers.committed_runs(tmp_path / "out") == set()


@pytest.mark.parametrize(
    ("paths", "out", "error", "says"),
    [
        ([], "out", InputError, "no input path given (an empty list)"),
        ([EXAMPLES], "", OutputError, "the output folder is an empty path"),
        ([EXAMPLES], "  ", OutputError, "the output folder is an empty path"),
    ],
)
def test_an_empty_list_of_paths_or_an_empty_out_is_an_error_not_a_default(
    tmp_path, monkeypatch, paths, out, error, says
):
    """A deployment's templated parameters: `paths: []` cleaned the bundled examples into the
    real corpus, and `out: ""` wrote the corpus into the worker's folder (the checkout)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=re.escape(says)):
        cleaner.run(paths, out, allow_empty=True, executor=cleaner.InlineExecutor())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("split_bytes", [1, 700])
def test_a_jsonl_file_read_in_ranges_makes_the_corpus_it_makes_read_whole(tmp_path, split_bytes):
    """Same documents, ids, sources and order, same rejects, index and counts: only the
    number of batches differs."""
    inbox = tmp_path / "inbox"
    (inbox / "a.txt").parent.mkdir()
    (inbox / "a.txt").write_text(
        "Storm warning\n\nThe ferry will not sail on Friday, the harbour master said.\n"
    )
    awkward_feed(inbox / "b-feed.jsonl", 2000)
    (inbox / "c.txt").write_text(
        "Ferry news\n\nThe night crossing runs again from Monday, the operator said.\n"
    )
    made = {}
    for name, run in (("whole", {}), ("ranges", {"split_bytes": split_bytes})):
        config = {"read": {"max_record_bytes": 2000}, "run": {"batch_size": 2, **run}}
        made[name] = cleaner.run([inbox], tmp_path / name, config, executor=cleaner.InlineExecutor())
    whole, ranges = made["whole"], made["ranges"]
    assert whole.manifest["stages"]["prepare"]["batches"] == 2
    assert ranges.manifest["stages"]["prepare"]["batches"] > 10
    assert whole.counts == ranges.counts and whole.counts["duplicate_documents"] > 0
    assert whole.counts["rejects"] >= 10 and whole.manifest["stages"]["learned_boilerplate"]["lines"] > 0
    stages = [
        {k: {n: v for n, v in stage.items() if n != "seconds"} for k, stage in m.manifest["stages"].items()}
        for m in (whole, ranges)
    ]
    del stages[0]["prepare"]["batches"], stages[1]["prepare"]["batches"]
    assert stages[0] == stages[1]
    tables = [_masked(tables_of(tmp_path / name), made[name].run_id) for name in made]
    assert tables[0] == tables[1] and all(tables[0].values())


def _masked(tables, run_id):
    return {
        name: [
            {k: (v.replace(run_id, "RUN") if isinstance(v, str) else v) for k, v in row.items()}
            for row in rows
        ]
        for name, rows in tables.items()
    }


def test_a_file_whose_ranges_cannot_be_read_is_not_remembered_as_read(tmp_path, monkeypatch):
    """Its Seen is made before its ranges are read: kept, the next run would skip the file."""
    from cleaner.io import readers

    feed = awkward_feed(tmp_path / "inbox" / "feed.jsonl", 2000)
    split = readers.split_jsonl

    def split_then_lose(f, rank, size, limit):
        made = split(f, rank, size, limit)
        feed.unlink()
        return made

    monkeypatch.setattr(readers, "split_jsonl", split_then_lose)
    config = {"run": {"split_bytes": 5000}}
    summary = cleaner.run([tmp_path / "inbox"], tmp_path / "out", config, executor=cleaner.InlineExecutor())
    assert summary.manifest["stages"]["prepare"]["batches"] > 1
    assert (summary.counts["documents"], summary.counts["rejects"]) == (0, 1)  # once, as read whole
    inputs = tables_of(tmp_path / "out")["index/inputs"]
    assert [row["size"] for row in inputs] == [-1]  # rejected unread: looked at again next run


class _EightWorkers(cleaner.InlineExecutor):
    workers = 8  # as a cluster of eight would: the run makes its batches a multiple of 8


def test_workers_are_no_more_than_the_batches_the_inputs_make(tmp_path, monkeypatch):
    from cleaner.runner import workers_for

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    config = cleaner.Config.from_dict({"run": {"batch_size": 4, "split_bytes": 1000}})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "day.jsonl").write_text('{"text": "A line."}\n' * 200)  # 4,000 bytes: 4 ranges
    assert workers_for([inbox], tmp_path / "out", config) == 4
    made = cleaner.run([inbox], tmp_path / "out-1", config, executor=_EightWorkers())
    assert made.manifest["stages"]["prepare"]["batches"] == 4
    (inbox / "day.jsonl").write_text('{"text": "A line."}\n' * 10)  # 200 bytes: one batch
    assert workers_for([inbox], tmp_path / "out", config) == 1
    assert workers_for([inbox / "day.jsonl"], tmp_path / "out", config) == 1
    for i in range(8):  # 9 files, at most 4 a batch: 3 batches, made 8 for 8 workers
        (inbox / f"page-{i}.txt").write_text("A page.\n")
    assert workers_for([inbox], tmp_path / "out", config) == 8
    made = cleaner.run([inbox], tmp_path / "out-2", config, executor=_EightWorkers())
    assert made.manifest["stages"]["prepare"]["batches"] == 8
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert workers_for([inbox], tmp_path / "out", config) == 2  # never more than the cores
    assert workers_for([inbox], tmp_path / "out", config, most=5) == 5  # or than asked for
    assert workers_for([inbox / "day.jsonl"], tmp_path / "out", config, most=100_000) == 1  # or the batches


def test_counting_workers_stops_walking_at_as_many_files_as_cores(tmp_path, monkeypatch):
    """As many files as cores make a batch a core at least: counting the workers walks no
    further, and still says at once that an input is missing."""
    from cleaner.io import readers
    from cleaner.runner import workers_for

    monkeypatch.setattr("os.cpu_count", lambda: 3)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(40):
        (inbox / f"page-{i:02}.txt").write_text("A page.\n")
    found = []
    add = readers._add
    monkeypatch.setattr(readers, "_add", lambda files, *rest: (found.append(rest[0]), add(files, *rest)))
    assert workers_for([inbox], tmp_path / "out", cleaner.Config()) == 3
    assert len(found) == 3
    with pytest.raises(InputError, match="does not exist"):
        workers_for([inbox, tmp_path / "missing"], tmp_path / "out", cleaner.Config())


def test_batch_groups_are_in_order_a_multiple_of_the_cores_and_of_about_one_weight():
    import random

    from cleaner.runner import batch_groups

    rng = random.Random(7)
    for _ in range(3000):
        cores = rng.randint(1, 16)
        files = rng.randint(0, 400)
        weights = [rng.choice((8_192, 20_000, 200_000, 5_000_000)) for _ in range(files)]
        batch_size, batch_bytes = (
            rng.choice((1, 2, 3, 7, 256, 4096)),
            rng.choice((50_000, 1_000_000, 32_000_000)),
        )
        groups = batch_groups(weights, batch_size, batch_bytes, cores)
        batches = len(set(groups))
        case = (cores, files, batch_size, batch_bytes, batches)
        # contiguous, in input order, none empty: 0, 0, 1, 2, 2, ... up to batches - 1
        assert groups == sorted(groups) and set(groups) == set(range(batches)), case
        wanted = max(-(-files // batch_size), -(-sum(weights) // batch_bytes), 1)  # at most so much each
        assert min(files, wanted) <= batches < wanted + cores, case
        assert batches >= min(files, cores), case  # a batch for every core
        assert batches % cores == 0 or batches == files, case  # none idles while another works
        share = sum(weights) / max(batches, 1)
        for g in range(batches):  # none much over its share: at most one file more
            assert sum(w for w, x in zip(weights, groups, strict=True) if x == g) <= share + max(weights), (
                case
            )


def test_batches_split_the_weight_of_the_files_evenly():
    from cleaner.runner import batch_groups

    def sizes(groups):
        return [groups.count(g) for g in range(max(groups) + 1)]

    # 711 pages in 256s were 3 batches on 2 cores, one worker doing two: now 4 of one weight
    assert sizes(batch_groups([189_000] * 711, 256, 10**12, cores=2)) == [178, 178, 178, 177]
    # 10,000 pages of 5 KB (13 KB with a page's fixed cost), 32 MB a batch: 6, not 40 of 256
    made = sizes(batch_groups([13_192] * 10_000, 4096, 32_000_000, cores=2))
    assert made == [1667, 1667, 1666, 1667, 1667, 1666]
    # one large file and three small ones: a batch for the large one, one for the rest
    assert batch_groups([100_000_000, 9_000, 9_000, 9_000], 4096, 10**9, cores=2) == [0, 1, 1, 1]
    assert batch_groups([9_000, 100_000_000, 9_000, 9_000], 4096, 10**9, cores=2) == [0, 0, 1, 1]
    assert batch_groups([9_000, 100_000_000, 9_000, 9_000], 4096, 32_000_000, cores=2) == [0, 1, 2, 3]
    assert batch_groups([1], 256, 32_000_000, cores=8) == [0] and batch_groups([], 256, 1, cores=8) == []


def test_a_file_weighs_its_bytes_to_read_more_when_compressed(tmp_path):
    from cleaner.io.records import InputFile, Resume
    from cleaner.runner import COMPRESSION, FILE_BYTES, file_weight

    page, packed = tmp_path / "a.html", tmp_path / "b.jsonl.gz"
    page.write_bytes(b"x" * 5000)
    packed.write_bytes(b"y" * 1000)
    assert file_weight(InputFile("a.html", "a.html", page)) == FILE_BYTES + 5000  # its size found
    assert file_weight(InputFile("a.html", "a.html", page, size=7000)) == FILE_BYTES + 7000  # as discovered
    assert file_weight(InputFile("b", "b", packed, size=1000)) == FILE_BYTES + COMPRESSION * 1000
    grown = InputFile("a.html", "a.html", page, size=5000, resume=Resume(4000, "", 10, 0))
    assert file_weight(grown) == FILE_BYTES + 1000  # only what is left to read
    assert file_weight(InputFile("gone", "gone", tmp_path / "gone.txt")) == FILE_BYTES  # reading says why


def test_lsh_finds_the_same_duplicates_in_one_piece_on_threads_and_as_a_clusters_tasks(tmp_path):
    """A local run sorts the LSH bands on threads; a cluster (`remote`) gets them as tasks,
    each carrying the signatures' file names. Both find what one pass over all bands finds."""
    import pickle

    import numpy as np

    from cleaner import pipeline
    from cleaner.config import Config
    from cleaner.dedup import lsh
    from cleaner.io import readers

    class Cluster(cleaner.InlineExecutor):  # runs its tasks here, but says they go elsewhere
        remote = True

        def __init__(self):
            self.sent = []

        def submit(self, fn, /, **kwargs):
            self.sent.append((fn, len(pickle.dumps(kwargs["values"]))))
            return super().submit(fn, **kwargs)

    files, _ = readers.discover([EXAMPLES / "pages"])
    spool = tmp_path / "spool"
    config = Config.from_dict({"run": {"batch_records": 5}})  # several parts, a file each
    results = [pipeline.prepare_batch(0, list(enumerate(files)), config, str(spool))]
    verdicts = {}
    cluster = Cluster()
    for name, spread_from, executor in (
        ("one piece", 10**9, cleaner.InlineExecutor()),
        ("threads", 0, cleaner.InlineExecutor()),
        ("cluster", 0, cluster),
    ):
        sketch, parts = pipeline.join(results, spool)
        assert len(parts) > 3
        run_config = Config.from_dict({"run": {"lsh_spread_min_rows": spread_from}})
        texts = pipeline.spool_texts(spool, sketch, parts)
        stats = runner.dedup_stage(sketch, run_config, None, texts, executor, tmp_path / name)
        verdicts[name] = (stats.as_dict()["near_passages"], sketch.status, sketch.dup_doc, sketch.similarity)
    assert verdicts["one piece"][0] > 0  # the examples hold near copies
    for name in ("threads", "cluster"):
        assert verdicts[name][0] == verdicts["one piece"][0]
        for ours, theirs in zip(verdicts[name][1:], verdicts["one piece"][1:], strict=True):
            np.testing.assert_array_equal(ours, theirs)
    # the cluster got the band groups as tasks, each carrying file names, not signatures
    assert [fn for fn, _ in cluster.sent] == [lsh.band_group_pairs] * run_config.run.lsh_tasks
    assert all(size < 4000 for _, size in cluster.sent)


def test_a_stop_during_the_warm_up_stops_it_whatever_wrapped_it(monkeypatch, caplog):
    """pydantic turns a Ctrl-C raised inside its serializer (Prefect's settings, imported
    while warming up) into an error of its own: the warm-up took it for a failure, logged
    its traceback, and the command went on to wait out its grace."""
    import signal

    from cleaner import runner
    from cleaner.interrupt import Interrupted

    def interrupted_inside_a_library():
        try:
            raise Interrupted(signal.SIGINT)
        except Interrupted as stop:
            raise ValueError("Error calling function `_ser_model`: Interrupted: stopped by SIGINT") from stop

    monkeypatch.setattr(runner.language, "warm_up", interrupted_inside_a_library)
    with pytest.raises(Interrupted):
        runner.warm_up()

    def failed():
        raise ValueError("a real failure")

    monkeypatch.setattr(runner.language, "warm_up", failed)
    runner.warm_up()  # logged, not raised: the first task reports it
    assert "warming up failed" in caplog.text


def test_a_stop_during_the_warm_up_stops_it_when_the_library_lost_its_cause(monkeypatch):
    """What Prefect's settings raise when Ctrl-C comes inside their serializer: pydantic's
    own error, with no cause to find the stop by."""
    import os
    import signal
    import time

    from cleaner import runner
    from cleaner.interrupt import Interrupted, stop_signals

    def interrupted_and_replaced():
        stopped = False
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except Interrupted:
            stopped = True
        if stopped:  # an error with no cause nor context, as pydantic's
            raise ValueError("Error calling function `_ser_model`: Interrupted: stopped by SIGINT")

    monkeypatch.setattr(runner.language, "warm_up", interrupted_and_replaced)
    with stop_signals(lambda signum: None, grace=60), pytest.raises(Interrupted):
        runner.warm_up()
