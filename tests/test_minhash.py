"""A corpus's passage signatures as datasketch LeanMinHashes (`cleaner.corpus.minhash`), on
corpora `cleaner.run` makes of the bundled examples: datasketch's own MinHash of each
passage, and datasketch's LSH Forest over them finds the duplicates the corpus recorded."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSHForest

import cleaner
from cleaner.config import DedupConfig
from cleaner.corpus import minhash
from cleaner.corpus.minhash import corpus_settings, signature_of, signatures
from cleaner.dedup.signatures import shingle_hashfunc, shingles
from cleaner.errors import OutputError
from tests.conftest import EXAMPLES, REPO

FIRST_RUN = ("valley-wire", "harbour-herald", "northgate-courier")
SECOND_RUN = ("lakeside-ledger", "meridian-post", "newsdrift", "ridgeback-times")
# Not the defaults: the signatures must follow the corpus's settings. A high near_min_words
# leaves many kept passages without a stored signature.
SETTINGS = {
    "num_perm": 64,
    "seed": 7,
    "bands": 16,
    "rows": 4,
    "shingle_hash": "blake2b-fold-fmix32",
    "near_min_words": 40,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two runs with default settings; the second repeats stories of the first."""
    out = tmp_path_factory.mktemp("minhash") / "output"
    for sites in (FIRST_RUN, SECOND_RUN):
        cleaner.run([EXAMPLES / "pages" / site for site in sites], out, executor=cleaner.InlineExecutor())
    return out


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """One run with other MinHash settings."""
    out = tmp_path_factory.mktemp("minhash-tuned") / "output"
    cleaner.run([EXAMPLES / "pages"], out, {"dedup": SETTINGS}, executor=cleaner.InlineExecutor())
    return out


def _rows(out, name, columns=None):
    return ds.dataset(out / name, partitioning="hive").to_table(columns=columns).to_pylist()


def _kept_passages(out) -> dict[tuple[str, int], str]:
    """(doc_id, position) -> text of every kept passage of the corpus's documents."""
    documents = {r["doc_id"] for r in _rows(out, "documents", ["doc_id"])}
    return {
        (r["doc_id"], r["position"]): r["text"]
        for r in _rows(out, "passages", ["doc_id", "position", "status", "text"])
        if r["status"] == "kept" and r["doc_id"] in documents
    }


def _datasketch(text: str, config: DedupConfig) -> MinHash:
    """The reference: datasketch's own MinHash of the passage's shingles."""
    m = MinHash(
        num_perm=config.num_perm, seed=config.seed, scheme="affine32", hashfunc=shingle_hashfunc(config)
    )
    m.update_batch(shingles(text, config))
    return m


def _same(a: MinHash, b: MinHash) -> bool:
    return np.array_equal(a.hashvalues, b.hashvalues) and a.hashvalues.dtype == b.hashvalues.dtype


@pytest.fixture
def signed(monkeypatch):
    """The texts `signatures` computes signatures of, call by call."""
    calls: list[list[str]] = []
    sign = minhash.Signer.__call__

    def spy(self, texts):
        calls.append(list(texts))
        return sign(self, texts)

    monkeypatch.setattr(minhash.Signer, "__call__", spy)
    return calls


def test_every_kept_passage_of_the_corpus_once(corpus):
    found = [(s.doc_id, s.position) for s in signatures(corpus)]
    kept = _kept_passages(corpus)
    assert len(found) == len(set(found)) == len(kept) and set(found) == set(kept)
    # Both runs, the first's passages first.
    run_of = {r["doc_id"]: r["run"] for r in _rows(corpus, "documents", ["doc_id", "run"])}
    first = next(r["run"] for r in _rows(corpus, "documents") if f"/{FIRST_RUN[0]}/" in r["source"])
    order = [run_of[doc_id] != first for doc_id, _ in found]
    assert len(set(run_of.values())) == 2 and order == sorted(order) and order[0] is False


@pytest.mark.parametrize("which", ["corpus", "tuned"])
def test_each_signature_is_datasketchs_minhash_of_its_passage(which, request):
    out = request.getfixturevalue(which)
    config = DedupConfig(**SETTINGS) if which == "tuned" else DedupConfig()
    assert corpus_settings(out) == config
    kept = _kept_passages(out)
    found = list(signatures(out))
    assert len(found) == len(kept)
    for doc_id, position, lean in found:
        reference = _datasketch(kept[doc_id, position], config)
        assert isinstance(lean, LeanMinHash)
        assert (lean.seed, len(lean), lean.scheme) == (config.seed, config.num_perm, "affine32")
        assert _same(lean, reference) and lean.jaccard(reference) == 1.0


def test_each_signature_is_computed_once_from_its_passages_text(tuned, signed):
    """The index stores band keys, not signatures: every one is computed from the text."""
    assert not any(
        "signature" in pq.read_schema(f).names for f in (tuned / "index/passages").rglob("*.parquet")
    )
    found = [(s.doc_id, s.position) for s in signatures(tuned)]
    kept = _kept_passages(tuned)
    assert sorted(found) == sorted(kept)
    assert sorted(text for call in signed for text in call) == sorted(kept.values())


def test_an_lsh_forest_over_the_corpus_finds_its_duplicates(corpus):
    forest = MinHashLSHForest(num_perm=128)
    for doc_id, position, lean in signatures(corpus):
        forest.add((doc_id, position), lean)
    forest.index()
    passages = _rows(corpus, "passages")
    # Each dropped duplicate passage finds the passage it duplicates, which the forest
    # holds, unlike the dropped one.
    pairs = [
        ((r["doc_id"], r["position"]), (r["duplicate_of_doc"], r["duplicate_of_position"]))
        for r in passages
        if r["status"] in ("near_duplicate", "exact_duplicate")
    ]
    assert any(r["status"] == "near_duplicate" for r in passages)
    for dropped, original in pairs:
        assert dropped not in forest and original in forest
        assert original in forest.query(signature_of(corpus, *dropped), 3), dropped
    # Each near-duplicate document's passages find, mostly, the document it duplicates:
    # across runs too (a story of the second run first seen in the first).
    duplicates = [d for d in _rows(corpus, "duplicates") if d["kind"] == "near"]
    runs = {r["doc_id"]: r["run"] for r in _rows(corpus, "documents", ["doc_id", "run"])}
    dup_runs = {r["doc_id"]: r["run"] for r in _rows(corpus, "duplicates", ["doc_id", "run"])}
    assert any(runs[d["duplicate_of"]] != dup_runs[d["doc_id"]] for d in duplicates)
    for d in duplicates:
        hits = Counter(
            doc_id
            for r in passages
            if r["doc_id"] == d["doc_id"] and r["status"] != "boilerplate"
            for doc_id, _ in forest.query(signature_of(corpus, r["doc_id"], r["position"]), 1)
        )
        assert hits.most_common(1)[0][0] == d["duplicate_of"], d["doc_id"]


def test_doc_ids_select_documents(corpus):
    whole = [(s.doc_id, s.position, s.minhash.hashvalues) for s in signatures(corpus)]
    chosen = {whole[0][0], whole[len(whole) // 2][0], whole[-1][0], "no-such-document"}
    some = [(s.doc_id, s.position, s.minhash.hashvalues) for s in signatures(corpus, chosen)]
    expected = [w for w in whole if w[0] in chosen]
    assert len(some) == len(expected) and len({w[0] for w in expected}) == 3
    assert all(a[:2] == b[:2] and np.array_equal(a[2], b[2]) for a, b in zip(some, expected, strict=True))
    assert list(signatures(corpus, ["no-such-document"])) == []


def test_batches_change_nothing_and_bound_what_is_computed_at_once(tuned, signed):
    whole = [(s.doc_id, s.position, s.minhash.hashvalues) for s in signatures(tuned)]
    assert max(len(call) for call in signed) > 5
    for rows in (1, 5):
        signed.clear()
        batched = list(signatures(tuned, batch_rows=rows))
        assert [(s.doc_id, s.position) for s in batched] == [w[:2] for w in whole]
        assert all(np.array_equal(s.minhash.hashvalues, w[2]) for s, w in zip(batched, whole, strict=True))
        assert signed and max(len(call) for call in signed) <= rows


def test_signatures_are_read_as_they_are_asked_for(tuned, signed):
    """The first signature comes after a batch of rows, not after the whole corpus."""
    stream = signatures(tuned, batch_rows=5)
    first = next(stream)
    assert sum(len(call) for call in signed) <= 5
    assert (first.doc_id, first.position) == next(iter(_kept_passages(tuned)))
    rest = list(stream)
    assert sum(len(call) for call in signed) > 5 and len(rest) + 1 == len(_kept_passages(tuned))


def test_signature_of_any_passage(corpus):
    found = {(s.doc_id, s.position): s.minhash for s in signatures(corpus)}
    key, lean = next(iter(found.items()))
    assert _same(signature_of(corpus, *key), lean)
    config = DedupConfig()
    # A boilerplate line and a dropped duplicate: computed from their text.
    for status in ("boilerplate", "near_duplicate"):
        row = next(r for r in _rows(corpus, "passages") if r["status"] == status)
        lean = signature_of(corpus, row["doc_id"], row["position"])
        assert (row["doc_id"], row["position"]) not in found
        assert _same(lean, _datasketch(row["text"], config))
    with pytest.raises(KeyError):
        signature_of(corpus, key[0], 10_000)


def test_a_folder_that_is_no_corpus_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="no corpus index"):
        next(signatures(tmp_path))


def test_readme_snippet(corpus, tmp_path, monkeypatch):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^<!-- downstream: datasketch -->\n```python\n(.*?)^```", readme, re.S | re.M)
    assert found, "README.md has no '<!-- downstream: datasketch -->' block"
    (tmp_path / "output").symlink_to(corpus, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(found.group(1), "README.md:datasketch", "exec"), namespace)
    query, similar = namespace["query"], namespace["similar"]
    assert len(namespace["forest"].keys) == len(_kept_passages(corpus))
    assert 1 <= len(similar) <= 3 and (query.doc_id, query.position) in similar
