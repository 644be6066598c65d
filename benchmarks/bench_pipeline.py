"""End-to-end timing of `cleaner run` on generated pages.

Generates N pages (seeded, reproducible) in plain text or HTML, each with site chrome and
15 paragraphs drawn from a shared pool (so many paragraphs repeat across pages, as wire copy
does), runs `cleaner run` on them in a subprocess, and prints one table row per size: wall
time, time per stage from the run's manifest, lines per second and the peak RSS of the run.

    python benchmarks/bench_pipeline.py --pages 1000 3000 --format txt
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("discover", "read", "extract", "clean", "dedup", "write")


def generate(root: Path, pages: int, fmt: str, seed: int = 1) -> int:
    """Write `pages` pages under `root`; returns the number of paragraphs written."""
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(3, 9))) for _ in range(20000)
    ]
    pool = [
        " ".join(rng.choice(vocab) for _ in range(rng.randint(25, 60))).capitalize() + "."
        for _ in range(pages * 10)
    ]
    lines = 0
    for i in range(pages):
        site = f"site{i % 20:02d}"
        folder = root / site
        folder.mkdir(parents=True, exist_ok=True)
        title = " ".join(rng.choice(vocab) for _ in range(7)).capitalize()
        paragraphs = rng.sample(pool, 15)
        chrome_top = [
            f"The {site.title()} Daily",
            "Home › News › World",
            title,
            "Published: March 4, 2026 09:30 CET",
        ]
        chrome_end = [
            "Share this article",
            "Leave a Reply",
            f"© 2026 The {site.title()} Daily. All rights reserved.",
        ]
        if fmt == "txt":
            body = chrome_top + paragraphs + chrome_end
            (folder / f"p{i:06d}.txt").write_text("\n\n".join(body), encoding="utf-8")
            lines += len(body)
        else:
            paras = "\n".join(f"<p>{p}</p>" for p in [*paragraphs, *chrome_end])
            html = (
                f"<html><head><title>{title}</title><meta property='og:site_name' content='The {site} Daily'>"
                f"<link rel='canonical' href='https://www.{site}.example/{i}'></head><body>"
                f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{title}</h1>{paras}</article>"
                "<footer>About us</footer></body></html>"
            )
            (folder / f"p{i:06d}.html").write_text(html, encoding="utf-8")
            lines += len(paragraphs) + len(chrome_end) + 1
    return lines


def run(pages: int, fmt: str, workdir: Path) -> dict:
    inputs, out = workdir / f"in-{fmt}-{pages}", workdir / f"out-{fmt}-{pages}"
    lines = generate(inputs, pages, fmt)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cleaner", "run", str(inputs), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        "pages": pages,
        "lines": lines,
        "wall": wall,
        **{s: manifest["timings_seconds"].get(s, 0.0) for s in STAGES},
        "lines_per_s": lines / sum(manifest["timings_seconds"].values()),
        "peak_rss_mib": max(peak_kib, before) / 1024,
        "documents": manifest["counts"]["documents"],
        "duplicates": manifest["counts"]["duplicate_documents"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--format", choices=("txt", "html"), default="txt")
    args = parser.parse_args()
    header = [
        "pages",
        "lines",
        "wall s",
        *(f"{s} s" for s in STAGES),
        "lines/s",
        "peak RSS MiB",
        "docs",
        "dups",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for pages in args.pages:
            r = run(pages, args.format, Path(tmp))
            cells = [r["pages"], r["lines"], f"{r['wall']:.1f}", *(f"{r[s]:.2f}" for s in STAGES)]
            cells += [f"{r['lines_per_s']:.0f}", f"{r['peak_rss_mib']:.0f}", r["documents"], r["duplicates"]]
            print("| " + " | ".join(map(str, cells)) + " |", flush=True)


if __name__ == "__main__":
    main()
