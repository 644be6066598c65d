"""Dedup speed and accuracy on N generated passages, against datasketch used the plain way.

Passages are about 60 words of generated text; 20% of them are copies of an earlier passage
with 1 to 5 words changed per 60 (the planted pairs). Each (method, N) runs in its own
process, so its peak RSS is its own. Printed per run: passages per second for each step,
wall time, peak RSS, and recall and precision on the planted pairs.

    python benchmarks/bench_dedup.py --sizes 100000 300000 --methods cleaner datasketch

Methods:
- cleaner: `cleaner.dedup.deduplicate`, passages grouped 10 to a document, with document
  dropping off (`min_unique_share = 0`): a document of random passages that happens to be
  half copies would otherwise leave the corpus, taking its first occurrences with it, which
  is right for documents but not what this passage benchmark measures;
- datasketch: one `MinHash` per passage and a `MinHashLSH` with the same bands and rows,
  each candidate verified by its estimated Jaccard: what users write by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time

PER_DOC = 10


def corpus(n: int, seed: int = 1) -> tuple[list[str], dict[int, int]]:
    """n passages; returns them and {copy index: source index} for the planted copies."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghiklmnoprstuvwy") for _ in range(rng.randint(3, 9))) for _ in range(30000)
    ]
    passages: list[str] = []
    planted: dict[int, int] = {}
    for i in range(n):
        if i > 100 and rng.random() < 0.2:
            source = rng.randrange(i)
            while source in planted:  # copy an original, so the truth is one source
                source = rng.randrange(i)
            words = passages[source].split()
            for j in rng.sample(range(len(words)), rng.randint(1, 5)):
                words[j] = rng.choice(vocab)
            passages.append(" ".join(words))
            planted[i] = source
        else:
            passages.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(50, 70))))
    return passages, planted


def score(found: dict[int, int], planted: dict[int, int]) -> tuple[float, float]:
    right = sum(1 for copy, source in found.items() if planted.get(copy) == source)
    return right / max(1, len(planted)), right / max(1, len(found))


def run_cleaner(passages: list[str]) -> tuple[dict[int, int], dict[str, float]]:
    from cleaner.config import DedupConfig
    from cleaner.dedup import deduplicate
    from cleaner.document import Document, Passage, Status

    docs = [
        Document(
            doc_id=f"d{d}",
            source=f"d{d}",
            order=(d, 0),
            kind="text",
            passages=[Passage(i, t) for i, t in enumerate(passages[d * PER_DOC : (d + 1) * PER_DOC])],
        )
        for d in range((len(passages) + PER_DOC - 1) // PER_DOC)
    ]
    stats = deduplicate(docs, DedupConfig(min_unique_share=0.0))
    found = {}
    for d, doc in enumerate(docs):
        for p in doc.passages:
            if p.status in (Status.NEAR_DUPLICATE, Status.EXACT_DUPLICATE):
                found[d * PER_DOC + p.position] = (
                    int(p.duplicate_of_doc[1:]) * PER_DOC + p.duplicate_of_position
                )
    return found, stats.seconds


def run_datasketch(passages: list[str]) -> tuple[dict[int, int], dict[str, float]]:
    from datasketch import MinHash, MinHashLSH

    from cleaner.config import DedupConfig
    from cleaner.signatures import shingles

    config = DedupConfig()
    seconds = {"shingles": 0.0, "signatures": 0.0, "lsh": 0.0, "verification": 0.0}
    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm, params=(config.bands, config.rows))
    kept: dict[int, MinHash] = {}
    found: dict[int, int] = {}
    for i, text in enumerate(passages):
        t0 = time.perf_counter()
        sh = shingles(text, config)
        t1 = time.perf_counter()
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        m.update_batch(sh)
        t2 = time.perf_counter()
        candidates = lsh.query(m)
        t3 = time.perf_counter()
        best = max(((m.jaccard(kept[c]), -c) for c in candidates), default=(0.0, 0))
        t4 = time.perf_counter()
        if best[0] >= config.threshold:
            found[i] = -best[1]
        else:
            lsh.insert(i, m, check_duplication=False)
            kept[i] = m
        t5 = time.perf_counter()
        seconds["shingles"] += t1 - t0
        seconds["signatures"] += t2 - t1
        seconds["lsh"] += (t3 - t2) + (t5 - t4)
        seconds["verification"] += t4 - t3
    return found, seconds


def child(method: str, n: int) -> None:
    passages, planted = corpus(n)
    start = time.perf_counter()
    found, seconds = {"cleaner": run_cleaner, "datasketch": run_datasketch}[method](passages)
    wall = time.perf_counter() - start
    recall, precision = score(found, planted)
    print(json.dumps({"seconds": seconds, "wall": wall, "recall": recall, "precision": precision}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument(
        "--methods", nargs="+", default=["cleaner", "datasketch"], choices=["cleaner", "datasketch"]
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    print("| method | N | wall s | passages/s | per step (passages/s) | peak RSS MiB | recall | precision |")
    print("|---|---|---|---|---|---|---|---|")
    walls: dict[tuple[str, int], float] = {}
    for n in args.sizes:
        for method in args.methods:
            result = subprocess.run(
                [sys.executable, __file__, "--child", method, str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            r = json.loads(result.stdout.strip().splitlines()[-1])
            walls[(method, n)] = r["wall"]
            steps = ", ".join(f"{k} {n / v:,.0f}" for k, v in r["seconds"].items() if v > 0)
            print(
                f"| {method} | {n:,} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {steps} | {peak:,.0f} | "
                f"{r['recall']:.4f} | {r['precision']:.4f} |",
                flush=True,
            )
    for n in args.sizes:
        if ("cleaner", n) in walls and ("datasketch", n) in walls:
            print(
                f"N={n:,}: cleaner is {walls[('datasketch', n)] / walls[('cleaner', n)]:.1f}x faster than datasketch plain"
            )


if __name__ == "__main__":
    main()
