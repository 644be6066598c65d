"""Score rewrite detection, and MinHash on the same documents, against the labels.

The labelled set (and the seeds, when present) go through the library's real stages as one
corpus: read (a JSONL file of the stories' documents, the seeds as their own text files),
clean, learned boilerplate, MinHash dedup (`visit.deduplicate_sketch`). Rewrite detection
then runs on every content passage (duplicates included) with the documents in dedup's
visiting order, so both methods see the same passages and the same notion of "earlier".

- documents: a rewrite is found when it is flagged pointing at a document of its story that
  is not an independent report (its original, or another rewrite of it: the source of a
  chain of copies is as good as the first). Precision counts every flagged document; an
  independent report flagged, or pointed at, is a false merge.
- passages: a passage that restates original paragraphs is found when it points at a
  passage restating (or being) one of them. Precision counts every passage marked, in any
  document. For MinHash, "marked" is exact or near duplicate.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.quality.evaluate import clean_and_deduplicate
from cleaner.config import Config, RewriteConfig
from cleaner.dedup import embed, rewrites
from cleaner.document import Document, Status
from cleaner.io import readers

from .corpus import Doc


@dataclass
class Pipeline:
    """The labelled documents after cleaning and MinHash dedup, by labelled id, with the
    visiting rank of each."""

    docs: dict[str, Document]
    rank: dict[str, int]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def clean_and_dedup(
    labelled: list[Doc], seeds: list[Doc], seeds_folder: Path | None, config: Config
) -> Pipeline:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if labelled:  # (an empty file would be a reject)
            with (root / "labelled.jsonl").open("w", encoding="utf-8") as fh:
                for d in labelled:
                    record = {
                        "id": d.id,
                        "url": f"https://{_slug(d.outlet)}.example/{_slug(d.id)}",
                        "title": d.title,
                        "text": "\n\n".join(d.paragraphs),
                    }
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        by_file = {}
        if seeds:
            (root / "seeds").mkdir()
            for d in seeds:
                shutil.copy(seeds_folder / d.title, root / "seeds" / d.title)
                by_file[d.title] = d.id
        files, _ = readers.discover([root])
        documents, rejects, _ = readers.read_files(enumerate(files))
    if rejects:
        raise RuntimeError(f"unreadable labelled records: {rejects[:3]}")
    documents, sketch = clean_and_deduplicate(documents, config)
    out, rank = {}, {}
    for r, index in enumerate(sketch.visiting_order().tolist()):
        doc = documents[index]
        name = Path(doc.source).name
        key = by_file.get(name) or labelled[doc.order[1] - 1].id
        out[key] = doc
        rank[key] = r
    for d in [*labelled, *seeds]:  # positions are paragraph (line) numbers: check it
        for p in out[d.id].passages:
            if " ".join(p.text.split()) != " ".join(d.paragraphs[p.position].split()):
                raise RuntimeError(f"{d.id}: passage {p.position} is not paragraph {p.position}")
    return Pipeline(out, rank)


def detect(pipeline: Pipeline, config: RewriteConfig):
    """Rewrite detection over every content passage of the pipeline's documents: (ids in
    rank order, rewrites, comparisons)."""
    ids = sorted(pipeline.docs, key=pipeline.rank.__getitem__)
    doc_col, pos_col, texts = [], [], []
    for d, key in enumerate(ids):
        for p in pipeline.docs[key].passages:
            if p.is_content:
                doc_col.append(d)
                pos_col.append(p.position)
                texts.append(p.text)
    has, codes = embed.passage_codes(texts, config.min_words)
    doc_col, pos_col = np.array(doc_col)[has], np.array(pos_col)[has]
    found, comparisons = rewrites.find_rewrites(doc_col, pos_col, codes[has], np.arange(len(ids)), config)
    return ids, found, comparisons


def source_keys(docs: list[Doc], seeds_labels: dict | None) -> tuple[dict, set]:
    """{(doc id, position): set of (story, original paragraph)} for every restating
    passage, and the (doc, position, source doc, source position) marks that are neither
    right nor wrong (the seeds' ambiguous pairs)."""
    keys: dict[tuple[str, int], set] = {}
    skip: set = set()
    for d in docs:
        if d.family == "seeds" or d.kind == "independent":
            continue
        for position, sources in enumerate(d.sources):
            if sources:
                keys[(d.id, position)] = {(d.family, i) for i in sources}
    if seeds_labels:
        copy, source = (f"seed/{n}" for n in seeds_labels["pair_of"])
        for a, b in seeds_labels["pairs"]:
            keys[(copy, a)] = {("seeds", b)}
            keys[(source, b)] = {("seeds", b)}
        skip = {(copy, a, source, b) for a, b in seeds_labels["ambiguous"]}
    return keys, skip


def score(runs: list[tuple[list[Doc], dict, dict]], keys: dict, skip: set) -> dict:
    """Precision and recall per document and per passage, over runs: each run is (its
    documents, {doc id: doc id it is flagged a copy of}, {(doc id, position): (doc id,
    position) it is marked a copy of}). Only marks on the run's documents count; a document
    in two runs (an original, an independent report) is judged in each."""
    planted, found, flagged, correct = 0, 0, 0, 0
    independent, false_merges, missed, wrong = set(), set(), [], []
    hits = Counter()
    for docs, doc_marks, passage_marks in runs:
        by_id = {d.id: d for d in docs}
        for d in docs:
            if d.kind == "rewrite":
                planted += 1
                ok = _right_doc(d, doc_marks.get(d.id), by_id)
                found += ok
                if not ok:
                    missed.append(d.id)
            elif d.kind == "independent":
                independent.add(d.id)
        for k, target in doc_marks.items():
            if k in by_id:
                flagged += 1
                ok = _right_doc(by_id[k], target, by_id)
                correct += ok
                if not ok:
                    wrong.append(f"{k} -> {target}")
        for k in independent & set(by_id):
            if k in doc_marks or any(v == k for v in doc_marks.values()):
                false_merges.add(k)
        want = {k for k in keys if k[0] in by_id and by_id[k[0]].kind == "rewrite"}
        hits["restating"] += len(want)
        for (doc, position), (target, target_position) in passage_marks.items():
            if doc not in by_id or (doc, position, target, target_position) in skip:
                continue
            ok = bool(keys.get((doc, position), set()) & keys.get((target, target_position), set()))
            hits["marked"] += 1
            hits["correct"] += ok
            hits["found"] += ok and (doc, position) in want
    return {
        "documents": {
            "rewrites": planted,
            "found": found,
            "flagged": flagged,
            "precision": _ratio(correct, flagged),
            "recall": _ratio(found, planted),
            "independent": len(independent),
            "independent_flagged": len(false_merges),
            "independent_false_merges": sorted(false_merges),
            "missed": sorted(missed),
            "wrong": sorted(wrong),
        },
        "passages": {
            "restating": hits["restating"],
            "found": hits["found"],
            "marked": hits["marked"],
            "precision": _ratio(hits["correct"], hits["marked"]),
            "recall": _ratio(hits["found"], hits["restating"]),
        },
    }


def _right_doc(doc: Doc, target: str | None, by_id: dict) -> bool:
    if doc.kind != "rewrite" or target is None or target not in by_id:
        return False
    other = by_id[target]
    return other.family == doc.family and other.kind != "independent" and other.id != doc.id


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def rewrite_marks(ids: list[str], found: list) -> tuple[dict, dict]:
    doc_marks, passage_marks = {}, {}
    for r in found:
        doc_marks[ids[r.doc]] = ids[r.source]
        for m in r.matches:
            passage_marks[(ids[m.doc], m.position)] = (ids[m.source], m.source_position)
    return doc_marks, passage_marks


def minhash_marks(pipeline: Pipeline) -> tuple[dict, dict]:
    id_of = {doc.doc_id: key for key, doc in pipeline.docs.items()}
    doc_marks, passage_marks = {}, {}
    for key, doc in pipeline.docs.items():
        if doc.duplicate_of is not None:
            doc_marks[key] = id_of.get(doc.duplicate_of, doc.duplicate_of)
        for p in doc.passages:
            if p.status in (Status.EXACT_DUPLICATE, Status.NEAR_DUPLICATE):
                passage_marks[(key, p.position)] = (
                    id_of.get(p.duplicate_of_doc, p.duplicate_of_doc),
                    p.duplicate_of_position,
                )
    return doc_marks, passage_marks
