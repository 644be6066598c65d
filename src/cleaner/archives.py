"""Inputs that hold many records: WARC archives, Parquet tables, and zstd streams.

`readers.read_file` opens the file, hashes its bytes and decompresses it; this module turns
what it holds into documents, under the same rules as a JSONL file: one record at a time,
none held beyond `read.max_record_bytes`, and a bad record a reject with a reason while the
records around it still come through.

WARC (`.warc`, `.warc.gz`, `.warc.zst`): the crawl's HTTP `response` records with status 200
and an HTML content type become documents; the URL and fetch date come from the record's
headers, the page's encoding from its HTTP `Content-Type` first. The other records (the
crawl's `warcinfo`, requests, metadata, revisits, images, redirects, errors) are not rejects:
they are counted by kind as `warc_skipped_<kind>`, into the `Counter` the caller passes.
warcio parses the records. The file's compression is undone before warcio sees it, so a
record-per-member `.warc.gz` and a whole-file `gzip crawl.warc` read alike, and a file cut
off is noticed as it is for any gzip input.

Parquet: one document per row, with the columns `ReadConfig` names (`text`, `html`, `url`,
`id`, `title`, `published` by default), read a few rows at a time; each row goes through the
checks a JSONL record does.
"""

from __future__ import annotations

import io
import json
import zlib
from collections import Counter
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard
from warcio.archiveiterator import WARCIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecordLoader

from cleaner import readers
from cleaner.config import ReadConfig
from cleaner.document import Document, Reject
from cleaner.timestamps import parse_iso8601

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SKIPPED = "warc_skipped_"  # + the kind: the keys counted for records passed over by design
# WARC record types (WARC 1.1, section 6); a record of another type counts as "other".
WARC_TYPES = frozenset(
    {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation"}
)
_CHUNK = 1 << 16
_WARC_BLOCK = 1 << 14  # warcio's read size
_PARQUET_ROWS = 64  # rows converted at a time: a batch of news pages is a few MB


# -- zstd -------------------------------------------------------------------------------------


def open_zstd(stream: BinaryIO) -> BinaryIO:
    """A zstd stream, decompressed as it is read, a buffer at a time whatever its ratio.

    Like `gzip.GzipFile`, it raises EOFError at the end of data cut off inside a frame, and
    `zstandard.ZstdError` on damaged data, so both become the rejects a gzip file's do.
    Concatenated frames are read as one stream."""
    return io.BufferedReader(_ZstdReader(stream), buffer_size=_CHUNK)


class _ZstdReader(io.RawIOBase):
    def __init__(self, stream: BinaryIO) -> None:
        self._frames = _ZstdFrames(stream)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._frames, read_size=_CHUNK, read_across_frames=True, closefd=False
        )

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._reader.readinto(buffer)
        if n == 0 and len(buffer) and not self._frames.complete:
            raise EOFError("the zstd data ends inside a frame")
        return n


class _ZstdFrames:
    """The compressed bytes on their way to the decompressor, with their frame structure
    followed (RFC 8878: frame header, blocks, checksum) to tell a stream that ends after a
    frame from one cut off inside it: zstandard's stream reader ends quietly on both."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._state = "magic"  # what is expected next: magic, frame (descriptor), block, skip-size
        self._head = b""  # the part of that header read so far
        self._skip = 0  # bytes of block content (or a skippable frame) still to pass
        self._checksum = False
        self._known = True  # False once the bytes are not zstd: the decompressor says so

    @property
    def complete(self) -> bool:
        return not self._known or (self._state == "magic" and not self._head and not self._skip)

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        view = memoryview(data)
        while self._known and len(view):
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            need = self._NEED[self._state] - len(self._head)
            self._head += bytes(view[:need])
            view = view[need:]
            if len(self._head) == self._NEED[self._state]:
                self._advance()
        return data

    _NEED = {"magic": 4, "frame": 1, "block": 3, "skip-size": 4}

    def _advance(self) -> None:
        head, self._head = self._head, b""
        if self._state == "magic":
            if head == readers._ZSTD_MAGIC:
                self._state = "frame"
            elif head[0] & 0xF0 == 0x50 and head[1:] == b"\x2a\x4d\x18":  # a skippable frame
                self._state = "skip-size"
            else:
                self._known = False
        elif self._state == "skip-size":
            self._skip = int.from_bytes(head, "little")
            self._state = "magic"
        elif self._state == "frame":  # the descriptor: what the rest of the header holds
            descriptor = head[0]
            single_segment = descriptor >> 5 & 1
            window, dictionary = 1 - single_segment, (0, 1, 2, 4)[descriptor & 3]
            self._skip = window + dictionary + (single_segment, 2, 4, 8)[descriptor >> 6]
            self._checksum = bool(descriptor >> 2 & 1)
            self._state = "block"
        else:  # a block header: last-block flag, type, size
            value = int.from_bytes(head, "little")
            self._skip = 1 if (value >> 1) & 3 == 1 else value >> 3  # an RLE block holds a byte
            if value & 1:
                self._skip += 4 * self._checksum
                self._state = "magic"


# -- WARC -------------------------------------------------------------------------------------


class _Broken(Exception):
    """The archive's compressed data is cut off or damaged (warcio would take an EOFError
    for the end of the archive)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _HeadersTooLarge(Exception):
    """A record's headers run past the record size limit (warcio reads a header line whole)."""


class _CutOff(Exception):
    """The archive ends inside a record's HTTP headers."""


class _Loader(ArcWarcRecordLoader):
    """warcio's record parser, told apart from the end of the archive: it ends quietly when
    the file ends inside a record's HTTP headers, and fails on a response with no URI."""

    def load_http_headers(self, rec_type, uri, stream, length):
        if uri is None:
            return None  # read as a record without HTTP headers
        try:
            return super().load_http_headers(rec_type, uri, stream, length)
        except EOFError:
            raise _CutOff from None


class _Records(WARCIterator):
    def __init__(self, source: _Source) -> None:
        super().__init__(source, block_size=_WARC_BLOCK)
        self.loader = _Loader(verify_http=False, arc2warc=False)


class _Source:
    """The archive's (decompressed) bytes as warcio reads them."""

    def __init__(self, stream: BinaryIO) -> None:
        self._read = getattr(stream, "read1", stream.read)  # one step: no read past a cut
        self.consumed = 0
        self._cap: int | None = None

    def headers(self, limit: int) -> None:
        """warcio is about to parse a record's headers: allow it `limit` bytes (and a block)."""
        self._cap = self.consumed + limit + _WARC_BLOCK

    def payload(self) -> None:
        self._cap = None  # the payload is read by us, in bounded steps

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._read(size)
        except readers._COMPRESSION_ERRORS as exc:
            raise _Broken(exc) from exc
        self.consumed += len(data)
        if self._cap is not None and self.consumed > self._cap:
            raise _HeadersTooLarge
        return data

    def tell(self) -> int:
        return self.consumed


def read_warc(
    f: readers.InputFile,
    stream: BinaryIO,
    rank: int,
    config: ReadConfig,
    skipped: Counter | None = None,
    docs: list[Document] | None = None,
) -> tuple[list[Document], list[Reject]]:
    """The HTML pages of a WARC archive's 200 responses, one document each (source
    `<file>#N`, N the record's number in the file counting every record); the records passed
    over are counted into `skipped` by kind (`warc_skipped_request`, ...). Documents are
    appended to `docs` one by one as they are read (a list that may hand them on: see
    `readers.read_file`)."""
    docs = [] if docs is None else docs
    rejects: list[Reject] = []
    counts: Counter = Counter()
    limit = config.max_record_bytes
    source = _Source(stream)
    records = _Records(source)
    number = 0

    def stop(reason: str, what: str, at: int) -> None:
        before = f"; the {at - 1} records before it were read" if at > 1 else ""
        rest = ", the rest of the file is not" if at > 1 else ""
        rejects.append(Reject(f"{f.source}#{at}", reason, f"{what}{before}{rest}"))

    while True:
        source.headers(limit)
        try:
            record = next(records, None)
        except _CutOff:
            stop("truncated", f"record {number + 1} is cut off in its HTTP headers", number + 1)
            break
        except _Broken as exc:
            reject = readers._bad_compression(f.source, exc.error, "")
            stop(reject.reason, f"record {number + 1}: {reject.detail}", number + 1)
            break
        except _HeadersTooLarge:
            stop("too_large", f"record {number + 1}'s headers run past {readers._mb(limit)}", number + 1)
            break
        except Exception as exc:  # warcio's parser on untrusted bytes (ArchiveLoadFailed, or worse)
            if number == 0:
                rejects.append(Reject(f.source, "corrupt_archive", f"not a WARC file: {_first_line(exc)}"))
            elif isinstance(exc, ArchiveLoadFailed) and _at_end(records):
                stop("truncated", f"record {number + 1} is cut off in its first line", number + 1)
            else:
                what = f"record {number + 1} is not a WARC record: {_first_line(exc)}"
                stop("corrupt_archive", what, number + 1)
            break
        if record is None:
            break
        number += 1
        source.payload()
        where = f"{f.source}#{number}"
        length = record.rec_headers.get_header("Content-Length")
        if length is None or not length.strip().isdigit():  # where the record ends is unknown
            if _at_end(records):
                stop("truncated", f"record {number} is cut off in its headers", number)
            else:
                stop("corrupt_archive", f"record {number} has no valid Content-Length ({length!r})", number)
            break
        try:
            outcome = _read_record(f, record, where, (rank, number), limit)
        except _Broken as exc:
            reject = readers._bad_compression(f.source, exc.error, "")
            stop(reject.reason, f"record {number}: {reject.detail}", number)
            break
        if isinstance(outcome, str):
            counts[SKIPPED + outcome] += 1
        elif isinstance(outcome, Document):
            docs.append(outcome)
        elif outcome.reason == "truncated":  # the file ends inside this record
            stop(outcome.reason, outcome.detail, number)
            break
        else:
            rejects.append(outcome)
    if number == 0 and not rejects:  # warcio ends quietly on a few bytes that are not a WARC
        detail = "not a WARC file: it holds no WARC record" if source.consumed else "the file is empty"
        rejects.append(Reject(f.source, "corrupt_archive" if source.consumed else "empty", detail))
    if skipped is not None:
        skipped.update(counts)
    return docs, rejects


def _at_end(records: _Records) -> bool:
    """Whether nothing is left of the archive (after a record that does not parse)."""
    try:
        return not records.reader.rem_length() and not records.reader.read(1)
    except _Broken:
        return False


def _read_record(f: readers.InputFile, record, where: str, order: tuple[int, int], limit: int):
    """A document, a reject, or the kind of a record passed over ("request", "not_html")."""
    skip = _skip_kind(record)
    raw: LimitReader = record.raw_stream  # a Content-Length was checked
    content = None
    if skip is None:
        size = record.payload_length if record.payload_length >= 0 else record.length
        if size > limit:
            content = readers._too_large(where, f"the page holds {readers._mb(size)}", limit)
        else:
            content = _payload(record, where, limit)
    _drain(raw)
    if raw.limit > 0:  # the file ended first
        number = where.rsplit("#", 1)[1]
        return Reject(where, "truncated", f"record {number} is cut off: {raw.limit} of its bytes are missing")
    if skip is not None:
        return skip
    if isinstance(content, Reject):
        return content
    binary = readers.sniff_binary(content)
    if binary:
        return Reject(where, "binary", f"the page is not text: its bytes are those of {binary}")
    html = readers.decode_page(content, _content_type(record.http_headers)[1])
    if not html.strip():
        return Reject(where, "empty", "the page is empty or only whitespace")
    url = record.rec_headers.get_header("WARC-Target-URI")
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    return Document(
        doc_id=readers.make_doc_id(f"warc:{record_id}" if record_id else f"{f.key}#{order[1]}", content),
        source=where,
        order=order,
        kind="html",
        html=html,
        url=url,
        site=readers.site_of(url),
        fetched=_date(record.rec_headers.get_header("WARC-Date")),
    )


def _skip_kind(record) -> str | None:
    """Why a record is passed over, or None for an HTML page to read."""
    kind = (record.rec_type or "").strip().lower()
    if kind != "response":
        return kind if kind in WARC_TYPES else "other"
    http = record.http_headers
    if http is None or not http.protocol.upper().startswith("HTTP/"):
        return "not_http"  # a dns: record, or an empty response
    if http.get_statuscode().strip() != "200":
        return "not_200"
    if _content_type(http)[0] not in HTML_TYPES:
        return "not_html"
    return None


def _content_type(http) -> tuple[str, str | None]:
    """(media type, charset) of an HTTP message's Content-Type."""
    value = http.get_header("content-type") or ""
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, label = param.partition("=")
        if name.strip().lower() == "charset":
            charset = label.strip() or None
    return media.strip().lower(), charset


def _payload(record, where: str, limit: int) -> bytes | Reject:
    """The page's bytes: de-chunked and decoded from its Content-Encoding, up to `limit`."""
    http = record.http_headers
    stream = record.raw_stream
    if "chunked" in (http.get_header("transfer-encoding") or "").lower():
        stream = ChunkedDataReader(stream)
    encoding = (http.get_header("content-encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate", "zstd"):
        stream = _decoding(stream, encoding)
    elif encoding not in ("identity", "none", ""):
        return Reject(
            where,
            "unsupported_encoding",
            f"the page's Content-Encoding is {encoding!r}; gzip, deflate and zstd are read",
        )
    try:
        content = _read_up_to(stream, limit + 1)
    except readers._COMPRESSION_ERRORS as exc:
        if isinstance(exc, EOFError) and record.raw_stream.limit > 0:
            return b""  # the file is cut off: the caller says so
        return Reject(
            where, "corrupt_compressed", f"the page's {encoding} Content-Encoding is damaged: {exc}"
        )
    if len(content) > limit:
        return readers._too_large(where, f"the page holds more than {readers._mb(limit)} decoded", limit)
    return content


def _decoding(stream, encoding: str) -> BinaryIO:
    """A page decoded from its HTTP Content-Encoding as it is read. A page whose bytes do not
    start as that encoding's do is taken as stored already decoded (some crawlers do)."""
    buffered = io.BufferedReader(_Raw(stream), buffer_size=_CHUNK)
    head = buffered.peek(4)[:4]
    if encoding == "zstd":
        return open_zstd(buffered) if head == readers._ZSTD_MAGIC else buffered
    if head[:2] == readers._GZIP_MAGIC:
        wbits = 31  # gzip
    elif (
        encoding == "deflate"
        and len(head) >= 2
        and head[0] & 0x0F == 8
        and int.from_bytes(head[:2]) % 31 == 0
    ):
        wbits = 15  # zlib, as the HTTP specification says deflate is
    elif encoding == "deflate":
        wbits = -15  # raw deflate, as some servers send it
    else:
        return buffered
    return io.BufferedReader(_Inflating(buffered, wbits), buffer_size=_CHUNK)


class _Raw(io.RawIOBase):
    """A warcio stream (`read` only) as a raw stream."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Inflating(io.RawIOBase):
    """gzip, zlib or raw deflate data inflated a buffer at a time, whatever its ratio."""

    def __init__(self, stream: BinaryIO, wbits: int) -> None:
        self._stream = stream
        self._inflate = zlib.decompressobj(wbits)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._inflate.eof:
            data = self._inflate.unconsumed_tail or self._stream.read(_CHUNK)
            if not data:
                raise EOFError("the compressed page ends early")
            out = self._inflate.decompress(data, len(buffer))
            if out:
                buffer[: len(out)] = out
                return len(out)
        return 0


def _read_up_to(stream, size: int) -> bytes:
    parts = []
    while size > 0 and (chunk := stream.read(min(size, _CHUNK))):
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _drain(stream) -> None:
    while stream.read(_CHUNK):
        pass


def _date(value: str | None):
    try:
        return parse_iso8601(value) if value else None
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


# -- Parquet ----------------------------------------------------------------------------------

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
    f: readers.InputFile, rank: int, config: ReadConfig, docs: list[Document] | None = None
) -> tuple[list[Document], list[Reject]]:
    """One document per row of a Parquet file (source `<file>#N`, N the row's number from 1),
    read `_PARQUET_ROWS` rows at a time with only the configured columns, and appended to
    `docs` as they are read."""
    # Opened here: pyarrow cannot open a path whose name is not UTF-8 (`readers.source_of`).
    with open(f.path, "rb") as handle:
        return _read_parquet(f, handle, rank, config, [] if docs is None else docs)


def _read_parquet(
    f: readers.InputFile, handle: BinaryIO, rank: int, config: ReadConfig, docs: list[Document]
):
    try:
        table = pq.ParquetFile(handle, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        if _from_the_system(exc):
            raise
        return [], [Reject(f.source, "corrupt_archive", f"not a Parquet file: {_first_line(exc)}")]
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
            Reject(f.source, "corrupt_archive", f"the Parquet data is damaged: {_first_line(exc)}{kept}")
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
        if _is_text(column.type) or _is_bytes(column.type):
            lengths = pc.fill_null(pc.binary_length(column), 0).to_pylist()
            sizes = [a + b for a, b in zip(sizes, lengths, strict=True)]
    values = {role: _column_values(batch.column(name)) for role, name in columns.items()}
    for i, size in enumerate(sizes):
        number = first + i + 1
        source = f"{f.source}#{number}"
        if size > limit:
            rejects.append(readers._too_large(source, f"row {number} holds {readers._mb(size)}", limit))
            continue
        try:
            record = {role: _cell(role, column[i]) for role, column in values.items()}
        except ValueError as exc:
            rejects.append(Reject(source, "invalid_record", str(exc)))
            continue
        line = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8", "replace")
        try:
            doc = readers._record_to_document(record, source, f"{f.key}#{number}", line, (rank, number))
        except ValueError as exc:
            rejects.append(Reject(source, "invalid_record", str(exc)))
            continue
        docs.append(doc)


def _column_values(column: pa.Array) -> list:
    """A column's values as Python objects; a value Python cannot hold (a timestamp past the
    year 9999, bytes that are not UTF-8 in a string column, a time zone no database knows:
    pytz's KeyError) is its error, for its row."""
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
        binary = readers.sniff_binary(value)
        if binary:
            raise ValueError(f"field '{role}' is not text: its bytes are those of {binary}")
        return readers.decode_page(value) if role == "html" else readers.decode_text(value)
    return value
