"""The clean-corpus flow: scraped pages in, a clean deduplicated Parquet corpus out.

    discover -> read (batches) -> extract (batches) -> clean (batches)
             -> learn boilerplate -> deduplicate -> write (atomic)

Each task is a thin wrapper over a `cleaner` library function and works on a batch: a Prefect
task costs ~11 ms of orchestration, so one task per page would cost more than the work.
Stages run one after another; the batches inside a stage run on the task runner's threads.

Run it with `cleaner run`, or `python flows/clean_corpus.py [PATH ...]`.
"""

from __future__ import annotations

from cleaner.runtime import prefect_defaults

prefect_defaults()  # before Prefect is imported: it reads its settings once

import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from functools import partial  # noqa: E402
from importlib.metadata import version  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from cleaner import clean, dedup, extract, readers, writers  # noqa: E402
from cleaner.config import CleanConfig, Config, DedupConfig, ExtractConfig  # noqa: E402
from cleaner.document import Document, Reject  # noqa: E402
from cleaner.runtime import bundled_examples  # noqa: E402

# Inputs are large lists of records: hashing them for Prefect's cache would cost more than
# the work, and a rerun must redo the work anyway. For the same reason every list of records
# is passed wrapped in `quote()`: Prefect otherwise walks each argument, down to every
# passage, looking for futures (measured: 3.4 s per call on 54,000 passages; 0.2 s quoted).
_task = partial(task, cache_policy=NO_CACHE, persist_result=False)


@_task(name="discover")
def discover(paths: list[str]) -> tuple[list[readers.InputFile], list[Reject]]:
    return readers.discover(paths)


@_task(name="read")
def read(batch: list[tuple[int, readers.InputFile]]) -> tuple[list[Document], list[Reject]]:
    return readers.read_files(batch)


@_task(name="extract")
def extract_html(docs: list[Document], config: ExtractConfig) -> tuple[list[Document], list[Reject]]:
    return extract.extract_batch(docs, config)


@_task(name="clean")
def clean_lines(docs: list[Document], config: CleanConfig) -> list[Document]:
    return clean.clean_batch(docs, config)


@_task(name="learn-boilerplate")
def learn_boilerplate(docs: list[Document], config: CleanConfig) -> tuple[list[Document], dict]:
    learned = clean.learn_boilerplate(docs, config)
    dropped = clean.apply_learned(docs, learned)
    return docs, {"sites": len(learned), "lines": sum(map(len, learned.values())), "dropped": dropped}


@_task(name="deduplicate")
def deduplicate(docs: list[Document], config: DedupConfig) -> tuple[list[Document], dict]:
    stats = dedup.deduplicate(docs, config)
    return docs, stats.as_dict()


@_task(name="write")
def write(out: str, docs: list[Document], rejects: list[Reject], manifest: dict) -> dict[str, int]:
    return writers.write_corpus(out, docs, rejects, manifest)


@flow(
    name="clean-corpus",
    task_runner=ThreadPoolTaskRunner(max_workers=max(2, os.cpu_count() or 2)),
    validate_parameters=True,
)
def clean_corpus(paths: list[str] | None = None, out: str = "output", config: dict | None = None) -> dict:
    """Clean and deduplicate the pages under `paths` (default: the bundled examples) into a
    Parquet corpus in `out`. `config` has the sections of a configuration file."""
    log = get_run_logger()
    cfg = Config.from_dict(config or {})
    run_id = writers.new_run_id()
    paths = list(paths) if paths else [str(bundled_examples())]
    timings: dict[str, float] = {}
    stages: dict[str, dict] = {}

    @contextmanager
    def stage(name: str):
        start = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - start

    def report(name: str, template: str, counts: dict, **shown) -> None:
        """Record a stage's counts in the manifest and say them, and `shown`, in the log."""
        stages[name] = counts
        log.info(f"{name}: {template}".format(**counts, **shown))

    with stage("discover"):
        files, rejects = discover(paths)
    report(
        "discover",
        "{files} input files under {paths}, {skipped} skipped",
        {"files": len(files), "skipped": len(rejects)},
        paths=", ".join(paths),
    )

    with stage("read"):
        batches = _chunks(list(enumerate(files)), cfg.run.batch_size)
        docs, read_rejects = _gather([read.submit(quote(b)) for b in batches])
        docs, id_rejects = readers.reject_duplicate_ids(docs)
        read_rejects += id_rejects
    rejects += read_rejects
    report(
        "read",
        "{files} files -> {records} records, {rejects} rejected{reasons}",
        {"files": len(files), "records": len(docs) + len(read_rejects), "rejects": len(read_rejects)},
        reasons=_reasons(read_rejects),
    )

    with stage("extract"):
        html = sum(1 for d in docs if d.html is not None)
        docs, extract_rejects = _gather(
            [extract_html.submit(quote(b), cfg.extract) for b in _chunks(docs, cfg.run.batch_size)]
        )
    rejects += extract_rejects
    report(
        "extract",
        "{html_pages} HTML pages, {rejects} rejected{reasons}",
        {"html_pages": html, "rejects": len(extract_rejects)},
        reasons=_reasons(extract_rejects),
    )

    with stage("clean"):
        futures = [clean_lines.submit(quote(b), cfg.clean) for b in _chunks(docs, cfg.run.batch_size)]
        docs = [d for f in futures for d in f.result()]
        docs, learned = learn_boilerplate(quote(docs), cfg.clean)
        empty = clean.no_content_rejects(docs)
    rejects += empty
    rules = Counter(p.rule for d in docs for p in d.passages if p.rule)
    report(
        "clean",
        "{documents} documents, {lines} lines, {boilerplate} boilerplate ({by_rule}); {no_content} documents left empty",
        {
            "documents": len(docs),
            "lines": sum(len(d.passages) for d in docs),
            "boilerplate": sum(rules.values()),
            "no_content": len(empty),
        },
        by_rule=", ".join(f"{r} {n}" for r, n in rules.most_common()) or "none",
    )
    report("learned_boilerplate", "{lines} lines on {sites} sites, {dropped} lines removed", learned)

    with stage("dedup"):
        docs, dedup_stats = deduplicate(quote(docs), cfg.dedup)
    report(
        "dedup",
        "{passages_compared} passages compared, {exact_passages} exact and {near_passages} near duplicates "
        "({lsh_candidates_rejected} of {lsh_candidates_checked} LSH candidates rejected); duplicate documents: {kinds}",
        dedup_stats,
        kinds=dedup_stats["duplicate_documents"] or "none",
    )

    with stage("write"):  # its own time is added to the manifest by the writer
        manifest = writers.build_manifest(
            run_id=run_id,
            inputs=paths,
            config=cfg.to_dict(),
            docs=docs,
            rejects=rejects,
            stages=stages,
            timings=timings,
            versions=_versions(),
        )
        manifest["prefect_flow_run_id"] = str(flow_run.id) if flow_run.id else None
        rows = write(out, quote(docs), quote(rejects), manifest)
    log.info(
        "write: %(documents)d documents, %(passages)d passages, %(duplicates)d duplicates, %(rejects)d rejects"
        " -> %(out)s (run %(run_id)s, %(seconds).1f s in all)",
        {**rows, "out": out, "run_id": run_id, "seconds": sum(timings.values())},
    )
    return {"run_id": run_id, "out": out, "rows": rows, "counts": manifest["counts"]}


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _gather(futures) -> tuple[list, list]:
    """Concatenate (items, rejects) results of batch tasks, in batch order."""
    items: list = []
    rejects: list = []
    for future in futures:
        i, r = future.result()
        items.extend(i)
        rejects.extend(r)
    return items, rejects


def _reasons(rejects: Sequence[Reject]) -> str:
    if not rejects:
        return ""
    counts = Counter(r.reason for r in rejects)
    return " (" + ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) + ")"


def _versions() -> dict[str, str]:
    return {name: version(name) for name in ("cleaner", "trafilatura", "datasketch", "pyarrow", "prefect")}


if __name__ == "__main__":
    clean_corpus(paths=sys.argv[1:] or None)
