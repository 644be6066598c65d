"""A run over everything a real crawl throws at us (tests/hostile_corpus.py): it completes,
each bad input is a reject with its reason, and the good records around them come through."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from cleaner.io.records import path_of_source, source_of
from tests import hostile_corpus
from tests.hostile_corpus import BERLIN, CAIRO, TOKYO

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def hostile_run(prefect_server, tmp_path_factory):
    from cleaner_flows.clean_corpus import clean_corpus

    root = tmp_path_factory.mktemp("hostile")
    corpus, out = root / "corpus", root / "out"
    expected = hostile_corpus.build(corpus)
    result = clean_corpus(paths=[str(corpus)], out=str(out))

    def table(name: str) -> list[dict]:
        return ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()

    result["written"] = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    prefix = f"{corpus.as_posix()}/"
    tables = {name: table(name) for name in ("documents", "duplicates", "rejects", "passages")}
    for rows in tables.values():
        for row in rows:
            if "source" in row:
                row["source"] = row["source"].removeprefix(prefix)
    return expected, tables, result


def test_every_hostile_input_has_its_expected_outcome(hostile_run):
    expected, tables, _ = hostile_run
    documents = {d["source"]: d for d in tables["documents"]}
    rejects = {r["source"]: r for r in tables["rejects"]}
    wrong = []
    for source, want in sorted(expected.items()):
        if want.outcome == "reject":
            got = rejects.get(source)
            if got is None or got["reason"] != want.reason:
                wrong.append(
                    (source, f"want reject {want.reason}", got or documents.get(source, {}).get("text"))
                )
            continue
        doc = documents.get(source)
        if doc is None:
            wrong.append((source, "want a document", rejects.get(source)))
            continue
        missing = [phrase for phrase in want.phrases if phrase not in doc["text"]]
        if missing:
            wrong.append((source, f"text lacks {missing}", doc["text"]))
        if want.title and doc["title"] != want.title:
            wrong.append((source, f"title {want.title!r}", doc["title"]))
    assert not wrong, "\n".join(map(str, wrong))
    # Every reject says what happened in words, not just a code.
    assert all(len(r["detail"]) > 20 for r in tables["rejects"])


def test_nothing_is_lost_and_nothing_is_made_up(hostile_run):
    """Each source is in exactly one dataset, and every source the corpus expects is there."""
    expected, tables, _ = hostile_run
    where: dict[str, list[str]] = {}
    for name in ("documents", "duplicates", "rejects"):
        for row in tables[name]:
            where.setdefault(row["source"], []).append(name)
    assert {s: w for s, w in where.items() if len(w) > 1} == {}
    assert set(expected) <= set(where)
    assert tables["duplicates"] == []  # every article of the corpus is a different one


def test_good_lines_of_a_cut_off_archive_still_come_through(hostile_run):
    _, tables, _ = hostile_run
    reject = next(r for r in tables["rejects"] if r["source"] == "compressed/truncated.jsonl.gz")
    read = [d for d in tables["documents"] if d["source"].startswith("compressed/truncated.jsonl.gz#")]
    assert len(read) >= 100  # the file held 300 records, cut in half
    assert f"the {len(read)} lines before it were read" in reject["detail"]


@pytest.mark.parametrize(
    "name, article, language", [("tokyo", TOKYO, "ja"), ("cairo", CAIRO, "ar"), ("berlin", BERLIN, "de")]
)
def test_articles_in_other_languages_keep_every_paragraph_as_a_passage(hostile_run, name, article, language):
    _, tables, _ = hostile_run
    title, paragraphs = article
    doc = next(d for d in tables["documents"] if d["source"] == f"world/{name}.html")
    kept = [p["text"] for p in tables["passages"] if p["doc_id"] == doc["doc_id"] and p["status"] == "kept"]
    assert kept == paragraphs
    assert doc["title"] == title
    assert doc["language"] == language


def test_every_encoding_gives_the_page_its_language(hostile_run):
    _, tables, _ = hostile_run
    language = {d["source"]: d["language"] for d in tables["documents"]}
    assert {source: language[source] for source in language if source.startswith("encoding/")} == {
        "encoding/latin1.html": "fr",
        "encoding/cp1252.html": "en",
        "encoding/shift_jis.html": "ja",
        "encoding/utf16-bom.html": "en",
        "encoding/utf8-bom.txt": "en",
        "encoding/invalid-utf8.html": "en",
    }


def test_the_run_reports_rejects_by_reason(hostile_run):
    expected, tables, result = hostile_run
    by_reason = result["counts"]["rejects_by_reason"]
    for reason in {e.reason for e in expected.values() if e.outcome == "reject"}:
        assert by_reason.get(reason, 0) >= 1, reason
    assert sum(by_reason.values()) == len(tables["rejects"])


def test_ids_and_urls_never_become_file_paths(hostile_run):
    """Records with ids like "../../../escaped" and file: URLs are data: the run writes only
    the corpus's own layout inside `out`, named by its run id, and nothing beside it."""
    _, _, result = hostile_run
    run = result["run_id"]
    layout = re.compile(
        rf"out/(?:(?:documents|passages|duplicates|rejects|index/[a-z_]+)/run={run}/part-00000\.parquet"
        rf"|index/params\.json|index/rewrite\.json|manifest\.json|runs/{run}\.json|runs/{run}\.inputs\.parquet|\.lock)"
    )
    written = [p for p in result["written"] if not p.startswith("corpus/")]
    assert written and [p for p in written if not layout.fullmatch(p)] == []


def test_names_that_are_not_utf8_are_recorded_so_that_they_name_their_files(hostile_run):
    expected, tables, result = hostile_run
    corpus = Path(result["out"]).parent / "corpus"
    sources = {row["source"] for name in ("documents", "rejects") for row in tables[name]}
    named = {"names/caf\\xe9.txt", "names/r\\xe9seau/glacier.html", "names/back\\\\slash.txt"}
    assert named <= sources
    for source in named:
        assert os.path.isfile(path_of_source(f"{source_of(corpus)}/{source}"))


def test_dates_python_cannot_hold_are_no_date_or_a_reject_never_a_crash(hostile_run):
    _, tables, _ = hostile_run
    documents = {d["source"]: d for d in tables["documents"]}
    rejects = {r["source"]: r for r in tables["rejects"]}
    assert documents["dates/feed.jsonl#3"]["published"] == datetime(
        2026, 3, 4, 23, tzinfo=UTC
    )  # T24:00+01:00
    assert "is outside the years 1 to 9999 once in UTC" in rejects["dates/feed.jsonl#1"]["detail"]
    assert documents["dates/crawl.warc#1"]["fetched"] is None
    assert documents["dates/timestamp.txt"]["published"] is None
    assert documents["dates/offset.html"]["published"] is None
    assert "2 columns are named 'text'" in rejects["tables/twice.parquet"]["detail"]


def test_a_root_folder_whose_name_is_not_utf8_is_given_as_its_source(prefect_server, tmp_path):
    """The flow's paths are JSON text, which cannot hold such a name: it is given as its
    source is written (`cleaner run` does so), and read back."""
    from cleaner_flows.clean_corpus import clean_corpus

    root = os.fsencode(tmp_path) + b"/r\xe9seau"
    os.makedirs(root)
    with open(root + b"/tunnel.txt", "wb") as fh:
        fh.write("\n\n".join(hostile_corpus.TUNNEL[1]).encode())
    given = source_of(os.fsdecode(root))
    assert given.endswith("/r\\xe9seau")
    clean_corpus(paths=[given], out=str(tmp_path / "out"))
    documents = ds.dataset(tmp_path / "out" / "documents", partitioning="hive").to_table().to_pylist()
    assert [d["source"] for d in documents] == [f"{given}/tunnel.txt"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["inputs"] == [given]
