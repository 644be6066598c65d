"""The per-batch half of a run and the spool, without Prefect: the flow only wraps these."""

import json
import pickle

import numpy as np
import pyarrow.dataset as ds

from cleaner import clean, dedup, pipeline, readers, writers
from cleaner.config import Config
from cleaner.sketch import Sketch
from tests.conftest import EXAMPLES

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
    """What the flow does, batch by batch, in this process."""
    config = Config()
    out = tmp_path / f"out-{batch_size}"
    with writers.open_run(out, f"run-{batch_size}") as staging:
        spool = str(staging / pipeline.SPOOL)
        results = [
            pipeline.prepare_batch(i, batch, config, spool)
            for i, batch in enumerate(_batches(tmp_path, batch_size))
        ]
        sketch = Sketch.concat([r.sketch for r in results], pipeline.spooled_values(spool, len(results)))
        rejects = sketch.exclude_repeated_ids() + [
            x for r in results for x in r.read_rejects + r.extract_rejects
        ]
        clean.apply_learned(sketch, clean.learn_boilerplate(sketch, config.clean))
        dedup.deduplicate_sketch(sketch, config.dedup)
        manifest = writers.build_manifest(
            run_id=f"run-{batch_size}", inputs=[], config={}, stages={}, timings={}, versions={}
        )
        manifest = pipeline.write_run(staging, sketch, len(results), rejects, manifest)
    tables = {name: ds.dataset(out / name).to_table().to_pylist() for name in writers.DATASETS}
    return results, manifest, tables, out


def test_a_batch_spools_its_documents_and_returns_only_their_sketch(tmp_path):
    batch = _batches(tmp_path, 10)[0]
    result = pipeline.prepare_batch(7, batch, Config(), str(tmp_path / "spool"))
    docs = pipeline.read_spool(tmp_path / "spool", 7)
    assert [d.doc_id for d in docs] == result.sketch.doc_ids
    assert sum(len(d.passages) for d in docs) == result.sketch.n_passages == result.counts["lines"]
    assert all(d.html is None and d.passages for d in docs)  # extracted and split
    assert result.counts["files"] == 3 and result.counts["html_pages"] == 1
    assert result.counts["records"] == 5  # a txt, a page, three JSONL lines
    assert [r.reason for r in result.read_rejects] == ["invalid_record"]
    assert set(result.seconds) == {"read", "extract", "language", "clean", "sketch", "spool"}
    blob = pickle.dumps(result)
    assert not any(p.text.encode() in blob for d in docs for p in d.passages if len(p.text) > 20)
    # nor their signatures: those are spooled too, and read straight into the joined sketch
    assert result.sketch.values.shape == (0, Config().dedup.num_perm) and len(result.sketch.sizes) > 0
    spooled = np.load(pipeline.values_file(tmp_path / "spool", 7))
    np.testing.assert_array_equal(spooled, Sketch.of(docs, Config().dedup).values)
    assert len(spooled) == len(result.sketch.sizes)
    assert not list((tmp_path / "spool").glob("*.tmp"))


def test_batches_written_through_the_spool_make_the_corpus(tmp_path):
    results, manifest, tables, out = _run(tmp_path, 1)
    assert len(results) == 3
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
    assert not (out / ".staging-run-1").exists()  # spool and staging are gone after the commit


def test_batch_size_does_not_change_the_corpus(tmp_path):
    *_, one = _run(tmp_path, 1)
    *_, three = _run(tmp_path, 3)
    for name in writers.DATASETS:
        assert ds.dataset(one / name).to_table().equals(ds.dataset(three / name).to_table()), name
