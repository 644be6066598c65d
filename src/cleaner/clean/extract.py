"""HTML to text and metadata, with trafilatura.

Comments are excluded; recall is favoured, with a second extraction of another focus when the
text looks like the wrong block of the page (see `ExtractConfig`). The page is parsed once;
its metadata is read by trafilatura's own steps, less those whose fields cleaner never reads.
Metadata the record already carries (a JSONL record's title or URL) wins over what is found
in the page. A page trafilatura finds no main text in is a reject, not an empty document, and
so is one whose extraction fails or runs past `extract.timeout_seconds`.

Extraction never touches the network: trafilatura is given the page's text, and its lxml
parser loads no external DTD or entity (tested in tests/test_safety.py).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from typing import Any

import htmldate
import trafilatura
import trafilatura.metadata
import trafilatura.settings
import trafilatura.utils

from cleaner.config import ExtractConfig
from cleaner.document import Document, Reject
from cleaner.io.records import site_of, site_of_host
from cleaner.limits import TimeLimitExceeded, time_limit
from cleaner.timestamps import parse_iso8601

log = logging.getLogger(__name__)

# Ask htmldate for the original publication date with its time, not the last modification,
# from the page's markup (meta tags, structured data, time elements, the URL) only: its
# extensive search of the text reads "© 2025" as 1 January 2025 and a bare "2000" as a date.
# On the 711 real pages of benchmarks/realpages the same calendar day as the ground truth
# went from 70.3% to 76.9% of pages without it.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def _find_date(*args, **kwargs) -> str | None:
    """htmldate's date of a page, or None when its markup holds one htmldate cannot compute.
    htmldate raises on a date with a UTC offset of a day or more (`<time datetime=
    "2026-03-04T09:30+25:00">`), and trafilatura's metadata extraction would then discard the
    whole page: its text and every other field of its metadata, for one bad attribute."""
    try:
        return htmldate.find_date(*args, **kwargs)
    except Exception:  # an error of the date is no date, not a lost page
        log.debug("htmldate failed on a page's date", exc_info=True)
        return None


# A page too short for trafilatura to trust its own extraction: it tries its fallback
# extractors, and jusText loads its stop words for every language it knows at its first call
# in a process (75 ms here).
_WARM_UP_PAGE = """<html><head><title>Warming up</title></head><body><article><h1>Warming up</h1>
<p>A paragraph with enough words in it for the extractor to keep it as the page's text.</p>
<p>© 2026 The Site12 Daily. All rights reserved.</p></article></body></html>"""


def warm_up() -> None:
    """Pay trafilatura's one-off costs in this process now, on a page of our own, so that a
    worker does not pay them in its first batch. Without a time limit, whose watchdog
    thread would make the process unsafe to fork."""
    _extraction(_WARM_UP_PAGE, None, ExtractConfig())


def _extraction(
    html: str,
    url: str | None,
    config: ExtractConfig,
    focus: str | None = None,
    metadata: bool = True,
    date: bool = True,
) -> tuple[Any, Any]:
    """The page parsed once: (trafilatura's metadata or None, its extraction or None). With a
    focus other than the config's, and without metadata, for the fallback extraction; without
    the date (`_metadata`) for a record that has its own."""
    tree = trafilatura.utils.load_html(html)
    if tree is None:
        return None, None
    found = _metadata(tree, url, date) if metadata else None
    return found, _text(tree, url or (found.url if found else None), config, focus or config.focus)


def _text(tree, url: str | None, config: ExtractConfig, focus: str):
    """trafilatura's extraction of the page's main text: comments excluded; metadata read
    apart (`_metadata`). The tree is left as it was (trafilatura copies one it is given)."""
    options = copy.copy(_options(focus, config.include_tables))
    options.url = options.source = url
    return trafilatura.bare_extraction(tree, options=options)


@functools.cache
def _options(focus: str, include_tables: bool) -> trafilatura.settings.Extractor:
    """trafilatura's options, built once: building them reads its settings file's values
    anew, 0.1 ms a page."""
    return trafilatura.settings.Extractor(
        output_format="python",
        comments=False,
        precision=focus == "precision",
        recall=focus == "recall",
        tables=include_tables,
    )


def trafilatura_alone(html: str, config: ExtractConfig, focus: str | None = None):
    """trafilatura's own call, metadata and all, with the options cleaner gives it: what
    `_extraction` is held equal to (tests/test_extract.py) and timed against
    (benchmarks/bench_pipeline.py)."""
    focus = focus or config.focus
    return trafilatura.bare_extraction(
        html,
        include_comments=False,
        favor_precision=focus == "precision",
        favor_recall=focus == "recall",
        include_tables=config.include_tables,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )


def _metadata(tree, url: str | None, date: bool = True):
    """trafilatura's `extract_metadata` step for step (trafilatura is pinned), less what
    cleaner never reads: categories, tags and license, 9% of extraction's time on the real
    pages of benchmarks/realpages (`tests/test_extract.py` holds every field equal to
    trafilatura's own on them). Dates come from `_find_date`, with `_DATE_PARAMS`. Without
    `date` none is looked for, for a record whose own date wins over the page's: htmldate
    takes a fifth of extraction's time on small pages."""
    found = trafilatura.metadata.examine_meta(tree)
    if found.author and " " not in found.author:
        found.author = None
    try:
        found = trafilatura.metadata.extract_meta_json(tree, found)
    except Exception:  # as trafilatura: an error in its JSON-LD reading leaves the meta tags'
        log.debug("trafilatura's JSON-LD metadata failed", exc_info=True)
    found.title = found.title or trafilatura.metadata.extract_title(tree)
    found.author = found.author or trafilatura.metadata.extract_author(tree)
    found.url = found.url or trafilatura.metadata.extract_url(tree, url)
    if found.url:
        found.hostname = trafilatura.metadata.extract_domain(found.url, fast=True)
    found.date = _find_date(tree, **_DATE_PARAMS, url=found.url) if date else None
    found.sitename = found.sitename or trafilatura.metadata.extract_sitename(tree)
    if found.sitename:
        found.sitename = found.sitename.lstrip("@")  # a Twitter handle
        if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
            found.sitename = found.sitename.title()
    elif found.url and (named := trafilatura.metadata.META_URL.match(found.url)):
        found.sitename = named[1]
    found.clean_and_trim()
    return found


def extract_batch(docs: list[Document], config: ExtractConfig) -> tuple[list[Document], list[Reject]]:
    """Extract every HTML document of a batch; text documents pass through untouched."""
    out: list[Document] = []
    rejects: list[Reject] = []
    for doc in docs:
        result = extract_document(doc, config) if doc.html is not None else doc
        (out if isinstance(result, Document) else rejects).append(result)
    return out, rejects


def extract_document(doc: Document, config: ExtractConfig) -> Document | Reject:
    size = len(doc.html or "")
    try:
        with time_limit(config.timeout_seconds):
            found, result = _extraction(doc.html, doc.url, config, date=doc.published is None)
            focus = config.focus
            if config.fallback_focus != "none" and _missed_text(doc.html, _words(result), config):
                _, other = _extraction(doc.html, doc.url, config, config.fallback_focus, metadata=False)
                if _words(other) > _words(result):
                    result, focus = other, config.fallback_focus
    except TimeLimitExceeded:
        return Reject(
            doc.source,
            "extraction_timeout",
            f"extracting the page ({size} characters of HTML) took longer than "
            f"{config.timeout_seconds:g} s (extract.timeout_seconds); given up",
            doc_id=doc.doc_id,
        )
    except (Exception, RecursionError) as exc:  # a parser crash on one page must not stop the run
        log.debug("extraction of %s failed", doc.source, exc_info=True)
        return Reject(doc.source, "extraction_error", f"{type(exc).__name__}: {exc}", doc_id=doc.doc_id)
    text = (result.text or "").strip() if result is not None else ""
    if not text:
        hint = (
            ""
            if "<" in doc.html
            else "; it holds no HTML tag at all: plain text belongs in a record's `text`"
        )
        return Reject(
            doc.source,
            "no_main_text",
            f"trafilatura found no article text in the page ({size} characters of HTML){hint}",
            doc_id=doc.doc_id,
        )
    doc.html = None
    doc.body = text
    doc.extraction = focus
    # The page's metadata, read once whichever extraction's text is kept.
    doc.title = doc.title or page_title(found.title, found.sitename, found.hostname)
    doc.author = doc.author or _clean(found.author)
    doc.url = doc.url or _clean(found.url)
    doc.site_name = doc.site_name or _clean(found.sitename)
    # The site is a host: a page without an address has none, its name is `site_name`.
    doc.site = doc.site or site_of(doc.url) or site_of_host(found.hostname)
    if doc.published is None and found.date:
        try:
            doc.published = parse_iso8601(found.date)
        except ValueError:
            log.debug("%s: unparsable date %r", doc.source, found.date)
    return doc


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _missed_text(html: str, words: int, config: ExtractConfig) -> bool:
    """Whether an extraction likely took the wrong block of the page: its text is short
    and holds under `fallback_below_share` of the words of the page's paragraphs."""
    if words >= config.fallback_below_words:
        return False
    in_paragraphs = paragraph_words(html)
    return in_paragraphs == 0 or words < config.fallback_below_share * in_paragraphs


_P_TAG = re.compile(r"<(/?)p\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")


def paragraph_words(html: str) -> int:
    """Words inside the page's <p> elements, by one linear scan of its tags (no parse; an
    unclosed <p> runs to the next <p> or </p>, as a browser closes it)."""
    words, start = 0, None
    for tag in _P_TAG.finditer(html):
        if start is not None:
            words += len(_ANY_TAG.sub(" ", html[start : tag.start()]).split())
        start = None if tag.group(1) else tag.end()
    return words


def _words(result) -> int:
    return len((result.text or "").split()) if result is not None else 0


# What sites put between a headline and their own name in a page's <title>.
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—•·:»]|::)\s+")
_NAME_TOKEN = re.compile(r"[^\W_]+")


def page_title(title: str | None, site_name: str | None, hostname: str | None) -> str | None:
    """The headline from a page's title: without the site's name that sites append or
    prepend ("Machine learning, explained | MIT Sloan", "Tastify | Top 7 Catering Trends").
    A part is the site's name when its words are all in the site's name or its host name
    ("Google Cloud", "advantagefitness.com", "Accounting.com")."""
    title = _clean(title)
    if title is None:
        return None
    names = _site_words(site_name, hostname)
    parts = _TITLE_SEPARATOR.split(title)
    while len(parts) > 1 and _is_site(parts[-1], names):
        parts.pop()
    while len(parts) > 1 and _is_site(parts[0], names):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATOR.split(title)):
        return title
    # Rejoin what is left with the separators the title had between those parts.
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() or title


def _site_words(site_name: str | None, hostname: str | None) -> frozenset[str]:
    words: set[str] = set()
    for name in (site_name, hostname):
        if name:
            words.update(w.casefold() for w in _NAME_TOKEN.findall(name))
    if hostname:  # "advantagefitness.com" also reads as "advantagefitness"
        words.update(w.casefold() for w in hostname.split(".") if w)
    return frozenset(words - {"www"})


def _is_site(part: str, names: frozenset[str]) -> bool:
    words = [w.casefold() for w in _NAME_TOKEN.findall(part)]
    return bool(words) and bool(names) and all(w in names for w in words)
