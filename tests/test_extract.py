import subprocess
import sys
from datetime import UTC, datetime

from cleaner.config import ExtractConfig
from cleaner.document import Document, Reject
from cleaner.extract import extract_batch, extract_document

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


def test_record_metadata_wins_over_the_page():
    doc = extract_document(
        _doc(PAGE, title="Record title", url="https://feed.example/1", site="feed.example"), ExtractConfig()
    )
    assert (doc.title, doc.url, doc.site) == ("Record title", "https://feed.example/1", "feed.example")


def test_page_without_article_text_is_a_reject():
    result = extract_document(
        _doc("<html><head><script>var x=1;</script></head><body></body></html>"), ExtractConfig()
    )
    assert isinstance(result, Reject)
    assert result.reason == "no_main_text" and result.source == "page.html"


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


def test_warm_up_pays_for_dateparser_in_this_process():
    """dateparser compiles patterns for all its locales at its first call (1.4 s): a worker
    that warms up must have made that call. Checked in a fresh process, where nothing has."""
    script = """
import dateparser.date
calls = []
original = dateparser.date.DateDataParser.get_date_data
def recorded(self, text, *args, **kwargs):
    calls.append(text)
    return original(self, text, *args, **kwargs)
dateparser.date.DateDataParser.get_date_data = recorded
from cleaner import extract
extract.warm_up()
print(len(calls))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(done.stdout) >= 1
