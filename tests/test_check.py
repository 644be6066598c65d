"""`cleaner check`: a corpus grown run by run, damaged on disk, is found damaged, refused by
a run, and repaired where the corpus holds enough to rebuild the damaged part."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleaner.config import DedupConfig, RewriteConfig
from cleaner.corpus import check, index, writers
from cleaner.dedup.sketch import Sketch
from cleaner.errors import OutputError
from cleaner_flows.cli import main
from tests.growing_corpus import STORIES, commit_run, documents, grown, in_earlier_layout, tables

RUNS = ["20260301T000000Z-aaaaaaaa", "20260302T000000Z-bbbbbbbb", "20260303T000000Z-cccccccc"]


@pytest.fixture
def corpus(tmp_path):
    out = tmp_path / "corpus"
    grown(out)
    return out


def _whats(out, deep=True):
    return [p.what for p in check.problems(out, deep=deep)]


def _refused(out) -> str:
    with pytest.raises(OutputError) as refused:
        check.refuse_damaged(out)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_healthy_corpus_passes_every_check(corpus, capsys):
    assert check.problems(corpus, deep=True) == []
    assert check.summary(corpus) == "3 runs, 4 documents, 15 passages, 1 duplicates, 0 rejects"
    check.refuse_damaged(corpus)
    assert main(["check", str(corpus)]) == 0
    assert capsys.readouterr().out == f"{corpus}: healthy: {check.summary(corpus)}\n"


def test_no_corpus_yet_is_no_damage(tmp_path):
    assert check.problems(tmp_path / "new") == [] and check.problems(tmp_path) == []
    assert main(["check", str(tmp_path)]) == 2


@pytest.mark.parametrize("alone", [False, True])
def test_a_parquet_file_outside_the_partitions_is_damage_as_a_run_finds_it(corpus, tmp_path, alone, capsys):
    """A run refused the folder (a corpus of schema version 1) while `check` called it healthy;
    read as a dataset, its rows joined the runs'."""
    out = tmp_path / "bare" if alone else corpus
    (out / "documents").mkdir(parents=True, exist_ok=True)
    pq.write_table(writers.DOCUMENTS_SCHEMA.empty_table(), out / "documents" / "part-00000.parquet")
    (what,) = _whats(out)
    assert what.startswith("documents/part-00000.parquet lies outside every run's partition (1 such file)")
    assert main(["check", str(out)]) == 1 and "1 problem" in capsys.readouterr().out
    with pytest.raises(OutputError, match="schema version 1"), writers.open_run(out, writers.new_run_id()):
        pass


def test_a_deleted_index_is_refused_and_rebuilt_row_for_row(corpus):
    before = tables(corpus)
    params = (corpus / "index" / "params.json").read_text()
    shutil.rmtree(corpus / "index")
    assert _whats(corpus) == [
        "index/ is missing: a run would read the inputs read before again and miss every duplicate of "
        "the corpus's documents"
    ]
    assert "run `cleaner check" in _refused(corpus) and "--repair" in _refused(corpus)
    done = check.repair(corpus)
    assert (
        "index/documents and index/passages rebuilt from documents/ and passages/ (4 documents, 8 passages)"
        in done
    )
    assert check.problems(corpus, deep=True) == []
    assert tables(corpus) == before  # band keys, numbers and inputs: the rows the runs wrote
    assert (corpus / "index" / "params.json").read_text() == params


def test_after_the_repair_a_run_deduplicates_against_the_old_documents_as_before(tmp_path):
    intact, damaged = tmp_path / "intact", tmp_path / "damaged"
    grown(intact)
    shutil.copytree(intact, damaged)
    shutil.rmtree(damaged / "index")
    check.repair(damaged)
    copy = [STORIES[1][0].replace("June", "July"), STORIES[1][1]]
    for out in (intact, damaged):
        commit_run(out, "20260304T000000Z-dddddddd", documents([copy], "d", rank=30))
    new = [
        tables(out, ("documents", "passages", "duplicates", "index/passages")) for out in (intact, damaged)
    ]
    assert new[0] == new[1]
    (dup,) = [d for d in new[1]["duplicates"] if d["doc_id"] == "d0"]
    assert dup["duplicate_of"] == "a1"


def test_deleted_params_are_refused_and_written_from_the_runs_configuration(corpus):
    params = json.loads((corpus / "index" / "params.json").read_text())
    (corpus / "index" / "params.json").unlink()
    assert _whats(corpus) == ["index/params.json is missing: a run would take any MinHash settings"]
    _refused(corpus)
    with pytest.raises(OutputError):  # the damage a run would otherwise build on: any settings taken
        check.refuse_damaged(corpus)
    assert check.repair(corpus) == ["index/params.json written from the runs' recorded configuration"]
    assert json.loads((corpus / "index" / "params.json").read_text()) == params
    with pytest.raises(OutputError, match="num_perm 128 -> 64"):
        index.Index(corpus, DedupConfig(num_perm=64, bands=21))


@pytest.mark.parametrize("dataset", ["documents", "passages"])
def test_a_deleted_partition_cannot_be_repaired_and_is_refused_with_the_way_out(corpus, dataset, capsys):
    shutil.rmtree(corpus / dataset / f"run={RUNS[1]}")
    rows = {"documents": 1, "passages": 6}[dataset]
    assert _whats(corpus, deep=False) == [
        f"{dataset}/run={RUNS[1]}/ is missing: run {RUNS[1]} wrote {rows} rows there"
    ]
    message = _refused(corpus)
    assert "--reprocess" in message and "new --out" in message and "backup" in message
    check.repair(corpus)
    assert _whats(corpus, deep=False)  # still there: nothing can make up the lost rows
    assert main(["check", str(corpus)]) == 1
    printed = capsys.readouterr().out
    assert f"- {dataset}/run={RUNS[1]}/ is missing" in printed and "(cannot be repaired)" in printed


@pytest.mark.parametrize(
    "dataset", ["documents", "passages", "duplicates", "index/documents", "index/passages"]
)
def test_a_partition_folder_left_empty_is_said_not_an_unexpected_error(corpus, dataset, capsys):
    # The run= folder stays, its file gone: the deep check read the empty folder as a table
    # without columns and stopped with an Arrow error, where run and report sent the user.
    folder = corpus / dataset / f"run={RUNS[1]}"
    for path in folder.glob("*.parquet"):
        path.unlink()
    assert f"{dataset}/run={RUNS[1]}/ holds 0 rows" in " ".join(_whats(corpus, deep=True))
    assert main(["check", str(corpus)]) == 1
    printed = capsys.readouterr()
    assert f"- {dataset}/run={RUNS[1]}/ holds 0 rows" in printed.out and "unexpected" not in printed.err


def _index_files(out) -> dict:
    return {
        str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "index").rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("dataset", ["documents", "passages"])
def test_the_index_of_a_run_whose_data_is_lost_is_left_alone_until_the_data_is_restored(
    corpus, dataset, tmp_path
):
    """The index is the only record left of what the lost partition held: the deep check
    does not count it as damage of its own, and a repair neither drops it nor numbers the
    later runs' documents anew (it did both, then offered the same repair forever)."""
    before, index_before = tables(corpus), _index_files(corpus)
    backup = tmp_path / "backup"
    shutil.copytree(corpus / dataset / f"run={RUNS[1]}", backup)
    shutil.rmtree(corpus / dataset / f"run={RUNS[1]}")
    found = check.problems(corpus, deep=True)
    assert [p.what for p in found] == [
        f"{dataset}/run={RUNS[1]}/ is missing: run {RUNS[1]} wrote "
        f"{ {'documents': 1, 'passages': 6}[dataset] } rows there"
    ]
    assert found[0].fix is None
    assert check.repair(corpus) == []
    assert _index_files(corpus) == index_before and check.problems(corpus, deep=True) == found
    shutil.copytree(backup, corpus / dataset / f"run={RUNS[1]}")  # restored from a backup
    assert check.problems(corpus, deep=True) == [] and tables(corpus) == before


def test_a_damaged_index_beside_lost_data_waits_for_the_data(corpus, tmp_path):
    backup = tmp_path / "backup"
    shutil.copytree(corpus / "documents" / f"run={RUNS[1]}", backup)
    shutil.rmtree(corpus / "documents" / f"run={RUNS[1]}")
    path = corpus / "index" / "passages" / f"run={RUNS[2]}" / "part-00000.parquet"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    index_before = _index_files(corpus)
    lost, damaged = check.problems(corpus)
    assert lost.what.startswith(f"documents/run={RUNS[1]}/ is missing") and lost.fix is None
    assert f"index/passages/run={RUNS[2]}" in damaged.what and damaged.fix is None
    assert damaged.what.endswith(
        f"; --repair rebuilds the index once the lost partitions of run {RUNS[1]} are restored"
    )
    check.repair(corpus)
    assert _index_files(corpus) == index_before
    shutil.copytree(backup, corpus / "documents" / f"run={RUNS[1]}")
    (damaged,) = check.problems(corpus)
    assert damaged.fix == "rebuilt from documents/ and passages/"
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == []


def test_a_truncated_file_is_found_by_its_footer(corpus):
    path = corpus / "passages" / f"run={RUNS[0]}" / "part-00000.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    (problem,) = check.problems(corpus)
    assert problem.what.startswith(f"passages/run={RUNS[0]}/part-00000.parquet cannot be read (")
    assert problem.what.endswith("): truncated or damaged") and problem.fix is None
    assert check.problems(corpus, deep=True) == [problem]  # said once, not again as damaged data
    _refused(corpus)


def test_a_truncated_index_file_is_rebuilt(corpus):
    before = tables(corpus)
    path = corpus / "index" / "passages" / f"run={RUNS[1]}" / "part-00000.parquet"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    (problem,) = check.problems(corpus)
    assert "index/passages/run=" in problem.what and problem.fix
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == [] and tables(corpus) == before


def test_a_garbage_manifest_is_refused_in_plain_words_and_restored(corpus):
    latest = (corpus / "manifest.json").read_text()
    (corpus / "manifest.json").write_bytes(b"\xff\xfe\x00garbage\x80")
    assert _whats(corpus) == ["manifest.json cannot be read: it is not text"]
    opening = writers.open_run(corpus, "20260304T000000Z-dddddddd")  # as a run does
    with pytest.raises(OutputError, match=r"manifest.json cannot be read .*cleaner check .* --repair"):
        opening.__enter__()  # a one-line error, not a UnicodeDecodeError
    assert check.repair(corpus) == [f"manifest.json copied from runs/{RUNS[2]}.json"]
    assert json.loads((corpus / "manifest.json").read_text()) == json.loads(latest)
    assert check.problems(corpus, deep=True) == []


def test_deleted_runs_are_refused_and_rebuilt_from_the_manifest_and_the_partitions(corpus):
    latest = json.loads((corpus / "manifest.json").read_text())
    shutil.rmtree(corpus / "runs")
    assert _whats(corpus) == ["runs/ is missing: no run's record is left"]
    _refused(corpus)
    done = check.repair(corpus)
    assert done[0] == f"runs/{RUNS[2]}.json copied from manifest.json"
    assert f"runs/{RUNS[0]}.json rebuilt from its partitions (its configuration is lost)" in done
    assert check.problems(corpus, deep=True) == []
    assert json.loads((corpus / "runs" / f"{RUNS[2]}.json").read_text()) == latest
    rebuilt = json.loads((corpus / "runs" / f"{RUNS[0]}.json").read_text())
    assert rebuilt["rows"] == {"documents": 2, "passages": 6, "duplicates": 0, "rejects": 0}
    assert rebuilt["reconstructed"] and rebuilt["index"] == {"first_doc": 0}
    assert sorted(p.name for p in (corpus / "runs").iterdir()) == sorted(
        f"{r}{suffix}" for r in RUNS for suffix in (".json", ".inputs.parquet")
    )
    # what the command says the corpus holds counts the rebuilt records' rows too
    assert writers.corpus_totals(corpus) == {
        "documents": 4,
        "duplicate_documents": 1,
        "rejects": 0,
        "runs": 3,
    }


@pytest.mark.parametrize("damage", ["garbled", "deleted"])
def test_a_lost_run_record_is_not_taken_for_lost_documents(corpus, damage):
    """With the record of the run that holds the originals unreadable, the deep check read
    only the recorded runs' documents: the duplicate and the passages pointing at them were
    "no document of documents/ (cannot be repaired)", and the command said data was lost,
    while --repair rebuilt the record and all was well."""
    record = corpus / "runs" / f"{RUNS[0]}.json"
    if damage == "garbled":
        record.write_bytes(b"\x00garbage")
    else:
        record.unlink()
    whats = _whats(corpus)
    assert whats and all(f"runs/{RUNS[0]}.json" in w or f"run {RUNS[0]}" in w for w in whats), whats
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == []


def test_another_corpuss_manifest_is_damage_repaired_from_the_runs(corpus, tmp_path):
    """A manifest.json copied from another corpus names a run this one holds nothing of. A
    repair took it for a lost record: it recorded the run, then found all its rows missing,
    past repairing."""
    other = tmp_path / "other"
    commit_run(other, "20270101T000000Z-eeeeeeee", documents([STORIES[0]], "e"))
    latest = (corpus / "manifest.json").read_text()
    shutil.copy(other / "manifest.json", corpus / "manifest.json")
    (problem,) = check.problems(corpus)
    assert problem.what.startswith("manifest.json names run 20270101T000000Z-eeeeeeee, which wrote rows")
    assert problem.fix == "copied from the latest of runs/"
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == [] and (corpus / "manifest.json").read_text() == latest
    assert not (corpus / "runs" / "20270101T000000Z-eeeeeeee.json").exists()


def test_a_passages_partition_lost_with_its_runs_record_is_not_blessed_by_the_repair(corpus):
    """The record rebuilt from the partitions left said the run wrote no passages, and the
    check then called the corpus healthy: its documents' passages are counted instead."""
    (corpus / "runs" / f"{RUNS[0]}.json").unlink()
    shutil.rmtree(corpus / "passages" / f"run={RUNS[0]}")
    check.repair(corpus)
    rebuilt = json.loads((corpus / "runs" / f"{RUNS[0]}.json").read_text())
    assert rebuilt["rows"]["passages"] == 6  # its two documents' three lines each, chrome included
    assert f"passages/run={RUNS[0]}/ is missing: run {RUNS[0]} wrote 6 rows there" in _whats(corpus)


def test_a_lost_copy_of_the_inputs_read_is_restored_from_the_other(corpus):
    sidecar = corpus / "runs" / f"{RUNS[0]}.inputs.parquet"
    inputs = pq.read_table(sidecar)
    sidecar.unlink()
    shutil.rmtree(corpus / "index" / "inputs" / f"run={RUNS[1]}")
    assert len(check.problems(corpus)) == 2
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == []
    assert pq.read_table(sidecar).equals(inputs)


def test_inputs_lost_from_both_places_are_recorded_as_lost(corpus):
    (corpus / "runs" / f"{RUNS[0]}.inputs.parquet").unlink()
    shutil.rmtree(corpus / "index" / "inputs" / f"run={RUNS[0]}")
    problems = check.problems(corpus)
    assert len(problems) == 2 and all(p.fix.startswith("recorded as lost") for p in problems)
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == []
    record = json.loads((corpus / "runs" / f"{RUNS[0]}.json").read_text())
    assert record["index"]["inputs"] == 0 and record["index"]["inputs_lost"] is True
    with pytest.raises(OutputError, match="--reprocess cannot tell"):
        check.earlier_inputs(corpus)


def test_reprocess_knows_the_inputs_of_runs_whose_records_are_lost(corpus):
    inputs = check.earlier_inputs(corpus)
    assert sorted(r["path"] for r in inputs) == [f"/data/in/{d}.txt" for d in ("a0", "a1", "b0", "b1", "c0")]
    shutil.rmtree(corpus / "runs")
    assert check.earlier_runs(corpus) == RUNS and check.earlier_inputs(corpus) == inputs
    shutil.rmtree(corpus / "index" / "inputs" / f"run={RUNS[0]}")
    with pytest.raises(OutputError, match=f"which inputs run {RUNS[0]} .* is lost"):
        check.earlier_inputs(corpus)


def test_ids_written_twice_are_found_by_the_deep_check(corpus):
    # What a run on a corpus without its index did: its documents again, under the same ids.
    shutil.rmtree(corpus / "index")
    commit_run(corpus, "20260304T000000Z-dddddddd", documents(STORIES[:2], "a"))
    whats = _whats(corpus)
    assert any(
        w.startswith("2 doc_ids are in documents/ more than once (e.g. a0, first in run") for w in whats
    )


def test_duplicates_pointing_at_no_document_are_found_by_the_deep_check(corpus):
    shutil.rmtree(corpus / "documents" / f"run={RUNS[0]}")
    whats = _whats(corpus)
    assert "1 rows of duplicates/ have a duplicate_of that is no document of documents/ (e.g. a0)" in whats
    assert any("passages/ have a duplicate_of_doc that is no document" in w for w in whats)


def test_an_interrupted_commit_is_reported_and_finished(corpus, monkeypatch):
    real_rename = type(corpus).rename

    class Killed(BaseException):
        pass

    def rename(self, target):
        if ".staging-" in str(self) and "passages" in str(self):
            raise Killed()
        return real_rename(self, target)

    monkeypatch.setattr(type(corpus), "rename", rename)
    with pytest.raises(Killed):
        commit_run(corpus, "20260304T000000Z-dddddddd", documents([STORIES[3]], "d", rank=30))
    monkeypatch.undo()
    assert _whats(corpus) == [  # only: what looks missing meanwhile is in the staging folder
        "the commit of run 20260304T000000Z-dddddddd was interrupted (.commit.json is left)"
    ]
    assert check.repair(corpus) == ["finished the interrupted commit from its journal"]
    assert check.problems(corpus, deep=True) == []


def test_a_garbage_journal_is_damage_with_the_way_out_not_an_unexpected_error(corpus, capsys):
    (corpus / ".commit.json").write_text("garbage{")
    (problem,) = check.problems(corpus)
    assert problem.what.startswith(f"{corpus / '.commit.json'} cannot be read: the commit it records")
    assert problem.fix is None and "move it away" in problem.what
    for command in (["check", str(corpus), "--repair"], ["report", str(corpus)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith("cleaner: error: ")
            and ".commit.json cannot be read" in err
            and err.count("\n") == 1
        )
    (corpus / ".commit.json").unlink()  # moved away, as said
    assert check.problems(corpus, deep=True) == []


def test_the_command_repairs_then_checks(corpus, capsys):
    shutil.rmtree(corpus / "index")
    assert main(["check", str(corpus)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith(f"{corpus}: 1 problem\n- index/ is missing")
    assert f"`cleaner check {corpus} --repair` repairs what can be repaired" in printed
    assert main(["check", str(corpus), "--repair"]) == 0
    printed = capsys.readouterr().out
    assert "repaired: index/documents and index/passages rebuilt" in printed
    assert printed.endswith(f"{corpus}: healthy: {check.summary(corpus)}\n")


def _run_before_prefect(corpus, tmp_path, monkeypatch) -> int:
    """`cleaner run` of a one-page inbox into the corpus; the test fails if Prefect starts."""
    import cleaner_flows.server

    def started(*args, **kwargs):
        raise AssertionError("Prefect started on a corpus the run should refuse")

    monkeypatch.setattr(cleaner_flows.server, "start_prefect_api", started)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("A page.\n")
    return main(["run", str(inbox), "--out", str(corpus)])


def test_a_run_refuses_a_damaged_corpus_before_prefect_starts(corpus, tmp_path, capsys, monkeypatch):
    shutil.rmtree(corpus / "index")
    assert _run_before_prefect(corpus, tmp_path, monkeypatch) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"cleaner: error: the corpus in {corpus} is damaged: index/ is missing")
        and err.count("\n") == 1
    )
    assert not list(corpus.glob(".staging-*"))


def test_a_changed_setting_is_named(corpus):
    config = json.loads((corpus / "manifest.json").read_text())["config"]
    assert check.settings_changed(corpus, config) == []
    config["clean"]["learned_min_docs"] = 4
    config["dedup"]["threshold"] = 0.6
    config["run"]["batch_size"] = 8  # changes nothing written
    assert check.settings_changed(corpus, config) == [
        "clean.learned_min_docs 3 -> 4",
        "dedup.threshold 0.5 -> 0.6",
    ]
    assert check.settings_changed(corpus.parent / "none", config) == []


def test_report_and_inspect_name_the_check_for_a_damaged_record(corpus, capsys):
    (corpus / "runs" / f"{RUNS[1]}.json").write_bytes(b"\x00\xff")
    assert main(["report", str(corpus)]) == 2
    assert f"`cleaner check {corpus} --repair`" in capsys.readouterr().err
    assert main(["inspect", str(corpus), "--doc", "a0"]) == 2
    assert f"is damaged: runs/{RUNS[1]}.json cannot be read" in capsys.readouterr().err
    assert _whats(corpus) == [f"runs/{RUNS[1]}.json cannot be read: it is not text"]
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == [] and main(["report", str(corpus)]) == 0


def test_an_index_in_an_earlier_layout_is_refused_with_the_way_out_and_rebuilt(
    corpus, tmp_path, capsys, monkeypatch
):
    before = tables(corpus)
    in_earlier_layout(corpus)  # a signature and 64-bit band keys per passage
    assert tables(corpus) != before
    assert _whats(corpus) == [
        "index/passages/ is in the layout of an earlier cleaner (a signature stored per passage), which this "
        "one does not read"
    ]
    assert (
        _refused(corpus)
        == f"the index of {corpus} is in the layout of an earlier cleaner (a signature stored per passage), "
        f"which this one does not read: rebuild it from the corpus with `cleaner check {corpus} --repair` (no "
        f"input is read again), or the whole corpus with `cleaner run INPUTS --out {corpus} --reprocess`"
    )
    with pytest.raises(OutputError, match="earlier cleaner"):  # the library, asked without the check
        index.Index(corpus, DedupConfig()).prior(Sketch.of(documents(STORIES[:1], "z"), DedupConfig()))
    assert _run_before_prefect(corpus, tmp_path, monkeypatch) == 2
    assert capsys.readouterr().err == f"cleaner: error: {_refused(corpus)}\n"
    assert check.repair(corpus) == [
        "index/documents and index/passages rebuilt from documents/ and passages/ (4 documents, 8 passages)"
    ]
    assert check.problems(corpus, deep=True) == [] and tables(corpus) == before


# -- the rewrite stage's index (index/rewrites, index/rewrite.json) ---------------------------
#
# Corpora the real run wrote (`cleaner.run`, no Prefect) of the labelled set's stories: a run
# with the stage off, then two with it on, so that the embedded passages' numbers follow
# documents the stage never saw.

ON = {"rewrite": {"enabled": True}}
OFF = {"rewrite": {"enabled": False}}
REWRITES = "index/rewrites"


def _write_jsonl(path, docs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for d in docs:
            record = {"id": d.id.replace("/", "-"), "title": d.title, "text": "\n\n".join(d.paragraphs)}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _stories() -> dict:
    from benchmarks.rewrites import corpus as labelled

    return {s["id"]: labelled.story_documents(s, seed=labelled.DEFAULT_SEED) for s in labelled.load_stories()}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A corpus whose last two runs had the rewrite stage on: the tram story's independent
    reports (stage off), the originals of the flood and tram stories, the flood story's
    independent reports; and, for a later run, the tram story's rewrite."""
    from tests.runs import clean_corpus

    stories = _stories()
    tram, flood = stories["tram"], stories["flood"]
    root = tmp_path_factory.mktemp("embedded")
    days = [
        [d for d in tram if d.kind == "independent"],
        [flood[0], tram[0]],
        [d for d in flood if d.kind == "independent"],
    ]
    out = root / "corpus"
    for day, docs in enumerate(days):
        _write_jsonl(root / f"day{day}" / "a.jsonl", docs)
        clean_corpus([str(root / f"day{day}")], str(out), config=ON if day else OFF)
    (rewrite,) = [d for d in tram if d.id.endswith("/rewrite-a")]
    _write_jsonl(root / "day3" / "a.jsonl", [rewrite])
    return out, root / "day3", rewrite, tram[0]


@pytest.fixture
def on(embedded, tmp_path):
    out = tmp_path / "corpus"
    shutil.copytree(embedded[0], out)
    return out


def _order(out) -> list[str]:
    return check.read_corpus(out).order()


def _rewrite_partitions(out) -> dict:
    """Each run's index/rewrites rows, in the order the runs committed: number, position and
    the raw bytes of its codes and keys."""
    folders = [out / REWRITES / f"run={run}" for run in _order(out)]
    return {folder.name: pq.read_table(folder).to_pydict() for folder in folders if folder.is_dir()}


def _rewrites_file(out, nth: int):
    """The `nth` run's (in commit order) id, its index/rewrites file, and the file's rows."""
    run = _order(out)[nth]
    path = out / REWRITES / f"run={run}" / "part-00000.parquet"
    return run, path, pq.read_table(path)


def test_the_corpus_with_the_stage_on_is_healthy_and_its_rewrites_follow_the_numbering(on):
    assert check.problems(on, deep=True) == []
    runs = _order(on)
    partitions = _rewrite_partitions(on)
    assert list(partitions) == [f"run={r}" for r in runs[1:]]  # none for the run with the stage off
    numbers = {r["doc"] for r in tables(on, ("index/documents",))["index/documents"]}
    first = json.loads((on / "runs" / f"{runs[1]}.json").read_text())["index"]["first_doc"]
    assert first > 0 and min(partitions[f"run={runs[1]}"]["doc"]) >= first
    assert all(set(p["doc"]) <= numbers and p["code"] for p in partitions.values())


def test_a_deleted_rewrites_partition_is_refused_and_re_embedded_row_for_row(
    on, tmp_path, capsys, monkeypatch
):
    before = _rewrite_partitions(on)
    run = _order(on)[1]
    rows = len(before[f"run={run}"]["doc"])
    shutil.rmtree(on / REWRITES / f"run={run}")
    (problem,) = check.problems(on)
    assert problem.what == f"{REWRITES}/run={run}/ is missing: run {run} wrote {rows} rows there"
    assert problem.fix == "re-embedded from documents/ and passages/ with the corpus's rewrite settings"
    assert _run_before_prefect(on, tmp_path, monkeypatch) == 2
    err = capsys.readouterr().err
    assert f"damaged: {problem.what}; run `cleaner check {on} --repair` to repair it" in err
    total = sum(len(p["doc"]) for p in before.values())
    assert check.repair(on) == [
        f"index/rewrites re-embedded from documents/ and passages/ with the corpus's rewrite settings ({total} passages)"
    ]
    assert check.problems(on, deep=True) == []
    assert _rewrite_partitions(on) == before  # numbers, positions, and codes and keys byte for byte


@pytest.mark.parametrize("damage", ["truncated", "short", "columns"])
def test_a_damaged_rewrites_file_is_found_by_its_footer_and_re_embedded(on, damage):
    before = _rewrite_partitions(on)
    run, path, table = _rewrites_file(on, 2)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "short":
        pq.write_table(table.slice(1), path)
    else:  # the codes and keys of other settings: 32 bands
        narrow = index.rewrites_schema(RewriteConfig(bands=32))
        keys = pa.array([k[:128] for k in table["keys"].to_pylist()], narrow.field("keys").type)
        pq.write_table(table.set_column(3, "keys", keys), path)
    (problem,) = check.problems(on)
    where = f"{REWRITES}/run={run}/"
    expected = {
        "truncated": f"{where}part-00000.parquet cannot be read (",
        "short": f"{where} holds {table.num_rows - 1} rows; run {run} wrote {table.num_rows}",
        "columns": f"{where}part-00000.parquet has the columns [",
    }[damage]
    assert problem.what.startswith(expected) and problem.fix.startswith("re-embedded")
    if damage == "columns":
        assert "'keys: fixed_size_binary[128]'], not the corpus's [" in problem.what
        assert problem.what.endswith("'keys: fixed_size_binary[256]']")
    _refused(on)
    check.repair(on)
    assert check.problems(on, deep=True) == [] and _rewrite_partitions(on) == before


@pytest.mark.parametrize("damage", ["strays", "positions"])
def test_rewrites_rows_of_no_kept_passage_are_found_by_the_deep_check(on, damage):
    before = _rewrite_partitions(on)
    run, path, table = _rewrites_file(on, 1)
    if damage == "strays":
        column, values = 0, pa.array([d + 1000 for d in table["doc"].to_pylist()], pa.int64())
    else:  # the boilerplate line a page starts with, or passages it does not have
        column, values = 1, pa.array([p + 100 for p in table["position"].to_pylist()], pa.int32())
    pq.write_table(table.set_column(column, table.field(column), values), path)
    assert check.problems(on) == []  # the footers say nothing of it
    (problem,) = check.problems(on, deep=True)
    where = f"{REWRITES}/run={run}/"
    assert (
        problem.what
        == {
            "strays": f"{where} holds passages of 2 documents not in index/documents/run={run}/",
            "positions": f"{table.num_rows} passages of {where} are not kept passages of passages/run={run}/",
        }[damage]
    )
    assert problem.fix.startswith("re-embedded")
    check.repair(on)
    assert check.problems(on, deep=True) == [] and _rewrite_partitions(on) == before


@pytest.mark.parametrize("damage", ["deleted", "garbage", "edited", "older"])
def test_a_damaged_rewrite_json_is_refused_and_written_from_the_runs_configuration(on, damage):
    path = on / "index" / "rewrite.json"
    stored = path.read_text()
    if damage == "deleted":
        path.unlink()
    elif damage == "garbage":
        path.write_text('{"model": "wordllama')
    elif damage == "older":  # written before `min_aligned` decided which documents are embedded
        path.write_text(json.dumps({k: v for k, v in json.loads(stored).items() if k != "min_aligned"}))
    else:
        path.write_text(json.dumps({**json.loads(stored), "bands": 32}))
    (problem,) = check.problems(on)
    assert (
        problem.what
        == {
            "deleted": "index/rewrite.json is missing: a run with the rewrite stage on would take any rewrite "
            "settings and compare its passages with codes made with others",
            "garbage": "index/rewrite.json cannot be read: it is not JSON: Unterminated string starting at: line 1 "
            "column 11 (char 10)",
            "edited": "index/rewrite.json disagrees with the rewrite settings the runs recorded (bands 32, the runs 64)",
            "older": "index/rewrite.json cannot be read: it lacks the setting min_aligned (older corpora did not "
            "record it)",
        }[damage]
    )
    _refused(on)
    assert check.repair(on) == ["index/rewrite.json written from the runs' recorded configuration"]
    assert path.read_text() == stored
    assert check.problems(on, deep=True) == []
    with pytest.raises(OutputError, match=r"rewrite settings \(bands 64 -> 32\)"):
        index.Index(on, DedupConfig(), rewrite=RewriteConfig(enabled=True, bands=32))


def test_a_deleted_index_with_the_stage_on_comes_back_complete(on):
    names = ("index/documents", "index/passages", "index/inputs")
    before, rewritten = tables(on, names), _rewrite_partitions(on)
    settings = {name: (on / "index" / name).read_text() for name in ("params.json", "rewrite.json")}
    shutil.rmtree(on / "index")
    (problem,) = check.problems(on, deep=True)
    assert problem.fix.endswith(
        "; index/rewrites re-embedded from documents/ and passages/ with the corpus's rewrite settings"
    )
    done = check.repair(on)
    assert done[:2] == [
        "index/params.json written from the runs' recorded configuration",
        "index/rewrite.json written from the runs' recorded configuration",
    ]
    assert done[2].startswith("index/documents and index/passages rebuilt")
    assert done[3].startswith("index/rewrites re-embedded")
    assert all(d.startswith("index/inputs/run=") for d in done[4:])
    assert check.problems(on, deep=True) == []
    assert tables(on, names) == before and _rewrite_partitions(on) == rewritten
    assert {name: (on / "index" / name).read_text() for name in settings} == settings


def test_after_the_repair_tomorrows_rewrite_still_finds_todays_story(embedded, tmp_path):
    """The repaired corpus is the intact one: the next run finds the rewrite of a story of
    the corpus in both, and writes the very same rows."""
    from tests.runs import clean_corpus

    source, day3, rewrite, original = embedded
    intact, damaged = tmp_path / "intact", tmp_path / "damaged"
    shutil.copytree(source, intact)
    shutil.copytree(source, damaged)
    shutil.rmtree(damaged / "index")
    check.repair(damaged)
    for out in (intact, damaged):
        summary = clean_corpus([str(day3)], str(out), config=ON)
        assert summary["counts"]["duplicates_by_kind"] == {"rewrite": 1}
    (dup,) = [d for d in tables(damaged, ("duplicates",))["duplicates"] if d["kind"] == "rewrite"]
    title = {d["doc_id"]: d["title"] for d in tables(damaged, ("documents",))["documents"]}
    assert (dup["title"], title[dup["duplicate_of"]]) == (rewrite.title, original.title)
    names = ("duplicates", "passages", "index/documents", "index/passages")
    assert tables(intact, names) == tables(damaged, names)
    assert list(_rewrite_partitions(intact).values()) == list(_rewrite_partitions(damaged).values())


def test_document_numbers_given_twice_are_found_and_the_index_renumbered(corpus):
    """What a run did after an earlier run was deleted whole: its documents took numbers a
    kept run's documents have, and copies then pointed at the wrong document."""
    path = next((corpus / "index" / "documents" / f"run={RUNS[2]}").glob("*.parquet"))
    table = pq.read_table(path)
    pq.write_table(
        table.set_column(table.schema.get_field_index("doc"), "doc", pa.array([0], pa.int64())), path
    )
    found = check.problems(corpus, deep=True)
    assert found[0].what.startswith("index/documents/ gives 1 numbers to more than one document")
    assert all(p.fix == "rebuilt from documents/ and passages/" for p in found)
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == []


def test_an_id_both_kept_and_dropped_as_a_duplicate_is_found_by_the_deep_check(corpus):
    path = next((corpus / "duplicates" / f"run={RUNS[1]}").glob("*.parquet"))
    table = pq.read_table(path)
    kept_id = pq.read_table(corpus / "documents" / f"run={RUNS[0]}")["doc_id"][0].as_py()
    ids = pa.array([kept_id] * table.num_rows, table.schema.field("doc_id").type)
    pq.write_table(table.set_column(table.schema.get_field_index("doc_id"), "doc_id", ids), path)
    whats = _whats(corpus)
    assert any(w.startswith("1 doc_ids are in both documents/ and duplicates/") for w in whats)


def test_band_keys_overwritten_are_found_by_the_deep_check_and_rebuilt(corpus):
    """The index's band keys carry no checksum of their own: overwritten, they were read as
    they were, the footers and every other check agreed, and the run then missed the copies
    of those passages. The deep check computes them again from the texts, as a repair does."""
    before = tables(corpus)
    path = next((corpus / "index" / "passages" / f"run={RUNS[0]}").glob("*.parquet"))
    table = pq.read_table(path)
    for name in [n for n in table.schema.names if n.startswith("b0")]:
        at = table.schema.get_field_index(name)
        table = table.set_column(at, name, pa.array([7] * table.num_rows, table.schema.field(name).type))
    pq.write_table(table, path)
    assert check.problems(corpus) == []  # the cheap check cannot see it
    (problem,) = check.problems(corpus, deep=True)
    assert problem.what.startswith(f"4 rows of index/passages/run={RUNS[0]}/ are not those its passages'")
    assert problem.fix == "rebuilt from documents/ and passages/"
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == [] and tables(corpus) == before


def test_repair_finds_nothing_to_do_where_the_check_finds_nothing(corpus, tmp_path):
    """A run that read nothing new writes no partition of index/inputs (the dataset has
    one): the check called the corpus healthy, and the repair still "copied" one."""
    commit_run(corpus, "20260304T000000Z-dddddddd", [])
    assert check.problems(corpus, deep=True) == []
    assert check.repair(corpus) == []


def test_a_reprocess_killed_half_moved_is_one_problem_finished_by_the_repair(tmp_path, monkeypatch):
    """Killed after its commit retired the old corpus and before it moved the new one in:
    the check said runs/ was missing and the datasets' partitions too, and offered to
    rebuild records from partitions, when finishing the commit puts everything in place."""
    import cleaner

    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    (inbox / "a.txt").write_text("\n\n".join(STORIES[0]) + "\n")
    cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor())
    real_rename = type(out).rename

    class Killed(BaseException):
        pass

    def rename(self, target):
        if ".staging-" in str(self):  # the old corpus is retired already
            raise Killed()
        return real_rename(self, target)

    monkeypatch.setattr(type(out), "rename", rename)
    with pytest.raises(Killed):
        cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor(), reprocess=True)
    monkeypatch.undo()
    (problem,) = check.problems(out)
    assert "was interrupted (.commit.json is left)" in problem.what and problem.fix
    assert check.repair(out) == ["finished the interrupted commit from its journal"]
    assert check.problems(out, deep=True) == [] and len(list((out / "runs").glob("*.json"))) == 1


def test_an_older_runs_manifest_put_back_is_found_and_the_latest_restored(corpus):
    latest = (corpus / "manifest.json").read_text()
    shutil.copy(corpus / "runs" / f"{RUNS[0]}.json", corpus / "manifest.json")
    (problem,) = check.problems(corpus)
    assert problem.what == (
        f"manifest.json is the record of run {RUNS[0]}, not of the latest run, {RUNS[2]} (an older copy put back?)"
    )
    check.repair(corpus)
    assert check.problems(corpus, deep=True) == [] and (corpus / "manifest.json").read_text() == latest


# -- a commit found half done by the readers, on a full disk, and on a first run -------------


class _Killed(BaseException):
    pass


def test_readers_read_a_commit_killed_before_its_manifest_not_call_it_damage(corpus, monkeypatch):
    """Killed after the run's record went into runs/ and before manifest.json was replaced:
    `report` and `inspect` said the corpus was damaged ("an older copy put back?"). The
    run's files are all in place by then, and are read with the others."""
    from cleaner import report
    from cleaner.corpus import read

    real_replace = writers.os.replace

    def replace(src, dst):
        if ".staging-" in str(src) and ".staging-" not in str(dst) and str(dst).endswith(writers.MANIFEST):
            raise _Killed()
        return real_replace(src, dst)

    monkeypatch.setattr(writers.os, "replace", replace)
    with pytest.raises(_Killed):
        commit_run(corpus, "20260304T000000Z-dddddddd", documents([STORIES[3]], "d", rank=30))
    monkeypatch.undo()
    assert json.loads((corpus / "manifest.json").read_text())["run_id"] == RUNS[2]
    assert [m["run_id"] for m in read.manifests(corpus)] == [*RUNS, "20260304T000000Z-dddddddd"]
    assert len(report.read_stats(corpus).runs) == 4
    shutil.rmtree(corpus / "documents" / f"run={RUNS[0]}")  # damage beside it is still damage
    with pytest.raises(OutputError, match=rf"is damaged: documents/run={RUNS[0]}/ is missing"):
        read.manifests(corpus)


def test_a_first_run_killed_after_its_journal_is_a_corpus_with_a_commit_to_finish(
    tmp_path, monkeypatch, capsys
):
    """The folder holds the journal and the staging folder only: every command said it held
    no corpus, and a user believing it could delete a finished run."""
    out = tmp_path / "corpus"

    def killed(folder):
        raise _Killed()

    monkeypatch.setattr(writers, "_apply_journal", killed)
    with pytest.raises(_Killed):
        commit_run(out, RUNS[0], documents(STORIES[:2], "a"))
    monkeypatch.undo()
    assert (out / writers.JOURNAL).exists() and not (out / writers.RUNS).exists()
    assert check.is_corpus(out)
    assert _whats(out) == [f"the commit of run {RUNS[0]} was interrupted (.commit.json is left)"]
    assert main(["report", str(out)]) == 2
    assert "is under way, or was interrupted" in capsys.readouterr().err
    assert main(["check", str(out), "--repair"]) == 0
    assert capsys.readouterr().out.startswith("repaired: finished the interrupted commit from its journal\n")
    assert check.summary(out) == "1 runs, 2 documents, 6 passages, 0 duplicates, 0 rejects"


def test_a_disk_full_while_the_commit_moves_says_it_is_half_done_and_the_repair_says_so_too(
    corpus, monkeypatch
):
    """The run said "the corpus is as it was" with its new partitions in place, and the
    repair and the next run, finishing the commit on the full disk, an unexpected error."""
    from cleaner import report

    def full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers, "_copy_durably", full)
    half_done = (
        f"; the commit under way is half done, and the next run or `cleaner check {corpus} --repair` "
        "finishes it once there is space"
    )
    with pytest.raises(OutputError) as said:
        commit_run(corpus, "20260304T000000Z-dddddddd", documents([STORIES[3]], "d", rank=30))
    assert str(said.value).startswith(f"no space left on the device of {corpus}: the run had written ")
    assert str(said.value).endswith(half_done)
    with pytest.raises(OutputError) as said:
        check.repair(corpus)
    assert str(said.value).startswith(f"no space left on the device of {corpus}: ")
    assert str(said.value).endswith(half_done)
    assert len(report.read_stats(corpus).runs) == 3  # the committed runs read as they are
    monkeypatch.undo()
    assert check.repair(corpus) == ["finished the interrupted commit from its journal"]
    assert check.problems(corpus, deep=True) == [] and len(report.read_stats(corpus).runs) == 4


def test_ctrl_c_during_check_or_report_is_one_line(corpus, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "problems", interrupted)
    for command in (["check", str(corpus)], ["check", str(corpus), "--repair"], ["report", str(corpus)]):
        assert main(command) == 130
        assert capsys.readouterr().err == "cleaner: stopped by SIGINT\n"


def test_check_piped_into_a_reader_that_stops_ends_quietly(corpus):
    """`cleaner check DIR | head -1`: the line the reader did not take was an unexpected
    error, exit 1, which also says "problems found"."""
    import subprocess
    import sys

    (corpus / "index" / "params.json").unlink()  # a problem to say, in several lines
    command = [sys.executable, "-m", "cleaner_flows", "check", str(corpus)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader has gone before the first line
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and err == ""


@pytest.mark.parametrize(
    "where", ["documents/notes.txt", f"passages/run={RUNS[1]}/notes.txt", "index/passages/x.csv"]
)
def test_a_file_no_run_wrote_where_the_data_is_read_is_said_by_check_and_refused_by_a_run(
    corpus, where, capsys
):
    """`check` said healthy while `report`, `inspect` and pyarrow failed on the file."""
    (corpus / where).write_text("mine\n")
    (problem,) = check.problems(corpus)
    assert problem.what == (
        f"{where} is no file of a run, in a dataset's folder, where every reader of the dataset fails "
        "on it: move it out of the corpus's folders"
    )
    assert problem.fix is None
    assert _refused(corpus) == f"{corpus} holds files no run wrote where it reads its data: {problem.what}"
    assert main(["check", str(corpus)]) == 1
    out = capsys.readouterr().out
    assert "move it out of the corpus's folders" in out and "is lost from the corpus" not in out
    (corpus / where).unlink()
    assert check.problems(corpus, deep=True) == []


def test_a_first_run_into_a_folder_whose_dataset_folder_holds_other_files_is_refused(tmp_path):
    import cleaner

    out = tmp_path / "out"
    (out / "documents").mkdir(parents=True)
    (out / "documents" / "thesis.txt").write_text("mine\n")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("\n\n".join(STORIES[0]) + "\n")
    with pytest.raises(
        OutputError, match="holds files no run wrote where it reads its data: documents/thesis.txt"
    ):
        cleaner.run([inbox], out, executor=cleaner.InlineExecutor())
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["documents"]


def test_a_report_is_not_written_where_the_data_is_read(corpus, capsys):
    for where in ("documents/r.html", f"passages/run={RUNS[0]}/r.html"):
        assert main(["report", str(corpus), "--out", str(corpus / where)]) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith(f"cleaner: error: cannot write {corpus / where}: it would lie in ")
            and err.count("\n") == 1
        )
        assert not (corpus / where).exists()
    assert main(["report", str(corpus), "--out", str(corpus / "r.html")]) == 0
