"""Invariants of a run, as properties over generated corpora (hypothesis).

Each example is a folder of text, JSONL and HTML inputs drawn from real-looking paragraphs,
chrome lines, copies of each other and arbitrary Unicode, with bad JSONL lines and repeated
ids among them. It is run twice through the real flow, with different batch sizes and
numbers of workers, LSH in the flow's process and spread over the workers, and both runs
must give the same corpus, in which:
- every input record is in exactly one of documents/, duplicates/, rejects/;
- every paragraph of every readable text record is in passages/ exactly once, in order,
  with one status, and a rule exactly when it is boilerplate.

A second property feeds what a crawl can hold at its worst: file and folder names of any
bytes, JSON fields of any value and timestamps of any kind. The run must complete, place
every record exactly once, and record every source so that it names its file.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.corpus import writers
from cleaner.document import Status
from cleaner.io import readers
from cleaner.io.records import path_of_source, source_of
from cleaner.text import split_paragraphs

pytestmark = pytest.mark.prefect

PARAGRAPHS = [
    "The harbour board agreed on Tuesday to spend four million on a new breakwater after two winters of storm damage to the old one.",
    "Fishermen said the work could not start soon enough, since the outer moorings had become unsafe in anything stronger than a breeze.",
    "The county's bus company will add a second morning service to the valley villages from March, after complaints about crowded buses.",
    "Parents had written to the council that children were left standing at the stop when the single bus arrived full from the town.",
    "A rare white-tailed eagle has been seen over the estuary for the third week running, drawing birdwatchers from across the region.",
    "Wardens asked visitors to keep to the marked paths and to leave their dogs at home while the bird is feeding on the mudflats.",
    "The old cinema on Bridge Street will reopen as a community arts centre next year, after volunteers raised the money to buy it.",
    "Its new trustees plan film nights twice a week, a café in the foyer and rehearsal space for the town's two amateur theatre groups.",
    "東京都は二十日、新しいフェリー航路を来月一日から運航すると発表した。通勤客の混雑を和らげるため、朝と夕方に出航する。",
    "Der Berliner Senat hat am Dienstag den Bau von zwölf Kilometern neuer Radwege im Bezirk Pankow beschlossen.",
]
CHROME = [
    "Share this article",
    "READ MORE",
    "© 2026 The Bay Courier. All rights reserved.",
    "Photo: Jane Doe/Reuters",
    "Leave a Reply",
    "Related Articles",
    "Storm damage closes the coast road…",
    "Home › News › Local",
]
# Arbitrary text, as scraped pages hold: any letters, digits, punctuation and symbols, in any
# script (no control characters: split_paragraphs cuts lines on them).
FREE_TEXT = st.text(
    st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=60
).filter(lambda s: s.strip())
LINE = st.one_of(st.sampled_from(PARAGRAPHS), st.sampled_from(CHROME), FREE_TEXT)
BODY = st.lists(LINE, min_size=1, max_size=8).map(lambda lines: "\n\n".join(lines))


@st.composite
def jsonl_file(draw) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["record", "record", "record", "bad_json", "no_text"]))
        if kind == "bad_json":
            lines.append('{"id": "broken", "text": ')
        elif kind == "no_text":
            lines.append(json.dumps({"id": "empty-record", "title": "no text"}))
        else:
            record = {"text": draw(BODY)}
            if draw(st.booleans()):
                record["id"] = draw(st.sampled_from(["a", "b", "c", "d"]))  # ids repeat across files
            lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
    return lines


FILE = st.one_of(
    st.tuples(st.just("txt"), BODY),
    st.tuples(st.just("html"), BODY),
    st.tuples(st.just("jsonl"), jsonl_file()),
)
CORPUS = st.lists(FILE, min_size=1, max_size=8)


def _write(root: Path, files: list) -> dict[str, list[str]]:
    """The corpus on disk; returns each text record's source and its paragraphs."""
    texts: dict[str, list[str]] = {}
    for i, (kind, content) in enumerate(files):
        path = root / f"{i:02d}.{kind}"
        source = path.as_posix()
        if kind == "txt":
            path.write_text(content, encoding="utf-8")
            texts[source] = content
        elif kind == "html":
            paragraphs = "".join(f"<p>{line}</p>" for line in content.split("\n\n"))
            path.write_text(f"<html><body><article>{paragraphs}</article></body></html>", encoding="utf-8")
        else:
            path.write_text("\n".join(content) + "\n", encoding="utf-8")
            for number, line in enumerate(content, start=1):
                with contextlib.suppress(ValueError, KeyError):
                    texts[f"{source}#{number}"] = json.loads(line)["text"]
    # Passages are in NFC, as cleaning writes every text (a decomposed "Ă" is composed).
    return {source: split_paragraphs(unicodedata.normalize("NFC", text)) for source, text in texts.items()}


def _records(files: list, root: Path) -> set[str]:
    records = set()
    for i, (kind, content) in enumerate(files):
        source = (root / f"{i:02d}.{kind}").as_posix()
        if kind == "jsonl":
            records.update(f"{source}#{n}" for n in range(1, len(content) + 1))
        else:
            records.add(source)
    return records


def _read(out: Path) -> dict[str, list[dict]]:
    tables = {}
    for name in writers.DATASETS:
        rows = ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()
        for row in rows:
            row.pop("run")  # the run id is new each run; everything else must be equal
        tables[name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


def _run(
    paths: list[str],
    out: Path,
    batch_size: int,
    workers: int,
    spread: bool,
    split_bytes: int = 32_000_000,
    batch_input_bytes: int = 32_000_000,
) -> dict[str, list[dict]]:
    from prefect.task_runners import ProcessPoolTaskRunner

    from cleaner_flows.clean_corpus import clean_corpus

    flow = clean_corpus.with_options(task_runner=ProcessPoolTaskRunner(max_workers=workers))
    run = {
        "batch_size": batch_size,
        "batch_input_bytes": batch_input_bytes,
        "lsh_spread_min_rows": 0 if spread else 10**9,
        "split_bytes": split_bytes,
    }
    flow(paths=paths, out=str(out), config={"run": run})
    return _read(out)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    files=CORPUS,
    small_batch=st.integers(1, 3),
    split_bytes=st.integers(1, 400),
    batch_input_bytes=st.integers(1, 40_000),  # a file weighs 8 KB and more: batches of 1 to 5 files
)
def test_run_invariants_hold_for_any_corpus_batch_size_and_workers(
    prefect_server, files, small_batch, split_bytes, batch_input_bytes
):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        paragraphs = _write(root, files)
        one = _run([str(root)], Path(tmp) / "one", batch_size=256, workers=1, spread=False)
        many = _run(
            [str(root)],
            Path(tmp) / "many",
            batch_size=small_batch,
            workers=2,
            spread=True,
            split_bytes=split_bytes,
            batch_input_bytes=batch_input_bytes,
        )
        records = _records(files, root)
        inputs, _ = readers.discover([str(root)])
        ids = {d.source: d.doc_id for d in readers.read_files(enumerate(inputs))[0]}

    # Same corpus whatever the batch size, the number of workers and the ranges JSONL files
    # are read in.
    assert one == many

    # Every input record is in exactly one of documents, duplicates, rejects.
    placed = [row["source"] for name in ("documents", "duplicates", "rejects") for row in one[name]]
    assert sorted(placed) == sorted(records)

    # Every paragraph of every text record that was read is in passages once, in order,
    # with one status, and a rule exactly when it is boilerplate.
    by_doc: dict[str, list[dict]] = {}
    for row in one["passages"]:
        by_doc.setdefault(row["doc_id"], []).append(row)
    rejected = {row["source"]: row["reason"] for row in one["rejects"]}
    for source, expected in paragraphs.items():
        if rejected.get(source) in ("invalid_record", "duplicate_id"):
            continue  # never became a document: no passages (a no_content reject keeps its own)
        rows = sorted(by_doc.pop(ids[source]), key=lambda r: r["position"])
        assert [r["position"] for r in rows] == list(range(len(expected)))
        assert [r["text"] for r in rows] == [unicodedata.normalize("NFC", p) for p in expected]  # written NFC
        for r in rows:
            assert r["status"] in set(Status)
            assert (r["rule"] is not None) == (r["status"] == Status.BOILERPLATE)
            duplicate = r["status"] in (Status.EXACT_DUPLICATE, Status.NEAR_DUPLICATE)
            assert (r["duplicate_of_doc"] is not None) == duplicate
    # What is left is the passages of HTML pages, whose paragraphs extraction decides.
    html = {ids[s] for s in records if s.endswith(".html") and s in ids}
    assert set(by_doc) <= html
    for rows in by_doc.values():
        assert sorted(r["position"] for r in rows) == list(range(len(rows)))


# -- any input a crawl can hold ----------------------------------------------------------------
#
# Names of any bytes (a file system's names need not be UTF-8), JSON fields of any value
# (nested, huge, NaN, null, lists), and timestamps of any kind (out of the years 1-9999 in
# UTC, 24:00, offsets of a day, nonsense) in records, timestamp lines and page markup. The
# run must complete, place every record exactly once, and record every source so that it
# names its file.

# Any bytes a name may hold: all but "/" and NUL, and not hidden (a leading ".": skipped).
NAME = st.binary(min_size=1, max_size=12).map(lambda b: re.sub(rb"^\.|[/\0]", b"_", b))
TIMESTAMP = st.one_of(
    st.sampled_from(
        [
            "9999-12-31T23:00:00-05:00",
            "0001-01-01T00:00:00+05:00",
            "2026-03-04T24:00:00+01:00",
            "9999-12-31T24:00:00Z",
            "2026-03-04T09:30:00+25:00",
            "2026-03-04",
        ]
    ),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
    st.text(max_size=20),
)
HUGE, DEEP = "\x00huge\x00", "\x00deep\x00"  # written as JSON Python cannot read (see _json)
JSON_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([HUGE, DEEP, 2**64, -(2**63) - 1]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
FIELDS = ("id", "url", "title", "published", "text", "html")
RECORD = st.one_of(
    st.fixed_dictionaries(  # mostly a readable record, its fields of any value
        {"text": BODY},
        optional={"id": st.one_of(st.text(max_size=4), st.integers(), JSON_VALUE), "published": TIMESTAMP}
        | {name: JSON_VALUE for name in ("url", "title", "html")},
    ),
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(JSON_VALUE, TIMESTAMP), max_size=6),
    JSON_VALUE,  # not an object at all
)
TIMESTAMP_LINE = st.builds(
    "Published {} {}".format, TIMESTAMP, st.sampled_from(["", "2024", "GMT+24", "IST"])
)


def _json(value) -> str:
    """A JSON line; HUGE is an integer of 5,000 digits and DEEP arrays nested 5,000 deep,
    both valid JSON that Python cannot read."""
    line = json.dumps(value, ensure_ascii=False)
    return line.replace(json.dumps(HUGE), "9" * 5000).replace(json.dumps(DEEP), "[" * 5000 + "]" * 5000)


INPUT = st.one_of(
    st.tuples(st.just(b".txt"), st.lists(st.one_of(LINE, TIMESTAMP_LINE), min_size=1, max_size=5)),
    st.tuples(st.just(b".html"), st.tuples(BODY, TIMESTAMP)),
    st.tuples(st.just(b".jsonl"), st.lists(RECORD, min_size=1, max_size=4)),
    st.tuples(st.sampled_from([b".d\xf6c", b".pdf"]), st.just("")),  # not read: a reject naming it
)
INPUTS = st.lists(
    st.tuples(st.lists(NAME, max_size=2), NAME, INPUT), min_size=1, max_size=6, unique_by=lambda t: t[1]
)


def _write_inputs(root: bytes, inputs) -> set[str]:
    """The inputs on disk, each under its folders; returns every record's source."""
    records = set()
    for folders, name, (extension, content) in inputs:
        folder = b"/".join([root, *folders])
        path = folder + b"/" + name + extension
        if os.path.exists(path) or any(
            os.path.isfile(b"/".join([root, *folders[: i + 1]])) for i in range(len(folders))
        ):
            continue  # a folder named as a file drawn before
        os.makedirs(folder, exist_ok=True)
        if extension == b".txt":
            data = "\n\n".join(content)
        elif extension == b".html":
            body, published = content
            paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in body.split("\n\n"))
            meta = f'<meta property="article:published_time" content="{html.escape(published)}">'
            data = f"<html><head>{meta}</head><body><article>{paragraphs}</article></body></html>"
        elif extension == b".jsonl":
            data = "\n".join(_json(record) for record in content) + "\n"
        else:
            data = content
        with open(path, "wb") as fh:
            fh.write(data.encode("utf-8", "surrogatepass"))
        source = source_of(path)
        if extension == b".jsonl":
            records.update(f"{source}#{n}" for n in range(1, len(content) + 1))
        else:
            records.add(source)
    return records


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(root_name=NAME, inputs=INPUTS)
def test_any_names_fields_and_dates_are_read_or_rejected_and_recorded_losslessly(
    prefect_server, root_name, inputs
):
    from cleaner_flows.clean_corpus import clean_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = os.fsencode(tmp) + b"/" + root_name  # the root's own name may not be UTF-8 either
        os.makedirs(root)
        records = _write_inputs(root, inputs)
        out = Path(tmp) / "out"
        clean_corpus(paths=[source_of(root)], out=str(out))  # JSON text: given as a source
        tables = _read(out)
        placed = [row["source"] for name in ("documents", "duplicates", "rejects") for row in tables[name]]
        # Every record in exactly one of documents, duplicates and rejects, and no other.
        assert sorted(placed) == sorted(records)
        # Every source names its file: the bytes of its path, given back by path_of_source.
        for source in placed:
            file = source.rpartition("#")[0] if source.rpartition("#")[2].isdigit() else source
            assert os.path.isfile(path_of_source(file)), source
        # Every reject says why.
        assert all(row["reason"] and len(row["detail"]) > 20 for row in tables["rejects"])
