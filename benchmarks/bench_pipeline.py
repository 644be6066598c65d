"""End-to-end timing of `cleaner run` on generated pages, against trafilatura alone.

Generates N pages (seeded, reproducible) in plain text or HTML, each with site chrome and
15 paragraphs drawn from a shared pool (so many paragraphs repeat across pages, as wire copy
does), runs `cleaner run --workers W` on them in a subprocess for each W, and prints one
table row per (size, workers): wall time of the command (Prefect's server start included),
time per stage from the run's manifest, lines per second and the peak RSS of the run.

For HTML, the reference is trafilatura alone: one process reading the same pages and
extracting each, metadata and all, by trafilatura's own call with the options cleaner gives
it (`cleaner.clean.extract.trafilatura_alone`: its focus is `extract.focus`, recall favoured
by default), timed from the first read to the last extraction; and the same with precision favoured, cleaner's focus until issue 15 and the
reference of the figures recorded before 2026-12-07. Printed after the table: each run's wall
time as a multiple of each, and the speedup of the largest worker count over one worker.

With `--pin`, each command runs on W cores only (its CPU affinity, inherited by every
process it starts, Prefect's server included), so that W=1 against W=2 compares one core
with two; without it, a command with one worker still has every core for its other
processes. The trafilatura reference then runs on one core.

With `--dask`, each W is a dask.distributed cluster started here (a scheduler and W worker
processes of one thread on 127.0.0.1), and the command is `cleaner run --dask ADDRESS`.

    python benchmarks/bench_pipeline.py --pages 3000 10000 --format html --workers 1 2
    python benchmarks/bench_pipeline.py --pages 10000 --format html --workers 1 2 --pin
    python benchmarks/bench_pipeline.py --pages 3000 --format html --workers 1 2 --dask
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("discover", "prepare", "learn", "dedup", "write")
# Trafilatura alone: its own call, metadata and all, with the options cleaner's extraction
# gives it (`cleaner.clean.extract.trafilatura_alone`), and the focus given as argv[1]
# ("config" for cleaner's), over the files named on stdin. Not cleaner's own call, which
# parses a page once and reads less of its metadata.
REFERENCE = """
import sys, time
from cleaner.clean.extract import trafilatura_alone
from cleaner.config import ExtractConfig
config = ExtractConfig()
focus = config.focus if sys.argv[1] == "config" else sys.argv[1]
paths = sys.stdin.read().split()
start = time.perf_counter()
chars = 0
for path in paths:
    with open(path, encoding="utf-8") as fh:
        html = fh.read()
    result = trafilatura_alone(html, config, focus)
    chars += len(result.text or "") if result else 0
print(time.perf_counter() - start, chars, focus)
"""


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


def _cores(n: int | None):
    """A function that keeps the calling process to the first `n` cores it may use (None:
    all), for `subprocess.run(preexec_fn=...)`."""
    if n is None:
        return None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < n:
        raise SystemExit(f"--pin: {n} cores asked, {len(cores)} available")
    return lambda: os.sched_setaffinity(0, cores[:n])


def run(
    pages: int,
    fmt: str,
    workers: int,
    inputs: Path,
    workdir: Path,
    dask: bool = False,
    pin: bool = False,
    config: str | None = None,
) -> dict:
    out = workdir / f"out-{fmt}-{pages}-{workers}-{'dask' if dask else 'pool'}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "cleaner_flows", "run", str(inputs), "--out", str(out)]
    if config:
        command += ["--config", config]
    with contextlib.ExitStack() as stack:
        if dask:
            from distributed import LocalCluster

            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            command += ["--dask", cluster.scheduler_address]
        else:
            command += ["--workers", str(workers)]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, preexec_fn=_cores(workers if pin else None))
        wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        "wall": wall,
        **{s: manifest["timings_seconds"].get(s, 0.0) for s in STAGES},
        "lines_per_s": manifest["counts"]["passages"] / sum(manifest["timings_seconds"].values()),
        "peak_rss_mib": max(peak_kib, before) / 1024,
        "documents": manifest["counts"]["documents"],
        "duplicates": manifest["counts"]["duplicate_documents"],
    }


def reference(inputs: Path, pin: bool = False, focus: str = "config") -> tuple[float, str]:
    """Seconds trafilatura alone takes to read and extract the pages, in one process, with
    the focus it was given ("config": cleaner's); and that focus."""
    paths = "\n".join(str(p) for p in sorted(inputs.rglob("*.html")))
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE, focus],
        input=paths,
        check=True,
        capture_output=True,
        text=True,
        preexec_fn=_cores(1 if pin else None),
    )
    seconds, _, used = done.stdout.split()
    return float(seconds), used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--format", choices=("txt", "html"), default="txt")
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--dask", action="store_true", help="run on a local Dask cluster of W workers")
    parser.add_argument("--pin", action="store_true", help="run each command on W cores only")
    parser.add_argument("--config", metavar="FILE", help="a configuration file for `cleaner run`")
    args = parser.parse_args()
    if args.pin and args.dask:
        parser.error("--pin applies to `cleaner run --workers W`, not to a Dask cluster")
    header = ["pages", "lines", "workers", "wall s", *(f"{s} s" for s in STAGES)]
    header += ["lines/s", "peak RSS MiB", "docs", "dups", "load before"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for pages in args.pages:
            inputs = Path(tmp) / f"in-{args.format}-{pages}"
            lines = generate(inputs, pages, args.format)
            walls = {}
            for workers in args.workers:
                load = os.getloadavg()[0]
                r = run(pages, args.format, workers, inputs, Path(tmp), args.dask, args.pin, args.config)
                walls[workers] = r["wall"]
                cells = [pages, lines, workers, f"{r['wall']:.1f}", *(f"{r[s]:.2f}" for s in STAGES)]
                cells += [
                    f"{r['lines_per_s']:.0f}",
                    f"{r['peak_rss_mib']:.0f}",
                    r["documents"],
                    r["duplicates"],
                    f"{load:.2f}",
                ]
                print("| " + " | ".join(map(str, cells)) + " |", flush=True)
            if args.format == "html":
                for focus in ("config", "precision"):
                    load = os.getloadavg()[0]
                    alone, used = reference(inputs, args.pin, focus)
                    ratios = ", ".join(f"{w} workers {wall / alone:.2f}x" for w, wall in walls.items())
                    mine = " (cleaner's options)" if focus == "config" else ""
                    notes.append(
                        f"{pages} pages: trafilatura alone, {used} favoured{mine}, {alone:.1f} s (load "
                        f"before {load:.2f}); cleaner run wall time / that: {ratios}"
                    )
                    if focus == "config" and used == "precision":
                        break  # the same again
            if 1 in walls and len(walls) > 1:
                most = max(walls)
                unit = "cores" if args.pin else "workers"
                notes.append(f"{pages} pages: {most} {unit} are {walls[1] / walls[most]:.2f}x faster than 1")
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
