"""Score the pipeline on a labelled corpus from `generate.build_corpus`.

The records are written as a JSONL file and go through the library's real stages: read,
clean, learned boilerplate, dedup. The flow runs the same stages as Prefect tasks. Every
line is then compared with its label.

- passages: a labelled copy counts as found when it is marked a duplicate of one of its
  sources (or of a passage its sources copy in turn). Precision is taken over every passage
  marked a duplicate, so a wrong source or a duplicate found where none was planted costs
  precision.
- documents: a labelled copy is found when it is dropped pointing at its original; a hard
  negative pair is falsely merged when one is dropped as a duplicate of the other.
- boilerplate: recall per labelled kind, precision per rule that fired.
- signatures: estimated against exact Jaccard of the shingle sets, on labelled copy pairs and
  on random pairs.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from cleaner.clean import language, learned, lines
from cleaner.config import Config
from cleaner.dedup import rewrites, visit
from cleaner.dedup.signatures import jaccard, shingles, signatures
from cleaner.dedup.sketch import Sketch
from cleaner.document import Document, Status
from cleaner.io import readers

from .generate import EDITS, Record


def run_pipeline(records: list[Record], config: Config):
    """The library's stages over the records; returns {record id: Document}."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record.as_input(), ensure_ascii=False) + "\n")
        files, _ = readers.discover([path])
        docs, rejects, _ = readers.read_files(enumerate(files))
    if rejects:
        raise RuntimeError(f"the generated corpus has unreadable records: {rejects[:3]}")
    docs, _ = clean_and_deduplicate(docs, config)
    return {records[doc.order[1] - 1].id: doc for doc in docs}


def clean_and_deduplicate(docs: list[Document], config: Config) -> tuple[list[Document], Sketch]:
    """The library's stages after reading, in memory: clean, learned boilerplate, MinHash
    dedup and, when it is on, the rewrite stage, the verdicts put on the documents; the
    cleaned documents and their sketch.

    The rewrite stage embeds the documents of its languages, so their language is
    identified as a run identifies it (on the body), once they are cleaned: the cleaning
    measured here stays the one measured before the stage existed."""
    found = language.identify_all([d.body or "" for d in docs]) if config.rewrite.enabled else []
    docs = lines.clean_batch(docs, config.clean)
    sketch = Sketch.of(docs, config.dedup)
    if config.rewrite.enabled:
        for doc, code in zip(docs, found, strict=True):
            doc.language = doc.language or code
        sketch.embed_passages(docs, config.rewrite)
    learned.apply_learned(sketch, learned.learn_boilerplate(sketch, config.clean))
    visit.deduplicate_sketch(sketch, config.dedup, texts=visit.texts_of(docs, sketch))
    if config.rewrite.enabled:
        rewrites.mark_rewrites(sketch, config.rewrite)
    sketch.apply(docs)
    return docs, sketch


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate(
    records: list[Record], labels: dict, config: Config | None = None, signature_pairs: int = 2000
) -> dict:
    config = config or Config()
    docs = run_pipeline(records, config)
    rid_of = {doc.doc_id: rid for rid, doc in docs.items()}
    by_id = {r.id: r for r in records}
    return {
        "articles": len(records),
        "passages": _passages(docs, rid_of, labels),
        "documents": _documents(docs, rid_of, labels),
        "boilerplate": _boilerplate(docs, labels),
        "signatures": _signatures(by_id, labels, config, signature_pairs),
    }


def _passages(docs, rid_of, labels) -> dict:
    sources: dict[tuple[str, int], list[tuple[str, int]]] = {}
    edit_of: dict[tuple[str, int], str] = {}
    for rid, label in labels["records"].items():
        for p in label["passages"]:
            key = (rid, p["position"])
            sources[key] = [tuple(s) for s in p["sources"]]
            edit_of[key] = p["edit"]

    def closure(keys):
        seen, stack = set(), list(keys)
        while stack:
            key = stack.pop()
            if key not in seen:
                seen.add(key)
                stack.extend(sources.get(key, []))
        return seen

    planted, found, predicted, correct = Counter(), Counter(), Counter(), Counter()
    for rid, doc in docs.items():
        copy_edit = labels["records"][rid]["edit"]
        for p in doc.passages:
            key = (rid, p.position)
            is_dup = p.status in (Status.EXACT_DUPLICATE, Status.NEAR_DUPLICATE)
            edit = edit_of.get(key)
            ok = False
            if is_dup:
                target = (rid_of[p.duplicate_of_doc], p.duplicate_of_position)
                ok = edit is not None and target in closure(sources[key])
                bucket = edit or copy_edit or "original"
                predicted[bucket] += 1
                predicted["all"] += 1
                correct[bucket] += ok
                correct["all"] += ok
            if edit is not None:
                planted[edit] += 1
                planted["all"] += 1
                found[edit] += ok
                found["all"] += ok
    table = {}
    for edit in (*EDITS, "exact", "original", "all"):
        if planted[edit] or predicted[edit]:
            precision, recall = _ratio(correct[edit], predicted[edit]), _ratio(found[edit], planted[edit])
            f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else None
            table[edit] = {
                "planted": planted[edit],
                "found": found[edit],
                "predicted": predicted[edit],
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
    light = [
        e for e in ("sub1", "sub2", "sub3", "typos", "quotes", "dateline", "mirror", "exact") if planted[e]
    ]
    table["up_to_3_words"] = {
        "recall": _ratio(sum(found[e] for e in light), sum(planted[e] for e in light)),
        "precision": _ratio(sum(correct[e] for e in light), sum(predicted[e] for e in light)),
    }
    return table


def _documents(docs, rid_of, labels) -> dict:
    planted = found = predicted = correct = kind_right = 0
    by_kind = Counter()
    missed: list[str] = []
    for rid, doc in docs.items():
        label = labels["records"][rid]
        if label["duplicate_of"]:
            planted += 1
            ok = doc.duplicate_of is not None and rid_of[doc.duplicate_of] == label["duplicate_of"]
            found += ok
            by_kind[(label["kind"], "found" if ok else "missed")] += 1
            kind_right += ok and doc.duplicate_kind.value == label["kind"]
            if not ok:
                missed.append(f"{rid} ({label['edit']})")
        if doc.duplicate_of is not None:
            predicted += 1
            correct += bool(label["duplicate_of"]) and rid_of[doc.duplicate_of] == label["duplicate_of"]
    false_merges = 0
    for a, b in labels["hard_negatives"]:
        da, db = docs[a], docs[b]
        false_merges += (db.duplicate_of == da.doc_id) or (da.duplicate_of == db.doc_id)
    return {
        "planted": planted,
        "precision": _ratio(correct, predicted),
        "recall": _ratio(found, planted),
        "kind_accuracy": _ratio(kind_right, found),
        "recall_by_kind": {
            kind: _ratio(by_kind[(kind, "found")], by_kind[(kind, "found")] + by_kind[(kind, "missed")])
            for kind in sorted({k for k, _ in by_kind})
        },
        "hard_negative_pairs": len(labels["hard_negatives"]),
        "hard_negative_false_merges": false_merges,
        "missed": missed[:10],
    }


def _boilerplate(docs, labels) -> dict:
    labelled, removed = Counter(), Counter()
    fired, fired_right = Counter(), Counter()
    lost_on_clean = lost_lookalike = clean_lines = 0
    for rid, doc in docs.items():
        lines = labels["records"][rid]["lines"]
        is_clean = all(line["label"] == "content" for line in lines)
        for p, line in zip(doc.passages, lines, strict=True):
            dropped = p.status is Status.BOILERPLATE
            if line["label"] == "boilerplate":
                labelled[line["kind"]] += 1
                labelled["all"] += 1
                removed[line["kind"]] += dropped
                removed["all"] += dropped
            if dropped:
                fired[p.rule] += 1
                fired["all"] += 1
                right = line["label"] == "boilerplate"
                fired_right[p.rule] += right
                fired_right["all"] += right
                if not right and line["kind"] in ("subheading", "paragraph") and "Read more" in p.text:
                    lost_lookalike += 1
            if is_clean:
                clean_lines += 1
                lost_on_clean += dropped
    return {
        "recall": _ratio(removed["all"], labelled["all"]),
        "precision": _ratio(fired_right["all"], fired["all"]),
        "recall_by_kind": {k: _ratio(removed[k], labelled[k]) for k in sorted(labelled) if k != "all"},
        "precision_by_rule": {r: _ratio(fired_right[r], fired[r]) for r in sorted(fired) if r != "all"},
        "lines_on_clean_articles": clean_lines,
        "content_lost_on_clean_articles": lost_on_clean,
        "read_more_lookalikes_lost": lost_lookalike,
    }


def _signatures(by_id: dict[str, Record], labels: dict, config: Config, n: int) -> dict:
    rng = random.Random(labels["seed"])
    pairs = []
    for rid, label in labels["records"].items():
        for p in label["passages"]:
            src_id, src_pos = p["sources"][0]
            pairs.append((by_id[rid].lines[p["position"]], by_id[src_id].lines[src_pos]))
    rng.shuffle(pairs)
    pairs = pairs[: n // 2]
    texts = [
        line
        for r in by_id.values()
        for line, lab in zip(r.lines, r.labels, strict=True)
        if lab["kind"] == "paragraph"
    ]
    pairs += [tuple(rng.sample(texts, 2)) for _ in range(n - len(pairs))]
    sigs = signatures([t for pair in pairs for t in pair], config.dedup)
    errors = defaultdict(list)
    for i, (a, b) in enumerate(pairs):
        exact = jaccard(shingles(a, config.dedup), shingles(b, config.dedup))
        estimate = sigs.jaccard(2 * i, 2 * i + 1)
        bucket = "J>=0.5" if exact >= 0.5 else "0.1<=J<0.5" if exact >= 0.1 else "J<0.1"
        errors[bucket].append(abs(estimate - exact))
        errors["all"].append(abs(estimate - exact))
    return {
        "pairs": len(pairs),
        "mean_abs_error": {k: round(sum(v) / len(v), 4) for k, v in sorted(errors.items())},
        "max_abs_error": round(max(errors["all"]), 4),
    }
