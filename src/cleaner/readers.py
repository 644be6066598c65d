"""Finding inputs and reading them into documents.

`discover` turns the user's paths into a sorted list of input files; `read_file` turns one
file into documents (one per page or text file, one per JSONL line). Anything that cannot be
read becomes a `Reject` with a reason; good records next to a bad one still come through.

Identity: a document's `source` is the path as the user gave it (plus `#N` for the Nth line
of a JSONL file). Its `doc_id` is derived from the record's own `id` when it has one, else
from its path relative to the input root and a hash of its bytes, so the same input gets the
same id wherever the folder lives.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from trafilatura.utils import decode_file

from cleaner.document import Document, Reject
from cleaner.errors import InputError
from cleaner.timestamps import parse_iso8601

FORMATS = {".html": "html", ".htm": "html", ".txt": "text", ".jsonl": "jsonl"}


@dataclass(frozen=True, order=True)
class InputFile:
    source: str  # the path as the user gave it, with "/" separators; sorts the inputs
    key: str  # path relative to the input root: stable part of the document id
    path: Path


def discover(paths: Sequence[str | Path]) -> tuple[list[InputFile], list[Reject]]:
    """Expand files and folders (recursively) into input files in sorted path order.

    Hidden files and folders (".git", ".DS_Store") are skipped; files of an unknown type
    are rejected so the user sees them. A path that does not exist is a usage error.
    """
    files: dict[Path, InputFile] = {}
    rejects: list[Reject] = []
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise InputError(f"input path does not exist: {given}")
        if root.is_file():
            _add(files, rejects, root, root.as_posix(), root.name)
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
                        Path(dirpath).as_posix(),
                        "symlink_loop",
                        "folder reached twice through a symbolic link; read once",
                    )
                )
                dirnames[:] = []
                continue
            seen_dirs.add((stat.st_dev, stat.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(root).as_posix()
                _add(files, rejects, path, path.as_posix(), f"{root.name}/{key}")
    return sorted(files.values()), sorted(rejects, key=lambda r: r.source)


def _unreadable_folder(error: OSError) -> Reject:
    where = Path(error.filename).as_posix() if error.filename else "?"
    return Reject(where, "unreadable", f"cannot list folder: {error.strerror or error}")


def _add(files: dict, rejects: list, path: Path, source: str, key: str) -> None:
    if path.suffix.lower() not in FORMATS:
        rejects.append(
            Reject(
                source,
                "unsupported_type",
                f"'{path.suffix or path.name}' files are not read; inputs are {', '.join(sorted(FORMATS))}",
            )
        )
        return
    try:
        real = path.resolve()
    except OSError:
        real = path
    files.setdefault(real, InputFile(source, key, path))


class Seen(NamedTuple):
    """A file as it was read, so a later run can recognise it without reading it again."""

    rank: int  # its place in input order
    key: str
    size: int
    mtime_ns: int
    digest: str  # of its bytes


def read_files(files: Iterable[tuple[int, InputFile]]) -> tuple[list[Document], list[Reject], list[Seen]]:
    """Read a batch of (input rank, file) pairs; also returns each file read, as `Seen`."""
    docs: list[Document] = []
    rejects: list[Reject] = []
    seen: list[Seen] = []
    for rank, f in files:
        d, r, s = read_file(f, rank)
        docs.extend(d)
        rejects.extend(r)
        if s is not None:
            seen.append(s)
    return docs, rejects, seen


def read_file(f: InputFile, rank: int) -> tuple[list[Document], list[Reject], Seen | None]:
    """Read one input file. `rank` is its place in input order."""
    try:
        with open(f.path, "rb") as fh:
            stat = os.fstat(fh.fileno())
            raw = fh.read()
    except OSError as exc:
        return [], [Reject(f.source, "unreadable", exc.strerror or str(exc))], None
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    seen = Seen(rank, f.key, stat.st_size, stat.st_mtime_ns, digest)
    if not raw.strip():
        return [], [Reject(f.source, "empty", "the file is empty or only whitespace")], seen
    kind = FORMATS[f.path.suffix.lower()]
    if kind == "jsonl":
        return (*_read_jsonl(f, raw, rank), seen)
    text = decode_file(raw)
    doc = Document(
        doc_id=make_doc_id(f.key, raw),
        source=f.source,
        order=(rank, 0),
        kind=kind,
        html=text if kind == "html" else None,
        body=text if kind == "text" else None,
    )
    return [doc], [], seen


def _read_jsonl(f: InputFile, raw: bytes, rank: int) -> tuple[list[Document], list[Reject]]:
    docs: list[Document] = []
    rejects: list[Reject] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        source = f"{f.source}#{number}"
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            rejects.append(Reject(source, "invalid_json", f"line {number} is not JSON: {exc}"))
            continue
        try:
            doc = _record_to_document(record, source, f"{f.key}#{number}", line, (rank, number))
        except ValueError as exc:
            rejects.append(Reject(source, "invalid_record", str(exc)))
            continue
        docs.append(doc)
    return docs, rejects


def _record_to_document(record, source: str, key: str, line: bytes, order) -> Document:
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, got {type(record).__name__}")
    fields = {}
    for name in ("text", "html", "url", "title"):
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field '{name}' must be a string, got {type(value).__name__}")
        fields[name] = value.strip() if isinstance(value, str) and value.strip() else None
    if fields["text"] is None and fields["html"] is None:
        raise ValueError("the record has no non-empty 'text' or 'html' field")
    record_id = record.get("id")
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, (str, int))):
        raise ValueError(f"field 'id' must be a string or an integer, got {type(record_id).__name__}")
    published = record.get("published")
    if published is not None:
        if not isinstance(published, str):
            raise ValueError(f"field 'published' must be an ISO 8601 string, got {published!r}")
        published = parse_iso8601(published)  # ValueError names the bad value
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
