"""Runs that grow one corpus: each run appends, and is deduplicated against every earlier one."""

from __future__ import annotations

import hashlib
import json
import logging
import os

import pyarrow.dataset as ds
import pytest

from cleaner.config import DedupConfig
from cleaner.corpus import check, writers
from cleaner.corpus.index import Index
from cleaner.errors import OutputError
from tests.growing_corpus import STORIES
from tests.runs import clean_corpus

FERRY = [
    "Ferry services to the outer islands will run twice a day from Monday after the operator agreed a new contract with the county.",
    "The contract, worth about nine million over four years, keeps the night crossing that islanders had feared would be cut.",
    "Skippers said the older of the two boats would need a new engine before the winter storms, and the county promised to pay for it.",
]
SCHOOL = [
    "Parents in Western Shore voted narrowly to merge the village's two primary schools into one building by the autumn term.",
    "Teachers said the merger would free money for a music room, while some families worried about the longer walk for small children.",
]
BRIDGE = [
    "The old stone bridge over the Kessel will close to lorries for three months while engineers replace its worn bearings.",
    "Drivers of heavy vehicles are asked to use the ring road, which adds about twenty minutes to a crossing at peak hours.",
]


def _page(path, title, paragraphs):
    path.write_text("\n\n".join([title, *paragraphs, "Share this article"]) + "\n", encoding="utf-8")


def _tables(out):
    return {
        name: ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
        for name in writers.DATASETS
    }


def _parts(out):
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for name in writers.DATASETS
        for p in (out / name).rglob("*.parquet")
    }


def test_each_run_appends_and_is_deduplicated_against_the_corpus(tmp_path):

    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    _page(inbox / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    _page(inbox / "b-school.txt", "Western Shore schools to merge", SCHOOL)
    (inbox / "notes.pdf").write_bytes(b"%PDF-1.4 not read")  # rejected once, not every day
    os.mkfifo(inbox / "pipe.html")
    first = clean_corpus(paths=[str(inbox)], out=str(out))
    assert first["counts"]["documents"] == 2
    assert first["counts"]["rejects_by_reason"] == {"not_a_file": 1, "unsupported_type": 1}
    before = _parts(out)
    ferry_id = next(d["doc_id"] for d in _tables(out)["documents"] if d["source"].endswith("a-ferry.txt"))

    # The next day: a copy of the ferry story with one word changed, and a new story.
    copy = [FERRY[0].replace("twice", "two times"), *FERRY[1:]]
    _page(inbox / "c-ferry-copy.txt", "Islands keep their night ferry", copy)
    _page(inbox / "d-bridge.txt", "Kessel bridge closes to lorries", BRIDGE)
    second = clean_corpus(paths=[str(inbox)], out=str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["read"]["unchanged"] == 2  # batch one was not read again
    assert second["counts"]["documents"] == 1 and second["counts"]["duplicate_documents"] == 1
    assert second["counts"]["rejects"] == 0
    tables = _tables(out)
    (dup,) = tables["duplicates"]
    assert dup["source"].endswith("c-ferry-copy.txt") and dup["duplicate_of"] == ferry_id
    assert dup["run"] == second["run_id"]
    copied = [p for p in tables["passages"] if p["doc_id"] == dup["doc_id"] and p["text"] in copy]
    assert len(copied) == 3 and {p["duplicate_of_doc"] for p in copied} == {ferry_id}
    assert [p["status"] for p in copied] == ["near_duplicate", "exact_duplicate", "exact_duplicate"]
    assert sorted(d["source"].rsplit("/", 1)[1] for d in tables["documents"]) == [
        "a-ferry.txt",
        "b-school.txt",
        "d-bridge.txt",
    ]
    after = _parts(out)
    assert {k: v for k, v in after.items() if k in before} == before  # run one's files untouched
    assert len(after) > len(before)
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        f"{r['run_id']}{suffix}" for r in (first, second) for suffix in (".json", ".inputs.parquet")
    )

    # The same inbox again, one file only touched: nothing is added, and the run says so.
    os.utime(inbox / "b-school.txt", ns=(1, 1))
    third = clean_corpus(paths=[str(inbox)], out=str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["read"]["unchanged"] == 4
    assert third["counts"]["documents"] == 0 and third["counts"]["passages"] == 0
    assert _parts(out) == after


def test_a_corpus_refuses_a_run_with_other_minhash_settings(tmp_path):

    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    _page(inbox / "a.txt", "Ferry deal keeps the night crossing", FERRY)
    clean_corpus(paths=[str(inbox)], out=str(out))
    with pytest.raises(OutputError, match=r"num_perm 128 -> 64"):
        Index(out, DedupConfig(num_perm=64, bands=21))
    Index(out, DedupConfig(threshold=0.7))  # the threshold is read at each run: may change
    before = _parts(out)
    with pytest.raises(OutputError, match=r"other MinHash settings .*--reprocess"):
        clean_corpus(paths=[str(inbox)], out=str(out), config={"dedup": {"seed": 2}})
    assert _parts(out) == before and not list(out.glob(".staging-*"))


def test_a_corpus_made_when_hash_scheme_was_a_setting_still_grows_and_checks_healthy(tmp_path):
    """`dedup.hash_scheme` could only ever be "affine32": corpora and files that name it keep
    working; any other value was never ours."""
    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    _page(inbox / "a.txt", "Ferry deal keeps the night crossing", FERRY)
    clean_corpus(paths=[str(inbox)], out=str(out))
    params = out / "index" / "params.json"
    older = json.loads(params.read_text())
    assert "hash_scheme" not in older
    params.write_text(json.dumps({**older, "hash_scheme": "affine32"}))
    for record in [out / "manifest.json", *(out / "runs").glob("*.json")]:
        manifest = json.loads(record.read_text())
        manifest["config"]["dedup"]["hash_scheme"] = "affine32"
        record.write_text(json.dumps(manifest))
    assert check.problems(out, deep=True) == []
    _page(inbox / "b.txt", "School roof repairs begin", SCHOOL)
    second = clean_corpus(paths=[str(inbox)], out=str(out), config={"dedup": {"hash_scheme": "affine32"}})
    assert second["counts"]["documents"] == 1
    params.write_text(json.dumps({**older, "hash_scheme": "affine64"}))
    with pytest.raises(OutputError, match="hash_scheme can only be 'affine32'"):
        Index(out, DedupConfig())


def test_pairs_too_close_to_call_are_checked_on_their_texts_in_a_run_and_across_runs(tmp_path):
    """A copy whose true Jaccard is over the threshold but whose estimate is under it: the
    exact check reads the source's text from the spool in one run, from the corpus a day
    later, and both give it the same verdict and exact similarity."""
    from tests.test_dedup import _misestimated

    base, edited, exact, estimate = _misestimated(over=True)
    one, split = tmp_path / "one", tmp_path / "split"
    for inbox in (one, split):
        inbox.mkdir()
    _page(one / "a.txt", "Ferry deal keeps the night crossing", [base, *FERRY])
    _page(one / "b.txt", "Western Shore schools to merge", [edited, *SCHOOL, *BRIDGE])
    clean_corpus(paths=[str(one)], out=str(tmp_path / "out-one"))
    (split / "day1").mkdir()
    (split / "day2").mkdir()
    _page(split / "day1" / "a.txt", "Ferry deal keeps the night crossing", [base, *FERRY])
    _page(split / "day2" / "b.txt", "Western Shore schools to merge", [edited, *SCHOOL, *BRIDGE])
    clean_corpus(paths=[str(split / "day1")], out=str(tmp_path / "out-split"))
    clean_corpus(paths=[str(split / "day2")], out=str(tmp_path / "out-split"))

    for out in ("out-one", "out-split"):
        manifest = json.loads((tmp_path / out / "manifest.json").read_text())
        assert manifest["stages"]["dedup"]["exact_checks"] == 1
        passages = _tables(tmp_path / out)["passages"]
        (copy,) = [p for p in passages if p["text"] == edited]
        assert copy["status"] == "near_duplicate"
        assert copy["similarity"] == round(exact, 6) != round(estimate, 6)
        (source,) = [p for p in passages if p["text"] == base]
        assert (copy["duplicate_of_doc"], copy["duplicate_of_position"]) == (
            source["doc_id"],
            source["position"],
        )


def _documents(out):
    return {d["source"]: d for d in _tables(out)["documents"]}


def test_two_inputs_of_one_name_in_two_folders_are_both_read(tmp_path):
    """Inputs were once remembered by their name: day2/feed.jsonl, as long and as old as
    day1/feed.jsonl, was skipped as unchanged and its records lost."""

    out = tmp_path / "corpus"
    for day, story in (("day1", FERRY), ("day2", SCHOOL)):
        feed = tmp_path / day / "feed.jsonl"
        feed.parent.mkdir()
        feed.write_text(json.dumps({"text": "\n".join(story[:2])[:200]}) + "\n", encoding="utf-8")
        os.utime(feed, ns=(10**18, 10**18))
    assert (tmp_path / "day1" / "feed.jsonl").stat().st_size == (
        tmp_path / "day2" / "feed.jsonl"
    ).stat().st_size
    clean_corpus(paths=[str(tmp_path / "day1" / "feed.jsonl")], out=str(out))
    second = clean_corpus(paths=[str(tmp_path / "day2" / "feed.jsonl")], out=str(out))
    assert second["counts"]["documents"] == 1
    assert sorted(_documents(out)) == [str(tmp_path / day / "feed.jsonl#1") for day in ("day1", "day2")]


@pytest.mark.parametrize("split_bytes", [None, 1, 300])
def test_a_feed_that_grows_adds_its_new_lines_only(tmp_path, split_bytes):
    """A JSONL file appended to daily: every old line was read again, each a duplicate_id
    reject, every day. The same when the file is read in ranges (`run.split_bytes`)."""

    config = {"run": {"split_bytes": split_bytes}} if split_bytes else None
    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    feed = inbox / "feed.jsonl"
    lines = [
        json.dumps({"id": f"n{i}", "text": text}) + "\n" for i, text in enumerate(FERRY + SCHOOL + BRIDGE)
    ]
    feed.write_text("".join(lines[:3]), encoding="utf-8")
    first = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    assert first["counts"]["documents"] == 3
    with feed.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines[3:]))
    second = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    assert second["counts"]["documents"] == 4 and second["counts"]["rejects"] == 0
    assert sorted(s.rsplit("#", 1)[1] for s in _documents(out)) == [str(i) for i in range(1, 8)]
    batches = json.loads((out / "manifest.json").read_text())["stages"]["prepare"]["batches"]
    assert batches == (4 if split_bytes == 1 else 2 if split_bytes else 1)  # the new lines only
    third = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    assert third["counts"]["passages"] == 0 and third["counts"]["rejects"] == 0


@pytest.mark.parametrize("split_bytes", [None, 1])
def test_a_feed_caught_mid_line_counts_each_record_once(tmp_path, split_bytes, caplog):
    """A run that found the feed's last line half written rejected it (invalid_json) and the
    next read it whole, a document: the corpus held that record twice, once in rejects. The
    line is held unread and said, every run, until its line break comes."""
    caplog.set_level(logging.WARNING, logger="cleaner.run")
    config = {"run": {"split_bytes": split_bytes}} if split_bytes else None
    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    feed = inbox / "feed.jsonl"
    lines = [json.dumps({"id": f"n{i}", "text": text}) + "\n" for i, text in enumerate(FERRY + SCHOOL)]
    feed.write_text("".join(lines[:3]) + lines[3][:25], encoding="utf-8")
    held = [f"{feed.as_posix()}#4"]
    for _ in range(2):  # the file as it was, and again unchanged
        caplog.clear()
        summary = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["stages"]["read"]["held"] == held and summary["counts"]["rejects"] == 0
        said = [r.getMessage() for r in caplog.records if "held unread" in r.getMessage()]
        assert len(said) == 1 and held[0] in said[0]
    assert summary["counts"]["documents"] == 0
    with feed.open("a", encoding="utf-8") as fh:
        fh.write(lines[3][25:] + lines[4])
    last = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    assert last["counts"]["documents"] == 2 and last["counts"]["rejects"] == 0
    tables = _tables(out)
    assert sorted(d["source"].rsplit("#", 1)[1] for d in tables["documents"]) == ["1", "2", "3", "4", "5"]
    assert tables["rejects"] == [] and tables["duplicates"] == []
    assert json.loads((out / "manifest.json").read_text())["stages"]["read"]["held"] == []
    assert check.problems(out, deep=True) == []


def test_an_output_folder_inside_its_inbox_is_never_read(tmp_path, caplog):
    """The second run read the first one's Parquet files as input, and every run grew."""
    caplog.set_level(logging.INFO, logger="cleaner.run")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = inbox / "corpus"
    _page(inbox / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    clean_corpus(paths=[str(inbox)], out=str(out))
    _page(inbox / "b-school.txt", "Western Shore schools to merge", SCHOOL)
    second = clean_corpus(paths=[str(inbox)], out=str(out))
    assert second["counts"]["documents"] == 1 and second["counts"]["rejects"] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["discover"] == {"files": 2, "skipped": 0, "output_inside_input": str(inbox)}
    said = [r.getMessage() for r in caplog.records if "overlaps the input" in r.getMessage()]
    assert len(said) == 2 and said[1].endswith(
        f"the output folder {out} overlaps the input {inbox}: its files are not read as input"
    )


def test_after_a_run_is_deleted_whole_a_copy_still_points_at_the_document_it_copies(tmp_path):
    """A retention script deletes the oldest run: every partition of it, and its records.
    New documents are numbered past the largest number the index holds, not from its count,
    which fell under the numbers of the runs kept: a new run's documents took those, and a
    later copy of a kept document was said to copy a new one."""
    import shutil

    import cleaner

    out = tmp_path / "corpus"
    days = [tmp_path / f"day{n}" for n in range(4)]
    for day in days:
        day.mkdir()
    _page(days[0] / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    _page(days[0] / "a-bridge.txt", "Kessel bridge closes to lorries", BRIDGE)
    _page(days[1] / "b-harbour.txt", "Harbour to be dredged", STORIES[0])
    _page(days[1] / "b-school.txt", "Western Shore schools to merge", SCHOOL)
    _page(days[2] / "c-festival.txt", "Festival sold out", STORIES[2])
    _page(days[3] / "d-harbour-copy.txt", "Dredging before the storms", STORIES[0])

    def run(day):
        return cleaner.run([day], out, None, executor=cleaner.InlineExecutor())

    oldest = run(days[0]).run_id
    kept = run(days[1])
    for folder in [*out.glob(f"*/run={oldest}"), *out.glob(f"index/*/run={oldest}")]:
        shutil.rmtree(folder)
    for record in (out / "runs").glob(f"{oldest}*"):
        record.unlink()
    assert check.problems(out, deep=True) == []
    run(days[2])
    run(days[3])
    harbour = next(d["doc_id"] for d in _tables(out)["documents"] if d["source"].endswith("b-harbour.txt"))
    (copy,) = [d for d in _tables(out)["duplicates"] if d["source"].endswith("d-harbour-copy.txt")]
    assert copy["duplicate_of"] == harbour
    numbers = ds.dataset(out / "index" / "documents", partitioning="hive").to_table()["doc"].to_pylist()
    assert sorted(numbers) == [2, 3, 4]  # the kept run's two stories, then the festival
    assert kept.manifest["index"]["first_doc"] == 2


def test_a_record_with_the_id_of_an_earlier_duplicate_is_a_duplicate_id_reject(tmp_path):
    """An id is in the corpus once its document is, kept or dropped as a duplicate: a later
    record of a duplicate's id went in as a new document, and the corpus held the id in
    `duplicates/` and `documents/`, its passages twice."""
    import cleaner

    out = tmp_path / "corpus"
    for day, records in (
        ("day1", [("story-a", FERRY), ("story-b", FERRY)]),
        ("day2", [("story-b", SCHOOL)]),
    ):
        (tmp_path / day).mkdir()
        (tmp_path / day / "feed.jsonl").write_text(
            "".join(json.dumps({"id": i, "text": "\n\n".join(text)}) + "\n" for i, text in records)
        )
        cleaner.run([tmp_path / day], out, None, executor=cleaner.InlineExecutor())
    tables = _tables(out)
    (dropped,) = tables["duplicates"]
    assert dropped["doc_id"] not in {d["doc_id"] for d in tables["documents"]}
    (rejected,) = tables["rejects"]
    assert rejected["reason"] == "duplicate_id" and rejected["source"].endswith("day2/feed.jsonl#1")
    assert rejected["detail"].startswith("same doc_id as a document already in the corpus: the same `id`")
    assert check.problems(out, deep=True) == []


def test_reprocess_refuses_to_lose_an_earlier_input_of_the_same_name_in_another_folder(tmp_path):
    """Daily folders of one feed name: reprocessing with today's alone would drop yesterday's
    documents. A name matches an earlier input only once the file it was read from is gone
    (its folder moved)."""
    import shutil

    import cleaner

    out = tmp_path / "corpus"
    days = {"2026-03-01": FERRY, "2026-03-02": SCHOOL}
    for day, story in days.items():
        (tmp_path / "feeds" / day).mkdir(parents=True)
        feed = tmp_path / "feeds" / day / "feed.jsonl"
        feed.write_text(json.dumps({"id": day, "text": "\n\n".join(story)}) + "\n")
        cleaner.run([feed], out, None, executor=cleaner.InlineExecutor())
    today = tmp_path / "feeds" / "2026-03-02" / "feed.jsonl"
    with pytest.raises(OutputError, match=r"not among this run's \(e.g. .*2026-03-01/feed.jsonl\)"):
        cleaner.run([today], out, None, executor=cleaner.InlineExecutor(), reprocess=True)
    # moved, the folder's file is recognised by its name
    shutil.move(tmp_path / "feeds", tmp_path / "archive")
    moved = [tmp_path / "archive" / day / "feed.jsonl" for day in days]
    rebuilt = cleaner.run(moved, out, None, executor=cleaner.InlineExecutor(), reprocess=True)
    assert rebuilt.counts["documents"] == 2


def test_reprocess_never_retires_files_no_run_wrote(tmp_path):
    """`--reprocess` replaces the corpus's folders whole. Into a folder that was not a
    corpus, whose `documents/`, `index/` and `runs/` were the user's, it took their files with
    them: it is refused instead, naming one, and leaves every file as it was."""
    import cleaner
    from cleaner.config import Config
    from cleaner.corpus import preflight

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _page(inbox / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    out = tmp_path / "mine"
    for rel in ("documents/thesis.txt", "index/index.html", "runs/run-log.txt"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text("mine\n")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    with pytest.raises(OutputError, match=r"hold 3 files no cleaner run wrote \(e.g. documents/thesis.txt\)"):
        preflight.check_output(out, Config(), reprocess=True)
    with pytest.raises(OutputError, match=r"no cleaner run wrote"):
        cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor(), reprocess=True)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.name != ".lock") == before
    # a corpus of cleaner's own is reprocessed as ever
    corpus = tmp_path / "corpus"
    cleaner.run([inbox], corpus, None, executor=cleaner.InlineExecutor())
    preflight.check_output(corpus, Config(), reprocess=True)
    assert (
        cleaner.run([inbox], corpus, None, executor=cleaner.InlineExecutor(), reprocess=True).counts[
            "documents"
        ]
        == 1
    )


def test_damage_inside_a_file_the_run_reads_is_one_line_naming_the_check(tmp_path):
    """The check before a run reads footers, not data: a damaged page of data is found when
    the run reads it, and said as damage, in one line (it was an unexpected error)."""
    import cleaner

    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    _page(inbox / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor())
    part = next((out / "index" / "inputs").glob("run=*/*.parquet"))
    data = bytearray(part.read_bytes())
    data[20:60] = bytes(40)  # the first data page, not the footer
    part.write_bytes(bytes(data))
    assert check.problems(out) == []  # the cheap check cannot see it; the deep one does
    assert check.problems(out, deep=True)
    _page(inbox / "b-school.txt", "Western Shore schools to merge", SCHOOL)
    before = _parts(out)
    with pytest.raises(OutputError) as refused:
        cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor())
    message = str(refused.value)
    assert message.startswith(f"the corpus in {out} is damaged: a file of it cannot be read (")
    assert (
        message.endswith(f"`cleaner check {out}` names it and what can be repaired") and "\n" not in message
    )
    assert _parts(out) == before
