import random
import time
from datetime import UTC, datetime
from unittest import mock

import numpy as np

from cleaner.config import DedupConfig
from cleaner.dedup import visit as visit_module
from cleaner.dedup.lsh import band_candidates, band_keys
from cleaner.dedup.signatures import jaccard, shingles, signatures
from cleaner.dedup.sketch import Sketch
from cleaner.dedup.visit import deduplicate, deduplicate_sketch
from cleaner.dedup.visit import texts_of as dedup_texts
from cleaner.document import Document, DuplicateKind, Passage, Status

A = [
    "Dock workers at the port of Hallvik voted on Tuesday to end a twelve-day strike after the harbour authority agreed to a new shift schedule and a pay rise.",
    "The union said 412 of its 530 members took part in the ballot, and that 87 percent of them backed the offer the authority made late on Monday night.",
    "Ferries to the outer islands are expected to run to the normal timetable again from Thursday morning, the operator Skerry Lines said in a statement.",
    "Fish exporters, who had diverted catches to the smaller port of Brekke during the stoppage, said they would return to Hallvik as soon as berths were free.",
]
B = [
    "A crack nearly forty metres long has opened in the wall of the Brennmark Dam, engineers said, forcing the evacuation of two villages below the reservoir.",
    "The regional water board said the crack was found during a routine drone inspection on Sunday and that the reservoir level was being lowered.",
    "About 1,800 residents of Lower Brennmark and Sollia were told to leave their homes by noon and were offered beds in the sports hall at Tynset.",
]


def _doc(doc_id, paragraphs, order, published=None):
    passages = [Passage(i, t) for i, t in enumerate(paragraphs)]
    return Document(
        doc_id=doc_id, source=doc_id, order=(order, 0), kind="text", passages=passages, published=published
    )


def _edit(text, changes):
    words = text.split()
    for i, w in changes.items():
        words[i] = w
    return " ".join(words)


def _statuses(doc):
    return [(p.status, p.duplicate_of_doc, p.duplicate_of_position) for p in doc.passages]


def test_exact_duplicates_ignore_case_quotes_and_spacing():
    first = _doc("a", A, 0)
    copy = _doc(
        "c", [A[0].upper().replace(",", ","), "  " + A[1].replace("'", "’") + " ", B[0], B[1], B[2]], 1
    )
    deduplicate([first, copy], DedupConfig())
    assert _statuses(copy)[:2] == [(Status.EXACT_DUPLICATE, "a", 0), (Status.EXACT_DUPLICATE, "a", 1)]
    assert copy.passages[0].similarity == 1.0
    assert [p.status for p in copy.passages[2:]] == [Status.KEPT] * 3
    assert not copy.is_duplicate  # 3 of 5 paragraphs are its own


def test_near_duplicate_with_a_few_changed_words_points_at_its_source():
    first = _doc("a", A, 0)
    edited = _edit(A[2], {3: "islands'", 22: "ferry"})  # 2 words of 25: trigram Jaccard ~0.59
    other = _doc("c", [edited, *B], 1)
    stats = deduplicate([first, other], DedupConfig())
    p = other.passages[0]
    assert (p.status, p.duplicate_of_doc, p.duplicate_of_position) == (Status.NEAR_DUPLICATE, "a", 2)
    assert 0.5 <= p.similarity < 1.0
    assert stats.near_passages == 1 and stats.exact_passages == 0
    assert stats.candidates_checked >= 1


def test_three_changed_words_in_sixty_is_a_near_duplicate():
    sixty = " ".join([A[0], A[1]])  # 55 words
    assert len(sixty.split()) >= 55
    edited = _edit(sixty, {4: "harbour", 25: "staff", 40: "ninety"})
    first, copy = _doc("a", [sixty], 0), _doc("c", [edited], 1)
    deduplicate([first, copy], DedupConfig())
    assert copy.passages[0].status is Status.NEAR_DUPLICATE


def _share_a_band(a: str, b: str) -> bool:
    config = DedupConfig()
    keys = band_keys(signatures([a, b], config).values, config)
    return bool((keys[0] == keys[1]).any())


def test_part_of_a_split_paragraph_is_found_by_containment():
    tail = "Berths should be free again by the end of the month, the harbour authority said on Friday."
    whole = " ".join([A[2], A[3], tail])
    # Preconditions: the pair is an LSH candidate (the test is about verification), and its
    # Jaccard (0.37) is well under the threshold: only containment can match it.
    assert _share_a_band(whole, A[3])
    assert jaccard(shingles(whole, DedupConfig()), shingles(A[3], DedupConfig())) < 0.4
    first, part = _doc("a", [whole], 0), _doc("c", [A[3]], 1)
    deduplicate([first, part], DedupConfig())
    p = part.passages[0]
    assert (p.status, p.duplicate_of_doc) == (Status.NEAR_DUPLICATE, "a")
    assert p.similarity >= DedupConfig().containment_threshold  # its containment, not its Jaccard
    # The other way round, a longer passage is not a duplicate of a shorter one it contains.
    first, longer = _doc("a", [A[3]], 0), _doc("c", [whole], 1)
    deduplicate([first, longer], DedupConfig())
    assert longer.passages[0].status is Status.KEPT


def test_two_paragraphs_merged_into_one_are_found():
    # Each half of a merge of two similar paragraphs has a Jaccard near 0.5 with the whole
    # (0.52 and 0.44 here), so at the default threshold one half may match it alone; a
    # threshold of 0.6 leaves the merge rule as the only way to find it.
    config = DedupConfig(threshold=0.6)
    merged_text = A[1] + " " + A[2]
    sigs = signatures([merged_text, A[1], A[2]], config)
    # Preconditions: both halves are LSH candidates, and neither is similar enough alone.
    assert _share_a_band(merged_text, A[1]) and _share_a_band(merged_text, A[2])
    assert max(sigs.jaccard(0, 1), sigs.jaccard(0, 2)) < config.threshold
    original = _doc("orig", A, 0)
    merged = _doc("copy", [merged_text], 1)
    deduplicate([original, merged], config)
    p = merged.passages[0]
    assert (p.status, p.duplicate_of_doc) == (Status.NEAR_DUPLICATE, "orig")
    assert p.duplicate_of_position in (1, 2)
    assert p.similarity >= config.containment_threshold
    # The same two paragraphs kept in two different documents are no merge: no copy.
    apart = [_doc("x", [A[1], B[1]], 0), _doc("y", [B[2], A[2]], 1)]
    other = _doc("copy", [merged_text], 2)
    deduplicate([*apart, other], config)
    assert other.passages[0].status is Status.KEPT


def test_short_lines_are_deduplicated_only_when_identical():
    a = _doc("a", ["Questions over the harbour expansion at the quay", *A], 0)
    b = _doc(
        "b",
        [
            *B,
            "Questions over the harbour expansion at the depot",
            "Questions over the harbour expansion at the quay",
            A[0],  # the copied run the heading belongs to
        ],
        1,
    )
    deduplicate([a, b], DedupConfig())
    assert [p.status for p in b.passages[-3:]] == [
        Status.KEPT,
        Status.EXACT_DUPLICATE,
        Status.EXACT_DUPLICATE,
    ]


def test_a_short_line_two_unrelated_pages_share_is_no_copy():
    heading = "Frequently asked questions about the harbour"
    a = _doc("a", [*A, heading], 0)
    b = _doc("b", [B[0], heading, B[1]], 1)
    # Beside a paragraph copied from another document than the heading's, it is still chance.
    c = _doc("c", [B[0], heading, B[2]], 2)
    stats = deduplicate([a, b, c], DedupConfig())
    assert [p.status for p in b.passages] == [Status.KEPT] * 3
    assert [p.status for p in c.passages] == [Status.EXACT_DUPLICATE, Status.KEPT, Status.KEPT]
    assert stats.exact_passages == sum(
        p.status is Status.EXACT_DUPLICATE for d in (a, b, c) for p in d.passages
    )


def test_unrelated_passages_sharing_names_are_not_duplicates():
    first = _doc("a", A, 0)
    negative = _doc(
        "n",
        [
            "Hallvik's harbour authority said on Tuesday that the new shift schedule would cost it about 2 million crowns a year in overtime.",
            "Skerry Lines, which runs ferries to the outer islands, said it had lost 300,000 crowns in ticket sales during the twelve days.",
        ],
        1,
    )
    deduplicate([first, negative], DedupConfig())
    assert [p.status for p in negative.passages] == [Status.KEPT, Status.KEPT]


def test_first_occurrence_is_earliest_published_then_input_order():
    late = _doc("late", A, 0, published=datetime(2026, 3, 5, tzinfo=UTC))
    undated = _doc("undated", A, 1)
    early = _doc("early", A, 2, published=datetime(2026, 3, 4, tzinfo=UTC))
    order = Sketch.of([late, undated, early], DedupConfig()).visiting_order()
    assert order.tolist() == [2, 0, 1]  # early, late, undated
    deduplicate([late, undated, early], DedupConfig())
    assert not early.is_duplicate
    assert (late.duplicate_of, late.duplicate_kind, late.duplicate_similarity) == (
        "early",
        DuplicateKind.EXACT,
        1.0,
    )
    assert undated.duplicate_of == "early"
    assert all(p.duplicate_of_doc == "early" for p in late.passages)


def test_document_kinds():
    original = _doc("orig", A, 0)
    mirror = _doc("mirror", [*A, "Tiny tail"], 1)  # a too-short line does not spoil "exact"
    teaser = _doc("teaser", A[:2], 2)
    wire = _doc(
        "wire",
        [_edit(A[0], {5: "Hallvik's"}), A[1], _edit(A[2], {10: "usual"}), _edit(A[3], {2: "exporters,"})],
        3,
    )
    stats = deduplicate([original, mirror, teaser, wire], DedupConfig())
    assert not original.is_duplicate
    assert (mirror.duplicate_of, mirror.duplicate_kind) == ("orig", DuplicateKind.EXACT)
    assert (teaser.duplicate_of, teaser.duplicate_kind, teaser.duplicate_similarity) == (
        "orig",
        DuplicateKind.CONTAINED,
        1.0,
    )
    assert (wire.duplicate_of, wire.duplicate_kind) == ("orig", DuplicateKind.NEAR)
    assert 0.5 < wire.duplicate_similarity < 1.0
    assert stats.duplicate_documents == {"exact": 1, "contained": 1, "near": 1}


def test_a_mirror_with_a_heading_of_its_own_is_still_exact():
    original = _doc("orig", A, 0)
    mirror = _doc("mirror", [A[0], "What the harbour vote means for Hallvik", *A[1:]], 1)
    deduplicate([original, mirror], DedupConfig())
    assert (mirror.duplicate_of, mirror.duplicate_kind) == ("orig", DuplicateKind.EXACT)


def test_a_byte_identical_mirror_is_exact_when_its_target_repeats_or_quotes_paragraphs():
    """Judged by position, the mirror's copies pointed at the target's first occurrences
    only: of a page repeating one of its paragraphs (a pull quote), or quoting another
    page's, its byte-identical mirror was a `near` duplicate of similarity 1.0."""
    other = _doc("other", B, 0)
    original = _doc("orig", [A[0], A[1], B[0], A[2], A[1], A[3]], 1)  # quotes B[0], repeats A[1]
    mirror = _doc("mirror", [p.text for p in original.passages], 2)
    deduplicate([other, original, mirror], DedupConfig())
    assert (mirror.duplicate_of, mirror.duplicate_kind, mirror.duplicate_similarity) == (
        "orig",
        DuplicateKind.EXACT,
        1.0,
    )


def test_a_mirror_of_an_earlier_runs_page_that_repeats_a_paragraph_is_exact(tmp_path):
    import json

    from tests.runs import clean_corpus

    days = [tmp_path / "day1", tmp_path / "day2"]
    page = "\n\n".join([A[0], A[1], A[2], A[1], A[3]])
    for n, day in enumerate(days):
        day.mkdir()
        (day / "feed.jsonl").write_text(json.dumps({"id": f"p{n}", "text": page}) + "\n")
    clean_corpus([str(days[0])], str(tmp_path / "out"))
    summary = clean_corpus([str(days[1])], str(tmp_path / "out"))
    assert summary["counts"]["duplicates_by_kind"] == {"exact": 1}


def test_nothing_points_at_a_dropped_document():
    original = _doc("orig", A, 0)
    # A copy of A with one paragraph of its own: dropped as a duplicate document...
    copy = _doc("copy", [*A, B[0]], 1)
    # ...so a later document repeating that paragraph must not point at the copy.
    later = _doc("later", [B[0], B[1]], 2)
    deduplicate([original, copy, later], DedupConfig())
    assert copy.is_duplicate
    assert copy.passages[4].status is Status.KEPT  # its own text, kept in duplicates/
    assert [p.status for p in later.passages] == [Status.KEPT, Status.KEPT]


def test_short_passages_are_never_deduplicated():
    a = _doc("a", [*A, "He said no."], 0)
    b = _doc("b", [*B, "He said no."], 1)
    deduplicate([a, b], DedupConfig())
    assert b.passages[-1].status is Status.KEPT


def test_a_line_a_page_repeats_is_its_structure_and_kept():
    first = _doc("a", A, 0)
    # A list repeating an item, and a near copy of its own paragraph: the page's own text.
    page = _doc("p", [B[0], "Eat every two to three hours", B[1], "Eat every two to three hours"], 1)
    page.passages.append(Passage(4, _edit(B[0], {5: "Hallvik's"})))
    stats = deduplicate([first, page], DedupConfig())
    assert [p.status for p in page.passages] == [Status.KEPT] * 5
    assert (stats.exact_passages, stats.near_passages) == (0, 0)
    # A repeat still counts as a copy of an earlier document's line.
    later = _doc("q", [A[0], A[0], B[2]], 2)
    deduplicate([first, later], DedupConfig())
    assert _statuses(later)[:2] == [(Status.EXACT_DUPLICATE, "a", 0)] * 2


def test_a_page_repeating_its_own_paragraph_is_not_a_duplicate_document():
    doc = _doc("a", [A[0], A[0], A[0]], 0)
    deduplicate([doc], DedupConfig(within_documents=True))
    assert _statuses(doc) == [
        (Status.KEPT, None, None),
        (Status.EXACT_DUPLICATE, "a", 0),
        (Status.EXACT_DUPLICATE, "a", 0),
    ]
    assert not doc.is_duplicate


def test_repeating_itself_does_not_make_a_page_a_copy_of_another():
    first = _doc("a", A, 0)
    # One paragraph quoted from A, two of its own, and its own paragraphs repeated twice:
    # 2 of 3 distinct paragraphs are its own, so it stays.
    page = _doc("p", [A[0], B[0], B[1], B[0], B[1], B[0]], 1)
    deduplicate([first, page], DedupConfig())
    assert not page.is_duplicate
    assert [p.status for p in page.passages][:3] == [Status.EXACT_DUPLICATE, Status.KEPT, Status.KEPT]


def test_with_within_documents_a_near_copy_inside_the_same_page_is_found():
    doc = _doc("a", [A[0], A[1], _edit(A[0], {5: "Hallvik's"})], 0)
    stats = deduplicate([doc], DedupConfig(within_documents=True))
    assert _statuses(doc)[2] == (Status.NEAR_DUPLICATE, "a", 0)
    assert stats.candidates_checked == 1  # found through the index, not by comparing all pairs


def test_verification_rejects_candidates_below_the_threshold():
    first = _doc("a", A, 0)
    edited = _doc("c", [_edit(A[2], {3: "islands'", 12: "usual", 22: "ferry"})], 1)
    stats = deduplicate([first, edited], DedupConfig(threshold=0.95))
    assert edited.passages[0].status is Status.KEPT
    assert stats.candidates_rejected >= 1


def _misestimated(over: bool) -> tuple[str, str, float, float]:
    """A passage and an edit of it whose 128-permutation estimate falls on the wrong side of
    the 0.5 threshold: a true Jaccard over it estimated under it (`over`), or the reverse."""
    config = DedupConfig()
    base = " ".join([A[0], A[1], A[3]])
    rng = random.Random(3)
    for _ in range(1000):
        words = base.split()
        for j in rng.sample(range(len(words)), rng.randint(6, 14)):
            words[j] = rng.choice(["grey", "quay", "night", "vote", "ships", "cargo", "week", "north"])
        edited = " ".join(words)
        exact = jaccard(shingles(base, config), shingles(edited, config))
        estimate = signatures([base, edited], config).jaccard(0, 1)
        if (exact >= 0.5 > estimate if over else estimate >= 0.5 > exact) and _share_a_band(base, edited):
            return base, edited, exact, estimate
    raise AssertionError("no such edit in 1,000 tries")


def test_a_pair_over_the_threshold_but_estimated_under_it_is_found_by_the_exact_check():
    base, edited, exact, estimate = _misestimated(over=True)
    first, copy = _doc("a", [base], 0), _doc("c", [edited], 1)
    stats = deduplicate([first, copy], DedupConfig())
    p = copy.passages[0]
    assert (p.status, p.duplicate_of_doc, p.duplicate_of_position) == (Status.NEAR_DUPLICATE, "a", 0)
    assert p.similarity == round(exact, 6) != round(estimate, 6)  # the exact Jaccard is reported
    assert stats.exact_checks == 1
    # The estimate alone would have kept it.
    sketch = Sketch.of([_doc("a", [base], 0), _doc("c", [edited], 1)], DedupConfig())
    alone = deduplicate_sketch(sketch, DedupConfig())
    assert alone.exact_checks == 0 and alone.near_passages == 0


def test_a_pair_under_the_threshold_but_estimated_over_it_is_kept_by_the_exact_check():
    base, edited, exact, estimate = _misestimated(over=False)
    first, other = _doc("a", [base], 0), _doc("c", [edited], 1)
    stats = deduplicate([first, other], DedupConfig(containment_threshold=1.0))
    assert other.passages[0].status is Status.KEPT
    assert stats.exact_checks == 1 and stats.candidates_rejected == 1
    sketch = Sketch.of([_doc("a", [base], 0), _doc("c", [edited], 1)], DedupConfig())
    assert deduplicate_sketch(sketch, DedupConfig(containment_threshold=1.0)).near_passages == 1


def test_clear_verdicts_are_not_checked_exactly():
    first = _doc("a", A, 0)
    copy = _doc("c", [_edit(A[0], {5: "Hallvik's"}), *B], 1)  # one word in 28: far over 0.5
    stats = deduplicate([first, copy], DedupConfig())
    assert copy.passages[0].status is Status.NEAR_DUPLICATE
    assert stats.exact_checks == 0


def test_result_does_not_depend_on_the_order_of_the_input_list():
    def build():
        return [
            _doc("orig", A, 0, datetime(2026, 3, 1, tzinfo=UTC)),
            _doc("copy", [_edit(A[0], {5: "Hallvik's"}), *A[1:]], 1),
            _doc("other", B, 2, datetime(2026, 3, 2, tzinfo=UTC)),
            _doc("mix", [A[1], B[1], _edit(B[2], {4: "Upper"})], 3),
        ]

    reference = build()
    deduplicate(reference, DedupConfig())
    for seed in range(5):
        docs = build()
        random.Random(seed).shuffle(docs)
        deduplicate(docs, DedupConfig())
        by_id = {d.doc_id: d for d in docs}
        for ref in reference:
            got = by_id[ref.doc_id]
            assert (got.duplicate_of, got.duplicate_kind) == (ref.duplicate_of, ref.duplicate_kind)
            assert _statuses(got) == _statuses(ref)


def test_band_candidates_are_the_group_head_and_near_neighbours():
    # One row per band: band 0 groups rows {0, 2, 5} and {1, 4}; band 1 groups {3, 5}.
    config = DedupConfig(bands=2, rows=1, num_perm=16)
    values = np.array([[7, 0], [8, 1], [7, 2], [9, 3], [8, 4], [7, 3]], dtype=np.uint32)
    indptr, indices = band_candidates(values, config)
    got = {j: indices[indptr[j] : indptr[j + 1]].tolist() for j in range(6)}
    assert got == {0: [], 1: [], 2: [0], 3: [], 4: [1], 5: [0, 2, 3]}


def test_band_candidates_bound_a_large_group():
    config = DedupConfig(bands=1, rows=1, num_perm=16)
    values = np.zeros((100, 1), dtype=np.uint32)  # one group of 100 rows
    indptr, indices = band_candidates(values, config, cap=3)
    assert indices[indptr[99] : indptr[100]].tolist() == [0, 96, 97, 98]  # the head and 3 before
    assert indptr[100] == 1 + 2 + 3 + 4 * 96  # rows 1-3 have all earlier rows, then head + 3 back


def test_band_keys_for_one_band_match_all_bands():
    config = DedupConfig()
    values = signatures([A[0], A[1], B[0]], config).values
    every = band_keys(values, config)
    assert every.shape == (3, config.bands)
    for band in (0, 17, config.bands - 1):
        assert np.array_equal(band_keys(values, config, band)[:, 0], every[:, band])


def test_bands_split_into_groups_find_the_same_candidates_from_the_signatures_files(tmp_path):
    from cleaner.dedup.lsh import band_group_pairs, band_groups, candidates
    from cleaner.dedup.store import SignatureStore

    config = DedupConfig()
    rng = np.random.default_rng(3)
    values = rng.integers(0, 5, size=(400, config.num_perm), dtype=np.uint32)  # many shared bands
    visit = rng.permutation(400)
    whole = band_candidates(values, config, visit)
    assert len(whole[1]) > 400
    # as a run holds them: a file per part, and an earlier run's rows in memory before them
    cuts = [0, 30, 31, 250, 400]
    for i, (a, b) in enumerate(zip(cuts[1:-1], cuts[2:], strict=True)):
        SignatureStore.save(tmp_path / f"{i}.npy", values[a:b])
    store = SignatureStore.of(values[:30]).then(
        SignatureStore.files([tmp_path / f"{i}.npy" for i in range(3)], config.num_perm)
    )
    for parts in (1, 2, 5, 42, 100):
        groups = band_groups(config, parts)
        assert [b for g in groups for b in g] == list(range(config.bands))  # each band once
        assert len(groups) == min(parts, config.bands)
        pairs = [band_group_pairs(store, config, visit, g) for g in groups]
        split = candidates(pairs, len(visit))
        assert all(np.array_equal(a, b) for a, b in zip(split, whole, strict=True)), parts
        threaded = band_candidates(store, config, visit, groups=parts, threads=3)  # as a local run
        assert all(np.array_equal(a, b) for a, b in zip(threaded, whole, strict=True)), parts


def test_exact_copies_are_settled_by_their_fingerprint_and_never_searched():
    searched = []

    def lsh(values, config, rows):
        searched.append(len(rows))
        return band_candidates(values, config, rows)

    copies = [_doc(f"c{i}", A, i) for i in range(50)]
    sketch = Sketch.of(copies, DedupConfig())
    stats = deduplicate_sketch(sketch, DedupConfig(), lsh=lsh, texts=None)
    sketch.apply(copies)
    assert searched == [len(A)]  # the first copy's passages; 49 x 4 copies never enter LSH
    assert stats.walks == 1 and stats.as_dict()["walks"] == 1
    assert stats.exact_passages == 49 * len(A)
    assert all(c.duplicate_of == "c0" and c.duplicate_kind is DuplicateKind.EXACT for c in copies[1:])


def test_a_copy_whose_first_occurrence_left_with_its_document_is_searched_after_all():
    x = B[0]
    source = _doc("p", A, 0)
    dropped = _doc("d1", [A[0], A[1], A[2], x], 1)  # three of four copied: a duplicate document
    keeper = _doc("d2", [x, A[3].replace("Fish", "Salmon"), B[1]], 2)  # x: first occurrence now
    later = _doc("d3", [_edit(x, {3: "ninety"}), B[2]], 3)  # a near copy of the keeper's x
    searched = []

    def lsh(values, config, rows):
        searched.append(len(rows))
        return band_candidates(values, config, rows)

    docs = [source, dropped, keeper, later]
    sketch = Sketch.of(docs, DedupConfig())
    calls = []
    real_run = visit_module._Visit.run

    def timed_run(self, stats):  # each walk takes 50 ms more
        calls.append(1)
        real_run(self, stats)
        time.sleep(0.05)

    with mock.patch.object(visit_module._Visit, "run", timed_run):
        stats = deduplicate_sketch(sketch, DedupConfig(), lsh=lsh, texts=dedup_texts(docs, sketch))
    sketch.apply(docs)
    # The manifest says the walk ran twice, and its time is both walks', not the last one's.
    assert stats.walks == len(calls) == 2
    assert stats.seconds["visit"] >= 0.1
    assert dropped.duplicate_of == "p"
    assert keeper.passages[0].status is Status.KEPT
    assert _statuses(later)[0] == (Status.NEAR_DUPLICATE, "d2", 0)
    assert len(searched) == 2 and searched[1] == searched[0] + 1  # once more, with x's copy


def test_distinct_codes_are_numpys_unique_whatever_their_shape():
    from cleaner.dedup.lsh import _distinct

    rng = np.random.default_rng(3)
    n = 5000
    later = np.arange(1, n)
    hot = np.concatenate([later * n] + [later[b:] * n + later[b:] - b for b in range(1, 9)])
    for codes in (hot, rng.integers(0, 1 << 40, 20000), np.zeros(0, dtype=np.int64), np.array([7])):
        assert np.array_equal(_distinct(codes.copy()), np.unique(codes))


def test_a_copy_of_a_near_duplicate_repeats_what_it_repeats_without_being_searched():
    searched = []

    def lsh(values, config, rows):
        searched.append(len(rows))
        return band_candidates(values, config, rows)

    edited = _edit(A[0], {5: "Hallvik's"})
    docs = [_doc("a", A, 0), _doc("b", [edited, B[0]], 1), _doc("c", [edited, B[1]], 2)]
    sketch = Sketch.of(docs, DedupConfig())
    stats = deduplicate_sketch(sketch, DedupConfig(), lsh=lsh, texts=dedup_texts(docs, sketch))
    sketch.apply(docs)
    first, copy = docs[1].passages[0], docs[2].passages[0]
    assert (first.status, first.duplicate_of_doc, first.duplicate_of_position) == (
        Status.NEAR_DUPLICATE,
        "a",
        0,
    )
    assert (copy.status, copy.duplicate_of_doc, copy.duplicate_of_position) == (Status.NEAR_DUPLICATE, "a", 0)
    assert copy.similarity == first.similarity
    assert searched == [len(A) + 3] and stats.near_passages == 2  # one round; the copy not searched


def _walk_only(monkeypatch):
    """Turn off the walk's shortcut for plain documents (`_Visit._plain_documents`)."""
    from cleaner.dedup import visit

    monkeypatch.setattr(
        visit._Visit, "_plain_documents", lambda self: np.zeros(self.sketch.n_docs, dtype=bool)
    )


def test_plain_documents_are_decided_as_the_walk_decides_them(tmp_path, monkeypatch):
    """Documents with nothing to decide skip the walk: on the synthetic quality corpus (a
    third of its documents copy others: exact, near, contained, merged and split
    paragraphs), as two runs (the second against the first's corpus) and with the walk
    alone, every dataset and every count of the manifests is the same."""
    import json

    import pyarrow.parquet as pq

    from benchmarks.quality.run import build_corpus
    from cleaner.dedup import visit
    from tests.runs import clean_corpus

    records, _ = build_corpus(300, 11)
    for day, chunk in (("day1", records[:150]), ("day2", records[150:])):
        (tmp_path / day).mkdir()
        with (tmp_path / day / "c.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r.as_input(), ensure_ascii=False) + "\n" for r in chunk)
    plain = []
    counted = visit._Visit._plain_documents

    def spy(self):
        found = counted(self)
        plain.append(int(found.sum()))
        return found

    def runs(out):
        summaries = [clean_corpus([str(tmp_path / day)], str(out)) for day in ("day1", "day2")]
        datasets = {}
        for name in ("documents", "duplicates", "passages"):
            table = pq.read_table(out / name)
            table = table.drop_columns([c for c in table.column_names if c.startswith("run")])
            datasets[name] = sorted(table.to_pylist(), key=repr)  # the runs' partitions in any order
        return [s["counts"] for s in summaries], datasets

    with monkeypatch.context() as patched:
        patched.setattr(visit._Visit, "_plain_documents", spy)
        shortcut = runs(tmp_path / "shortcut")
    _walk_only(monkeypatch)
    walked = runs(tmp_path / "walked")
    assert len(plain) == 2 and all(n > 20 for n in plain), plain  # the shortcut was taken
    assert shortcut[0] == walked[0]
    assert shortcut[1] == walked[1]
    assert shortcut[0][1]["duplicates_by_kind"]  # the second run found copies of the first's
