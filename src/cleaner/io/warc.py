"""WARC archives (`.warc`, `.warc.gz`, `.warc.zst`): the pages a crawl fetched.

`readers.read_file` opens the file, hashes its bytes and decompresses it; this module turns
what it holds into documents, under the same rules as a JSONL file: one record at a time,
none held beyond `read.max_record_bytes`, and a bad record a reject with a reason while the
records around it still come through.

The crawl's HTTP `response` records with status 200 and an HTML content type become
documents; the URL and fetch date come from the record's headers, the page's encoding from its
HTTP `Content-Type` first. The other records (the crawl's `warcinfo`, requests, metadata,
revisits, images, redirects, errors) are not rejects: they are counted by kind as
`warc_skipped_<kind>`, into the `Counter` the caller passes. warcio parses the records. The
file's compression is undone before warcio sees it, so a record-per-member `.warc.gz` and a
whole-file `gzip crawl.warc` read alike, and a file cut off is noticed as it is for any gzip
input.
"""

from __future__ import annotations

import codecs
import io
import zlib
from collections import Counter
from typing import BinaryIO

from warcio.archiveiterator import WARCIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecordLoader

from cleaner.config import ReadConfig
from cleaner.document import Document, Reject
from cleaner.errors import first_line
from cleaner.io import compression, decode
from cleaner.io.compression import open_zstd
from cleaner.io.records import InputFile, make_doc_id, site_of
from cleaner.timestamps import parse_iso8601

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SKIPPED = "warc_skipped_"  # + the kind: the keys counted for records passed over by design
# WARC record types (WARC 1.1, section 6); a record of another type counts as "other".
WARC_TYPES = frozenset(
    {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation"}
)
_CHUNK = 1 << 16
_WARC_BLOCK = 1 << 14  # warcio's read size


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
    # warcio wrote three lines to stderr when a record's Content-Length ended before the
    # record did ("Record not followed by newline"), naming no file, and read on: its
    # `err_count` says it, and `read_warc` rejects the record cut short.
    INC_RECORD = ""

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
        except compression.COMPRESSION_ERRORS as exc:
            raise _Broken(exc) from exc
        self.consumed += len(data)
        if self._cap is not None and self.consumed > self._cap:
            raise _HeadersTooLarge
        return data

    def tell(self) -> int:
        return self.consumed


def read_warc(
    f: InputFile,
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

    # A page is handed on once the next record is found where its Content-Length said: when
    # bytes of the page lie past it (a writer that counted characters, not bytes), warcio
    # skips them to the next record and the page read is cut short.
    pending: Document | None = None
    said = 0  # warcio's `err_count` before the next record was looked for

    def hand_on() -> None:
        nonlocal pending
        if pending is not None and records.err_count > said:
            detail = (
                f"record {pending.order[1]}: its Content-Length ends before the record does (bytes of it "
                "follow, not the blank lines that end a record: a writer that counted characters, not "
                "bytes?); the page read would be cut short"
            )
            rejects.append(Reject(pending.source, "corrupt_archive", detail))
        elif pending is not None:
            docs.append(pending)
        pending = None

    while True:
        source.headers(limit)
        said = records.err_count
        try:
            record = next(records, None)
            hand_on()
        except _CutOff:
            stop("truncated", f"record {number + 1} is cut off in its HTTP headers", number + 1)
            break
        except _Broken as exc:
            reject = compression.bad_compression(f.source, exc.error, "")
            stop(reject.reason, f"record {number + 1}: {reject.detail}", number + 1)
            break
        except _HeadersTooLarge:
            stop("too_large", f"record {number + 1}'s headers run past {compression.mb(limit)}", number + 1)
            break
        except Exception as exc:  # warcio's parser on untrusted bytes (ArchiveLoadFailed, or worse)
            if number == 0:
                rejects.append(Reject(f.source, "corrupt_archive", f"not a WARC file: {first_line(exc)}"))
            elif isinstance(exc, ArchiveLoadFailed) and _at_end(records):
                stop("truncated", f"record {number + 1} is cut off in its first line", number + 1)
            else:
                what = f"record {number + 1} is not a WARC record: {first_line(exc)}"
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
            reject = compression.bad_compression(f.source, exc.error, "")
            stop(reject.reason, f"record {number}: {reject.detail}", number)
            break
        if isinstance(outcome, str):
            counts[SKIPPED + outcome] += 1
        elif isinstance(outcome, Document):
            pending = outcome
        elif outcome.reason == "truncated":  # the file ends inside this record
            stop(outcome.reason, outcome.detail, number)
            break
        else:
            rejects.append(outcome)
    hand_on()  # the last page, or one before a record that stopped the reading
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


def _read_record(f: InputFile, record, where: str, order: tuple[int, int], limit: int):
    """A document, a reject, or the kind of a record passed over ("request", "not_html")."""
    skip = _skip_kind(record)
    raw: LimitReader = record.raw_stream  # a Content-Length was checked
    content = None
    if skip is None:
        size = record.payload_length if record.payload_length >= 0 else record.length
        if size > limit:
            content = compression.too_large(where, f"the page holds {compression.mb(size)}", limit)
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
    charset = _content_type(record.http_headers)[1]
    utf16 = decode.utf16_of_http_label(charset)
    if utf16 and not content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        html = content.decode(utf16, errors="replace")  # no byte order mark to tell it by
    else:
        binary = decode.sniff_binary(content)
        if binary:
            return Reject(where, "binary", f"the page is not text: its bytes are those of {binary}")
        html = decode.decode_page(content, charset)
    if not html.strip():
        return Reject(where, "empty", "the page is empty or only whitespace")
    url = record.rec_headers.get_header("WARC-Target-URI")
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    return Document(
        doc_id=make_doc_id(f"warc:{record_id}" if record_id else f"{f.key}#{order[1]}", content),
        source=where,
        order=order,
        kind="html",
        html=html,
        url=url,
        site=site_of(url),
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
        stream = io.BufferedReader(_Raw(stream), buffer_size=_CHUNK)
        if not _markup(stream.peek(_CHUNK)):  # else stored already decoded (some crawlers do)
            return Reject(
                where,
                "unsupported_encoding",
                f"the page's Content-Encoding is {encoding!r}; gzip, deflate and zstd are read",
            )
    try:
        content = _read_up_to(stream, limit + 1)
    except compression.COMPRESSION_ERRORS as exc:
        if isinstance(exc, EOFError) and record.raw_stream.limit > 0:
            return b""  # the file is cut off: the caller says so
        return Reject(
            where, "corrupt_compressed", f"the page's {encoding} Content-Encoding is damaged: {exc}"
        )
    if len(content) > limit:
        return compression.too_large(
            where, f"the page holds more than {compression.mb(limit)} decoded", limit
        )
    return content


def _decoding(stream, encoding: str) -> BinaryIO:
    """A page decoded from its HTTP Content-Encoding as it is read. A page whose bytes do not
    start as that encoding's do is taken as stored already decoded (some crawlers do).

    Not warcio's `content_stream()`, measured as fast (docs/benchmarks.md, 2026-12-06): it
    inflates a whole block at once whatever its ratio, reads no zstd, takes a cut page for a
    whole one and a page damaged past its first block for a shorter one (a line on stderr)."""
    buffered = io.BufferedReader(_Raw(stream), buffer_size=_CHUNK)
    head = buffered.peek(4)[:4]
    if encoding == "zstd":
        return open_zstd(buffered) if head == compression.ZSTD_MAGIC else buffered
    if head[:2] == compression.GZIP_MAGIC:
        wbits = 31  # gzip
    elif (
        encoding == "deflate"
        and len(head) >= 2
        and head[0] & 0x0F == 8
        and int.from_bytes(head[:2]) % 31 == 0
    ):
        wbits = 15  # zlib, as the HTTP specification says deflate is
    elif encoding == "deflate":
        start = buffered.peek(_CHUNK)
        if _markup(start) and not _inflates(start):
            return buffered
        wbits = -15  # raw deflate, as some servers send it
    else:
        return buffered
    return io.BufferedReader(_Inflating(buffered, wbits), buffer_size=_CHUNK)


def _markup(head: bytes) -> bool:
    """Whether a page's first bytes are those of a page stored decoded: markup (after white
    space or a byte order mark), not compressed data."""
    return head.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1] == b"<"


def _inflates(head: bytes) -> bool:
    """Whether `head` begins raw deflate data: markup stored decoded fails within its first
    bytes ("invalid block type", "invalid code lengths set")."""
    try:
        zlib.decompressobj(wbits=-15).decompress(head, _CHUNK)
    except zlib.error:
        return False
    return True


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
