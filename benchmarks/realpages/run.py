"""Does cleaning add value over trafilatura alone on real pages? Measured on real labelled pages.

    python -m benchmarks.realpages.run                    # the 711 pages of ../shared/realpages/wcxb-dev
    python -m benchmarks.realpages.run --json out.json    # the same, and every figure as JSON
    python -m benchmarks.realpages.run --update-baseline  # re-pin the CI gate's slice
    python -m benchmarks.realpages.run --update-baseline --allow-lower "why"

Prints, from one run: cleaner beside trafilatura alone with each of its settings (word F1,
snippets, title, author and date accuracy), what every rule, learned boilerplate and every
dedup status removed and how much of it was article text, the issue's targets, and the 20
pages where cleaner loses most against trafilatura with the same extraction settings.

The CI gate (tests/benchmarks/test_realpages_gate.py) evaluates the slice named in
baseline.json and fails when a figure falls below its floor; lowering a floor needs
--allow-lower and a reason, recorded in baseline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks import gate
from benchmarks.realpages.evaluate import DEV_SET, evaluate, load_pages

BASELINE = Path(__file__).with_name("baseline.json")
FIELDS = ("f1", "precision", "recall", "with_found", "without_absent", "title", "author", "date", "empty")
# A rule that removes at least this many lines must be right about 98% of them.
RULE_MIN_FIRED, RULE_MIN_PRECISION = 20, 0.98
# Figures pinned by the gate; higher is better but for those in LOWER_IS_BETTER.
PINNED = (
    "cleaner.f1",
    "cleaner.precision",
    "cleaner.recall",
    "cleaner.with_found",
    "cleaner.without_absent",
    "cleaner.title",
    "cleaner.author",
    "cleaner.date",
    "false_drops",
    "rejected",
)
LOWER_IS_BETTER = {"false_drops", "rejected"}


def targets(metrics: dict) -> list[tuple[str, str, float | None, bool]]:
    """The issue's targets: (name, bound, measured, met). Snippets are compared with the
    extraction cleaner starts from: cleaning must remove chrome the extractor leaves."""
    ours, alone, same = metrics["cleaner"], metrics["trafilatura"], metrics["extraction"]
    best_f1 = max(s["f1"] for s in alone.values())
    rows = [
        (
            "word F1 >= best trafilatura alone + 0.010",
            f">= {best_f1 + 0.01:.4f}",
            ours["f1"],
            round(ours["f1"], 4) >= round(best_f1 + 0.01, 4),
        ),
        (
            "without snippets absent >= extraction alone + 0.03",
            f">= {same['without_absent'] + 0.03:.4f}",
            ours["without_absent"],
            ours["without_absent"] >= same["without_absent"] + 0.03,
        ),
        (
            "with snippets found >= extraction alone - 0.003",
            f">= {same['with_found'] - 0.003:.4f}",
            ours["with_found"],
            ours["with_found"] >= same["with_found"] - 0.003,
        ),
    ]
    for name in ("title", "author", "date"):
        best = max(s[name] for s in alone.values())
        rows.append(
            (f"{name} accuracy >= trafilatura's best", f">= {best:.4f}", ours[name], ours[name] >= best)
        )
    for rule, row in metrics["removed"].items():
        if row["dropped"] >= RULE_MIN_FIRED:
            rows.append(
                (
                    f"{rule}: precision (fired {row['dropped']} times)",
                    f">= {RULE_MIN_PRECISION}",
                    row["precision"],
                    row["precision"] >= RULE_MIN_PRECISION,
                )
            )
    return rows


def render(metrics: dict, seconds: float) -> str:
    out = [
        f"## {metrics['pages']} real pages ({DEV_SET.name}), {seconds:.0f} s",
        "",
        "`extraction alone`: cleaner's own extraction (recall, balanced fallback), every line kept; "
        "`trafilatura alone`: trafilatura's `extract()` on the same decoded pages, comments off but "
        "for `defaults`.",
        "",
        "| system | " + " | ".join(FIELDS) + " |",
        "|---|" + "---|" * len(FIELDS),
    ]
    rows = [("cleaner", metrics["cleaner"]), ("extraction alone", metrics["extraction"])] + [
        (f"trafilatura alone, {name}", s) for name, s in metrics.get("trafilatura", {}).items()
    ]
    for name, s in rows:
        shown = [
            "-" if name == "extraction alone" and f in ("title", "author", "date") else str(s[f])
            for f in FIELDS
        ]
        out.append(f"| {name} | " + " | ".join(shown) + " |")
    out += [
        "",
        f"cleaner's rejects: {metrics['rejects'] or 'none'}; duplicate documents: "
        f"{metrics['duplicate_documents']}; text made by each extraction focus: {metrics['extraction_focus']}",
        "",
        "## By language (as cleaner identified it)",
        "",
        "| language | pages | lines removed by rules | of them in the ground truth |",
        "|---|---|---|---|",
    ]
    for lang, row in metrics["languages"].items():
        out.append(
            f"| {lang} | {row.get('pages', 0)} | {row.get('removed', 0)} | {row.get('false_drops', 0)} |"
        )
    out += [
        "",
        "## Lines removed, by rule and dedup status",
        "",
        "False drops: removed lines whose words are in the ground-truth text.",
        "",
        "| removed by | lines | false drops | precision |",
        "|---|---|---|---|",
    ]
    for rule, row in metrics["removed"].items():
        out.append(f"| {rule} | {row['dropped']} | {row['false_drops']} | {row['precision']} |")
    if "trafilatura" in metrics:
        out += ["", "## Targets", "", "| target | bound | measured | |", "|---|---|---|---|"]
        for name, bound, value, met in targets(metrics):
            out.append(f"| {name} | {bound} | {value} | {'met' if met else 'MISSED'} |")
        out += [
            "",
            f"## Where cleaner loses most against trafilatura alone ({metrics['compared_with']})",
            "",
            "| page | cleaner F1 | trafilatura F1 | what was lost (rule: line) |",
            "|---|---|---|---|",
        ]
        for loss in metrics["losses"]:
            lost = "; ".join(f"{rule}: {_short(text)}" for rule, text in loss["lost"][:3]) or "(extraction)"
            more = f" (+{len(loss['lost']) - 3} more)" if len(loss["lost"]) > 3 else ""
            out.append(f"| {loss['page']} | {loss['cleaner']} | {loss['trafilatura']} | {lost}{more} |")
    return "\n".join(out)


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def gate_metrics(metrics: dict) -> dict:
    """The figures the gate pins, besides the cleaner's scores: false drops in all, rejects."""
    return {
        **metrics,
        "false_drops": sum(row["false_drops"] for row in metrics["removed"].values()),
        "rejected": sum(metrics["rejects"].values()),
    }


def check(metrics: dict, baseline: dict) -> list[str]:
    return gate.check(gate_metrics(metrics), baseline, LOWER_IS_BETTER)


def update_baseline(old: dict, metrics: dict, slice_: dict, allow_lower: str | None) -> dict:
    return gate.update_baseline(old, gate_metrics(metrics), slice_, allow_lower, PINNED, LOWER_IS_BETTER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=1, help="take every n-th page only")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--update-baseline", action="store_true", help="re-pin the CI slice in baseline.json")
    parser.add_argument(
        "--allow-lower", metavar="REASON", help="with --update-baseline: allow a figure to get worse"
    )
    args = parser.parse_args(argv)
    if not DEV_SET.is_dir():
        print(f"the development set is not at {DEV_SET}", file=sys.stderr)
        return 2
    if args.update_baseline:
        old = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"pins": {}, "lowered": []}
        slice_ = old.get("slice") or {"every": 2, "offset": 0}
        pages = load_pages(every=slice_["every"], offset=slice_["offset"])
        baseline = {
            "pages": len(pages),
            **update_baseline(old, evaluate(pages, peers=False), slice_, args.allow_lower),
        }
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"pinned {len(baseline['pins'])} figures on {slice_} in {BASELINE}")
        return 0
    start = time.perf_counter()
    metrics = evaluate(load_pages(every=args.every), workers=args.workers)
    print(render(metrics, time.perf_counter() - start))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    missed = [name for name, _, _, met in targets(metrics) if not met]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
