"""A day's batch deduplicated against a large corpus: cost must follow the batch.

Builds a corpus of N passages (generated as in `bench_dedup.py`, 10 to a document, committed
as one run exactly as a run writes it: its `passages/` and its index partition), then, in a
fresh process, deduplicates a batch of B new passages against it: opening the index, finding
the indexed passages that share an exact fingerprint or a band with the batch and signing
those again from their texts (`Index.prior`), and the dedup visit. A fifth of the batch are
light edits of indexed passages; they must be found. Prints the index's size (MiB, and bytes
per indexed passage of `index/passages`), wall time per step, peak RSS of that process, and
the recall of the planted copies.

    python -m benchmarks.bench_incremental --corpus 1000000 --batch 10000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.bench_dedup import PER_DOC, corpus, documents, light_edit

HERE = Path(__file__).resolve().parent


def build(out: Path, n: int, size: int) -> None:
    """A corpus of n passages with its index, as one run would leave it, and beside it
    (batch.json) a batch of `size` new passages for the measuring process."""
    from cleaner.config import DedupConfig
    from cleaner.corpus import index, writers
    from cleaner.dedup.signatures import Signer
    from cleaner.dedup.sketch import Sketch
    from cleaner.dedup.visit import deduplicate_sketch

    config = DedupConfig(min_unique_share=0.0)  # as bench_dedup: every passage counts
    passages, planted = corpus(n)
    texts, copies = batch(passages, planted, size)
    (out / "batch.json").write_text(json.dumps({"texts": texts, "copies": copies}))
    signer = Signer(config)
    docs = documents(passages, 0, "old")
    del passages
    step = 50_000 // PER_DOC
    sketch = Sketch.concat([Sketch.of(docs[s : s + step], config, signer) for s in range(0, len(docs), step)])
    deduplicate_sketch(sketch, config)
    with writers.open_run(out, "base") as staging:
        writer = writers.CorpusWriter(staging)
        writer.add(sketch.apply(docs), sketch.kept_of(0, len(docs)))
        manifest = writers.build_manifest(
            run_id="base", inputs=[], config={}, stages={}, timings={}, versions={}
        )
        tables = index.run_tables(sketch, 0, index.input_rows([], []), config, "base")
        writer.commit([], manifest, tables, index.params_file(config))


def batch(passages: list[str], planted: dict[int, int], size: int, seed: int = 5):
    """New passages: a fifth are light edits of indexed passages (copy -> indexed passage)."""
    rng = random.Random(seed)
    vocab = sorted({w for p in passages[:2000] for w in p.split()})
    originals = [i for i in range(len(passages)) if i not in planted]
    new, copies = [], {}
    for i in range(size):
        if rng.random() < 0.2:
            source = rng.choice(originals)
            new.append(light_edit(passages[source], rng.randint(1, 3), rng, vocab))
            copies[i] = source
        else:
            new.append(
                " ".join(rng.choice(vocab) + str(rng.randint(0, 99)) for _ in range(rng.randint(50, 70)))
            )
    return new, copies


def measure(out: Path) -> dict:
    import numpy as np

    from cleaner.config import DedupConfig
    from cleaner.corpus.index import Index
    from cleaner.dedup.sketch import EXACT, NEAR, Sketch
    from cleaner.dedup.visit import deduplicate_sketch

    given = json.loads((out / "batch.json").read_text())
    texts, copies = given["texts"], {int(k): v for k, v in given["copies"].items()}
    config = DedupConfig(min_unique_share=0.0)  # as bench_dedup: every passage counts
    seconds = {}
    clock = time.perf_counter()
    sketch = Sketch.of(documents(texts, 0, "new"), config)
    seconds["sketch"] = time.perf_counter() - clock
    clock = time.perf_counter()
    prior = Index(out, config).prior(sketch)
    seconds["index lookup"] = time.perf_counter() - clock
    clock = time.perf_counter()
    deduplicate_sketch(sketch, config, prior)
    seconds["dedup"] = time.perf_counter() - clock
    dup = np.flatnonzero((sketch.status == EXACT) | (sketch.status == NEAR))
    found = 0
    for k in dup.tolist():
        target = sketch.dup_doc[k]
        if target >= sketch.n_docs:  # an indexed document: "old<number>"
            number = int(sketch.prior_ids[target - sketch.n_docs][3:])
            if copies.get(k) == number * PER_DOC + int(sketch.dup_position[k]):
                found += 1
    return {
        "seconds": seconds,
        "wall": sum(seconds.values()),
        "peak": _peak_mib(),
        "recall": found / max(1, len(copies)),
        "prior_documents": len(prior.doc_ids),
    }


def _peak_mib() -> float:
    """This process's own peak RSS. Not getrusage: its maxrss carries over the launcher's
    peak through fork and exec, and the launcher built a large index."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--child", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        clock = time.perf_counter()
        build(Path(tmp), args.corpus, args.batch)
        built = time.perf_counter() - clock
        size = sum(f.stat().st_size for f in (Path(tmp) / "index").rglob("*") if f.is_file()) / 2**20
        rows = [f for f in (Path(tmp) / "index" / "passages").rglob("*.parquet")]
        per_row = sum(f.stat().st_size for f in rows) / sum(pq.read_metadata(f).num_rows for f in rows)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_incremental", "--child", tmp],
            check=True,
            capture_output=True,
            text=True,
            cwd=HERE.parent,
        )
    r = json.loads(done.stdout)
    steps = ", ".join(f"{k} {v:.2f}" for k, v in r["seconds"].items())
    print(
        "| corpus passages | index MiB | index/passages bytes per indexed passage | batch passages | wall s "
        "| per step s | peak RSS MiB | recall | indexed docs read |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.corpus:,} | {size:.0f} | {per_row:.0f} | {args.batch:,} | {r['wall']:.2f} | {steps} "
        f"| {r['peak']:.0f} | {r['recall']:.4f} | {r['prior_documents']:,} |"
    )
    print(f"\n(index built in {built:.0f} s, not part of the measurement)")


if __name__ == "__main__":
    main()
