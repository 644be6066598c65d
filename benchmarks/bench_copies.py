"""Many copies of one text: dedup's cost must stay linear in the copies.

Two shapes that real crawls produce, each a list of documents run through the dedup stage
(`Sketch.of`, then `cleaner.dedup.visit.deduplicate_sketch` with exact checks on the texts), in this process,
on one core:

- `exact`: one 100-paragraph article copied N times (a mirror farm, a syndicated story
  re-crawled daily). Every copy's paragraphs are settled by their fingerprint: only the first
  copy's enter LSH.
- `near`: one 60-word paragraph copied N times, each copy with two words changed (a wire
  lede with a different dateline on every site). Every copy shares its bands with the others:
  one hot band bucket.

Prints, per size, the seconds of each dedup step and the signed rows LSH searched, beside the
machine's load. What it leaves out: reading, extraction and cleaning (see bench_pipeline) and
writing.

    python benchmarks/bench_copies.py                       # both shapes, four sizes each
    python benchmarks/bench_copies.py --shape near --sizes 10000 80000
"""

from __future__ import annotations

import argparse
import os
import random
import time

from cleaner.config import DedupConfig
from cleaner.dedup import lsh as band_lsh
from cleaner.dedup import visit
from cleaner.dedup.sketch import Sketch
from cleaner.document import Document, Passage

WORDS = (
    "ferry harbour council budget school bridge island storm engine contract teacher parent road "
    "lorry village crossing winter summer market fisher plant worker nurse doctor hospital library "
    "museum river mountain forest farmer harvest rain wind power cable tower station"
).split()
SIZES = {"exact": (625, 1250, 2500, 5000), "near": (10000, 20000, 40000, 80000)}


def _paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def exact_copies(copies: int, paragraphs: int = 100) -> list[Document]:
    rng = random.Random(1)
    article = [_paragraph(rng, 40) for _ in range(paragraphs)]
    return [
        Document(
            f"d{i}", f"copy-{i}", (i, 0), "text", passages=[Passage(j, t) for j, t in enumerate(article)]
        )
        for i in range(copies)
    ]


def near_copies(copies: int) -> list[Document]:
    rng = random.Random(2)
    lede = _paragraph(rng, 60).split()
    docs = []
    for i in range(copies):
        words = list(lede)
        for _ in range(2):
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        docs.append(Document(f"d{i}", f"copy-{i}", (i, 0), "text", passages=[Passage(0, " ".join(words))]))
    return docs


def measure(shape: str, copies: int) -> dict:
    docs = exact_copies(copies) if shape == "exact" else near_copies(copies)
    config = DedupConfig()
    searched: list[int] = []

    def lsh(values, config, rows):
        searched.append(len(rows))
        return band_lsh.band_candidates(values, config, rows)

    start = time.perf_counter()
    sketch = Sketch.of(docs, config)
    sketched = time.perf_counter() - start
    start = time.perf_counter()
    stats = visit.deduplicate_sketch(sketch, config, lsh=lsh, texts=visit.texts_of(docs, sketch))
    return {
        "shape": shape,
        "copies": copies,
        "passages": sketch.n_passages,
        "searched": sum(searched),
        "sketch": sketched,
        **stats.seconds,
        "dedup": time.perf_counter() - start,
        "duplicates": stats.exact_passages + stats.near_passages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SIZES), action="append")
    parser.add_argument("--sizes", type=int, nargs="+")
    args = parser.parse_args()
    print(
        f"machine load (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores"
    )
    print(
        "| shape | copies | passages | rows searched by LSH | sketch s | lsh s | verify s | visit s | dedup s | duplicates found |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape in args.shape or sorted(SIZES):
        for copies in args.sizes or SIZES[shape]:
            r = measure(shape, copies)
            print(
                f"| {r['shape']} | {r['copies']:,} | {r['passages']:,} | {r['searched']:,} | {r['sketch']:.2f} | "
                f"{r['lsh']:.2f} | {r['verify']:.2f} | {r['visit']:.2f} | {r['dedup']:.2f} | {r['duplicates']:,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
