"""The corpus's dedup index: written with a run, read back by the next one."""

import random

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from cleaner.config import DedupConfig
from cleaner.corpus import check, index, writers
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
    assert corpus.next_doc() == 2
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
    _commit(tmp_path, "run-2", sketch, docs, config, first_number=corpus.next_doc())
    numbers = ds.dataset(tmp_path / "index" / "documents").to_table().to_pylist()
    assert numbers == [
        {"doc": 0, "doc_id": "old0"},
        {"doc": 1, "doc_id": "old1"},
        {"doc": 2, "doc_id": "new1"},
    ]


def test_index_rows_hold_band_keys_of_first_occurrences_only(tmp_path):
    from cleaner.dedup.lsh import band_keys

    config = DedupConfig()
    docs = _docs([OLD[0], NEW_COPY, ["Too short to sign."]], "d")
    sketch = Sketch.of(docs, config)
    deduplicate_sketch(sketch, config)  # d1 repeats d0: it is not kept, and not indexed
    table = index.run_tables(sketch, 5, index.input_rows([], []), config)["index/passages"].to_table()
    assert table.schema == index.schemas(config)["passages"]
    assert "signature" not in table.column_names  # computed again from the text when needed
    rows = table.to_pylist()
    assert [(r["doc"], r["position"], r["first"]) for r in rows] == [(5, 0, True), (5, 1, True), (6, 0, True)]
    for row, k in zip(rows[:2], (0, 1), strict=True):
        wide = band_keys(sketch.values[sketch.rows[k]][None, :], config)[0]
        folded = (wide ^ (wide >> np.uint64(32))).astype(np.uint32)  # equal 64-bit keys fold equal
        assert [row[name] for name in index.band_columns(config)] == folded.tolist()
    assert all(rows[2][name] is None for name in index.band_columns(config))  # unsigned: no keys


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
    assert index.Index(tmp_path, config).next_doc() == 2  # the run is not in the index yet
    writers.recover(tmp_path)  # what the next run does first
    corpus = index.Index(tmp_path, config)
    assert corpus.next_doc() == 3 and corpus.known_ids(["new0"]).tolist() == [True]
    documents = ds.dataset(tmp_path / "documents", partitioning="hive").to_table()
    assert documents["doc_id"].to_pylist() == ["old0", "old1", "new0"]


def _random_texts(n: int, seed: int = 3) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghiklmnoprstuvwy") for _ in range(rng.randint(3, 9))) for _ in range(5000)
    ]
    return [" ".join(rng.choices(vocab, k=rng.randint(50, 70))) for _ in range(n)], vocab


def test_an_indexed_passage_takes_at_most_300_bytes_on_disk(tmp_path):
    """The worst case: every passage a first occurrence long enough to be signed (42 band
    keys). An earlier layout, with a signature per passage, took ~830 bytes."""
    texts, _ = _random_texts(4000)
    config = DedupConfig()
    docs = _docs([[t] for t in texts], "p")
    sketch = Sketch.of(docs, config)
    deduplicate_sketch(sketch, config)
    _commit(tmp_path, "run-1", sketch, docs, config)
    (path,) = (tmp_path / "index" / "passages").rglob("*.parquet")
    table = pq.read_table(path)
    assert table.num_rows == 4000 and all(table[name].null_count == 0 for name in index.band_columns(config))
    assert path.stat().st_size / table.num_rows <= 300


def test_a_passage_whose_text_is_not_the_one_indexed_is_not_signed_and_the_check_finds_it(tmp_path):
    config = DedupConfig()
    _first_run(tmp_path, config)
    (path,) = (tmp_path / "passages").rglob("*.parquet")
    table = pq.read_table(path)
    texts = table["text"].to_pylist()
    texts[0] = texts[0].replace("northern", "southern")  # old0's first passage, changed on disk
    pq.write_table(table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts)), path)
    docs = _docs([NEW_COPY], "new")
    sketch = Sketch.of(docs, config)
    prior = index.Index(tmp_path, config).prior(sketch)
    assert prior.doc_ids == ["old0"] and prior.rows.tolist() == [-1, 0]  # its first passage: no signature
    assert prior.signed_texts(np.array([0])) == [OLD[0][1]]
    deduplicate_sketch(sketch, config, prior)
    sketch.apply(docs)
    assert [p.status for p in docs[0].passages] == [Status.KEPT, Status.EXACT_DUPLICATE]
    (problem,) = check.problems(tmp_path, deep=True)
    assert problem.what == (
        "1 passages of index/passages/run=run-1/ are not in passages/run=run-1/ with the text they were "
        "indexed with"
    )
    assert problem.fix == "rebuilt from documents/ and passages/"
    check.repair(tmp_path)
    assert check.problems(tmp_path, deep=True) == []


def test_the_lookup_signs_every_indexed_passage_sharing_a_band_with_the_run(tmp_path):
    """What the visit's LSH pairs (equal 64-bit band keys) is what the index's 32-bit keys
    find, and signed again from the text as the run that indexed it signed it."""
    from cleaner.dedup.lsh import band_keys

    config = DedupConfig()
    texts, vocab = _random_texts(3000)
    docs = _docs([[t] for t in texts], "p")
    old = Sketch.of(docs, config)
    deduplicate_sketch(old, config)
    _commit(tmp_path, "run-1", old, docs, config)
    rng = random.Random(5)
    edits = []
    for i in rng.sample(range(3000), 100):
        words = texts[i].split()
        for j in rng.sample(range(len(words)), 8):
            words[j] = rng.choice(vocab)
        edits.append(" ".join(words))
    new = Sketch.of(_docs([[t] for t in edits + _random_texts(200, seed=4)[0]], "n"), config)
    shared = np.zeros(3000, dtype=bool)
    for band in range(config.bands):
        keys = band_keys(new.values, config, band)[:, 0]
        shared |= np.isin(band_keys(old.values, config, band)[:, 0], keys)
    assert 50 < shared.sum() < 100  # edits heavy enough that some share no band
    prior = index.Index(tmp_path, config).prior(new)
    signed = np.flatnonzero(prior.rows >= 0)
    found = sorted(int(prior.doc_ids[d][1:]) for d in prior.doc[signed].tolist())
    assert found == np.flatnonzero(shared).tolist()
    np.testing.assert_array_equal(prior.values[prior.rows[signed]], old.values[found])
    assert prior.texts == [texts[i] for i in found]
