"""Dedup speed and accuracy on N generated passages, against datasketch and datatrove.

Passages are about 60 words of generated text; 20% of them are copies of an earlier passage
with 1 to 5 words changed per 60 (the planted pairs). Each (method, N) runs in its own
process, which reports its own peak RSS. Printed per run: passages per second for each step,
wall time, peak RSS, and recall and precision on the planted pairs; then, for each N, how many
times faster cleaner's wall time is than each peer's that ran.

    python benchmarks/bench_dedup.py --sizes 100000 300000 --methods cleaner datasketch datatrove
    python benchmarks/bench_dedup.py --sizes 100000 --methods cleaner-run datatrove   # end to end

Methods:
- cleaner: what a run does: batches of 20,000 passages (grouped 10 to a document), written
  to files first (not timed), are read and sketched by 2 worker processes (forked on
  Linux, as `cleaner run`'s are), as the flow's batch tasks do (shingles, signatures, fingerprints; "sketch" below is the wall time of
  that parallel step, "shingling" and "signatures" the workers' seconds in each, shared by
  the 2 workers), then `cleaner.dedup.visit.deduplicate_sketch` runs on the joined sketch
  ("prepare", "lsh", "verification" and the document visit, "clustering") in the main
  process, where from 100,000 signed passages (`run.lsh_spread_min_rows`) its LSH band
  groups and its estimates run on 2 threads, as a local run's do; last, "writing": each batch's
  passages, text read back from its file, with their verdicts (status, the passage a
  duplicate repeats, its similarity) to a zstd Parquet file, on the 2 workers (datatrove's
  stage 4 writes its kept and removed passages too). Document dropping is off (`min_unique_share = 0`): a
  document of random passages that happens to be half copies would otherwise leave the
  corpus, taking its first occurrences with it, which is right for documents but not what
  this passage benchmark measures. Peak RSS is the largest of the main process and its
  workers; the main process holds the joined sketch, never the texts;
- cleaner-run: `cleaner run` itself, on datatrove's input files (a passage a record, so a
  record is a document of one passage), with its defaults, its temporary Prefect server and
  its 2 workers: the whole command, from its start to its exit, Prefect's start included
  (`run_cleaner_command`), after one untimed record has migrated the fresh Prefect home's
  database (`prefect_home`, its time printed); a duplicate record is paired with the record
  it names;
- datasketch: one `MinHash` per passage and a `MinHashLSH` with the same bands and rows,
  each candidate verified by its estimated Jaccard: what users write by hand;
- datatrove: datatrove's four-stage MinHash pipeline (`benchmarks/peers/datatrove_minhash.py`
  says how it is configured: word 3-grams, 42 buckets of 3 hashes, seed 1, spacy's blank
  English tokenizer, 2 tasks on 2 workers), run by the Python of its own virtual environment,
  `benchmarks/.venvs/datatrove`. datatrove pins an older trafilatura than ours and pulls in
  spacy, so it never goes into the project's environment; the venv is made and
  `DATATROVE_REQUIREMENTS` installed the first time it is asked for, before any run is timed,
  and reused after. The passages are written as one JSONL file per task (not timed); the wall
  time runs from starting the subprocess (interpreter start and datatrove's imports included)
  to the end of stage 4, and peak RSS is the largest process of its tree (`os.wait4`'s
  rusage: `getrusage(RUSAGE_CHILDREN)` for that one child). datatrove reports clusters: each
  removed passage is paired with the member its cluster kept, and, as for datasketch's
  matches, a planted copy counts as found only when it was removed and that kept member is
  its planted source; any other removed passage counts against precision.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cleaner.config import DedupConfig

try:
    from benchmarks import prefect_home
except ModuleNotFoundError:  # run as a script: benchmarks/ is on the path
    import prefect_home

PER_DOC = 10
CLEANER_WORKERS = 2  # the machine's cores
CLEANER_BATCH = 20_000  # passages per worker task, as a pipeline batch of ~2,000 pages carries
CLEANER_CONFIG = DedupConfig(min_unique_share=0.0)
HERE = Path(__file__).resolve().parent
DATATROVE_VENV = HERE / ".venvs" / "datatrove"
# Pinned: the benchmark compares with one known datatrove. The "processing" extra is what
# datatrove's processing pipelines (MinHash among them) are installed with (it brings xxhash,
# datatrove's default MinHash hash); spacy is datatrove's English word tokenizer and orjson
# what its JsonlReader needs, neither of them in that extra (orjson is in "io", which would
# also bring datasets and pyarrow).
DATATROVE_REQUIREMENTS = ("datatrove[processing]==0.10.1", "spacy==3.8.18", "orjson==3.13.0")
DATATROVE_PEER = HERE / "peers" / "datatrove_minhash.py"
DATATROVE_TASKS = 2  # the machine has 2 cores: stages 1, 2 and 4 run on 2 workers
PEER_NAMES = {"datasketch": "datasketch plain", "datatrove": "datatrove's MinHash pipeline"}


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
            passages.append(light_edit(passages[source], rng.randint(1, 5), rng, vocab))
            planted[i] = source
        else:
            passages.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(50, 70))))
    return passages, planted


def light_edit(text: str, changes: int, rng: random.Random, vocab: list[str]) -> str:
    """The text with `changes` of its words, drawn at random, replaced by words of `vocab`."""
    words = text.split()
    for j in rng.sample(range(len(words)), changes):
        words[j] = rng.choice(vocab)
    return " ".join(words)


def score(found: dict[int, int], planted: dict[int, int]) -> tuple[float, float]:
    right = sum(1 for copy, source in found.items() if planted.get(copy) == source)
    return right / max(1, len(planted)), right / max(1, len(found))


def kept_a_copy(found: dict[int, int], planted: dict[int, int]) -> int:
    """Found pairs wrong only in which member was kept: a passage paired with another copy of
    its own source, or a source paired with one of its copies (a cluster that kept a copy)."""

    def family(i: int) -> int:
        return planted.get(i, i)

    return sum(
        1 for copy, kept in found.items() if planted.get(copy) != kept and family(copy) == family(kept)
    )


def write_batches(passages: list[str], folder: Path) -> list[Path]:
    """The cleaner method's input: one file of CLEANER_BATCH passages per batch, a passage a
    line, as a run's batch tasks find their pages on disk."""
    paths = []
    for start in range(0, len(passages), CLEANER_BATCH):
        paths.append(folder / f"batch-{start:09d}.txt")
        paths[-1].write_text("\n".join(passages[start : start + CLEANER_BATCH]) + "\n")
    return paths


def documents(texts: list[str], first: int, prefix: str = "d") -> list:
    """Passages grouped PER_DOC to a document, documents numbered from `first`."""
    from cleaner.document import Document, Passage

    return [
        Document(
            doc_id=f"{prefix}{first + d}",
            source=f"{prefix}{first + d}",
            order=(first + d, 0),
            kind="text",
            passages=[Passage(i, t) for i, t in enumerate(texts[d * PER_DOC : (d + 1) * PER_DOC])],
        )
        for d in range((len(texts) + PER_DOC - 1) // PER_DOC)
    ]


@functools.cache
def _signer():
    from cleaner.dedup.signatures import Signer

    return Signer(CLEANER_CONFIG)


def _sketch_batch(path: Path):
    """A worker's part of the cleaner method: read one batch and sketch it, as the
    pipeline's batch tasks do (with one signer per process, as `pipeline._signer`; imported
    from `cleaner.dedup.signatures`, not `cleaner.pipeline`, whose extraction and reading modules
    a run's workers have loaded long before dedup, and which are not the dedup stage).
    Returns the sketch and the seconds this batch spent shingling and in MinHash."""
    from cleaner.dedup.sketch import Sketch

    texts = path.read_text().splitlines()
    docs = documents(texts, int(path.stem.split("-")[1]) // PER_DOC)
    signer = _signer()
    before = dict(signer.seconds)
    sketch = Sketch.of(docs, CLEANER_CONFIG, signer)
    return sketch, {k: v - before[k] for k, v in signer.seconds.items()}


def _write_batch(path: Path, out: Path, start: int, status, source, similarity) -> None:
    """A worker's part of writing the result: one batch's passages, their text read back
    from the batch file, with their verdict (status, the passage a duplicate repeats, its
    similarity), to a Parquet file compressed as a run's `passages/` are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cleaner.dedup.sketch import STATUSES

    texts = path.read_text().splitlines()
    names = pa.array([s.value for s in STATUSES])
    table = pa.table(
        {
            "passage": pa.array(range(start, start + len(texts)), pa.int64()),
            "text": texts,
            "status": pa.DictionaryArray.from_arrays(pa.array(status, pa.int8()), names),
            "duplicate_of": pa.array(source, pa.int64()),
            "similarity": pa.array(similarity, pa.float64()),
        }
    )
    pq.write_table(table, out / f"part-{start:09d}.parquet", compression="zstd")


def _batch_texts(batches: list[Path], sketch, rows) -> list[str]:
    """The texts of signature rows, read back from the batch files, as a run reads its spool
    for the exact check of undecided pairs."""
    import numpy as np

    passages = sketch.signed_passages(rows)
    out = [""] * len(rows)
    for b in np.unique(passages // CLEANER_BATCH).tolist():
        lines = batches[b].read_text().splitlines()
        for i in np.flatnonzero(passages // CLEANER_BATCH == b).tolist():
            out[i] = lines[passages[i] % CLEANER_BATCH]
    return out


def run_cleaner(batches: list[Path]) -> tuple[dict[int, int], dict[str, float]]:
    import numpy as np

    from cleaner import LocalExecutor
    from cleaner.config import Config
    from cleaner.dedup.sketch import EXACT, NEAR, Sketch
    from cleaner.runner import dedup_stage

    clock = time.perf_counter()
    # Forked, not warmed up: the dedup core needs no extraction (`cleaner run`'s workers warm
    # up while Prefect's server starts, off the clock).
    with LocalExecutor(CLEANER_WORKERS, warm=False) as executor:
        sketched = [executor.submit(_sketch_batch, path=b) for b in batches]
        parts, spent = zip(*(f.result() for f in sketched), strict=True)
        sketch = Sketch.concat(list(parts))
        sketching = time.perf_counter() - clock
        stats = dedup_stage(  # as a run does it: LSH spread over the workers on large runs
            sketch,
            Config(dedup=CLEANER_CONFIG),
            None,
            functools.partial(_batch_texts, batches, sketch),
            executor,
            batches[0].parent / "lsh",
        )
        clock = time.perf_counter()
        duplicate = (sketch.status == EXACT) | (sketch.status == NEAR)
        source = np.where(duplicate, sketch.starts[sketch.dup_doc] + sketch.dup_position, -1)
        out = batches[0].parent / "passages"
        out.mkdir()
        written = [
            executor.submit(
                _write_batch,
                path=batch,
                out=out,
                start=s,
                status=sketch.status[s : s + CLEANER_BATCH],
                source=source[s : s + CLEANER_BATCH],
                similarity=sketch.similarity[s : s + CLEANER_BATCH],
            )
            for batch, s in zip(batches, range(0, len(source), CLEANER_BATCH), strict=False)
        ]
        for future in written:
            future.result()
        writing = time.perf_counter() - clock
    dup = np.flatnonzero(duplicate)
    found = dict(zip(dup.tolist(), source[dup].tolist(), strict=True))
    # Per step, passages/s of the whole machine: the workers' seconds shared by the workers.
    shares = {k: sum(s[k] for s in spent) / CLEANER_WORKERS for k in spent[0]} if spent else {}
    return found, {
        "sketch": sketching,
        "shingling": shares.get("shingling", 0.0),
        "signatures": shares.get("minhash", 0.0),
        "prepare": stats.seconds["prepare"],
        "lsh": stats.seconds["lsh"],
        "verification": stats.seconds["verify"],
        "clustering": stats.seconds["visit"],
        "writing": writing,
    }


def run_datasketch(passages: list[str]) -> tuple[dict[int, int], dict[str, float]]:
    from datasketch import MinHash, MinHashLSH

    from cleaner.config import DedupConfig
    from cleaner.dedup.signatures import shingles

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


def datatrove_python() -> Path:
    """The Python of datatrove's own venv, made and installed the first time only.

    The requirements it was installed with are kept in the venv; other requirements make it
    anew. Never the project's environment: datatrove's pins would replace our trafilatura.
    """
    python = DATATROVE_VENV / "bin" / "python"
    stamp = DATATROVE_VENV / "bench-requirements.txt"
    wanted = "\n".join(DATATROVE_REQUIREMENTS) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(
        f"creating {DATATROVE_VENV} with {' '.join(DATATROVE_REQUIREMENTS)} ...", file=sys.stderr, flush=True
    )
    if DATATROVE_VENV.exists():
        shutil.rmtree(DATATROVE_VENV)
    subprocess.run([sys.executable, "-m", "venv", str(DATATROVE_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *DATATROVE_REQUIREMENTS],
        check=True,
        stdout=sys.stderr,
    )
    stamp.write_text(wanted)
    return python


def found_from_pairs(pairs: list[list[str]]) -> dict[int, int]:
    """{removed passage index: kept passage index} from datatrove's [removed id, kept id] pairs."""
    found = {}
    for removed, kept in pairs:
        if int(removed) in found:
            raise ValueError(f"passage {removed} is removed twice")
        found[int(removed)] = int(kept)
    return found


def write_input(n: int, folder: Path) -> None:
    """The N passages as datatrove's input: one JSONL file per task, in passage order."""
    passages, _ = corpus(n)
    per_task = (n + DATATROVE_TASKS - 1) // DATATROVE_TASKS
    for task in range(DATATROVE_TASKS):  # task k reads file k
        with (folder / f"{task:05d}.jsonl").open("w") as fh:
            for i in range(task * per_task, min(n, (task + 1) * per_task)):
                fh.write(json.dumps({"id": str(i), "text": passages[i]}) + "\n")


def run_datatrove(n: int) -> tuple[dict[int, int], dict[str, float], float, float]:
    """Found pairs, seconds per stage, wall seconds and peak RSS MiB of datatrove's run.

    A launched process's peak RSS starts from its launcher's (Linux carries the launcher's
    high-water mark over the exec), so this process stays small until the peer is done: the
    passages are generated and written by another process, and regenerated for scoring after.
    The peak is the largest process of the peer's tree, from `os.wait4` on the peer.
    """
    from cleaner.config import DedupConfig

    python = DATATROVE_VENV / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{python} is missing: run the benchmark without --child, which creates it")
    config = DedupConfig()
    with tempfile.TemporaryDirectory(prefix="bench-dedup-datatrove-") as tmp:
        tmp = Path(tmp)
        (tmp / "input").mkdir()
        subprocess.run([sys.executable, __file__, "--write-input", str(n), str(tmp / "input")], check=True)
        argv = [
            str(python),
            str(DATATROVE_PEER),
            "--input", str(tmp / "input"),
            "--work", str(tmp / "work"),
            "--result", str(tmp / "result.json"),
            "--n-grams", str(config.shingle_size),
            "--buckets", str(config.bands),
            "--rows", str(config.rows),
            "--seed", str(config.seed),
            "--tasks", str(DATATROVE_TASKS),
            "--workers", str(DATATROVE_TASKS),
        ]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
        start, usage = _spawn(argv, env, tmp / "log", "datatrove's pipeline")
        result = json.loads((tmp / "result.json").read_text())
    return (
        found_from_pairs(result["pairs"]),
        result["seconds"],
        result["t_done"] - start,
        usage.ru_maxrss / 1024,
    )


def _spawn(
    argv: list[str], env: dict[str, str], log: Path, name: str
) -> tuple[float, resource.struct_rusage]:
    """Run `argv` with its output to `log` and wait for it; its start (`time.time()`) and
    the rusage of its tree, or exit with the log's end if it failed. Spawned, not forked,
    so that its peak RSS does not start from this process's."""
    output = [
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    start = time.time()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=output)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(log.read_text()[-5000:])
        raise SystemExit(f"{name} failed with status {os.waitstatus_to_exitcode(status)}")
    return start, usage


def run_cleaner_command(n: int) -> tuple[dict[int, int], dict[str, float], float, float]:
    """Found pairs, seconds per stage, wall seconds and peak RSS MiB of `cleaner run` on
    datatrove's input (`write_input`: the same files, a passage a record), as a user runs
    it: its own temporary Prefect server, its process pool, its defaults (a record is a
    document of one passage, so a near-duplicate passage makes its record a duplicate
    document, which is what datatrove removes). The wall time runs from starting the
    command to its exit; the peak is its largest process, from `os.wait4`, as for datatrove.
    A duplicate record is paired with the record its `duplicate_of` names."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="bench-dedup-cleaner-run-") as tmp:
        tmp = Path(tmp)
        (tmp / "input").mkdir()
        subprocess.run([sys.executable, __file__, "--write-input", str(n), str(tmp / "input")], check=True)
        per_task = (n + DATATROVE_TASKS - 1) // DATATROVE_TASKS
        out = tmp / "out"
        cleaner = [sys.executable, "-m", "cleaner_flows"]
        argv = [*cleaner, "run", str(tmp / "input"), "--out", str(out)]
        env = {
            **os.environ,
            "PREFECT_HOME": str(tmp / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        print(prefect_home.say(prefect_home.migrate(cleaner, env)), file=sys.stderr)
        start, usage = _spawn(argv, env, tmp / "log", "cleaner run")
        wall = time.time() - start

        def number(source: str) -> int:  # ".../00001.jsonl#7" -> passage index
            path, line = source.rsplit("#", 1)
            return int(Path(path).stem) * per_task + int(line) - 1

        kept = pq.read_table(out / "documents", columns=["doc_id", "source"])
        index_of = dict(zip(kept["doc_id"].to_pylist(), map(number, kept["source"].to_pylist()), strict=True))
        dups = pq.read_table(out / "duplicates", columns=["source", "duplicate_of"])
        found = {
            number(source): index_of.get(target, -1)
            for source, target in zip(
                dups["source"].to_pylist(), dups["duplicate_of"].to_pylist(), strict=True
            )
        }
        manifest = json.loads((out / "manifest.json").read_text())
    return found, manifest["timings_seconds"], wall, usage.ru_maxrss / 1024


def child(method: str, n: int) -> None:
    if method == "cleaner-run":
        found, seconds, wall, peak = run_cleaner_command(n)
        _, planted = corpus(n)
    elif method == "datatrove":
        found, seconds, wall, peak = run_datatrove(n)
        _, planted = corpus(n)
    elif method == "cleaner":
        passages, planted = corpus(n)
        with tempfile.TemporaryDirectory() as tmp:
            batches = write_batches(passages, Path(tmp))  # not timed, like datatrove's input
            del passages  # a run's main process never holds the texts
            start = time.perf_counter()
            found, seconds = run_cleaner(batches)
            wall = time.perf_counter() - start
        peak = max(
            resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        peak /= 1024  # the largest of the main process and its workers
    else:
        passages, planted = corpus(n)
        start = time.perf_counter()
        found, seconds = run_datasketch(passages)
        wall = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recall, precision = score(found, planted)
    result = {"seconds": seconds, "wall": wall, "peak": peak, "recall": recall, "precision": precision}
    print(json.dumps({**result, "found": len(found), "kept_a_copy": kept_a_copy(found, planted)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["cleaner", "datasketch"],
        choices=["cleaner", "cleaner-run", "datasketch", "datatrove"],
    )
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--write-input", nargs=2, metavar=("N", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    if args.write_input:
        write_input(int(args.write_input[0]), Path(args.write_input[1]))
        return
    if "datatrove" in args.methods:
        datatrove_python()  # before any run: installing is never timed
    print("| method | N | wall s | passages/s | per step (passages/s) | peak RSS MiB | recall | precision |")
    print("|---|---|---|---|---|---|---|---|")
    results: dict[tuple[str, int], dict] = {}
    for n in args.sizes:
        for method in args.methods:
            result = subprocess.run(
                [sys.executable, __file__, "--child", method, str(n)],
                stdout=subprocess.PIPE,  # a failing child's traceback still shows
                text=True,
                check=True,
            )
            # Each child reports its own peak: this process's RUSAGE_CHILDREN would be the
            # largest of all the children so far (and of the venv's pip).
            r = json.loads(result.stdout.strip().splitlines()[-1])
            results[(method, n)] = r
            steps = ", ".join(f"{k} {n / v:,.0f}" for k, v in r["seconds"].items() if v > 0)
            print(
                f"| {method} | {n:,} | {r['wall']:.1f} | {n / r['wall']:,.0f} | {steps} | {r['peak']:,.0f} | "
                f"{r['recall']:.4f} | {r['precision']:.4f} |",
                flush=True,
            )
    for (method, n), r in results.items():
        if r["kept_a_copy"]:
            print(
                f"N={n:,}: {method}: {r['kept_a_copy']:,} of its {r['found']:,} pairs are wrong only in the "
                "member kept (a copy of the same source instead of the source itself)"
            )
    for n in args.sizes:
        for method, said in (("cleaner", "cleaner"), ("cleaner-run", "`cleaner run`, end to end,")):
            ours = results.get((method, n))
            for peer, name in PEER_NAMES.items():
                theirs = results.get((peer, n))
                if ours and theirs:
                    print(
                        f"N={n:,}: {said} is {theirs['wall'] / ours['wall']:.1f}x faster than {name} "
                        f"(recall {ours['recall']:.4f} vs {theirs['recall']:.4f}, "
                        f"precision {ours['precision']:.4f} vs {theirs['precision']:.4f})"
                    )


if __name__ == "__main__":
    main()
