"""Finding inputs and reading them into documents.

`discover` turns the user's paths into a sorted list of input files; `read_file` turns one
file into documents (one per page or text file, one per JSONL line; WARC archives and
Parquet files are read by `cleaner.archives`). Anything that cannot be read becomes a
`Reject` with a reason; good records next to a bad one still come through.

Inputs are what crawls produce, so nothing about them is trusted: files are streamed with a
size limit per record (`read.max_record_bytes`), gzip and zstd are decompressed as they are
read, images and PDFs saved under a page's name are recognised by their bytes, and a page's
encoding is taken from its byte order mark or its declared charset as a browser would, else
guessed.

Identity: a document's `source` is the path as the user gave it (plus `#N` for the Nth line
of a JSONL file). Its `doc_id` is derived from the record's own `id` when it has one, else
from its path relative to the input root and a hash of its bytes, so the same input gets the
same id wherever the folder lives. An input file itself is known by its real path
(`InputFile.real`): two files with the same name in different folders are never one input. A
file name is bytes, not always UTF-8: `source_of` writes it as text without losing any of
them, and `path_of_source` reads it back.
"""

from __future__ import annotations

import codecs
import functools
import gzip
import hashlib
import io
import json
import os
import re
import warnings
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO, NamedTuple
from urllib.parse import urlsplit

import zstandard
from trafilatura.utils import detect_encoding

from cleaner.config import ReadConfig
from cleaner.document import Document, Reject
from cleaner.errors import InputError
from cleaner.timestamps import parse_iso8601, to_utc

FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".jsonl": "jsonl",
    ".warc": "warc",  # cleaner.archives
    ".parquet": "parquet",  # cleaner.archives
}
# "page.html.gz", "feed.jsonl.zst": compressed, read as it is decompressed ("crawl.warc.gz" too;
# a Parquet file compresses its own pages)
COMPRESSED = {".gz": "gzip", ".zst": "zstd"}
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_COMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError)
_NOT_A_FILE = "not a regular file (a pipe, socket or device): reading it could block forever"


class Resume(NamedTuple):
    """How far an earlier run read a JSONL file, so that a file that has only grown since is
    read from there (`cleaner.index` decides when)."""

    size: int  # bytes read
    digest: str  # of those bytes: the file must still start with them
    lines: int  # lines read: the next one is number lines + 1
    tail: int  # bytes of its last line when that had no line break yet (being written)


@dataclass(frozen=True, order=True)
class InputFile:
    source: str  # the path as the user gave it, with "/" separators (`source_of`); sorts the inputs
    key: str  # path relative to the input root (`source_of`): stable part of the document id
    path: Path  # the file itself
    # The file itself, however it was reached (`source_of` its real path): what earlier runs'
    # reads are remembered by.
    real: str = field(default="", compare=False)
    resume: Resume | None = field(default=None, compare=False)

    @property
    def identity(self) -> str:
        return self.real or source_of(os.path.realpath(self.path))


def discover(
    paths: Sequence[str | Path], exclude: str | Path | None = None
) -> tuple[list[InputFile], list[Reject]]:
    """Expand files and folders (recursively) into input files in sorted path order.

    Hidden files and folders (".git", ".DS_Store") are skipped; files of an unknown type
    are rejected so the user sees them. A path that does not exist is a usage error.
    Nothing inside `exclude` (the output folder) is an input: a corpus written inside its
    inbox would otherwise be read back as input by the next run.
    """
    files: dict[Path, InputFile] = {}
    rejects: list[Reject] = []
    skip = os.path.realpath(exclude) if exclude is not None else None
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise InputError(f"input path does not exist: {source_of(given)}")
        if skip and _inside(os.path.realpath(root), skip):
            continue
        if not root.is_dir():
            _add(files, rejects, root, source_of(root), source_of(root.name), skip)
            continue
        seen_dirs: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(
            root, onerror=lambda error: rejects.append(_unreadable_folder(error)), followlinks=True
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
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                key = f"{source_of(root.name)}/{source_of(path.relative_to(root))}"
                _add(files, rejects, path, source_of(path), key, skip)
    return sorted(files.values()), sorted(rejects, key=lambda r: r.source)


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
    try:
        mode = path.stat().st_mode
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a dangling link, a loop of links (RuntimeError)
        reason = getattr(exc, "strerror", None) or str(exc)
        rejects.append(Reject(source, "unreadable", f"cannot open it: {reason}", key=identity))
        return
    if not S_ISREG(mode):
        rejects.append(Reject(source, "not_a_file", _NOT_A_FILE, key=identity))
        return
    files.setdefault(resolved, InputFile(source, key, path, identity))


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
    from where that read ended (`_resume`).
    """
    from cleaner import archives  # late: archives builds on this module

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
        try:
            raw, first_line = _resume(fh, f.resume) if plain_jsonl and f.resume else (_HashingReader(fh), 0)
        except OSError as exc:
            return [], [Reject(f.source, "unreadable", exc.strerror or str(exc), key=f.identity)], None
        stream: BinaryIO = io.BufferedReader(raw, buffer_size=1 << 16)
        if kind != "parquet" and not first_line:  # Parquet needs random access: pyarrow opens it
            magic = stream.peek(4)[:4]
            if compression == "gzip" or (not compression and magic[:2] == _GZIP_MAGIC):
                stream = gzip.GzipFile(fileobj=stream, mode="rb")
            elif compression == "zstd" or (not compression and magic == _ZSTD_MAGIC):
                stream = archives.open_zstd(stream)
        try:
            if kind == "parquet":
                _, rejects = archives.read_parquet(f, rank, config, docs)
            elif kind == "warc":
                _, rejects = archives.read_warc(f, stream, rank, config, skipped, docs)
            elif kind == "jsonl":
                rejects, lines = _read_jsonl(f, stream, rank, config, first_line, docs)
            else:
                rejects = _read_page(f, kind, stream, stat.st_size, rank, config, docs)
            raw.drain()
        except OSError as exc:  # the disk, not the data: the rest of the file cannot be read
            detail = exc.strerror or str(exc)
            return docs, [Reject(f.source, "unreadable", detail, key=f.identity)], None
    lines = lines if kind == "jsonl" else 0
    tail = raw.tail if plain_jsonl else 0
    seen = Seen(rank, f.key, raw.count, stat.st_mtime_ns, raw.hexdigest(), f.identity, lines, tail)
    return docs, rejects, seen


def _resume(fh: BinaryIO, resume: Resume) -> tuple[_HashingReader, int]:
    """A plain JSONL file positioned where an earlier read ended, if it still starts with the
    bytes read then (its digest says so), with the number of the lines before: only what was
    appended is read. A last line read without its line break is read again if more was
    written onto it, and skipped if what followed was its line break. Otherwise the whole
    file, from its first line."""
    hasher = hashlib.blake2b(digest_size=16)
    whole = resume.size - resume.tail  # the bytes of its complete lines
    if _hash_into(hasher, fh, whole):
        before_tail = hasher.copy()
        if _hash_into(hasher, fh, resume.tail) and hasher.hexdigest() == resume.digest:
            if not resume.tail:
                return _HashingReader(fh, hasher, resume.size), resume.lines
            following = fh.read(1)
            if following == b"\n":  # the line was complete
                hasher.update(following)
                return _HashingReader(fh, hasher, resume.size + 1), resume.lines
            fh.seek(whole)  # written on since: read it again, whole
            return _HashingReader(fh, before_tail, whole), resume.lines - 1
    fh.seek(0)
    return _HashingReader(fh), 0


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
        return [_too_large(f.source, f"{_mb(size)}", limit)]
    try:
        content = stream.read(limit + 1)
    except _COMPRESSION_ERRORS as exc:
        return [_bad_compression(f.source, exc, "")]
    if len(content) > limit:
        return [_too_large(f.source, f"more than {_mb(limit)} once decompressed", limit)]
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
    f: InputFile, stream: BinaryIO, rank: int, config: ReadConfig, first_line: int, docs: list[Document]
) -> tuple[list[Reject], int]:
    """One document per line, appended to `docs`; a bad line is a reject and the lines around
    it still count. `stream` starts after line `first_line` (a file that grew since an earlier
    run read it). Also returns the number of the last line read."""
    rejects: list[Reject] = []
    limit = config.max_record_bytes
    number = first_line
    try:
        while line := stream.readline(limit + 1):
            number += 1
            source = f"{f.source}#{number}"
            if len(line.rstrip(b"\r\n")) > limit:
                size = len(line) + _skip_line(stream, line)
                rejects.append(_too_large(source, f"line {number} holds {_mb(size)}", limit))
                continue
            if number == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8", errors="replace"))
            except json.JSONDecodeError as exc:
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
            try:
                doc = _record_to_document(record, source, f"{f.key}#{number}", line, (rank, number))
            except ValueError as exc:
                rejects.append(Reject(source, "invalid_record", str(exc)))
                continue
            docs.append(doc)
    except _COMPRESSION_ERRORS as exc:
        kept = f"; the {number} lines before it were read" if number else ""
        rejects.append(_bad_compression(f.source, exc, kept))
    if number == 0 and not rejects:
        rejects.append(Reject(f.source, "empty", "the file is empty or only whitespace"))
    return rejects, number


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


def _too_large(source: str, what: str, limit: int) -> Reject:
    return Reject(
        source,
        "too_large",
        f"{what}, over the limit of {_mb(limit)} per record (read.max_record_bytes); "
        "not read, so that one record cannot exhaust memory or time",
    )


def _bad_compression(source: str, exc: Exception, kept: str) -> Reject:
    if isinstance(exc, EOFError):
        return Reject(source, "truncated", f"the compressed file ends early (cut off while copying?){kept}")
    return Reject(source, "corrupt_compressed", f"the compressed data is damaged: {exc}{kept}")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class _HashingReader(io.RawIOBase):
    """A file's bytes as they are read, hashed and counted on the way (for `Seen`); `hasher`
    and `count` carry on from bytes before the file's position (`_resume`)."""

    def __init__(self, fh: BinaryIO, hasher=None, count: int = 0) -> None:
        self._fh = fh
        self._hash = hasher or hashlib.blake2b(digest_size=16)
        self.count = count
        self._line_end = count  # just after the last line break (a resumed read starts after one)

    @property
    def tail(self) -> int:
        """Bytes after the last line break read (0 when the file ends with one)."""
        return self.count - self._line_end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._fh.readinto(buffer) or 0
        self._seen(memoryview(buffer)[:n])
        return n

    def _seen(self, data) -> None:
        if len(data):
            self._hash.update(data)
            at = bytes(data).rfind(b"\n")
            if at >= 0:
                self._line_end = self.count + at + 1
            self.count += len(data)

    def drain(self) -> None:
        """Hash what is left unread: the digest is always of the whole file."""
        while chunk := self._fh.read(1 << 20):
            self._seen(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# -- what the bytes are --------------------------------------------------------------------

# File signatures of what crawls save under a page's name: images, PDFs, archives, media.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (_GZIP_MAGIC, "gzip data inside gzip data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (_ZSTD_MAGIC, "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"OggS", "Ogg audio or video"),
    (b"ID3", "an MP3 file"),
    (b"\x1a\x45\xdf\xa3", "a WebM or Matroska video"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
)
_RIFF = {b"WEBP": "a WebP image", b"WAVE": "WAV audio", b"AVI ": "an AVI video"}
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_binary(content: bytes) -> str | None:
    """What a file that is not text is ("a PNG image"), or None for text. Text never holds
    a NUL byte unless it is UTF-16 or UTF-32, which then starts with a byte order mark."""
    for magic, what in _MAGIC:
        if content.startswith(magic):
            return what
    if content.startswith(b"RIFF") and content[8:12] in _RIFF:
        return _RIFF[content[8:12]]
    if content[4:8] == b"ftyp":
        return "an MP4 or QuickTime video"
    if _bom(content) is None and b"\x00" in content[:8192]:
        return "binary data (it holds NUL bytes, which text never does)"
    return None


def _bom(content: bytes) -> tuple[bytes, str] | None:
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return bom, encoding
    return None


# An encoding declared in the page's head: <meta charset="..."> or <meta http-equiv=
# "Content-Type" content="text/html; charset=...">, or an XML declaration's encoding.
_DECLARED = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)|<\?xml[^>]*?encoding\s*=\s*["']([-\w.:]+)""",
    re.IGNORECASE,
)
# Labels as browsers read them (the WHATWG Encoding standard): a page that says latin-1 is
# decoded as windows-1252, Shift_JIS as its Microsoft superset, and so on; and a page whose
# head is ASCII cannot really be UTF-16, whatever it says.
_LABELS = {
    **dict.fromkeys(
        ("latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "ascii", "us-ascii", "cp1252"),
        "cp1252",
    ),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis"), "cp932"),
    **dict.fromkeys(("windows-31j", "ms932"), "cp932"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "chinese", "csgb2312"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "korean"), "cp949"),
    **dict.fromkeys(("iso-8859-9", "latin5"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11"), "cp874"),
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "utf-32"), "utf-8"),
}
_HEAD_BYTES = 4096  # browsers look at the first 1,024; real pages put long scripts first


def declared_encoding(content: bytes) -> str | None:
    """The Python codec for the encoding a page declares in its head, if it is a known one."""
    match = _DECLARED.search(content, 0, _HEAD_BYTES)
    if not match:
        return None
    return encoding_of_label((match.group(1) or match.group(2)).decode("ascii"))


def encoding_of_label(label: str) -> str | None:
    """The Python codec for a charset label ("ISO-8859-1") as a browser reads it, or None for
    a label no browser would use."""
    label = label.strip().strip("\"'").strip().lower()
    label = _LABELS.get(label, label)
    try:
        encoding = codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a label holding a NUL
        return None
    return encoding if _reads_ascii(encoding) else None


# Printable ASCII, and the escapes of codecs that give some of it another meaning.
_ASCII_PROBE = bytes(range(0x20, 0x7F)) + b"\t\n\r\\x41\\u0041+AGEA-~{~}"


@functools.cache
def _reads_ascii(encoding: str) -> bool:
    """Whether a codec reads ASCII as ASCII, as every encoding a browser takes from a page's
    head does: the head was just read as ASCII. Python knows others by name (UTF-16 and -32,
    EBCDIC, UTF-7, base64 and other bytes-to-bytes codecs, which cannot decode a page at all);
    a page declaring one of those is read as if it declared none."""
    try:
        with warnings.catch_warnings():  # unicode_escape warns of the escapes it does not know
            warnings.simplefilter("ignore")
            return _ASCII_PROBE.decode(encoding, errors="replace") == _ASCII_PROBE.decode("ascii")
    except (LookupError, UnicodeError, ValueError):
        return False


def decode_page(content: bytes, charset: str | None = None) -> str:
    """An HTML page's text: by its byte order mark, else `charset` (the one its HTTP headers
    declare, if any and known), else the charset its head declares, else as `decode_text`.
    Bytes invalid in the chosen encoding become U+FFFD, as in a browser."""
    if _bom(content) is None:  # a byte order mark wins: `decode_text` reads by it
        declared = (charset and encoding_of_label(charset)) or declared_encoding(content)
        if declared and declared != "utf-8":
            return content.decode(declared, errors="replace")
    return decode_text(content)


def decode_text(content: bytes) -> str:
    """Text of unknown encoding: UTF-8 when it is, or mostly is (a few broken bytes become
    U+FFFD rather than the whole text mojibake); else the encoding detection guesses."""
    bom = _bom(content)
    if bom:
        return content[len(bom[0]) :].decode(bom[1], errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = content.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 127) - broken
    if multibyte >= broken:  # more valid UTF-8 sequences than invalid ones
        return text
    for guess in detect_encoding(content):
        try:
            return content.decode(guess)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode("cp1252", errors="replace")


def _record_to_document(record, source: str, key: str, line: bytes, order) -> Document:
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
    if isinstance(record_id, str):
        record_id = _valid_unicode(record_id)
    published = record.get("published")
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
    """The site a URL belongs to: its host, lower-cased, without "www."."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.removeprefix("www.")
