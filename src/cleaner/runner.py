"""A whole run, once (`cleaner.run`): scraped pages in, a clean deduplicated Parquet corpus out.

    discover -> prepare (batches, in parallel: read, extract, clean, sketch, spool)
             -> learn boilerplate -> dedup (LSH band groups in parallel on large runs,
                exact checks of close pairs from the spool, then the visit)
             -> write (reads the spool back; atomic)

`run` is the orchestration, for any caller: the `cleaner` command and the Prefect flow
(`cleaner_flows`), a script, another orchestrator. It imports no orchestrator: the batch and
LSH work goes to an `Executor` (a local process pool by default; the flow passes one that
makes each call a Prefect task), and the run says what it does on a `logging.Logger`.

Batches hand back only their parts' names; texts, sketches and signatures wait in the run's
spool on disk (`pipeline`), so memory holds the corpus's sketch and a part of texts per
worker, never the corpus. `out` may hold a corpus already: the run appends to it (`index`),
skipping inputs earlier runs read and deduplicating new documents against every kept one. A
damaged corpus is refused before any work (`check`); with `reprocess`, every input is read
again and the corpus is replaced with what the run makes of them.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as _futures_as_completed
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cleaner import interrupt, pipeline
from cleaner.clean import extract, language, learned
from cleaner.config import CleanConfig, Config
from cleaner.corpus import check, index, writers
from cleaner.dedup import embed, lsh, rewrites, visit
from cleaner.dedup.sketch import Prior, Sketch
from cleaner.dedup.store import SignatureStore
from cleaner.document import Reject
from cleaner.errors import ConfigError, InputError, OutputError
from cleaner.io import readers, records, warc
from cleaner.memory import give_back
from cleaner.progress import Progress

# -- how work is farmed out -----------------------------------------------------------------


class Executor(Protocol):
    """Where a run's work happens. `submit` runs a batch's or an LSH band group's function
    (a module-level function of the library, whose arguments pickle) and returns a future;
    `call` runs a whole-corpus step in this process (an orchestrator may record it as a step
    of its own). Every argument is passed by keyword.

    `release` is called once the run's batches are done: workers on this machine may stop
    then (each holds a warm interpreter, ~430 MB resident at a million records), since the
    whole-corpus stages run in this process. `remote` says whether the workers are on other
    machines (a cluster): only then are LSH band groups submitted to them; otherwise they
    run on this process's threads, which sort the bands as fast as two workers did, without
    a worker's memory. `workers`, when an executor has it, is how many batches it runs at
    once (a cluster's workers): a run makes its batches a multiple of it, one per core
    otherwise."""

    remote: bool

    def submit(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any: ...

    def as_completed(self, futures: Sequence[Any]) -> Iterable[Any]: ...

    def call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any: ...

    def release(self) -> None: ...


class InlineExecutor:
    """Every call at once, in this process: for tests, debugging and small runs. Like every
    executor here, a context manager (for this one, entering and leaving do nothing)."""

    remote = False
    workers = 1

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn: Callable[..., Any], /, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(**kwargs))
        except BaseException as exc:  # raised by `result()`, as a pool's future does
            future.set_exception(exc)
        return future

    def as_completed(self, futures: Sequence[Future]) -> Iterable[Future]:
        return list(futures)

    def call(self, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        return fn(**kwargs)

    def release(self) -> None:
        pass


class LocalExecutor(InlineExecutor):
    """A pool of `workers` processes on this machine (default: one per core): extraction and
    cleaning are Python-bound, so threads would share one core. On Linux, while this process
    has no other thread, the workers are forked once it has warmed up (imports, trafilatura's
    and the language model's one-off costs), so they start warm; elsewhere they are spawned
    and warm up as they start (`warm=False`: no warming up, for work that extracts nothing).
    Workers die with the process that started them. `release` stops them; the next
    `submit` starts them again, so one executor can serve several runs."""

    def __init__(self, workers: int | None = None, *, warm: bool = True) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.warm = warm
        self._pool: ProcessPoolExecutor | None = None
        self._entered = False

    def __enter__(self) -> LocalExecutor:
        self._entered = True
        self._start()
        return self

    def _start(self) -> None:
        forked = sys.platform == "linux" and threading.active_count() == 1
        if forked:
            if self.warm:
                warm_up()
            context, warm = multiprocessing.get_context("fork"), False
        else:
            context, warm = multiprocessing.get_context("spawn"), self.warm
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=start_worker, initargs=(os.getpid(), warm)
        )
        if forked and self.warm:
            self._pool.submit(os.getpid)  # with fork, the first call starts every worker, warm
            cool_down()  # this process has no use for the models it loaded for them

    def __exit__(self, *exc: object) -> None:
        self._entered = False
        self.release()

    def release(self) -> None:
        """Stop the workers, and give back the memory this process freed meanwhile."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            cool_down()

    def submit(self, fn: Callable[..., Any], /, **kwargs: Any) -> Future:
        if not self._entered:
            raise RuntimeError("a LocalExecutor submits only inside its `with` block")
        if self._pool is None:
            self._start()
        return self._pool.submit(fn, **kwargs)

    def as_completed(self, futures: Sequence[Future]) -> Iterable[Future]:
        return _futures_as_completed(futures)


def warm_up(modules: Sequence[str] = ()) -> None:
    """Import `modules` and pay the one-off costs of extraction, language identification and
    the rewrite stage's embeddings (on by default) in this process. A failure is
    logged, not raised: in a worker's initializer it would break the whole pool, while the
    task that needs what failed reports the real error."""
    import importlib

    try:
        for name in modules:
            importlib.import_module(name)
        extract.warm_up()
        language.warm_up()
        embed.warm_up()
    except Exception as exc:
        stop = _stop_within(exc)
        if stop is not None:  # Ctrl-C, which a library on the way wrapped in an error of its own
            raise stop from None
        signum = interrupt.requested()
        if signum is not None:  # ... or replaced by one, its cause lost
            raise interrupt.Interrupted(signum) from None
        logging.getLogger(__name__).warning(
            "warming up failed; the first task will pay for it", exc_info=True
        )


def _stop_within(exc: BaseException) -> BaseException | None:
    """The request to stop (a BaseException that is no error: Ctrl-C, SIGTERM's `Interrupted`)
    that `exc` was raised from, if any: pydantic turns one raised inside its serializer into
    an error of its own, which took a Ctrl-C during the warm-up for a failed warm-up."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if not isinstance(exc, Exception):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def cool_down() -> None:
    """Let go of the models `warm_up` loaded (~160 MB: language identification and the
    rewrite stage's embeddings), in a process whose workers have been forked with them or
    are gone: the whole-corpus stages need neither, and a later `warm_up` loads them again.
    A forked worker keeps its copy: the pages stay mapped in it."""
    language.cool_down()
    embed.cool_down()
    gc.collect()
    give_back()


def start_worker(parent: int, warm: bool | Sequence[str] = ()) -> None:
    """A pool worker's first act: die with the process that started it, leave stopping to
    it, then warm up (`warm`: True, or the modules to import first) unless forked warm.

    On Linux the kernel kills the worker when its parent ends, however it ends (a `kill -9`
    left workers holding hundreds of MB for minutes, writing into the staging folder of a run
    that was gone). Ctrl-C and SIGTERM reach the whole process group: the parent stops its
    workers itself, so they ignore both."""
    import signal

    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent ended before the prctl
            os._exit(0)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if warm:
        warm_up(() if warm is True else tuple(warm))


# -- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """What a run did: its id (None when it found no input and committed nothing), the
    corpus folder, the rows it wrote per dataset and its manifest's counts."""

    run_id: str | None
    out: str
    rows: dict[str, int]
    counts: dict | None
    manifest: dict = field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "out": self.out, "rows": self.rows, "counts": self.counts}


def run(
    paths: Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    out: str | os.PathLike = "output",
    config: Config | Mapping | None = None,
    *,
    executor: Executor | None = None,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    allow_empty: bool = False,
    reprocess: bool = False,
    labels: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Clean and deduplicate the pages under `paths` (one path or several; None: the bundled
    examples; an empty list is an `InputError`) into a Parquet corpus in `out`; `config` is a
    `Config` or the sections of a configuration file.

    No input found under `paths` is an `InputError`, unless `allow_empty` (a scheduled run's
    empty inbox): then the run logs it and commits nothing. `reprocess` reads every input
    again, inputs earlier runs read included, and replaces the corpus in `out` with the
    result. `labels` go into the run's manifest as they are (an orchestrator's run id), beside
    its own fields, which they may not name (a `ConfigError`: "run_id" replaced made the corpus
    unreadable). The
    work goes to `executor` (default: a `LocalExecutor` for this run); every `CleanerError`
    is raised with a one-line message."""
    cfg = config if isinstance(config, Config) else Config.from_dict(dict(config or {}))
    clash = sorted(str(key) for key in (labels or {}) if key in writers.MANIFEST_FIELDS)
    if clash:
        raise ConfigError(
            f"labels: {clash[0]!r} is a field the run's manifest has of its own, which a label may not "
            f"replace: name the label otherwise (e.g. 'orchestrator_{clash[0]}')"
        )
    if isinstance(paths, (str, os.PathLike)):  # one path, not the letters of one
        paths = [paths]
    # A deployment's parameters come from templates: an empty list or path is an unset
    # variable, not "the bundled examples" (which went into a real corpus) nor "here".
    if paths is not None and not len(paths):
        raise InputError(
            "no input path given (an empty list): name the folders to read (the bundled examples "
            "are read only when no paths are given at all)"
        )
    if not os.fspath(out).strip():
        raise OutputError("the output folder is an empty path: name the corpus's folder ('.' if it is meant)")
    paths = [Path(p) for p in paths] if paths else [bundled_examples()]
    readers.check_input_paths(paths, out)  # before the output folder is locked
    if executor is None:
        with LocalExecutor(workers_for(paths, out, cfg)) as local:
            return run(
                paths, out, cfg, executor=local, log=log, allow_empty=allow_empty,
                reprocess=reprocess, labels=labels,
            )  # fmt: skip
    return _Run(executor, log or logging.getLogger("cleaner.run"), cfg, str(out)).run(
        paths,
        allow_empty,
        reprocess,
        dict(labels or {}),
    )


def workers_for(
    paths: Sequence[str | os.PathLike], out: str | os.PathLike, config: Config, most: int | None = None
) -> int:
    """Workers worth starting for a run of `paths`: one per core (or `most`, the number a user
    asked for), but no more than its batches (`_Run._batches`), counted from the inputs as the
    run finds them, before the corpus says which it read already: a worker with no batch to
    take sits idle holding a warm process (~300 MB resident), as the second did for a day's
    single file. As many files as workers make a batch a worker at least (`batch_groups`):
    the walk stops there."""
    cores = most or os.cpu_count() or 1
    files, _ = readers.discover(paths=[Path(p) for p in paths], exclude=out, enough=cores)
    if len(files) >= cores:
        return cores
    batches = 0  # fewer files than cores: a batch each, and a large JSONL file a batch a range
    for f in files:
        size = _size(f)
        big = size > config.run.split_bytes and readers.kind_of(f.path) == ("jsonl", None)
        batches += -(-size // config.run.split_bytes) if big else 1  # `split_jsonl` cuts no more
    return max(1, min(cores, batches))


# What a file weighs in a batch, beyond its bytes: the fixed cost of a page, about what 8 KB
# of HTML takes to extract (~1.2 ms here). With it, a byte of weight costs about the same on
# generated pages of 5 KB and real pages of 181 KB (~0.15 us).
FILE_BYTES = 8_192
# A compressed file (gzip, zstd, Parquet) weighs this many times its size on disk: HTML and
# JSON shrink four to six times.
COMPRESSION = 4


def file_weight(f: records.InputFile) -> int:
    """The bytes a file is worth in a batch (`batch_groups`): what is left to read of it,
    times `COMPRESSION` when compressed, plus `FILE_BYTES`."""
    size = _size(f) - (f.resume.size if f.resume else 0)
    kind, compression = readers.kind_of(f.path)
    return FILE_BYTES + max(size, 0) * (COMPRESSION if compression or kind == "parquet" else 1)


def _size(f: records.InputFile) -> int:
    if f.size is not None:
        return f.size
    try:
        return f.path.stat().st_size
    except OSError:  # reading it will say what is wrong
        return 0


def batch_groups(
    weights: Sequence[int], batch_size: int, batch_bytes: int, cores: int | None = None
) -> list[int]:
    """The batch of each file, by the files' weights in input order: as many batches as it
    takes for at most `batch_size` files and `batch_bytes` of weight each on average, rounded
    up to a multiple of the cores (while there are files enough) so that no core idles while
    another works through a last batch; a batch ends where the weight so far passes its equal
    share of the whole, and each holds a file at least. 711 real pages in batches of 256
    were 3 batches on 2 cores, one worker doing two while the other did one."""
    cores = cores or os.cpu_count() or 1
    files, total = len(weights), sum(weights)
    wanted = max(-(-files // batch_size), -(-total // batch_bytes), 1)
    batches = min(files, -(-wanted // cores) * cores)
    groups: list[int] = []
    group, so_far = 0, 0
    for i, weight in enumerate(weights):
        groups.append(group)
        so_far += weight
        files_left, batches_left = files - i - 1, batches - group - 1
        if batches_left and (files_left == batches_left or so_far * batches >= total * (group + 1)):
            group += 1
    return groups


class _Run:
    """One run's state as it goes through the stages: what it has said and timed."""

    def __init__(self, executor: Executor, log, config: Config, out: str) -> None:
        self.executor, self.log, self.config, self.out = executor, log, config, out
        self.timings: dict[str, float] = {}
        self.stages: dict[str, dict] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start

    def report(self, name: str, template: str, counts: dict, **shown: Any) -> None:
        """Record a stage's counts in the manifest and say them, and `shown`, in the log."""
        self.stages[name] = counts
        self.log.info(f"{name}: {template}".format(**counts, **shown))

    def run(self, paths: list[Path], allow_empty: bool, reprocess: bool, labels: dict) -> RunSummary:
        cfg, out, call = self.config, self.out, self.executor.call
        run_id = writers.new_run_id()
        sources = [records.source_of(p) for p in paths]
        with writers.open_run(out, run_id) as staging:
            earlier: list[str] = []
            if reprocess:  # the corpus is replaced: only which inputs it holds matters
                earlier = check.earlier_runs(out) if check.is_corpus(out) else []
            else:  # a damaged corpus is never built on
                check.refuse_damaged(out)
            # refuses other MinHash settings, and other rewrite settings than its codes'
            corpus = index.Index(out, cfg.dedup, fresh=reprocess, rewrite=cfg.rewrite)
            changed = [] if reprocess else check.settings_changed(out, cfg.to_dict())
            with self.stage("discover"):
                files, rejects = call(readers.discover, paths=paths, exclude=out)
            self._discovered(paths, sources, files, rejects)
            if not files and not rejects:
                if not allow_empty:
                    raise InputError(
                        f"no input found under {', '.join(sources)}: nothing to read (an empty inbox is "
                        "no error with --allow-empty, or the flow's allow_empty)"
                    )
                self.log.info("no input found: nothing to do, nothing committed")
                shutil.rmtree(staging, ignore_errors=True)
                return RunSummary(None, out, dict.fromkeys(writers.DATASETS, 0), None)
            if reprocess:
                check.refuse_foreign(out)
            if reprocess and earlier:
                missing = check.missing_inputs(check.earlier_inputs(out), files)
                if missing:
                    raise OutputError(
                        f"--reprocess replaces the corpus in {out}, but {len(missing)} inputs its runs read "
                        f"are not among this run's (e.g. {missing[0]}): their documents would be lost; give "
                        "every input folder, or write to a new --out"
                    )
            with check.damage_said(out):
                ranked = corpus.unread(files)
            unchanged = len(files) - len(ranked)
            self._say_changed(changed, unchanged)
            self.stages["config"] = {"changed": changed, "reprocess": reprocess}
            spool = str(staging / pipeline.SPOOL)
            with self.stage("prepare"):
                batches, cut = self._batches(ranked)
                results = self._prepare(batches, len(ranked), spool)
                self.executor.release()  # no more batches: the rest runs here
                sketch, parts = pipeline.join(results, spool)
                inputs = _inputs(results, cut)
                unchanged += corpus.skip_unchanged(sketch, inputs)
                with check.damage_said(out):
                    known = corpus.known_ids(sketch.doc_ids)
                id_rejects = sketch.exclude_repeated_ids(known)
            held = [s.held for s in inputs if s.held]
            rejects += self._prepared(results, len(files), unchanged, held, id_rejects, sketch)
            del results
            with self.stage("dedup"):
                self._dedup(sketch, parts, corpus, spool, staging)
            manifest = writers.build_manifest(
                run_id=run_id,
                inputs=sources,
                config=cfg.to_dict(),
                stages=self.stages,
                timings=self.timings,
                versions=_versions(),
            )
            manifest.update(labels)
            if reprocess:
                manifest["supersedes"] = earlier  # runs whose partitions this one replaces
            rejects = corpus.unreported(rejects)
            with check.damage_said(out):
                first_doc = corpus.next_doc()
            tables = index.run_tables(
                sketch, first_doc, index.input_rows(inputs, rejects), cfg.dedup, run_id, cfg.rewrite
            )
            manifest["index"] = index.record(tables, first_doc)
            manifest = call(
                pipeline.write_run,
                staging=staging,
                sketch=sketch,
                parts=parts,
                rejects=rejects,
                manifest=manifest,
                extra=tables,
                files=index.params_file(cfg.dedup, cfg.rewrite),
                replace=reprocess,
            )
        rows = manifest["rows"]
        self.log.info(
            "write: %(documents)d documents, %(passages)d passages, %(duplicates)d duplicates, %(rejects)d "
            "rejects -> %(out)s (run %(run_id)s, %(seconds).1f s in all)",
            {**rows, "out": out, "run_id": run_id, "seconds": sum(manifest["timings_seconds"].values())},
        )
        return RunSummary(run_id, out, rows, manifest["counts"], manifest)

    def _discovered(self, paths: list[Path], sources: list[str], files: list, rejects: list) -> None:
        holder = readers.output_among_inputs(paths, self.out)
        self.report(
            "discover",
            "{files} input files under {paths}, {skipped} rejected unread{inside}",
            {"files": len(files), "skipped": len(rejects), "output_inside_input": holder},
            paths=", ".join(sources),
            inside=f"; the output folder {self.out} overlaps the input {holder}: its files are not read as "
            "input"
            if holder
            else "",
        )

    def _say_changed(self, changed: list[str], unchanged: int) -> None:
        """A warning whether or not this run was given inputs read before: a day's inbox of
        new files only makes a corpus cleaned with two settings all the same."""
        if changed:
            self.log.warning(
                f"config: settings changed since the last run ({'; '.join(changed)}); "
                + (
                    f"the {unchanged} inputs read before are skipped, not cleaned again with them"
                    if unchanged
                    else "the documents of earlier runs keep what the old settings made of them"
                )
                + ": `cleaner run --reprocess` rebuilds the corpus with the new settings"
            )

    def _batches(self, ranked: list) -> tuple[list[list], list[records.Seen]]:
        """The (rank, file) pairs in batches, in input order (`batch_groups`), and a plain
        JSONL file of over `run.split_bytes` cut into ranges, a batch each
        (`readers.split_jsonl`), so that one large file keeps every worker busy. Also the
        `Seen` of each file cut, which its ranges do not make."""
        run = self.config.run
        order: list[tuple[int, records.InputFile, list | None]] = []
        cut: list[records.Seen] = []
        for rank, f in ranked:
            split = readers.split_jsonl(f, rank, run.split_bytes, self.config.read.max_record_bytes)
            order.append((rank, f, split[0] if split else None))
            if split is not None:
                cut.append(split[1])
        whole = [f for _, f, ranges in order if ranges is None]
        weights = [file_weight(f) for f in whole]
        workers = getattr(self.executor, "workers", None)
        groups = iter(batch_groups(weights, run.batch_size, run.batch_input_bytes, workers))
        batches: list[list] = []
        last = None  # the group of the last batch of whole files; None after a cut file's ranges
        for rank, f, ranges in order:
            if ranges is not None:
                batches += [[(rank, r)] for r in ranges]
                last = None
                continue
            group = next(groups)
            if group != last:
                batches.append([])
                last = group
            batches[-1].append((rank, f))
        return batches, cut

    def _prepare(self, batches: list[list], n_files: int, spool: str) -> list[pipeline.BatchResult]:
        """Each batch on a worker, in batch order, said as they finish."""
        futures = [
            self.executor.submit(pipeline.prepare_batch, number=i, files=b, config=self.config, spool=spool)
            for i, b in enumerate(batches)
        ]
        progress = Progress("prepare", n_files, len(batches), self.log.info)
        # Files done by each batch: a file read in ranges is done with its last.
        done = [sum(f.span is None or f.span.last for _, f in b) for b in batches]
        results: list = [None] * len(batches)
        for future in self.executor.as_completed(futures):
            result = future.result()
            results[result.index] = result
            progress.advance(done[result.index], result.counts["records"])
        progress.close()
        return results

    def _prepared(
        self,
        results: list,
        n_files: int,
        unchanged: int,
        held: list[str],
        id_rejects: list[Reject],
        sketch: Sketch,
    ) -> list[Reject]:
        """Say what the batches did, learn the run's boilerplate; their rejects."""
        counts = sum((r.counts for r in results), Counter())
        warc_skipped = {
            key.removeprefix(warc.SKIPPED): n
            for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if key.startswith(warc.SKIPPED)
        }
        rules = sum((r.rules for r in results), Counter())
        step_seconds = (
            {k: round(sum(r.seconds.get(k, 0.0) for r in results), 4) for k in results[0].seconds}
            if results
            else {}
        )
        read_rejects = _once([x for r in results for x in r.read_rejects]) + id_rejects
        extract_rejects = [x for r in results for x in r.extract_rejects]
        self.report(
            "prepare",
            "{batches} batches; seconds of work per step: {steps}",
            {"batches": len(results), "seconds": step_seconds},
            steps=", ".join(f"{k} {v:.2f}" for k, v in step_seconds.items()) or "none",
        )
        self.report(
            "read",
            "{files} files -> {records} records, {rejects} rejected{reasons}; "
            "{unchanged} files unchanged since an earlier run, skipped{warc}",
            {
                "files": n_files,
                "records": counts["records"],
                "rejects": len(read_rejects),
                "unchanged": unchanged,
                "warc_skipped": warc_skipped,
                "held": held,
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
        if held:
            self.log.warning(
                f"read: {len(held)} last line{'s' * (len(held) > 1)} held unread, without a line break "
                f"and not JSON yet (a file still being written, or cut): {', '.join(held[:3])}"
                f"{', ...' if len(held) > 3 else ''}; each is read when its file grows, and said again "
                "every run until then (manifest: stages.read.held)"
            )
        self.report(
            "extract",
            "{html_pages} HTML pages, {rejects} rejected{reasons}",
            {"html_pages": counts["html_pages"], "rejects": len(extract_rejects)},
            reasons=_reasons(extract_rejects),
        )
        with self.stage("learn"):
            learned = self.executor.call(learn_boilerplate, sketch=sketch, config=self.config.clean)
            rules["learned"] += learned["dropped"]
            no_content = int(sketch.no_content().sum())
        self.report(
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
        self.report("learned_boilerplate", "{lines} lines on {sites} sites, {dropped} lines removed", learned)
        return read_rejects + extract_rejects

    def _dedup(self, sketch: Sketch, parts: list, corpus: index.Index, spool: str, staging: Path) -> None:
        with check.damage_said(self.out):
            prior = corpus.prior(sketch)
        held = 0 if prior.values is None else len(prior.values)
        texts = visit.joined_texts(  # for the exact check of undecided pairs
            held, prior.signed_texts, pipeline.spool_texts(spool, sketch, parts)
        )
        stats = dedup_stage(sketch, self.config, prior, texts, self.executor, staging / "lsh").as_dict()
        stats["earlier_documents_compared"] = len(prior.doc_ids)
        self.report(
            "dedup",
            "{passages_compared} passages compared, {exact_passages} exact and {near_passages} near "
            "duplicates ({lsh_candidates_rejected} of {lsh_candidates_checked} LSH candidates rejected, "
            "{exact_checks} pairs checked on their shingles); "
            "duplicate documents: {kinds}",
            stats,
            kinds=stats["duplicate_documents"] or "none",
        )
        if self.config.rewrite.enabled:
            with check.damage_said(self.out):
                earlier = corpus.rewrite_prior(sketch)
            found = self.executor.call(
                rewrites.mark_rewrites, sketch=sketch, config=self.config.rewrite, prior=earlier
            ).as_dict()
            self.report(
                "rewrite",
                "{passages_compared} passages compared with each other and {earlier_passages} of the corpus, "
                "{documents_compared} pairs of documents aligned: {rewrite_documents} rewrites "
                "({rewrite_passages} passages restating their source's)",
                found,
            )


def _inputs(results: Sequence[pipeline.BatchResult], cut: Sequence[records.Seen]) -> list[records.Seen]:
    """The files the batches read (`Seen`), in input order, with the files read in ranges;
    less such a file a range of which could not be read (the disk failed, the file was
    replaced by a pipe): it is read again next run, as a file read whole would be."""
    failed = {x.key for r in results for x in r.read_rejects if x.key is not None}
    seen = [x for r in results for x in r.inputs] + [s for s in cut if s.path not in failed]
    return sorted(seen, key=lambda s: s.rank)


def _once(rejects: list[Reject]) -> list[Reject]:
    """The rejects, a whole file's once: a file read in ranges that the disk fails to read
    fails in each range, and is one reject, as when read whole."""
    said: set[tuple[str, str]] = set()
    once = []
    for r in rejects:
        if r.key is not None:
            if (r.key, r.reason) in said:
                continue
            said.add((r.key, r.reason))
        once.append(r)
    return once


def dedup_stage(
    sketch: Sketch,
    config: Config,
    prior: Prior | None,
    texts: Callable[[np.ndarray], list[str]] | None,
    executor: Executor,
    folder: Path,
) -> visit.DedupStats:
    """Dedup the run's sketch against `prior` (the corpus's kept passages), as a run does:
    on a large run (`run.lsh_spread_min_rows` rows with the prior's) the LSH bands are cut
    into `run.lsh_tasks` groups, found on this process's threads, or on a cluster's workers
    (`executor.remote`), each task reading its columns from the signatures' files
    (signatures held in memory are written to `folder` for them)."""
    held = 0 if prior is None or prior.values is None else len(prior.values)
    spread = None
    threads = os.cpu_count() or 1
    if held + len(sketch.sizes) >= config.run.lsh_spread_min_rows:
        if executor.remote:

            def submit(values: SignatureStore, rows: np.ndarray, bands: range) -> Any:
                return executor.submit(
                    lsh.band_group_pairs, values=values, config=config.dedup, visit=rows, bands=bands
                )

            spread = partial(lsh.spread_lsh, submit, config.run.lsh_tasks, folder)
        else:
            spread = partial(lsh.band_candidates, groups=config.run.lsh_tasks, threads=threads)
    return visit.deduplicate_sketch(sketch, config.dedup, prior, spread, texts, threads)


def learn_boilerplate(sketch: Sketch, config: CleanConfig) -> dict:
    """Learn the run's boilerplate lines per site and drop them from the sketch; the counts."""
    lines = learned.learn_boilerplate(sketch, config)
    dropped = learned.apply_learned(sketch, lines)
    return {"sites": len(lines), "lines": sum(map(len, lines.values())), "dropped": dropped}


def bundled_examples() -> Path:
    """The sample corpus's pages: package data after `pip install .`, else the checkout's
    `examples/` (an editable install maps only code)."""
    try:
        installed = Path(str(resources.files("cleaner.examples") / "pages"))
        if installed.is_dir():
            return _relative_to_cwd(installed)
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parents[2] / "examples" / "pages"
    if checkout.is_dir():
        return _relative_to_cwd(checkout)
    raise FileNotFoundError("the bundled examples/ corpus is not installed with this copy of cleaner")


def _relative_to_cwd(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _reasons(rejects: Sequence[Reject]) -> str:
    if not rejects:
        return ""
    counts = Counter(r.reason for r in rejects)
    return " (" + ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) + ")"


def _versions() -> dict[str, str]:
    found = {}
    for name in ("cleaner", "trafilatura", "datasketch", "pyarrow", "prefect"):
        with suppress(PackageNotFoundError):  # prefect: the library runs without it
            found[name] = version(name)
    return found
