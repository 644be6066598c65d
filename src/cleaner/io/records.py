"""What reading makes: an input file (`InputFile`, `Seen`, `Resume`), a record turned into a
`Document` with its id and site, and a path written as text without losing a byte of it.

Identity: a document's `source` is the path as the user gave it (plus `#N` for the Nth record
of a file). Its `doc_id` is derived from the record's own `id` when it has one, else from its
path relative to the input root and a hash of its bytes, so the same input gets the same id
wherever the folder lives. An input file itself is known by its real path (`InputFile.real`):
two files with the same name in different folders are never one input. A file name is bytes,
not always UTF-8: `source_of` writes it as text without losing any of them, and
`path_of_source` reads it back.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from cleaner.document import Document
from cleaner.timestamps import parse_iso8601, to_utc


class Resume(NamedTuple):
    """How far an earlier run read a JSONL file, so that a file that has only grown since is
    read from there (`cleaner.corpus.index` decides when)."""

    size: int  # bytes read
    digest: str  # of those bytes: the file must still start with them
    lines: int  # lines read: the next one is number lines + 1
    tail: int  # bytes of its last line when that had no line break yet (being written)


class Span(NamedTuple):
    """A range of a large plain JSONL file, read as a batch of its own so that every worker
    reads a part of the file (`readers.split_jsonl`). It starts and ends at a line break."""

    start: int  # its first byte
    end: int  # just after its last line break (or the file's last byte)
    lines: int  # lines before it: its first line is number lines + 1
    last: bool = False  # the file's last range


@dataclass(frozen=True, order=True)
class InputFile:
    source: str  # the path as the user gave it, with "/" separators (`source_of`); sorts the inputs
    key: str  # path relative to the input root (`source_of`): stable part of the document id
    path: Path  # the file itself
    # The file itself, however it was reached (`source_of` its real path): what earlier runs'
    # reads are remembered by.
    real: str = field(default="", compare=False)
    resume: Resume | None = field(default=None, compare=False)
    span: Span | None = field(default=None, compare=False)  # only these bytes are read
    size: int | None = field(default=None, compare=False)  # bytes on disk when found; None: not known

    @property
    def identity(self) -> str:
        return self.real or source_of(os.path.realpath(self.path))


def source_of(path: str | bytes | os.PathLike) -> str:
    r"""A path as text that UTF-8 (and so Parquet) can hold, without losing a byte of it.

    A file name is bytes, not always UTF-8 (`caf<E9>.txt`, named in latin-1): each byte that
    is not part of valid UTF-8 becomes `\xNN` (`caf\xe9.txt`, as Python's `backslashreplace`
    writes it), and a backslash that is in the name is doubled (`a\\b`), so the two cannot be
    confused. A UTF-8 name without a backslash is unchanged. `path_of_source` is the inverse.
    """
    raw = os.fsencode(Path(os.fsdecode(path)).as_posix())
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


_ESCAPED = re.compile(rb"\\(\\|x[0-9a-f]{2})")


def path_of_source(source: str) -> Path:
    """The path a file's `source` stands for, with its original bytes (`source_of` undone).
    A record's source is its file's followed by `#N`: remove that first."""
    raw = _ESCAPED.sub(
        lambda m: b"\\" if m[1] == b"\\" else bytes([int(m[1][1:], 16)]), source.encode("utf-8")
    )
    return Path(os.fsdecode(raw))


class Seen(NamedTuple):
    """A file as it was read, so a later run can recognise it without reading it again."""

    rank: int  # its place in input order
    key: str
    size: int  # bytes read: all of the file as it was then
    mtime_ns: int
    digest: str  # of those bytes
    path: str = ""  # its real path (`InputFile.identity`)
    lines: int = 0  # of a JSONL file: lines read
    tail: int = 0  # of a plain JSONL file: bytes after its last line break
    # of a plain JSONL file: the source of its last line, held unread (`readers.being_written`);
    # the file is then as read up to that line. Not kept in the index: only said by the run.
    held: str = ""


def record_to_document(record, source: str, key: str, line: bytes, order) -> Document:
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    fields = {}
    for name in ("text", "html", "url", "title"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field '{name}' must be a string, got {type(value).__name__}")
        value = _valid_unicode(value.strip()) if value is not None else None
        fields[name] = value or None
    if fields["text"] is None and fields["html"] is None:
        raise ValueError("the record has no non-empty 'text' or 'html' field")
    record_id = record.get("id")
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, (str, int))):
        raise ValueError(f"field 'id' must be a string or an integer, got {type(record_id).__name__}")
    if isinstance(record_id, str):  # "" is how exporters write "no id", as null is
        record_id = _valid_unicode(record_id) if record_id.strip() else None
    published = record.get("published")
    if isinstance(published, str) and not published.strip():  # likewise "no date"
        published = None
    try:
        if isinstance(published, date):  # a Parquet timestamp or date (JSON has none)
            published = to_utc(published)
        elif published is not None:
            if not isinstance(published, str):
                raise ValueError(f"must be an ISO 8601 string, got {type(published).__name__}")
            published = parse_iso8601(published)  # ValueError names the bad value
    except ValueError as exc:  # not a date, or not one of the years 1 to 9999 in UTC
        raise ValueError(f"field 'published': {exc}") from None
    url = fields["url"]
    return Document(
        doc_id=make_doc_id(key, line) if record_id is None else make_doc_id(f"id:{record_id}"),
        source=source,
        order=order,
        kind="text" if fields["text"] is not None else "html",
        html=fields["html"] if fields["text"] is None else None,
        body=fields["text"],
        url=url,
        site=site_of(url),
        title=fields["title"],
        published=published,
    )


def _valid_unicode(value: str) -> str:
    """JSON may escape half of a surrogate pair ("\\ud800"), which no UTF-8 file can hold:
    such halves become U+FFFD, as broken bytes do, and whole pairs their character."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def make_doc_id(key: str, content: bytes = b"") -> str:
    digest = hashlib.blake2b(key.encode("utf-8") + b"\0" + content, digest_size=8)
    return digest.hexdigest()


def site_of(url: str | None) -> str | None:
    """The site a URL belongs to: its host (`site_of_host`)."""
    if not url:
        return None
    try:
        return site_of_host(urlsplit(url).hostname)
    except ValueError:
        return None


def site_of_host(host: str | None) -> str | None:
    """A host as a site: lower-cased, without "www.", and in Unicode, so that a host spelled
    in punycode ("xn--bcher-kva.example") is the same site as in its letters ("bücher.example")."""
    host = (host or "").strip().strip(".").lower()
    if "xn--" in host:
        with contextlib.suppress(UnicodeError):  # not valid punycode: kept as written
            host = host.encode("ascii").decode("idna").lower()
    return host.removeprefix("www.") or None
