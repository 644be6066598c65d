"""The `cleaner` command line: `cleaner run` runs the Prefect flow on a temporary server;
`check`, `report` and `inspect` call the library. Parsing is kept apart from running so it
can be tested, and every deliberate error (`CleanerError`) becomes one line on stderr and
exit status 2."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from cleaner import __version__
from cleaner.config import load_config
from cleaner.errors import CleanerError
from cleaner.interrupt import Interrupted, say, stop_signals


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cleaner",
        description="Turn scraped news pages into a clean, deduplicated Parquet corpus.",
    )
    parser.add_argument("--version", action="version", version=f"cleaner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="clean and deduplicate pages into a Parquet corpus",
        description="Read .html/.htm, .txt, .jsonl, .warc and .parquet files, all but .parquet "
        "optionally gzip- or zstd-compressed (folders recursively, in sorted path order), remove boilerplate and "
        "duplicates, and write the corpus to --out. "
        "With no PATH, the bundled examples/ corpus is processed.",
    )
    run.add_argument("paths", nargs="*", metavar="PATH", help="input files or folders")
    run.add_argument(
        "--out", default="output", type=_folder, metavar="DIR", help="output folder (default: output)"
    )
    run.add_argument("--config", metavar="FILE", help="TOML configuration file")
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="no input under the PATHs is no error: commit nothing and exit 0 (a scheduled run's empty inbox)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="processes that read, extract and clean batches, at most (default: one per core; "
        "never more than the run has batches)",
    )
    run.add_argument(
        "--dask",
        type=_dask_address,
        metavar="ADDRESS",
        help="run the tasks on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
        "(default: a process pool on this machine)",
    )
    run.add_argument(
        "--reprocess",
        action="store_true",
        help="read every input again, those earlier runs read too, and replace the corpus in --out "
        "with the result (after a change of settings); every input the corpus holds must be given",
    )
    columns = run.add_argument_group("Parquet inputs", "the columns records are read from")
    for name in ("text", "html", "url", "id", "title", "published"):
        columns.add_argument(
            f"--{name}-column", dest=f"{name}_column", metavar="NAME", help=f"default: {name}"
        )
    _add_report_and_inspect(commands)
    check = commands.add_parser(
        "check",
        help="verify a corpus against its own records, and repair what can be",
        description="Check that every committed run's partitions are present and readable with the rows "
        "its manifest records, the dedup index agrees with documents/, its settings are recorded and no "
        "duplicate_of points nowhere. Exits 0 when the corpus is healthy, 1 when it is not, 2 when DIR "
        "holds no corpus.",
    )
    check.add_argument("corpus", metavar="DIR", help="a corpus folder (the --out of cleaner run)")
    check.add_argument(
        "--repair",
        action="store_true",
        help="rebuild what the corpus holds enough to rebuild (the index, manifests, settings), then check",
    )
    return parser


def _add_report_and_inspect(commands) -> None:
    report = commands.add_parser(
        "report",
        help="write an HTML page of plots about a corpus",
        description="Write one self-contained HTML file (it needs no network) with plots of a corpus: "
        "passages by status, boilerplate per rule, duplicate clusters, similarities, duplicates per "
        "site, documents over time and time per stage.",
    )
    report.add_argument("corpus", metavar="DIR", help="a corpus folder (the --out of cleaner run)")
    report.add_argument("--out", metavar="FILE", help="the HTML file to write (default: DIR/report.html)")
    report.add_argument("--run", metavar="ID", help="only this run (default: every run)")
    inspect = commands.add_parser(
        "inspect",
        help="show a document's removals, or a duplicate cluster side by side",
        description="Print a document with each removed line marked by its rule and each duplicate "
        "passage with the passage it repeats (--doc), or the documents of a duplicate cluster side by "
        "side with the words that differ marked (--cluster).",
    )
    inspect.add_argument("corpus", metavar="DIR", help="a corpus folder (the --out of cleaner run)")
    which = inspect.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--doc", metavar="ID", help="a doc_id of documents/ or duplicates/, or a document's source or url"
    )
    which.add_argument(
        "--cluster",
        metavar="ID",
        help="the doc_id of the kept document (or of one of its duplicates), or its source or url",
    )
    inspect.add_argument("--no-color", action="store_true", help="plain [-deleted-] {+added+} markers")
    inspect.add_argument(
        "--width",
        type=_positive_int,
        metavar="N",
        help="columns of --cluster output (default: the terminal's)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            return _report(args)
        if args.command == "inspect":
            return _inspect(args)
        if args.command == "check":
            return _check(args)
    except CleanerError as exc:
        print(f"cleaner: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as exc:  # outside a run: nothing to undo
        return exc.exit_status
    except KeyboardInterrupt:  # Ctrl-C outside a run's own handling (check, report, inspect)
        say(f"cleaner: stopped by SIGINT{_state_after_stop(args)}")
        return 128 + signal.SIGINT
    except BrokenPipeError:  # piped into a reader that stopped (head, grep -q): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except Exception as exc:  # a bug: one line, and the traceback where it can be read
        log = _traceback_log(exc)
        print(f"cleaner: unexpected error: {type(exc).__name__}: {exc} (traceback in {log})", file=sys.stderr)
        return 1
    return 0


def _state_after_stop(args: argparse.Namespace) -> str:
    """What became of the corpus a command was stopped on, when it matters: a commit (a
    repair's, or an earlier run's that this command was finishing) left half done."""
    from cleaner.corpus import writers

    folder = getattr(args, "out", None) if args.command == "run" else getattr(args, "corpus", None)
    if not folder or not Path(folder).is_dir():
        return ""
    if writers.commit_pending(folder):
        return f": a commit to {folder} is half done; `cleaner check {folder} --repair` or the next run finishes it"
    return ""


def _traceback_log(exc: BaseException) -> str:
    import tempfile
    import traceback
    from datetime import UTC, datetime

    fd, path = tempfile.mkstemp(prefix=f"cleaner-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"cleaner {__version__}: {' '.join(sys.argv)}\n\n")
        fh.write("".join(traceback.format_exception(exc)))
    return path


# The module of the flow's tasks: a worker imports it to run its first one.
FLOW_MODULE = "cleaner_flows.clean_corpus"
# After Ctrl-C or SIGTERM, how long the run may take to unwind before the command ends it.
GRACE_SECONDS = 5.0


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # fail on a bad setting before Prefect starts
    columns = {k: v for k, v in vars(args).items() if k.endswith("_column") and v is not None}
    if columns:
        config = dataclasses.replace(config, read=dataclasses.replace(config.read, **columns))
    if args.dask and args.workers:
        raise CleanerError(
            "--workers sets the local process pool; with --dask the cluster's workers run the tasks"
        )
    from cleaner.corpus import preflight
    from cleaner.io.readers import check_input_paths

    check_input_paths(args.paths, args.out)  # `cleaner run "$INBOX"` with INBOX unset is an error too

    preflight.check_output(args.out, config, args.reprocess)  # the output folder can take this run
    from cleaner.corpus import writers
    from cleaner.io.records import source_of  # the flow's paths are JSON text
    from cleaner_flows.server import prefect_api, prefect_defaults, start_prefect_api

    committed_before = writers.committed_runs(args.out)
    server = pool = None  # started below, under the signal handlers

    def stopped(signum: int, waited: bool) -> str:
        """Stop the workers, settle the corpus; the line to say. (The server stops as the
        process exits, once Prefect has sent it what it holds.)"""
        if pool is not None:
            pool.kill()
        writers.settle(args.out)
        new = sorted(writers.committed_runs(args.out) - committed_before)
        if writers.commit_pending(args.out):
            state = f"the run was committing to {args.out}; the next run completes its commit"
        elif new:
            state = f"run {new[0]} was committed to {args.out}"
        else:
            state = f"{args.out} is as it was"
        late = f", after waiting {GRACE_SECONDS:g} s for the run to stop" if waited else ""
        return f"cleaner: stopped by {signal.Signals(signum).name}{late}: {state}"

    def give_up(signum: int) -> None:
        say(stopped(signum, waited=True))
        if server is not None:
            server.stop()
        os._exit(128 + signum)

    # Said at once: Prefect's server and the workers take seconds to start.
    shown = ", ".join(args.paths) or "the bundled examples"
    print(f"cleaner: cleaning {shown} into {args.out}/", flush=True)
    prefect_defaults()
    # On a terminal the stage summaries are what matters; a line per finished batch task
    # buries them, and a task's failure ends the run, which the command then says in one line
    # (with its traceback in a log file): the tasks' own lines would say it again, traceback
    # and all. Their warnings (a page's extraction that took too long) are logged by the flow.
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "CRITICAL")
    # trafilatura warns of each page whose text it discards ("discarding data: None"), which
    # the run records as a reject with its reason; set before the workers fork, they keep it.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    # Prefect's events worker, flushing at exit, warned "Still processing items: 1 items
    # remaining..." after the command's last line, an error's one line included.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
    try:
        # from the first second: a Ctrl-C while Prefect starts was a page of traceback
        with stop_signals(give_up, GRACE_SECONDS) as stopper:
            server = start_prefect_api()  # it starts while the flow's modules are imported
            # The workers start now too, and warm up while the server starts (with --dask the
            # cluster's workers run the tasks instead).
            if not args.dask:
                from cleaner.runner import bundled_examples, workers_for
                from cleaner_flows.pool import EagerProcessPool

                # As many workers as cores (or as asked for), or as batches if fewer: a day's
                # single file needs one.
                workers = workers_for(args.paths or [bundled_examples()], args.out, config, most=args.workers)
                pool = EagerProcessPool(workers, warm=(FLOW_MODULE,)).start()
            if server is not None:  # stopped under the run (a SIGTERM to every process)
                server.watch(lambda status: stopper.trigger(-status if status < 0 else signal.SIGTERM))
            from cleaner_flows import clean_corpus as flow_module

            flow_module.QUIET_FAILURES = True  # errors are said below, in one line
            clean_corpus = flow_module.clean_corpus
            if pool is not None:
                clean_corpus = clean_corpus.with_options(task_runner=pool)
            logging.getLogger("prefect.flow_runs").addFilter(_FlowRunLines(links=server is None))
            with prefect_api(server):
                summary = clean_corpus(
                    paths=[source_of(p) for p in args.paths] or None,
                    out=args.out,
                    config=config.to_dict(),
                    dask=args.dask,
                    allow_empty=args.allow_empty,
                    reprocess=args.reprocess,
                )
    except Interrupted as exc:
        say(stopped(exc.signum, waited=False))
        return exc.exit_status
    finally:
        if pool is not None:
            pool.close()
    counts = summary["counts"]
    if counts is None:  # no input, and allowed
        print(f"\nno input found: nothing committed to {summary['out']}/")
        return 0
    total = writers.corpus_totals(summary["out"])
    print(
        f"\nthis run: {counts['documents']} documents, {counts['duplicate_documents']} duplicate documents, "
        f"{counts['rejects']} rejects, {counts['passages']} passages "
        f"({', '.join(f'{k} {v}' for k, v in counts['passages_by_status'].items())})\n"
        f"the corpus: {total['documents']} documents, {total['duplicate_documents']} duplicate documents, "
        f"{total['rejects']} rejects in {total['runs']} run{'s' if total['runs'] != 1 else ''}\n"
        f"written to {summary['out']}/ (run {summary['run_id']})"
    )
    return 0


class _FlowRunLines(logging.Filter):
    """Prefect's lines the command says better itself: a failed or crashed run's state (the
    command says its error once, or that it was stopped by Ctrl-C or SIGTERM and what became
    of the corpus), and, with a temporary server (which has no UI, and is gone after the
    run), the "View at <url>" link."""

    def __init__(self, links: bool) -> None:
        super().__init__()
        self.links = links

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (
            message.startswith(("Finished in state Failed(", "Finished in state Crashed(", "Crash detected!"))
            or (not self.links and message.startswith("View at "))
        )


def _check(args: argparse.Namespace) -> int:
    from cleaner.corpus import check, writers

    out = Path(args.corpus)
    if not check.is_corpus(out):
        raise CleanerError(f"{out} holds no cleaner corpus: give the --out folder of a run")
    if args.repair:
        for done in check.repair(out):
            print(f"repaired: {done}")
    with writers.locked_to_read(out):  # a run committing meanwhile is not damage
        found = check.problems(out, deep=True)
        if not found:
            print(f"{out}: healthy: {check.summary(out)}")
            return 0
    print(f"{out}: {len(found)} problem{'s' if len(found) > 1 else ''}")
    for problem in found:
        print(f"- {problem}")
    if any(p.fix for p in found):
        print(f"`cleaner check {out} --repair` repairs what can be repaired")
    if any(not p.fix and not check.is_stray(p) for p in found):
        print(
            "what cannot be repaired is lost from the corpus: restore it from a backup, rebuild the corpus "
            f"from its inputs (`cleaner run INPUTS --out {out} --reprocess`), or write to a new --out"
        )
    return 1


def _report(args: argparse.Namespace) -> int:
    from cleaner.report import write_report

    print(f"report written to {write_report(args.corpus, args.out, args.run)}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from cleaner import explain

    colour = explain.use_colour(args.no_color)
    try:
        if args.doc is not None:  # "" is an id to look for and not find, not no --doc
            explain.show_document(args.corpus, args.doc, colour=colour)
        else:
            explain.show_cluster(args.corpus, args.cluster, colour=colour, width=args.width)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: stop quietly, as other commands do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _folder(value: str) -> str:
    """A folder's path: an empty one (`--out "$UNSET"`) is no folder, not the current one."""
    if not value.strip():
        raise argparse.ArgumentTypeError("expected a folder, got an empty path")
    return value


def _dask_address(value: str) -> str:
    """A Dask scheduler's address, checked as Dask parses it, before Prefect starts: a
    malformed one ended the run as an unexpected error once the flow had begun."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(value)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (an address is like tcp://10.0.0.5:8786)") from None
    return value


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number
