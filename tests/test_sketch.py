import pickle
from datetime import UTC, datetime

import numpy as np
import pytest

from cleaner.config import DedupConfig
from cleaner.dedup.sketch import BOILERPLATE, Sketch
from cleaner.dedup.visit import deduplicate, deduplicate_sketch
from cleaner.document import Document, Passage, Status

A = "The county council voted on Monday to rebuild the old stone bridge over the river Kessel by next spring."
B = "Engineers said the repair would cost about four million and keep one lane open to traffic throughout."
C = "Residents of the western shore had asked for a footpath on the new bridge at a public meeting in May."
D = "A ferry service between the two banks will run every half hour while the bridge is closed to lorries."


def _doc(doc_id, paragraphs, order, published=None, statuses=None):
    passages = [Passage(i, t) for i, t in enumerate(paragraphs)]
    for p, status in zip(passages, statuses or [], strict=False):
        if status is Status.BOILERPLATE:
            p.drop("debris")
    return Document(doc_id, f"in/{doc_id}.txt", (order, 0), "text", passages=passages, published=published)


def _docs():
    return [
        _doc("a", ["Menu", A, B], 0, statuses=[Status.BOILERPLATE]),
        _doc("b", [A, B, C], 1, published=datetime(2026, 3, 1, tzinfo=UTC)),
        _doc("c", [], 2),
        _doc("d", [C, D, "Share this"], 3, statuses=[None, None, Status.BOILERPLATE]),
    ]


def test_concatenated_batches_equal_one_sketch():
    config = DedupConfig()
    docs = _docs()
    whole = Sketch.of(docs, config)
    joined = Sketch.concat(
        [Sketch.of(docs[:1], config), Sketch.of(docs[1:3], config), Sketch.of(docs[3:], config)]
    )
    for name, value in vars(whole).items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(joined, name), value, err_msg=name)
        else:
            assert getattr(joined, name) == value, name
    assert whole.starts.tolist() == [0, 3, 6, 6, 9]
    assert (whole.rows >= 0).sum() == 7  # "Menu" and "Share this" get no signature


def test_dedup_on_concatenated_batches_matches_dedup_in_memory():
    config = DedupConfig()
    expected = _docs()
    deduplicate(expected, config)
    docs = _docs()
    sketch = Sketch.concat([Sketch.of(docs[:2], config), Sketch.of(docs[2:], config)])
    deduplicate_sketch(sketch, config)
    sketch.apply(docs[:2], 0)
    sketch.apply(docs[2:], 2)
    assert docs == expected
    # b is dated, so it comes first: a, which repeats it, is the duplicate document
    assert (docs[0].duplicate_of, docs[1].duplicate_of) == ("b", None)
    assert docs[3].passages[0].duplicate_of_doc == "b"


def test_repeated_ids_keep_the_first_in_input_order_and_leave_every_stage():
    config = DedupConfig()
    first = _doc("same", [A, B], 0)
    later = _doc("same", [C, D], 1)
    other = _doc("x", [C, D], 2)
    sketch = Sketch.of([later, other], config)
    sketch = Sketch.concat([Sketch.of([first], config), sketch])
    rejects = sketch.exclude_repeated_ids()
    assert [(r.source, r.reason, r.doc_id) for r in rejects] == [("in/same.txt", "duplicate_id", "same")]
    assert sketch.excluded.tolist() == [False, True, False]
    assert sketch.visiting_order().tolist() == [0, 2]
    deduplicate_sketch(sketch, config)
    assert sketch.apply([first, later, other]) == [first, other]
    assert not other.is_duplicate  # the excluded record's text is nobody's first occurrence


def test_no_content_counts_boilerplate_only_documents():
    sketch = Sketch.of(_docs(), DedupConfig())
    assert sketch.no_content().tolist() == [False, False, True, False]
    sketch.status[sketch.starts[3] : sketch.starts[4]] = BOILERPLATE
    assert sketch.no_content().tolist() == [False, False, True, True]


def test_apply_refuses_documents_of_another_batch():
    sketch = Sketch.of(_docs(), DedupConfig())
    with pytest.raises(ValueError, match="document 0 of the sketch is a, not b"):
        sketch.apply(_docs()[1:])


def test_a_sketch_holds_no_text():
    sketch = Sketch.of(_docs(), DedupConfig())
    blob = pickle.dumps(sketch)
    for text in (A, B, C, D, "Menu"):
        assert text.encode() not in blob
    assert len(blob) < 10_000  # 7 signatures of 512 bytes, and small arrays
