"""Finding inputs and reading them into documents.

`discover` turns the user's paths into a sorted list of input files; `read_file` turns one
file into documents (one per page or text file, one per JSONL line; WARC archives and
Parquet files are read by `warc` and `parquet`). Anything that cannot be read becomes a
`Reject` with a reason; good records next to a bad one still come through.

Inputs are what crawls produce, so nothing about them is trusted: files are streamed with a
size limit per record (`read.max_record_bytes`), gzip and zstd are decompressed as they are
read, images and PDFs saved under a page's name are recognised by their bytes, and a page's
encoding is taken from its byte order mark or its declared charset as a browser would, else
guessed.

What a file and a record become, and how they are named: `records`.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from cleaner.config import ReadConfig
from cleaner.document import Document, Reject
from cleaner.errors import InputError
from cleaner.io import parquet, warc
from cleaner.io.compression import (
    COMPRESSED,
    COMPRESSION_ERRORS,
    GZIP_MAGIC,
    ZSTD_MAGIC,
    bad_compression,
    mb,
    open_zstd,
    too_large,
)
from cleaner.io.decode import decode_page, decode_text, sniff_binary
from cleaner.io.records import InputFile, Resume, Seen, Span, make_doc_id, record_to_document, source_of

FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".jsonl": "jsonl",
    ".warc": "warc",  # cleaner.io.warc, cleaner.io.parquet
    ".parquet": "parquet",  # cleaner.io.warc, cleaner.io.parquet
}
_NOT_A_FILE = "not a regular file (a pipe, socket or device): reading it could block forever"


def discover(
    paths: Sequence[str | Path], exclude: str | Path | None = None, enough: int | None = None
) -> tuple[list[InputFile], list[Reject]]:
    """Expand files and folders (recursively) into input files in sorted path order.

    Hidden files and folders (".git", ".DS_Store") are skipped; files of an unknown type
    are rejected so the user sees them. A path that does not exist is a usage error.
    Nothing inside `exclude` (the output folder) is an input: a corpus written inside its
    inbox would otherwise be read back as input by the next run; a path given that lies in
    it is a usage error (its files would go unread, unsaid). With `enough`, the walk
    stops at that many files, for a caller that only counts to it.
    """
    files: dict[str, InputFile] = {}  # by resolved path: a file reached twice is read once
    rejects: list[Reject] = []
    skip = os.path.realpath(exclude) if exclude is not None else None
    check_input_paths(paths, exclude)  # every one, before a walk that may stop early
    for path, source, key in _candidates(paths, skip, rejects):
        _add(files, rejects, path, source, key, skip)
        if enough is not None and len(files) >= enough:
            break
    return sorted(files.values()), sorted(rejects, key=lambda r: r.source)


def check_input_paths(paths: Sequence[str | Path], out: str | Path | None = None) -> None:
    """Each path names something that exists, outside the output folder `out`: a usage error
    otherwise (the command and `cleaner.run` check them before any work, before Prefect starts
    and before the output folder is locked). An empty path is an unset variable, not the
    current folder."""
    skip = os.path.realpath(out) if out is not None else None
    for given in paths:
        if os.fspath(given) in ("", b""):
            raise InputError("an input path is empty; name the current folder '.' if it is meant")
        if not Path(given).exists():
            raise InputError(f"input path does not exist: {source_of(given)}")
        if skip and _inside(os.path.realpath(given), skip):
            raise InputError(
                f"input path {source_of(given)} lies inside the output folder {source_of(out)}, whose "
                "files are never read as input: move the pages out of it, or write to another --out"
            )


def _candidates(
    paths: Sequence[str | Path], skip: str | None, rejects: list[Reject]
) -> Iterator[tuple[Path, str, str]]:
    """(path, source, key) of every file named or under a folder named, hidden ones and the
    output folder's left out, in sorted order within each folder; a folder that cannot be
    read, or is reached again through a link, is a reject."""
    for given in paths:
        root = Path(given)  # never inside `skip` (`discover` refuses that)
        if not root.is_dir():
            yield root, source_of(root), source_of(root.name)
            continue
        seen_dirs: set[tuple[int, int]] = set()
        # The folder's own name starts its files' keys (and so their ids), however it was
        # spelled: ".", "..", "pages/.." name a folder as "pages" does.
        top = source_of(root.name if root.name not in ("", "..") else Path(os.path.abspath(root)).name)
        for dirpath, dirnames, filenames in _walk(
            root, onerror=lambda error: rejects.append(_unreadable_folder(error))
        ):
            try:
                stat = os.stat(dirpath)
            except OSError as exc:
                rejects.append(_unreadable_folder(exc))
                dirnames[:] = []
                continue
            if (stat.st_dev, stat.st_ino) in seen_dirs:  # a symlink loop: walked already
                rejects.append(
                    Reject(
                        source_of(dirpath),
                        "symlink_loop",
                        "folder reached twice through a symbolic link; read once",
                        key=source_of(os.path.realpath(dirpath)),
                    )
                )
                dirnames[:] = []
                continue
            seen_dirs.add((stat.st_dev, stat.st_ino))
            dirnames[:] = sorted(
                d
                for d in dirnames
                if not d.startswith(".") and not (skip and _inside(os.path.realpath(Path(dirpath) / d), skip))
            )
            for name in sorted(filenames):
                if not name.startswith("."):
                    path = Path(dirpath) / name
                    yield path, source_of(path), f"{top}/{source_of(path.relative_to(root))}"


def _walk(root: Path, onerror: Callable[[OSError], None]) -> Iterator[tuple[str, list[str], list[str]]]:
    """`os.walk(root, onerror=onerror, followlinks=True)`, top-down (the caller may prune
    `dirnames`), with a stack instead of recursion: Python 3.11's walk recurses once per
    folder level, and a crawler trap's folder a thousand levels deep raised RecursionError
    and ended the run."""
    stack = [os.fspath(root)]
    while stack:
        top = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()  # through a link, as followlinks does
                    except OSError:
                        is_dir = False
                    (dirnames if is_dir else filenames).append(entry.name)
        except OSError as error:
            onerror(error)
            continue
        yield top, dirnames, filenames
        stack.extend(os.path.join(top, name) for name in reversed(dirnames))


def output_among_inputs(paths: Sequence[str | Path], out: str | Path) -> str | None:
    """The input path that holds the output folder (or lies inside it), if one does."""
    target = os.path.realpath(out)
    for given in paths:
        real = os.path.realpath(given)
        if _inside(target, real) or _inside(real, target):
            return str(given)
    return None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _unreadable_folder(error: OSError) -> Reject:
    where = source_of(error.filename) if error.filename else "?"
    return Reject(where, "unreadable", f"cannot list folder: {error.strerror or error}")


def _add(files: dict, rejects: list, path: Path, source: str, key: str, skip: str | None) -> None:
    real = os.path.realpath(path)
    identity = source_of(real)  # a rejected file is remembered by it too (`Reject.key`)
    if skip and _inside(real, skip):  # a link into the output folder
        return
    try:
        kind_of(path)
    except KeyError:
        rejects.append(
            Reject(
                source,
                "unsupported_type",
                f"'{source_of(path.suffix or path.name)}' files are not read; inputs are "
                f"{', '.join(sorted(FORMATS))}, optionally compressed (.gz, .zst; not .parquet)",
                key=identity,
            )
        )
        return
    try:  # the resolved path: `Path.resolve` would walk the links and stat the file again
        stat = os.stat(real)
    except OSError as exc:  # a dangling link, a loop of links
        rejects.append(Reject(source, "unreadable", f"cannot open it: {exc.strerror or exc}", key=identity))
        return
    if not S_ISREG(stat.st_mode):
        rejects.append(Reject(source, "not_a_file", _NOT_A_FILE, key=identity))
        return
    # Reached twice (a file given, and its folder): the same spelling whatever the order of
    # the paths given, since its records' ids are made from its key.
    found = InputFile(source, key, path, identity, size=stat.st_size)
    held = files.get(real)
    if held is None or (found.key, found.source) < (held.key, held.source):
        files[real] = found


def read_files(
    files: Iterable[tuple[int, InputFile]],
    config: ReadConfig | None = None,
    skipped: Counter | None = None,
    docs: list[Document] | None = None,
) -> tuple[list[Document], list[Reject], list[Seen]]:
    """Read a batch of (input rank, file) pairs; also returns each file read, as `Seen`.
    Records passed over by design (a WARC's requests, non-HTML responses) are counted by
    kind into `skipped` ("warc_skipped_request"), when given. Documents are appended to
    `docs` as they are read (see `read_file`)."""
    config = config or ReadConfig()
    docs = [] if docs is None else docs
    rejects: list[Reject] = []
    seen: list[Seen] = []
    for rank, f in files:
        _, r, s = read_file(f, rank, config, skipped, docs)
        rejects.extend(r)
        if s is not None:
            seen.append(s)
    return docs, rejects, seen


def read_file(
    f: InputFile,
    rank: int,
    config: ReadConfig | None = None,
    skipped: Counter | None = None,
    docs: list[Document] | None = None,
) -> tuple[list[Document], list[Reject], Seen | None]:
    """Read one input file. `rank` is its place in input order.

    The file is streamed: a page or text file is held only up to `max_record_bytes`, a JSONL
    file one line at a time, and compressed input is decompressed as it is read, so neither
    a huge file nor a gzip bomb can exhaust memory. Every byte is still hashed, for `Seen`.
    Its documents are appended to `docs` one at a time as they are read: a list that hands
    them on as it fills (`pipeline`) keeps a file of a million records from being held whole.
    A file the disk fails to read part-way is an `unreadable` reject after the documents read
    before.
    A plain JSONL file with `f.resume` that still starts with the bytes read then is read
    from where that read ended (`_resume`). A range of a file (`f.span`, `split_jsonl`) is
    read alone, its bytes only, and gives no `Seen`: its file's was made with the ranges.
    """
    config = config or ReadConfig()
    docs = [] if docs is None else docs
    kind, compression = kind_of(f.path)
    try:
        fh = open(f.path, "rb")  # noqa: SIM115 (closed below; open errors are a reject)
    except OSError as exc:
        return [], [Reject(f.source, "unreadable", exc.strerror or str(exc), key=f.identity)], None
    with fh:
        stat = os.fstat(fh.fileno())
        if not S_ISREG(stat.st_mode):  # replaced by a pipe or device since `discover`
            return [], [Reject(f.source, "not_a_file", _NOT_A_FILE, key=f.identity)], None
        plain_jsonl = kind == "jsonl" and compression is None
        span = f.span if plain_jsonl else None
        try:
            if span is not None:
                fh.seek(span.start)
                raw, first_line = _Range(fh, span.end - span.start), span.lines
            elif plain_jsonl and f.resume:
                raw, first_line = _resume(fh, f.resume)
            else:
                raw, first_line = _HashingReader(fh), 0
        except OSError as exc:
            return [], [Reject(f.source, "unreadable", exc.strerror or str(exc), key=f.identity)], None
        stream: BinaryIO = io.BufferedReader(raw, buffer_size=1 << 16)
        if kind != "parquet" and not first_line and span is None:  # pyarrow opens Parquet (random access)
            magic = stream.peek(4)[:4]
            if compression == "gzip" or (not compression and magic[:2] == GZIP_MAGIC):
                stream = gzip.GzipFile(fileobj=stream, mode="rb")
            elif compression == "zstd" or (not compression and magic == ZSTD_MAGIC):
                stream = open_zstd(stream)
        try:
            if kind == "parquet":
                _, rejects = parquet.read_parquet(f, rank, config, docs)
            elif kind == "warc":
                _, rejects = warc.read_warc(f, stream, rank, config, skipped, docs)
            elif kind == "jsonl":
                hold = plain_jsonl and span is None
                rejects, lines, held = _read_jsonl(f, stream, rank, config, first_line, docs, hold)
            else:
                rejects = _read_page(f, kind, stream, stat.st_size, rank, config, docs)
            if span is not None:
                return docs, rejects, None
            raw.drain()
        except OSError as exc:  # the disk, not the data: the rest of the file cannot be read
            detail = exc.strerror or str(exc)
            return docs, [Reject(f.source, "unreadable", detail, key=f.identity)], None
    if kind != "jsonl":
        lines, held = 0, ""
    return docs, rejects, _seen(f, rank, stat, raw, lines, plain_jsonl, held)


def _seen(
    f: InputFile,
    rank: int,
    stat: os.stat_result,
    raw: _HashingReader,
    lines: int,
    plain: bool,
    held: str = "",
) -> Seen:
    """The file as `raw` read it, all of it: how a later run recognises it (`Seen`). With a
    last line `held`, as read up to that line, which a later run then reads again."""
    if held:
        size, digest = raw.without_tail()
        return Seen(rank, f.key, size, stat.st_mtime_ns, digest, f.identity, lines - 1, 0, held)
    tail = raw.tail if plain else 0
    return Seen(rank, f.key, raw.count, stat.st_mtime_ns, raw.hexdigest(), f.identity, lines, tail)


def split_jsonl(
    f: InputFile, rank: int, size: int, limit: int = ReadConfig.max_record_bytes
) -> tuple[list[InputFile], Seen] | None:
    """A plain JSONL file of more than `size` bytes to read (after `f.resume`, if it has
    grown) as ranges of about `size` bytes (`f.span`), each cut just after a line break so
    that no line is split: a batch each, so that every worker reads a part of one large file.
    With them, the file's `Seen`, made here as `read_file` makes it (it hashes every byte,
    where a range reads only its own) and what the ranges read together: their lines are
    counted here too, so each knows the number of its first, and a last line held unread
    (`being_written`; `limit` is `read.max_record_bytes`) is left out of the last range.
    None for a file to read whole: compressed, not JSONL, small, one long line, or not
    readable (reading it says why)."""
    try:
        if kind_of(f.path) != ("jsonl", None):
            return None
        if f.path.stat().st_size - (f.resume.size if f.resume else 0) <= size:
            return None
        with open(f.path, "rb") as fh:
            stat = os.fstat(fh.fileno())
            if not S_ISREG(stat.st_mode):
                return None
            raw, lines = _resume(fh, f.resume) if f.resume else (_HashingReader(fh), 0)
            if not lines:  # read whole, as `read_file` would decompress it
                magic = fh.read(4)
                fh.seek(0)
                if magic[:2] == GZIP_MAGIC or magic == ZSTD_MAGIC:
                    return None
            spans, lines = _cut(raw, size, lines)
            held = ""
            if 0 < raw.tail <= limit + 2:  # as `_read_jsonl` reads it: a longer line is too large
                fh.seek(raw.count - raw.tail)
                tail = fh.read(raw.tail)
                if len(tail.rstrip(b"\r\n")) <= limit and being_written(tail):
                    held = f"{f.source}#{lines}"
                    spans = _without_tail(spans, raw.count - raw.tail)
    except OSError:
        return None
    if len(spans) < 2:
        return None
    ranges = [replace(f, span=span) for span in spans]
    return ranges, _seen(f, rank, stat, raw, lines, plain=True, held=held)


def _without_tail(spans: list[Span], end: int) -> list[Span]:
    """The spans cut to end at `end`, the start of a last line held unread."""
    spans = [s._replace(end=min(s.end, end)) for s in spans if s.start < end]
    if spans:
        spans[-1] = spans[-1]._replace(last=True)
    return spans


def _cut(raw: _HashingReader, size: int, lines: int) -> tuple[list[Span], int]:
    """Read `raw` to its end (`lines` lines before it), cut into spans of at least `size`
    bytes that end just after a line break, or at the end; also the number of the last line.
    Counting line breaks a megabyte at a time runs at GB/s."""
    spans: list[Span] = []
    start, before = raw.count, lines
    cut = start + size - 1  # the first place a span's last line break may be
    while chunk := raw.read(1 << 20):
        at = raw.count - len(chunk)  # where the chunk starts in the file
        while cut < raw.count and (i := chunk.find(b"\n", max(cut - at, 0))) >= 0:
            end = at + i + 1
            counted = lines + chunk.count(b"\n", 0, i + 1)
            spans.append(Span(start, end, before))
            start, before, cut = end, counted, end + size - 1
        lines += chunk.count(b"\n")
    if raw.count > start:
        spans.append(Span(start, raw.count, before))
    if spans:
        spans[-1] = spans[-1]._replace(last=True)
    return spans, lines + (raw.tail > 0)


def _resume(fh: BinaryIO, resume: Resume) -> tuple[_HashingReader, int]:
    """A plain JSONL file positioned where an earlier read ended, if it still starts with the
    bytes read then (its digest says so), with the number of the lines before: only what was
    appended is read. A last line read without its line break (whole JSON: a line that was
    not is held, and not read) is skipped if what followed it was white space and its line
    break ("\r\n" too), or white space so far; it is read again if more was written onto it.
    Otherwise the whole file, from its first line."""
    hasher = hashlib.blake2b(digest_size=16)
    whole = resume.size - resume.tail  # the bytes of its complete lines
    if _hash_into(hasher, fh, whole):
        before_tail = hasher.copy()
        if _hash_into(hasher, fh, resume.tail) and hasher.hexdigest() == resume.digest:
            if not resume.tail:
                return _HashingReader(fh, hasher, resume.size), resume.lines
            following = fh.read(_ENDING)
            rest, newline, _ = following.partition(b"\n")
            if not rest.strip() and (newline or len(following) < _ENDING):  # the line was complete
                hasher.update(rest + newline)
                count = resume.size + len(rest + newline)
                fh.seek(count)
                if newline:
                    return _HashingReader(fh, hasher, count), resume.lines
                return _HashingReader(fh, hasher, count, (whole, before_tail)), resume.lines
            fh.seek(whole)  # written on since: read it again, whole
            return _HashingReader(fh, before_tail, whole), resume.lines - 1
    fh.seek(0)
    return _HashingReader(fh), 0


_ENDING = 4096  # white space after a last line read without its line break, looked through


def _hash_into(hasher, fh: BinaryIO, size: int) -> bool:
    """Hash the next `size` bytes of `fh`; False if it ends before."""
    while size > 0:
        chunk = fh.read(min(size, 1 << 20))
        if not chunk:
            return False
        hasher.update(chunk)
        size -= len(chunk)
    return True


def kind_of(path: Path) -> tuple[str, str | None]:
    """(format, compression: "gzip", "zstd" or None) of an input file, by its name."""
    suffix = path.suffix.lower()
    if suffix in COMPRESSED:
        kind = FORMATS[Path(path.stem).suffix.lower()]
        if kind == "parquet":
            raise KeyError(path.name)
        return kind, COMPRESSED[suffix]
    return FORMATS[suffix], None


def _read_page(
    f: InputFile, kind: str, stream: BinaryIO, size: int, rank: int, config: ReadConfig, docs: list[Document]
) -> list[Reject]:
    """A page or text file: one document, appended to `docs`, or a reject saying why not."""
    limit = config.max_record_bytes
    if isinstance(getattr(stream, "raw", None), _HashingReader) and size > limit:  # not decompressed
        return [too_large(f.source, f"{mb(size)}", limit)]
    try:
        content = stream.read(limit + 1)
    except COMPRESSION_ERRORS as exc:
        return [bad_compression(f.source, exc, "")]
    if len(content) > limit:
        return [too_large(f.source, f"more than {mb(limit)} once decompressed", limit)]
    binary = sniff_binary(content)
    if binary:
        return [Reject(f.source, "binary", f"the file is not text: its bytes are those of {binary}")]
    text = decode_page(content) if kind == "html" else decode_text(content)
    if not text.strip():
        return [Reject(f.source, "empty", "the file is empty or only whitespace")]
    doc = Document(
        doc_id=make_doc_id(f.key, content),
        source=f.source,
        order=(rank, 0),
        kind=kind,
        html=text if kind == "html" else None,
        body=text if kind == "text" else None,
    )
    docs.append(doc)
    return []


def _read_jsonl(
    f: InputFile,
    stream: BinaryIO,
    rank: int,
    config: ReadConfig,
    first_line: int,
    docs: list[Document],
    hold: bool = False,
) -> tuple[list[Reject], int, str]:
    """One document per line, appended to `docs`; a bad line is a reject and the lines around
    it still count. `stream` starts after line `first_line` (a file that grew since an earlier
    run read it). Also returns the number of the last line read, and with `hold` (a plain
    file read to its end), the source of a last line held unread (`being_written`), or ""."""
    rejects: list[Reject] = []
    limit = config.max_record_bytes
    number = first_line
    blank = True  # no line but blank ones so far
    try:
        # a line of the limit and its "\r\n" whole: at limit + 1 its "\n" came as a line of its own
        while line := stream.readline(limit + 2):
            number += 1
            source = f"{f.source}#{number}"
            if len(line.rstrip(b"\r\n")) > limit:
                size = len(line) + _skip_line(stream, line)
                rejects.append(too_large(source, f"line {number} holds {mb(size)}", limit))
                continue
            if number == 1:
                if line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32's too
                    detail = (
                        "the file is UTF-16 or UTF-32 (it starts with their byte order mark); JSONL is "
                        "UTF-8: convert it (iconv -f UTF-16 -t UTF-8)"
                    )
                    rejects.append(Reject(f.source, "not_utf8", detail))
                    return rejects, number, ""
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            blank = False
            try:
                record = json.loads(line.decode("utf-8", errors="replace"))
            except json.JSONDecodeError as exc:
                if hold and not line.endswith(b"\n"):  # the last line, not whole yet (`being_written`)
                    return rejects, number, source
                rejects.append(Reject(source, "invalid_json", f"line {number} is not JSON: {exc}"))
                continue
            except ValueError:  # valid JSON, but Python reads no integer of over 4,300 digits
                detail = f"line {number} holds an integer of thousands of digits, too long to read"
                rejects.append(Reject(source, "invalid_record", detail))
                continue
            except RecursionError:
                detail = f"line {number} nests arrays or objects too deep to read (about a thousand levels)"
                rejects.append(Reject(source, "invalid_record", detail))
                continue
            # The id is of the line with one "\n" after its last byte that is not white space,
            # whatever ended it: a last line read before its line break came, or ended by
            # "\r\n" or spaces, has the id it has read whole.
            content = line.rstrip() + b"\n"
            try:
                doc = record_to_document(record, source, f"{f.key}#{number}", content, (rank, number))
            except ValueError as exc:
                rejects.append(Reject(source, "invalid_record", str(exc)))
                continue
            docs.append(doc)
    except COMPRESSION_ERRORS as exc:
        kept = f"; the {number} lines before it were read" if number else ""
        rejects.append(bad_compression(f.source, exc, kept))
    if first_line == 0 and blank and not rejects:
        rejects.append(Reject(f.source, "empty", "the file is empty or only whitespace"))
    return rejects, number, ""


def being_written(line: bytes) -> bool:
    """Whether a plain JSONL file's last line, `line`, is held unread: it has no line break
    and is not JSON, as a line still being written is not. It is neither a record nor a
    reject yet; the run says it (`Seen.held`), and it is read again, whole, once the file
    grows. Rejected, it was a reject in the run that saw it cut and a document in the next
    one: one record counted twice in the corpus."""
    if line.endswith(b"\n") or not line.strip():
        return False
    try:
        json.loads(line.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return True
    except (ValueError, RecursionError):  # JSON, too big or deep to read: a reject
        pass
    return False


def _skip_line(stream: BinaryIO, start: bytes) -> int:
    """Read past the rest of an overlong line without holding it; returns the bytes skipped."""
    skipped = 0
    if start.endswith(b"\n"):
        return skipped
    while chunk := stream.readline(1 << 20):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


class _Range(io.RawIOBase):
    """The next `size` bytes of a file, and no more (a `Span`)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh = fh
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)[: self._left]
        n = self._fh.readinto(view) or 0
        self._left -= n
        return n


class _HashingReader(io.RawIOBase):
    """A file's bytes as they are read, hashed and counted on the way (for `Seen`); `hasher`
    and `count` carry on from bytes before the file's position (`_resume`)."""

    def __init__(self, fh: BinaryIO, hasher=None, count: int = 0, line_end: tuple | None = None) -> None:
        self._fh = fh
        self._hash = hasher or hashlib.blake2b(digest_size=16)
        self.count = count
        # Just after the last line break, and the digest's state there: where a resumed read
        # starts, unless it starts inside a last line read before (`line_end`).
        self._line_end, self._at_line_end = line_end or (count, self._hash.copy())

    @property
    def tail(self) -> int:
        """Bytes after the last line break read (0 when the file ends with one)."""
        return self.count - self._line_end

    def without_tail(self) -> tuple[int, str]:
        """(bytes, digest) of the file up to its last line break read: what was read of it
        when its last line is left unread (`held`)."""
        return self._line_end, self._at_line_end.hexdigest()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._fh.readinto(buffer) or 0
        self._seen(memoryview(buffer)[:n])
        return n

    def _seen(self, data) -> None:
        if len(data):
            at = bytes(data).rfind(b"\n")
            if at >= 0:
                self._hash.update(data[: at + 1])
                self._at_line_end = self._hash.copy()
                self._hash.update(data[at + 1 :])
                self._line_end = self.count + at + 1
            else:
                self._hash.update(data)
            self.count += len(data)

    def drain(self) -> None:
        """Hash what is left unread: the digest is always of the whole file."""
        while chunk := self._fh.read(1 << 20):
            self._seen(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
