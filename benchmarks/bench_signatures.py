"""Signature speed from passage text, on one core: shingling and MinHash apart and together.

Passages are bench_dedup's generated corpus (50 to 70 words, 20% edited copies). Shingling is
`Signer.shingle_hashes` (normalise, tokenise, hash words and shingles), MinHash is
`Signer._minhash` over those hashes, total is `Signer.__call__`; each in batches as `Signer`
cuts them, each with a fresh `Signer` (no warm word cache), best of `--repeat` runs; one row
per shingle hash function (`DedupConfig.shingle_hash`).

    python benchmarks/bench_signatures.py --sizes 100000
"""

from __future__ import annotations

import argparse
import os
import time

from bench_dedup import corpus

from cleaner.config import DedupConfig
from cleaner.dedup.signatures import _BATCH, Signer


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def row(texts: list[str], config: DedupConfig, repeat: int) -> str:
    chunks = [texts[i : i + _BATCH] for i in range(0, len(texts), _BATCH)]

    def shingling():
        signer = Signer(config)
        return [signer.shingle_hashes(chunk) for chunk in chunks]

    hashed = shingling()
    signer = Signer(config)

    def minhash():
        for chunk, (hashes, owner) in zip(chunks, hashed, strict=True):
            signer._minhash(hashes, owner, len(chunk))

    n = len(texts)
    t_shingle, t_minhash = best(shingling, repeat), best(minhash, repeat)
    t_total = best(lambda: Signer(config)(texts), repeat)
    count = sum(len(hashes) for hashes, _ in hashed)
    return (
        f"| {config.shingle_hash} | {n:,} | {count:,} | {n / t_shingle:,.0f} | {n / t_minhash:,.0f} "
        f"| {n / t_total:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--shingle-hash",
        nargs="+",
        default=["blake2b-fold-fmix32", "fmix64-fold-fmix32"],
        dest="shingle_hash",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # one core, whatever numpy might do
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print("| shingle hash | N | shingles | shingling passages/s | MinHash passages/s | total passages/s |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        texts, _ = corpus(n)
        for shingle_hash in args.shingle_hash:
            print(row(texts, DedupConfig(shingle_hash=shingle_hash), args.repeat), flush=True)


if __name__ == "__main__":
    main()
