"""The clean-corpus flow: scraped pages in, a clean deduplicated Parquet corpus out.

    discover -> prepare (batches, in parallel: read, extract, clean, sketch, spool)
             -> learn boilerplate -> dedup (LSH band groups in parallel on large runs,
                exact checks of close pairs from the spool, then the visit)
             -> write (reads the spool back; atomic)

Each task is a thin wrapper over a `cleaner` library function. The batch and LSH tasks run
on a process pool, one worker per core by default (`cleaner run --workers N`): extraction and
cleaning are Python-bound, so threads would share one core; or on a Dask cluster (`dask`).
Batches hand back only a compact `Sketch` of their documents; the texts and the signatures
wait in the run's spool on disk, and the signatures are read from it into one array, so memory
holds the corpus's sketch and a batch of texts per worker, never the corpus. An LSH task
reads only the signature columns of its bands, from a file. The other whole-corpus
steps run in the flow's own process, on the sketch.

`out` may hold a corpus already: the run appends to it (`cleaner.index`). Inputs an earlier
run read are skipped, and the new documents are deduplicated against every kept one. A
damaged corpus is refused before any work (`cleaner.check`); with `reprocess`, the run reads
every input again and replaces the corpus with what it makes of them.

Run it with `cleaner run`, or `python flows/clean_corpus.py [PATH ...]`.
"""

from __future__ import annotations

from cleaner.runtime import prefect_defaults

prefect_defaults()  # before Prefect is imported: it reads its settings once

import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from functools import partial  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.futures import PrefectFuture, as_completed  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from prefect.states import Failed, State  # noqa: E402
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402
from prefect_dask import DaskTaskRunner  # noqa: E402

from cleaner import archives, check, clean, dedup, index, pipeline, readers, writers  # noqa: E402
from cleaner.config import CleanConfig, Config, DedupConfig  # noqa: E402
from cleaner.document import Reject  # noqa: E402
from cleaner.errors import CleanerError, InputError, OutputError  # noqa: E402
from cleaner.progress import Progress  # noqa: E402
from cleaner.runtime import bundled_examples, prefect_api  # noqa: E402
from cleaner.sketch import Sketch  # noqa: E402

# Inputs are large lists of records: hashing them for Prefect's cache would cost more than
# the work, and a rerun must redo the work anyway. For the same reason every list of records
# is passed wrapped in `quote()`: Prefect otherwise walks each argument, down to every
# passage, looking for futures (measured: 3.4 s per call on 54,000 passages; 0.2 s quoted).
_task = partial(task, cache_policy=NO_CACHE, persist_result=False)


@_task(name="discover")
def discover(paths: list[str], out: str) -> tuple[list[readers.InputFile], list[Reject]]:
    # Parameters are JSON text: a path is written as a `source` is (bytes of a name that are
    # not UTF-8 as \xNN, a backslash doubled), and read back here.
    return readers.discover([readers.path_of_source(p) for p in paths], exclude=out)


@_task(name="prepare")
def prepare(
    index: int, files: list[tuple[int, readers.InputFile]], config: Config, spool: str
) -> pipeline.BatchResult:
    return pipeline.prepare_batch(index, files, config, spool)


@_task(name="learn-boilerplate")
def learn_boilerplate(sketch: Sketch, config: CleanConfig) -> dict:
    learned = clean.learn_boilerplate(sketch, config)
    dropped = clean.apply_learned(sketch, learned)
    return {"sites": len(learned), "lines": sum(map(len, learned.values())), "dropped": dropped}


@_task(name="lsh-bands")
def lsh_bands(columns: str, config: DedupConfig, visit: np.ndarray, bands: range) -> np.ndarray:
    return dedup.band_group_pairs(columns, config, visit, bands)


@_task(name="write")
def write(
    staging: Path,
    sketch: Sketch,
    parts: list[pipeline.Part],
    rejects: list[Reject],
    manifest: dict,
    extra: dict,
    files: dict,
    replace: bool,
) -> dict:
    return pipeline.write_run(staging, sketch, parts, rejects, manifest, extra, files, replace)


# Set by `cleaner run`, which says an error itself in one line (with a log of the traceback
# for an unexpected one): the flow run then ends Failed with the error as its message, without
# Prefect logging the traceback on the terminal. Elsewhere (a deployment, a test) an
# unexpected error is raised as usual, its traceback in the run's logs.
QUIET_FAILURES = False


@flow(name="clean-corpus", task_runner=ProcessPoolTaskRunner(), validate_parameters=True)
def clean_corpus(
    paths: list[str] | None = None,
    out: str = "output",
    config: dict | None = None,
    dask: str | None = None,
    allow_empty: bool = False,
    reprocess: bool = False,
) -> dict | State:
    """Clean and deduplicate the pages under `paths` (default: the bundled examples) into a
    Parquet corpus in `out`. `config` has the sections of a configuration file. `dask` is the
    address of a Dask scheduler whose workers run the tasks instead of the local process
    pool; they must see `paths` and `out` at the same paths (a shared file system). A path is
    written as a `source` is (`readers.source_of`: bytes of its name that are not UTF-8 as
    `\\xNN`, a backslash doubled). No input
    found under `paths` is an error, unless `allow_empty` (a scheduled run's empty inbox):
    then the run logs it and commits nothing. `reprocess` reads every input again, inputs
    earlier runs read included, and replaces the corpus in `out` with the result (after a
    change of settings).

    A `CleanerError` (a setting, the output folder, the disk) ends the run Failed with its
    one-line message, and no traceback."""
    try:
        return _run_flow(paths, out, config, dask, allow_empty, reprocess)
    except CleanerError as exc:
        return Failed(message=str(exc), data=exc)
    except Exception as exc:
        if not QUIET_FAILURES:
            raise
        return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)


def _run_flow(
    paths: list[str] | None,
    out: str,
    config: dict | None,
    dask: str | None,
    allow_empty: bool,
    reprocess: bool,
) -> dict:
    with ExitStack() as stack:
        runner = None
        if dask:
            runner = stack.enter_context(DaskTaskRunner(address=dask))
            try:  # connect now, before any work, rather than at the first task
                workers = len(runner.client.scheduler_info()["workers"])
            except OSError as exc:  # refused, timed out, not a scheduler
                raise CleanerError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None
            get_run_logger().info(f"dask: the tasks run on the cluster at {dask} ({workers} workers now)")
        return _clean_corpus(paths, out, config, _submitter(runner), allow_empty, reprocess)


def _submitter(runner: TaskRunner | None) -> Callable[..., PrefectFuture]:
    """How the flow submits a task: to the flow's own runner, or to a Dask cluster's."""
    if runner is None:
        return lambda task, **parameters: task.submit(**parameters)

    def submit(task, **parameters):
        # Dask turns a `quote` (a named tuple) into a plain 1-tuple on the way: unwrap it. Our
        # arguments hold no futures, and the Dask runner does not walk arrays.
        plain = {k: v.unquote() if isinstance(v, quote) else v for k, v in parameters.items()}
        return runner.submit(task, parameters=plain)

    return submit


def _clean_corpus(
    paths: list[str] | None,
    out: str,
    config: dict | None,
    submit: Callable[..., PrefectFuture],
    allow_empty: bool = False,
    reprocess: bool = False,
) -> dict:
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

    with writers.open_run(out, run_id) as staging:
        earlier: list[str] = []
        if reprocess:  # the corpus is replaced: only which inputs it holds matters
            earlier = check.earlier_runs(out) if check.is_corpus(out) else []
        else:  # a damaged corpus is never built on
            check.refuse_damaged(out)
        corpus = index.Index(out, cfg.dedup, fresh=reprocess)  # refuses other MinHash settings
        changed = [] if reprocess else check.settings_changed(out, cfg.to_dict())
        with stage("discover"):
            files, rejects = discover(paths, out)
        holder = readers.output_among_inputs(paths, out)
        report(
            "discover",
            "{files} input files under {paths}, {skipped} skipped{inside}",
            {"files": len(files), "skipped": len(rejects), "output_inside_input": holder},
            paths=", ".join(paths),
            inside=f"; the output folder {out} overlaps the input {holder}: its files are not read as input"
            if holder
            else "",
        )
        if not files and not rejects:
            if not allow_empty:
                raise InputError(
                    f"no input found under {', '.join(paths)}: nothing to read (an empty inbox is "
                    "no error with --allow-empty, or the flow's allow_empty)"
                )
            log.info("no input found: nothing to do, nothing committed")
            shutil.rmtree(staging, ignore_errors=True)
            return {"run_id": None, "out": out, "rows": dict.fromkeys(writers.DATASETS, 0), "counts": None}
        if reprocess and earlier:
            missing = check.missing_inputs(check.earlier_inputs(out), files)
            if missing:
                raise OutputError(
                    f"--reprocess replaces the corpus in {out}, but {len(missing)} inputs its runs read are "
                    f"not among this run's (e.g. {missing[0]}): their documents would be lost; give every "
                    "input folder, or write to a new --out"
                )
        ranked = corpus.unread(files)
        unchanged = len(files) - len(ranked)
        if changed:
            (log.warning if unchanged else log.info)(
                f"config: settings changed since the last run ({'; '.join(changed)})"
                + (
                    f"; the {unchanged} inputs read before are skipped, not cleaned again with them: "
                    "`cleaner run --reprocess` rebuilds the corpus with the new settings"
                    if unchanged
                    else ""
                )
            )
        stages["config"] = {"changed": changed, "reprocess": reprocess}
        with stage("prepare"):
            spool = str(staging / pipeline.SPOOL)
            batches = _chunks(ranked, cfg.run.batch_size)
            futures = [
                submit(prepare, index=i, files=quote(b), config=cfg, spool=spool)
                for i, b in enumerate(batches)
            ]
            progress = Progress("prepare", len(ranked), len(batches), log.info)
            results: list = [None] * len(batches)
            for future in as_completed(futures):  # as they finish; kept in batch order
                result = future.result()
                results[result.index] = result
                progress.advance(result.counts["files"], result.counts["records"])
            progress.close()
            del futures
            sketch, parts = pipeline.join(results, spool)
            inputs = [x for r in results for x in r.inputs]
            unchanged += corpus.skip_unchanged(sketch, inputs)
            id_rejects = sketch.exclude_repeated_ids(corpus.known_ids(sketch.doc_ids))
        counts = sum((r.counts for r in results), Counter())
        warc_skipped = {
            key.removeprefix(archives.SKIPPED): n
            for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if key.startswith(archives.SKIPPED)
        }
        rules = sum((r.rules for r in results), Counter())
        step_seconds = (
            {k: round(sum(r.seconds.get(k, 0.0) for r in results), 4) for k in results[0].seconds}
            if results
            else {}
        )
        read_rejects = [x for r in results for x in r.read_rejects] + id_rejects
        extract_rejects = [x for r in results for x in r.extract_rejects]
        rejects += read_rejects + extract_rejects
        del results
        report(
            "prepare",
            "{batches} batches; seconds of work per step: {steps}",
            {"batches": len(batches), "seconds": step_seconds},
            steps=", ".join(f"{k} {v:.2f}" for k, v in step_seconds.items()) or "none",
        )
        report(
            "read",
            "{files} files -> {records} records, {rejects} rejected{reasons}; "
            "{unchanged} files unchanged since an earlier run, skipped{warc}",
            {
                "files": len(files),
                "records": counts["records"],
                "rejects": len(read_rejects),
                "unchanged": unchanged,
                "warc_skipped": warc_skipped,
            },
            reasons=_reasons(read_rejects),
            warc=(
                f"; {sum(warc_skipped.values())} WARC records passed over ("
                + ", ".join(f"{kind} {n}" for kind, n in warc_skipped.items())
                + ")"
                if warc_skipped
                else ""
            ),
        )
        report(
            "extract",
            "{html_pages} HTML pages, {rejects} rejected{reasons}",
            {"html_pages": counts["html_pages"], "rejects": len(extract_rejects)},
            reasons=_reasons(extract_rejects),
        )

        with stage("learn"):
            learned = learn_boilerplate(quote(sketch), cfg.clean)
            rules["learned"] += learned["dropped"]
            no_content = int(sketch.no_content().sum())
        report(
            "clean",
            "{documents} documents, {lines} lines, {boilerplate} boilerplate ({by_rule}); "
            "{no_content} documents left empty",
            {
                "documents": int((~sketch.excluded).sum()),
                "lines": int(sketch.n_passages),
                "boilerplate": sum(rules.values()),
                "no_content": no_content,
            },
            by_rule=", ".join(f"{r} {n}" for r, n in rules.most_common() if n) or "none",
        )
        report("learned_boilerplate", "{lines} lines on {sites} sites, {dropped} lines removed", learned)

        with stage("dedup"):
            prior = corpus.prior(sketch)
            held = 0 if prior.values is None else len(prior.values)
            spread = held + len(sketch.sizes) >= cfg.run.lsh_spread_min_rows
            lsh = None
            if spread:  # each band group a task on a worker, reading its columns from a file

                def submit_lsh(columns: Path, visit: np.ndarray, bands: range) -> PrefectFuture:
                    return submit(
                        lsh_bands, columns=str(columns), config=cfg.dedup, visit=quote(visit), bands=bands
                    )

                lsh = partial(dedup.spread_lsh, submit_lsh, cfg.run.lsh_tasks, staging / "lsh")
            texts = dedup.joined_texts(  # for the exact check of undecided pairs
                held,
                partial(corpus.texts, prior),
                pipeline.spool_texts(spool, sketch, parts),
            )
            dedup_stats = dedup.deduplicate_sketch(sketch, cfg.dedup, prior, lsh, texts).as_dict()
            dedup_stats["earlier_documents_compared"] = len(prior.doc_ids)
            del prior
        report(
            "dedup",
            "{passages_compared} passages compared, {exact_passages} exact and {near_passages} near "
            "duplicates ({lsh_candidates_rejected} of {lsh_candidates_checked} LSH candidates rejected, "
            "{exact_checks} pairs checked on their shingles); "
            "duplicate documents: {kinds}",
            dedup_stats,
            kinds=dedup_stats["duplicate_documents"] or "none",
        )

        manifest = writers.build_manifest(
            run_id=run_id,
            inputs=paths,
            config=cfg.to_dict(),
            stages=stages,
            timings=timings,
            versions=_versions(),
        )
        manifest["prefect_flow_run_id"] = str(flow_run.id) if flow_run.id else None
        if reprocess:
            manifest["supersedes"] = earlier  # runs whose partitions this one replaces
        rejects = corpus.unreported(rejects)
        first_doc = corpus.n_docs()
        tables = index.run_tables(sketch, first_doc, index.input_rows(inputs, rejects), cfg.dedup, run_id)
        manifest["index"] = index.record(tables, first_doc)
        manifest = write(
            staging,
            quote(sketch),
            quote(parts),
            quote(rejects),
            manifest,
            quote(tables),
            index.params_file(cfg.dedup),
            reprocess,
        )
    rows = manifest["rows"]
    log.info(
        "write: %(documents)d documents, %(passages)d passages, %(duplicates)d duplicates, %(rejects)d rejects"
        " -> %(out)s (run %(run_id)s, %(seconds).1f s in all)",
        {**rows, "out": out, "run_id": run_id, "seconds": sum(manifest["timings_seconds"].values())},
    )
    _publish_counts(run_id, out, manifest["counts"])
    return {"run_id": run_id, "out": out, "rows": rows, "counts": manifest["counts"]}


def _publish_counts(run_id: str, out: str, counts: dict) -> None:
    """Show what the run did in the Prefect UI: its counts as a table artifact of the flow
    run. Every run publishes under the same key, so the key's history is the runs' history."""
    from prefect.artifacts import create_table_artifact

    table = [
        {"count": "documents kept", "value": counts["documents"]},
        {"count": "duplicate documents", "value": counts["duplicate_documents"]},
        {"count": "boilerplate lines", "value": counts["passages_by_status"].get("boilerplate", 0)},
        {"count": "rejects", "value": counts["rejects"]},
    ] + [{"count": f"passages {status}", "value": n} for status, n in counts["passages_by_status"].items()]
    create_table_artifact(
        table=table,
        key="clean-corpus-counts",
        description=f"Run `{run_id}` of **clean-corpus** into `{out}`: documents kept, "
        "duplicate documents, boilerplate lines, rejects and passages by status.",
    )


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _reasons(rejects: Sequence[Reject]) -> str:
    if not rejects:
        return ""
    counts = Counter(r.reason for r in rejects)
    return " (" + ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) + ")"


def _versions() -> dict[str, str]:
    return {name: version(name) for name in ("cleaner", "trafilatura", "datasketch", "pyarrow", "prefect")}


if __name__ == "__main__":
    with prefect_api():
        clean_corpus(paths=sys.argv[1:] or None)
