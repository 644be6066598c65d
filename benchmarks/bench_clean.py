"""The whole cleaning of a page (`clean_document`: its lines made, the line rules, the rules
that need the page), lines per second, of this checkout and, with `--against DIR`, of
another checkout's `src/` in the same run: the cleaner before a change against after it.

The pages are extracted once, by this checkout (`cleaner.clean.extract`), so that both
sides clean the same text; each side then cleans every page, the `Document`s made before
the clock starts, best of `--repeat` passes, the two sides taking turns. The other side
runs in a subprocess with `PYTHONPATH=DIR/src` and imports only `Document`,
`clean_document` and `CleanConfig`, which every version has. Its module path and the
lines it drops are printed beside its figures: the two must drop the same lines.

Corpora: the real pages of ../shared/realpages/wcxb-dev (skipped, saying so, when the set
is not there), the synthetic corpus of `benchmarks/quality` (2,000 articles, seed 7) and
the bundled examples.

    python -m benchmarks.bench_clean
    git worktree add /tmp/before 1aebd01 && python -m benchmarks.bench_clean --against /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _fields(doc) -> dict:
    return {
        "doc_id": doc.doc_id,
        "source": doc.source,
        "kind": doc.kind,
        "body": doc.body,
        "url": doc.url,
        "site": doc.site,
        "site_name": doc.site_name,
        "title": doc.title,
        "language": doc.language,
    }


def corpora(workers: int = 2) -> dict[str, list[dict]]:
    """Each corpus's documents, extracted by this checkout, as plain fields."""
    from benchmarks.bench_lines import EXAMPLES, REAL_PAGES
    from benchmarks.quality.generate import build_corpus
    from cleaner.clean import extract
    from cleaner.config import ExtractConfig
    from cleaner.io import readers

    def pages(paths: list[str]) -> list[dict]:
        files, _ = readers.discover(paths)
        docs, _, _ = readers.read_files(enumerate(files))
        docs, _ = extract.extract_batch(docs, ExtractConfig())
        return [_fields(d) for d in docs]

    found: dict[str, list[dict]] = {}
    if (REAL_PAGES / "html").is_dir():
        found["real pages"] = pages([str(REAL_PAGES / "html")])
    else:
        print(
            f"real pages: skipped, the set is not at {REAL_PAGES} (../shared/realpages beside the checkout)"
        )
    records, _ = build_corpus(2000, 7)
    found["synthetic"] = [
        {"doc_id": str(i), "source": f"synthetic/{i}", "kind": "text", "body": r.as_input()["text"], "url": None,
         "site": None, "site_name": None, "title": r.as_input().get("title"), "language": "en"}
        for i, r in enumerate(records)
    ]  # fmt: skip
    found["examples"] = pages([str(EXAMPLES)])
    return found


def time_cleaning(found: dict[str, list[dict]], repeat: int) -> dict:
    """Per corpus: lines, lines dropped, best seconds of `clean_document` over its pages.
    Imports only what every version of the cleaner has."""
    import cleaner
    from cleaner.clean.lines import clean_document
    from cleaner.config import CleanConfig
    from cleaner.document import Document

    config = CleanConfig()
    out: dict = {"module": cleaner.__file__, "corpora": {}}
    for name, fields in found.items():
        best = float("inf")
        for _ in range(repeat):
            docs = [Document(order=(0, i), **f) for i, f in enumerate(fields)]
            start = time.perf_counter()
            for doc in docs:
                clean_document(doc, config)
            best = min(best, time.perf_counter() - start)
        lines = sum(len(d.passages) for d in docs)
        dropped = sum(1 for d in docs for p in d.passages if p.rule is not None)
        out["corpora"][name] = {"lines": lines, "dropped": dropped, "seconds": best}
    return out


def _time_side(path: Path, checkout: Path, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{checkout / 'src'}{os.pathsep}{REPO}")
    command = [sys.executable, "-m", "benchmarks.bench_clean", "--time", str(path), "--repeat", str(repeat)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the run of {checkout} failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, metavar="DIR", help="another checkout, timed in the same run")
    parser.add_argument("--repeat", type=int, default=5, help="passes per figure; the best is kept")
    parser.add_argument("--turns", type=int, default=2, help="turns each side takes, with --against")
    parser.add_argument("--time", type=Path, help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args(argv)
    if args.time is not None:
        print(json.dumps(time_cleaning(json.loads(args.time.read_text()), args.repeat)))
        return

    found = corpora()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pages.json"
        path.write_text(json.dumps(found))
        print(f"load average before timing: {os.getloadavg()}")
        sides = {"this checkout": REPO} | ({f"{args.against}": args.against} if args.against else {})
        best: dict[str, dict] = {}
        for _ in range(args.turns if args.against else 1):
            for side, checkout in sides.items():
                got = _time_side(path, checkout, args.repeat)
                kept = best.setdefault(side, got)
                for name, figures in got["corpora"].items():
                    if figures["seconds"] < kept["corpora"][name]["seconds"]:
                        kept["corpora"][name] = figures
        print(f"load average after timing: {os.getloadavg()}\n")
    print("| corpus | side | lines | dropped | seconds | lines/s |")
    print("|---|---|---:|---:|---:|---:|")
    for name in found:
        for side, got in best.items():
            f = got["corpora"][name]
            print(
                f"| {name} | {side} | {f['lines']:,} | {f['dropped']:,} | {f['seconds']:.3f} | {f['lines'] / f['seconds']:,.0f} |"
            )
    for side, got in best.items():
        print(f"{side}: {got['module']}")
    if args.against:
        this, other = best.values()
        for name in found:
            a, b = this["corpora"][name], other["corpora"][name]
            same = (
                "same lines dropped"
                if (a["lines"], a["dropped"]) == (b["lines"], b["dropped"])
                else "DIFFERENT lines dropped"
            )
            print(f"{name}: {b['seconds'] / a['seconds']:.1f}x as fast as {args.against} ({same})")


if __name__ == "__main__":
    main()
