"""Fuzz the readers (and the extraction of what they read) with atheris, outside CI.

Each input is written to a file under every name the readers accept (page.html, page.txt,
feed.jsonl, page.html.gz, feed.jsonl.gz), as is and gzip-compressed for the .gz names, and
read with `cleaner.io.readers.read_file`; also with a small `read.max_record_bytes`, so the
size limit and the skipping of an overlong JSONL line are exercised. The bytes also go
straight to `sniff_binary`, `decode_page` and `decode_text`, and every HTML document read is
extracted with `cleaner.clean.extract.extract_document` under a 2 s time limit. Checked beyond
"does not crash":

- `read_file` never raises; it returns documents and rejects only, every reject with a
  reason code and a detail, and a `Seen` whose size and digest are those of the file;
- a page or text file is one document or one reject; the records of a JSONL file have
  distinct sources, in line order;
- a document has its HTML or its text (never both, never blank), its strings are valid
  Unicode (no lone surrogates: they could not be written to Parquet or hashed), and its
  publication date is aware UTC;
- `decode_text` of valid UTF-8 is that text; `decode_page` of printable ASCII is that text,
  whatever charset the page declares (as in a browser, an ASCII page cannot be read as
  UTF-16 or EBCDIC); the input is also tried as the body of a page declaring each encoding
  label Python knows (picked by its first two bytes);
- extraction returns the document with a non-blank body, or a reject naming why.

Runs one process on one core. Install atheris (the `fuzz` extra), then from the repository:

    pip install -e '.[fuzz]'
    python -m benchmarks.fuzz_readers --seconds 600 --seeds   # 10 minutes; seeds rebuilt
    python -m benchmarks.fuzz_readers FILE ...                # rerun a saved finding

The growing corpus and any `crash-*`/`timeout-*` file go to $TMPDIR/cleaner-fuzz/fuzz_readers
(`--work`); minimised findings are kept in benchmarks/fuzz_corpus/readers/ and are seeds of
every run. Fuzzing never runs in CI.
"""

from __future__ import annotations

import encodings.aliases
import gzip
import hashlib
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import atheris

from benchmarks import fuzzing

with atheris.instrument_imports(include=["cleaner"]):
    from cleaner.clean.extract import extract_document
    from cleaner.config import ExtractConfig, ReadConfig
    from cleaner.document import Document, Reject
    from cleaner.io.readers import decode_page, decode_text, read_file, sniff_binary
    from cleaner.io.records import InputFile

NAMES = ("page.html", "page.txt", "feed.jsonl", "page.html.gz", "feed.jsonl.gz")
DEFAULT = ReadConfig()
SMALL = ReadConfig(max_record_bytes=64)
EXTRACT = ExtractConfig(timeout_seconds=2.0)
_REASON = re.compile(r"[a-z][a-z_]*")
_PRINTABLE = re.compile(rb"[\t\n\r\x20-\x7e]*")
_EXTRACT_REASONS = {"extraction_timeout", "extraction_error", "no_main_text"}
_DIR = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
_extraction_errors: set[str] = set()  # reported once each: trafilatura's, not ours
# Every label a page could declare that Python's codec registry knows, and the WHATWG ones
# it does not: the first two bytes of an input pick one, so each is tried within minutes.
LABELS = sorted(
    {*encodings.aliases.aliases, *encodings.aliases.aliases.values()}
    | {"utf-16", "utf-16le", "utf-16be", "utf-32", "utf16", "unicode", "x-user-defined", "replacement"}
)

# Tokens the mutations splice in: markup and headers the readers look at.
DICTIONARY = [
    b"\x1f\x8b\x08\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
    b"\x00",
    b"\xc3\xa9",
    b"\xe2\x80\x99",
    b"\xed\xa0\x80",
    b'<meta charset="',
    b'<meta http-equiv="Content-Type" content="text/html; charset=',
    b'<?xml version="1.0" encoding="',
    b"utf-8",
    b"utf-16",
    b"utf16",
    b"utf-16le",
    b"utf-7",
    b"iso-8859-1",
    b"shift_jis",
    b"gb2312",
    b"cp037",
    b"base64",
    b"rot13",
    b"idna",
    b"undefined",
    b"<html>",
    b"<body>",
    b"<article>",
    b"<p>",
    b"</p>",
    b"<title>",
    b"<h1>",
    b'<script type="application/ld+json">',
    b'<meta property="og:title" content="',
    b'"datePublished": "',
    b"<!DOCTYPE html>",
    b"<![CDATA[",
    b"<!ENTITY",
    b"&#x0;",
    b"&#xD800;",
    b"&amp;",
    b'{"text": "',
    b'{"html": "',
    b'", "id": ',
    b'"url": "http://',
    b'"title": "',
    b'"published": "',
    b"2026-03-04T10:12:00Z",
    b"\\u0000",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b'"}\n',
    b"%PDF-",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"ftyp",
]


def test_one_input(data: bytes) -> None:
    check_bytes(data)
    if len(data) >= 2:  # the rest of the input as a page declaring an encoding
        label = LABELS[int.from_bytes(data[:2], "big") % len(LABELS)].encode("ascii")
        check_bytes(b'<html><head><meta charset="' + label + b'"></head>' + data[2:])
    html: list[Document] = []
    compressed = gzip.compress(data, mtime=0)
    for name in NAMES:
        html += check_read(name, data, DEFAULT)
        if name.endswith(".gz"):
            html += check_read(name, compressed, DEFAULT)
        if name.startswith("feed"):
            check_read(name, data, SMALL)
    check_read("page.txt", data, SMALL)
    done: set[str] = set()
    for doc in html:
        if doc.html not in done:
            done.add(doc.html)
            check_extract(doc)


def check_bytes(data: bytes) -> None:
    binary = sniff_binary(data)
    assert binary is None or (isinstance(binary, str) and binary), binary
    page, text = decode_page(data), decode_text(data)
    _check_unicode(page, "decode_page")
    _check_unicode(text, "decode_text")
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            utf8 = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            assert text == utf8, "decode_text changed valid UTF-8"
        if _PRINTABLE.fullmatch(data):
            assert page == data.decode("ascii"), f"decode_page misread an ASCII page: {page[:200]!r}"


def check_read(name: str, data: bytes, config: ReadConfig) -> list[Document]:
    path = _DIR / name
    path.write_bytes(data)
    f = InputFile(f"in/{name}", f"in/{name}", path)
    docs, rejects, seen = read_file(f, 7, config)
    assert all(isinstance(d, Document) for d in docs), docs
    assert all(isinstance(r, Reject) for r in rejects), rejects
    for r in rejects:
        assert r.source == f.source or r.source.startswith(f.source + "#"), r
        assert isinstance(r.reason, str) and _REASON.fullmatch(r.reason), r
        assert isinstance(r.detail, str) and r.detail.strip(), r
        _check_unicode(r.detail, "reject detail")
    assert seen is not None, "a regular file read gives a Seen"
    assert (seen.rank, seen.key, seen.size) == (7, f.key, len(data)), seen
    assert seen.digest == hashlib.blake2b(data, digest_size=16).hexdigest(), "digest is not the file's"
    for doc in docs:
        _check_document(doc, f)
    if name.endswith((".jsonl", ".jsonl.gz")):
        numbers = [_line(x.source, f) for x in [*docs, *rejects]]
        assert numbers.count(None) <= 1, numbers  # a file-level reject: empty, or damaged gzip
        lines = [n for n in numbers if n is not None]
        assert len(set(lines)) == len(lines), f"a line reported twice: {numbers}"
        assert [d.order[1] for d in docs] == sorted(d.order[1] for d in docs), "records out of order"
    else:
        assert len(docs) + len(rejects) == 1, (docs, rejects)
    return [d for d in docs if d.html is not None]


def _line(source: str, f: InputFile) -> int | None:
    if source == f.source:
        return None
    return int(source.removeprefix(f.source + "#"))


def _check_document(doc: Document, f: InputFile) -> None:
    assert doc.order[0] == 7 and doc.kind in ("html", "text"), doc
    assert re.fullmatch(r"[0-9a-f]{16}", doc.doc_id), doc.doc_id
    content = doc.html if doc.kind == "html" else doc.body
    other = doc.body if doc.kind == "html" else doc.html
    assert isinstance(content, str) and content.strip() and other is None, doc
    for field in ("source", "html", "body", "url", "site", "title"):
        value = getattr(doc, field)
        assert value is None or isinstance(value, str), (field, value)
        if value is not None:
            _check_unicode(value, f"document {field}")
    if doc.published is not None:
        assert isinstance(doc.published, datetime) and doc.published.utcoffset() == UTC.utcoffset(None), doc


def check_extract(doc: Document) -> None:
    size = len(doc.html)
    result = extract_document(doc, EXTRACT)
    if isinstance(result, Reject):
        assert result.reason in _EXTRACT_REASONS and result.detail, result
        if result.reason != "no_main_text":
            key = result.detail.split(":")[0] if result.reason == "extraction_error" else result.reason
            if key not in _extraction_errors:  # trafilatura's failure, handled: noted once
                _extraction_errors.add(key)
                print(
                    f"\nfuzz_readers: {result.reason} on {size} characters: {result.detail[:300]}", flush=True
                )
        return
    assert result is doc and doc.html is None, result
    assert isinstance(doc.body, str) and doc.body.strip(), doc.body
    for field in ("body", "title", "author", "url", "site", "site_name"):
        value = getattr(doc, field)
        assert value is None or (isinstance(value, str) and value.strip()), (field, value)
        if value is not None:
            _check_unicode(value, f"extracted {field}")
    if doc.published is not None:
        assert doc.published.utcoffset() == UTC.utcoffset(None), doc.published


def _check_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AssertionError(f"{what} is not valid Unicode ({exc.reason}): {text[:200]!r}") from None


def seeds():
    for _, data in fuzzing.example_files():
        yield data


def main() -> int:
    args = fuzzing.arguments("fuzz_readers", __doc__)
    fuzzing.fuzz("fuzz_readers", args, test_one_input, seeds, DICTIONARY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
