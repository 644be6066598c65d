"""datatrove's MinHash dedup pipeline on the dedup benchmark's passages.

Runs INSIDE datatrove's own virtual environment (`benchmarks/.venvs/datatrove`, made by
`benchmarks/bench_dedup.py`), never in the project's: datatrove pins an older trafilatura and
pulls in spacy. The module imports nothing from datatrove or the project at load time, so the
pair mapping below can be tested anywhere.

    python datatrove_minhash.py --input DIR --work DIR --result FILE \
        [--n-grams 3 --buckets 42 --rows 3 --seed 1 --tasks 2 --workers 2]

Input: `DIR/*.jsonl`, one `{"id": ..., "text": ...}` per line. datatrove's `JsonlReader` gives
each task whole files (task k reads files k, k + tasks, ...), so the benchmark writes one file
per task, in passage order.

The pipeline is datatrove's documented four-stage MinHash example
(`examples/minhash_deduplication.py`), run with `LocalPipelineExecutor` on 2 cores:

1. `MinhashDedupSignature`: `--tasks` tasks (2) on `--workers` workers (2); signatures are
   written per bucket and sorted;
2. `MinhashDedupBuckets`: one task per bucket (42 tasks on 2 workers; datatrove requires the
   task count to be a multiple of the bucket count); every pair of passages sharing a whole
   bucket is a duplicate pair, with no verification of the estimated Jaccard;
3. `MinhashDedupCluster`: 1 task (datatrove requires a world size of 1): union-find over the
   pairs, one member kept per cluster (`save_cluster_id=True`);
4. `MinhashDedupFilter`: `--tasks` tasks on `--workers` workers (it must match stage 1),
   `load_cluster_ids=True`; kept passages to a `JsonlWriter`, removed ones to the exclusion
   writer, both uncompressed (the example's gzip would only add cost to datatrove's time).

`MinhashConfig(n_grams=3, num_buckets=42, hashes_per_bucket=3, seed=1)`: word 3-grams and 42
bands of 3 rows as our `DedupConfig` (126 hashes; ours computes 128 and bands 126); the hash
is datatrove's default (64-bit xxhash), the text normalisation its default `simplify_text`
(lower case, no punctuation, numbers folded). Language English, for which datatrove's
`load_word_tokenizer` gives its `SpaCyTokenizer("en")`, i.e. `spacy.blank("en")`: no model to
download (nltk's punkt, which would need one, is not used).

Pools use the "fork" start method (datatrove's default is "forkserver"): forked workers are
children of this process and are waited for, so their peak RSS reaches the benchmark's
`getrusage(RUSAGE_CHILDREN)`; under a fork server they are the server's children and nobody
waits for it. Fork also spares each worker a fresh import of datatrove and spacy.

The result file (JSON): `seconds` per stage, `t_imported` and `t_done` (`time.time()` after the
imports and after stage 4: the benchmark counts its wall time up to `t_done`, so reading the
outputs back for scoring is not counted), `pairs` ([removed id, kept id of its cluster]),
counts, configuration and library versions.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path


def pairs_from_clusters(
    removed: Iterable[tuple[str, int]], kept: Iterable[tuple[str, int]]
) -> list[tuple[str, str]]:
    """[removed id, id of the member kept from its cluster] from (id, cluster id) rows.

    `removed` are the passages stage 4 dropped and `kept` those it kept, each with the
    `minhash_cluster_id` stage 3 gave it (-1 for a kept passage in no cluster). Every cluster
    keeps exactly one member; a removed passage whose cluster kept none means the outputs are
    inconsistent, and is an error rather than a silently lost pair.
    """
    kept_of: dict[int, str] = {}
    for doc_id, cluster in kept:
        if cluster == -1:
            continue
        if cluster in kept_of:
            raise ValueError(f"cluster {cluster} keeps both {kept_of[cluster]!r} and {doc_id!r}")
        kept_of[cluster] = doc_id
    pairs = []
    for doc_id, cluster in removed:
        if cluster not in kept_of:
            raise ValueError(f"removed {doc_id!r} is in cluster {cluster}, which kept no member")
        pairs.append((doc_id, kept_of[cluster]))
    return pairs


def read_rows(folder: Path) -> list[tuple[str, int]]:
    """(id, minhash_cluster_id) of every document a JsonlWriter wrote to `folder`."""
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open() as fh:
            for line in fh:
                doc = json.loads(line)
                rows.append((doc["id"], int(doc["metadata"]["minhash_cluster_id"])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="folder of JSONL files, one per task")
    parser.add_argument("--work", type=Path, required=True, help="empty folder for datatrove's files")
    parser.add_argument("--result", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--n-grams", type=int, default=3)
    parser.add_argument("--buckets", type=int, default=42)
    parser.add_argument("--rows", type=int, default=3, help="hashes per bucket")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=2, help="tasks of stages 1 and 4 (= input files)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from importlib.metadata import version

    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.typeshelper import Languages

    t_imported = time.time()
    work = args.work
    config = MinhashConfig(
        n_grams=args.n_grams, num_buckets=args.buckets, hashes_per_bucket=args.rows, seed=args.seed
    )
    n_files = len(list(args.input.glob("*.jsonl")))
    if n_files != args.tasks:
        parser.error(
            f"{args.input} holds {n_files} JSONL files; stages 1 and 4 need one per task ({args.tasks})"
        )

    def reader() -> JsonlReader:
        return JsonlReader(str(args.input), glob_pattern="*.jsonl", compression=None)

    common = {"start_method": "fork", "skip_completed": False}
    stages = {
        "signatures": LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupSignature(
                    output_folder=str(work / "signatures"), config=config, language=Languages.english
                ),
            ],
            tasks=args.tasks,
            workers=args.workers,
            logging_dir=str(work / "logs" / "signatures"),
            **common,
        ),
        "buckets": LocalPipelineExecutor(
            pipeline=[
                MinhashDedupBuckets(
                    input_folder=str(work / "signatures"), output_folder=str(work / "buckets"), config=config
                )
            ],
            tasks=config.num_buckets,
            workers=args.workers,
            logging_dir=str(work / "logs" / "buckets"),
            **common,
        ),
        "clusters": LocalPipelineExecutor(
            pipeline=[
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"),
                    output_folder=str(work / "remove_ids"),
                    config=config,
                    save_cluster_id=True,
                )
            ],
            tasks=1,
            workers=1,
            logging_dir=str(work / "logs" / "clusters"),
            **common,
        ),
        "filter": LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupFilter(
                    input_folder=str(work / "remove_ids"),
                    exclusion_writer=JsonlWriter(str(work / "removed"), compression=None),
                    load_cluster_ids=True,
                ),
                JsonlWriter(str(work / "kept"), compression=None),
            ],
            tasks=args.tasks,
            workers=args.workers,
            logging_dir=str(work / "logs" / "filter"),
            **common,
        ),
    }
    seconds = {}
    for name, executor in stages.items():  # in order; each stage reads the previous one's files
        start = time.perf_counter()
        executor.run()
        seconds[name] = time.perf_counter() - start
    t_done = time.time()

    removed, kept = read_rows(work / "removed"), read_rows(work / "kept")
    pairs = pairs_from_clusters(removed, kept)
    result = {
        "seconds": seconds,
        "t_imported": t_imported,
        "t_done": t_done,
        "pairs": pairs,
        "documents": len(removed) + len(kept),
        "removed": len(removed),
        "clusters": len({c for _, c in kept if c != -1}),
        "config": {
            "n_grams": config.n_grams,
            "num_buckets": config.num_buckets,
            "hashes_per_bucket": config.hashes_per_bucket,
            "seed": config.seed,
            "hash": str(config.hash_config),
            "language": Languages.english,
            "tasks": args.tasks,
            "workers": args.workers,
            "start_method": common["start_method"],
        },
        "versions": {name: version(name) for name in ("datatrove", "spacy", "xxhash", "numpy")},
    }
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
