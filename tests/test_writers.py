import json
import os
import threading
from datetime import UTC, datetime

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.corpus import writers
from cleaner.document import Document, DuplicateKind, Passage, Reject, Status
from cleaner.errors import OutputError


def write_corpus(out, docs, rejects, manifest) -> dict[str, int]:
    """A corpus held in memory written as a run writes one (staged, committed); rows per dataset."""
    with writers.open_run(out, manifest["run_id"]) as staging:
        writer = writers.CorpusWriter(staging)
        ordered = sorted(docs, key=lambda d: d.order)
        writer.add(ordered, [_kept(d) for d in ordered])
        return writer.commit(rejects, manifest)["rows"]


def _kept(doc) -> bool:
    """What `Sketch.kept_documents` decides in a run, for documents made by hand here: in the
    corpus unless a duplicate or left with no kept line."""
    return not doc.is_duplicate and any(p.status is Status.KEPT for p in doc.passages)


def _corpus(tag="v1"):
    kept = Document(
        doc_id="k1",
        source="in/a.html",
        order=(0, 0),
        kind="html",
        url="https://a.example/x",
        site="a.example",
        title=f"Title {tag}",
        author="Mara Quint",
        published=datetime(2026, 3, 4, 8, 30, tzinfo=UTC),
        language="de",
        extraction="recall",
        passages=[
            Passage(0, "Harbour Herald", Status.BOILERPLATE, rule="site_name"),
            Passage(1, "Zürich – “quoted” text 東京."),
            Passage(2, ""),
            Passage(3, "Second paragraph."),
        ],
    )
    dup = Document(
        doc_id="d1",
        source="in/feed.jsonl#2",
        order=(1, 2),
        kind="text",
        title=None,
        passages=[
            Passage(
                0,
                "Zürich – “quoted” text 東京.",
                Status.EXACT_DUPLICATE,
                duplicate_of_doc="k1",
                duplicate_of_position=1,
                similarity=1.0,
            ),
            Passage(1, "READ MORE", Status.BOILERPLATE, rule="read_more"),
        ],
        duplicate_of="k1",
        duplicate_kind=DuplicateKind.CONTAINED,
        duplicate_similarity=1.0,
    )
    empty = Document(
        doc_id="e1",
        source="in/z.txt",
        order=(2, 0),
        kind="text",
        passages=[Passage(0, "ss", Status.BOILERPLATE, rule="debris")],
    )
    rejects = [
        Reject("in/z.txt", "no_content", "all 1 lines are boilerplate (debris)", doc_id="e1"),
        Reject("in/b.pdf", "unsupported_type", "pdf"),
    ]
    return [dup, kept, empty], rejects


def _manifest(docs, rejects, run_id):
    return writers.build_manifest(
        run_id=run_id,
        inputs=["in"],
        config={"x": 1},
        stages={},
        timings={"read": 0.5},
        versions={},
    )


def _write(out, tag="v1", run_id="run-1"):
    docs, rejects = _corpus(tag)
    return write_corpus(out, docs, rejects, _manifest(docs, rejects, run_id))


def test_datasets_read_back_with_their_schemas(tmp_path):
    rows = _write(tmp_path)
    assert rows == {"documents": 1, "passages": 7, "duplicates": 1, "rejects": 2}
    for name, schema in writers.SCHEMAS.items():
        table = ds.dataset(tmp_path / name, format="parquet").to_table()
        assert table.schema.equals(schema), name
        assert table.num_rows == rows[name]
        (part,) = (tmp_path / name).glob("run=run-1/*.parquet")  # a partition per run
        meta = pq.ParquetFile(part).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"
    doc = ds.dataset(tmp_path / "documents").to_table().to_pylist()[0]
    assert doc == {
        "doc_id": "k1",
        "source": "in/a.html",
        "url": "https://a.example/x",
        "site": "a.example",
        "title": "Title v1",
        "author": "Mara Quint",
        "published": datetime(2026, 3, 4, 8, 30, tzinfo=UTC),
        "fetched": None,
        "language": "de",
        "extraction": "recall",
        "text": "Zürich – “quoted” text 東京.\n\n\n\nSecond paragraph.",
        "n_passages": 4,
        "n_dropped_passages": 1,
    }
    passages = ds.dataset(tmp_path / "passages").to_table().to_pylist()
    assert [(p["doc_id"], p["position"], p["status"]) for p in passages] == [
        ("k1", 0, "boilerplate"),
        ("k1", 1, "kept"),
        ("k1", 2, "kept"),
        ("k1", 3, "kept"),
        ("d1", 0, "exact_duplicate"),
        ("d1", 1, "boilerplate"),
        ("e1", 0, "boilerplate"),
    ]  # input order: documents sorted by (file rank, record)
    assert passages[2]["text"] == "" and passages[0]["similarity"] is None
    assert passages[4]["duplicate_of_doc"] == "k1" and passages[4]["duplicate_of_position"] == 1
    dup = ds.dataset(tmp_path / "duplicates").to_table().to_pylist()[0]
    assert (dup["duplicate_of"], dup["kind"], dup["similarity"], dup["title"]) == (
        "k1",
        "contained",
        1.0,
        None,
    )
    assert dup["text"] == "Zürich – “quoted” text 東京."
    rejects = ds.dataset(tmp_path / "rejects").to_table().to_pylist()
    assert [r["reason"] for r in rejects] == ["unsupported_type", "no_content"]  # sorted by source


def test_a_page_without_content_joins_back_to_its_file(tmp_path):
    """Its lines are in passages/, which name their source; its reject names its doc_id."""
    _write(tmp_path)
    passages = ds.dataset(tmp_path / "passages").to_table().to_pylist()
    assert {(p["doc_id"], p["source"]) for p in passages} == {
        ("k1", "in/a.html"),
        ("d1", "in/feed.jsonl#2"),
        ("e1", "in/z.txt"),
    }
    rejects = {r["source"]: r for r in ds.dataset(tmp_path / "rejects").to_table().to_pylist()}
    assert rejects["in/z.txt"]["doc_id"] == "e1" and rejects["in/b.pdf"]["doc_id"] is None
    (line,) = [p for p in passages if p["doc_id"] == rejects["in/z.txt"]["doc_id"]]
    assert line["text"] == "ss" and line["rule"] == "debris"


def test_manifest_counts(tmp_path):
    _write(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["schema_version"] == 4 and manifest["run_id"] == "run-1"
    assert json.loads((tmp_path / "runs" / "run-1.json").read_text()) == manifest
    counts = manifest["counts"]
    assert counts["documents"] == 1 and counts["duplicate_documents"] == 1 and counts["rejects"] == 2
    assert counts["passages_by_status"] == {
        "kept": 3,
        "boilerplate": 3,
        "exact_duplicate": 1,
        "near_duplicate": 0,
        "rewrite": 0,
    }
    assert counts["boilerplate_by_rule"] == {"debris": 1, "read_more": 1, "site_name": 1}
    assert counts["duplicates_by_kind"] == {"contained": 1}
    assert manifest["rows"]["passages"] == 7
    timings = manifest["timings_seconds"]
    assert set(timings) == {"read", "write"} and timings["read"] == 0.5 and timings["write"] > 0


def test_empty_run_still_writes_readable_datasets(tmp_path):
    write_corpus(tmp_path, [], [], _manifest([], [], "empty"))
    for name in writers.DATASETS:
        assert ds.dataset(tmp_path / name).to_table().num_rows == 0


def test_a_failed_write_leaves_the_previous_corpus(tmp_path, monkeypatch):
    _write(tmp_path, "v1", "run-1")
    before = {name: ds.dataset(tmp_path / name).to_table() for name in writers.DATASETS}
    real = writers.duplicate_rows

    def disk_full(docs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers, "duplicate_rows", disk_full)
    with pytest.raises(
        OutputError, match=f"^no space left on the device of {tmp_path}: the run had written "
    ):
        _write(tmp_path, "v2", "run-2")
    for name in writers.DATASETS:
        assert ds.dataset(tmp_path / name).to_table().equals(before[name])
    assert json.loads((tmp_path / "manifest.json").read_text())["run_id"] == "run-1"
    assert not list(tmp_path.glob(".staging-*"))  # the failed run took its staging with it
    monkeypatch.setattr(writers, "duplicate_rows", real)
    _write(tmp_path, "v3", "run-3")  # the next run cleans up and completes
    assert not list(tmp_path.glob(".staging-*"))
    assert ds.dataset(tmp_path / "documents").to_table()["title"].to_pylist() == ["Title v1", "Title v3"]


@pytest.mark.parametrize("crash_after_moves", [0, 2, 3])
def test_a_commit_killed_half_way_is_rolled_forward(tmp_path, monkeypatch, crash_after_moves):
    _write(tmp_path, "v1", "run-1")
    moves = []
    real_rename = os.rename

    class Killed(BaseException):
        pass

    def rename(src, dst):
        if str(src).count(".staging-") and len(moves) >= crash_after_moves:
            raise Killed()
        moves.append(src)
        return real_rename(src, dst)

    monkeypatch.setattr("pathlib.Path.rename", lambda self, target: rename(self, target) or target)
    with pytest.raises(Killed):
        _write(tmp_path, "v2", "run-2")
    monkeypatch.undo()
    assert (tmp_path / ".commit.json").exists()
    writers.recover(tmp_path)
    assert not (tmp_path / ".commit.json").exists()
    assert not list(tmp_path.glob(".staging-*")) and not list(tmp_path.glob(".trash-*"))
    assert ds.dataset(tmp_path / "documents").to_table()["title"].to_pylist() == ["Title v1", "Title v2"]
    assert json.loads((tmp_path / "manifest.json").read_text())["run_id"] == "run-2"
    for name in writers.DATASETS:
        assert ds.dataset(tmp_path / name).count_rows() >= 1


def test_other_files_in_the_output_folder_are_left_alone(tmp_path):
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "notes.md").write_text("mine")
    _write(tmp_path)
    _write(tmp_path, "v2", "run-2")
    assert (tmp_path / ".gitkeep").exists() and (tmp_path / "notes.md").read_text() == "mine"


def test_a_second_writer_is_refused_while_one_holds_the_lock(tmp_path):
    with writers.locked(tmp_path), pytest.raises(OutputError, match="another cleaner run"):
        _write(tmp_path)


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "out"
    target.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        _write(target)


def test_runs_append_partitions_and_never_rewrite_one(tmp_path):
    _write(tmp_path, "v1", "run-1")
    first = {p: p.read_bytes() for p in tmp_path.rglob("*.parquet")}
    _write(tmp_path, "v2", "run-2")
    assert all(p.read_bytes() == data for p, data in first.items())
    table = ds.dataset(tmp_path / "documents", partitioning="hive").to_table()
    assert table["run"].to_pylist() == ["run-1", "run-2"]
    assert table["title"].to_pylist() == ["Title v1", "Title v2"]


def test_an_empty_run_adds_no_partition_where_the_dataset_has_one(tmp_path):
    _write(tmp_path, "v1", "run-1")
    write_corpus(tmp_path, [], [], _manifest([], [], "run-2"))
    assert not list(tmp_path.rglob("run=run-2"))
    assert json.loads((tmp_path / "manifest.json").read_text())["run_id"] == "run-2"


def test_a_schema_1_corpus_is_refused_not_appended_to(tmp_path):
    (tmp_path / "documents").mkdir()
    pq.write_table(writers.DOCUMENTS_SCHEMA.empty_table(), tmp_path / "documents" / "part-00000.parquet")
    with pytest.raises(OutputError, match="schema version 1"):
        _write(tmp_path)
    assert not list(tmp_path.glob(".staging-*"))


def test_a_row_group_that_fails_on_its_thread_fails_the_run_as_written(tmp_path, monkeypatch):
    """Row groups are written on threads of their own: a full disk there is the run's one-line
    error, and the corpus stays as it was, as when the main thread writes."""
    _write(tmp_path, "v1", "run-1")
    before = {name: ds.dataset(tmp_path / name).to_table() for name in writers.DATASETS}
    threads = []

    def disk_full(self, table, row_group_size=None):
        threads.append(threading.current_thread().name)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", disk_full)
    with pytest.raises(OutputError, match="^no space left on the device of "):
        _write(tmp_path, "v2", "run-2")
    assert threads and all(name.startswith("cleaner-write") for name in threads)
    for name in writers.DATASETS:
        assert ds.dataset(tmp_path / name).to_table().equals(before[name])
    assert not list(tmp_path.glob(".staging-*"))


def test_rows_with_long_texts_are_flushed_before_the_row_count_says(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "_CHARS_PER_GROUP", 1000)
    docs = [
        Document(f"k{i}", f"in/{i}.txt", (i, 0), "text", passages=[Passage(0, "x" * 400)]) for i in range(7)
    ]
    write_corpus(tmp_path, docs, [], _manifest(docs, [], "run-1"))
    (part,) = (tmp_path / "documents").rglob("*.parquet")
    meta = pq.ParquetFile(part).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [3, 3, 1]
    assert ds.dataset(tmp_path / "documents").to_table()["doc_id"].to_pylist() == [f"k{i}" for i in range(7)]


# -- the record type survives Parquet: a property over generated documents ----------------

# Any Unicode a reader can produce (no lone surrogates: readers replace them), including
# NUL, control characters, other scripts and emoji; and empty strings, which must stay empty
# rather than become null.
_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
_OPTIONAL = st.one_of(st.none(), st.just(""), _TEXT)
_WHEN = st.none() | st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31), timezones=st.just(UTC))


@st.composite
def _passages(draw) -> list[Passage]:
    passages = []
    for position in range(draw(st.integers(0, 5))):
        status = draw(st.sampled_from(list(Status)))
        passage = Passage(position, draw(_TEXT), status)
        if status is Status.BOILERPLATE:
            passage.rule = draw(st.sampled_from(["share_prompt", "learned", ""]))
        elif status is not Status.KEPT:
            passage.duplicate_of_doc = draw(_TEXT)
            passage.duplicate_of_position = draw(st.integers(0, 2**31 - 1))
            passage.similarity = draw(st.floats(0, 1))
        passages.append(passage)
    return passages


@st.composite
def _documents(draw) -> list[Document]:
    docs = []
    for number in range(draw(st.integers(0, 6))):
        doc = Document(
            doc_id=f"{number}-{draw(_TEXT)}",
            source=draw(_TEXT),
            order=(number, 0),
            kind="text",
            url=draw(_OPTIONAL),
            site=draw(_OPTIONAL),
            title=draw(_OPTIONAL),
            author=draw(_OPTIONAL),
            published=draw(_WHEN),
            fetched=draw(_WHEN),
            passages=draw(_passages()),
        )
        if draw(st.booleans()):
            doc.duplicate_of = draw(_TEXT)
            doc.duplicate_kind = draw(st.sampled_from(list(DuplicateKind)))
            doc.duplicate_similarity = draw(st.none() | st.floats(0, 1))
        docs.append(doc)
    return docs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=_documents(), rejects=st.lists(st.builds(Reject, _TEXT, _TEXT, _TEXT), max_size=4))
def test_a_parquet_round_trip_of_the_record_type_loses_nothing(tmp_path_factory, docs, rejects):
    out = tmp_path_factory.mktemp("roundtrip")
    write_corpus(out, docs, rejects, _manifest(docs, rejects, "r1"))

    def read(name):
        rows = ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
        return [{k: v for k, v in row.items() if k != "run"} for row in rows]

    ordered = sorted(docs, key=lambda d: d.order)
    assert read("documents") == list(writers.document_rows(ordered, map(_kept, ordered)))
    assert read("passages") == list(writers.passage_rows(ordered))
    assert read("duplicates") == list(writers.duplicate_rows(ordered))
    assert read("rejects") == list(writers.reject_rows(sorted(rejects, key=lambda r: (r.source, r.reason))))
    # and the rows say what the records hold: text, empty strings and nulls as they were
    for row, doc in zip(read("documents"), [d for d in ordered if _kept(d)], strict=True):
        assert (row["title"], row["url"], row["author"], row["published"], row["fetched"]) == (
            doc.title,
            doc.url,
            doc.author,
            doc.published,
            doc.fetched,
        )


def test_a_corpus_of_another_schema_version_is_refused(tmp_path):
    _write(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "schema_version": 2}))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(OutputError, match="schema version 2, this cleaner writes version 4"):
        _write(tmp_path, run_id="run-2")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_folder_made_for_a_run_that_commits_nothing_is_removed(tmp_path):
    """No input (an error, or allowed): the corpus is as it was, which for a new --out is
    no folder, not one holding a lock file."""
    import cleaner
    from cleaner.errors import InputError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    out = tmp_path / "new" / "corpus"
    with pytest.raises(InputError, match="no input found"):
        cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor())
    assert not out.exists()
    cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor(), allow_empty=True)
    assert not out.exists()
    out.mkdir(parents=True)  # a folder of the user's stays, as it was
    cleaner.run([inbox], out, None, executor=cleaner.InlineExecutor(), allow_empty=True)
    assert out.is_dir()


def test_the_readme_states_the_types_a_run_writes(tmp_path):
    """The README's "Types:" paragraph against the schemas of a real run's datasets."""
    import cleaner
    from tests.conftest import EXAMPLES

    out = tmp_path / "out"
    cleaner.run([EXAMPLES / "pages"], out, None, executor=cleaner.InlineExecutor())
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    stated = readme.split("\nTypes: ", 1)[1].split("\n\n", 1)[0]
    typed = {}
    for name in writers.DATASETS:
        schema = pq.read_schema(next((out / name).glob("run=*/*.parquet")))
        for field in schema:
            typed.setdefault(str(field.type), set()).add(field.name)
    assert typed.pop("string") >= {"doc_id", "source", "status", "reason", "detail", "text"}
    assert typed == {
        "timestamp[us, tz=UTC]": {"published", "fetched"},
        "int32": {"n_passages", "n_dropped_passages", "position", "duplicate_of_position"},
        "double": {"similarity"},
    }
    for kind, names in typed.items():
        assert f"are `{kind}`" in stated or f"is `{kind}`" in stated, kind
        assert all(f"`{n}`" in stated for n in names), names


def test_run_ids_sort_in_the_order_the_runs_started_within_one_second():
    """`check` orders runs that added no document by id: with a random suffix after the
    second, two quick empty runs sorted at random, and manifest.json was said to be an
    older copy put back."""
    from datetime import timedelta

    start = datetime(2026, 12, 7, 19, 1, 17, tzinfo=UTC)
    times = [start + timedelta(microseconds=us) for us in (0, 1, 2, 500_000, 999_999, 1_000_000)]
    for _ in range(20):
        ids = [writers.new_run_id(t) for t in times]
        assert sorted(ids) == ids and len(set(ids)) == len(ids)
    assert ids[0].startswith("20261207T190117Z-") and len(ids[0]) == len("20261207T190117Z-") + 8
