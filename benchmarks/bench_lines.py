"""The line cleaner's per-line step (issue 19): lines per second of `rules.match_lines`, with
its fast path and with the full rule loop it stands in for, and of the whole per-line step
(`Line.of` + `match_lines`) as `clean_document` takes it, before (`normalize` and `words` as
they were before issue 19, and the full rule loop) and after (`Line.of` and the fast path).

A page's lines are matched together, each page's made right before as `clean_document` makes
them (untimed for the rules alone): their words are new strings whose hashes no set has
computed yet, and the words' set test pays for them.

Measured, in one run and one process, on:

- the real pages of ../shared/realpages/wcxb-dev (skipped, saying so, when the set is not
  there): each page extracted once by the library (`cleaner.clean.extract`, as
  `benchmarks/realpages` does) and split into passages as `clean_document` splits it; its
  lines split into those no rule matches and those some rule matches;
- the synthetic corpus of `benchmarks/quality` (2,000 articles, seed 7), split the same way;
- the bundled examples/pages.

Each figure is the best of `--repeat` passes over the pages.

    python -m benchmarks.bench_lines
    python -m benchmarks.bench_lines --repeat 7 --workers 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from cleaner import text as text_module
from cleaner.clean import extract
from cleaner.clean.rules import Line, match_every_rule, match_lines
from cleaner.config import ExtractConfig
from cleaner.io import readers
from cleaner.text import split_paragraphs

REPO = Path(__file__).resolve().parents[1]
REAL_PAGES = REPO.parent / "shared" / "realpages" / "wcxb-dev"
EXAMPLES = REPO / "examples" / "pages"


# -- the lines --------------------------------------------------------------------------------


def passages(body: str | None) -> list[str]:
    """A document's lines as `clean_document` splits them."""
    return split_paragraphs(unicodedata.normalize("NFC", body or ""))


def _pages_of(paths: Sequence[str]) -> list[list[str]]:
    files, _ = readers.discover(paths)
    docs, _, _ = readers.read_files(enumerate(files))
    docs, _ = extract.extract_batch(docs, ExtractConfig())
    return [passages(doc.body) for doc in docs]


def pages_of(paths: Sequence[Path], workers: int = 2) -> list[list[str]]:
    """The lines of each page (HTML or text files) as the library reads, extracts and splits
    them, in file order."""
    paths = sorted(str(p) for p in paths)
    chunks = [paths[i : i + 16] for i in range(0, len(paths), 16)]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = pool.map(_pages_of, chunks, chunksize=1)
    else:
        found = [_pages_of(chunk) for chunk in chunks]
    return [page for part in found for page in part]


def real_pages(workers: int = 2, every: int = 1) -> list[list[str]] | None:
    """The lines of each page of ../shared/realpages/wcxb-dev (of every `every`-th page), or
    None when the set is not there."""
    if not (REAL_PAGES / "html").is_dir():
        return None
    return pages_of(sorted((REAL_PAGES / "html").glob("*.html.gz"))[::every], workers)


def synthetic_pages(articles: int = 2000, seed: int = 7) -> list[list[str]]:
    """The lines of each record of `benchmarks/quality`'s generated corpus."""
    from benchmarks.quality.generate import build_corpus

    records, _ = build_corpus(articles, seed)
    return [passages(record.as_input()["text"]) for record in records]


def example_pages() -> list[list[str]]:
    return pages_of([p for p in EXAMPLES.rglob("*") if p.is_file()], workers=1)


def _lines(pages: list[list[str]] | None) -> list[str] | None:
    return None if pages is None else [line for page in pages for line in page]


def real_page_lines(workers: int = 2, every: int = 1) -> list[str] | None:
    return _lines(real_pages(workers, every))


def synthetic_lines() -> list[str]:
    return _lines(synthetic_pages())  # type: ignore[return-value]


def example_lines() -> list[str]:
    return _lines(example_pages())  # type: ignore[return-value]


# -- timing -----------------------------------------------------------------------------------


def _rate(step: Callable[[], float], n: int, repeat: int) -> float:
    """Lines per second of the best of `repeat` runs of `step` (which returns the seconds it
    timed) over `n` lines."""
    best = min(step() for _ in range(repeat))
    return n / best if best > 0 else float("inf")


def _timed(pages: list[list[str]], match: Callable[[list[Line]], object]) -> Callable[[], float]:
    """Seconds of `match` on each page's lines, made (untimed) right before it: as
    `clean_document` takes them, their words just split and not hashed yet by any set."""

    def step() -> float:
        seconds = 0.0
        for page in pages:
            lines = [Line.of(t) for t in page]
            start = time.perf_counter()
            match(lines)
            seconds += time.perf_counter() - start
        return seconds

    return step


def _whole(pages: list[list[str]], step: Callable[[list[str]], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for page in pages:
            step(page)
        return time.perf_counter() - start

    return run


# `cleaner.text` as it was before issue 19: the punctuation fold by `str.translate`, and ASCII
# words split after `str.translate`.
_ASCII_SEPARATORS_BEFORE = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "'")}
)


def _normalize_before(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).translate(text_module._PUNCT_FOLD).casefold().split())


def _words_before(text: str) -> list[str]:
    if not text.isascii():
        return text_module._TOKEN.findall(text)
    chunks = text.translate(_ASCII_SEPARATORS_BEFORE).split()
    if "'" not in text:
        return chunks
    return [
        t for chunk in chunks for t in (text_module._ASCII_TOKEN.findall(chunk) if "'" in chunk else [chunk])
    ]


def _line_before(text: str) -> Line:
    """`Line.of` as it was: `normalize` and `words` as they were, no ASCII shortcut."""
    norm = _normalize_before(text)
    return Line(text, norm, _words_before(norm))


def measure(pages: list[list[str]], repeat: int) -> dict[str, float]:
    """Lines per second of the rule loop and of the whole step, before and after."""
    n = sum(map(len, pages))
    return {
        "rules before": _rate(_timed(pages, lambda lines: [match_every_rule(x) for x in lines]), n, repeat),
        "rules after": _rate(_timed(pages, match_lines), n, repeat),
        "step before": _rate(
            _whole(pages, lambda page: [match_every_rule(_line_before(t)) for t in page]), n, repeat
        ),
        "step after": _rate(_whole(pages, lambda page: match_lines([Line.of(t) for t in page])), n, repeat),
    }


def _row(name: str, pages: list[list[str]], repeat: int) -> str:
    pages = [page for page in pages if page]
    n = sum(map(len, pages))
    if not n:
        return f"| {name} | 0 | - | - | - | - | - | - |"
    r = measure(pages, repeat)
    return (
        f"| {name} | {n:,} | {r['rules before']:,.0f} | {r['rules after']:,.0f} "
        f"| {r['rules after'] / r['rules before']:.1f}x | {r['step before']:,.0f} | {r['step after']:,.0f} "
        f"| {r['step after'] / r['step before']:.1f}x |"
    )


def table(corpora: dict[str, list[list[str]]], repeat: int) -> list[str]:
    out = [
        "| lines | n | match_lines before | after | speed-up | Line.of + match_lines before | after | speed-up |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, pages in corpora.items():
        texts = [t for page in pages for t in page]
        differ = sum(
            fast != match_every_rule(Line.of(t))
            for page in pages
            for t, fast in zip(page, match_lines([Line.of(t) for t in page]), strict=True)
        )
        if differ:
            raise SystemExit(f"{name}: the fast path and the rule loop differ on {differ} lines")
        differ = sum(Line.of(t) != _line_before(t) for t in texts)
        if differ:
            raise SystemExit(f"{name}: Line.of and the line as it was made differ on {differ} lines")
        unmatched = [[t for t in page if match_every_rule(Line.of(t)) is None] for page in pages]
        matched = [[t for t in page if match_every_rule(Line.of(t)) is not None] for page in pages]
        out += [
            _row(f"{name}: no rule matches", unmatched, repeat),
            _row(f"{name}: some rule matches", matched, repeat),
            _row(f"{name}: all", pages, repeat),
        ]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes per figure; the best is kept")
    parser.add_argument("--workers", type=int, default=2, help="processes extracting the real pages")
    args = parser.parse_args(argv)

    corpora: dict[str, list[list[str]]] = {}
    start = time.perf_counter()
    real = real_pages(args.workers)
    if real is None:
        print(
            f"real pages: skipped, the set is not at {REAL_PAGES} (../shared/realpages beside the checkout)"
        )
    else:
        corpora["real pages"] = real
        print(f"real pages: {len(_lines(real)):,} lines extracted in {time.perf_counter() - start:.0f} s")  # type: ignore[arg-type]
    corpora["synthetic"] = synthetic_pages()
    corpora["examples"] = example_pages()
    print(f"load average before timing: {os.getloadavg()}")
    print(f"lines per second, best of {args.repeat} (before: the full rule loop; after: the fast path)\n")
    for row in table(corpora, args.repeat):
        print(row)
    print(f"\nload average after timing: {os.getloadavg()}")
    print("the fast path and the rule loop agree on every line above")


if __name__ == "__main__":
    main()
