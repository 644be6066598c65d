"""A damaged corpus stops a run before any work, `cleaner check --repair` rebuilds what can be
rebuilt, and changed settings are said and reprocessed on request: the real flow on corpora
it wrote, damaged on disk."""

from __future__ import annotations

import json
import shutil

import pyarrow.dataset as ds
import pytest

from cleaner.corpus import check, writers
from cleaner.errors import OutputError
from tests.runs import clean_corpus
from tests.test_incremental import BRIDGE, FERRY, SCHOOL, _page


def _rows(out, name):
    rows = ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
    return sorted(
        json.dumps({k: v for k, v in r.items() if k != "run"}, default=str, sort_keys=True) for r in rows
    )


@pytest.fixture
def day_one(tmp_path):

    inbox, out = tmp_path / "inbox", tmp_path / "corpus"
    inbox.mkdir()
    _page(inbox / "a-ferry.txt", "Ferry deal keeps the night crossing", FERRY)
    _page(inbox / "b-school.txt", "Western Shore schools to merge", SCHOOL)
    clean_corpus(paths=[str(inbox)], out=str(out))
    return inbox, out


def _day_two(inbox):
    copy = [FERRY[0].replace("twice", "two times"), *FERRY[1:]]
    _page(inbox / "c-ferry-copy.txt", "Islands keep their night ferry", copy)
    _page(inbox / "d-bridge.txt", "Kessel bridge closes to lorries", BRIDGE)


@pytest.mark.parametrize(
    "damage",
    ["index", "params", "manifest", "runs", "documents", "truncated"],
)
def test_a_damaged_corpus_is_refused_before_any_work(day_one, damage):

    inbox, out = day_one
    run = json.loads((out / "manifest.json").read_text())["run_id"]
    if damage == "index":
        shutil.rmtree(out / "index")
    elif damage == "params":
        (out / "index" / "params.json").unlink()
    elif damage == "manifest":
        (out / "manifest.json").write_bytes(b"\x89garbage\xff")
    elif damage == "runs":
        shutil.rmtree(out / "runs")
    elif damage == "documents":
        shutil.rmtree(out / "documents" / f"run={run}")
    else:
        part = out / "passages" / f"run={run}" / "part-00000.parquet"
        part.write_bytes(part.read_bytes()[:-64])
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    _day_two(inbox)
    with pytest.raises(OutputError, match=f"the corpus in {out} is damaged: |manifest.json cannot be read"):
        clean_corpus(paths=[str(inbox)], out=str(out))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before  # nothing added
    if damage == "documents":  # what cannot be repaired is rebuilt from the inputs
        rebuilt = clean_corpus(paths=[str(inbox)], out=str(out), reprocess=True)
        assert rebuilt["counts"]["documents"] == 3 and check.problems(out, deep=True) == []


def test_after_repair_the_next_run_is_the_run_the_undamaged_corpus_makes(day_one, tmp_path):

    inbox, out = day_one
    intact = tmp_path / "intact"
    shutil.copytree(out, intact)
    shutil.rmtree(out / "index")
    (out / "manifest.json").unlink()
    assert check.repair(out) and check.problems(out, deep=True) == []
    _day_two(inbox)
    runs = [clean_corpus(paths=[str(inbox)], out=str(o)) for o in (intact, out)]
    assert runs[0]["counts"] == runs[1]["counts"]
    assert runs[1]["counts"]["duplicate_documents"] == 1 and runs[1]["counts"]["rejects"] == 0
    for name in writers.DATASETS:
        assert _rows(out, name) == _rows(intact, name), name
    assert check.problems(out, deep=True) == []


def test_changed_settings_with_new_files_only_are_a_warning_too(day_one, tmp_path, caplog):
    """A day's inbox holds only new files: the corpus is cleaned with two settings all the
    same, which was said at INFO, without the way to rebuild it."""
    _, out = day_one
    inbox = tmp_path / "day-two"
    inbox.mkdir()
    _day_two(inbox)
    clean_corpus(paths=[str(inbox)], out=str(out), config={"clean": {"disabled_rules": ["share_prompt"]}})
    (said,) = [r for r in caplog.records if r.getMessage().startswith("config: settings changed")]
    assert said.levelname == "WARNING"
    assert said.getMessage().endswith(
        "the documents of earlier runs keep what the old settings made of them: `cleaner run --reprocess` "
        "rebuilds the corpus with the new settings"
    )


def test_changed_settings_are_said_and_reprocess_replaces_the_corpus(day_one, caplog):

    inbox, out = day_one
    first = json.loads((out / "manifest.json").read_text())["run_id"]
    config = {"clean": {"disabled_rules": ["share_prompt"]}}
    _day_two(inbox)
    second = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages"]["config"]["changed"] == ["clean.disabled_rules [] -> ['share_prompt']"]
    (said,) = [r for r in caplog.records if r.getMessage().startswith("config: settings changed")]
    assert said.levelname == "WARNING" and "the 2 inputs read before are skipped" in said.getMessage()
    assert "--reprocess" in said.getMessage()

    # An input the corpus holds is missing: reprocessing would lose its documents.
    (inbox / "b-school.txt").rename(inbox.parent / "b-school.txt")
    before = _rows(out, "documents")
    with pytest.raises(OutputError, match="not among this run's"):
        clean_corpus(paths=[str(inbox)], out=str(out), config=config, reprocess=True)
    assert _rows(out, "documents") == before
    (inbox.parent / "b-school.txt").rename(inbox / "b-school.txt")

    third = clean_corpus(paths=[str(inbox)], out=str(out), config=config, reprocess=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["supersedes"] == sorted([first, second["run_id"]])
    assert sorted(p.name for p in (out / "runs").glob("*.json")) == [f"{third['run_id']}.json"]
    assert check.problems(out, deep=True) == []
    passages = ds.dataset(out / "passages", partitioning="hive").to_table().to_pylist()
    assert {p["run"] for p in passages} == {third["run_id"]}
    shares = [p for p in passages if p["text"] == "Share this article"]
    assert len(shares) == 4 and {p["status"] for p in shares} != {"boilerplate"}  # the new settings
    documents = ds.dataset(out / "documents", partitioning="hive").to_table()
    assert documents.num_rows == 3 and len(set(documents["doc_id"].to_pylist())) == 3
    assert third["counts"]["duplicate_documents"] == 1
    # and the next day's run appends to the rebuilt corpus as to any
    _page(inbox / "e-more.txt", "Western Shore schools to merge", SCHOOL)
    fourth = clean_corpus(paths=[str(inbox)], out=str(out), config=config)
    assert fourth["counts"]["duplicate_documents"] == 1 and fourth["counts"]["documents"] == 0
