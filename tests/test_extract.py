import gzip
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from benchmarks.realpages.evaluate import DEV_SET, load_pages
from cleaner.clean import extract
from cleaner.clean.extract import extract_batch, extract_document, paragraph_words
from cleaner.config import ExtractConfig
from cleaner.document import Document, Reject
from cleaner.io.decode import decode_page

PAGE = """<!doctype html><html><head><title>Harbour strike ends | The Coastal Ledger</title>
<meta property="og:site_name" content="The Coastal Ledger">
<link rel="canonical" href="https://www.coastalledger.example/news/harbour-strike-ends">
<meta name="author" content="Mara Quint">
<meta property="article:published_time" content="2026-03-04T09:30:00+01:00"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbour strike ends after 12 days</h1>
<p>Dock workers at the port of Hallvik voted on Tuesday to end a twelve-day strike after the
harbour authority agreed to a new shift schedule and a pay rise of four percent.</p>
<p>The union said 412 of its 530 members took part in the ballot, and that 87 percent backed
the offer put to them by the authority on Monday night.</p>
<p>"We got what we came for," said shop steward Ilse Borken outside the union hall.</p>
</article>
<section id="comments"><h3>Leave a Reply</h3><p>Great news for the town, finally!</p></section>
<footer><p>© 2026 The Coastal Ledger. All rights reserved.</p></footer></body></html>"""


def _doc(html, **kw):
    return Document(doc_id="d", source="page.html", order=(0, 0), kind="html", html=html, **kw)


def test_extracts_text_and_metadata():
    doc = extract_document(_doc(PAGE), ExtractConfig())
    assert isinstance(doc, Document)
    assert doc.html is None
    assert "Dock workers at the port of Hallvik voted on Tuesday" in doc.body
    assert "Great news for the town" not in doc.body  # comments excluded
    assert doc.title == "Harbour strike ends after 12 days"
    assert doc.author == "Mara Quint"
    assert doc.site_name == "The Coastal Ledger"
    assert doc.url == "https://www.coastalledger.example/news/harbour-strike-ends"
    assert doc.site == "coastalledger.example"
    assert doc.published == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def test_a_page_without_an_address_has_no_site_only_its_name():
    """`site` is a host, whatever reads it groups hosts: a page saved without its address
    has its name in `site_name`, not in `site` (where it was, beside the hosts)."""
    page = PAGE.replace(
        '<link rel="canonical" href="https://www.coastalledger.example/news/harbour-strike-ends">', ""
    )
    assert page != PAGE and "coastalledger.example" not in page
    doc = extract_document(_doc(page), ExtractConfig())
    assert (doc.url, doc.site, doc.site_name) == (None, None, "The Coastal Ledger")


def test_record_metadata_wins_over_the_page():
    doc = extract_document(
        _doc(PAGE, title="Record title", url="https://feed.example/1", site="feed.example"), ExtractConfig()
    )
    assert (doc.title, doc.url, doc.site) == ("Record title", "https://feed.example/1", "feed.example")


def test_a_record_with_its_own_date_is_not_dated_from_the_page(monkeypatch):
    """The record's date wins, so the page's is not looked for (a fifth of extraction's
    time on small pages); the rest of the page's metadata still is."""
    looked = []
    find_date = extract._find_date
    monkeypatch.setattr(extract, "_find_date", lambda *a, **k: looked.append(1) or find_date(*a, **k))
    own = datetime(2025, 1, 2, tzinfo=UTC)
    doc = extract_document(_doc(PAGE, published=own), ExtractConfig())
    assert (doc.published, doc.author, doc.title, looked) == (
        own,
        "Mara Quint",
        "Harbour strike ends after 12 days",
        [],
    )
    doc = extract_document(_doc(PAGE), ExtractConfig())
    assert (doc.published, looked) == (datetime(2026, 3, 4, 8, 30, tzinfo=UTC), [1])


def test_page_without_article_text_is_a_reject():
    result = extract_document(
        _doc("<html><head><script>var x=1;</script></head><body></body></html>"), ExtractConfig()
    )
    assert isinstance(result, Reject)
    assert result.reason == "no_main_text" and result.source == "page.html"
    assert result.doc_id == _doc("").doc_id  # the record had an id: rejects/ keeps it
    assert "no HTML tag" not in result.detail


def test_plain_text_given_as_html_is_a_reject_that_says_where_it_belongs():
    result = extract_document(
        _doc("Just a sentence of plain text, given as a record's html."), ExtractConfig()
    )
    assert isinstance(result, Reject) and result.reason == "no_main_text"
    assert result.detail.endswith("it holds no HTML tag at all: plain text belongs in a record's `text`")


def test_batch_passes_text_documents_through_and_collects_rejects():
    text = Document(doc_id="t", source="t.txt", order=(1, 0), kind="text", body="Already text.")
    docs, rejects = extract_batch([_doc(PAGE), text, _doc("<html></html>")], ExtractConfig())
    assert [d.doc_id for d in docs] == ["d", "t"]
    assert docs[1].body == "Already text."
    assert [r.reason for r in rejects] == ["no_main_text"]


def test_a_page_over_the_time_limit_is_a_reject_and_the_next_page_is_extracted():
    import time

    # Measured: 4 MB of repeated paragraph blocks takes trafilatura seconds, a news page 10-50 ms.
    block = "<p>The council voted on Tuesday to rebuild the harbour wall after the storms.</p>" * 20
    slow = "<html><body><article>" + (block + "<div><span>x</span></div>") * 2000 + "</article></body></html>"
    start = time.perf_counter()
    docs, rejects = extract_batch([_doc(slow), _doc(PAGE)], ExtractConfig(timeout_seconds=0.5))
    took = time.perf_counter() - start
    assert [r.reason for r in rejects] == ["extraction_timeout"]
    assert "0.5 s (extract.timeout_seconds)" in rejects[0].detail
    assert len(docs) == 1 and docs[0].body
    # Without the limit it takes far longer (measured ~8 s here); the limit is checked between
    # Python steps, so a long C call (lxml parsing) can overrun it by a few seconds.
    assert took < 6


def test_warm_up_pays_for_the_fallback_extractors_in_this_process():
    """jusText loads its stop words for every language at its first call in a process: a
    worker that warms up must have made that call. Checked in a fresh process, where nothing
    has."""
    script = """
import trafilatura.external
from cleaner.clean import extract
assert trafilatura.external.JT_STOPLIST is None
extract.warm_up()
print(len(trafilatura.external.JT_STOPLIST or ()))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(done.stdout) > 1000


def test_the_focus_that_made_the_text_is_recorded():
    doc = extract_document(_doc(PAGE), ExtractConfig())
    assert doc.extraction == "recall"  # short: extracted again, both found the same, the first kept
    doc = extract_document(_doc(PAGE), ExtractConfig(focus="precision", fallback_focus="none"))
    assert doc.extraction == "precision"


class _Found:
    def __init__(self, text):
        self.text = text


def test_a_short_text_is_extracted_again_and_the_longer_kept(monkeypatch):
    """The choice between the two extractions (trafilatura's output stands in for pages
    whose focuses disagree, which benchmarks/realpages measures on real ones)."""
    calls, read = [], []

    def extraction(tree, *, options):
        calls.append(options.focus)
        return _Found(
            {"recall": "two words", "balanced": "four words in all", "precision": ""}[options.focus]
        )

    monkeypatch.setattr("cleaner.clean.extract.trafilatura.bare_extraction", extraction)
    metadata = extract._metadata
    monkeypatch.setattr(
        extract, "_metadata", lambda tree, url, date: read.append(url) or metadata(tree, url, date)
    )
    # ten words in paragraphs: two is under 0.6 of them
    page = "<html><head><title>The page's title</title></head><body><p>" + "word " * 10 + "</p></body></html>"
    doc = extract_document(_doc(page), ExtractConfig(fallback_below_words=3))
    assert (doc.body, doc.extraction, doc.title) == ("four words in all", "balanced", "The page's title")
    assert calls == ["recall", "balanced"] and read == [None]  # metadata is read once
    calls.clear()
    doc = extract_document(_doc(page), ExtractConfig(fallback_below_words=2))
    assert (doc.body, doc.extraction, calls) == ("two words", "recall", ["recall"])
    # A fallback that finds less leaves the first text; one that finds nothing, too.
    doc = extract_document(
        _doc(page), ExtractConfig(focus="balanced", fallback_focus="recall", fallback_below_words=9)
    )
    assert (doc.body, doc.extraction) == ("four words in all", "balanced")
    assert isinstance(
        extract_document(_doc(page), ExtractConfig(focus="precision", fallback_focus="none")), Reject
    )
    doc = extract_document(_doc(page), ExtractConfig(focus="precision", fallback_focus="recall"))
    assert (doc.body, doc.extraction) == ("two words", "recall")  # a reject without the fallback
    # A text holding most of the page's paragraph words is not extracted again; a page with
    # no <p> element is judged on its word count alone.
    calls.clear()
    doc = extract_document(
        _doc("<html><body><p>one two three</p></body></html>"), ExtractConfig(fallback_below_words=3)
    )
    assert (doc.body, doc.extraction, calls) == ("two words", "recall", ["recall"])
    doc = extract_document(
        _doc("<html><body><div>a b c d e f g h</div></body></html>"), ExtractConfig(fallback_below_words=3)
    )
    assert (doc.body, doc.extraction) == ("four words in all", "balanced")


def test_paragraph_words_scan_the_tags_without_a_parse():
    assert paragraph_words("<P class='x'>One <b>two</b> three</P><div>not these</div>") == 3
    # An unclosed <p> runs to the next <p>; <pre> and <param> are not paragraphs.
    assert paragraph_words("<p>one two<p>three</p><pre>no no</pre><param name=x>") == 3
    assert paragraph_words("no tags at all") == 0
    # Linear on a page of a million unclosed paragraphs (a quadratic scan would not finish).
    assert paragraph_words("<p>w " * 1_000_000) == 999_999


def test_the_site_name_is_taken_off_the_title():
    from cleaner.clean.extract import page_title

    assert page_title(
        "Harbour strike ends | The Coastal Ledger", "The Coastal Ledger", "coastalledger.example"
    ) == ("Harbour strike ends")
    assert (
        page_title("Coastal Ledger - Harbour strike ends", "The Coastal Ledger", None)
        == "Harbour strike ends"
    )
    assert page_title("Harbour strike ends - coastalledger.example", None, "www.coastalledger.example") == (
        "Harbour strike ends"
    )
    # Parts that are not the site's name stay: a headline may have a dash of its own.
    assert page_title("Harbour strike ends - what it means", "The Coastal Ledger", None) == (
        "Harbour strike ends - what it means"
    )
    assert page_title("The Coastal Ledger", "The Coastal Ledger", None) == "The Coastal Ledger"
    assert page_title("  ", "x", None) is None


@pytest.mark.parametrize(
    "markup",
    [
        '<meta property="article:published_time" content="{}">',
        '<script type="application/ld+json">{{"@type": "NewsArticle", "datePublished": "{}"}}</script>',
    ],
)
@pytest.mark.parametrize(
    "when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "2026-03-04T09:30:00+25:00"]
)
def test_a_page_dated_beyond_what_utc_holds_keeps_its_text_and_metadata(markup, when):
    # htmldate raised on the offset of a day or more, and trafilatura then discarded the whole
    # extraction: the page lost its title and author to the fallback, or was a no_main_text
    # reject without one. The other dates htmldate drops itself (it keeps 1995 to today).
    page = PAGE.replace(
        '<meta property="article:published_time" content="2026-03-04T09:30:00+01:00">', markup.format(when)
    )
    for config in (ExtractConfig(), ExtractConfig(fallback_focus="none")):
        doc = extract_document(_doc(page), config)
        assert isinstance(doc, Document) and doc.published is None
        assert (doc.title, doc.author, doc.extraction) == (
            "Harbour strike ends after 12 days",
            "Mara Quint",
            "recall",
        )


_FIELDS = ("text", "title", "author", "url", "sitename", "hostname", "date")


@pytest.mark.skipif(not DEV_SET.is_dir(), reason=f"the real-page set is not at {DEV_SET}")
def test_the_page_parsed_once_gives_trafilaturas_own_text_and_metadata():
    """`extract._extraction` parses a page once, builds trafilatura's options once and reads
    its metadata without the fields cleaner never uses: on real pages of every kind, in
    each focus, every field it gives is what trafilatura's own call gives."""
    pages = [decode_page(gzip.decompress(page.path.read_bytes())) for page in load_pages(every=10)]
    compared = 0
    for focus in ("recall", "precision"):
        for html in [PAGE, *pages]:
            found, result = extract._extraction(html, None, ExtractConfig(focus=focus))
            own = extract.trafilatura_alone(html, ExtractConfig(), focus)
            assert (result is None) == (own is None)
            if own is not None:
                mine = {name: getattr(result if name == "text" else found, name) for name in _FIELDS}
                assert mine == {name: getattr(own, name) for name in _FIELDS}
                compared += 1
    assert compared > 130
