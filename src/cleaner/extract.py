"""HTML to text and metadata, with trafilatura.

Comments are excluded and precision is favoured (see `ExtractConfig`). Metadata the record
already carries (a JSONL record's title or URL) wins over what is found in the page. A page
trafilatura finds no main text in is a reject, not an empty document, and so is one whose
extraction fails or runs past `extract.timeout_seconds`.

Extraction never touches the network: trafilatura is given the page's text, and its lxml
parser loads no external DTD or entity (tested in tests/test_safety.py).
"""

from __future__ import annotations

import logging

import trafilatura

from cleaner.config import ExtractConfig
from cleaner.document import Document, Reject
from cleaner.limits import TimeLimitExceeded, time_limit
from cleaner.readers import site_of
from cleaner.timestamps import parse_iso8601

log = logging.getLogger(__name__)

# Ask htmldate for the original publication date with its time, not the last modification.
_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


# A page whose footer holds a year and a number, as news sites' do: htmldate hands that line
# to dateparser, whose first call in a process compiles patterns for its 200-odd locales
# (1.4 s here) before it finds that none applies.
_WARM_UP_PAGE = """<html><head><title>Warming up</title></head><body><article><h1>Warming up</h1>
<p>A paragraph with enough words in it for the extractor to keep it as the page's text.</p>
<p>© 2026 The Site12 Daily. All rights reserved.</p></article></body></html>"""


def warm_up() -> None:
    """Pay trafilatura's one-off costs in this process now, on a page of our own, so that a
    worker does not pay them in its first batch. Without a time limit, whose watchdog
    thread would make the process unsafe to fork."""
    _bare_extraction(_WARM_UP_PAGE, None, ExtractConfig())


def _bare_extraction(html: str, url: str | None, config: ExtractConfig):
    return trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        favor_precision=config.favor_precision,
        include_tables=config.include_tables,
        with_metadata=True,
        date_extraction_params=_DATE_PARAMS,
    )


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
            result = _bare_extraction(doc.html, doc.url, config)
    except TimeLimitExceeded:
        return Reject(
            doc.source,
            "extraction_timeout",
            f"extracting the page ({size} characters of HTML) took longer than "
            f"{config.timeout_seconds:g} s (extract.timeout_seconds); given up",
        )
    except (Exception, RecursionError) as exc:  # a parser crash on one page must not stop the run
        log.debug("extraction of %s failed", doc.source, exc_info=True)
        return Reject(doc.source, "extraction_error", f"{type(exc).__name__}: {exc}")
    text = (result.text or "").strip() if result is not None else ""
    if not text:
        return Reject(
            doc.source,
            "no_main_text",
            f"trafilatura found no article text in the page ({size} characters of HTML)",
        )
    doc.html = None
    doc.body = text
    doc.title = doc.title or _clean(result.title)
    doc.author = doc.author or _clean(result.author)
    doc.url = doc.url or _clean(result.url)
    doc.site_name = doc.site_name or _clean(result.sitename)
    doc.site = doc.site or site_of(doc.url) or _clean(result.hostname) or doc.site_name
    if doc.published is None and result.date:
        try:
            doc.published = parse_iso8601(result.date)
        except ValueError:
            log.debug("%s: unparsable date %r", doc.source, result.date)
    return doc


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
