import json
import os
from datetime import UTC, datetime

import pytest

from cleaner.errors import InputError
from cleaner.readers import discover, read_file, read_files, site_of


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


def test_discover_survives_a_symlink_loop(tmp_path):
    root = tmp_path / "in"
    _write(root / "sub" / "a.txt", "text")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    files, rejects = discover([root])
    assert [f.key for f in files] == ["in/sub/a.txt"]
    assert any(r.reason == "symlink_loop" for r in rejects)


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
    files, _ = discover([_write(tmp_path / "e.txt", ""), _write(tmp_path / "w.html", " \n\t\n")])
    docs, rejects, _ = read_files(enumerate(files))
    assert docs == []
    assert [r.reason for r in rejects] == ["empty", "empty"]


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
