"""Parquet tables: one document per row.

The columns `ReadConfig` names (`text`, `html`, `url`, `id`, `title`, `published` by
default) are read a few rows at a time, never the whole file; each row goes through the checks
a JSONL record does (`records.record_to_document`), and a bad row is a reject with a reason
while the rows around it still come through.
"""

from __future__ import annotations

import json
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleaner.config import ReadConfig
from cleaner.document import Document, Reject
from cleaner.errors import first_line
from cleaner.io import compression, decode
from cleaner.io.records import InputFile, record_to_document

_PARQUET_ROWS = 64  # rows converted at a time: a batch of news pages is a few MB


_ROLES = ("text", "html", "url", "id", "title", "published")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t)


# What each column may hold: (test, in words). A null column (all values null) is any type.
_TYPES = {
    "text": (lambda t: _is_text(t) or _is_bytes(t), "strings (or bytes, decoded as text files are)"),
    "html": (lambda t: _is_text(t) or _is_bytes(t), "strings (or bytes, decoded as pages are)"),
    "url": (_is_text, "strings"),
    "title": (_is_text, "strings"),
    "id": (lambda t: _is_text(t) or pa.types.is_integer(t), "strings or integers"),
    "published": (
        lambda t: _is_text(t) or pa.types.is_timestamp(t) or pa.types.is_date(t),
        "timestamps, dates or ISO 8601 strings",
    ),
}


def read_parquet(
    f: InputFile, rank: int, config: ReadConfig, docs: list[Document] | None = None
) -> tuple[list[Document], list[Reject]]:
    """One document per row of a Parquet file (source `<file>#N`, N the row's number from 1),
    read `_PARQUET_ROWS` rows at a time with only the configured columns, and appended to
    `docs` as they are read."""
    # Opened here: pyarrow cannot open a path whose name is not UTF-8 (`source_of`).
    with open(f.path, "rb") as handle:
        return _read_parquet(f, handle, rank, config, [] if docs is None else docs)


def _read_parquet(f: InputFile, handle: BinaryIO, rank: int, config: ReadConfig, docs: list[Document]):
    try:
        table = pq.ParquetFile(handle, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        if _from_the_system(exc):
            raise
        return [], [Reject(f.source, "corrupt_archive", f"not a Parquet file: {first_line(exc)}")]
    except UnicodeDecodeError as exc:  # Parquet names are UTF-8; pyarrow decodes them as it opens
        detail = f"a column's name is not UTF-8 ({exc}), so no column can be found by its name"
        return [], [Reject(f.source, "invalid_schema", detail)]
    schema = table.schema_arrow
    columns = {role: getattr(config, f"{role}_column") for role in _ROLES}
    columns = {role: name for role, name in columns.items() if name in schema.names}
    if "text" not in columns and "html" not in columns:
        detail = (
            f"no text column '{config.text_column}' or HTML column '{config.html_column}'; its columns "
            f"are {', '.join(schema.names) or '(none)'} (name them with --text-column or --html-column)"
        )
        return [], [Reject(f.source, "invalid_schema", detail)]
    for role, name in columns.items():
        count = len(schema.get_all_field_indices(name))
        if count > 1:  # pyarrow cannot tell them apart by name
            detail = (
                f"{count} columns are named '{name}': which one holds the {role} is not known "
                f"(rename all but one, or read another column with --{role}-column)"
            )
            return [], [Reject(f.source, "invalid_schema", detail)]
        kind = schema.field(name).type
        value_type = kind.value_type if pa.types.is_dictionary(kind) else kind
        test, words = _TYPES[role]
        if not (pa.types.is_null(value_type) or test(value_type)):
            detail = f"column '{name}' ({role}) holds {kind}; it must hold {words}"
            return [], [Reject(f.source, "invalid_schema", detail)]
    rejects: list[Reject] = []
    number = 0
    try:
        for batch in table.iter_batches(
            batch_size=_PARQUET_ROWS, columns=sorted(set(columns.values())), use_threads=False
        ):
            _read_rows(f, batch, columns, number, rank, config.max_record_bytes, docs, rejects)
            number += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        if _from_the_system(exc):
            raise
        kept = f"; the {number} rows before it were read" if number else ""
        rejects.append(
            Reject(f.source, "corrupt_archive", f"the Parquet data is damaged: {first_line(exc)}{kept}")
        )
    if number == 0 and not rejects:
        rejects.append(Reject(f.source, "empty", "the file holds no rows"))
    return docs, rejects


def _from_the_system(exc: Exception) -> bool:
    """An error of the disk or the file system (unreadable), not of the data: pyarrow raises
    OSError without an errno for damaged data ("Corrupt snappy compressed data")."""
    return isinstance(exc, OSError) and exc.errno is not None


def _read_rows(f, batch: pa.RecordBatch, columns: dict, first: int, rank: int, limit: int, docs, rejects):
    sizes = [0] * batch.num_rows
    for name in set(columns.values()):
        column = batch.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        # no length kernel for views (pyarrow 26): a view's values are large ones'
        if pa.types.is_string_view(column.type):
            column = column.cast(pa.large_string())
        elif pa.types.is_binary_view(column.type):
            column = column.cast(pa.large_binary())
        if _is_text(column.type) or _is_bytes(column.type):
            lengths = pc.fill_null(pc.binary_length(column), 0).to_pylist()
            sizes = [a + b for a, b in zip(sizes, lengths, strict=True)]
    values = {role: _column_values(batch.column(name)) for role, name in columns.items()}
    for i, size in enumerate(sizes):
        number = first + i + 1
        source = f"{f.source}#{number}"
        if size > limit:
            rejects.append(compression.too_large(source, f"row {number} holds {compression.mb(size)}", limit))
            continue
        try:
            record = {role: _cell(role, column[i]) for role, column in values.items()}
        except ValueError as exc:
            rejects.append(Reject(source, "invalid_record", str(exc)))
            continue
        line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8", "replace")
        try:
            doc = record_to_document(record, source, f"{f.key}#{number}", line, (rank, number))
        except ValueError as exc:
            rejects.append(Reject(source, "invalid_record", str(exc)))
            continue
        docs.append(doc)


def _column_values(column: pa.Array) -> list:
    """A column's values as Python objects; a value Python cannot hold (a timestamp past the
    year 9999, bytes that are not UTF-8 in a string column, a time zone no database knows:
    pytz's KeyError) is its error, for its row. Nanosecond timestamps (pandas writes them) are
    read to the microsecond, as the corpus keeps them: Python's datetime holds no nanoseconds,
    and without pandas installed pyarrow refused every such value that had some."""
    if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
        column = column.cast(pa.timestamp("us", column.type.tz), safe=False)
    try:
        return column.to_pylist()
    except (ValueError, OverflowError, LookupError):
        values = []
        for scalar in column:
            try:
                values.append(scalar.as_py())
            except (ValueError, OverflowError, LookupError) as exc:
                values.append(ValueError(f"a value Python cannot read ({type(exc).__name__}: {exc})"))
        return values


def _cell(role: str, value):
    if isinstance(value, ValueError):
        raise ValueError(f"field '{role}' holds {value}")
    if isinstance(value, bytes):  # text or html stored as bytes
        binary = decode.sniff_binary(value)
        if binary:
            raise ValueError(f"field '{role}' is not text: its bytes are those of {binary}")
        return decode.decode_page(value) if role == "html" else decode.decode_text(value)
    return value
