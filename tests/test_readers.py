import dataclasses
import itertools
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner.config import ReadConfig
from cleaner.errors import InputError
from cleaner.io.readers import discover, read_file, read_files, split_jsonl
from cleaner.io.records import path_of_source, site_of, source_of
from tests.hostile_corpus import awkward_feed
from tests.tracing import peak_bytes


def _write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_discover_recurses_in_sorted_order_and_rejects_unknown_types(tmp_path):
    root = tmp_path / "inbox"
    _write(root / "b" / "z.txt", "z")
    _write(root / "a.html", "<p>a</p>")
    _write(root / "b" / "feed.jsonl", "{}")
    _write(root / "notes.pdf", b"%PDF-1.4")
    _write(root / ".hidden.txt", "skipped")
    _write(root / ".git" / "x.txt", "skipped")
    files, rejects = discover([root])
    assert [f.key for f in files] == ["inbox/a.html", "inbox/b/feed.jsonl", "inbox/b/z.txt"]
    assert [f.source for f in files] == [
        f"{root.as_posix()}/{k}" for k in ("a.html", "b/feed.jsonl", "b/z.txt")
    ]
    assert [(r.source, r.reason) for r in rejects] == [(f"{root.as_posix()}/notes.pdf", "unsupported_type")]


def test_discover_reads_a_file_given_twice_once(tmp_path):
    page = _write(tmp_path / "a.txt", "text")
    files, _ = discover([page, tmp_path])
    assert len(files) == 1
    # spelled the same whichever way comes first: its records' ids are made from its key
    (again,) = discover([tmp_path, page])[0]
    assert (again.key, again.source) == (files[0].key, files[0].source)


def test_discover_survives_a_symlink_loop(tmp_path):
    root = tmp_path / "in"
    _write(root / "sub" / "a.txt", "text")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    files, rejects = discover([root])
    assert [f.key for f in files] == ["in/sub/a.txt"]
    assert any(r.reason == "symlink_loop" for r in rejects)


def test_discover_walks_a_folder_deeper_than_pythons_recursion_limit(tmp_path):
    """A crawler trap (`wget -r` of a calendar) nests folders a thousand levels deep: the
    walk reaches the page at the bottom, in order with the others, instead of ending the run
    with a RecursionError."""
    import sys

    root = tmp_path / "in"
    _write(root / "a.txt", "first")
    (root / "b.txt").write_text("last", encoding="utf-8")
    folder = str(root / "a")
    for _ in range(sys.getrecursionlimit() + 100):  # os.makedirs recurses too
        os.mkdir(folder)
        folder += "/d"
    folder = os.path.dirname(folder)
    bottom = Path(folder) / "page.txt"
    bottom.write_text("A page at the bottom.", encoding="utf-8")
    try:
        files, rejects = discover([root])
        assert rejects == [] and {f.path for f in files} == {root / "a.txt", root / "b.txt", bottom}
    finally:  # shutil.rmtree recurses too: pytest could not clean it up
        bottom.unlink()
        while folder != str(root):
            os.rmdir(folder)
            folder = os.path.dirname(folder)


def test_discover_records_an_unreadable_folder(tmp_path, monkeypatch):
    root = tmp_path / "in"
    _write(root / "ok.txt", "text")
    locked = _write(root / "locked" / "a.txt", "text").parent
    real_scandir = os.scandir

    def scandir(path="."):  # what listing a folder without read permission does
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # chmod cannot lock out root, who runs CI
    files, rejects = discover([root])
    assert [f.key for f in files] == ["in/ok.txt"]
    assert [(r.source, r.reason) for r in rejects] == [(f"{root.as_posix()}/locked", "unreadable")]


def test_discover_refuses_a_missing_path(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        discover([tmp_path / "missing"])


def test_text_and_html_files_become_one_document_each(tmp_path):
    files, _ = discover(
        [_write(tmp_path / "p.txt", "Line one.\nLine two."), _write(tmp_path / "q.htm", "<p>x</p>")]
    )
    docs, rejects, _ = read_files(enumerate(files))
    assert not rejects
    assert [(d.kind, d.body, d.html) for d in docs] == [
        ("text", "Line one.\nLine two.", None),
        ("html", None, "<p>x</p>"),
    ]
    assert [d.order for d in docs] == [(0, 0), (1, 0)]


def test_doc_id_is_stable_for_the_same_input_and_changes_with_content(tmp_path):
    first = discover([_write(tmp_path / "one" / "p.txt", "Same text.")])[0][0]
    moved = discover([_write(tmp_path / "elsewhere" / "p.txt", "Same text.")])[0][0]
    changed = discover([_write(tmp_path / "two" / "p.txt", "Other text.")])[0][0]
    id_first = read_file(first, 0)[0][0].doc_id
    assert read_file(first, 5)[0][0].doc_id == id_first  # same input, same id
    assert read_file(moved, 0)[0][0].doc_id == id_first  # the same file at another path
    assert read_file(changed, 0)[0][0].doc_id != id_first


def test_empty_and_whitespace_files_are_rejected(tmp_path):
    files, _ = discover(
        [
            _write(tmp_path / "e.txt", ""),
            _write(tmp_path / "w.html", " \n\t\n"),
            _write(tmp_path / "blank.jsonl", "\n\n   \n"),  # was in no table at all
            _write(tmp_path / "bom.jsonl", "\ufeff"),
        ]
    )
    docs, rejects, _ = read_files(enumerate(files))
    assert docs == []
    assert [r.reason for r in rejects] == ["empty"] * 4


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_jsonl_line_of_exactly_the_limit_keeps_the_numbering_of_the_file(tmp_path, ending):
    """A line as long as `read.max_record_bytes`, then its "\r\n": its "\n" was read as a line
    of its own, so every later record took the number of the line after it (and the two
    halves of a file read in ranges gave two records one source)."""
    first = json.dumps({"text": "x" * 100})
    first = json.dumps({"text": "x" * (200 - (len(first) - 100))})
    assert len(first) == 200
    lines = [first] + [json.dumps({"text": f"Record {n}."}) for n in (2, 3, 4)]
    path = _write(tmp_path / "feed.jsonl", "".join(line + ending for line in lines))
    docs, rejects = _read(path, max_record_bytes=200)
    assert rejects == []
    assert [d.source.rsplit("#", 1)[1] for d in docs] == ["1", "2", "3", "4"]
    assert [d.body for d in docs][1:] == ["Record 2.", "Record 3.", "Record 4."]
    docs, rejects = _read(path, max_record_bytes=199)
    assert [r.source.rsplit("#", 1)[1] for r in rejects] == ["1"] and len(docs) == 3
    assert [d.source.rsplit("#", 1)[1] for d in docs] == ["2", "3", "4"]


def test_jsonl_bad_lines_are_rejects_and_good_lines_still_count(tmp_path):
    lines = [
        json.dumps(
            {
                "id": "a1",
                "url": "https://www.Example.org/x",
                "title": "T",
                "published": "2026-03-04T09:30:00+01:00",
                "text": "Body.",
            }
        ),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "a2", "title": 5, "text": "x"}),
        json.dumps({"id": "a3", "published": "yesterday", "text": "x"}),
        json.dumps({"id": "a4", "text": "   "}),
        "",
        json.dumps({"html": "<p>page</p>"}),
    ]
    files, _ = discover([_write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")])
    docs, rejects, _ = read_files(enumerate(files))
    src = files[0].source
    assert [(r.source, r.reason) for r in rejects] == [
        (f"{src}#2", "invalid_json"),
        (f"{src}#3", "invalid_record"),
        (f"{src}#4", "invalid_record"),
        (f"{src}#5", "invalid_record"),
        (f"{src}#6", "invalid_record"),
    ]
    assert "'title' must be a string" in rejects[2].detail
    assert "yesterday" in rejects[3].detail
    first, html = docs
    assert (first.source, first.url, first.site, first.title, first.body) == (
        f"{src}#1",
        "https://www.Example.org/x",
        "example.org",
        "T",
        "Body.",
    )
    assert first.published == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
    assert (html.source, html.kind, html.html, html.body) == (f"{src}#8", "html", "<p>page</p>", None)


def test_unreadable_file_is_a_reject(tmp_path):
    page = _write(tmp_path / "locked.txt", "secret")
    files, _ = discover([page])
    page.unlink()  # gone between discovery and reading
    docs, rejects, _ = read_files(enumerate(files))
    assert docs == [] and rejects[0].reason == "unreadable"


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.Harbour-Herald.example/a", "harbour-herald.example"),
        ("not a url", None),
        (None, None),
        ("http://[bad", None),
        # one host, one site: punycode is read in its letters; a trailing dot is the root
        ("https://xn--bcher-kva.example/a", "bücher.example"),
        ("https://WWW.Bücher.example./b", "bücher.example"),
        ("https://xn--zz.example/", "xn--zz.example"),  # not valid punycode: as written
    ],
)
def test_site_of(url, site):
    assert site_of(url) == site


def test_a_file_read_is_noted_so_a_later_run_can_recognise_it(tmp_path):
    page = _write(tmp_path / "a.txt", "Some text.")
    empty = _write(tmp_path / "e.txt", "")
    files, _ = discover([tmp_path])
    docs, rejects, seen = read_files(enumerate(files))
    stat = page.stat()
    assert seen[0][:4] == (0, f"{tmp_path.name}/a.txt", stat.st_size, stat.st_mtime_ns)
    assert seen[1].key.endswith("e.txt") and [r.reason for r in rejects] == ["empty"]
    assert seen[0].digest != seen[1].digest and len(seen[0].digest) == 32
    page.write_text("Other text")  # same size, other bytes
    assert read_file(files[0], 0)[2].digest != seen[0].digest
    empty.unlink()
    assert read_file(files[1], 1)[2] is None  # unreadable: nothing to recognise


# -- hostile inputs: size limits, compression, bytes that are not text, encodings ----------


def _read(path, root=None, **config):
    from cleaner.config import ReadConfig

    files, rejects = discover([root or path])
    assert not rejects, rejects
    return read_files(enumerate(files), ReadConfig(**config))[:2]


@pytest.mark.parametrize(
    "name, make",
    [
        (
            "page.html",
            lambda: b"<html><body>" + b"<p>words and more words</p>" * 2_000_000 + b"</body></html>",
        ),
        ("line.txt", lambda: b"one endless line " * 3_000_000),
        ("bomb.txt.gz", lambda: __import__("gzip").compress(b" " * 100_000_000)),
        (
            "feed.jsonl",
            lambda: b'{"text": "' + b"x" * 30_000_000 + b'"}\n{"text": "A small record after it."}\n',
        ),
    ],
)
def test_memory_is_bounded_by_the_record_limit_not_the_input(tmp_path, name, make):
    path = _write(tmp_path / name, make())
    del make
    (docs, rejects), peak = peak_bytes(lambda: _read(path, max_record_bytes=1_000_000))
    assert "too_large" in [r.reason for r in rejects]
    assert "1.0 MB" in rejects[0].detail and "read.max_record_bytes" in rejects[0].detail
    assert peak < 5_000_000, f"reading {name} peaked at {peak:,} bytes"
    if name == "feed.jsonl":  # the record after the huge one still comes through
        assert [d.body for d in docs] == ["A small record after it."]


def test_gzip_inputs_are_read_and_cut_archives_keep_their_complete_lines(tmp_path):
    import gzip

    lines = [json.dumps({"id": f"r{i}", "text": f"Record number {i} of the archive."}) for i in range(2000)]
    packed = gzip.compress("\n".join(lines).encode())
    _write(tmp_path / "whole.jsonl.gz", packed)
    _write(tmp_path / "cut.jsonl.gz", packed[: len(packed) // 2])
    _write(tmp_path / "page.html.gz", gzip.compress(b"<html><body><p>Hello</p></body></html>"))
    _write(tmp_path / "saved-gzipped.html", gzip.compress(b"<html><body><p>Served gzipped</p></body></html>"))
    _write(tmp_path / "plain.txt.gz", b"not gzip at all")
    docs, rejects = _read(tmp_path)
    sources = [d.source.removeprefix(f"{tmp_path.as_posix()}/") for d in docs]
    cut = [s for s in sources if s.startswith("cut.jsonl.gz#")]
    assert 0 < len(cut) < 2000 and cut == [f"cut.jsonl.gz#{n}" for n in range(1, len(cut) + 1)]
    assert sum(s.startswith("whole.jsonl.gz#") for s in sources) == 2000
    html = {d.source.rsplit("/", 1)[1]: d.html for d in docs if d.kind == "html"}
    assert "Hello" in html["page.html.gz"] and "Served gzipped" in html["saved-gzipped.html"]
    reasons = {r.source.rsplit("/", 1)[1]: (r.reason, r.detail) for r in rejects}
    assert reasons["cut.jsonl.gz"][0] == "truncated"
    assert f"the {len(cut)} lines before it were read" in reasons["cut.jsonl.gz"][1]
    assert reasons["plain.txt.gz"][0] == "corrupt_compressed"


@pytest.mark.parametrize(
    "content, what",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"<html>\x00\x01\x02 garbage", "NUL"),
    ],
)
def test_binary_files_under_a_page_name_are_rejected_as_binary(tmp_path, content, what):
    docs, rejects = _read(_write(tmp_path / "page.html", content))
    assert docs == [] and [r.reason for r in rejects] == ["binary"]
    assert what in rejects[0].detail


@pytest.mark.parametrize(
    "encoding, head",
    [
        ("cp1252", '<meta charset="ISO-8859-1">'),  # what a page that says latin-1 really is
        ("cp1252", "<meta http-equiv='content-type' content='text/html; charset=windows-1252'>"),
        ("shift_jis", '<meta charset="shift_jis">'),
        ("euc-jp", '<meta charset="EUC-JP">'),
        ("utf-16", ""),  # Python writes a byte order mark
        ("utf-8-sig", ""),
    ],
)
def test_pages_are_decoded_by_their_byte_order_mark_or_declared_charset(tmp_path, encoding, head):
    text = "東京の天気" if encoding in ("shift_jis", "euc-jp") else "Café “Le Zinc” — 5 € le menu"
    page = f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"
    docs, _ = _read(_write(tmp_path / "page.html", page.encode(encoding)))
    assert text in docs[0].html and "\ufeff" not in docs[0].html


def test_mostly_utf8_text_keeps_its_characters_and_marks_only_the_broken_bytes(tmp_path):
    content = "Crème brûlée at the café, naïve and déjà vu.".encode() + b" stray \xff byte."
    docs, _ = _read(_write(tmp_path / "a.txt", content))
    assert docs[0].body == "Crème brûlée at the café, naïve and déjà vu. stray \ufffd byte."


def test_undeclared_legacy_text_is_detected_not_mangled(tmp_path):
    text = "Le maire a annoncé mercredi la création d'un parc à deux pas du fleuve, près de l'école."
    docs, _ = _read(_write(tmp_path / "a.txt", ((text + "\n") * 5).encode("cp1252")))
    assert text in docs[0].body


def test_json_escapes_that_are_not_text_become_replacement_characters(tmp_path):
    lines = [
        '{"id": "s\\udc00", "text": "A lone surrogate \\ud800 in an ordinary paragraph.", "title": "\\udfff"}',
        '{"text": "A real pair \\ud83d\\ude00 stays one character."}',
    ]
    docs, rejects = _read(_write(tmp_path / "feed.jsonl", "\n".join(lines)))
    assert rejects == []
    assert docs[0].body == "A lone surrogate \ufffd in an ordinary paragraph." and docs[0].title == "\ufffd"
    assert docs[1].body == "A real pair 😀 stays one character."
    for doc in docs:  # everything a writer will encode is valid UTF-8
        for value in (doc.doc_id, doc.body, doc.title or ""):
            value.encode("utf-8")


def test_pipes_dangling_links_and_loops_of_file_links_are_rejects(tmp_path):
    os.mkfifo(tmp_path / "pipe.html")
    os.symlink("nowhere.html", tmp_path / "dangling.html")
    os.symlink("loop.html", tmp_path / "loop.html")
    _write(tmp_path / "ok.txt", "A page that reads fine.")
    files, rejects = discover([tmp_path])
    assert [f.key.rsplit("/", 1)[1] for f in files] == ["ok.txt"]
    assert {r.source.rsplit("/", 1)[1]: r.reason for r in rejects} == {
        "pipe.html": "not_a_file",
        "dangling.html": "unreadable",
        "loop.html": "unreadable",
    }


# Found by benchmarks/fuzz_readers.py: a page declaring a codec that is no text encoding
# (base64, rot13, idna, undefined) crashed the read with LookupError or UnicodeError, and one
# declaring UTF-16, UTF-32, UTF-7 or EBCDIC was read as mojibake, though its head is ASCII.
@pytest.mark.parametrize(
    "label", ["base64", "rot13", "zlib", "idna", "undefined", "utf-16le", "utf16", "utf-32", "utf-7", "cp037"]
)
def test_a_page_declaring_an_encoding_no_browser_would_use_is_read_as_undeclared(tmp_path, label):
    page = f'<html><head><meta charset="{label}"></head><body><p>Café + crème, 5 € le menu.</p></body></html>'
    docs, rejects = _read(_write(tmp_path / "page.html", page.encode("utf-8")))
    assert rejects == [] and docs[0].html == page


# -- names that are not UTF-8, values out of range -------------------------------------------


def test_a_name_that_is_not_utf8_is_read_and_recorded_losslessly(tmp_path):
    """A file system names files with bytes: a latin-1 `café` is b"caf\\xe9", which no UTF-8
    column can hold. It is read like any file, and its source escapes the byte, reversibly."""
    root = os.fsencode(tmp_path / "inbox")
    names = {
        b"caf\xe9.txt": "caf\\xe9.txt",  # latin-1
        b"sub\xff/page.jsonl": "sub\\xff/page.jsonl",  # a folder's name
        b"back\\slash.txt": "back\\\\slash.txt",  # a backslash of the name: doubled
        b"lit\\xe9.txt": "lit\\\\xe9.txt",  # the four characters \xe9, not an escape
        "日本.txt".encode(): "日本.txt",  # UTF-8 names are unchanged
        b"good.txt": "good.txt",
    }
    for number, name in enumerate(names):
        text = f"Paragraph number {number} of the inbox, about the harbour."
        if name.endswith(b".jsonl"):
            text = json.dumps({"text": text})
        _write_bytes(root + b"/" + name, text.encode())
    files, rejects = discover([os.fsdecode(root)])
    docs, read_rejects, seen = read_files(enumerate(files))
    assert rejects == [] and read_rejects == []
    prefix = f"{(tmp_path / 'inbox').as_posix()}/"
    assert sorted(d.source.removeprefix(prefix) for d in docs) == sorted(
        source + "#1" if source.endswith(".jsonl") else source for source in names.values()
    )
    for f in files:  # the source names the very file it came from
        assert os.fsencode(path_of_source(f.source)) == os.fsencode(f.path)
        assert f.key == "inbox/" + f.source.removeprefix(prefix)
    assert len({d.doc_id for d in docs}) == len(names)
    assert [s.key for s in seen] == [f.key for f in files]
    for text in [d.source for d in docs] + [f.key for f in files]:
        text.encode("utf-8")  # what Parquet needs: no lone surrogate


def test_a_source_maps_back_to_its_path_for_any_name():
    for raw in [
        b"caf\xe9.txt",
        b"a\\b",
        b"a\\xe9",
        b"a\\\xe9",
        b"\\",
        b"\\\\x41",
        b"\xed\xa0\x80",
        b"\xff" * 3,
    ]:
        source = source_of(os.fsdecode(raw))
        assert source == source_of(raw) == source_of(Path(os.fsdecode(raw)))
        assert os.fsencode(path_of_source(source)) == raw


def test_a_file_type_named_in_bytes_that_are_not_utf8_is_a_readable_reject(tmp_path):
    _write_bytes(os.fsencode(tmp_path / "in") + b"/notes.d\xf6c", b"x")
    _, rejects = discover([tmp_path / "in"])
    assert [(r.source.rsplit("/", 1)[1], r.reason) for r in rejects] == [
        ("notes.d\\xf6c", "unsupported_type")
    ]
    assert "'.d\\xf6c' files are not read" in rejects[0].detail


def test_a_published_date_outside_the_years_1_to_9999_in_utc_is_a_reject(tmp_path):
    lines = [
        {"id": "late", "text": "x", "published": "9999-12-31T23:00:00-05:00"},  # 10000-01-01 in UTC
        {"id": "early", "text": "x", "published": "0001-01-01T00:00:00+05:00"},  # the year 0 in UTC
        {"id": "end-of-day", "text": "x", "published": "2026-03-04T24:00:00+01:00"},
        {"id": "after", "text": "x", "published": "2026-03-04"},
    ]
    files, _ = discover([_write(tmp_path / "feed.jsonl", "\n".join(map(json.dumps, lines)) + "\n")])
    docs, rejects, _ = read_files(enumerate(files))
    assert [(r.source.rsplit("#")[1], r.reason) for r in rejects] == [
        ("1", "invalid_record"),
        ("2", "invalid_record"),
    ]
    assert rejects[0].detail == (
        "field 'published': '9999-12-31T23:00:00-05:00' is outside the years 1 to 9999 once in UTC"
    )
    assert "'0001-01-01T00:00:00+05:00' is outside the years 1 to 9999" in rejects[1].detail
    assert [d.published for d in docs] == [
        datetime(2026, 3, 4, 23, 0, tzinfo=UTC),  # 24:00 is the next day's 00:00
        datetime(2026, 3, 4, tzinfo=UTC),
    ]


def test_json_python_cannot_hold_is_a_reject_and_the_next_line_is_read(tmp_path):
    lines = [
        '{"id": ' + "7" * 5000 + ', "text": "x"}',  # valid JSON; Python reads up to 4,300 digits
        '{"text": "x", "nested": ' + "[" * 100_000 + "]" * 100_000 + "}",  # deeper than recursion goes
        '{"text": "x", "published": 2026}',
        '{"text": "The line after."}',
    ]
    files, _ = discover([_write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")])
    docs, rejects, _ = read_files(enumerate(files))
    assert [(r.source.rsplit("#")[1], r.reason) for r in rejects] == [
        ("1", "invalid_record"),
        ("2", "invalid_record"),
        ("3", "invalid_record"),
    ]
    assert "integer of thousands of digits" in rejects[0].detail
    assert "nests arrays or objects too deep" in rejects[1].detail
    assert rejects[2].detail == "field 'published': must be an ISO 8601 string, got int"
    assert [d.body for d in docs] == ["The line after."]


def _write_bytes(path: bytes, content: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)


# -- a large JSONL file read in ranges, a batch each (`split_jsonl`) ------------------------


def _in_ranges(f, size, config):
    """Every range of `f` read on its own, in order: documents, rejects; and the file's Seen."""
    ranges, seen = split_jsonl(f, 3, size, config.max_record_bytes)
    docs, rejects = [], []
    for r in ranges:
        d, rj, s = read_file(r, 3, config)
        assert s is None  # the file's Seen is made with the ranges, once
        docs += d
        rejects += rj
    return ranges, docs, rejects, seen


@pytest.mark.parametrize("size", [1, 200, 1500, 9000])
def test_a_jsonl_file_read_in_ranges_reads_what_it_reads_whole(tmp_path, size):
    config = ReadConfig(max_record_bytes=2000)
    feed = awkward_feed(tmp_path / "feed.jsonl", 2000)
    (f,), _ = discover([feed])
    whole = read_file(f, 3, config)
    ranges, docs, rejects, seen = _in_ranges(f, size, config)
    assert len(ranges) > 1 and ranges[0].span.start == 0 and ranges[-1].span.end == feed.stat().st_size
    assert all(a.span.end == b.span.start for a, b in itertools.pairwise(ranges))
    assert [r.span.last for r in ranges] == [False] * (len(ranges) - 1) + [True]
    data = feed.read_bytes()
    assert all(data[r.span.end - 1 : r.span.end] == b"\n" for r in ranges[:-1])  # never inside a line
    assert docs == whole[0] and rejects == whole[1] and seen == whole[2]
    assert "too_large" in [r.reason for r in rejects] and whole[2].tail > 0


@pytest.mark.parametrize("size", [1, 200, 9000])
@pytest.mark.parametrize("tail", [b'{"text": "Half a rec', b"x" * 2100])
def test_a_last_line_being_written_is_held_in_ranges_as_when_read_whole(tmp_path, size, tail):
    """Held unread (`being_written`), and left out of the last range; a tail over the limit
    is a too_large reject both ways, since no more bytes can make it smaller."""
    config = ReadConfig(max_record_bytes=2000)
    feed = awkward_feed(tmp_path / "feed.jsonl", 2000)
    feed.write_bytes(feed.read_bytes() + b"\n" + tail)
    (f,), _ = discover([feed])
    whole = read_file(f, 3, config)
    ranges, *read = _in_ranges(f, size, config)
    assert read == list(whole)
    held = len(tail) <= 2000
    lines = feed.read_bytes().count(b"\n") + 1
    assert whole[2].held == (f"{feed.as_posix()}#{lines}" if held else "")
    assert ranges[-1].span.end == feed.stat().st_size - len(tail) * held
    assert [r.reason for r in whole[1] if r.source.endswith(f"#{lines}")] == ([] if held else ["too_large"])


@pytest.mark.parametrize(
    ("ended", "added", "docs", "lines"),
    [
        (True, b"", 2, 2),  # the file ended with a line break
        (False, b"\n", 2, 2),  # its last line was finished since
        (False, b"", 1, 1),  # written on since: read again (now bad JSON)
    ],
)
def test_a_grown_jsonl_file_read_in_ranges_reads_its_new_lines_only(tmp_path, ended, added, docs, lines):
    """As read whole: from where the earlier read ended."""
    from cleaner.io.records import Resume

    feed = awkward_feed(tmp_path / "feed.jsonl", 2000)
    if ended:
        feed.write_bytes(feed.read_bytes() + b"\n")
    (f,), _ = discover([feed])
    before = read_file(f, 0)[2]
    with feed.open("ab") as fh:
        fh.write(added + b'{"text": "The night ferry ran late."}\n{"text": "Snow closes the pass."}')
    grown = dataclasses.replace(f, resume=Resume(before.size, before.digest, before.lines, before.tail))
    whole = read_file(grown, 3)
    assert (len(whole[0]), whole[2].lines) == (docs, before.lines + lines)
    ranges, *read = _in_ranges(grown, 10, ReadConfig())
    assert read == list(whole) and ranges[0].span.start >= before.size - before.tail


def test_a_range_reads_its_bytes_only(tmp_path):
    feed = _write(
        tmp_path / "feed.jsonl", "".join(json.dumps({"text": f"Story {i}."}) + "\n" for i in range(9))
    )
    (f,), _ = discover([feed])
    ranges, seen = split_jsonl(f, 0, 60)
    with feed.open("ab") as fh:  # written after the ranges were made: not theirs
        fh.write(b'{"text": "Late."}\n')
    read = [[d.source.rsplit("#", 1)[1] for d in read_file(r, 0)[0]] for r in ranges]
    assert sum(read, []) == [str(n) for n in range(1, 10)] and all(len(r) < 9 for r in read)
    assert seen.lines == 9 and seen.size == feed.stat().st_size - len(b'{"text": "Late."}\n')


def test_compressed_small_and_other_files_are_read_whole(tmp_path):
    import gzip

    records = "".join(json.dumps({"text": f"Story {i}."}) + "\n" for i in range(50)).encode()
    paths = [
        _write(tmp_path / "feed.jsonl.gz", gzip.compress(records)),
        _write(tmp_path / "gzipped.jsonl", gzip.compress(records)),  # by its bytes
        _write(tmp_path / "small.jsonl", records),
        _write(tmp_path / "page.txt", records),
        _write(tmp_path / "one-line.jsonl", json.dumps({"text": "x " * 5000}) + "\n"),
    ]
    files, _ = discover(paths)
    assert {
        f.path.name: split_jsonl(f, 0, len(records) // 2 if "small" not in f.path.name else len(records))
        for f in files
    } == dict.fromkeys((p.name for p in paths), None)


def test_an_empty_id_or_date_is_none_as_exporters_write_it(tmp_path):
    """`"id": ""` was an id: every later record of an export with empty ids was its
    duplicate_id reject. `"published": ""` rejected the record."""
    lines = [
        {"id": "", "text": "The first story of the export."},
        {"id": " ", "text": "The second story of the export.", "published": ""},
        {"id": "", "text": "The third story of the export.", "published": "  "},
    ]
    files, _ = discover([_write(tmp_path / "feed.jsonl", "\n".join(map(json.dumps, lines)) + "\n")])
    docs, rejects, _ = read_files(enumerate(files))
    assert rejects == [] and len({d.doc_id for d in docs}) == 3
    assert [d.published for d in docs] == [None, None, None]


def test_utf16_jsonl_is_one_reject_saying_so_and_utf16_text_is_named(tmp_path):
    """A UTF-16 feed gave an invalid_json reject per line, none saying why; a UTF-16 text
    without a byte order mark was "binary data"."""
    record = json.dumps({"text": "The council voted on Tuesday."})
    feed, note, kept = tmp_path / "feed.jsonl", tmp_path / "note.txt", tmp_path / "kept.txt"
    feed.write_bytes((record + "\n" + record + "\n").encode("utf-16"))
    note.write_bytes(("A paragraph of plain text. " * 20).encode("utf-16-le"))
    kept.write_bytes(("A paragraph of plain text. " * 20).encode("utf-16"))
    files, _ = discover([feed, note, kept])
    docs, rejects, _ = read_files(enumerate(files))
    assert [d.source for d in docs] == [kept.as_posix()]  # a byte order mark says what it is
    found = {r.source.rsplit("/", 1)[1]: (r.reason, r.detail) for r in rejects}
    assert found["feed.jsonl"][0] == "not_utf8" and "UTF-16 or UTF-32" in found["feed.jsonl"][1]
    assert (
        found["note.txt"][0] == "binary" and "UTF-16 text without a byte order mark" in found["note.txt"][1]
    )
    assert len(rejects) == 2
