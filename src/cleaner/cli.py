"""The `cleaner` command line. Parsing is kept apart from running so it can be tested, and
every deliberate error (`CleanerError`) becomes one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cleaner import __version__
from cleaner.config import load_config
from cleaner.errors import CleanerError


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
        description="Read .html/.htm, .txt, .jsonl, .warc and .parquet files, optionally gzip- or "
        "zstd-compressed (folders recursively, in sorted path order), remove boilerplate and "
        "duplicates, and write the corpus to --out. "
        "With no PATH, the bundled examples/ corpus is processed.",
    )
    run.add_argument("paths", nargs="*", metavar="PATH", help="input files or folders")
    run.add_argument("--out", default="output", metavar="DIR", help="output folder (default: output)")
    run.add_argument("--config", metavar="FILE", help="TOML configuration file")
    run.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="processes that read, extract and clean batches (default: one per core)",
    )
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the tasks on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 "
        "(default: a process pool on this machine)",
    )
    columns = run.add_argument_group("Parquet inputs", "the columns records are read from")
    for name in ("text", "html", "url", "id", "title", "published"):
        columns.add_argument(
            f"--{name}-column", dest=f"{name}_column", metavar="NAME", help=f"default: {name}"
        )
    _add_report_and_inspect(commands)
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
    which.add_argument("--doc", metavar="ID", help="a doc_id of documents/ or duplicates/")
    which.add_argument(
        "--cluster", metavar="ID", help="the doc_id of the kept document (or of one of its duplicates)"
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
    except CleanerError as exc:
        print(f"cleaner: error: {exc}", file=sys.stderr)
        return 2
    return 0


# The module of the flow's tasks: a worker imports it to run its first one.
FLOW_MODULE = "cleaner_flows.clean_corpus"


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # fail on a bad setting before Prefect starts
    columns = {k: v for k, v in vars(args).items() if k.endswith("_column") and v is not None}
    if columns:
        config = dataclasses.replace(config, read=dataclasses.replace(config.read, **columns))
    if args.dask and args.workers:
        raise CleanerError(
            "--workers sets the local process pool; with --dask the cluster's workers run the tasks"
        )
    for path in args.paths:
        if not Path(path).exists():
            raise CleanerError(f"input path does not exist: {path}")
    from cleaner.readers import source_of  # the flow's paths are JSON text
    from cleaner.runtime import prefect_api, prefect_defaults, start_prefect_api

    prefect_defaults()
    # On a terminal the stage summaries are what matters; a line per finished batch task
    # buries them. Task failures are warnings and errors, and still show.
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "WARNING")
    server = start_prefect_api()  # it starts while the flow's modules are imported
    # The workers start now too, and warm up while the server starts (with --dask the
    # cluster's workers run the tasks instead).
    pool = None
    if not args.dask:
        from cleaner.pool import EagerProcessPool

        pool = EagerProcessPool(args.workers, warm=(FLOW_MODULE,)).start()
    try:
        from cleaner_flows.clean_corpus import clean_corpus

        if pool is not None:
            clean_corpus = clean_corpus.with_options(task_runner=pool)
        with prefect_api(server):
            summary = clean_corpus(
                paths=[source_of(p) for p in args.paths] or None,
                out=args.out,
                config=config.to_dict(),
                dask=args.dask,
            )
    finally:
        if pool is not None:
            pool.close()
    counts = summary["counts"]
    print(
        f"\n{counts['documents']} documents, {counts['duplicate_documents']} duplicate documents, "
        f"{counts['rejects']} rejects, {counts['passages']} passages "
        f"({', '.join(f'{k} {v}' for k, v in counts['passages_by_status'].items())})\n"
        f"corpus written to {summary['out']}/ (run {summary['run_id']})"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from cleaner.report import write_report

    print(f"report written to {write_report(args.corpus, args.out, args.run)}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from cleaner import inspect

    colour = inspect.use_colour(args.no_color)
    try:
        if args.doc:
            inspect.show_document(args.corpus, args.doc, colour=colour)
        else:
            inspect.show_cluster(args.corpus, args.cluster, colour=colour, width=args.width)
        sys.stdout.flush()
    except BrokenPipeError:  # piped into head: stop quietly, as other commands do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number
