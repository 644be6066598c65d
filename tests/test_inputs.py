"""Which inputs a growing corpus reads again: files known by their real path, never by their
name; a JSONL file that grew read from where the last run stopped; the output folder never
read as input."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest

from cleaner.config import DedupConfig, ReadConfig
from cleaner.corpus import index, writers
from cleaner.errors import InputError
from cleaner.io import records
from cleaner.io.readers import discover, output_among_inputs, read_file


def _record(i: int) -> bytes:
    return (
        json.dumps({"text": f"Record number {i} of the feed, with a sentence of its own."}).encode() + b"\n"
    )


def _remember(out: Path, files: list[records.InputFile]) -> None:
    """Commit a run that read `files` (only its index/inputs matter here)."""
    seen = [read_file(f, rank)[2] for rank, f in enumerate(files)]
    with writers.open_run(out, writers.new_run_id()) as staging:
        writer = writers.CorpusWriter(staging)
        manifest = writers.build_manifest(
            run_id=writer.run_id, inputs=[], config={}, stages={}, timings={}, versions={}
        )
        writer.commit([], manifest, {"index/inputs": index.input_rows(seen, [])})


def _unread(out: Path, paths) -> list[records.InputFile]:
    files, _ = discover(paths)
    return [f for _, f in index.Index(out, DedupConfig()).unread(files)]


def test_two_files_of_one_name_are_two_inputs(tmp_path):
    """day1/feed.jsonl, then a different day2/feed.jsonl of the same size and modification
    time: the second is read, not taken for the first."""
    out = tmp_path / "corpus"
    day1, day2 = tmp_path / "day1" / "feed.jsonl", tmp_path / "day2" / "feed.jsonl"
    for path, i in ((day1, 1), (day2, 2)):
        path.parent.mkdir()
        path.write_bytes(_record(i))
        os.utime(path, ns=(10**18, 10**18))
    first, _ = discover([day1])
    second, _ = discover([day2])
    assert first[0].key == second[0].key == "feed.jsonl"  # the ids' key: the same name
    assert first[0].identity != second[0].identity
    _remember(out, first)
    assert _unread(out, [day1]) == []
    assert [f.identity for f in _unread(out, [day2])] == [second[0].identity]


def test_a_folders_keys_do_not_depend_on_how_it_is_spelled(tmp_path, monkeypatch):
    # `cleaner run .` from inside the inbox gave its files other keys, so other doc ids, than
    # `cleaner run inbox` beside it: "." has no name.
    inbox = tmp_path / "inbox"
    (inbox / "day").mkdir(parents=True)
    (inbox / "day" / "a.txt").write_text("A page about the harbour.\n")
    monkeypatch.chdir(tmp_path)
    keys = {tuple(f.key for f in discover([Path(spelling)])[0]) for spelling in ("inbox", "inbox/day/..")}
    monkeypatch.chdir(inbox)
    keys |= {tuple(f.key for f in discover([Path(spelling)])[0]) for spelling in (".", "./", "day/..")}
    monkeypatch.chdir(inbox / "day")
    keys.add(tuple(f.key for f in discover([Path("..")])[0]))
    assert keys == {("inbox/day/a.txt",)}


def test_a_moved_folder_is_read_and_recognised_by_its_bytes(tmp_path):
    out = tmp_path / "corpus"
    inbox = tmp_path / "old" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "a.txt").write_text("A page about the harbour.\n")
    files, _ = discover([inbox])
    _remember(out, files)
    moved = tmp_path / "new" / "inbox"
    (tmp_path / "old").rename(tmp_path / "new")
    (again,) = _unread(out, [moved])  # another path: read, then known by its key and bytes
    seen = read_file(again, 0)[2]
    corpus = index.Index(out, DedupConfig())
    assert (seen.key, seen.digest) in corpus._copies and seen.path not in corpus.known_inputs


def test_a_grown_jsonl_file_is_read_from_where_the_last_run_stopped(tmp_path):
    out, feed = tmp_path / "corpus", tmp_path / "inbox" / "feed.jsonl"
    feed.parent.mkdir()
    feed.write_bytes(b"".join(_record(i) for i in range(1, 4)))
    files, _ = discover([feed.parent])
    docs, _, seen = read_file(files[0], 0)
    assert [d.source.rsplit("/", 1)[1] for d in docs] == ["feed.jsonl#1", "feed.jsonl#2", "feed.jsonl#3"]
    assert (seen.lines, seen.tail, seen.size) == (3, 0, feed.stat().st_size)
    _remember(out, files)
    whole = {d.source: d.doc_id for d in docs}

    with feed.open("ab") as fh:  # the next day: two more lines
        fh.write(_record(4) + _record(5))
    (grown,) = _unread(out, [feed.parent])
    assert grown.resume == records.Resume(seen.size, seen.digest, 3, 0)
    docs, rejects, after = read_file(grown, 0)
    assert [d.source.rsplit("/", 1)[1] for d in docs] == ["feed.jsonl#4", "feed.jsonl#5"] and not rejects
    # the same ids a whole read gives, and a digest of the whole file
    whole.update({d.source: d.doc_id for d in read_file(discover([feed.parent])[0][0], 0)[0]})
    assert all(whole[d.source] == d.doc_id for d in docs)
    fresh = read_file(discover([feed])[0][0], 0)[2]
    assert (after.digest, after.size, after.lines) == (fresh.digest, fresh.size, 5)


@pytest.mark.parametrize("same", [True, False])
def test_a_feed_moved_with_its_folder_and_grown_reads_its_new_lines_only(tmp_path, same):
    """Known by its real path only, it was read whole again: its old lines were five
    duplicate_id rejects. Known by its key too, its bytes still checked: a different file of
    the same name under a folder of the same name is read whole."""
    out = tmp_path / "corpus"
    old = tmp_path / "a" / "inbox" / "feed.jsonl"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"".join(_record(i) for i in range(1, 6)))
    _remember(out, discover([old.parent])[0])
    new = tmp_path / "b" / "inbox" / "feed.jsonl"
    new.parent.mkdir(parents=True)
    old.rename(new)
    if not same:
        new.write_bytes(_record(9) + new.read_bytes()[len(_record(1)) :])  # its first line changed
    with new.open("ab") as fh:
        fh.write(_record(6))
    (moved,) = _unread(out, [new.parent])
    docs, rejects, seen = read_file(moved, 0)
    numbers = [d.source.rsplit("#", 1)[1] for d in docs]
    assert numbers == (["6"] if same else ["1", "2", "3", "4", "5", "6"]) and not rejects
    assert seen.lines == 6 and seen.path == new.as_posix()


def test_a_rewritten_jsonl_file_is_read_whole(tmp_path):
    out, feed = tmp_path / "corpus", tmp_path / "feed.jsonl"
    feed.write_bytes(_record(1) + _record(2))
    files, _ = discover([feed])
    _remember(out, files)
    feed.write_bytes(_record(9) + _record(2) + _record(3))  # its first line changed
    (changed,) = _unread(out, [feed])
    assert changed.resume is not None
    docs, _, _ = read_file(changed, 0)
    assert [d.source for d in docs] == [f"{feed.as_posix()}#{i}" for i in (1, 2, 3)]


def test_a_last_line_being_written_is_held_until_it_is_whole(tmp_path):
    """It was an invalid_json reject in the run that saw it half written, and a document in
    the next: one record counted twice in the corpus. Now it is held unread, and said, in
    every run until its line break comes."""
    out, feed = tmp_path / "corpus", tmp_path / "feed.jsonl"
    first = _record(1)
    feed.write_bytes(first + b'{"text": "Half a rec')
    files, _ = discover([feed])
    docs, rejects, seen = read_file(files[0], 0)
    assert len(docs) == 1 and not rejects and seen.held == f"{feed.as_posix()}#2"
    # the file as read up to the held line: a later run reads that line again
    assert (seen.size, seen.lines, seen.tail) == (len(first), 1, 0)
    assert seen.digest == hashlib.blake2b(first, digest_size=16).hexdigest()
    _remember(out, files)
    (again,) = _unread(out, [feed])  # unchanged, but not all of it was read
    assert again.resume == records.Resume(len(first), seen.digest, 1, 0)
    docs, rejects, still = read_file(again, 0)
    assert (docs, rejects, still) == ([], [], seen)
    with feed.open("ab") as fh:
        fh.write(b'ord, finished later."}\n' + _record(3))
    (grown,) = _unread(out, [feed])
    docs, rejects, after = read_file(grown, 0)
    assert [d.source for d in docs] == [f"{feed.as_posix()}#2", f"{feed.as_posix()}#3"] and not rejects
    assert docs[0].body == "Half a record, finished later."
    assert (after.lines, after.tail, after.held) == (3, 0, "")


@pytest.mark.parametrize(
    ("last", "reasons"),
    [
        (b'{"text": "A record without its line break."}', []),  # whole JSON: a document
        (b"[1, 2]", ["invalid_record"]),  # whole JSON, not a record: a reject
        (b"   ", []),  # blank
    ],
)
def test_only_a_last_line_that_is_not_json_yet_is_held(tmp_path, last, reasons):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(_record(1) + last)
    docs, rejects, seen = read_file(discover([feed])[0][0], 0)
    assert [r.reason for r in rejects] == reasons and seen.held == "" and seen.size == feed.stat().st_size
    assert len(docs) == 1 + (not reasons and bool(last.strip()))


def test_a_cut_line_inside_a_file_or_a_compressed_one_is_still_rejected(tmp_path):
    """Only the last line of a plain file can still be being written."""
    inside, packed = tmp_path / "inside.jsonl", tmp_path / "packed.jsonl.gz"
    inside.write_bytes(_record(1) + b'{"text": "Cut\n' + _record(3))
    packed.write_bytes(gzip.compress(_record(1) + b'{"text": "Cut'))
    for path, number in ((inside, 2), (packed, 2)):
        docs, rejects, seen = read_file(discover([path])[0][0], 0)
        assert [(r.source, r.reason) for r in rejects] == [(f"{path.as_posix()}#{number}", "invalid_json")]
        assert seen.held == ""


def test_a_file_of_one_line_being_written_is_held_not_empty(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b'{"text": "Only half')
    docs, rejects, seen = read_file(discover([feed])[0][0], 0)
    assert (docs, rejects, seen.held, seen.size, seen.lines) == ([], [], f"{feed.as_posix()}#1", 0, 0)


@pytest.mark.parametrize(
    "endings",
    [
        [b"\n"],
        [b"\r\n"],  # a Windows writer: "\r" was taken for more written onto the line, read twice
        [b" \t\r\n"],
        [b"\r", b"\n"],  # a run between the two bytes of its line break
        [b"  ", b"\r\n"],
    ],
)
def test_a_complete_last_line_without_its_break_is_not_read_twice(tmp_path, endings):
    out, feed = tmp_path / "corpus", tmp_path / "feed.jsonl"
    feed.write_bytes(_record(1) + _record(2).rstrip(b"\n"))
    files, _ = discover([feed])
    first = read_file(files[0], 0)[0]
    assert len(first) == 2
    _remember(out, files)
    for ending in endings[:-1]:  # only part of the line's ending so far
        with feed.open("ab") as fh:
            fh.write(ending)
        (grown,) = _unread(out, [feed])
        docs, rejects, seen = read_file(grown, 0)
        assert (docs, rejects, seen.lines, seen.held) == ([], [], 2, "")
        _remember(out, [grown])
    with feed.open("ab") as fh:
        fh.write(endings[-1] + _record(3))
    (grown,) = _unread(out, [feed])
    docs, rejects, after = read_file(grown, 0)
    assert [d.source for d in docs] == [f"{feed.as_posix()}#3"] and not rejects
    whole = read_file(discover([feed])[0][0], 0)
    assert whole[0][1:] == first[1:] + docs  # the ids a whole read gives
    assert (after.digest, after.size, after.lines) == (whole[2].digest, whole[2].size, 3)


def test_a_records_id_does_not_depend_on_what_ended_its_line(tmp_path):
    """The id was of the line's bytes with its ending: a last line read before its line
    break came had another id than the same line read whole, and "\r\n" another than "\n"."""
    feed = tmp_path / "feed.jsonl"
    ids = set()
    for ending in (b"", b"\n", b"\r\n"):
        feed.write_bytes(_record(1) + _record(2).rstrip(b"\n") + ending)
        ids.add(read_file(discover([feed])[0][0], 0)[0][1].doc_id)
    assert len(ids) == 1


def test_a_compressed_jsonl_file_is_read_whole(tmp_path):
    out, feed = tmp_path / "corpus", tmp_path / "feed.jsonl.gz"
    feed.write_bytes(gzip.compress(_record(1)))
    files, _ = discover([feed])
    _remember(out, files)
    feed.write_bytes(feed.read_bytes() + gzip.compress(_record(2)))  # a gzip member appended
    (grown,) = _unread(out, [feed])
    assert grown.resume is None and len(read_file(grown, 0, ReadConfig())[0]) == 2


def test_the_output_folder_is_never_read_as_input(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "corpus" / "documents" / "run=x").mkdir(parents=True)
    (inbox / "corpus" / "documents" / "run=x" / "part-00000.parquet").write_bytes(b"PAR1")
    (inbox / "corpus" / "notes.txt").write_text("Not an input.\n")
    (inbox / "a.txt").write_text("An input.\n")
    (inbox / "link").symlink_to(inbox / "corpus")  # reached another way
    files, rejects = discover([inbox], exclude=inbox / "corpus")
    assert [f.key for f in files] == ["inbox/a.txt"] and rejects == []
    # a path given inside it would go unread, unsaid (the run said "no input found", or
    # read the other paths and exited 0): a usage error, before anything is read
    for given in (inbox / "corpus", inbox / "corpus" / "notes.txt", inbox / "link"):
        with pytest.raises(InputError, match=r"lies inside the output folder .*corpus.* another --out"):
            discover([inbox / "a.txt", given], exclude=inbox / "corpus")
    assert output_among_inputs([inbox], inbox / "corpus") == str(inbox)
    assert output_among_inputs([inbox / "a.txt"], tmp_path / "elsewhere") is None
