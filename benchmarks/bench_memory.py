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
text; see bench_pipeline for HTML pages), page cache, and the one-off migration of a fresh
Prefect home's database (`prefect_home`: a one-record run first, its time printed apart, as
a user's first run ever pays it and the daily runs do not).

`--into N` measures a day's batch instead: a corpus of N one-paragraph records (75 words of
a made-up vocabulary of 20,000 words, ids `r<i>`) is made with `cleaner run` first, not
measured; then `--batch` new records (ids `b<i>`: a fifth light edits of corpus records,
one in twenty exact copies, the rest new) go into it through `cleaner run BATCH --out
CORPUS`, measured as above. Also printed: the tree's peak PSS (each page counted once: the
RSS sum counts the pages a forked worker shares with the flow's process in both; sampled
every 0.5 s), the run's stages from its manifest, how many of the planted copies it found
pointing at their source, and the index's bytes per indexed passage.

    python benchmarks/bench_memory.py                     # 250,000 and 1,000,000 records
    python benchmarks/bench_memory.py --records 100000
    python benchmarks/bench_memory.py --records 1000000 --words 75
    python benchmarks/bench_memory.py --records 1000000 --words 75 --files 100   # 100 files of 10k
    python benchmarks/bench_memory.py --into 1000000 --batch 10000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from benchmarks import prefect_home
except ModuleNotFoundError:  # run as a script: benchmarks/ is on the path
    import prefect_home

WORDS = (
    "ferry harbour council budget school bridge island storm engine contract teacher parent road "
    "lorry village crossing winter summer market fisher plant worker nurse doctor hospital library"
).split()
SAMPLE_SECONDS = 0.05
PSS_EVERY = 10  # samples: every 0.5 s


def generate(path: Path, records: int, seed: int = 1, words: int = 6) -> int:
    """Write `records` one-line JSONL records of `words` random words; returns the file's bytes."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(records):
            fh.write(json.dumps({"text": " ".join(rng.choices(WORDS, k=words))}) + "\n")
    return path.stat().st_size


def split(path: Path, files: int) -> Path:
    """The records of the JSONL file `path` cut into `files` files of as many records each
    (the last takes the rest), in a folder beside it; the file itself is removed."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    path.unlink()
    folder = path.with_suffix("")
    folder.mkdir()
    per = -(-len(lines) // files)
    for i in range(files):
        with open(folder / f"part-{i:05d}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(lines[i * per : (i + 1) * per])
    return folder


def paragraphs(path: Path, records: int, keep: set[int] = frozenset()) -> tuple[list[str], dict[int, str]]:
    """Write `records` one-paragraph JSONL records (ids r0, r1, ...) of 75 words of a made-up
    vocabulary; returns the vocabulary and the texts of the records numbered in `keep`."""
    rng = random.Random(7)
    vocab = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9))) for _ in range(20_000)
    ]
    kept = {}
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(records):
            text = " ".join(rng.choices(vocab, k=75)).capitalize() + "."
            if i in keep:
                kept[i] = text
            fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")
    return vocab, kept


def batch_plan(records: int, corpus: int, seed: int = 11) -> dict[int, tuple[str, int]]:
    """Batch record -> ("near" or "exact", the corpus record it copies): a fifth light edits
    (1 to 3 words replaced), one in twenty exact copies; the others are new."""
    rng = random.Random(seed)
    plan = {}
    for i in range(records):
        draw, source = rng.random(), rng.randrange(corpus)
        if draw < 0.25:
            plan[i] = ("near" if draw < 0.2 else "exact", source)
    return plan


def write_batch(path: Path, records: int, plan: dict, vocab: list[str], sources: dict[int, str]) -> None:
    rng = random.Random(13)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(records):
            kind, source = plan.get(i, ("new", -1))
            if kind == "new":
                text = " ".join(rng.choices(vocab, k=75)).capitalize() + "."
            else:
                words = sources[source].split()
                for j in rng.sample(range(len(words)), rng.randint(1, 3)) if kind == "near" else ():
                    words[j] = rng.choice(vocab)
                text = " ".join(words)
            fh.write(json.dumps({"id": f"b{i}", "text": text}) + "\n")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # gone between listing and reading
        return 0


def _pss(pid: int) -> int:
    """The process's proportional set size: its private pages, and its share of those it
    shares (a forked worker shares most of its parent's), so that a tree's sum counts each
    page once. Costlier to read than RSS, so sampled every `PSS_EVERY` samples."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
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
    tree = tree_pss = samples = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        sizes = {pid: _rss(pid) for pid in pids}
        tree = max(tree, sum(sizes.values()))
        if samples % PSS_EVERY == 0:
            tree_pss = max(tree_pss, sum(_pss(pid) for pid in pids))
        samples += 1
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
        "tree_pss": tree_pss / 2**20,
    }


def into(cleaner: list[str], env: dict[str, str], corpus: int, records: int) -> None:
    """A batch of `records` into a corpus of `corpus` one-paragraph records (see the module)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        env["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        out = Path(tmp) / "corpus"
        plan = batch_plan(records, corpus)
        vocab, sources = paragraphs(Path(tmp) / "corpus.jsonl", corpus, {s for _, s in plan.values()})
        write_batch(Path(tmp) / "batch.jsonl", records, plan, vocab, sources)
        started = time.perf_counter()
        subprocess.run([*cleaner, "run", str(Path(tmp) / "corpus.jsonl"), "--out", str(out)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        built = time.perf_counter() - started
        index = list((out / "index" / "passages").rglob("*.parquet"))
        per_passage = sum(f.stat().st_size for f in index) / sum(pq.read_metadata(f).num_rows for f in index)
        print(f"load before the batch: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        m = measure([*cleaner, "run", str(Path(tmp) / "batch.jsonl"), "--out", str(out)], env)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        run = ds.field("run") == manifest["run_id"]
        rows = ds.dataset(out / "passages", partitioning="hive").to_table(
            columns=["source", "status", "duplicate_of_doc"], filter=run
        )
        named = {f"{Path(tmp) / 'corpus.jsonl'}#{s + 1}" for _, s in plan.values()}
        docs = ds.dataset(out / "documents", partitioning="hive").to_table(
            columns=["source", "doc_id"], filter=ds.field("source").isin(sorted(named))
        )
        doc_of = dict(zip(docs["source"].to_pylist(), docs["doc_id"].to_pylist(), strict=True))
        found = 0
        for source, status, target in zip(*(rows[c].to_pylist() for c in rows.column_names), strict=True):
            kind, copied = plan.get(int(source.rsplit("#", 1)[1]) - 1, ("new", -1))
            wanted = {"near": "near_duplicate", "exact": "exact_duplicate"}.get(kind)
            if wanted == status and target == doc_of.get(f"{Path(tmp) / 'corpus.jsonl'}#{copied + 1}"):
                found += 1
    times = manifest["timings_seconds"]
    print(
        "| corpus records | batch records | wall s | flow process peak MiB | largest other process peak MiB "
        "| tree peak MiB | tree peak PSS MiB | CPU s: flow; others | prepare s | dedup s | write s "
        "| copies found | index/passages bytes per passage |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {corpus:,} | {records:,} | {m['seconds']:.1f} | {m['flow']:.0f} | {m['other']:.0f} | {m['tree']:.0f} "
        f"| {m['tree_pss']:.0f} | {m['cpu']} | {times['prepare']:.2f} | {times['dedup']:.2f} "
        f"| {times['write']:.2f} | {found:,} of {len(plan):,} | {per_passage:.0f} |"
    )
    print(f"load after: {load}; the corpus was built in {built:.0f} s (not measured)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--words", type=int, default=6, help="words per record (default 6)")
    parser.add_argument("--config", metavar="FILE", help="a configuration file for `cleaner run`")
    parser.add_argument(
        "--files", type=int, default=1, help="the records cut into this many files (default 1)"
    )
    parser.add_argument("--into", type=int, metavar="N", help="measure a batch into a corpus of N records")
    parser.add_argument("--batch", type=int, default=10_000, help="records of that batch (default 10,000)")
    args = parser.parse_args()
    # `python -m cleaner_flows` with this interpreter and its PYTHONPATH: the checkout (or
    # worktree) it is given runs, not whichever `cleaner` the PATH finds first
    cleaner = [sys.executable, "-m", "cleaner_flows"]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    print(f"machine: {os.cpu_count()} cores, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.into:
        into(cleaner, env, args.into, args.batch)
        return
    print(
        "| records | files | MB | wall s | flow process peak MiB | largest other process peak MiB | tree peak MiB "
        "| CPU s: flow; others | prepare s (batches) | dedup s | write s | load before |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        env["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        first = prefect_home.migrate(cleaner, env)
        for records in args.records:
            path = Path(tmp) / f"records-{records}.jsonl"
            size = generate(path, records, words=args.words)
            if args.files > 1:
                path = split(path, args.files)
            out = Path(tmp) / f"out-{records}"
            load = os.getloadavg()[0]
            config = ["--config", args.config] if args.config else []
            m = measure([*cleaner, "run", str(path), "--out", str(out), *config], env)
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            timings = manifest["timings_seconds"]
            prepare = f"{timings['prepare']:.1f} ({manifest['stages']['prepare']['batches']})"
            print(
                f"| {records:,} | {args.files:,} | {size / 1e6:.0f} | {m['seconds']:.1f} | {m['flow']:.0f} "
                f"| {m['other']:.0f} | {m['tree']:.0f} | {m['cpu']} | {prepare} "
                f"| {timings['dedup']:.1f} | {timings['write']:.1f} | {load:.2f} |",
                flush=True,
            )
            shutil.rmtree(out)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {prefect_home.say(first)}")


if __name__ == "__main__":
    main()
