"""Does cleaner find rewritten copies and keep independent coverage? Measured on a labelled set.

    python -m benchmarks.rewrites.run                    # the tables, and embedding speed
    python -m benchmarks.rewrites.run --json out.json    # the same, and every figure as JSON
    python -m benchmarks.rewrites.run --realpages        # also what is flagged among the 711
                                                         # real pages of ../shared/realpages
    python -m benchmarks.rewrites.run --update-baseline  # re-pin the CI gate's figures
    python -m benchmarks.rewrites.run --update-baseline --allow-lower "why"

The labelled set is `benchmarks/rewrites/corpus.py`'s (9 stories written for it: 27 rewrites,
27 independent reports); the seeds of ../shared/seeds join it when present. Rewrite detection
(`cleaner.dedup.rewrites`) is printed beside what MinHash dedup finds on the same documents.
The CI gate (tests/benchmarks/test_rewrites_gate.py) fails when a labelled-set figure in
baseline.json gets worse; lowering a pin needs --allow-lower and a reason, recorded there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import gate
from benchmarks.rewrites import corpus, evaluate
from cleaner.config import Config, RewriteConfig
from cleaner.dedup import embed, rewrites

BASELINE = Path(__file__).with_name("baseline.json")
REALPAGES = corpus.REALPAGES
MINHASH_ONLY = Config(rewrite=RewriteConfig(enabled=False))  # what MinHash alone leaves
# The targets, on the labelled set and the seeds (those only when present).
TARGETS = (
    ("sets.labelled.rewrites.documents.recall", ">=", 0.95),
    ("sets.labelled.rewrites.documents.precision", ">=", 0.98),
    ("sets.labelled.rewrites.documents.independent_flagged", "<=", 0),
    ("sets.seeds.rewrites.documents.recall", ">=", 1.0),
    ("sets.seeds.rewrites.documents.independent_flagged", "<=", 0),
)
# Figures the gate pins (the labelled set's: the seeds may be absent). Higher is better but
# for those in LOWER_IS_BETTER.
PINNED = (
    "sets.labelled.rewrites.documents.precision",
    "sets.labelled.rewrites.documents.recall",
    "sets.labelled.rewrites.documents.independent_flagged",
    "sets.labelled.rewrites.passages.precision",
    "sets.labelled.rewrites.passages.recall",
)
LOWER_IS_BETTER = {"sets.labelled.rewrites.documents.independent_flagged"}


def measure(
    config: RewriteConfig, with_seeds: bool = True, with_speed: bool = False, with_realpages: bool = False
) -> dict:
    loaded = corpus.seed_documents() if with_seeds else None
    seeds, seeds_labels = loaded if loaded else ([], None)
    runs = corpus.runs()
    keys, skip = evaluate.source_keys([*corpus.labelled_set(), *seeds], seeds_labels)
    marks = {"rewrites": [], "minhash": []}  # per run: (documents, doc marks, passage marks)
    start = time.perf_counter()
    for i, docs in enumerate(runs):
        run_seeds = seeds if i == 0 else []  # the seeds join the first corpus
        # MinHash alone: the stage measured here runs on what it keeps (`detect`)
        pipeline = evaluate.clean_and_dedup(docs, run_seeds, corpus.SEEDS, MINHASH_ONLY)
        ids, found, _ = evaluate.detect(pipeline, config)
        marks["rewrites"].append(([*docs, *run_seeds], *evaluate.rewrite_marks(ids, found)))
        marks["minhash"].append(([*docs, *run_seeds], *evaluate.minhash_marks(pipeline)))
    out = {"config": config.__dict__, "seconds": round(time.perf_counter() - start, 2), "sets": {}}
    names = {"labelled": lambda d: d.family != "seeds", "seeds": lambda d: d.family == "seeds"}
    for name, keep in names.items():
        if name == "seeds" and not seeds:
            continue
        out["sets"][name] = {
            method: evaluate.score(
                [([d for d in docs if keep(d)], dm, pm) for docs, dm, pm in per_run], keys, skip
            )
            for method, per_run in marks.items()
        }
    if seeds:
        out["seeds_outcome"] = _seeds_outcome(marks, seeds)
    if with_speed:
        out["speed"] = _speed()
    if with_realpages and REALPAGES.is_dir():
        out["realpages"] = _realpages(config)
    return out


def _seeds_outcome(marks: dict, seeds: list) -> dict:
    names = {d.id for d in seeds}
    outcome = {}
    for method, per_run in marks.items():
        _, doc_marks, passage_marks = per_run[0]
        outcome[method] = {
            "documents": {k: v for k, v in doc_marks.items() if k in names},
            "passages_marked": {
                d: sorted(p for (k, p), (t, _) in passage_marks.items() if k == d and t in names)
                for d in sorted(names)
            },
        }
    return outcome


def _speed(n: int = 20_000) -> dict:
    """Embedding passages a second in this process (`corpus.embedding_speed`), with the
    machine's load beside it."""
    embed.warm_up()
    min_words = RewriteConfig().min_words
    found = corpus.embedding_speed(lambda texts: embed.passage_codes(texts, min_words), n)
    return {**found, "load_average": [round(x, 2) for x in os.getloadavg()]}


def _realpages(config: RewriteConfig) -> dict:
    """Rewrites found among the real pages' article texts (no labels: each is listed)."""
    doc_col, pos_col, texts, urls = [], [], [], []
    for d, (url, paragraphs) in enumerate(corpus.realpages_articles()):
        urls.append(url)
        for position, paragraph in enumerate(paragraphs):
            doc_col.append(d)
            pos_col.append(position)
            texts.append(paragraph)
    has, codes = embed.passage_codes(texts, config.min_words)
    start = time.perf_counter()
    found, comparisons = rewrites.find_rewrites(
        np.array(doc_col)[has], np.array(pos_col)[has], codes[has], np.arange(len(urls)), config
    )
    return {
        "documents": len(urls),
        "passages_with_vectors": int(has.sum()),
        "comparisons": len(comparisons),
        "seconds": round(time.perf_counter() - start, 2),
        "flagged": [
            {"doc": urls[r.doc], "source": urls[r.source], "score": r.score, "aligned": r.aligned}
            for r in found
        ],
        "highest_unflagged": sorted((c.score for c in comparisons if not c.is_rewrite), reverse=True)[:3],
    }


def missed_targets(metrics: dict) -> list[str]:
    """The TARGETS this run misses (a set absent from the run misses none)."""
    missed = []
    for path, op, bound in TARGETS:
        value = gate.figure(metrics, path)
        if value is not None and not (value >= bound if op == ">=" else value <= bound):
            missed.append(f"{path} = {value} (target {op} {bound})")
    return missed


def check(metrics: dict, baseline: dict) -> list[str]:
    return gate.check(metrics, baseline, LOWER_IS_BETTER)


def render(metrics: dict) -> str:
    out = []
    for name, methods in metrics["sets"].items():
        out += [
            f"## {name}",
            "",
            "| method | rewrite docs | found | flagged | precision | recall | independent docs flagged | restating passages | found | marked | precision | recall |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for method, s in methods.items():
            d, p = s["documents"], s["passages"]
            out.append(
                f"| {method} | {d['rewrites']} | {d['found']} | {d['flagged']} | {d['precision']} | {d['recall']} | "
                f"{d['independent_flagged']} of {d['independent']} | {p['restating']} | {p['found']} | {p['marked']} | "
                f"{p['precision']} | {p['recall']} |"
            )
        out.append("")
        for method, s in methods.items():
            if s["documents"]["missed"] or s["documents"]["wrong"]:
                out.append(f"{method}: missed {s['documents']['missed']}, wrong {s['documents']['wrong']}")
        out.append("")
    if "seeds_outcome" in metrics:
        out += ["## seeds outcome", ""]
        for method, o in metrics["seeds_outcome"].items():
            out.append(
                f"- {method}: documents flagged {o['documents'] or 'none'}; passages marked as copies of another seed's: "
                + ", ".join(f"{d.split('/')[-1]}: {len(v)}" for d, v in o["passages_marked"].items())
            )
        out.append("")
    if "speed" in metrics:
        s = metrics["speed"]
        out += [
            "## embedding speed (this process, one thread)",
            "",
            f"{s['passages']} passages of {s['mean_words']} words on average: {s['wall_s']} s wall, {s['cpu_s']} s CPU; "
            f"{s['per_second']} passages/s wall, {s['per_cpu_second']} per CPU second; load average {s['load_average']}",
            "",
        ]
    if "realpages" in metrics:
        r = metrics["realpages"]
        out += [
            "## real pages (unlabelled)",
            "",
            f"{r['documents']} documents, {r['passages_with_vectors']} passages with a vector, {r['comparisons']} document pairs "
            f"compared in {r['seconds']} s; flagged: {r['flagged'] or 'none'}; highest unflagged scores {r['highest_unflagged']}",
            "",
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--realpages", action="store_true", help="also run on the real pages (unlabelled)")
    parser.add_argument(
        "--update-baseline", action="store_true", help="re-pin the CI gate's figures in baseline.json"
    )
    parser.add_argument(
        "--allow-lower", metavar="REASON", help="with --update-baseline: allow a figure to get worse"
    )
    args = parser.parse_args(argv)
    if args.update_baseline:
        old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"pins": {}, "lowered": []}
        metrics = measure(RewriteConfig(), with_seeds=False)
        slice_ = {"seed": corpus.DEFAULT_SEED}
        baseline = gate.update_baseline(old, metrics, slice_, args.allow_lower, PINNED, LOWER_IS_BETTER)
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"pinned {len(baseline['pins'])} figures in {BASELINE}")
        return 0
    metrics = measure(RewriteConfig(), with_speed=True, with_realpages=args.realpages)
    print(render(metrics))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    missed = missed_targets(metrics)
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
