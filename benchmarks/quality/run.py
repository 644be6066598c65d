"""How much real text does cleaner throw away, and how many duplicates does it miss?

    python -m benchmarks.quality.run                      # 2,000 articles, seed 7: the tables
    python -m benchmarks.quality.run --json out.json      # the same, and every figure as JSON
    python -m benchmarks.quality.run --update-baseline    # re-pin the CI gate's slice
    python -m benchmarks.quality.run --update-baseline --allow-lower "why"

The CI gate (tests/benchmarks/test_quality_gate.py) evaluates the slice named in
baseline.json and fails when a figure falls below its floor (or rises above its ceiling).
Raising a floor is a normal commit; lowering one is refused unless --allow-lower gives a
reason, which is recorded in baseline.json with the old and new values.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import gate
from benchmarks.gate import figure
from benchmarks.quality.evaluate import evaluate
from benchmarks.quality.generate import EDITS, build_corpus

BASELINE = Path(__file__).with_name("baseline.json")

# The targets, checked on every run: (metric path, comparison, bound).
TARGETS = (
    ("passages.up_to_3_words.recall", ">=", 0.95),
    ("passages.up_to_3_words.precision", ">=", 0.99),
    ("passages.mirror.recall", ">=", 1.0),
    ("passages.exact.recall", ">=", 1.0),
    ("passages.quotes.recall", ">=", 1.0),
    ("documents.hard_negative_false_merges", "<=", 0),
    ("documents.recall_by_kind.exact", ">=", 1.0),
    ("documents.recall_by_kind.contained", ">=", 1.0),
    ("documents.recall_by_kind.near", ">=", 1.0),
    ("boilerplate.recall", ">=", 0.98),
    ("boilerplate.precision", ">=", 0.99),
    ("boilerplate.content_lost_on_clean_articles", "<=", 0),
    ("signatures.mean_abs_error.all", "<=", 0.03),
)
# Figures pinned by the gate. Higher is better unless listed in LOWER_IS_BETTER.
PINNED = (
    "passages.all.precision",
    "passages.all.recall",
    "passages.up_to_3_words.precision",
    "passages.up_to_3_words.recall",
    *(f"passages.{edit}.recall" for edit in EDITS),
    "documents.precision",
    "documents.recall",
    "documents.kind_accuracy",
    "documents.hard_negative_false_merges",
    "boilerplate.precision",
    "boilerplate.recall",
    "boilerplate.content_lost_on_clean_articles",
    "signatures.mean_abs_error.all",
)
LOWER_IS_BETTER = {
    "documents.hard_negative_false_merges",
    "boilerplate.content_lost_on_clean_articles",
    "signatures.mean_abs_error.all",
}


def missed_targets(metrics: dict) -> list[str]:
    """The TARGETS this run misses, by metric path."""
    missed = []
    for path, op, bound in TARGETS:
        value = figure(metrics, path)
        if value is None or not (value >= bound if op == ">=" else value <= bound):
            missed.append(path)
    return missed


def check(metrics: dict, baseline: dict) -> list[str]:
    """What falls below its floor or above its ceiling, one line each."""
    return gate.check(metrics, baseline, LOWER_IS_BETTER)


def update_baseline(old: dict, metrics: dict, slice_: dict, allow_lower: str | None) -> dict:
    """New pins from `metrics`; refuses (SystemExit) to loosen any pin without a reason."""
    return gate.update_baseline(old, metrics, slice_, allow_lower, PINNED, LOWER_IS_BETTER)


def render(metrics: dict) -> str:
    out = [
        f"## Passages ({metrics['articles']} articles)",
        "",
        "`original`: passages marked duplicate in originals outside any planted passage.",
        "",
        "| edit | planted | found | marked duplicate | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for edit, row in metrics["passages"].items():
        if "planted" in row:
            out.append(
                f"| {edit} | {row['planted']} | {row['found']} | {row['predicted']} | {row['precision']} | {row['recall']} | {row['f1']} |"
            )
    light = metrics["passages"]["up_to_3_words"]
    out += [
        "",
        f"Up to 3 changed words per 60 (sub1-3, typos, quotes, dateline, mirror, exact): recall {light['recall']}, precision {light['precision']}.",
        "",
    ]
    d = metrics["documents"]
    out += [
        "## Documents",
        "",
        "| planted copies | precision | recall | kind right | recall exact / near / contained | hard-negative pairs | false merges |",
        "|---|---|---|---|---|---|---|",
        f"| {d['planted']} | {d['precision']} | {d['recall']} | {d['kind_accuracy']} | "
        f"{d['recall_by_kind'].get('exact')} / {d['recall_by_kind'].get('near')} / {d['recall_by_kind'].get('contained')} | "
        f"{d['hard_negative_pairs']} | {d['hard_negative_false_merges']} |",
        "",
    ]
    b = metrics["boilerplate"]
    out += [
        "## Boilerplate",
        "",
        f"Overall: recall {b['recall']}, precision {b['precision']}; content lines lost on clean articles: "
        f"{b['content_lost_on_clean_articles']} of {b['lines_on_clean_articles']}; 'Read more about ...' paragraphs lost: {b['read_more_lookalikes_lost']}.",
        "",
        "| rule / kind | recall (labelled kind) | precision (rule fired) |",
        "|---|---|---|",
    ]
    for kind in sorted(set(b["recall_by_kind"]) | set(b["precision_by_rule"])):
        out.append(
            f"| {kind} | {b['recall_by_kind'].get(kind, '-')} | {b['precision_by_rule'].get(kind, '-')} |"
        )
    s = metrics["signatures"]
    out += [
        "",
        "## Signatures",
        "",
        f"Estimated vs exact Jaccard over {s['pairs']} pairs: mean absolute error "
        + ", ".join(f"{k} {v}" for k, v in s["mean_abs_error"].items())
        + f"; max {s['max_abs_error']}.",
        "",
    ]
    out += ["## Targets", "", "| figure | target | measured | |", "|---|---|---|---|"]
    missed = missed_targets(metrics)
    for path, op, bound in TARGETS:
        status = "MISSED" if path in missed else "met"
        out.append(f"| {path} | {op} {bound} | {figure(metrics, path)} | {status} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--update-baseline", action="store_true", help="re-pin the CI slice in baseline.json")
    parser.add_argument(
        "--allow-lower", metavar="REASON", help="with --update-baseline: allow a figure to get worse"
    )
    args = parser.parse_args(argv)
    if args.update_baseline:
        slice_ = (
            json.loads(BASELINE.read_text())["slice"] if BASELINE.exists() else {"articles": 400, "seed": 11}
        )
        records, labels = build_corpus(slice_["articles"], slice_["seed"])
        old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"pins": {}, "lowered": []}
        baseline = update_baseline(old, evaluate(records, labels), slice_, args.allow_lower)
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"pinned {len(baseline['pins'])} figures on {slice_} in {BASELINE}")
        return 0
    records, labels = build_corpus(args.articles, args.seed)
    metrics = evaluate(records, labels)
    print(render(metrics))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=2) + "\n")
    return 1 if missed_targets(metrics) else 0


if __name__ == "__main__":
    sys.exit(main())
