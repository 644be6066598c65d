"""The corpus's dedup index: written with a run, read back by the next one."""

import numpy as np
import pyarrow.dataset as ds
import pytest

from cleaner.config import DedupConfig
from cleaner.corpus import index, writers
from cleaner.dedup.sketch import Sketch
from cleaner.dedup.visit import deduplicate_sketch
from cleaner.document import Document, Passage, Status
from cleaner.errors import OutputError
from cleaner.io.records import Seen

OLD = [
    [
        "The harbour board agreed on Friday to dredge the northern channel before the autumn storms arrive in force.",
        "Fishing crews had warned for two winters that silt left the channel too shallow for loaded boats at low tide.",
    ],
    [
        "A new cycle path along the river will open in June, linking the old town with the university campus in the north.",
        "The council said the path would cost less than a tenth of the road widening that had been planned for the same stretch.",
    ],
]
NEW_COPY = [OLD[0][0].replace("Friday", "Thursday"), OLD[0][1]]
NEW_OWN = [
    "Tickets for the summer music festival sold out within an hour of going on sale, the organisers said on Monday."
]


def _docs(groups, prefix, first_order=0):
    return [
        Document(
            f"{prefix}{i}",
            f"in/{prefix}{i}.txt",
            (first_order + i, 0),
            "text",
            passages=[Passage(j, t) for j, t in enumerate(g)],
        )
        for i, g in enumerate(groups)
    ]


def _commit(out, run_id, sketch, docs, config, first_number=0):
    """What a run's write does: the corpus and the run's index partition, in one commit."""
    with writers.open_run(out, run_id) as staging:
        writer = writers.CorpusWriter(staging)
        writer.add(sketch.apply(docs), sketch.kept_of(0, len(docs)))
        manifest = writers.build_manifest(
            run_id=run_id, inputs=[], config={}, stages={}, timings={}, versions={}
        )
        inputs = index.input_rows([Seen(0, "in/x.txt", 1, 2, "d1", "/data/in/x.txt")], [])
        tables = index.run_tables(sketch, first_number, inputs, config)
        writer.commit([], manifest, tables, index.params_file(config))


def _first_run(out, config):
    docs = _docs(OLD, "old")
    sketch = Sketch.of(docs, config)
    deduplicate_sketch(sketch, config)
    _commit(out, "run-1", sketch, docs, config)
    return docs


def test_a_run_is_deduplicated_against_the_indexed_corpus(tmp_path):
    config = DedupConfig()
    _first_run(tmp_path, config)
    corpus = index.Index(tmp_path, config)
    assert corpus.n_docs() == 2
    assert corpus.known_inputs == {"/data/in/x.txt": (1, 2, "d1", 0, 0)}
    docs = _docs([NEW_COPY, NEW_OWN], "new")
    sketch = Sketch.of(docs, config)
    assert corpus.known_ids(["old1", "new0"]).tolist() == [True, False]
    prior = corpus.prior(sketch)
    assert prior.doc_ids == ["old0"]  # only the indexed document this run may repeat
    assert len(prior.values) == 2  # the signatures of its passages sharing a band, no others
    deduplicate_sketch(sketch, config, prior)
    sketch.apply(docs)
    copy, own = docs
    assert [(p.status, p.duplicate_of_doc, p.duplicate_of_position) for p in copy.passages] == [
        (Status.NEAR_DUPLICATE, "old0", 0),
        (Status.EXACT_DUPLICATE, "old0", 1),
    ]
    assert copy.duplicate_of == "old0" and not own.is_duplicate
    _commit(tmp_path, "run-2", sketch, docs, config, first_number=corpus.n_docs())
    numbers = ds.dataset(tmp_path / "index" / "documents").to_table().to_pylist()
    assert numbers == [
        {"doc": 0, "doc_id": "old0"},
        {"doc": 1, "doc_id": "old1"},
        {"doc": 2, "doc_id": "new1"},
    ]


def test_index_rows_hold_signatures_and_band_keys_of_first_occurrences_only(tmp_path):
    config = DedupConfig()
    docs = _docs([OLD[0], NEW_COPY], "d")
    sketch = Sketch.of(docs, config)
    deduplicate_sketch(sketch, config)  # d1 repeats d0: it is not kept, and not indexed
    table = index.run_tables(sketch, 5, index.input_rows([], []), config)["index/passages"].to_pylist()
    assert [(r["doc"], r["position"], r["first"]) for r in table] == [(5, 0, True), (5, 1, True)]
    row = table[0]
    values = np.frombuffer(row["signature"], dtype="<u4")
    np.testing.assert_array_equal(values, sketch.values[sketch.rows[0]])
    keys = [row[name] for name in index.band_columns(config)]
    from cleaner.dedup.lsh import band_keys

    assert keys == band_keys(values[None, :], config)[0].tolist()


def test_other_minhash_settings_are_refused(tmp_path):
    _first_run(tmp_path, DedupConfig())
    with pytest.raises(OutputError, match=r"shingle_size 3 -> 4"):
        index.Index(tmp_path, DedupConfig(shingle_size=4))
    index.Index(tmp_path, DedupConfig(containment_threshold=0.9))  # a threshold may change


def test_a_run_killed_while_committing_is_completed_with_its_index(tmp_path, monkeypatch):
    config = DedupConfig()
    _first_run(tmp_path, config)
    docs = _docs([NEW_OWN], "new")
    sketch = Sketch.of(docs, config)
    prior = index.Index(tmp_path, config).prior(sketch)
    deduplicate_sketch(sketch, config, prior)
    moves = []
    real_rename = type(tmp_path).rename

    class Killed(BaseException):
        pass

    def rename(self, target):
        if ".staging-" in str(self) and len(moves) >= 2:  # after two of the partitions
            raise Killed()
        moves.append(self)
        return real_rename(self, target)

    monkeypatch.setattr(type(tmp_path), "rename", rename)
    with pytest.raises(Killed):
        _commit(tmp_path, "run-2", sketch, docs, config, first_number=2)
    monkeypatch.undo()
    assert index.Index(tmp_path, config).n_docs() == 2  # the run is not in the index yet
    writers.recover(tmp_path)  # what the next run does first
    corpus = index.Index(tmp_path, config)
    assert corpus.n_docs() == 3 and corpus.known_ids(["new0"]).tolist() == [True]
    documents = ds.dataset(tmp_path / "documents", partitioning="hive").to_table()
    assert documents["doc_id"].to_pylist() == ["old0", "old1", "new0"]
