"""`cleaner check`: a corpus verified against its own records, and repaired where it can be.

A corpus says what it should hold: each committed run's manifest (`runs/<id>.json`) records
the rows it wrote to each dataset and to the index, `index/params.json` the MinHash settings
the index was made with, `index/rewrite.json` the rewrite stage's (when runs had it on),
`manifest.json` the latest run. Damage (a deleted folder, a truncated file, a garbage
manifest) must stop a run before it builds on it: a run on a corpus without its index would
miss every duplicate of it and read old inputs again, one without its params would take any
settings, one missing a partition would go on as if it were there (without a partition of
`index/rewrites`, it would miss every rewrite of that run's documents).

`problems(out)` is the cheap part, which every `cleaner run` does before any work: folder
listings, manifests, the settings files and Parquet footers (row counts, columns), no data.
With `deep=True` (`cleaner check`) it also reads every file through, and checks the index
against `documents/` and `passages/` (the texts a later run signs its passages from, and the
band keys computed again from them, as a repair would; each
embedded passage of `index/rewrites` a kept passage of a document of the run), doc ids for
repeats and every `duplicate_of` for a document it points at.

`repair(out)` rebuilds what the corpus holds enough to rebuild: `manifest.json` from
`runs/`, a run's record from `manifest.json` or, when lost, from its partitions (row counts;
its configuration is gone), `index/params.json` and `index/rewrite.json` from the runs'
recorded configuration, the index's documents and passages from `documents/` and
`passages/` (the band keys computed again from the text with the corpus's settings: the very
rows the runs wrote; so also an index in an earlier cleaner's layout, which a run does not
read), the embedded passages of `index/rewrites` likewise, each run's kept passages embedded
again (the codes are the exact output of a deterministic model: the very rows, byte for
byte), whenever they or the documents' numbering are rebuilt, and each copy of the inputs
read (`index/inputs`, `runs/<id>.inputs.parquet`) from the other. Lost
rows of the datasets themselves cannot be made up: restore them, or rebuild the corpus from
its inputs (`cleaner run INPUTS --out DIR --reprocess`, or into a new --out). Until they are
restored, the index is neither checked against them nor rebuilt: it is the only record left
of what they held.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleaner.config import DedupConfig, RewriteConfig
from cleaner.corpus import index, writers
from cleaner.dedup import embed
from cleaner.document import Status
from cleaner.errors import ConfigError, OutputError, first_line
from cleaner.io.records import path_of_source
from cleaner.text import fingerprints

INDEX_DATASETS = ("index/documents", "index/passages", "index/inputs", "index/rewrites")
_REBUILD = "rebuilt from documents/ and passages/"
_REEMBED = "re-embedded from documents/ and passages/ with the corpus's rewrite settings"
_REWRITE_JSON = f"{index.INDEX}/{index.REWRITE_FILE}"
_FINISH = "finished from its journal, as the next run would"
_UNREADABLE_JOURNAL = "(unreadable journal)"
_UNREADABLE = " cannot be read ("  # after a file's name, in a problem with it
_EARLIER = (
    "index/passages/ is in the layout of an earlier cleaner (a signature stored per passage), which this "
    "one does not read"
)


@dataclass(frozen=True)
class Problem:
    what: str  # the damage, in plain words
    fix: str | None = None  # what `repair` does about it; None when it cannot

    def __str__(self) -> str:
        return self.what + (f" (--repair: {self.fix})" if self.fix else " (cannot be repaired)")


@dataclass
class _Corpus:
    """What a corpus folder holds, read without reading any data."""

    out: Path
    manifest: dict | None = None  # manifest.json
    manifest_error: str | None = None
    runs: dict[str, dict] = field(default_factory=dict)  # run id -> its manifest in runs/
    run_errors: dict[str, str] = field(default_factory=dict)  # file name -> why it is unreadable
    runs_folder: bool = False
    partitions: dict[str, dict[str, Path]] = field(default_factory=dict)  # dataset -> run id -> folder
    pending: str | None = None  # the run id of a commit left half done
    replacing: bool = False  # that commit retires the runs' files (a reprocess)

    @property
    def latest(self) -> dict | None:
        """The latest run's manifest: manifest.json, else the newest in runs/."""
        if self.manifest is not None:
            return self.manifest
        return self.runs[max(self.runs)] if self.runs else None

    @property
    def indexed(self) -> bool:
        """Whether runs recorded an index (corpora written by a `writers.CorpusWriter` alone
        have none)."""
        return any("index" in m for m in self.runs.values()) or (self.out / index.INDEX).exists()

    def order(self) -> list[str]:
        """Committed runs in the order they committed: by their index's first document
        number where recorded, else by id (which starts with the time)."""

        def key(run_id: str):
            first = self.runs[run_id].get("index", {}).get("first_doc")
            return (first is None, first or 0, run_id)

        return sorted(self.runs, key=key)


def read_corpus(out: str | Path) -> _Corpus:
    out = Path(out)
    corpus = _Corpus(out)
    journal = out / writers.JOURNAL
    if journal.exists():
        try:
            record = json.loads(journal.read_text())
            corpus.pending = record["run_id"] or "(repair)"
            corpus.replacing = bool(record.get("retire"))
        except (OSError, ValueError, KeyError):
            corpus.pending = _UNREADABLE_JOURNAL
    if (out / writers.MANIFEST).exists():
        try:
            corpus.manifest = writers.read_manifest(out / writers.MANIFEST)
        except OutputError:
            corpus.manifest_error = _json_error(out / writers.MANIFEST)
    runs = out / writers.RUNS
    corpus.runs_folder = runs.is_dir()
    for path in sorted(runs.glob("*.json")) if corpus.runs_folder else []:
        try:
            manifest = writers.read_manifest(path)
        except OutputError:
            corpus.run_errors[path.name] = _json_error(path)
            continue
        if manifest["run_id"] != path.stem:
            corpus.run_errors[path.name] = f"it is the manifest of run {manifest['run_id']}"
            continue
        corpus.runs[path.stem] = manifest
    for name in (*writers.DATASETS, *INDEX_DATASETS):
        folder = out / name
        found = {}
        if folder.is_dir():
            for child in sorted(folder.iterdir()):
                if child.name.startswith("run=") and child.is_dir():
                    found[child.name.removeprefix("run=")] = child
        corpus.partitions[name] = found
    return corpus


def _json_error(path: Path) -> str:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return "it is not text"
    except ValueError as exc:
        return f"it is not JSON: {exc}"
    except OSError as exc:
        return exc.strerror or str(exc)
    return "it is not a cleaner manifest"


def is_corpus(out: str | Path) -> bool:
    """Whether `out` holds anything of a corpus (else a run starts a new one there)."""
    out = Path(out)
    # a journal alone: the first run's commit, interrupted before its first move
    names = (writers.MANIFEST, writers.RUNS, writers.JOURNAL, index.INDEX, *writers.DATASETS)
    return out.is_dir() and any((out / name).exists() for name in names)


# -- the checks ----------------------------------------------------------------------------


def problems(out: str | Path, deep: bool = False, reading: bool = False) -> list[Problem]:
    """What is wrong with the corpus in `out`, checked against its own records; [] when it
    is healthy or not a corpus yet. `deep` also reads all data (`cleaner check`). For a
    command that only reads the committed runs (`reading`), a commit under way hides no
    damage of theirs."""
    if not is_corpus(out):
        return []
    corpus = read_corpus(out)
    found = _records(corpus) + _strays(corpus)
    if corpus.pending and corpus.pending != _UNREADABLE_JOURNAL and not reading:
        # half moved: what looks missing is in the staging folder, and finishing the commit
        # (which `repair` and the next run do first) puts it in place; checked after that
        return found[:1]
    found += _partitions(corpus)
    found += _params(corpus)
    found += _rewrite_file(corpus)
    # The data is read whole once no stray file is in its folders (they are read as Parquet);
    # a file whose footer is damaged is said once, by the cheap check.
    if deep and not any(is_stray(p) for p in found):
        said = {p.what.split(_UNREADABLE)[0] for p in found if _UNREADABLE in p.what}
        found += [p for p in _data(corpus) if p.what.split(_UNREADABLE)[0] not in said]
    lost = _lost_data(corpus)
    if lost:  # the index is rebuilt from the data: not while part of it is lost
        found = [
            dataclasses.replace(p, what=f"{p.what}; {_after_restoring(lost)}", fix=None)
            if p.fix in (_REBUILD, _REEMBED)
            else p
            for p in found
        ]
    return found


_STRAY = "is no file of a run, in a dataset's folder, where every reader of the dataset fails on it"
_MOVE_IT = "move it out of the corpus's folders"


def is_stray(problem: Problem) -> bool:
    """Whether a problem is a file no run wrote, which the user moves away (`_strays`)."""
    return _STRAY in problem.what


def _strays(corpus: _Corpus) -> list[Problem]:
    """Files no run wrote in a dataset's folder or in one of its partitions (notes, a report
    written there): `report`, `inspect`, pyarrow and DuckDB read the folder as Parquet and
    fail on them. Parquet files beside the partitions are said as a corpus of schema 1;
    hidden names (".DS_Store", a writer's temporary file) are not counted."""

    def passed(entry: Path) -> bool:
        return entry.name.startswith(".") or (entry.is_file() and entry.suffix == ".parquet")

    strays = []
    for name in (*writers.DATASETS, *INDEX_DATASETS):
        folder = corpus.out / name
        for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
            if entry.is_dir() and entry.name.startswith("run="):
                strays += [inner for inner in sorted(entry.iterdir()) if not passed(inner)]
            elif not passed(entry):
                strays.append(entry)
    return [Problem(f"{_rel(path)} {_STRAY}: {_MOVE_IT}") for path in strays]


def _lost_data(corpus: _Corpus) -> list[str]:
    """The runs whose `documents/` or `passages/` partition is missing although the run
    wrote rows there. The index of such a run is the only record left of what it held: it is
    not checked against the data nor rebuilt from it (a rebuild would drop it and number the
    later runs' documents anew) until the partition is restored."""
    return [
        run_id
        for run_id in corpus.order()
        if any(
            corpus.runs[run_id].get("rows", {}).get(name) and run_id not in corpus.partitions.get(name, {})
            for name in ("documents", "passages")
        )
    ]


def _after_restoring(lost: list[str]) -> str:
    return f"--repair rebuilds the index once the lost partitions of run {lost[0]} are restored"


def _records(corpus: _Corpus) -> list[Problem]:
    found = []
    if corpus.pending == _UNREADABLE_JOURNAL:
        found.append(Problem(writers.unreadable_journal(corpus.out)))
    elif corpus.pending:
        found.append(
            Problem(
                f"the commit of run {corpus.pending} was interrupted ({writers.JOURNAL} is left)",
                _FINISH,
            )
        )
    has_runs = bool(corpus.runs)
    if corpus.manifest_error:
        fix = "copied from the latest of runs/" if has_runs else None
        found.append(Problem(f"{writers.MANIFEST} cannot be read: {corpus.manifest_error}", fix))
    elif corpus.manifest is None and (has_runs or _any_partition(corpus)):
        found.append(
            Problem(f"{writers.MANIFEST} is missing", "copied from the latest of runs/" if has_runs else None)
        )
    version = (corpus.latest or {}).get("schema_version")
    if corpus.latest is not None and version != writers.SCHEMA_VERSION:
        found.append(
            Problem(
                f"the corpus is of schema version {version}; this cleaner reads and writes version "
                f"{writers.SCHEMA_VERSION}"
            )
        )
    loose = writers.loose_files(corpus.out)
    if loose:
        found.append(
            Problem(
                f"{_rel(loose[0])} lies outside every run's partition ({len(loose)} such file"
                f"{'s' * (len(loose) > 1)}): a corpus of schema version 1 (one file per dataset), or "
                "a file put there by hand; runs refuse the folder and readers of the dataset would "
                "count its rows with the runs'"
            )
        )
    for name, reason in corpus.run_errors.items():
        run_id = name.removesuffix(".json")
        found.append(Problem(f"{writers.RUNS}/{name} cannot be read: {reason}", _record_fix(corpus, run_id)))
    if not corpus.runs_folder and (corpus.manifest is not None or _any_partition(corpus)):
        found.append(
            Problem(
                f"{writers.RUNS}/ is missing: no run's record is left",
                "each run's record rebuilt: the latest from manifest.json, the others from their "
                "partitions (their row counts; their configuration is lost)",
            )
        )
        return found
    latest = corpus.manifest["run_id"] if corpus.manifest else None
    unreadable = {name.removesuffix(".json") for name in corpus.run_errors}
    if _stranger(corpus):
        found.append(
            Problem(
                f"{writers.MANIFEST} names run {latest}, which wrote rows but left no partition here: it is "
                "another corpus's manifest, or damaged",
                "copied from the latest of runs/" if corpus.runs else None,
            )
        )
    elif latest is not None and latest not in corpus.runs and latest not in unreadable:
        found.append(Problem(f"{writers.RUNS}/{latest}.json is missing", "copied from manifest.json"))
    elif not unreadable and _older(corpus):
        found.append(
            Problem(
                f"{writers.MANIFEST} is the record of run {latest}, not of the latest run, "
                f"{corpus.order()[-1]} (an older copy put back?)",
                "copied from the latest of runs/",
            )
        )
    partitioned = {run_id for runs in corpus.partitions.values() for run_id in runs}
    for run_id in sorted(partitioned - set(corpus.runs) - unreadable - {latest, corpus.pending}):
        where = ", ".join(f"{name}/" for name, runs in corpus.partitions.items() if run_id in runs)
        found.append(
            Problem(
                f"run {run_id} has partitions ({where}) but no record in {writers.RUNS}/",
                "its record rebuilt from its partitions (row counts; its configuration is lost)",
            )
        )
    return found


def _stranger(corpus: _Corpus) -> bool:
    """Whether `manifest.json` names a run the corpus has no record of and no partition of,
    though that run wrote rows: a manifest copied from another corpus. Taken for this one's,
    a repair recorded that run and then found all its rows missing, past repairing."""
    manifest = corpus.manifest
    if manifest is None or manifest["run_id"] in corpus.runs:
        return False
    partitioned = any(manifest["run_id"] in runs for runs in corpus.partitions.values())
    return not partitioned and any((manifest.get("rows") or {}).values())


def _older(corpus: _Corpus) -> bool:
    """Whether `manifest.json` is the record of a run of the corpus other than its latest."""
    manifest = corpus.manifest
    return (
        manifest is not None
        and manifest["run_id"] in corpus.runs
        and manifest["run_id"] != corpus.order()[-1]
    )


def _record_fix(corpus: _Corpus, run_id: str) -> str:
    if corpus.manifest is not None and corpus.manifest["run_id"] == run_id:
        return "copied from manifest.json"
    return "rebuilt from its partitions (row counts; its configuration is lost)"


def _any_partition(corpus: _Corpus) -> bool:
    return any(corpus.partitions.values())


def _partitions(corpus: _Corpus) -> list[Problem]:
    """Every committed run's partitions present, readable, with the rows it recorded."""
    found = []
    index_missing = corpus.indexed and corpus.runs and not (corpus.out / index.INDEX).is_dir()
    if index_missing:
        rewrites = f"; index/rewrites {_REEMBED}" if _rewrite_on(corpus) else ""
        found.append(
            Problem(
                f"{index.INDEX}/ is missing: a run would read the inputs read before again and miss "
                "every duplicate of the corpus's documents",
                f"{_REBUILD}, the inputs read from {writers.RUNS}/*.inputs.parquet{rewrites}",
            )
        )
    params = _runs_params(corpus)
    rewrite = _rewrite_params(corpus)
    for run_id in corpus.order():
        manifest = corpus.runs[run_id]
        expected = dict(manifest.get("rows", {}))
        recorded_index = manifest.get("index")
        if recorded_index is not None and not index_missing:
            expected.update({f"index/{k}": v for k, v in recorded_index.items() if k != "first_doc"})
        for name, rows in expected.items():
            if name not in corpus.partitions:
                continue
            folder = corpus.out / name / f"run={run_id}"
            fix = _fix_of(name, corpus, run_id)
            if not folder.is_dir():
                if rows:
                    found.append(
                        Problem(f"{name}/run={run_id}/ is missing: run {run_id} wrote {rows} rows there", fix)
                    )
                continue
            count, damage = _footers(folder, _columns(name, params, rewrite))
            if damage == _EARLIER:
                if not any(p.what == _EARLIER for p in found):
                    found.append(Problem(_EARLIER, fix))
            elif damage:
                found.append(Problem(f"{damage}", fix))
            elif count != rows:
                found.append(
                    Problem(f"{name}/run={run_id}/ holds {count} rows; run {run_id} wrote {rows}", fix)
                )
        if recorded_index is not None:
            sidecar = corpus.out / index.inputs_file(run_id)
            fix = _fix_of("sidecar", corpus, run_id)
            if not sidecar.exists():
                found.append(Problem(f"{index.inputs_file(run_id)} is missing", fix))
            else:
                count, damage = _footers(sidecar, index.INPUTS_SCHEMA.names)
                if damage:
                    found.append(Problem(damage, fix))
                elif count != recorded_index.get("inputs", count):
                    found.append(
                        Problem(
                            f"{index.inputs_file(run_id)} holds {count} rows; run {run_id} read {recorded_index['inputs']}",
                            fix,
                        )
                    )
    return found


def _fix_of(name: str, corpus: _Corpus, run_id: str) -> str | None:
    if name in ("index/documents", "index/passages"):
        return _REBUILD
    if name == "index/rewrites":
        return _REEMBED if _rewrite_params(corpus) else None
    if name == "index/inputs":
        if (corpus.out / index.inputs_file(run_id)).exists():
            return f"copied from {index.inputs_file(run_id)}"
        return _FORGET
    if name == "sidecar":
        return (
            f"copied from index/inputs/run={run_id}/"
            if (corpus.out / "index/inputs" / f"run={run_id}").is_dir()
            else _FORGET
        )
    return None  # the datasets' rows exist nowhere else


_FORGET = (
    "recorded as lost: the next run reads that run's inputs again where it finds them, and rejects "
    "their records already in the corpus as duplicate_id"
)


def _columns(name: str, params: dict | None, rewrite: dict | None = None) -> list[str] | pa.Schema | None:
    if name in writers.SCHEMAS:
        return writers.SCHEMAS[name].names
    if name == "index/inputs":
        return index.INPUTS_SCHEMA.names
    if name == "index/rewrites":  # the width of its codes and keys too
        return index.rewrites_schema(index.rewrite_config(rewrite)) if rewrite else None
    if params is None:
        return None
    try:
        return index.schemas(_dedup(params))[name.removeprefix("index/")].names
    except (ConfigError, TypeError):  # settings no cleaner would write: the params check says so
        return None


def _footers(where: Path, columns: list[str] | pa.Schema | None) -> tuple[int, str | None]:
    """Rows in the Parquet files of a partition (or one file) by their footers, or what is
    wrong with one of them. `columns` are the names it must have, or a schema: its names and
    types."""
    files = sorted(where.glob("*.parquet")) if where.is_dir() else [where]
    typed = isinstance(columns, pa.Schema)
    if typed:
        columns = _typed(columns)
    rows = 0
    for path in files:
        try:
            meta = pq.read_metadata(path)
        except Exception as exc:  # pyarrow's errors for a cut or foreign file vary
            return rows, f"{_rel(path)} cannot be read ({first_line(exc, 160)}): truncated or damaged"
        schema = meta.schema.to_arrow_schema()
        names = _typed(schema) if typed else schema.names
        if columns is not None and names != columns and index.earlier_layout(names):
            return rows, _EARLIER
        if columns is not None and names != columns:
            return rows, f"{_rel(path)} has the columns {names}, not the corpus's {columns}"
        rows += meta.num_rows
    return rows, None


def _typed(schema: pa.Schema) -> list[str]:
    return [f"{f.name}: {f.type}" for f in schema]


def _rel(path: Path) -> str:
    """A corpus file by its path inside the corpus (dataset/run=<id>/file, runs/file)."""
    parts = path.parts
    for i, part in enumerate(parts):
        if part in (*writers.DATASETS, index.INDEX, writers.RUNS) and i >= len(parts) - 4:
            return "/".join(parts[i:])
    return str(path)


def _runs_params(corpus: _Corpus) -> dict | None:
    """The MinHash settings the runs recorded (the latest with a configuration)."""
    for run_id in reversed(corpus.order()):
        dedup = corpus.runs[run_id].get("config", {}).get("dedup")
        if dedup:
            return {k: dedup[k] for k in index.PARAMS if k in dedup}
    dedup = (corpus.manifest or {}).get("config", {}).get("dedup")
    return {k: dedup[k] for k in index.PARAMS if k in dedup} if dedup else None


def _dedup(params: dict) -> DedupConfig:
    return DedupConfig(**params)


def _params(corpus: _Corpus) -> list[Problem]:
    if not corpus.indexed or not corpus.runs:
        return []

    def read(path: Path) -> dict | str:
        try:
            return index.read_params(corpus.out)
        except OutputError:
            return _json_error(path)

    return _settings_file(
        corpus,
        f"{index.INDEX}/{index.PARAMS_FILE}",
        _runs_params(corpus),
        read,
        missing="a run would take any MinHash settings",
        what="settings",
    )


def _settings_file(
    corpus: _Corpus,
    rel: str,
    recorded: dict | None,
    read,
    missing: str,
    what: str,
    ignore: tuple[str, ...] = (),
) -> list[Problem]:
    """A settings file of the index (`rel`: `index/params.json`, `index/rewrite.json`) there,
    readable and as the runs recorded it (`recorded`, or None when they recorded none):
    `read(path)` gives its settings, or in words why they cannot be read. Keys in `ignore`
    are not compared (what the runs do not record)."""
    path = corpus.out / rel
    fix = "written from the runs' recorded configuration" if recorded else None
    if not path.exists():
        if not (corpus.out / index.INDEX).is_dir():
            return []  # said already: the index is missing
        return [Problem(f"{rel} is missing: {missing}", fix)]
    stored = read(path)
    if isinstance(stored, str):
        return [Problem(f"{rel} cannot be read: {stored}", fix)]
    if not recorded:
        return []
    keys = [k for k in {**recorded, **stored} if k not in ignore]
    changed = [
        f"{k} {stored.get(k)!r}, the runs {recorded.get(k)!r}"
        for k in keys
        if stored.get(k) != recorded.get(k)
    ]
    if changed:
        return [Problem(f"{rel} disagrees with the {what} the runs recorded ({', '.join(changed)})", fix)]
    return []


def _rewrite_on(corpus: _Corpus) -> bool:
    """Whether runs of the corpus had the rewrite stage on: they wrote `index/rewrites` and
    `index/rewrite.json`."""
    return any("rewrites" in (m.get("index") or {}) or _rewrite_enabled(m) for m in corpus.runs.values())


def _rewrite_enabled(manifest: dict) -> bool:
    return ((manifest.get("config") or {}).get("rewrite") or {}).get("enabled") is True


def _runs_rewrite(corpus: _Corpus) -> dict | None:
    """The rewrite stage's recorded configuration: the latest run's that had it on (they all
    agree: a run refuses other settings than the corpus's codes')."""
    for run_id in reversed(corpus.order()):
        if _rewrite_enabled(corpus.runs[run_id]):
            return corpus.runs[run_id]["config"]["rewrite"]
    return None


def _runs_rewrite_params(corpus: _Corpus) -> dict | None:
    """The settings `index/rewrite.json` holds, from the runs' recorded configuration (the
    model is this cleaner's: a run records none); None if none is recorded or usable."""
    recorded = _runs_rewrite(corpus)
    if recorded is None:
        return None
    params = {"model": embed.MODEL, **{k: recorded.get(k) for k in index.REWRITE_PARAMS}}
    return None if index.rewrite_params_error(params) else params


def _rewrite_params(corpus: _Corpus) -> dict | None:
    """The corpus's rewrite settings, as repair leaves them: the runs' recorded ones, else
    `index/rewrite.json`'s if it is sound; None if neither is there."""
    recorded = _runs_rewrite_params(corpus)
    if recorded is not None:
        return recorded
    try:
        return index.read_rewrite_params(corpus.out)
    except OutputError:
        return None


def _rewrite_file(corpus: _Corpus) -> list[Problem]:
    """`index/rewrite.json` there and sound, when runs had the rewrite stage on."""
    if not corpus.indexed or not corpus.runs or not _rewrite_on(corpus):
        return []

    def read(path: Path) -> dict | str:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return _json_error(path)
        return index.rewrite_params_error(stored) or stored

    return _settings_file(
        corpus,
        _REWRITE_JSON,
        _runs_rewrite_params(corpus),
        read,
        missing="a run with the rewrite stage on would take any rewrite settings and compare its "
        "passages with codes made with others",
        what="rewrite settings",
        ignore=("model",),  # the runs record none: it is this cleaner's
    )


def _data(corpus: _Corpus) -> list[Problem]:
    """The deep checks: every file read through; the index against `documents/`; doc ids
    repeated; `duplicate_of` and `duplicate_of_doc` pointing at kept documents."""
    found = []
    runs = corpus.order()
    for name, partitions in corpus.partitions.items():
        for run_id in runs:
            if run_id in partitions:
                for path in sorted(partitions[run_id].glob("*.parquet")):
                    try:
                        for _ in pq.ParquetFile(path).iter_batches(batch_size=65_536):
                            pass
                    except Exception as exc:
                        found.append(
                            Problem(
                                f"{_rel(path)} cannot be read ({first_line(exc, 160)}): damaged data",
                                _fix_of(name, corpus, run_id),
                            )
                        )
    if found:
        return found
    kept: dict[str, str] = {}  # doc_id -> run
    repeated = Counter()
    lost = _lost_data(corpus)  # a lost partition is a problem of its own
    for run_id in runs:
        ids = _column(corpus, "documents", run_id, "doc_id")
        for doc_id in ids:
            if doc_id in kept:
                repeated[doc_id] += 1
            kept.setdefault(doc_id, run_id)
        if corpus.indexed and (corpus.out / index.INDEX).is_dir() and run_id not in lost:
            indexed = _column(corpus, "index/documents", run_id, "doc_id")
            if indexed != ids:
                found.append(
                    Problem(
                        f"index/documents/run={run_id}/ lists {len(indexed)} documents, documents/run={run_id}/ "
                        f"holds {len(ids)}" + ("" if len(indexed) != len(ids) else ", not the same ones"),
                        _REBUILD,
                    )
                )
    if repeated:
        example = next(iter(repeated))
        found.append(
            Problem(
                f"{len(repeated)} doc_ids are in documents/ more than once (e.g. {example}, first in run "
                f"{kept[example]})"
            )
        )
    both = [d for run_id in runs for d in _column(corpus, "duplicates", run_id, "doc_id") if d in kept]
    if both:
        found.append(
            Problem(
                f"{len(both)} doc_ids are in both documents/ and duplicates/ (e.g. {both[0]}): a record of a "
                "duplicate's id was taken in again"
            )
        )
    if corpus.indexed and (corpus.out / index.INDEX).is_dir() and not any(p.fix == _REBUILD for p in found):
        numbers = set()
        listed = 0
        first: dict[str, int] = {}  # run -> its first document's number
        for run_id in runs:
            run_numbers = _column(corpus, "index/documents", run_id, "doc")
            numbers.update(run_numbers)
            listed += len(run_numbers)
            if run_numbers:
                first[run_id] = min(run_numbers)
        if listed != len(numbers):
            found.append(
                Problem(
                    f"index/documents/ gives {listed - len(numbers)} numbers to more than one document: a "
                    "run numbered its documents as if an earlier run's were not there",
                    _REBUILD,
                )
            )
        strays = set()
        for run_id in runs:
            strays.update(set(_column(corpus, "index/passages", run_id, "doc")) - numbers)
        if strays:
            found.append(
                Problem(
                    f"index/passages/ holds passages of {len(strays)} documents not in index/documents/",
                    _REBUILD,
                )
            )
        for run_id in runs if not strays else []:
            unmatched = _unmatched_texts(corpus, run_id)
            if unmatched:
                found.append(
                    Problem(
                        f"{unmatched} passages of index/passages/run={run_id}/ are not in passages/run={run_id}/ "
                        "with the text they were indexed with",
                        _REBUILD,
                    )
                )
            elif run_id not in lost and run_id in first:
                found += _band_keys_data(corpus, run_id, first[run_id])
        for run_id in runs:
            found += _rewrites_data(corpus, run_id)
    # Documents of runs whose record is unreadable or missing (a problem of its own, which
    # --repair mends) are still documents: what points at them is not lost.
    unrecorded = sorted(set(corpus.partitions.get("documents", {})) - set(runs))
    documents = set(kept).union(*(_column(corpus, "documents", run_id, "doc_id") for run_id in unrecorded))
    dangling = Counter()
    for run_id in runs:
        for target in _column(corpus, "duplicates", run_id, "duplicate_of"):
            if target not in documents:
                dangling[("duplicates", target)] += 1
        for target in _column(corpus, "passages", run_id, "duplicate_of_doc"):
            if target is not None and target not in documents:
                dangling[("passages", target)] += 1
    for dataset in ("duplicates", "passages"):
        targets = [t for d, t in dangling if d == dataset]
        if targets:
            column = "duplicate_of" if dataset == "duplicates" else "duplicate_of_doc"
            found.append(
                Problem(
                    f"{sum(n for (d, _), n in dangling.items() if d == dataset)} rows of {dataset}/ have a "
                    f"{column} that is no document of documents/ (e.g. {targets[0]})"
                )
            )
    return found


def _unmatched_texts(corpus: _Corpus, run_id: str) -> int:
    """How many passages index/passages lists for a run are missing from its passages/, or
    hold another text there (by its fingerprint): the index stores no signature, so a later
    run signs them again from that text. Both list the run's documents in the order it wrote
    them, so the two are read side by side, a batch at a time."""
    folder = corpus.out / "index/passages" / f"run={run_id}"
    texts = corpus.out / "passages" / f"run={run_id}"
    if not folder.is_dir() or not texts.is_dir():  # a lost partition is a problem of its own
        return 0
    ids = dict(
        zip(
            _column(corpus, "index/documents", run_id, "doc"),
            _column(corpus, "index/documents", run_id, "doc_id"),
            strict=True,
        )
    )

    def indexed():
        for path in sorted(folder.glob("*.parquet")):
            for batch in pq.ParquetFile(path).iter_batches(columns=["doc", "position", "fingerprint"]):
                columns = (batch.column(i).to_pylist() for i in range(3))
                for doc, position, fp in zip(*columns, strict=True):
                    yield ids.get(doc), position, fp

    rows = indexed()
    wanted = next(rows, None)
    unmatched = 0
    for path in sorted(texts.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(columns=["doc_id", "position", "text"]):
            said, expected = [], []
            for doc_id, position, text in zip(*(batch.column(i).to_pylist() for i in range(3)), strict=True):
                if wanted is not None and (doc_id, position) == wanted[:2]:
                    said.append(text or "")
                    expected.append(wanted[2])
                    wanted = next(rows, None)
            unmatched += sum(a != b for a, b in zip(fingerprints(said), expected, strict=True))
    return unmatched + (wanted is not None) + sum(1 for _ in rows)


_COLUMNS_AT_ONCE = 12


def _band_keys_data(corpus: _Corpus, run_id: str, first_number: int) -> list[Problem]:
    """A run's `index/passages` against the rows its texts give: the band keys (and the rest)
    computed again, as `repair` would rebuild them, and compared column by column. Their
    bytes carry no checksum of their own: overwritten, they were read as they were, and the
    corpus's copies were no longer found (costs a signing of the run's kept passages)."""
    folder = corpus.out / "index/passages" / f"run={run_id}"
    params = _runs_params(corpus)
    if not folder.is_dir() or params is None:
        return []
    try:
        config = _dedup(params)
    except ConfigError:  # the settings' own check says so
        return []
    # the rows made again go to a scratch folder outside the corpus, which may be read-only
    with tempfile.TemporaryDirectory(prefix="cleaner-check-") as tmp:
        try:
            index.rebuild_run(corpus.out, run_id, first_number, config, Path(tmp))
        except OutputError as exc:
            return [Problem(f"index/passages/run={run_id}/ cannot be checked: {exc}", None)]
        again = Path(tmp) / "index/passages" / f"run={run_id}"
        made_file, stored_file = next(again.glob("*.parquet"), None), next(folder.glob("*.parquet"), None)
        if made_file is None or stored_file is None:
            return []  # rows missing on one side: the partitions' check names it
        names = pq.read_schema(made_file).names
        if pq.read_schema(stored_file).names != names:
            return []  # another layout: the footers' check names it
        differ = 0
        for start in range(0, len(names), _COLUMNS_AT_ONCE):  # a few columns in memory at a time
            columns = names[start : start + _COLUMNS_AT_ONCE]
            stored = pq.read_table(folder, columns=columns, partitioning=None)
            made = pq.read_table(again, columns=columns, partitioning=None)
            if stored.num_rows != made.num_rows:
                differ = max(differ, abs(stored.num_rows - made.num_rows))
                break
            for name in columns:
                if not stored[name].equals(made[name]):
                    differ = max(differ, int(pc.sum(pc.not_equal(stored[name], made[name])).as_py() or 0))
    if not differ:
        return []
    return [
        Problem(
            f"{differ} rows of index/passages/run={run_id}/ are not those its passages' texts give (their "
            "band keys or fingerprints are damaged): copies of them would not be found",
            _REBUILD,
        )
    ]


def _rewrites_data(corpus: _Corpus, run_id: str) -> list[Problem]:
    """The rows of a run's `index/rewrites` against its documents: each of a document of its
    `index/documents`, at a passage its `passages/` holds as kept. Both list the run's
    documents in the order it wrote them, so the two are read side by side, a batch at a
    time, without the texts (a passage's codes would be checked only by embedding it again)."""
    folder = corpus.out / "index/rewrites" / f"run={run_id}"
    texts = corpus.out / "passages" / f"run={run_id}"
    if not folder.is_dir() or not texts.is_dir():  # a lost partition is a problem of its own
        return []
    ids = dict(
        zip(
            _column(corpus, "index/documents", run_id, "doc"),
            _column(corpus, "index/documents", run_id, "doc_id"),
            strict=True,
        )
    )
    files = sorted(folder.glob("*.parquet"))
    numbers = set()
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(columns=["doc"]):
            numbers.update(pc.unique(batch.column(0)).to_pylist())
    strays = numbers - set(ids)
    where = f"index/rewrites/run={run_id}/"
    if strays:
        return [
            Problem(
                f"{where} holds passages of {len(strays)} documents not in index/documents/run={run_id}/",
                _fix_of("index/rewrites", corpus, run_id),
            )
        ]

    def indexed():
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(columns=["doc", "position"]):
                for doc, position in zip(*(batch.column(i).to_pylist() for i in range(2)), strict=True):
                    yield ids[doc], position

    rows = indexed()
    wanted = next(rows, None)
    unmatched = 0
    for path in sorted(texts.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(columns=["doc_id", "position", "status"]):
            for doc_id, position, status in zip(
                *(batch.column(i).to_pylist() for i in range(3)), strict=True
            ):
                if wanted is not None and (doc_id, position) == wanted:
                    unmatched += status != Status.KEPT
                    wanted = next(rows, None)
    unmatched += (wanted is not None) + sum(1 for _ in rows)
    if not unmatched:
        return []
    return [
        Problem(
            f"{unmatched} passages of {where} are not kept passages of passages/run={run_id}/",
            _fix_of("index/rewrites", corpus, run_id),
        )
    ]


def _column(corpus: _Corpus, name: str, run_id: str, column: str) -> list:
    folder = corpus.out / name / f"run={run_id}"
    if next(folder.glob("*.parquet"), None) is None:  # missing or emptied: `_partitions` says so
        return []
    return pq.read_table(folder, columns=[column], partitioning=None)[column].to_pylist()


# -- what the command says -------------------------------------------------------------------


def summary(out: str | Path) -> str:
    """One line on a healthy corpus: its runs and rows."""
    corpus = read_corpus(out)
    rows = Counter()
    for manifest in corpus.runs.values():
        rows.update(manifest.get("rows", {}))
    return (
        f"{len(corpus.runs)} runs, {rows['documents']:,} documents, {rows['passages']:,} passages, "
        f"{rows['duplicates']:,} duplicates, {rows['rejects']:,} rejects"
    )


def refuse_damaged(out: str | Path, reading: bool = False) -> None:
    """Raise an `OutputError` naming the damage and the way out if the corpus in `out` is
    damaged (the cheap checks: `problems`). A run calls it before any work; `report` and
    `inspect` too (`reading`: they read only committed runs, so a commit under way is no
    damage to them while those read as they are; when they do not, because the commit had
    moved part of its files, or the runs' old files aside, they say the commit is pending)."""
    found = problems(out, reading=reading)
    if reading and any(p.fix == _FINISH for p in found):
        found = _damage_beside_a_commit(Path(out), found)
    if not found:
        return
    if all(p.what == _EARLIER for p in found):
        raise index.earlier_layout_error(out)
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    if all(is_stray(p) for p in found):
        raise OutputError(f"{out} holds files no run wrote where it reads its data: {first.what}{more}")
    if all(p.fix for p in found):
        way = f"run `cleaner check {out} --repair` to repair it"
    else:
        way = (
            f"`cleaner check {out}` lists what is wrong; restore the damaged files from a backup, rebuild the "
            f"corpus from its inputs with `cleaner run INPUTS --out {out} --reprocess`, or write to a new --out"
        )
    raise OutputError(f"the corpus in {out} is damaged: {first.what}{more}; {way}")


@contextmanager
def damage_said(out: str | Path) -> Iterator[None]:
    """Around a read of the corpus's own files (by a run, `report`, `inspect`): one that
    cannot be read is damage inside its data, which the footers `problems` looks at before
    do not show. Said in one line naming `cleaner check`, not as an unexpected error."""
    try:
        yield
    except (OSError, pa.ArrowException) as exc:
        raise OutputError(
            f"the corpus in {out} is damaged: a file of it cannot be read ({first_line(exc, 160)}); "
            f"`cleaner check {out}` names it and what can be repaired"
        ) from None


def _damage_beside_a_commit(out: Path, found: list[Problem]) -> list[Problem]:
    """For a reader, the problems of a corpus whose commit is under way or was interrupted
    that the commit does not explain. Its moves come first, then the run's record in runs/,
    then manifest.json: a manifest missing or older than the newest record is the commit's
    doing, and once the record is in runs/ the run's files are all in place, read with the
    others. A corpus with no committed run yet, or one a reprocess was replacing (its runs'
    files moved aside), cannot be read until the commit is finished: said so, not as damage."""
    corpus = read_corpus(out)
    if corpus.replacing or not corpus.runs:
        raise OutputError(
            f"the commit of run {corpus.pending} to {out} is under way, or was interrupted, and the corpus "
            f"cannot be read until it is finished: wait for the run, or finish it with `cleaner check {out} "
            "--repair`"
        )
    manifest = (f"{writers.MANIFEST} is missing", f"{writers.MANIFEST} is the record of run ")
    return [p for p in found if p.fix != _FINISH and not p.what.startswith(manifest)]


def precheck(out: str | Path) -> None:
    """What `cleaner run` does before it starts Prefect: finish a commit left half done (as
    the run would), then `refuse_damaged`. Holds the corpus's lock meanwhile, so that a run
    committing there is not taken for damage (and is reported at once)."""
    out = Path(out)
    if not is_corpus(out):
        return
    with writers.locked(out):
        writers.recover(out)
        refuse_damaged(out)


# -- configuration ---------------------------------------------------------------------------


def settings_changed(out: str | Path, config: dict) -> list[str]:
    """The settings of `config` (a `Config.to_dict()`) that differ from the latest run's, as
    "section.key old -> new"; the run section (batches, tasks) changes nothing written."""
    latest = read_corpus(out).latest if is_corpus(out) else None
    before = (latest or {}).get("config") or {}
    if not before:
        return []
    changed = []
    for section, values in config.items():
        if section == "run":
            continue
        old = before.get(section, {})
        for key, value in values.items():
            if key in old and old[key] != value:
                changed.append(f"{section}.{key} {old[key]!r} -> {value!r}")
    return changed


# -- reprocessing ---------------------------------------------------------------------------


def earlier_runs(out: str | Path) -> list[str]:
    """Every run the corpus holds anything of: those with a record in `runs/`, and those
    with partitions only (their record lost). `cleaner run --reprocess` replaces them all."""
    corpus = read_corpus(out)
    return sorted(set(corpus.runs) | {run_id for runs in corpus.partitions.values() for run_id in runs})


def earlier_inputs(out: str | Path) -> list[dict]:
    """Every input file the corpus's runs read (rows of `index/inputs`, or of their copies
    in `runs/`), for `cleaner run --reprocess`, which must read them all again. An
    `OutputError` if a run's are lost from both places (a corpus written without an index,
    by a `writers.CorpusWriter` alone, records none)."""
    corpus = read_corpus(out)
    rows: list[dict] = []
    for run_id in earlier_runs(out):
        table = None
        for where in (corpus.out / "index/inputs" / f"run={run_id}", corpus.out / index.inputs_file(run_id)):
            try:
                table = pq.read_table(where, schema=index.INPUTS_SCHEMA) if where.exists() else None
            except Exception:
                table = None
            if table is not None:
                break
        recorded = corpus.runs.get(run_id, {"index": {}}).get("index")
        if recorded is None:
            continue
        if table is None or recorded.get("inputs_lost"):
            raise OutputError(
                f"which inputs run {run_id} of {out} read is lost (index/inputs and {index.inputs_file(run_id)}): "
                "--reprocess cannot tell whether it reads them all again; write to a new --out"
            )
        rows += table.to_pylist()
    return [r for r in rows if r["size"] >= 0]


def missing_inputs(earlier: list[dict], files) -> list[str]:
    """The earlier inputs (`earlier_inputs`) that are not among `files` (`readers.InputFile`),
    at their real path or, once that path is gone, under the same name in a moved folder. A
    name alone is no match while the file it was read from is still there: yesterday's
    `2026-03-01/feed.jsonl` is not today's `2026-03-02/feed.jsonl`, and reprocessing with
    today's alone dropped yesterday's documents."""
    paths = {f.identity for f in files}
    keys = {f.key for f in files}
    return sorted(
        {
            r["path"]
            for r in earlier
            if r["path"] not in paths and (r["key"] not in keys or path_of_source(r["path"]).exists())
        }
    )


def foreign_files(out: str | Path) -> list[str]:
    """What lies in the corpus's own folders (the datasets, `index/`, `runs/`) that no run
    writes there, as paths under `out`. `--reprocess` retires those folders whole: in a
    folder that was not a corpus (an `index/` of web pages, a `runs/` of logs) it took the
    user's files with them. Hidden names (".DS_Store") are not counted."""
    out = Path(out)
    allowed: dict[str, set[str] | None] = {name: None for name in writers.DATASETS}
    allowed[index.INDEX] = {index.PARAMS_FILE, index.REWRITE_FILE, *(n.split("/")[1] for n in INDEX_DATASETS)}
    allowed[writers.RUNS] = None
    found = []
    for folder, names in allowed.items():
        if not (out / folder).is_dir():
            continue
        for entry in sorted((out / folder).iterdir()):
            if entry.name.startswith("."):
                continue
            if folder == writers.RUNS:
                ok = entry.is_file() and entry.name.endswith((".json", ".inputs.parquet"))
            elif names is None:  # a dataset: its runs' partitions
                ok = entry.is_dir() and entry.name.startswith("run=")
            elif entry.is_dir():  # an index dataset: its runs' partitions
                ok = entry.name in names and all(
                    e.name.startswith(("run=", ".")) and e.is_dir() for e in entry.iterdir()
                )
            else:
                ok = entry.name in names
            if not ok:
                found.append(str(entry.relative_to(out)))
    return found


def refuse_foreign(out: str | Path) -> None:
    """`OutputError` if `--reprocess` would retire files no run wrote (`foreign_files`)."""
    found = foreign_files(out)
    if found:
        raise OutputError(
            f"--reprocess replaces the corpus in {out} whole, but its folders hold {len(found)} files no "
            f"cleaner run wrote (e.g. {found[0]}), which would go with it: move them, or write to a new --out"
        )


# -- repair ----------------------------------------------------------------------------------


def repair(out: str | Path) -> list[str]:
    """Repair what the corpus holds enough to rebuild (see the module's docstring), in one
    commit under the corpus's lock; returns what was done, in plain words."""
    out = Path(out)
    if not is_corpus(out):
        raise OutputError(f"{out} holds no cleaner corpus")
    done: list[str] = []
    with writers.disk_said(out, way="repair again"), writers.locked(out):
        _repair(out, done)
    return done


def _repair(out: Path, done: list[str]) -> None:
    """`repair`, under the corpus's lock."""
    pending = (out / writers.JOURNAL).exists()
    writers.recover(out)
    if pending:
        done.append("finished the interrupted commit from its journal")
    corpus = read_corpus(out)
    staging = out / f".staging-repair-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    staging.mkdir()
    try:
        moves, retire = _plan(corpus, staging, done)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if moves or retire:
        writers.commit_staged(staging, moves, retire)
    else:
        shutil.rmtree(staging, ignore_errors=True)


def _plan(corpus: _Corpus, staging: Path, done: list[str]) -> tuple[list[str], list[str]]:
    """Write the repaired files into `staging`; returns the moves and the retirements."""
    out = corpus.out
    moves: list[str] = []
    retire: list[str] = []

    def put(rel: str, record: dict) -> None:
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
        if rel not in moves:
            moves.append(rel)

    # 1. The runs' records and manifest.json.
    runs = dict(corpus.runs)
    if _stranger(corpus) or _older(corpus):
        corpus = dataclasses.replace(corpus, manifest=None)  # the latest of runs/ replaces it below
    if corpus.manifest is not None and corpus.manifest["run_id"] not in runs:
        runs[corpus.manifest["run_id"]] = corpus.manifest
        put(f"{writers.RUNS}/{corpus.manifest['run_id']}.json", corpus.manifest)
        done.append(f"{writers.RUNS}/{corpus.manifest['run_id']}.json copied from manifest.json")
    lost = sorted({run_id for parts in corpus.partitions.values() for run_id in parts} - set(runs))
    for run_id in lost:
        runs[run_id] = _reconstructed(corpus, run_id)
        put(f"{writers.RUNS}/{run_id}.json", runs[run_id])
        done.append(f"{writers.RUNS}/{run_id}.json rebuilt from its partitions (its configuration is lost)")
    manifest = corpus.manifest
    corpus = _Corpus(out, runs=runs, partitions=corpus.partitions, manifest=manifest, runs_folder=True)
    if runs and manifest is None:
        latest = runs[corpus.order()[-1]]
        put(writers.MANIFEST, latest)
        done.append(f"{writers.MANIFEST} copied from {writers.RUNS}/{latest['run_id']}.json")
    if not corpus.indexed:
        return moves, retire

    def settings(rel: str, values: dict) -> None:
        """A settings file of the index written as a run writes it (`index.params_file`)."""
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
        moves.append(rel)
        done.append(f"{rel} written from the runs' recorded configuration")

    # 2. The MinHash settings.
    recorded = _runs_params(corpus)
    params_ok = not _params(corpus)
    if params_ok and (out / index.INDEX / index.PARAMS_FILE).exists():
        params = index.read_params(out)
    elif recorded:
        params = recorded
        settings(f"{index.INDEX}/{index.PARAMS_FILE}", params)
    else:
        return moves, retire  # nothing to rebuild the index with; the check says so
    try:
        config = _dedup(params)
    except ConfigError as exc:
        raise OutputError(
            f"the corpus's MinHash settings are not valid ({exc}): it cannot be repaired"
        ) from None

    # 2b. The rewrite stage's settings, when runs had it on.
    rewrite = None
    if _rewrite_on(corpus):
        recorded_rewrite = _runs_rewrite_params(corpus)
        if not _rewrite_file(corpus) and (out / _REWRITE_JSON).exists():
            rewrite = index.read_rewrite_params(out)
        elif recorded_rewrite:
            rewrite = recorded_rewrite
            settings(_REWRITE_JSON, rewrite)

    # 3. The index's documents and passages, rebuilt whole if any of it is damaged, and
    # left as it is while a run's data is lost (`_lost_data`).
    damage = [] if _lost_data(corpus) else _partitions(corpus) + _data_index(corpus)
    found = [p for p in damage if p.fix == _REBUILD or index.INDEX + "/ is missing" in p.what]
    if found:
        number = 0
        rows = {"documents": 0, "passages": 0}
        for run_id in corpus.order():
            if not (out / "documents" / f"run={run_id}").is_dir():
                continue
            try:
                written = index.rebuild_run(out, run_id, number, config, staging)
            except (OSError, pa.ArrowException) as exc:
                raise OutputError(
                    f"the index cannot be rebuilt: documents/run={run_id}/ or passages/run={run_id}/ cannot "
                    f"be read ({first_line(exc, 160)}); restore them, or rebuild the corpus from its inputs"
                ) from None
            for name in ("documents", "passages"):
                moves.append(f"index/{name}/run={run_id}")
                rows[name] += written[name]
            number += written["documents"]
        retire += [name for name in ("index/documents", "index/passages") if (out / name).exists()]
        done.append(
            f"index/documents and index/passages {_REBUILD} ({rows['documents']:,} documents, "
            f"{rows['passages']:,} passages)"
        )

    # 3b. The embedded passages, re-embedded whole if any of them, or the numbering they
    # follow (index/documents), is damaged.
    if rewrite is not None and (found or any(p.fix == _REEMBED for p in damage)):
        moves += _rebuild_rewrites(corpus, rewrite, staging, done)
        retire += ["index/rewrites"] if (out / "index/rewrites").exists() else []

    # 4. The inputs read, each copy from the other (or recorded as lost).
    for run_id in corpus.order():
        if "index" not in runs[run_id]:
            continue
        partition = f"index/inputs/run={run_id}"
        sidecar = index.inputs_file(run_id)
        a = _readable(out / partition)
        b = _readable(out / sidecar)
        if a is None and b is None:
            table = index.INPUTS_SCHEMA.empty_table()
            writers.write_table(table, staging / partition)
            writers.write_table(table, (staging / sidecar).parent, Path(sidecar).name)
            retire += [r for r in (partition, sidecar) if (out / r).exists()]
            moves += [partition, sidecar]
            # the run's record says so: the check then holds it to that, and --reprocess refuses
            lost = {**runs[run_id], "index": {**runs[run_id]["index"], "inputs": 0, "inputs_lost": True}}
            put(f"{writers.RUNS}/{run_id}.json", lost)
            if manifest is not None and manifest["run_id"] == run_id:
                put(writers.MANIFEST, lost)
            done.append(f"the inputs run {run_id} read are lost: its inputs will be read again where found")
        elif a is None and b.num_rows == 0:
            pass  # a run that read nothing new writes no partition where the dataset has one
        elif a is None:
            writers.write_table(b, staging / partition)
            retire += [partition] if (out / partition).exists() else []
            moves.append(partition)
            done.append(f"{partition}/ copied from {sidecar}")
        elif b is None:
            writers.write_table(a, (staging / sidecar).parent, Path(sidecar).name)
            moves.append(sidecar)
            done.append(f"{sidecar} copied from {partition}/")
    return moves, retire


def _rebuild_rewrites(corpus: _Corpus, rewrite: dict, staging: Path, done: list[str]) -> list[str]:
    """Write every run's partition of `index/rewrites` into `staging`, numbered as
    `index/documents` (in the order the runs wrote their documents); returns the moves."""
    out = corpus.out
    if rewrite["model"] != embed.MODEL:
        raise OutputError(
            f"index/rewrites cannot be rebuilt: its codes are of the model {rewrite['model']}, this cleaner "
            f"embeds with {embed.MODEL}; rebuild the corpus from its inputs (`cleaner run INPUTS --out {out} "
            "--reprocess`)"
        )
    stage = _runs_rewrite(corpus) or {}
    moves: list[str] = []
    number = rows = 0
    for run_id in corpus.order():
        documents = out / "documents" / f"run={run_id}"
        if not documents.is_dir():
            continue
        manifest = corpus.runs[run_id]
        had = "rewrites" in (manifest.get("index") or {}) or _rewrite_enabled(manifest)
        if had or run_id in corpus.partitions.get("index/rewrites", {}):
            # the languages embedded are the run's own (the stored codes do not depend on them)
            languages = ((manifest.get("config") or {}).get("rewrite") or stage).get(
                "languages", RewriteConfig.languages
            )
            try:
                config = index.rewrite_config(rewrite, languages)
            except (ConfigError, TypeError) as exc:
                raise OutputError(
                    f"index/rewrites cannot be rebuilt: run {run_id}'s recorded rewrite.languages are not "
                    f"valid ({first_line(exc, 160)})"
                ) from None
            try:
                written = index.rebuild_rewrites_run(out, run_id, number, config, staging, empty=not moves)
            except (OSError, pa.ArrowException) as exc:
                raise OutputError(
                    f"index/rewrites cannot be rebuilt: documents/run={run_id}/ or passages/run={run_id}/ cannot "
                    f"be read ({first_line(exc, 160)}); restore them, or rebuild the corpus from its inputs"
                ) from None
            if (staging / "index/rewrites" / f"run={run_id}").is_dir():
                moves.append(f"index/rewrites/run={run_id}")
            rows += written
        number += _footers(documents, None)[0]
    done.append(f"index/rewrites {_REEMBED} ({rows:,} passages)")
    return moves


def _data_index(corpus: _Corpus) -> list[Problem]:
    """The deep checks of the index alone (repair decides on them)."""
    if not (corpus.out / index.INDEX).is_dir():
        return []
    try:
        return [p for p in _data(corpus) if p.fix in (_REBUILD, _REEMBED)]
    except Exception:  # unreadable data: the partitions' own checks name it
        return [Problem("index unreadable", _REBUILD)]


def _readable(where: Path) -> pa.Table | None:
    if not where.exists():
        return None
    try:
        return pq.read_table(where, schema=index.INPUTS_SCHEMA)
    except Exception:
        return None


def _reconstructed(corpus: _Corpus, run_id: str) -> dict:
    """A run's record rebuilt from its partitions, when its own is lost."""
    rows = {}
    for name in writers.DATASETS:
        folder = corpus.partitions.get(name, {}).get(run_id)
        rows[name] = _footers(folder, None)[0] if folder is not None else 0
    if run_id not in corpus.partitions.get("passages", {}) and rows["documents"]:
        # lost with the record: its documents' passages at least (a duplicate's are not
        # counted anywhere), so the check still finds them missing, not a run without any
        with suppress(OSError, pa.ArrowException):
            rows["passages"] = sum(v or 0 for v in _column(corpus, "documents", run_id, "n_passages"))
    record = {
        "schema_version": writers.SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": None,
        "reconstructed": "by cleaner check --repair: the run's own record was lost; its row counts "
        "are those of its partitions, its configuration and counts are unknown",
        "inputs": [],
        "config": {},
        "rows": rows,
    }
    if any(run_id in corpus.partitions.get(name, {}) for name in INDEX_DATASETS):
        # the row counts of the index are left out: it may be the damaged part, rebuilt later
        try:
            numbers = _column(corpus, "index/documents", run_id, "doc")
        except (OSError, pa.ArrowException):
            numbers = []
        record["index"] = {"first_doc": min(numbers) if numbers else None}
    return record
