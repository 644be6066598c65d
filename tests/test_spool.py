"""The spool's parts (`cleaner.spool`): Arrow files written and read back, and the corpus's
rows made from them by column equal to those `Sketch.apply` and the row functions make."""

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from cleaner import pipeline, runner, spool
from cleaner.clean import lines
from cleaner.config import Config
from cleaner.corpus import writers
from cleaner.dedup.sketch import Sketch
from cleaner.document import Document, Passage, Status
from cleaner.errors import CleanerError
from cleaner.io import readers
from tests.conftest import EXAMPLES


def _doc(i, passages, **fields):
    return Document(f"d{i}", f"in/{i}.txt", (i, 0), "text", passages=passages, **fields)


def test_a_part_reads_back_as_the_documents_spooled(tmp_path):
    docs = [
        _doc(
            0,
            [Passage(0, "Menu"), Passage(1, "A line of news text."), Passage(2, "é ✓ 中文")],
            url="https://a.example/x",
            site="a.example",
            site_name="The A",
            title="Title",
            author="Someone",
            published=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
            fetched=datetime(2024, 5, 7, tzinfo=UTC),
            extraction="precision",
            language="en",
        ),
        _doc(1, []),  # no passage at all
        Document(
            "d2",
            "in/feed.jsonl#3",
            (2, 3),
            "html",
            published=datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))),
        ),
    ]
    docs[0].passages[0].drop("navigation")
    pipeline.write_spool(tmp_path, "0000000-0000", docs)
    back = pipeline.read_spool(tmp_path, "0000000-0000")
    assert back[:2] == docs[:2]
    # a time with a zone is kept as the instant, in UTC, as the corpus stores it
    assert back[2].published == datetime(2024, 1, 1, 7, tzinfo=UTC) and back[2].order == (2, 3)
    assert [p.status for p in back[0].passages] == [Status.BOILERPLATE, Status.KEPT, Status.KEPT]
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["missing", "truncated", "garbage", "other_part"])
def test_a_missing_or_damaged_part_is_a_one_line_error_naming_it(tmp_path, damage):
    docs = [_doc(i, [Passage(0, f"Line {i} of a page.")]) for i in range(3)]
    pipeline.write_spool(tmp_path, "0000001-0002", docs)
    path = pipeline.spool_file(tmp_path, "0000001-0002")
    part = pipeline.Part("0000001-0002", 3)
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\0" * 4096)
    else:  # a whole part, but of two documents where the run spooled three
        pipeline.write_spool(tmp_path, "0000001-0002", docs[:2])
    with pytest.raises(CleanerError) as caught:
        pipeline.read_part(tmp_path, part)
    message = str(caught.value)
    assert isinstance(caught.value, spool.SpoolError)
    assert "part 0000001-0002 of the run's spool" in message and "\n" not in message


def _deduplicated(tmp_path, batch_records=5):
    """The examples and a feed with a repeated id and empty records, prepared in parts of
    `batch_records`, learned and deduplicated as a run does; the spool, sketch and parts."""
    feed = tmp_path / "in" / "feed.jsonl"
    feed.parent.mkdir()
    page = (EXAMPLES / "pages" / "northgate-courier" / "news" / "brennmark-dam-cracks.html").read_text()
    records = [
        {"id": "x1", "text": "Share this article\n\nRead more"},  # boilerplate only: no_content
        {"id": "x2", "text": ""},
        {"id": "x1", "text": "The same id again, which cannot be the same document as the first."},
        {"id": "x3", "html": page},  # a page of the examples again: a duplicate of an earlier run's
    ]
    feed.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    files, _ = readers.discover([EXAMPLES / "pages", feed.parent])
    config = Config.from_dict({"run": {"batch_records": batch_records}})
    folder = tmp_path / "spool"
    results = [pipeline.prepare_batch(0, list(enumerate(files)), config, str(folder))]
    sketch, parts = pipeline.join(results, folder)
    assert len(parts) > 3  # the verdicts are placed part by part
    sketch.exclude_repeated_ids()
    runner.learn_boilerplate(sketch, config.clean)
    texts = pipeline.spool_texts(folder, sketch, parts)
    runner.dedup_stage(sketch, config, None, texts, runner.InlineExecutor(), tmp_path / "lsh")
    return folder, sketch, parts


def test_placed_columns_are_the_rows_of_the_documents_with_the_verdicts_applied(tmp_path):
    folder, sketch, parts = _deduplicated(tmp_path)
    kept = sketch.kept_documents()
    assert sketch.learned.any() and sketch.excluded.any() and (sketch.doc_dup_of >= 0).any()
    seen = {"rejects": 0, "duplicates": 0}
    tally, placed_tally = writers.Tally(), writers.Tally()
    first = 0
    for part in parts:
        placed = spool.place(pipeline.read_part(folder, part), part.name, sketch, first, kept)
        docs = sketch.apply(pipeline.read_spool(folder, part.name), first)
        verdicts = sketch.kept_of(first, part.docs, kept)
        first += part.docs
        assert placed.documents.to_pylist() == list(writers.document_rows(docs, verdicts))
        assert placed.passages.to_pylist() == list(writers.passage_rows(docs))
        assert placed.duplicates.to_pylist() == list(writers.duplicate_rows(docs))
        assert placed.rejects == lines.no_content_rejects(docs)
        assert placed.documents.schema == writers.DOCUMENTS_SCHEMA
        tally.add(docs, verdicts)
        placed_tally.add_counts(placed.statuses, placed.rules, placed.kinds, placed.kept)
        seen["rejects"] += len(placed.rejects)
        seen["duplicates"] += placed.duplicates.num_rows
    assert seen["rejects"] >= 1 and seen["duplicates"] >= 3
    assert placed_tally.counts([]) == tally.counts([])


def test_the_exact_check_reads_the_texts_of_signed_passages(tmp_path):
    folder, sketch, parts = _deduplicated(tmp_path)
    docs = [d for part in parts for d in pipeline.read_spool(folder, part.name)]
    passages = [p.text for d in docs for p in d.passages]
    rows = np.array([len(sketch.sizes) - 1, 0, 3, 3], dtype=np.int64)
    expected = [passages[k] for k in sketch.signed_passages(rows).tolist()]
    assert pipeline.spool_texts(folder, sketch, parts)(rows) == expected


def test_the_write_stops_on_a_damaged_part_and_commits_nothing(tmp_path):
    out = tmp_path / "out"
    (out / ".staging-run-1").mkdir(parents=True)
    staging = out / ".staging-run-1"
    folder = staging / pipeline.SPOOL
    docs = [
        _doc(i, [Passage(0, f"Line {i} of a page, long enough to be a paragraph of news.")]) for i in range(2)
    ]
    pipeline.write_spool(folder, "0000000-0000", docs)
    sketch = Sketch.of(docs, Config().dedup)
    pipeline.spool_file(folder, "0000000-0000").write_bytes(b"ARROW1")
    manifest = writers.build_manifest(
        run_id="run-1", inputs=[], config={}, stages={}, timings={}, versions={}
    )
    with pytest.raises(spool.SpoolError, match="part 0000000-0000 of the run's spool cannot be read"):
        pipeline.write_run(staging, sketch, [pipeline.Part("0000000-0000", 2)], [], manifest)
    assert not (out / writers.MANIFEST).exists() and not (out / "documents").exists()


def test_a_part_of_no_documents_places_no_rows(tmp_path):
    """Every page of a part may fail extraction: its part holds no document."""
    pipeline.write_spool(tmp_path, "0000000-0000", [])
    docs = [_doc(0, [Passage(0, "A line of news text that is long enough to count as a paragraph.")])]
    sketch = Sketch.concat([Sketch.of([], Config().dedup), Sketch.of(docs, Config().dedup)])
    placed = spool.place(
        pipeline.read_part(tmp_path, pipeline.Part("0000000-0000", 0)),
        "0000000-0000",
        sketch,
        0,
        sketch.kept_documents(),
    )
    assert (placed.documents.num_rows, placed.passages.num_rows, placed.duplicates.num_rows) == (0, 0, 0)
    assert placed.rejects == [] and placed.kept == 0 and sum(placed.statuses.values()) == 0
