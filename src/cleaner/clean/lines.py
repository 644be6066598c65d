"""The line cleaner: boilerplate removal on one page.

`clean_document` splits a document's body into passages and labels every chrome line with the
rule that recognised it. Rules are tried in a fixed order and the first one to claim a line
names it: the headline, then the self-contained line rules (`rules`), debris, then the rules
that need the page around the line (breadcrumb, masthead, section labels, related-article
blocks). Chrome no rule knows is learned across the run's pages of a site (`learned`).

Cleaning also recovers metadata the page text carries: the headline goes to `title`, a bare
timestamp to `published` and a byline to `author`, when the record has none.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from cleaner.clean.rules import (
    ENGLISH_RULES,
    RELATED_HEADING,
    SECTION_NAMES,
    Line,
    is_debris,
    is_fragment,
    match_lines,
)
from cleaner.config import CleanConfig
from cleaner.document import Document, Passage, Reject, Status
from cleaner.text import normalize, split_paragraphs, words
from cleaner.timestamps import parse_timestamp_line

_CRUMB_CHARACTERS = "›»>→/|"
_CRUMB_SEPARATORS = re.compile(rf"\s*[{re.escape(_CRUMB_CHARACTERS)}]\s*")
_LIST_MARKERS = ("- ", "* ", "• ")  # how trafilatura writes list items
_TABLE_ROW = re.compile(r"\|.*\|")
_LETTER = re.compile(r"[^\W\d_]")  # a trail's parts are words: "6/2/2025" is a date
_MAIL_HEADER = re.compile(r"(?:from|to|subject|cc|sent|reply-to)\s*:\s*\S")
_CLOSERS = "\"'”’)]"  # what may follow a sentence's last stop: "... he said.”"
_TITLE_SUFFIX = re.compile(r"\s*[|\-–—:·•]\s*")
# A line this long is a paragraph of an article; learned boilerplate compares articles by them.
ARTICLE_LINE_MIN_WORDS = 8
# A line this long reads as a paragraph of the article: a heading or a site's tagline is
# shorter ("Your Trusted Source for Breaking News, In-Depth Analysis, and Unfiltered Truth.").
_PARAGRAPH_MIN_WORDS = 15
# The breadcrumb trail is part of the page header: only the first lines are searched for it.
_HEADER_LINES = 5
# A repeated headline is looked for among the first lines; a heading repeated further down
# only is a subheading or a teaser.
_TITLE_SEARCH_LINES = 10
# A teaser is a snippet of at most this many words cut off with an ellipsis: 55 is the
# length of WordPress's excerpts, the most common; a longer line ending in "..." is the
# page's own text (an events list's descriptions run 60 to 70 words).
_TEASER_MAX_WORDS = 55
# Snippets cut off with an ellipsis it takes to make a run of lines a list of teasers.
_TEASER_LIST_MIN = 3


@dataclass(slots=True)
class _Page:
    """What the context rules need to know about a page, computed once."""

    norms: list[str]
    n_words: list[int]
    crumbs: frozenset[int] = frozenset()  # positions of breadcrumb lines
    sections: frozenset[str] = frozenset()  # normalised section names from the breadcrumb
    title_norm: str | None = None


def _ends_sentence(norm: str) -> bool:
    """Whether a line ends as a sentence does, with ".", "!" or "?" and any closers: a test
    at the line's end, where a pattern searched the whole line for a stop (1.5 us on a
    paragraph, a tenth of that so)."""
    return norm.rstrip(_CLOSERS).endswith((".", "!", "?"))


def _ends_cut_off(norm: str) -> bool:
    """Whether a line is cut off with an ellipsis ("..." or "…") and any closers."""
    return norm.rstrip(_CLOSERS).endswith(("...", "…"))


def clean_batch(docs: Iterable[Document], config: CleanConfig) -> list[Document]:
    return [clean_document(doc, config) for doc in docs]


def no_content_rejects(docs: Iterable[Document]) -> list[Reject]:
    """A document all of whose lines are boilerplate (an index page, a bare teaser list) is
    not a document: it is recorded as a reject, and its lines stay in `passages`."""
    rejects = []
    for doc in docs:
        if not any(p.is_content for p in doc.passages):  # duplicates were content
            rules = sorted({p.rule for p in doc.passages if p.rule})
            detail = (
                f"all {len(doc.passages)} lines are boilerplate ({', '.join(rules)})"
                if doc.passages
                else "no text"
            )
            rejects.append(Reject(doc.source, "no_content", detail, doc_id=doc.doc_id))
    return rejects


def clean_document(doc: Document, config: CleanConfig) -> Document:
    """Split `doc.body` into passages and label its boilerplate, in place. The text, title
    and author are put in Unicode's composed form (NFC), as trafilatura's `extract()` does
    and `bare_extraction()` does not: "geprüft" is written the same whichever way the page
    encoded its "ü"."""
    doc.title, doc.author = _nfc(doc.title), _nfc(doc.author)
    body = unicodedata.normalize("NFC", doc.body or "")
    doc.passages = [Passage(i, text) for i, text in enumerate(split_paragraphs(body))]
    doc.body = None
    disabled = frozenset(config.disabled_rules)
    if doc.language not in (None, "en"):
        disabled |= ENGLISH_RULES
    passages = doc.passages
    lines = [Line.of(p.text, collapsed=True) for p in passages]  # split_paragraphs collapses
    page = _Page([line.norm for line in lines], [len(line.words) for line in lines])

    for p, rule in zip(passages, match_lines(lines, disabled), strict=True):
        if rule:
            p.drop(rule)
    _keep_mail_headers(passages, page)

    crumb_title = _breadcrumbs(passages, page, config)
    if doc.title is None:
        doc.title = (
            crumb_title
            or _repeated_heading(passages, page, config)
            or _header_heading(passages, page, config)
        )
    page.title_norm = normalize(doc.title) if doc.title else None

    # A title of a word or two ("Coffee", "001") names a section or a product as often as it
    # is a headline: a line equal to it is not taken for the headline.
    if (
        "headline" not in disabled
        and page.title_norm
        and len(words(page.title_norm)) >= config.title_min_words
    ):
        _headlines(passages, page)
    if "debris" not in disabled:
        _debris(passages, config)
    if "breadcrumb" not in disabled:
        for i in page.crumbs:
            if passages[i].status is Status.KEPT:
                passages[i].drop("breadcrumb")
    _masthead(doc, page, config, disabled)
    if "section_label" not in disabled:
        _section_labels(passages, page)
    if "related" not in disabled:
        _related_blocks(passages, page, config)
    if "teaser_list" not in disabled:
        _teaser_lists(passages, page, config)
    _recover_metadata(doc)
    return doc


def _nfc(value: str | None) -> str | None:
    return unicodedata.normalize("NFC", value) if value else value


def _keep_mail_headers(passages: list[Passage], page: _Page) -> None:
    """A date next to "From:" or "Subject:" is the header of a message the page quotes (a
    mailing-list thread, a leaked e-mail): part of the text, not the page's timestamp."""
    for i, p in enumerate(passages):
        if p.rule == "timestamp" and any(
            _MAIL_HEADER.match(page.norms[j]) for j in (i - 1, i + 1) if 0 <= j < len(passages)
        ):
            p.status, p.rule = Status.KEPT, None


def _debris(passages: list[Passage], config: CleanConfig) -> None:
    """Lines of symbols only; and lone lower-case fragments ("ss") next to a line a rule
    has dropped: among content they are code or words of a list."""
    for p in passages:
        if p.status is Status.KEPT and is_debris(p.text):
            p.drop("debris")
    chrome = [p.status is Status.BOILERPLATE for p in passages]
    for i, p in enumerate(passages):
        if (
            p.status is Status.KEPT
            and ((i > 0 and chrome[i - 1]) or (i + 1 < len(passages) and chrome[i + 1]))
            and is_fragment(p.text, config.debris_min_letters)
        ):
            p.drop("debris")


def _section_labels(passages: list[Passage], page: _Page) -> None:
    """Section names ("Politics", "World News") where they are the site's navigation: named
    by the breadcrumb, above the article's first paragraph, or in a run of section names (a
    menu). Anywhere else a section name is the article's own subheading ("Features",
    "Education")."""
    norms, n_words = page.norms, page.n_words

    def is_name(i: int) -> bool:
        norm = norms[i]
        return n_words[i] <= 4 and not _ends_sentence(norm) and norm.strip(" :|-") in SECTION_NAMES

    names = [passages[i].status is Status.KEPT and is_name(i) for i in range(len(passages))]
    body = _body_start(passages, page)
    for i, p in enumerate(passages):
        if p.status is not Status.KEPT:
            continue
        crumb = norms[i] in page.sections and n_words[i] <= 4
        menu = names[i] and ((i > 0 and names[i - 1]) or (i + 1 < len(names) and names[i + 1]))
        if crumb or menu or (names[i] and i < body):
            p.drop("section_label")


def _body_start(passages: list[Passage], page: _Page) -> int:
    """Where the article's text starts: its first line long enough to be a paragraph, among
    those no rule has dropped so far. What comes before is the page's header."""
    return next(
        (
            i
            for i, p in enumerate(passages)
            if p.status is Status.KEPT and page.n_words[i] >= _PARAGRAPH_MIN_WORDS
        ),
        len(passages),
    )


def _headlines(passages: list[Passage], page: _Page) -> None:
    """The headline where the page shows it as its title: above the article's first
    paragraph, and then its repeats further down too (a page printing its headline again
    under a photo). A line that only matches the title inside the article is the article's
    own heading: "11 Best Marketing Agencies in 2025" over the list a listicle is titled by."""
    hits = [i for i, norm in enumerate(page.norms) if _is_headline(norm, page.title_norm)]
    if not hits:
        return
    if hits[0] <= _body_start(passages, page):
        for i in hits:
            passages[i].status, passages[i].rule = Status.BOILERPLATE, "headline"  # outranks line rules


def _is_headline(norm: str, title_norm: str) -> bool:
    if norm == title_norm:
        return True
    # "Harbour strike ends | The Harbour Herald": the headline with the site's name appended.
    if norm.startswith(title_norm):
        rest = norm[len(title_norm) :]
        return bool(_TITLE_SUFFIX.match(rest)) and len(words(rest)) <= 6
    return False


def _is_heading(norm: str, n: int, config: CleanConfig) -> bool:
    return config.title_min_words <= n <= config.title_max_words and not (
        norm.endswith(".") or norm.endswith(":")
    )


def _breadcrumbs(passages: list[Passage], page: _Page, config: CleanConfig) -> str | None:
    """Find breadcrumb lines in the page header; sets `page.crumbs` and `page.sections`.

    Two shapes occur: a trail with separators ("Home › World › Europe") and, when the
    separators were lost in scraping, "Home Politics Monitor <headline>". The second shape
    also names the headline, which is returned: a line of the page the trail ends with.
    """
    norms, n_words = page.norms, page.n_words
    crumbs: set[int] = set()
    sections: set[str] = set()
    title = None
    for i in range(min(_HEADER_LINES, len(passages))):
        norm = norms[i]
        if passages[i].status is not Status.KEPT or _ends_sentence(norm):
            continue
        if _TABLE_ROW.fullmatch(norm) or "://" in norm:
            continue  # "| Item | Quantity | Low | High |": a table's row; a URL's slashes
        # Split the line as written: normalising folds "»" into a quotation mark. A line
        # with no separator is one part, no trail: it is not normalised again for nothing.
        text = passages[i].text
        parts = (
            [part for part in _CRUMB_SEPARATORS.split(text) if part.strip()] if _has_separator(text) else []
        )
        if len(parts) >= 2:
            parts = [normalize(part) for part in parts]
        if (
            len(parts) >= 2
            and all(0 < len(words(p)) <= 8 and _LETTER.search(p) for p in parts)
            and (len(parts) >= 3 or parts[0] == "home")
        ):
            crumbs.add(i)
            sections.update(p for p in parts[1:] if p != "home")
            continue
        if norm.startswith("home ") and n_words[i] <= config.title_max_words + 8:
            # The longest other line of the page that the trail ends with is the headline.
            tails = [
                (len(norms[j]), j)
                for j in range(len(passages))
                if j != i and _is_heading(norms[j], n_words[j], config) and norm.endswith(" " + norms[j])
            ]
            if tails:
                _, j = max(tails)
                crumbs.add(i)
                title = title or passages[j].text
                middle = norm[len("home ") : len(norm) - len(norms[j])].strip()
                if middle:
                    sections.add(middle)
    page.crumbs, page.sections = frozenset(crumbs), frozenset(sections)
    return title


def _has_separator(text: str) -> bool:
    """Whether a breadcrumb separator is in the line: a test ten times cheaper than the
    split, which tries its leading spaces at every character of a 75-word line."""
    return any(c in text for c in _CRUMB_CHARACTERS)


def _repeated_heading(passages: list[Passage], page: _Page, config: CleanConfig) -> str | None:
    """The headline of a page with no title metadata: a heading-like line near the top that
    the page repeats. A page with no repeated heading gets no title; a guess from the
    first line would name captions and subheadings as titles."""
    norms, n_words = page.norms, page.n_words
    counts: dict[str, int] = defaultdict(int)
    for norm in norms:
        counts[norm] += 1
    best = None
    for i in range(min(_TITLE_SEARCH_LINES, len(passages))):
        norm = norms[i]
        if (
            passages[i].status is Status.KEPT
            and counts[norm] >= 2
            and _is_heading(norm, n_words[i], config)
            and not _ends_cut_off(norm)
            and (best is None or counts[norm] > counts[norms[best]])
        ):
            best = i
    return passages[best].text if best is not None else None


def _header_heading(passages: list[Passage], page: _Page, config: CleanConfig) -> str | None:
    """The headline of a page that states it once: a heading-like line in the header that
    comes right after the breadcrumb trail, or right before the dateline or byline. Either
    neighbour marks the article's header; a heading elsewhere is a subheading."""
    limit = min(config.masthead_max_lines + 2, len(passages))
    for i in range(limit):
        p = passages[i]
        if p.status is not Status.KEPT or not _is_heading(page.norms[i], page.n_words[i], config):
            continue
        after_crumb = (i - 1) in page.crumbs
        before_meta = i + 1 < len(passages) and passages[i + 1].rule in ("timestamp", "byline")
        if after_crumb or before_meta:
            return p.text
    return None


def _masthead(doc: Document, page: _Page, config: CleanConfig, disabled: frozenset[str]) -> None:
    """Site name and tagline: the short lines above the headline, and the site's known name
    anywhere."""
    names = {normalize(n) for n in (doc.site_name, doc.site) if n}
    names |= {n.split(".")[0] for n in names if "." in n}  # "newspiler.example" -> "newspiler"
    if "site_name" not in disabled and names:
        for p, norm in zip(doc.passages, page.norms, strict=True):
            if p.status is Status.KEPT and norm in names:
                p.drop("site_name")
    top = next(
        (
            i
            for i, p in enumerate(doc.passages)
            if p.rule == "headline" or (i in page.crumbs and page.title_norm is not None)
        ),
        None,
    )
    if top is None or top > config.masthead_max_lines:
        return
    above = doc.passages[:top]
    if any(p.status is Status.KEPT and page.n_words[p.position] > 25 for p in above):
        return  # an article paragraph above the headline: this is no masthead
    for p in above:
        if p.status is Status.KEPT and not page.norms[p.position].startswith(
            _LIST_MARKERS
        ):  # a list is content
            n = page.n_words[p.position]
            rule = "site_name" if n <= 4 and not _ends_sentence(page.norms[p.position]) else "tagline"
            if rule not in disabled:
                p.drop(rule)


def _related_blocks(passages: list[Passage], page: _Page, config: CleanConfig) -> None:
    """A "Related Articles" heading and the teasers under it: headline-like lines and
    snippets cut off with an ellipsis, up to the first line that reads like a paragraph.

    A line ending in a colon is a teaser only over more teasers ("You may also be interested
    in:"); over a paragraph it introduces the article's text again ("Kids:"). Teasers written
    as list items end at the first line that is not one ("Trend 5: Exercises for ..." after
    the list is the article's next heading). A table's row ends the block: a teaser is no row.
    """

    def is_teaser(i: int, listed: bool | None) -> bool:
        norm, n = page.norms[i], page.n_words[i]
        if _TABLE_ROW.fullmatch(norm):  # a table under "Also on the agenda:" is content
            return False
        shaped = (n <= _TEASER_MAX_WORDS and _ends_cut_off(norm)) or (
            n <= config.title_max_words and not _ends_sentence(norm)
        )
        return bool(shaped) and listed in (None, norm.startswith(_LIST_MARKERS))

    in_block = False
    listed = None  # whether the block's teasers are list items, once one is seen
    for i, p in enumerate(passages):
        norm = page.norms[i]
        if p.status is Status.KEPT and RELATED_HEADING.fullmatch(norm):
            p.drop("related")
            in_block, listed = True, None
        elif in_block:
            if p.status is not Status.KEPT:
                continue  # other chrome inside the block (a date, a section label)
            teaser = is_teaser(i, listed)
            if teaser and norm.endswith(":"):
                following = next(
                    (j for j in range(i + 1, len(passages)) if passages[j].status is Status.KEPT), None
                )
                teaser = following is not None and is_teaser(following, None)
            if teaser:
                p.drop("related")
                listed = norm.startswith(_LIST_MARKERS) if not norm.endswith(":") else listed
            else:
                in_block = False


def _teaser_lists(passages: list[Passage], page: _Page, config: CleanConfig) -> None:
    """A list of other stories with no "Related" heading over it, as on a section or index
    page: a run of headline-like lines and snippets cut off with an ellipsis, holding at
    least `_TEASER_LIST_MIN` snippets. One cut-off line in an article is a quotation that
    trails off; several in a run, each under a headline, are teasers."""
    block: list[Passage] = []
    teasers = 0
    for p in [*passages, None]:  # None closes the last run
        if p is not None and p.status is not Status.KEPT:
            continue  # chrome inside the list ("Read more", a date)
        norm = page.norms[p.position] if p is not None else ""
        n = page.n_words[p.position] if p is not None else 0
        is_teaser = p is not None and n <= _TEASER_MAX_WORDS and _ends_cut_off(norm)
        is_heading = (
            p is not None and not is_teaser and n <= config.title_max_words and not _ends_sentence(norm)
        )
        if is_teaser or is_heading:
            block.append(p)
            teasers += is_teaser
            continue
        if teasers >= _TEASER_LIST_MIN:
            for q in block:
                q.drop("teaser_list")
        block, teasers = [], 0


def _recover_metadata(doc: Document) -> None:
    for p in doc.passages:
        if p.rule == "timestamp" and doc.published is None:
            doc.published = parse_timestamp_line(p.text)
        elif p.rule == "byline" and doc.author is None:
            name = re.sub(r"(?i)^(?:written by|words by|reporting by|by)\s+", "", p.text)
            doc.author = re.split(r"\s*[,|\-–—]\s*", name)[0].strip() or None
