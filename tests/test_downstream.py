"""The README's snippets for reading the corpus downstream (pyarrow, DuckDB, pandas, Hugging
Face datasets), run exactly as written there on a corpus the flow made of the bundled
examples, in a folder where `output/` is that corpus."""

from __future__ import annotations

import json
import re

import pyarrow.dataset as ds
import pytest

from tests.conftest import REPO
from tests.example_corpus import example_corpus

pytestmark = pytest.mark.prefect

TOOLS = ("pyarrow", "duckdb", "pandas", "datasets")


def readme_snippet(tool: str) -> str:
    """The fenced block after the README's `<!-- downstream: TOOL -->` marker."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"^<!-- downstream: {tool} -->\n```python\n(.*?)^```", readme, re.S | re.M)
    assert found, f"README.md has no '<!-- downstream: {tool} -->' block"
    return found.group(1)


@pytest.fixture(scope="module")
def corpus(prefect_server, tmp_path_factory):
    return example_corpus(tmp_path_factory)


@pytest.fixture(scope="module")
def documents(corpus):
    return (
        ds.dataset(corpus / "documents", partitioning="hive").to_table(columns=["doc_id", "site"]).to_pylist()
    )


@pytest.fixture
def run_snippet(corpus, tmp_path, monkeypatch):
    (tmp_path / "output").symlink_to(corpus, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))

    def run(tool: str) -> dict:
        namespace: dict = {}
        exec(compile(readme_snippet(tool), f"README.md:{tool}", "exec"), namespace)
        return namespace

    return run


def test_every_tool_has_a_snippet():
    for tool in TOOLS:
        assert readme_snippet(tool).strip()


def test_pyarrow(run_snippet, documents, corpus):
    table = run_snippet("pyarrow")["table"]
    assert table.column_names == ["doc_id", "title", "published", "run"]
    wire = sorted(d["doc_id"] for d in documents if d["site"] == "valley-wire.example")
    assert len(wire) == 3 and sorted(table.column("doc_id").to_pylist()) == wire
    run_id = json.loads((corpus / "manifest.json").read_text())["run_id"]
    assert set(table.column("run").to_pylist()) == {run_id}


def test_duckdb(run_snippet, documents):
    per_site = run_snippet("duckdb")["per_site"]
    expected: dict = {}
    for d in documents:
        expected[d["site"] or "(none)"] = expected.get(d["site"] or "(none)", 0) + 1
    assert {site: n for site, n, _ in per_site} == expected
    assert [n for _, n, _ in per_site] == sorted(expected.values(), reverse=True)
    assert all(first is not None for _, _, first in per_site)


def test_pandas(run_snippet, corpus):
    per_rule = run_snippet("pandas")["per_rule"]
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert per_rule.to_dict() == manifest["counts"]["boilerplate_by_rule"]


def test_datasets_offline(run_snippet, documents, tmp_path):
    namespace = run_snippet("datasets")
    corpus = namespace["corpus"]
    assert corpus.num_rows == len(documents)
    assert sorted(corpus["doc_id"]) == sorted(d["doc_id"] for d in documents)
    first = namespace["first"]
    assert first["doc_id"] == corpus[0]["doc_id"] and first["text"].strip()
    assert (tmp_path / "hf-home").is_dir()  # its cache went to the test's folder, not ~/.cache


def test_datasets_reads_a_dataset_whose_first_run_found_nothing(corpus, tmp_path, monkeypatch):
    """The examples have no rejects, so their run wrote `rejects/` a partition of none; a later
    run's rejects join it. That partition is a file of the schema and no row group: `datasets`
    takes its batch size from a file's first row group, and a group of 0 rows stopped it
    ("BatchSize must be greater than 0") for good, however the corpus grew."""
    import shutil

    from datasets import load_dataset

    from cleaner.runner import run

    out = tmp_path / "output"
    shutil.copytree(corpus, out)
    assert ds.dataset(out / "rejects", partitioning="hive").count_rows() == 0
    day2 = tmp_path / "day2"
    day2.mkdir()
    (day2 / "feed.jsonl").write_text(
        '{"text": "A story of its own, told in one line of a feed."}\nnot json\n'
    )
    run([day2], out)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for name in ("rejects", "documents"):
        files = sorted(str(path) for path in (out / name).glob("*/*.parquet"))
        loaded = load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "cache"))
        assert loaded.num_rows == ds.dataset(out / name, partitioning="hive").count_rows() > 0, name
