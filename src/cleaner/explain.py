"""`cleaner inspect`: see a removal with your own eyes.

`--doc ID` prints one document's paragraphs in order, each removed one marked with its rule or
duplicate status, and each duplicate paragraph followed by the paragraph it repeats.
Either option takes, in place of a doc_id, a document's `source` (the input path, as the
report lists them, or its end: `feed.jsonl#2`) or its `url` (`Corpus.resolve`).

`--cluster ID` prints a duplicate cluster side by side: the kept document (the cluster's id is
its `doc_id`; a duplicate's id names its cluster too) in the first column and each duplicate
document pointing at it (`duplicates.duplicate_of`) in the next ones. Rows are aligned by what
the corpus recorded: a duplicate's paragraph sits beside the kept paragraph it repeats
(`passages.duplicate_of_doc` and `duplicate_of_position`), with the words that differ marked;
its other paragraphs get rows of their own, after the last aligned one before them.

Every read is a filtered scan of the columns needed, so inspecting one document of a large
corpus reads its rows, not the corpus's texts.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pyarrow.compute as pc
import pyarrow.dataset as ds
from rich.cells import cell_len as _cell_len
from rich.cells import chop_cells

from cleaner.corpus import read
from cleaner.errors import CleanerError

_HOW_TO_FIND = (
    'ids are the doc_id column of documents/ and duplicates/, e.g. python -c "import pyarrow.parquet as pq; '
    "print(pq.read_table('{out}/documents', columns=['doc_id', 'source']).to_pylist())\""
)
_MARK = {"kept": " ", "boilerplate": "-", "exact_duplicate": "=", "near_duplicate": "~", "rewrite": "%"}
_COLOUR = {
    "kept": "",
    "boilerplate": "\x1b[31m",  # red
    "exact_duplicate": "\x1b[33m",  # yellow
    "near_duplicate": "\x1b[33m",
    "rewrite": "\x1b[35m",  # magenta
    "repeats": "\x1b[36m",  # cyan
    "del": "\x1b[9;31m",  # struck-through red
    "ins": "\x1b[1;32m",  # bold green
    "head": "\x1b[1m",
}
_RESET = "\x1b[0m"


class InspectError(CleanerError):
    """An id that is not in the corpus."""


@dataclass(frozen=True)
class Member:
    doc_id: str
    source: str
    title: str | None
    run: str
    duplicate_of: str | None = None  # set for a dropped duplicate document
    kind: str | None = None
    similarity: float | None = None


# -- reading -------------------------------------------------------------------------------


class Corpus:
    """Filtered reads of one corpus folder's committed runs."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        manifests = read.manifests(self.out)
        self.runs = [m["run_id"] for m in manifests]
        self.inputs = {
            m["run_id"]: [str(i).rstrip("/") + "/" for i in m.get("inputs", [])] for m in manifests
        }

    def rows(self, name: str, columns: list[str], where: ds.Expression) -> list[dict]:
        return read.rows(self.out, name, columns, where, self.runs)

    def member(self, doc_id: str) -> Member | None:
        where = ds.field("doc_id") == doc_id
        for row in self.rows("documents", ["doc_id", "source", "title", "run"], where):
            return Member(**row)
        cols = ["doc_id", "source", "title", "run", "duplicate_of", "kind", "similarity"]
        for row in self.rows("duplicates", cols, where):
            return Member(**row)
        return None

    def duplicates_of(self, doc_id: str) -> list[Member]:
        cols = ["doc_id", "source", "title", "run", "duplicate_of", "kind", "similarity"]
        rows = self.rows("duplicates", cols, ds.field("duplicate_of") == doc_id)
        return sorted((Member(**r) for r in rows), key=lambda m: m.source)

    def passages(self, doc_ids: list[str], content_only: bool = False) -> list[dict]:
        where = ds.field("doc_id").isin(doc_ids)
        if content_only:
            where &= ds.field("status") != "boilerplate"
        cols = ["doc_id", "position", "text", "status", "rule", "duplicate_of_doc", "duplicate_of_position"]
        rows = self.rows("passages", [*cols, "similarity"], where)
        return sorted(rows, key=lambda r: (r["doc_id"], r["position"]))

    def passage_texts(self, refs: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The texts of the passages at (doc_id, position), read by document."""
        if not refs:
            return {}
        where = ds.field("doc_id").isin(sorted({d for d, _ in refs})) & ds.field("position").isin(
            sorted({p for _, p in refs})
        )
        rows = self.rows("passages", ["doc_id", "position", "text"], where)
        return {(r["doc_id"], r["position"]): r["text"] for r in rows if (r["doc_id"], r["position"]) in refs}

    def short_source(self, member: Member) -> str:
        """The member's source relative to the input folder its run read it from."""
        for folder in self.inputs.get(member.run, []):
            if member.source.startswith(folder):
                return member.source.removeprefix(folder)
        return member.source

    def unknown(self, what: str, doc_id: str) -> InspectError:
        return InspectError(
            f"no {what} {doc_id!r} in {self.out} (as a doc_id, a source or a url); "
            + _HOW_TO_FIND.format(out=self.out)
        )

    def resolve(self, value: str) -> str:
        """The doc_id `value` names: itself when it is one, else the document whose source
        or url it is, or whose source ends with it after a "/"; an error when several are."""
        if self.member(value) is not None or self.passages([value]):
            return value
        source = ds.field("source") == value
        for where, rejected in (
            (source | (ds.field("url") == value), source),  # rejects/ have no url
            (pc.ends_with(ds.field("source"), pattern="/" + value),) * 2,
        ):
            ids = [
                r["doc_id"]
                for name in ("documents", "duplicates")
                for r in self.rows(name, ["doc_id"], where)
            ]
            # a page rejected after cleaning (no_content) has its passages; any other reject's
            # doc_id is no document's (`rejected`), or another record's (duplicate_id)
            no_content = rejected & ds.field("doc_id").is_valid() & (ds.field("reason") == "no_content")
            ids += [r["doc_id"] for r in self.rows("rejects", ["doc_id"], no_content)]
            ids = sorted(set(ids))
            if len(ids) == 1:
                return ids[0]
            if ids:
                shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
                raise InspectError(
                    f"{value!r} names {len(ids)} documents of {self.out}: {shown}; give one doc_id"
                )
        return value

    def rejected(self, value: str) -> list[dict]:
        """The rejects (other than no_content's, which are documents to show) whose source is
        `value` or ends with it after a "/": a record the user names by its source."""
        named = (ds.field("source") == value) | pc.ends_with(ds.field("source"), pattern="/" + value)
        columns = ["source", "reason", "detail", "doc_id", "run"]
        return [r for r in self.rows("rejects", columns, named) if r["reason"] != "no_content"]


# -- --doc ---------------------------------------------------------------------------------


def show_document(
    out: str | Path, doc_id: str, *, colour: bool = False, stream: TextIO | None = None
) -> None:
    stream = stream or sys.stdout
    corpus = Corpus(out)
    named = doc_id
    doc_id = corpus.resolve(doc_id)
    member = corpus.member(doc_id)
    passages = corpus.passages([doc_id])
    paint = _painter(colour)
    write = lambda line="": print(line.rstrip(), file=stream)  # noqa: E731
    if member is None and not passages:
        rejects = corpus.rejected(named)
        if not rejects:
            raise corpus.unknown("document", doc_id)
        for r in rejects:  # a record that never became a document of the corpus
            write(paint("head", f"record {r['source']}: rejected ({r['reason']}) in run {r['run']}"))
            write(f"why:    {r['detail']}")
            other = corpus.member(r["doc_id"]) if r["doc_id"] else None
            if r["reason"] == "duplicate_id" and other is not None:
                write(f"its doc_id {other.doc_id} is the document from {other.source} (run {other.run})")
        return

    if member is None:
        write(paint("head", f"document {doc_id}: rejected (no_content), every line is boilerplate"))
        for row in corpus.rows("rejects", ["source"], ds.field("doc_id") == doc_id)[:1]:
            write(f"source: {row['source']}")
    elif member.duplicate_of:
        write(
            paint(
                "head",
                f"document {doc_id}: dropped as a duplicate ({member.kind}, similarity "
                f"{member.similarity:.2f}) of {member.duplicate_of}",
            )
        )
    else:
        write(paint("head", f"document {doc_id}: kept"))
    if member is not None:
        write(f"source: {member.source}")
        if member.title:
            write(f"title:  {member.title}")
        write(f"run:    {member.run}")
    counts = {s: sum(p["status"] == s for p in passages) for s in _MARK}
    write(f"{len(passages)} passages: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    if member is not None and member.duplicate_of:
        write("(a dropped duplicate's passages are not in documents/, whatever their status)")
    write()

    refs = {
        (p["duplicate_of_doc"], p["duplicate_of_position"])
        for p in passages
        if p["duplicate_of_doc"] is not None and p["duplicate_of_position"] is not None
    }
    repeated = corpus.passage_texts(refs)
    labels = [_label(p) for p in passages]
    origins = [
        f"repeats {p['duplicate_of_doc']} #{p['duplicate_of_position']}" if p["duplicate_of_doc"] else ""
        for p in passages
    ]
    width = max((len(label) for label in labels + origins), default=0)
    for p, label, origin in zip(passages, labels, origins, strict=True):
        status = p["status"]
        write(f"{p['position']:>4} {_MARK.get(status, '?')} {paint(status, label.ljust(width))}  {p['text']}")
        if p["duplicate_of_doc"] is not None:
            ref = (p["duplicate_of_doc"], p["duplicate_of_position"])
            text = repeated.get(ref, "(not found in the corpus)")
            write(f"{'':>4}   {paint('repeats', origin.ljust(width))}  {paint('repeats', text)}")


def _label(p: dict) -> str:
    if p["status"] == "boilerplate":
        return f"boilerplate: {p['rule']}" if p["rule"] else "boilerplate"
    if p["status"] in ("near_duplicate", "rewrite") and p["similarity"] is not None:
        return f"{p['status']} {p['similarity']:.2f}"
    return p["status"]


# -- --cluster -----------------------------------------------------------------------------


def show_cluster(
    out: str | Path,
    cluster_id: str,
    *,
    colour: bool = False,
    width: int | None = None,
    stream: TextIO | None = None,
) -> None:
    stream = stream or sys.stdout
    corpus = Corpus(out)
    cluster_id = corpus.resolve(cluster_id)
    member = corpus.member(cluster_id)
    if member is None:
        raise corpus.unknown("cluster (the doc_id of a kept or duplicate document)", cluster_id)
    paint = _painter(colour)
    write = lambda line="": print(line.rstrip(), file=stream)  # noqa: E731
    if member.duplicate_of:
        write(f"{cluster_id} is a duplicate in the cluster of {member.duplicate_of}")
        member = corpus.member(member.duplicate_of)
        if member is None:  # cannot happen in a corpus cleaner wrote
            raise corpus.unknown("document", cluster_id)
    members = [member, *corpus.duplicates_of(member.doc_id)]
    write(
        paint("head", f"cluster {member.doc_id}: {len(members)} documents, the kept one and ")
        + paint("head", f"{len(members) - 1} duplicate{'s' if len(members) != 2 else ''}")
    )
    legend = [(w, "del") for w in "only in the kept document".split()]
    legend += [(w, "ins") for w in "only in this one".split()]
    legend = legend if colour else _marked(legend)
    write("words: " + _render(legend, paint))
    write()

    columns = len(members)
    total = width or shutil.get_terminal_size((120, 24)).columns
    col = max(20, (total - 3 * (columns - 1)) // columns)
    rows = _aligned_rows(
        member.doc_id, members, corpus.passages([m.doc_id for m in members], content_only=True)
    )

    heads = []
    for m in members:
        role = "kept" if m.duplicate_of is None else f"{m.kind}, similarity {m.similarity:.2f}"
        heads.append(
            _wrap([(m.doc_id, "head")], col)
            + _wrap([(role, None)], col)
            + _wrap([(w, None) for w in corpus.short_source(m).split()], col)
        )
    _print_row(heads, col, paint, write)
    write(" | ".join("-" * col for _ in members))
    for i, cells in enumerate(rows):
        if i:
            write(" | ".join(" " * col for _ in members))
        _print_row([_wrap(cell, col, markers=not colour) for cell in cells], col, paint, write)


Token = tuple[str, str | None]  # a word and its style: None, "del", "ins" or "head"


def _aligned_rows(kept_id: str, members: list[Member], passages: list[dict]) -> list[list[list[Token]]]:
    """Rows of cells, one cell per member: a row per kept paragraph with the duplicates'
    paragraphs that repeat it (words diffed against it; a rewrite's paragraph, which shares
    few words by nature, is shown whole after its cosine, "[0.87]"), and rows for the other
    paragraphs of the duplicates after the row of the last aligned paragraph before them."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for p in passages:
        by_doc[p["doc_id"]].append(p)
    anchors = [p["position"] for p in by_doc[kept_id]]
    anchor_text = {p["position"]: p["text"] for p in by_doc[kept_id]}
    index = {pos: i for i, pos in enumerate(anchors)}
    cells: dict[tuple[int, int], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    restated: set[tuple[int, int, int]] = set()  # cells of a rewrite's paragraphs
    for pos in anchors:
        cells[(index[pos], 0)][0].append(anchor_text[pos])
    for col, m in enumerate(members[1:], start=1):
        last, extra = -1, 0
        for p in by_doc[m.doc_id]:
            if p["duplicate_of_doc"] == kept_id and p["duplicate_of_position"] in index:
                last, extra = index[p["duplicate_of_position"]], 0
                if p["status"] == "rewrite":
                    restated.add((last, 0, col))
                    cells[(last, 0)][col].append(f"[{p['similarity']:.2f}] {p['text']}")
                else:
                    cells[(last, 0)][col].append(p["text"])
            else:
                extra += 1
                cells[(last, extra)][col].append(p["text"])
    rows = []
    for (anchor, extra), row in sorted(cells.items()):
        base = anchor_text[anchors[anchor]].split() if extra == 0 else []
        out: list[list[Token]] = []
        for col in range(len(members)):
            words = " ".join(row.get(col, [])).split()
            if col == 0 or not words or (anchor, extra, col) in restated:
                out.append([(w, None) for w in words])
            else:
                out.append(word_diff(base, words))
        rows.append(out)
    return rows


def word_diff(old: list[str], new: list[str]) -> list[Token]:
    """`new`'s words, with `old`'s words it lacks as "del" and its own new ones as "ins"."""
    tokens: list[Token] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            tokens += [(w, None) for w in new[b1:b2]]
        if op in ("delete", "replace"):
            tokens += [(w, "del") for w in old[a1:a2]]
        if op in ("insert", "replace"):
            tokens += [(w, "ins") for w in new[b1:b2]]
    return tokens


# -- rendering -----------------------------------------------------------------------------


def _painter(colour: bool):
    def paint(style: str | None, text: str) -> str:
        code = _COLOUR.get(style or "", "") if colour else ""
        return f"{code}{text}{_RESET}" if code else text

    paint.colour = colour  # type: ignore[attr-defined]
    return paint


def _marked(tokens: list[Token]) -> list[Token]:
    """Plain markers around each run of deleted or inserted words: [-a b-] {+c+}."""
    out: list[Token] = []
    for i, (word, style) in enumerate(tokens):
        if style in ("del", "ins"):
            opening, closing = ("[-", "-]") if style == "del" else ("{+", "+}")
            if i == 0 or tokens[i - 1][1] != style:
                word = opening + word
            if i == len(tokens) - 1 or tokens[i + 1][1] != style:
                word = word + closing
        out.append((word, style))
    return out


def _wrap(tokens: list[Token], width: int, markers: bool = True) -> list[list[Token]]:
    """Greedy word wrap to lines of at most `width` terminal cells (plain markers, when asked
    for, are added first, so they count); a word longer than a line is cut. Widths are rich's
    `cell_len`: a CJK character or an emoji takes two cells, a combining accent none."""
    lines: list[list[Token]] = []
    line: list[Token] = []
    used = 0
    for word, style in _marked(tokens) if markers else tokens:
        while _cells(word) > width:
            if line:
                lines.append(line)
                line, used = [], 0
            head = chop_cells(word, width)[0]
            if head == word:  # one character wider than the line
                break
            lines.append([(head, style)])
            word = word[len(head) :]
        need = _cells(word) + (1 if line else 0)
        if line and used + need > width:
            lines.append(line)
            line, used, need = [], 0, _cells(word)
        line.append((word, style))
        used += need
    if line:
        lines.append(line)
    return lines


def _cells(word: str) -> int:
    """Terminal cells `word` takes; ASCII, the common case, counted by len (27 ns against 79)."""
    return len(word) if word.isascii() else _cell_len(word)


def _render(line: list[Token], paint) -> str:
    """A line of tokens as text, each run of one style painted once (spaces inside it too)."""
    runs: list[tuple[str | None, list[str]]] = []
    for word, style in line:
        if runs and runs[-1][0] == style:
            runs[-1][1].append(word)
        else:
            runs.append((style, [word]))
    return " ".join(paint(style, " ".join(words)) for style, words in runs)


def _print_row(cells: list[list[list[Token]]], width: int, paint, write) -> None:
    height = max((len(c) for c in cells), default=0)
    for i in range(height):
        parts = []
        for cell in cells:
            line = cell[i] if i < len(cell) else []
            visible = sum(_cells(w) for w, _ in line) + max(len(line) - 1, 0)
            parts.append(_render(line, paint) + " " * (width - visible))
        write(" | ".join(parts))


# -- colour choice -------------------------------------------------------------------------


def use_colour(no_color: bool, stream: TextIO | None = None) -> bool:
    """Colours on a terminal, unless --no-color or NO_COLOR (https://no-color.org) says not."""
    return not no_color and "NO_COLOR" not in os.environ and (stream or sys.stdout).isatty()
