"""What the rewrite stage costs `cleaner run` end to end on real HTML pages (issue 18).

Runs `cleaner run PAGES --out TMP --workers 2` as a user does (its own temporary Prefect
server, the process pool; as `python -m cleaner_flows` with this interpreter, so that the
checkout on its PYTHONPATH runs) on the real article pages of
`../shared/realpages/wcxb-dev/html` (711 pages, nearly all English, read where they lie;
nothing of them is copied into the repository), with the rewrite stage off and on, in
alternation, `--repeat` times each, so that both see the same machine. `--copies R` gives
each page R times under different names: the copies are exact duplicates, so the rewrite
stage compares the originals only, while every copy is read, extracted, cleaned and embedded.

Prints, per run: the wall time of the command (Prefect's start included), the run's own
prepare and dedup seconds and its rewrite stage's (from its manifest), the passages it
embedded and compared, the document pairs aligned and the rewrites found, the peak resident
memory of the flow's process and of the whole process tree (sampled every 50 ms,
`bench_memory.measure`), with the machine's load before each run; then the median of each
configuration and the stage's share of the wall time.

What it includes: everything the command does. What it leaves out: a corpus to deduplicate
against (each run writes a new one; tests/test_rewrites.py covers the incremental path), and
the model's first load from disk (the page cache is warm after the first run).

    python -m benchmarks.bench_rewrite_cost                 # 711 pages, 3 runs each
    python -m benchmarks.bench_rewrite_cost --copies 4      # 2,844 pages
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_memory import measure

REPO = Path(__file__).resolve().parents[1]
PAGES = REPO.parent / "shared" / "realpages" / "wcxb-dev" / "html"
CONFIGS = {"off": "[rewrite]\nenabled = false\n", "on": "[rewrite]\nenabled = true\n"}


def inputs(root: Path, copies: int) -> int:
    """The pages, `copies` times each under other names, in `root` (copied: a run reads a
    file reached by two links once)."""
    pages = sorted(PAGES.glob("*.html*"))
    for c in range(copies):
        folder = root / f"copy{c}"
        folder.mkdir(parents=True)
        for page in pages:
            shutil.copyfile(page, folder / page.name)
    return len(pages) * copies


def once(pages: Path, config: Path, workdir: Path, env: dict[str, str]) -> dict:
    out = workdir / "out"
    command = [sys.executable, "-m", "cleaner_flows", "run", str(pages), "--out", str(out)]
    command += ["--workers", "2", "--config", str(config)]
    load = os.getloadavg()[0]
    m = measure(command, env)
    manifest = json.loads((out / "manifest.json").read_text())
    shutil.rmtree(out)
    times = manifest["timings_seconds"]
    found = manifest.get("stages", {}).get("rewrite", {})
    return {
        "load": load,
        "wall": m["seconds"],
        "prepare": times.get("prepare", 0.0),
        "dedup": times.get("dedup", 0.0),
        "stage": found.get("seconds"),
        "compared": found.get("passages_compared"),
        "pairs": found.get("documents_compared"),
        "rewrites": found.get("rewrite_documents"),
        "documents": manifest["counts"]["documents"],
        "flow": m["flow"],
        "tree": m["tree"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not PAGES.is_dir():
        sys.exit(f"bench_rewrite_cost: {PAGES} is not there: the real pages are needed")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")]),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    with tempfile.TemporaryDirectory(prefix="bench-rewrite-") as tmp:
        work = Path(tmp)
        n = inputs(work / "pages", args.copies)
        for name, text in CONFIGS.items():
            (work / f"{name}.toml").write_text(text, encoding="utf-8")
        print(f"{n:,} real HTML pages ({args.copies} x {n // args.copies}), cleaner run --workers 2\n")
        print(
            "| stage | load before | wall s | prepare s | dedup s | rewrite stage s | passages compared "
            "| document pairs aligned | rewrites | documents | flow peak MiB | tree peak MiB |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        runs: dict[str, list[dict]] = {name: [] for name in CONFIGS}
        for _ in range(args.repeat):
            for name in CONFIGS:
                r = once(work / "pages", work / f"{name}.toml", work, env)
                runs[name].append(r)
                shown = {k: ("-" if v is None else v) for k, v in r.items()}
                print(
                    f"| {name} | {r['load']:.2f} | {r['wall']:.1f} | {r['prepare']:.2f} | {r['dedup']:.2f} "
                    f"| {shown['stage']} | {shown['compared']} | {shown['pairs']} | {shown['rewrites']} "
                    f"| {r['documents']:,} | {r['flow']:.0f} | {r['tree']:.0f} |",
                    flush=True,
                )
        med = {
            name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "prepare", "tree")}
            for name, rs in runs.items()
        }
        off, on = med["off"], med["on"]
        print(
            f"\nmedian wall s: off {off['wall']:.1f}, on {on['wall']:.1f} ({on['wall'] / off['wall'] - 1:+.1%}); "
            f"prepare s: off {off['prepare']:.2f}, on {on['prepare']:.2f}; "
            f"tree peak MiB: off {off['tree']:.0f}, on {on['tree']:.0f}; load now {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
