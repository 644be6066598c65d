"""The record types that flow through every stage.

A `Document` is created by a reader, filled in by extraction, split into `Passage`s and labelled
by the cleaner, and marked by dedup. Each stage writes its provenance into the record (the rule
that removed a line, the passage or document a duplicate repeats, the similarity), so the writer
only has to lay the records out as tables. An input that cannot be turned into a document
becomes a `Reject` with a reason instead of disappearing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """What happened to a passage."""

    KEPT = "kept"
    BOILERPLATE = "boilerplate"
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    REWRITE = "rewrite"  # restates a passage of an earlier document it rewrites


class DuplicateKind(StrEnum):
    """How a dropped document relates to the document it repeats."""

    EXACT = "exact"  # the same content passages, all exact copies
    NEAR = "near"  # edited copy: passages that are near-duplicates, some dropped or added
    CONTAINED = "contained"  # a fragment (teaser, truncated copy) of a larger document
    REWRITE = "rewrite"  # restates an earlier document paragraph after paragraph, in other words


@dataclass(slots=True)
class Passage:
    """One paragraph of a document and the decision taken on it."""

    position: int
    text: str
    status: Status = Status.KEPT
    rule: str | None = None
    duplicate_of_doc: str | None = None
    duplicate_of_position: int | None = None
    similarity: float | None = None

    @property
    def is_content(self) -> bool:
        """True unless a cleaning rule removed it: duplicates are content seen before."""
        return self.status is not Status.BOILERPLATE

    def drop(self, rule: str) -> None:
        self.status = Status.BOILERPLATE
        self.rule = rule


@dataclass(slots=True)
class Document:
    """One input record (a page, a text file, a JSONL line) on its way to the corpus.

    `order` is the record's place in input order, (rank of its file in sorted path order,
    line number for JSONL else 0); with `published` it decides which copy of a duplicate is
    the first occurrence.
    `html` holds the page until extraction, `body` the extracted text until it is split.
    """

    doc_id: str
    source: str
    order: tuple[int, int]
    kind: str  # "html", "text": what the body had to go through
    html: str | None = None
    body: str | None = None
    url: str | None = None
    site: str | None = None
    site_name: str | None = None  # human name ("The Harbour Herald"), used by the site_name rule
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    fetched: datetime | None = None  # when a crawler fetched the page (a WARC record's date)
    extraction: str | None = None  # the trafilatura focus that made the text of an HTML page
    language: str | None = None  # ISO 639-1 code (`cleaner.clean.language`), None when unsure
    passages: list[Passage] = field(default_factory=list)
    duplicate_of: str | None = None
    duplicate_kind: DuplicateKind | None = None
    duplicate_similarity: float | None = None

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None

    @property
    def text(self) -> str:
        """The clean text: kept passages, separated by a blank line."""
        return "\n\n".join(p.text for p in self.passages if p.status is Status.KEPT)

    @property
    def content_text(self) -> str:
        """Everything but boilerplate, duplicates included: what a dropped duplicate said."""
        return "\n\n".join(p.text for p in self.passages if p.is_content)


@dataclass(slots=True, frozen=True)
class Reject:
    """An input, or a record inside one, that could not be read, extracted or used."""

    source: str
    reason: str  # a stable, machine-readable code, e.g. "extraction_error"
    detail: str  # what a person needs to understand and fix it
    # For a whole input file rejected before it could be read (unsupported type, a pipe, a
    # dangling link): its key, so that later runs of a growing corpus do not report it again.
    key: str | None = field(default=None, compare=False)
    # For a record that had become a document before it was rejected (extraction, no content,
    # a repeated id): its doc_id, so that its lines in `passages` join back to its source.
    doc_id: str | None = None
