"""The per-batch half of a run and the spool, and whole runs through them, without Prefect."""

import json
import pickle
import random

import numpy as np
import pyarrow.dataset as ds

import cleaner
from cleaner import pipeline
from cleaner.clean import language
from cleaner.config import Config
from cleaner.corpus import writers
from cleaner.dedup import embed
from cleaner.dedup.sketch import Sketch
from cleaner.io import readers
from tests.conftest import EXAMPLES
from tests.tracing import peak_bytes

LEDE = "The harbour board agreed on Friday to dredge the northern channel before the autumn storms arrive in force."
MORE = "Fishing crews had warned for two winters that silt left the channel too shallow for loaded boats at low tide."
PAGE = EXAMPLES / "pages" / "northgate-courier" / "news" / "brennmark-dam-cracks.html"
LAST = (
    "Work is due to start in August and will close the northern quay to pleasure craft for about six weeks."
)


def _batches(tmp_path, size):
    inbox = tmp_path / "in"
    inbox.mkdir(exist_ok=True)
    (inbox / "a-original.txt").write_text(f"Harbour to be dredged\n\n{LEDE}\n\n{MORE}\n\n{LAST}\n")
    (inbox / "b-page.html").write_bytes(PAGE.read_bytes())
    records = [
        {"id": "r1", "text": f"{LEDE}\n\n{MORE}\n\n{LAST}"},  # a mirror of a-original
        {"id": "r1", "text": "A second record with the same id, which cannot be the same document."},
        "not an object",
    ]
    (inbox / "c-feed.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    files, rejects = readers.discover([inbox])
    assert not rejects
    ranked = list(enumerate(files))
    return [ranked[i : i + size] for i in range(0, len(ranked), size)]


def _run(tmp_path, batch_size):
    """A whole run (`cleaner.run`), batch by batch, in this process."""
    _batches(tmp_path, batch_size)
    out = tmp_path / f"out-{batch_size}"
    config = Config.from_dict({"run": {"batch_size": batch_size}})
    summary = cleaner.run([tmp_path / "in"], out, config, executor=cleaner.InlineExecutor())
    tables = {name: ds.dataset(out / name).to_table().to_pylist() for name in writers.DATASETS}
    return summary.manifest, tables, out


def test_a_batch_spools_its_documents_and_sketch_and_returns_only_their_names(tmp_path):
    batch = _batches(tmp_path, 10)[0]
    result = pipeline.prepare_batch(7, batch, Config(), str(tmp_path / "spool"))
    (part,) = result.parts
    sketch = pipeline.read_sketch(tmp_path / "spool", part.name)
    docs = pipeline.read_spool(tmp_path / "spool", part.name)
    assert part == pipeline.Part("0000007-0000", len(docs))
    assert [d.doc_id for d in docs] == sketch.doc_ids
    assert sum(len(d.passages) for d in docs) == sketch.n_passages == result.counts["lines"]
    assert all(d.html is None and d.passages for d in docs)  # extracted and split
    assert result.counts["files"] == 3 and result.counts["html_pages"] == 1
    assert result.counts["records"] == 5  # a txt, a page, three JSONL lines
    assert [r.reason for r in result.read_rejects] == ["invalid_record"]
    assert set(result.seconds) == {"read", "extract", "language", "clean", "sketch", "embed", "spool"}
    blob = pickle.dumps(result)
    assert not any(p.text.encode() in blob for d in docs for p in d.passages if len(p.text) > 20)
    # nor their signatures: those are spooled too, and read straight into the joined sketch
    assert sketch.values.shape == (0, Config().dedup.num_perm) and len(sketch.sizes) > 0
    spooled = np.load(pipeline.values_file(tmp_path / "spool", part.name))
    np.testing.assert_array_equal(spooled, Sketch.of(docs, Config().dedup).values)
    assert len(spooled) == len(sketch.sizes)
    assert not list((tmp_path / "spool").glob("*.tmp"))


def test_batches_written_through_the_spool_make_the_corpus(tmp_path):
    manifest, tables, out = _run(tmp_path, 1)
    assert manifest["stages"]["prepare"]["batches"] == 3
    sources = [d["source"].rsplit("/", 1)[1] for d in tables["documents"]]
    assert sources == ["a-original.txt", "b-page.html"]  # in input order
    (mirror,) = tables["duplicates"]
    assert mirror["source"].endswith("c-feed.jsonl#1") and mirror["kind"] == "exact"
    assert mirror["duplicate_of"] == tables["documents"][0]["doc_id"]
    assert [(r["source"].rsplit("/", 1)[1], r["reason"]) for r in tables["rejects"]] == [
        ("c-feed.jsonl#2", "duplicate_id"),
        ("c-feed.jsonl#3", "invalid_record"),
    ]
    assert manifest["counts"]["documents"] == 2 and manifest["rows"]["passages"] == len(tables["passages"])
    assert not list(out.glob(".staging-*"))  # spool and staging are gone after the commit


def test_batch_size_does_not_change_the_corpus(tmp_path):
    *_, one = _run(tmp_path, 1)
    *_, three = _run(tmp_path, 3)
    for name in writers.DATASETS:
        assert ds.dataset(one / name).to_table().equals(ds.dataset(three / name).to_table()), name


def test_a_large_file_is_worked_through_a_part_at_a_time_in_flat_memory(tmp_path):
    """One JSONL file of 10,000 records in one batch: held whole, its documents took 13 times
    the file's size (201 MB for a 15 MB file); a part at a time, about the file's size."""
    rng = random.Random(4)
    words = "ferry harbour council budget school bridge island storm engine contract teacher road".split()
    feed = tmp_path / "feed.jsonl"
    with feed.open("w") as fh:
        for i in range(10_000):
            fh.write(
                json.dumps({"id": f"r{i}", "text": " ".join(rng.choice(words) for _ in range(50))}) + "\n"
            )
    files, _ = readers.discover([feed])
    config = Config.from_dict({"run": {"batch_records": 1_000}})
    # the models (language ~100 MB, embeddings ~35 MB) are loaded once per worker as it starts, not per file
    language.warm_up()
    embed.warm_up()
    result, peak = peak_bytes(
        lambda: pipeline.prepare_batch(0, list(enumerate(files)), config, str(tmp_path / "s"))
    )
    assert [part.docs for part in result.parts] == [1_000] * 10
    assert peak < 3 * feed.stat().st_size
    sketch, parts = pipeline.join([result], tmp_path / "s")
    docs = [d for part in parts for d in pipeline.read_spool(tmp_path / "s", part.name)]
    assert [d.source for d in docs] == [f"{feed.as_posix()}#{i}" for i in range(1, 10_001)]
    assert sketch.doc_ids == [d.doc_id for d in docs]
