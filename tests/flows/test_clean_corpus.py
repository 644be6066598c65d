"""The flow run through Prefect, end to end, judged on what it wrote to Parquet."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pyarrow.dataset as ds
import pytest

from cleaner.corpus import writers
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.prefect


def _read(out):
    tables = {
        name: ds.dataset(out / name, format="parquet").to_table().to_pylist() for name in writers.DATASETS
    }
    tables["manifest"] = json.loads((out / "manifest.json").read_text())
    return tables


def _page(source: str) -> str:
    return source.split("examples/pages/", 1)[1]


@pytest.fixture(scope="module")
def examples_run(prefect_server, tmp_path_factory):
    from cleaner_flows.clean_corpus import clean_corpus

    out = tmp_path_factory.mktemp("examples-out")
    summary = clean_corpus(paths=[str(EXAMPLES / "pages")], out=str(out))
    return summary, _read(out)


def test_summary_matches_what_was_written(examples_run):
    summary, out = examples_run
    assert summary["rows"] == {name: len(out[name]) for name in writers.DATASETS}
    assert out["manifest"]["run_id"] == summary["run_id"]
    assert out["manifest"]["prefect_flow_run_id"]
    assert set(out["manifest"]["timings_seconds"]) == {"discover", "prepare", "learn", "dedup", "write"}
    steps = out["manifest"]["stages"]["prepare"]["seconds"]
    assert (
        set(steps) == {"read", "extract", "language", "clean", "sketch", "embed", "spool"}
        and steps["extract"] > 0
    )


def test_every_input_record_lands_in_exactly_one_place(examples_run, example_labels):
    _, out = examples_run
    placed = [_page(r["source"]) for table in ("documents", "duplicates", "rejects") for r in out[table]]
    assert sorted(placed) == sorted(example_labels["documents"])


def test_every_planted_duplicate_is_found_and_no_original_dropped(examples_run, example_labels):
    _, out = examples_run
    page_of = {r["doc_id"]: _page(r["source"]) for r in out["documents"] + out["duplicates"]}
    found = {_page(r["source"]): (page_of[r["duplicate_of"]], r["kind"]) for r in out["duplicates"]}
    expected = {
        page: (label["duplicate_of"], label["kind"])
        for page, label in example_labels["documents"].items()
        if label["role"] == "duplicate"
    }
    assert found == expected
    for row in out["duplicates"]:
        assert 0.5 <= row["similarity"] <= 1.0 and row["text"]


def test_planted_passage_duplicates_point_at_their_source(examples_run, example_labels):
    _, out = examples_run
    page_of = {r["doc_id"]: _page(r["source"]) for r in out["documents"] + out["duplicates"]}
    for planted in example_labels["passages"]:
        rows = [
            p
            for p in out["passages"]
            if page_of.get(p["doc_id"]) == planted["page"] and p["text"] == planted["text"]
        ]
        assert len(rows) == 1, planted["text"][:60]
        row = rows[0]
        assert row["status"] in ("exact_duplicate", "near_duplicate")
        assert page_of[row["duplicate_of_doc"]] == planted["duplicate_of_page"]
        kept = [d for d in out["documents"] if _page(d["source"]) == planted["page"]]
        assert kept and planted["text"] not in kept[0]["text"]  # the page stays, minus the copy


def test_chrome_is_gone_and_content_kept(examples_run, example_labels):
    _, out = examples_run
    docs = {_page(d["source"]): d for d in out["documents"]}
    for page, label in example_labels["documents"].items():
        if label["role"] != "original":
            continue
        doc = docs[page]
        paragraphs = set(doc["text"].split("\n\n"))
        leftover = [line for line in example_labels["chrome"].get(page, []) if line in paragraphs]
        assert not leftover, page
        missing = [line for line in example_labels["content"].get(page, []) if line not in paragraphs]
        assert not missing, page
        assert doc["title"] == label["title"], page


def test_learned_boilerplate_catches_an_unknown_sites_chrome(examples_run):
    _, out = examples_run
    learned = {p["text"] for p in out["passages"] if p["rule"] == "learned"}
    assert "The Meridian Post — reader-owned since 1911" in learned
    assert out["manifest"]["stages"]["learned_boilerplate"]["sites"] == 1


def test_passages_account_for_every_line_once(examples_run):
    _, out = examples_run
    keys = [(p["doc_id"], p["position"]) for p in out["passages"]]
    assert len(keys) == len(set(keys))
    by_doc = {}
    for p in out["passages"]:
        by_doc.setdefault(p["doc_id"], []).append(p)
    for doc in out["documents"]:
        rows = sorted(by_doc[doc["doc_id"]], key=lambda p: p["position"])
        assert [p["position"] for p in rows] == list(range(doc["n_passages"]))
        assert doc["text"] == "\n\n".join(p["text"] for p in rows if p["status"] == "kept")
        assert doc["n_dropped_passages"] == sum(p["status"] != "kept" for p in rows)
        for p in rows:
            assert (p["rule"] is not None) == (p["status"] == "boilerplate")
            assert (p["duplicate_of_doc"] is not None) == (p["status"].endswith("_duplicate"))


def test_same_input_same_output(examples_run, prefect_server, tmp_path):
    from cleaner_flows.clean_corpus import clean_corpus

    _, first = examples_run
    clean_corpus(paths=[str(EXAMPLES / "pages")], out=str(tmp_path), config={"run": {"batch_size": 3}})
    second = _read(tmp_path)
    for name in writers.DATASETS:
        assert second[name] == first[name], name


def test_seeds_acceptance(prefect_server, seeds_dir, tmp_path):
    """../shared/seeds: every must_drop line gone, every must_keep line kept, titles right."""
    from cleaner_flows.clean_corpus import clean_corpus

    expected = json.loads((seeds_dir / "expected.json").read_text())
    clean_corpus(paths=[str(seeds_dir)], out=str(tmp_path), config={"rewrite": {"enabled": True}})
    out = _read(tmp_path)
    docs = {d["source"].rsplit("/", 1)[1]: d for d in out["documents"] + out["duplicates"]}
    assert set(docs) == set(expected)
    # 000 is a machine rewrite of 002 (issue 18): it leaves as a duplicate of kind rewrite,
    # with all its content; the independent reports stay
    name_of = {d["doc_id"]: name for name, d in docs.items()}
    rewrites = {name: name_of[d["duplicate_of"]][:3] for name, d in docs.items() if d.get("kind")}
    assert {name[:3]: source for name, source in rewrites.items()} == {"000": "002"}
    assert docs[next(iter(rewrites))]["kind"] == "rewrite"
    for name, exp in expected.items():
        paragraphs = set(docs[name]["text"].split("\n\n"))
        assert not [line for line in exp["must_drop"] if line in paragraphs], name
        assert not [line for line in exp["must_keep"] if line not in paragraphs], name
        assert docs[name]["title"] == exp["title"], name
    assert [r["reason"] for r in out["rejects"]] == ["unsupported_type"]  # expected.json itself


def test_bad_input_is_recorded_not_fatal(prefect_server, tmp_path):
    from cleaner_flows.clean_corpus import clean_corpus

    inbox = tmp_path / "inbox"
    shutil.copytree(EXAMPLES / "pages" / "meridian-post", inbox)
    (inbox / "broken.jsonl").write_text(
        '{"text": "One good record with enough words to be a passage here."}\n{oops\n'
    )
    (inbox / "empty.txt").write_text("")
    (inbox / "scripts.html").write_text(
        "<html><head><script>var x = 1;</script><style>p{}</style></head><body></body></html>"
    )
    (inbox / "nav.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    out = tmp_path / "out"
    clean_corpus(paths=[str(inbox)], out=str(out))
    result = _read(out)
    reasons = sorted((r["source"].rsplit("/", 1)[1], r["reason"]) for r in result["rejects"])
    assert reasons == [
        ("broken.jsonl#2", "invalid_json"),
        ("empty.txt", "empty"),
        ("nav.html", "no_content"),  # trafilatura keeps "Home"; the navigation rule removes it
        ("scripts.html", "no_main_text"),
    ]
    nav = next(r for r in result["rejects"] if r["source"].endswith("nav.html"))
    assert nav["detail"] == "all 1 lines are boilerplate (navigation)"
    assert any(d["source"].endswith("broken.jsonl#1") for d in result["documents"])


def test_a_crawl_archive_runs_through_the_flow_with_urls_fetch_dates_and_skip_counts(
    prefect_server, tmp_path
):
    from cleaner_flows.clean_corpus import clean_corpus
    from tests.test_archives import OSLO, SKIPS, _crawl

    inbox = tmp_path / "crawl"
    inbox.mkdir()
    _crawl(inbox / "news.warc.gz", gzip_records=True)
    clean_corpus(paths=[str(inbox)], out=str(tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["stages"]["read"]["warc_skipped"] == {
        k.removeprefix("warc_skipped_"): n for k, n in SKIPS.items()
    }
    docs = {
        d["url"]: d
        for d in ds.dataset(tmp_path / "out" / "documents", partitioning="hive").to_table().to_pylist()
    }
    assert set(docs) == {
        "https://www.havneposten.example/nyheter/ferge",
        "https://zeitung.example/zuerich/tram",
    }
    oslo = docs["https://www.havneposten.example/nyheter/ferge"]
    assert (
        oslo["fetched"] == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC) and oslo["site"] == "havneposten.example"
    )
    assert oslo["source"].endswith("news.warc.gz#3") and all(p in oslo["text"] for p in OSLO)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"paths": [], "out": "corpus"}, "no input path given (an empty list)"),
        ({"paths": [str(EXAMPLES / "pages")], "out": ""}, "the output folder is an empty path"),
    ],
)
def test_a_deployments_unset_parameters_fail_the_run_in_one_line(
    prefect_server, tmp_path, monkeypatch, params, says
):
    """Templated parameters left empty: `paths: []` cleaned the bundled examples into the
    real corpus and completed; `out: ""` wrote the corpus into the worker's folder."""
    from cleaner_flows.clean_corpus import clean_corpus

    monkeypatch.chdir(tmp_path)
    state = clean_corpus(**params, allow_empty=True, return_state=True)
    assert state.is_failed() and state.message.startswith(says) and "\n" not in state.message
    assert list(tmp_path.iterdir()) == []
