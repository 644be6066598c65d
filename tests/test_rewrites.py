"""Rewritten copies told apart from independent coverage, on real texts of the labelled set
(benchmarks/rewrites/stories) and on the seeds when they are beside this checkout."""

import random
from collections import Counter

import numpy as np
import pytest

from benchmarks.rewrites import corpus, evaluate
from benchmarks.rewrites.run import MINHASH_ONLY
from cleaner.config import Config, RewriteConfig
from cleaner.dedup import embed, rewrites
from cleaner.document import DuplicateKind
from cleaner.errors import ConfigError

CONFIG = RewriteConfig()
ON = {"rewrite": {"enabled": True}}  # the stage in a run (on by default; said where a test needs it)


@pytest.fixture(scope="module")
def stories() -> dict[str, list[corpus.Doc]]:
    return {s["id"]: corpus.story_documents(s, seed=corpus.DEFAULT_SEED) for s in corpus.load_stories()}


def _columns(docs: list[list[str]], config: RewriteConfig = CONFIG):
    """Passage columns of documents given as lists of paragraphs, positions from 0."""
    doc, positions, texts = [], [], []
    for d, paragraphs in enumerate(docs):
        for p, text in enumerate(paragraphs):
            doc.append(d)
            positions.append(p)
            texts.append(text)
    has, codes = embed.passage_codes(texts, config.min_words)
    return np.array(doc)[has], np.array(positions)[has], codes[has]


def _find(docs: list[list[str]], rank=None, config: RewriteConfig = CONFIG):
    doc, positions, codes = _columns(docs, config)
    rank = np.arange(len(docs)) if rank is None else np.asarray(rank)
    return rewrites.find_rewrites(doc, positions, codes, rank, config)


# -- the alignment ---------------------------------------------------------------------------


def test_align_follows_the_diagonal_and_skips_cells_out_of_order():
    sim = np.array(
        [
            [0.9, 0.1, 0.1, 0.1],
            [0.1, 0.1, 0.8, 0.1],  # its best match comes after the next row's
            [0.1, 0.85, 0.1, 0.1],
            [0.1, 0.1, 0.1, 0.7],
        ]
    )
    assert rewrites.align(sim, 0.6) == [(0, 0), (2, 1), (3, 3)]


def test_align_keeps_only_cells_above_the_threshold():
    sim = np.full((3, 3), 0.5)
    assert rewrites.align(sim, 0.6) == []
    sim[1, 2] = 0.7
    assert rewrites.align(sim, 0.6) == [(1, 2)]


def test_align_breaks_ties_the_same_way_every_time():
    sim = np.full((4, 4), 0.8)
    chains = {tuple(rewrites.align(sim, 0.6)) for _ in range(3)}
    assert chains == {((0, 0), (1, 1), (2, 2), (3, 3))}


# -- documents -------------------------------------------------------------------------------


def test_a_paragraph_by_paragraph_rewrite_is_found_with_its_passages(stories):
    original, rewrite_a = stories["tram"][0], stories["tram"][1]
    found, _ = _find([original.paragraphs, rewrite_a.paragraphs])
    (r,) = found
    assert (r.doc, r.source) == (1, 0)
    assert r.is_rewrite and r.score >= CONFIG.min_score
    right = [m for m in r.matches if m.source_position in rewrite_a.sources[m.position]]
    assert len(right) == len(r.matches) >= 7  # of 9 paragraphs, two mostly quotes
    assert all(0.6 <= m.similarity <= 1 for m in r.matches)


def test_every_story_rewrite_is_found_and_no_independent_report_is(stories):
    for story, docs in stories.items():
        original = docs[0]
        for other in docs[1:]:
            found, _ = _find([original.paragraphs, other.paragraphs])
            assert bool(found) == (other.kind == "rewrite"), (story, other.id)


def test_independent_reports_sharing_quotes_and_facts_are_compared_but_kept(stories):
    docs = stories["rates"]
    independents = [d for d in docs if d.kind == "independent"]
    found, comparisons = _find([docs[0].paragraphs] + [d.paragraphs for d in independents])
    assert found == []
    assert comparisons  # they were close enough to be compared
    assert all(not c.is_rewrite and c.score < CONFIG.min_score for c in comparisons)


def test_the_earlier_document_is_the_source(stories):
    original, rewrite_b = stories["flood"][0], stories["flood"][2]
    (r,) = _find([rewrite_b.paragraphs, original.paragraphs], rank=[1, 0])[0]
    assert (r.doc, r.source) == (0, 1)  # the original was visited first


def test_a_rewrite_of_several_points_at_its_best_source(stories):
    original, rewrite_a, rewrite_b = stories["painting"][:3]
    found, comparisons = _find([original.paragraphs, rewrite_a.paragraphs, rewrite_b.paragraphs])
    by_doc = {r.doc: r for r in found}
    assert by_doc[1].source == 0
    candidates = [c for c in comparisons if c.doc == 2 and c.is_rewrite]
    assert by_doc[2].score == max(c.score for c in candidates)


def test_a_document_is_compared_with_at_most_max_sources_earlier_ones(stories):
    """The bound on comparisons keeps, for each document, the sources it shares the most
    candidates with: on every story at once the rewrites found are those of an unbounded
    run, and no document is compared with more than `max_sources` earlier ones."""
    docs = [d.paragraphs for story in stories.values() for d in story]
    unbounded = RewriteConfig(max_sources=10_000)
    everything, all_comparisons = _find(docs, config=unbounded)
    per_doc = Counter(c.doc for c in all_comparisons)
    assert max(per_doc.values()) > 3  # the bound below has something to cut
    bounded = RewriteConfig(max_sources=3)
    found, comparisons = _find(docs, config=bounded)
    assert max(Counter(c.doc for c in comparisons).values()) <= 3
    assert [(r.doc, r.source, r.score) for r in found] == [(r.doc, r.source, r.score) for r in everything]


def test_same_verdicts_whatever_order_the_passages_come_in(stories):
    """Shuffle documents (their indices) and passages (their rows): the same rewrites, the
    same aligned positions and the same similarities, bit for bit."""
    docs = [d for story in ("algae", "court", "beetle") for d in stories[story]]
    texts = [d.paragraphs for d in docs]
    found, comparisons = _find(texts)
    expected = {
        (
            docs[r.doc].id,
            docs[r.source].id,
            r.score,
            tuple((m.position, m.source_position, m.similarity) for m in r.matches),
        )
        for r in found
    }
    assert len(expected) == sum(d.kind == "rewrite" for d in docs)
    rng = random.Random(3)
    for _ in range(3):
        perm = list(range(len(docs)))
        rng.shuffle(perm)  # perm[k]: the document at index k now
        doc, positions, codes = _columns([texts[k] for k in perm])
        rows = np.arange(len(doc))
        rng.shuffle(rows)
        rank = [perm[k] for k in range(len(perm))]  # each document keeps its place in visiting order
        found2, comparisons2 = rewrites.find_rewrites(
            doc[rows], positions[rows], codes[rows], np.array(rank), CONFIG
        )
        got = {
            (
                docs[perm[r.doc]].id,
                docs[perm[r.source]].id,
                r.score,
                tuple((m.position, m.source_position, m.similarity) for m in r.matches),
            )
            for r in found2
        }
        assert got == expected
        assert len(comparisons2) == len(comparisons)


def test_ranks_must_be_distinct():
    doc, positions, codes = _columns(
        [["A long enough paragraph about the council vote on the tram line."]] * 2
    )
    with pytest.raises(ValueError, match="distinct"):
        rewrites.find_rewrites(doc, positions, codes, np.array([0, 0]), CONFIG)


def test_nothing_in_nothing_out():
    assert rewrites.find_rewrites(
        np.zeros(0, int), np.zeros(0, int), np.zeros((0, 256), np.int8), np.zeros(0, int), CONFIG
    ) == ([], [])


# -- candidates ------------------------------------------------------------------------------


def _brute_close_pairs(codes, doc, config):
    """Every pair (earlier, later) of rows of different documents sharing a band key, each
    taking at most `max_bucket` earlier rows of its bucket, at `pair_threshold` or more:
    what `close_pairs` finds, by the definition, one bucket at a time."""
    keys = rewrites.band_keys(codes, config)
    cos = embed.cosines(codes, codes)
    pairs = set()
    for band in range(config.bands):
        buckets = {}
        for row in range(len(codes)):
            buckets.setdefault(int(keys[row, band]), []).append(row)
        for rows in buckets.values():
            for i, b in enumerate(rows):
                for a in rows[max(0, i - config.max_bucket) : i]:
                    if doc[a] != doc[b] and cos[a, b] >= config.pair_threshold:
                        pairs.add((a, b))
    return sorted(pairs)


def test_close_pairs_are_the_bucket_neighbours_of_other_documents_at_the_threshold(stories, monkeypatch):
    docs = stories["club"]
    doc, positions, codes = _columns([d.paragraphs for d in docs])
    order = np.lexsort((positions, doc))  # rows in visiting order, as find_rewrites gives them
    doc, codes = doc[order], codes[order]
    config = RewriteConfig(max_bucket=2)  # small buckets, so the bound matters
    pairs = rewrites.close_pairs(codes, doc, config)
    assert len(pairs)
    assert [tuple(p) for p in pairs.tolist()] == _brute_close_pairs(codes, doc, config)
    assert (pairs[:, 0] < pairs[:, 1]).all() and (doc[pairs[:, 0]] != doc[pairs[:, 1]]).all()
    # the bands taken one at a time, or all at once, give the same pairs
    for group in (1, config.bands):
        monkeypatch.setattr(rewrites, "_BAND_GROUP", group)
        assert np.array_equal(rewrites.close_pairs(codes, doc, config), pairs)


def test_a_passage_keeps_only_its_nearest_close_pairs(stories, monkeypatch):
    """On text where every passage is close to many others the pairs per passage are bounded
    (`_MAX_CLOSE`): a later passage keeps its `cap` pairs of highest cosine, the same
    whichever order the bands find them in."""
    from cleaner.dedup.embed import cosines

    docs = [d.paragraphs for story in stories.values() for d in story]
    doc, positions, codes = _columns(docs)
    order = np.lexsort((positions, doc))
    doc, codes = doc[order], codes[order]
    every = rewrites.close_pairs(codes, doc, CONFIG, cap=10**9)
    cap = 2
    later = every[:, 1]
    assert np.bincount(later).max() > cap  # the bound binds on these
    cos = np.array([cosines(codes[a : a + 1], codes[b : b + 1])[0, 0] for a, b in every.tolist()])
    wanted = set()
    for b in np.unique(later).tolist():
        mine = np.flatnonzero(later == b)
        mine = mine[np.lexsort((every[mine, 0], -cos[mine]))][:cap]
        wanted |= {tuple(every[i]) for i in mine.tolist()}
    kept = rewrites.close_pairs(codes, doc, CONFIG, cap=cap)
    assert {tuple(p) for p in kept.tolist()} == wanted and len(kept) == len(wanted)
    assert (np.diff(kept[:, 0] * len(doc) + kept[:, 1]) > 0).all()  # sorted, distinct
    for group in (1, CONFIG.bands):
        monkeypatch.setattr(rewrites, "_BAND_GROUP", group)
        assert np.array_equal(rewrites.close_pairs(codes, doc, CONFIG, cap=cap), kept)


def test_codes_gathered_from_two_tables_are_the_codes_of_one(stories):
    _, _, codes = _columns([d.paragraphs for d in stories["club"]])
    half = len(codes) // 2
    rows = np.random.default_rng(0).permutation(len(codes))
    which = (rows >= half).astype(np.int8)
    split = rewrites.Codes((codes[:half], codes[half:]), which, np.where(which == 1, rows - half, rows))
    assert np.array_equal(split.take(np.arange(len(codes))), codes[rows])
    assert np.array_equal(rewrites.band_keys(split, CONFIG), rewrites.band_keys(codes[rows], CONFIG))


def test_band_keys_do_not_depend_on_the_batch(stories):
    doc, positions, codes = _columns([d.paragraphs for d in stories["breach"]])
    keys = rewrites.band_keys(codes, CONFIG)
    assert keys.shape == (len(codes), CONFIG.bands)
    assert np.array_equal(rewrites.band_keys(codes[::-1], CONFIG), keys[::-1])
    assert (keys < (1 << CONFIG.rows)).all()


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"pair_threshold": 0}, "rewrite.pair_threshold must be > 0.0 and <= 1.0"),
        ({"rows": 33}, "rewrite.rows must be >= 1 and <= 32"),
        ({"min_score": 1.5}, "rewrite.min_score must be >= 0.0 and <= 1.0"),
        ({"min_aligned": "3"}, "rewrite.min_aligned must be an integer"),
        ({"enabled": "yes"}, "rewrite.enabled must be true or false"),
        ({"max_sources": 0}, "rewrite.max_sources must be >= 1"),
        ({"min_specificity": 2}, "rewrite.min_specificity must be >= -1.0 and <= 1.0"),
        ({"languages": ("en", "english")}, "rewrite.languages: 'english' is no language code"),
    ],
)
def test_bad_settings_fail_with_a_message_naming_the_key(settings, message):
    with pytest.raises(ConfigError, match=message):
        RewriteConfig(**settings)


# -- the seeds -------------------------------------------------------------------------------


def test_seeds_000_is_a_rewrite_of_002_and_the_independent_reports_keep_every_passage(seeds_dir):
    seeds, _ = corpus.seed_documents(seeds_dir)
    pipeline = evaluate.clean_and_dedup([], seeds, seeds_dir, MINHASH_ONLY)
    ids, found, _ = evaluate.detect(pipeline, CONFIG)
    doc_marks, passage_marks = evaluate.rewrite_marks(ids, found)
    assert doc_marks == {"seed/000": "seed/002"}
    assert {doc for doc, _ in passage_marks} == {"seed/000"}
    assert len(passage_marks) >= 8


# -- in a run (`cleaner.run`) ---------------------------------------------------------------


def _write_jsonl(path, docs: list[corpus.Doc]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for d in docs:
            record = {"id": d.id.replace("/", "-"), "title": d.title, "text": "\n\n".join(d.paragraphs)}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _tables(out):
    import pyarrow.parquet as pq

    return (
        pq.read_table(out / "documents").to_pylist(),
        pq.read_table(out / "duplicates").to_pylist(),
        pq.read_table(out / "passages").to_pylist(),
    )


def _story(stories, kind_suffix):
    story = stories["harbour-strike"] if "harbour-strike" in stories else next(iter(stories.values()))
    return next(d for d in story if d.id.endswith(kind_suffix))


def test_a_rewrite_in_tomorrows_run_points_at_todays_story(stories, tmp_path):
    from tests.runs import clean_corpus

    original, rewrite = _story(stories, "/original"), _story(stories, "/rewrite-a")
    independent = [d for d in next(s for s in stories.values() if original in s) if d.kind == "independent"]
    _write_jsonl(tmp_path / "day1" / "a.jsonl", [original])
    _write_jsonl(tmp_path / "day2" / "b.jsonl", [rewrite, *independent])
    out = tmp_path / "out"
    clean_corpus([str(tmp_path / "day1")], str(out), config=ON)
    summary = clean_corpus([str(tmp_path / "day2")], str(out), config=ON)
    assert summary["counts"]["duplicates_by_kind"] == {"rewrite": 1}
    documents, duplicates, passages = _tables(out)
    title = {d["doc_id"]: d["title"] for d in documents + duplicates}
    (dup,) = duplicates
    assert (dup["title"], dup["kind"], title[dup["duplicate_of"]]) == (
        rewrite.title,
        "rewrite",
        original.title,
    )
    assert 0.6 < dup["similarity"] <= 1.0
    marked = [p for p in passages if p["status"] == "rewrite"]
    assert len(marked) >= 3 and {p["doc_id"] for p in marked} == {dup["doc_id"]}
    assert {p["duplicate_of_doc"] for p in marked} == {dup["duplicate_of"]}
    # the hard negatives (independent reports sharing its quotes and facts) stay, unmarked
    assert sorted(d["title"] for d in documents) == sorted([original.title] + [d.title for d in independent])


@pytest.mark.parametrize("quoted", ["first", "last"])
def test_copies_of_a_rewrite_point_at_what_the_corpus_keeps(stories, tmp_path, quoted):
    """MinHash dedup made a mirror of a content farm's rewrite a duplicate of it, and a kept
    report quoting one of its paragraphs an exact duplicate of that paragraph; the rewrite
    stage then dropped the rewrite, and both pointed at a document not in documents/:
    damage `cleaner check` could not repair, in a fresh corpus, with the default settings."""
    import dataclasses

    from cleaner.corpus import check
    from tests.runs import clean_corpus

    original, rewrite = _story(stories, "/original"), _story(stories, "/rewrite-a")
    independent = next(
        d for d in next(s for s in stories.values() if original in s) if d.kind == "independent"
    )
    mirror = dataclasses.replace(rewrite, id=rewrite.id + "-mirror", title=rewrite.title + " (mirror)")
    paragraph = rewrite.paragraphs[0 if quoted == "first" else -1]
    quoting = dataclasses.replace(independent, paragraphs=[*independent.paragraphs, paragraph])
    _write_jsonl(tmp_path / "in" / "a.jsonl", [original, rewrite, mirror, quoting])
    out = tmp_path / "out"
    summary = clean_corpus([str(tmp_path / "in")], str(out))
    assert summary["counts"]["duplicates_by_kind"] == {"rewrite": 2}
    documents, duplicates, passages = _tables(out)
    title = {d["doc_id"]: d["title"] for d in documents + duplicates}
    assert sorted(d["title"] for d in documents) == sorted([original.title, independent.title])
    assert {(title[d["doc_id"]], title[d["duplicate_of"]]) for d in duplicates} == {
        (rewrite.title, original.title),
        (mirror.title, original.title),
    }
    kept = {(p["doc_id"], p["position"]) for p in passages if p["status"] == "kept"}
    kept_docs = {d["doc_id"] for d in documents}
    pointers = {
        (p["duplicate_of_doc"], p["duplicate_of_position"]) for p in passages if p["duplicate_of_doc"]
    }
    assert pointers <= {k for k in kept if k[0] in kept_docs}
    (quote,) = [p for p in passages if p["text"] == paragraph and title[p["doc_id"]] == independent.title]
    assert quote["status"] in ("kept", "rewrite")  # its text kept, or its source's, restated
    assert check.problems(out, deep=True) == []


def test_the_stage_is_on_by_default_and_off_embeds_nothing_and_keeps_rewrites(stories, tmp_path):
    from tests.runs import clean_corpus

    assert Config().rewrite.enabled is True
    pair = [_story(stories, "/original"), _story(stories, "/rewrite-a")]
    _write_jsonl(tmp_path / "in" / "a.jsonl", pair)
    summary = clean_corpus([str(tmp_path / "in")], str(tmp_path / "default"))
    assert summary["counts"]["duplicates_by_kind"] == {"rewrite": 1}
    out = tmp_path / "off"
    summary = clean_corpus([str(tmp_path / "in")], str(out), config={"rewrite": {"enabled": False}})
    assert summary["rows"]["duplicates"] == 0
    assert not (out / "index" / "rewrites").exists() and not (out / "index" / "rewrite.json").exists()


def test_documents_too_short_to_align_are_not_embedded_nor_indexed(stories, tmp_path):
    """Records of one or two paragraphs cannot align `min_aligned` (3) pairs: they get no
    codes, in the run or in the index, while a story beside them is embedded whole."""
    import json

    import pyarrow.parquet as pq

    from tests.runs import clean_corpus

    original = _story(stories, "/original")
    others = [s[0] for s in stories.values() if original not in s][:2]
    _write_jsonl(tmp_path / "in" / "a.jsonl", [original])
    with (tmp_path / "in" / "a.jsonl").open("a", encoding="utf-8") as fh:
        for i, (other, n) in enumerate(zip(others, (1, 2), strict=True)):
            fh.write(json.dumps({"id": f"brief-{i}", "text": "\n\n".join(other.paragraphs[:n])}) + "\n")
    out = tmp_path / "out"
    summary = clean_corpus([str(tmp_path / "in")], str(out), config=ON)
    assert summary["rows"]["documents"] == 3
    titles = {r["doc_id"]: r["title"] for r in pq.read_table(out / "documents").to_pylist()}
    doc_ids = {r["doc"]: r["doc_id"] for r in pq.read_table(out / "index" / "documents").to_pylist()}
    rows = pq.read_table(out / "index" / "rewrites", columns=["doc"]).column("doc").to_pylist()
    assert len(rows) >= 3 and {titles[doc_ids[d]] for d in rows} == {original.title}
    assert json.loads((out / "index" / "rewrite.json").read_text())["min_aligned"] == 3


def test_a_corpus_refuses_other_rewrite_settings(stories, tmp_path):
    from cleaner.config import Config
    from cleaner.corpus import preflight
    from cleaner.errors import OutputError
    from tests.runs import clean_corpus

    _write_jsonl(tmp_path / "in" / "a.jsonl", [_story(stories, "/original")])
    out = tmp_path / "out"
    clean_corpus([str(tmp_path / "in")], str(out), config=ON)
    _write_jsonl(tmp_path / "in2" / "b.jsonl", [_story(stories, "/rewrite-a")])
    with pytest.raises(OutputError, match=r"rewrite settings \(bands 64 -> 32\).*--reprocess"):
        clean_corpus([str(tmp_path / "in2")], str(out), config={"rewrite": {"enabled": True, "bands": 32}})
    with pytest.raises(OutputError, match=r"rewrite settings \(bands 64 -> 32\)"):  # before Prefect starts
        preflight.check_output(out, Config.from_dict({"rewrite": {"enabled": True, "bands": 32}}))
    preflight.check_output(out, Config.from_dict({"rewrite": {"enabled": False, "bands": 32}}))  # not used
    with pytest.raises(OutputError, match=r"rewrite settings \(min_aligned 3 -> 2\).*--reprocess"):
        clean_corpus(
            [str(tmp_path / "in2")], str(out), config={"rewrite": {"enabled": True, "min_aligned": 2}}
        )
    # what only judges (not what is stored) may change: reported like any other setting
    clean_corpus([str(tmp_path / "in2")], str(out), config={"rewrite": {"enabled": True, "min_score": 0.2}})


def test_seeds_through_a_run_000_leaves_as_a_rewrite_of_002_and_the_others_stay_whole(seeds_dir, tmp_path):
    from tests.runs import clean_corpus

    out = tmp_path / "out"
    clean_corpus([str(seeds_dir)], str(out), config=ON)
    documents, duplicates, passages = _tables(out)
    name = {d["doc_id"]: d["source"].rsplit("/", 1)[-1][:3] for d in documents + duplicates}
    assert [(name[d["doc_id"]], d["kind"], name[d["duplicate_of"]]) for d in duplicates] == [
        ("000", "rewrite", "002")
    ]
    assert sorted(name[d["doc_id"]] for d in documents) == ["001", "002", "003", "004"]
    for p in passages:
        if name[p["doc_id"]] in ("001", "002", "003", "004"):
            assert p["status"] in ("kept", "boilerplate"), p  # no passage repeats another seed's
            assert p["duplicate_of_doc"] is None
    assert sum(p["status"] == "rewrite" for p in passages if name[p["doc_id"]] == "000") >= 8


def test_inspect_and_the_report_show_a_rewrite(stories, tmp_path):
    import io

    from cleaner import explain, report
    from tests.runs import clean_corpus

    _write_jsonl(tmp_path / "in" / "a.jsonl", [_story(stories, "/original"), _story(stories, "/rewrite-a")])
    out = tmp_path / "out"
    clean_corpus([str(tmp_path / "in")], str(out), config=ON)
    _, (dup,), _ = _tables(out)
    doc = io.StringIO()
    explain.show_document(out, dup["doc_id"], stream=doc)
    assert f"(rewrite, similarity {dup['similarity']:.2f}) of {dup['duplicate_of']}" in doc.getvalue()
    assert " % rewrite 0." in doc.getvalue()  # each restating passage, its cosine ...
    assert f"repeats {dup['duplicate_of']} #" in doc.getvalue()  # ... and the source passage under it
    cluster = io.StringIO()
    explain.show_cluster(out, dup["duplicate_of"], stream=cluster, width=160)
    text = cluster.getvalue()
    assert f"rewrite, similarity {dup['similarity']:.2f}" in text
    assert text.count("| [0.") >= 3  # aligned paragraphs side by side, with their cosines
    stats = report.read_stats(out)
    assert stats.kinds["rewrite"] == 1 and stats.statuses["rewrite"] >= 3
    assert ("duplicate documents", "1 (rewrite 1)") in report.summary_rows(stats)


# -- text written from one set of templates -------------------------------------------------


def test_template_written_articles_on_one_story_are_not_rewrites_of_each_other():
    """The synthetic corpus's hard negatives: a second article on a story, written from the
    same sentence templates with the same names and quote. Paragraph for paragraph they are as
    close as a rewrite; what tells them apart is that every paragraph is about as close to
    every other (`rewrites.specificity`). Without that bound most of them are flagged."""
    import json
    import tempfile
    from pathlib import Path

    from benchmarks.quality.evaluate import clean_and_deduplicate
    from benchmarks.quality.generate import build_corpus
    from cleaner.io import readers

    records, labels = build_corpus(600, seed=7)
    negatives = {tuple(pair) for pair in labels["hard_negatives"]}
    assert len(negatives) >= 20

    def flagged(config: Config) -> set[tuple[str, str]]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "corpus.jsonl"
            path.write_text("".join(json.dumps(r.as_input()) + "\n" for r in records), encoding="utf-8")
            files, _ = readers.discover([path])
            docs, _, _ = readers.read_files(enumerate(files))
        docs, _ = clean_and_deduplicate(docs, config)
        rid = {d.doc_id: records[d.order[1] - 1].id for d in docs}
        return {
            (rid[d.duplicate_of], rid[d.doc_id]) for d in docs if d.duplicate_kind == DuplicateKind.REWRITE
        }

    assert not flagged(Config()) & negatives
    unbounded = Config.from_dict({"rewrite": {"min_specificity": -1.0}})
    assert len(flagged(unbounded) & negatives) >= 5


# -- the index lookup ------------------------------------------------------------------------


def test_the_lookup_finds_each_rewrites_source_on_band_keys_alone(stories):
    """`likely_sources` decides which indexed documents' codes a run reads: each rewrite of
    the labelled set, as a run of its own against the originals and independent reports,
    finds its source."""
    docs = [d for story in stories.values() for d in story]
    doc, _, codes = _columns([d.paragraphs for d in docs])
    keys = rewrites.band_keys(codes, CONFIG)
    in_index = np.isin(doc, [i for i, d in enumerate(docs) if d.kind != "rewrite"])
    for r, d in enumerate(docs):
        if d.kind == "rewrite":
            run = doc == r
            found = rewrites.likely_sources(keys[in_index], doc[in_index], keys[run], doc[run], CONFIG)
            assert next(i for i, o in enumerate(docs) if o.id == d.rewrite_of) in found.tolist(), d.id


def test_the_lookup_leaves_most_unrelated_real_pages_unread():
    """On the real pages (none rewrites another): a batch of the last 111 pages against the
    first 600 shares a band key with nearly every indexed page by chance; the lookup reads
    under half of those."""
    if not corpus.REALPAGES.is_dir():
        pytest.skip(f"{corpus.REALPAGES} is not there (the real pages are beside the checkout in CI)")
    doc, _, codes = _columns([paragraphs for _, paragraphs in corpus.realpages_articles()])
    keys = rewrites.band_keys(codes, CONFIG)
    run, indexed = doc >= 600, doc < 600
    shares = np.zeros(indexed.sum(), dtype=bool)
    for band in range(CONFIG.bands):
        shares |= np.isin(keys[indexed, band], keys[run, band])
    by_chance = len(np.unique(doc[indexed][shares]))
    found = rewrites.likely_sources(keys[indexed], doc[indexed], keys[run], doc[run], CONFIG)
    assert by_chance > 500 and len(found) < by_chance / 2, (len(found), by_chance)
