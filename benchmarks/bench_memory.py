"""Memory of `cleaner run` end to end on one large JSONL file.

A worker's memory must not grow with the file (it works a part at a time); the flow's grows
with the run's documents and passages (the sketch dedup needs whole), never with their text.

Generates one JSONL file of N records (six words each by default: the worst case per byte,
since per-record costs dominate; `--words 75` makes one-paragraph records, ~550 MB for a
million, the file a large feed is), runs `cleaner run FILE --out TMP` as a user does (its own
temporary Prefect server, the process pool; as `python -m cleaner_flows` with this interpreter,
so that the checkout on its PYTHONPATH runs), and samples the resident memory of every process
of its tree every 50 ms. Prints, per size, the wall time, the peak of the flow's process, of
the largest other process (a worker or the server), and of the whole tree (the sum at its
highest moment: server, workers and flow together), and the CPU seconds of each process (the
flow's, then the workers' and the server's), beside the machine's load: on a shared machine
the CPU seconds say which workers did the work when the wall time cannot. The prepare, dedup
and write seconds are the run's own (its manifest).

What it includes: everything the command does, from start to the last line (server start,
reading, cleaning, dedup, writing). What it leaves out: extraction (the records are plain
text; see bench_pipeline for HTML pages) and page cache.

    python benchmarks/bench_memory.py                     # 250,000 and 1,000,000 records
    python benchmarks/bench_memory.py --records 100000
    python benchmarks/bench_memory.py --records 1000000 --words 75
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "ferry harbour council budget school bridge island storm engine contract teacher parent road "
    "lorry village crossing winter summer market fisher plant worker nurse doctor hospital library"
).split()
SAMPLE_SECONDS = 0.05


def generate(path: Path, records: int, seed: int = 1, words: int = 6) -> int:
    """Write `records` one-line JSONL records of `words` random words; returns the file's bytes."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(records):
            fh.write(json.dumps({"text": " ".join(rng.choices(WORDS, k=words))}) + "\n")
    return path.stat().st_size


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # gone between listing and reading
        return 0


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            for task in os.listdir(f"/proc/{pids[i]}/task"):
                with open(f"/proc/{pids[i]}/task/{task}/children") as fh:
                    pids += [int(c) for c in fh.read().split()]
        except OSError:
            pass
        i += 1
    return pids


def measure(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command`, sampling its process tree; the peaks in MiB and the wall seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tree = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        sizes = {pid: _rss(pid) for pid in pids}
        tree = max(tree, sum(sizes.values()))
        for pid, size in sizes.items():
            peaks[pid] = max(peaks.get(pid, 0), size)
            cpu[pid] = max(cpu.get(pid, 0.0), _cpu(pid))
        time.sleep(SAMPLE_SECONDS)
    error = proc.stderr.read().decode(errors="replace").strip()
    if proc.returncode:
        sys.exit(f"bench_memory: {' '.join(command)} failed ({proc.returncode}): {error[-500:]}")
    flow = peaks.pop(proc.pid, 0)
    flow_cpu = cpu.pop(proc.pid, 0.0)
    return {
        "seconds": time.perf_counter() - started,
        # CPU seconds of the flow's process, then of the others that worked (>1 s), busiest
        # first: what each worker did, whatever else the machine was doing
        "cpu": f"{flow_cpu:.0f}; "
        + ", ".join(f"{c:.0f}" for c in sorted(cpu.values(), reverse=True) if c > 1),
        "flow": flow / 2**20,
        "other": max(peaks.values(), default=0) / 2**20,
        "tree": tree / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--words", type=int, default=6, help="words per record (default 6)")
    args = parser.parse_args()
    # `python -m cleaner_flows` with this interpreter and its PYTHONPATH: the checkout (or
    # worktree) it is given runs, not whichever `cleaner` the PATH finds first
    cleaner = [sys.executable, "-m", "cleaner_flows"]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    print(f"machine: {os.cpu_count()} cores, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "| records | file MB | wall s | flow process peak MiB | largest other process peak MiB | tree peak MiB "
        "| CPU s: flow; others | prepare s (batches) | dedup s | write s | load before |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        env["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        for records in args.records:
            path = Path(tmp) / f"records-{records}.jsonl"
            size = generate(path, records, words=args.words)
            out = Path(tmp) / f"out-{records}"
            load = os.getloadavg()[0]
            m = measure([*cleaner, "run", str(path), "--out", str(out)], env)
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            timings = manifest["timings_seconds"]
            prepare = f"{timings['prepare']:.1f} ({manifest['stages']['prepare']['batches']})"
            print(
                f"| {records:,} | {size / 1e6:.0f} | {m['seconds']:.1f} | {m['flow']:.0f} "
                f"| {m['other']:.0f} | {m['tree']:.0f} | {m['cpu']} | {prepare} "
                f"| {timings['dedup']:.1f} | {timings['write']:.1f} | {load:.2f} |",
                flush=True,
            )
            shutil.rmtree(out)
            path.unlink()
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
