"""WARC archives, Parquet tables and zstd inputs, on real files the tests write with warcio,
pyarrow and zstandard."""

import gzip
import hashlib
import io
import itertools
import json
import os
import zlib
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaner import pipeline
from cleaner.clean.extract import extract_batch
from cleaner.config import Config, ExtractConfig, ReadConfig
from cleaner.io import records
from cleaner.io.readers import discover, read_files
from tests.tracing import peak_bytes

FETCHED = "2024-05-06T07:08:09Z"
# Norwegian in windows-1252: without its HTTP charset, the detector reads it as another code
# page ("Sřren", "ĺpen"), so only the header gets it right.
OSLO = [
    "Øresund-fergen får nye avganger fra mai — “åpen hver time”, sa havnesjef Søren Ås.",
    "Billettprisen blir 45 kroner, og pendlere med månedskort får rabatt på 20 prosent hele året.",
    "Rederiet sier de nye båtene går på strøm og slipper ut langt mindre enn de gamle.",
]
ZURICH = [
    "Zürich erhält eine neue Tramlinie: Die Strecke über die Hardbrücke soll 2027 eröffnet werden.",
    "Die Stadt rechnet mit 30 000 Fahrgästen pro Tag und Kosten von rund 180 Millionen Franken.",
    "Anwohnerinnen begrüßen das Projekt, fürchten aber zwei Jahre Baulärm entlang der Strecke.",
]


def _page(title: str, paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html><head>{head}<title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>Contact us</footer></body></html>"
    )


def _http(status: str, content_type: str | None, *extra: tuple[str, str]) -> StatusAndHeaders:
    headers = [("Content-Type", content_type)] if content_type else []
    return StatusAndHeaders(status, headers + list(extra), protocol="HTTP/1.1")


class Warc:
    """A WARC file written record by record with warcio, remembering where each starts."""

    def __init__(self, path, gzip_records: bool = False):
        self.path = path
        self._fh = open(path, "wb")  # noqa: SIM115 (closed by close())
        self._writer = WARCWriter(self._fh, gzip=gzip_records)
        self.offsets: list[int] = []

    def _write(self, record) -> None:
        self.offsets.append(self._fh.tell())
        self._writer.write_record(record)

    def _headers(self, number: int) -> dict:
        return {"WARC-Date": FETCHED, "WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{number:012d}>"}

    def warcinfo(self):
        self._write(self._writer.create_warcinfo_record(self.path.name, {"software": "tests"}))

    def request(self, url: str):
        http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.org")], is_http_request=True)
        record = self._writer.create_warc_record(
            url, "request", http_headers=http, warc_headers_dict=self._headers(len(self.offsets))
        )
        self._write(record)

    def response(self, url: str, payload: bytes, http: StatusAndHeaders):
        record = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(payload),
            http_headers=http,
            warc_headers_dict=self._headers(len(self.offsets)),
        )
        self._write(record)

    def record(self, url: str, kind: str, payload: bytes, content_type: str):
        record = self._writer.create_warc_record(
            url,
            kind,
            payload=io.BytesIO(payload),
            warc_content_type=content_type,
            warc_headers_dict=self._headers(len(self.offsets)),
        )
        self._write(record)

    def revisit(self, url: str):
        record = self._writer.create_revisit_record(
            url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", refers_to_uri=url, refers_to_date=FETCHED
        )
        self._write(record)

    def close(self):
        self._fh.close()
        return self.path


def _crawl(path, gzip_records=False):
    """The crawl of the issue: every kind of record, two of them HTML pages to read."""
    w = Warc(path, gzip_records)
    w.warcinfo()  # 1
    w.request("https://www.havneposten.example/nyheter/ferge")  # 2
    w.response(  # 3: windows-1252, declared only in the HTTP header
        "https://www.havneposten.example/nyheter/ferge",
        _page("Nye fergeavganger", OSLO).encode("cp1252"),
        _http("200 OK", "text/html; charset=windows-1252"),
    )
    w.response(  # 4: UTF-8
        "https://zeitung.example/zuerich/tram",
        _page("Neue Tramlinie", ZURICH).encode("utf-8"),
        _http("200 OK", "text/html; charset=UTF-8"),
    )
    w.response(
        "https://zeitung.example/missing",
        b"<html><body>Not found</body></html>",
        _http("404 Not Found", "text/html"),
    )  # 5
    w.response(
        "https://zeitung.example/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), _http("200 OK", "image/png")
    )  # 6
    w.record(
        "https://zeitung.example/zuerich/tram",
        "metadata",
        b"outlink: https://zeitung.example/\r\n",
        "application/warc-fields",
    )  # 7
    w.revisit("https://zeitung.example/zuerich/tram")  # 8
    return w.close()


SKIPS = {
    "warc_skipped_warcinfo": 1,
    "warc_skipped_request": 1,
    "warc_skipped_not_200": 1,
    "warc_skipped_not_html": 1,
    "warc_skipped_metadata": 1,
    "warc_skipped_revisit": 1,
}


def _read(*paths, **config):
    files, rejects = discover(list(paths))
    assert not rejects, rejects
    skipped: Counter = Counter()
    docs, rejects, seen = read_files(enumerate(files), ReadConfig(**config), skipped)
    return docs, rejects, skipped, seen


def _name(source: str) -> str:
    return source.rsplit("/", 1)[1]


def _compress(path, suffix: str, how):
    packed = path.with_name(path.name + suffix)
    packed.write_bytes(how(path.read_bytes()))
    path.unlink()
    return packed


def _zstd_with_dictionary(data: bytes, compressed: bool) -> bytes:
    """A WARC as IIPC's "WARC zstd" specification writes it (Archive Team's wget-at does): a
    frame per record, compressed with a dictionary that comes first, in a skippable frame
    (0x184D2A5D), itself compressed or not."""
    from warcio.archiveiterator import ArchiveIterator

    iterator = ArchiveIterator(io.BytesIO(data))
    starts = [iterator.get_record_offset() for _ in iterator]
    records = [data[a:b] for a, b in itertools.pairwise([*starts, len(data)])]
    samples = [r.replace(b"tram", f"tram{i}".encode()) for i in range(40) for r in records]
    dictionary = zstandard.train_dictionary(2048, samples)
    frames = b"".join(zstandard.ZstdCompressor(dict_data=dictionary).compress(r) for r in records)
    stored = dictionary.as_bytes()
    if compressed:
        stored = zstandard.ZstdCompressor().compress(stored)
    return b"\x5d\x2a\x4d\x18" + len(stored).to_bytes(4, "little") + stored + frames


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_page_whose_content_length_ends_before_it_does_is_rejected_not_cut_short(tmp_path, gzipped, capfd):
    """A writer that counted the page's characters, not its bytes: warcio skipped the rest of
    the page to the next record, wrote three lines to stderr naming no file, and the page
    went into the corpus cut short, with no reject."""
    w = Warc(tmp_path / "plain.warc")
    oslo = _page("Nye fergeavganger", OSLO)
    w.response("https://www.havneposten.example/ferge", oslo.encode(), _http("200 OK", "text/html"))
    w.response(
        "https://zeitung.example/tram", _page("Neue Tramlinie", ZURICH).encode(), _http("200 OK", "text/html")
    )
    data = w.close().read_bytes()
    first, second = data[: w.offsets[1]], data[w.offsets[1] :]
    length = int(first.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    shorter = first.replace(f"Content-Length: {length}".encode(), f"Content-Length: {length - 40}".encode())
    path = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    path.write_bytes(gzip.compress(shorter) + gzip.compress(second) if gzipped else shorter + second)
    docs, rejects, _, _ = _read(path)
    assert [(_name(r.source), r.reason) for r in rejects] == [(f"{path.name}#1", "corrupt_archive")]
    assert "Content-Length ends before the record does" in rejects[0].detail
    assert [_name(d.source) for d in docs] == [f"{path.name}#2"] and all(p in docs[0].html for p in ZURICH)
    assert "Record not followed by newline" not in capfd.readouterr().err


@pytest.mark.parametrize(
    ("cut", "says"),
    [
        (10, "truncated: record 1: the compressed file ends early"),
        (
            None,
            "corrupt_compressed: record 1: the compressed data is damaged: the zstd dictionary at the start "
            "holds 80.0 MB, past 64.0 MB",
        ),
    ],
)
def test_a_zstd_dictionary_cut_off_or_too_large_is_a_reject_not_a_crash(tmp_path, cut, says):
    path = tmp_path / "crawl.warc.zst"
    if cut is None:
        path.write_bytes(b"\x5d\x2a\x4d\x18" + (80_000_000).to_bytes(4, "little") + bytes(100))
    else:
        path.write_bytes(_zstd_with_dictionary(_crawl(tmp_path / "c.warc").read_bytes(), False)[: cut + 8])
    docs, rejects, _, _ = _read(path)
    assert docs == [] and [f"{r.reason}: {r.detail}" for r in rejects][0].startswith(says)


@pytest.mark.parametrize(
    "form",
    [
        "warc",
        "warc.gz per record",
        "warc.gz whole file",
        "warc.zst",
        "warc.zst with a dictionary",
        "warc.zst with a compressed dictionary",
    ],
)
def test_a_crawl_gives_its_html_pages_and_counts_the_records_it_passes_over(tmp_path, form):
    path = _crawl(
        tmp_path / ("crawl.warc.gz" if form == "warc.gz per record" else "crawl.warc"), "per" in form
    )
    if form == "warc.gz whole file":
        path = _compress(path, ".gz", gzip.compress)
    elif form == "warc.zst":
        path = _compress(path, ".zst", zstandard.ZstdCompressor().compress)
    elif form.startswith("warc.zst with"):
        path = _compress(path, ".zst", lambda data: _zstd_with_dictionary(data, "compressed" in form))
    docs, rejects, skipped, _ = _read(path)
    assert rejects == []
    assert dict(skipped) == SKIPS
    oslo, zurich = docs
    name = path.name
    assert [(_name(d.source), d.order, d.kind) for d in docs] == [
        (f"{name}#3", (0, 3), "html"),
        (f"{name}#4", (0, 4), "html"),
    ]
    assert (oslo.url, oslo.site) == ("https://www.havneposten.example/nyheter/ferge", "havneposten.example")
    assert (zurich.url, zurich.site) == ("https://zeitung.example/zuerich/tram", "zeitung.example")
    assert oslo.fetched == zurich.fetched == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert all(p in oslo.html for p in OSLO) and all(p in zurich.html for p in ZURICH)
    extracted = extract_batch(docs, ExtractConfig())[0]
    assert [d.title for d in extracted] == ["Nye fergeavganger", "Neue Tramlinie"]
    assert all(p in extracted[0].body for p in OSLO) and all(p in extracted[1].body for p in ZURICH)
    # the id comes from the WARC-Record-ID: the same record has the same id in any form
    assert oslo.doc_id == records.make_doc_id(
        "warc:<urn:uuid:00000000-0000-0000-0000-000000000002>",
        _page("Nye fergeavganger", OSLO).encode("cp1252"),
    )


def test_the_http_charset_wins_over_the_page_head_and_a_bom_over_both(tmp_path):
    w = Warc(tmp_path / "charsets.warc")
    lying = _page("Ferge", OSLO, head='<meta charset="utf-8">').encode("cp1252")
    w.response("https://a.example/1", lying, _http("200 OK", 'text/html; charset="ISO-8859-1"'))
    w.response(
        "https://a.example/2",
        b"\xef\xbb\xbf" + _page("Tram", ZURICH).encode(),
        _http("200 OK", "text/html; charset=windows-1252"),
    )
    w.response(
        "https://a.example/3",
        _page("Tram", ZURICH).encode(),
        _http("200 OK", "application/xhtml+xml; charset=nonsense"),
    )
    docs, rejects, _, _ = _read(w.close())
    assert rejects == []
    assert OSLO[0] in docs[0].html  # ISO-8859-1 is read as windows-1252, as browsers do
    assert ZURICH[0] in docs[1].html and "\ufeff" not in docs[1].html
    assert ZURICH[0] in docs[2].html  # an unknown label is ignored


def test_utf16_declared_by_the_http_header_is_read_without_a_byte_order_mark(tmp_path):
    """It was a `binary` reject whose advice (convert the file with iconv) cannot be followed
    for a record inside a WARC; browsers follow UTF-16 from the HTTP header."""
    page = _page("Neue Tramlinie", ZURICH)
    w = Warc(tmp_path / "utf16.warc")
    for n, (charset, codec) in enumerate(
        [("UTF-16LE", "utf-16-le"), ("utf-16be", "utf-16-be"), ("utf-16", "utf-16-le")]
    ):
        w.response(
            f"https://a.example/{n}", page.encode(codec), _http("200 OK", f"text/html; charset={charset}")
        )
    w.response("https://a.example/bom", page.encode("utf-16"), _http("200 OK", "text/html; charset=utf-16be"))
    docs, rejects, _, _ = _read(w.close())
    assert rejects == [] and [d.html for d in docs] == [page] * 4


def test_content_encodings_are_decoded_or_rejected_and_the_next_record_still_reads(tmp_path):
    html = _page("Neue Tramlinie", ZURICH).encode()
    deflater = zlib.compressobj(wbits=-15)
    raw_deflate = deflater.compress(html) + deflater.flush()
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(html[i : i + 100]), html[i : i + 100]) for i in range(0, len(html), 100)
    )
    w = Warc(tmp_path / "encodings.warc")
    cases = [
        ("gzip", gzip.compress(html), "gzip", []),
        ("zlib", zlib.compress(html), "deflate", []),
        ("raw-deflate", raw_deflate, "deflate", []),
        ("zstd", zstandard.ZstdCompressor().compress(html), "zstd", []),
        ("stored-decoded", html, "gzip", []),  # some crawlers store the page decoded
        ("stored-decoded-deflate", b"\n  " + html, "deflate", []),  # no magic number to tell
        ("stored-decoded-br", html, "br", []),  # read though brotli is not
        ("chunked-gzip", b"", "gzip", [("Transfer-Encoding", "chunked")]),
        ("brotli", b"\x1b\x03\x00\xf8", "br", []),
        ("damaged", gzip.compress(html)[:40] + bytes(60), "gzip", []),
        ("plain", html, None, []),
    ]
    for name, payload, encoding, extra in cases:
        if name == "chunked-gzip":
            packed = gzip.compress(html)
            payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed)
        headers = [("Content-Encoding", encoding)] if encoding else []
        w.response(f"https://a.example/{name}", payload, _http("200 OK", "text/html", *headers, *extra))
    w.response(
        "https://a.example/chunked",
        chunked + b"0\r\n\r\n",
        _http("200 OK", "text/html", ("Transfer-Encoding", "chunked")),
    )
    docs, rejects, _, _ = _read(w.close())
    assert {_name(r.source): r.reason for r in rejects} == {
        "encodings.warc#9": "unsupported_encoding",
        "encodings.warc#10": "corrupt_compressed",
    }
    assert "'br'" in rejects[0].detail
    assert [d.url.rsplit("/", 1)[1] for d in docs] == [
        "gzip", "zlib", "raw-deflate", "zstd", "stored-decoded", "stored-decoded-deflate",
        "stored-decoded-br", "chunked-gzip", "plain", "chunked",
    ]  # fmt: skip
    assert all(d.html.strip() == html.decode() for d in docs)


def test_a_page_damaged_or_cut_past_its_first_block_is_corrupt_and_a_zstd_bomb_too_large(tmp_path):
    # what warcio's content_stream() would not do (benchmarks/bench_io_swaps.py): past the first
    # block it logs a zlib error to stderr and ends the page early, it takes a gzip member cut
    # short for a whole one, and it inflates a whole 16 KiB block at once, whatever its ratio
    html = _page(
        "Lange Seite",
        [ZURICH[0] + f" Absatz {i}: {hashlib.sha256(bytes(i)).hexdigest()}" for i in range(3000)],
    )
    packed = gzip.compress(html.encode())
    assert len(packed) > 100_000  # several of warcio's 16 KiB blocks before the damage
    half = len(packed) // 2
    bomb = zstandard.ZstdCompressor().compress(b"<html><body>" + b" " * 60_000_000 + b"</body></html>")
    w = Warc(tmp_path / "damaged.warc")
    for name, payload, encoding in [
        ("damaged", packed[:half] + bytes(200) + packed[half + 200 :], "gzip"),
        ("cut", packed[:half], "gzip"),
        ("bomb", bomb, "zstd"),
        ("whole", packed, "gzip"),
    ]:
        w.response(
            f"https://a.example/{name}", payload, _http("200 OK", "text/html", ("Content-Encoding", encoding))
        )
    path = w.close()
    (docs, rejects, _, _), peak = peak_bytes(lambda: _read(path, max_record_bytes=1_000_000))
    assert [(_name(r.source), r.reason) for r in rejects] == [
        ("damaged.warc#1", "corrupt_compressed"),
        ("damaged.warc#2", "corrupt_compressed"),
        ("damaged.warc#3", "too_large"),
    ]
    assert [d.url for d in docs] == ["https://a.example/whole"] and docs[0].html == html
    assert peak < 8_000_000, f"reading damaged.warc peaked at {peak:,} bytes"


def _three_pages(path, gzip_records=False):
    w = Warc(path, gzip_records)
    for n in (1, 2, 3):
        text = [
            f"Page {n} paragraph {i}: the council met on Tuesday to discuss the harbour budget."
            for i in range(40)
        ]
        w.response(f"https://a.example/{n}", _page(f"Page {n}", text).encode(), _http("200 OK", "text/html"))
    return w.close(), w.offsets


@pytest.mark.parametrize("name", ["cut.warc", "cut.warc.gz"])
def test_a_cut_archive_keeps_the_records_before_the_cut_and_rejects_the_cut_one(tmp_path, name):
    path, offsets = _three_pages(tmp_path / name, gzip_records=name.endswith(".gz"))
    data = path.read_bytes()
    path.write_bytes(data[: (offsets[2] + len(data)) // 2])  # in the middle of record 3
    docs, rejects, _, seen = _read(path)
    assert [_name(d.source) for d in docs] == [f"{name}#1", f"{name}#2"]
    assert [(_name(r.source), r.reason) for r in rejects] == [(f"{name}#3", "truncated")]
    assert "the 2 records before it were read" in rejects[0].detail
    assert seen[0].digest == hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


@pytest.mark.parametrize("name", ["every-cut.warc", "every-cut.warc.gz"])
def test_no_cut_of_an_archive_loses_a_record_silently(tmp_path, name):
    """Cut anywhere, an archive gives the records wholly before the cut, and a `truncated`
    reject unless the cut falls between two records."""
    path, offsets = _three_pages(tmp_path / name, gzip_records=name.endswith(".gz"))
    data = path.read_bytes()
    full = [d.html for d in _read(path)[0]]
    ends = offsets[1:] + [len(data)]
    slack = 12 if name.endswith(".gz") else 4  # closing blank lines; a gzip member's trailer too
    first_lines = {start + k for start in offsets[1:] for k in (1, 3, 6, 9)}  # inside "WARC/1.0\r\n"
    for cut in sorted({*range(1, len(data), 23), *first_lines}):
        path.write_bytes(data[:cut])
        docs, rejects, _, _ = _read(path)
        whole = sum(1 for end in ends if end <= cut)  # records wholly before the cut
        complete = sum(1 for end in ends if end - slack <= cut)  # ... or all but their closing bytes
        assert [d.html for d in docs] == full[: len(docs)] and whole <= len(docs) <= complete, cut
        start = max(s for s in offsets if s < cut)
        end = ends[offsets.index(start)]
        reasons = [r.reason for r in rejects]
        if start + 2 < cut < end - slack:  # inside a record
            assert reasons == ["truncated"], (cut, rejects)
            assert rejects[0].source.endswith(f"#{len(docs) + 1}")
        elif cut <= start + 2:  # the first bytes of a record: a gzip header cut before its magic
            assert reasons in ([], ["truncated"], ["corrupt_compressed"], ["corrupt_archive"]), (cut, rejects)
        elif cut < end and name.endswith(".gz"):  # the gzip member's last bytes: its page is whole
            assert reasons == ["truncated"] and rejects[0].source.endswith(f"#{len(docs) + 1}"), (
                cut,
                rejects,
            )
        else:
            assert reasons == [], (cut, rejects)


@pytest.mark.parametrize(
    "content",
    [
        b"just some notes, not an archive\nsecond line\n",
        json.dumps({"text": "a JSON record"}).encode() + b"\n",
    ],
)
def test_a_file_that_is_not_a_warc_is_a_clear_reject(tmp_path, content):
    path = tmp_path / "notes.warc"
    path.write_bytes(content)
    docs, rejects, skipped, _ = _read(path)
    assert docs == [] and not skipped
    assert [(_name(r.source), r.reason) for r in rejects] == [("notes.warc", "corrupt_archive")]
    assert "not a WARC file" in rejects[0].detail


def test_records_over_the_limit_are_rejected_without_being_held(tmp_path):
    w = Warc(tmp_path / "big.warc")
    huge = _page("Huge", ["A paragraph of a page far too large to read. " * 40] * 1500).encode()  # 2.7 MB
    w.response("https://a.example/huge", huge, _http("200 OK", "text/html"))
    bomb = gzip.compress(b"<html><body>" + b" " * 60_000_000 + b"</body></html>")
    w.response("https://a.example/bomb", bomb, _http("200 OK", "text/html", ("Content-Encoding", "gzip")))
    w.response("https://a.example/small", _page("Small", ZURICH).encode(), _http("200 OK", "text/html"))
    path = w.close()
    del huge, bomb
    (docs, rejects, _, _), peak = peak_bytes(lambda: _read(path, max_record_bytes=1_000_000))
    assert [(_name(r.source), r.reason) for r in rejects] == [
        ("big.warc#1", "too_large"),
        ("big.warc#2", "too_large"),
    ]
    assert "the page holds 2.7 MB" in rejects[0].detail and "read.max_record_bytes" in rejects[0].detail
    assert [d.url for d in docs] == ["https://a.example/small"]
    assert peak < 5_000_000, f"reading big.warc peaked at {peak:,} bytes"


def test_a_record_whose_headers_never_end_is_too_large_not_an_out_of_memory(tmp_path):
    path = tmp_path / "endless.warc"
    with open(path, "wb") as fh:
        fh.write(b"WARC/1.0\r\nWARC-Type: response\r\nX-Junk: " + b"a" * 20_000_000)
    (docs, rejects, _, _), peak = peak_bytes(lambda: _read(path, max_record_bytes=1_000_000))
    assert docs == [] and [(_name(r.source), r.reason) for r in rejects] == [("endless.warc#1", "too_large")]
    assert peak < 8_000_000, f"reading endless.warc peaked at {peak:,} bytes"


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "not a date"])
def test_a_warc_date_utc_cannot_hold_leaves_the_page_without_a_fetch_date(tmp_path, when):
    w = Warc(tmp_path / "dated.warc")
    w._headers = lambda number: {"WARC-Date": when, "WARC-Record-ID": f"<urn:uuid:{number}>"}
    w.response("https://zeitung.example/a", _page("Tram", ZURICH).encode(), _http("200 OK", "text/html"))
    w.response("https://zeitung.example/b", _page("Tram", ZURICH[1:]).encode(), _http("200 OK", "text/html"))
    docs, rejects, _, _ = _read(w.close())
    assert rejects == [] and [(d.url, d.fetched) for d in docs] == [
        ("https://zeitung.example/a", None),
        ("https://zeitung.example/b", None),
    ]


def test_a_warc_through_the_batch_step_reports_its_skipped_records(tmp_path):
    (tmp_path / "in").mkdir()
    files, _ = discover([_crawl(tmp_path / "in" / "crawl.warc.gz", gzip_records=True)])
    spool = tmp_path / "spool"
    result = pipeline.prepare_batch(0, list(enumerate(files)), Config(), str(spool))
    assert {k: v for k, v in result.counts.items() if k.startswith("warc_skipped_")} == SKIPS
    assert (result.counts["files"], result.counts["records"], result.counts["read_rejects"]) == (1, 2, 0)
    spooled = pipeline.read_spool(spool, result.parts[0].name)
    assert [(d.url, d.title, d.fetched) for d in spooled] == [
        (
            "https://www.havneposten.example/nyheter/ferge",
            "Nye fergeavganger",
            datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        ),
        ("https://zeitung.example/zuerich/tram", "Neue Tramlinie", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
    ]
    assert OSLO[0] in spooled[0].text and ZURICH[1] in spooled[1].text


# -- Parquet ----------------------------------------------------------------------------------


def _parquet(path, table: pa.Table, **options):
    pq.write_table(table, path, **options)
    return path


def test_parquet_rows_become_documents_with_the_default_columns(tmp_path):
    oslo = pa.timestamp("ms", tz="Europe/Oslo")
    table = pa.table(
        {
            "id": pa.array([101, 102, None, 104, 105], pa.int64()),
            "url": ["https://www.Havneposten.example/a", None, None, "https://b.example/x", None],
            "title": ["Ferge", None, None, None, None],
            "text": [OSLO[0], None, None, "   ", ZURICH[0]],
            "html": [None, _page("Tram", ZURICH), None, None, None],
            "published": pa.array(
                [datetime(2024, 5, 6, 9, 30, tzinfo=ZoneInfo("Europe/Oslo")), None, None, None, None], oslo
            ),
            "lang": ["no", "de", "de", "en", "de"],  # not read
        }
    )
    path = _parquet(tmp_path / "rows.parquet", table)
    docs, rejects, _, seen = _read(path)
    assert [(_name(r.source), r.reason) for r in rejects] == [
        ("rows.parquet#3", "invalid_record"),
        ("rows.parquet#4", "invalid_record"),
    ]
    first, second, fifth = docs
    assert (first.source.endswith("#1"), first.order, first.kind, first.body, first.title) == (
        True,
        (0, 1),
        "text",
        OSLO[0],
        "Ferge",
    )
    assert (first.url, first.site) == ("https://www.Havneposten.example/a", "havneposten.example")
    assert first.published == datetime(2024, 5, 6, 7, 30, tzinfo=UTC)  # 09:30 in Oslo in summer
    assert (second.kind, second.html, second.body) == ("html", _page("Tram", ZURICH), None)
    assert first.doc_id == records.make_doc_id("id:101") and fifth.doc_id == records.make_doc_id("id:105")
    assert seen[0].digest == hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def test_parquet_columns_can_be_renamed_and_hold_bytes_dates_and_strings(tmp_path):
    page = _page("Ferge", OSLO, head='<meta charset="windows-1252">').encode("cp1252")
    table = pa.table(
        {
            "body": pa.array([None, ZURICH[0], ZURICH[1]], pa.large_string()),
            "raw_html": pa.array([page, None, None], pa.binary()),
            "link": pa.array(
                ["https://a.example/1", "https://a.example/2", "https://a.example/2"]
            ).dictionary_encode(),
            "key": ["k1", "k2", "k3"],
            "date": pa.array([date(2024, 5, 6), None, None], pa.date32()),
            "headline": [None, "Tram", None],
        }
    )
    path = _parquet(tmp_path / "renamed.parquet", table)
    columns = dict(
        text_column="body",
        html_column="raw_html",
        url_column="link",
        id_column="key",
        published_column="date",
        title_column="headline",
    )
    docs, rejects, _, _ = _read(path, **columns)
    assert rejects == []
    assert [(d.kind, d.url, d.title, d.doc_id) for d in docs] == [
        ("html", "https://a.example/1", None, records.make_doc_id("id:k1")),
        ("text", "https://a.example/2", "Tram", records.make_doc_id("id:k2")),
        ("text", "https://a.example/2", None, records.make_doc_id("id:k3")),
    ]
    assert OSLO[0] in docs[0].html  # bytes decoded as a page is: by its meta charset
    assert docs[0].published == datetime(2024, 5, 6, tzinfo=UTC)
    # with the default names the same file has no text or html column
    _, rejects, _, _ = _read(path)
    assert [r.reason for r in rejects] == ["invalid_schema"]
    assert (
        "body, raw_html, link, key, date, headline" in rejects[0].detail
        and "--text-column" in rejects[0].detail
    )


def test_parquet_view_columns_are_read_as_strings_and_bytes_are(tmp_path):
    # pyarrow has no length kernel for views: a valid file was called damaged.
    page = _page("Ferge", OSLO).encode()
    table = pa.table(
        {
            "text": pa.array([ZURICH[0], None, ZURICH[1] * 20], pa.string_view()),
            "html": pa.array([None, page, None], pa.binary_view()),
        }
    )
    docs, rejects, _, _ = _read(_parquet(tmp_path / "views.parquet", table), max_record_bytes=len(page) + 100)
    assert [d.kind for d in docs] == ["text", "html"] and docs[0].body == ZURICH[0]
    assert [r.reason for r in rejects] == ["too_large"]  # the third row, measured in bytes


@pytest.mark.parametrize(
    "columns, says",
    [
        ({"text": pa.array([1, 2], pa.int64())}, "column 'text' (text) holds int64"),
        (
            {"text": ["a", "b"], "published": pa.array([1.5, 2.5])},
            "column 'published' (published) holds double",
        ),
        ({"text": ["a", "b"], "id": pa.array([1.5, 2.5])}, "column 'id' (id) holds double"),
        ({"text": ["a", "b"], "url": pa.array([b"x", b"y"])}, "column 'url' (url) holds binary"),
    ],
)
def test_a_parquet_column_of_the_wrong_type_rejects_the_file(tmp_path, columns, says):
    docs, rejects, _, _ = _read(_parquet(tmp_path / "typed.parquet", pa.table(columns)))
    assert docs == [] and [(_name(r.source), r.reason) for r in rejects] == [
        ("typed.parquet", "invalid_schema")
    ]
    assert says in rejects[0].detail


def test_parquet_rows_are_checked_as_json_records_are(tmp_path):
    table = pa.table(
        {
            "text": [ZURICH[0], None, ZURICH[1], ZURICH[2]],
            "published": ["2024-05-06T09:30:00+02:00", None, "yesterday", None],
            "id": ["a", "b", "c", "d"],
        }
    )
    docs, rejects, _, _ = _read(_parquet(tmp_path / "checked.parquet", table))
    assert [(_name(r.source), r.reason) for r in rejects] == [
        ("checked.parquet#2", "invalid_record"),
        ("checked.parquet#3", "invalid_record"),
    ]
    assert "no non-empty 'text' or 'html'" in rejects[0].detail and "yesterday" in rejects[1].detail
    assert [d.source.rsplit("#")[1] for d in docs] == ["1", "4"]
    assert docs[0].published == datetime(2024, 5, 6, 7, 30, tzinfo=UTC)


def test_a_published_string_outside_the_years_1_to_9999_in_utc_rejects_its_row_only(tmp_path):
    table = pa.table(
        {
            "text": ZURICH,
            "published": ["9999-12-31T23:00:00-05:00", "2024-05-06T24:00:00Z", "0001-01-01T00:00:00+05:00"],
        }
    )
    docs, rejects, _, _ = _read(_parquet(tmp_path / "dates.parquet", table))
    assert [(_name(r.source), r.reason) for r in rejects] == [
        ("dates.parquet#1", "invalid_record"),
        ("dates.parquet#3", "invalid_record"),
    ]
    assert "'9999-12-31T23:00:00-05:00' is outside the years 1 to 9999 once in UTC" in rejects[0].detail
    assert [(d.body, d.published) for d in docs] == [(ZURICH[1], datetime(2024, 5, 7, tzinfo=UTC))]


@pytest.mark.parametrize("column", ["text", "published"])
def test_two_parquet_columns_of_one_name_reject_the_file_naming_the_column(tmp_path, column):
    names = ["text", "published", column]
    table = pa.Table.from_arrays(
        [pa.array(ZURICH[:2]), pa.array(["2024-05-06", None]), pa.array(["a", "b"])], names
    )
    docs, rejects, _, _ = _read(_parquet(tmp_path / "twice.parquet", table))
    assert docs == [] and [(_name(r.source), r.reason) for r in rejects] == [
        ("twice.parquet", "invalid_schema")
    ]
    assert rejects[0].detail.startswith(
        f"2 columns are named '{column}': which one holds the {column} is not known"
    )
    assert f"--{column}-column" in rejects[0].detail


def test_two_columns_of_one_name_that_are_not_read_do_not_matter(tmp_path):
    table = pa.Table.from_arrays(
        [pa.array(ZURICH[:2]), pa.array(["x", "y"]), pa.array([1, 2])], ["text", "n", "n"]
    )
    docs, rejects, _, _ = _read(_parquet(tmp_path / "extra.parquet", table))
    assert rejects == [] and [d.body for d in docs] == ZURICH[:2]


def test_a_parquet_column_name_that_is_not_utf8_rejects_the_file(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ZURICH, "lang_": ["de"] * 3}), buffer)
    path = tmp_path / "names.parquet"  # the name's bytes changed in the file's own schema
    path.write_bytes(buffer.getvalue().replace(b"lang_", b"lang\xff"))
    docs, rejects, _, _ = _read(path)
    assert docs == [] and [(_name(r.source), r.reason) for r in rejects] == [
        ("names.parquet", "invalid_schema")
    ]
    assert rejects[0].detail.startswith("a column's name is not UTF-8")


def test_a_timestamp_column_in_an_unknown_time_zone_rejects_its_rows(tmp_path):
    atlantis = pa.timestamp("us", tz="Nowhere/Atlantis")  # pyarrow writes it; Python cannot read it
    table = pa.table({"text": ZURICH[:2], "published": pa.array([0, None], atlantis)})
    docs, rejects, _, _ = _read(_parquet(tmp_path / "zoned.parquet", table))
    assert [(_name(r.source), r.reason) for r in rejects] == [("zoned.parquet#1", "invalid_record")]
    assert "'published' holds a value Python cannot read (UnknownTimeZoneError" in rejects[0].detail
    assert [(d.body, d.published) for d in docs] == [(ZURICH[1], None)]


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Zurich"])
def test_nanosecond_timestamps_as_pandas_writes_them_are_read_to_the_microsecond(tmp_path, tz):
    """Without pandas installed (it is not a dependency), pyarrow refused every value with
    nanoseconds, and its row was an invalid_record reject; with pandas, it gave pandas'
    Timestamp. Now a datetime to the microsecond, as the corpus keeps it, either way."""
    ns = pa.timestamp("ns", tz=tz)
    values = [1_714_979_289_123_456_789, 1_714_979_289_000_000_000, None]
    table = pa.table({"text": ZURICH, "published": pa.array(values, ns)})
    docs, rejects, _, _ = _read(_parquet(tmp_path / "pandas.parquet", table))
    assert rejects == [] and [type(d.published) for d in docs] == [datetime, datetime, type(None)]
    assert [d.published for d in docs] == [
        datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        None,
    ]


def test_a_parquet_file_whose_name_is_not_utf8_is_read(tmp_path):
    path = os.fsencode(tmp_path) + b"/tabelle-z\xfcrich.parquet"  # latin-1 "zürich"
    with open(path, "wb") as fh:  # pyarrow opens no path that is not UTF-8
        pq.write_table(pa.table({"text": ZURICH}), fh)
    docs, rejects, _, seen = _read(tmp_path)
    assert rejects == [] and [d.body for d in docs] == ZURICH
    assert [_name(d.source) for d in docs] == [f"tabelle-z\\xfcrich.parquet#{n}" for n in (1, 2, 3)]
    assert seen[0].key == f"{tmp_path.name}/tabelle-z\\xfcrich.parquet"


def test_parquet_rows_over_the_limit_are_rejected_and_numbering_spans_batches(tmp_path):
    texts = [f"Row {n} of a long table." for n in range(1, 201)]
    texts[69] = "x" * 2_000_000  # row 70, in the second batch of rows
    path = _parquet(tmp_path / "long.parquet", pa.table({"text": texts}), row_group_size=50)
    docs, rejects, _, _ = _read(path, max_record_bytes=1_000_000)
    assert [(_name(r.source), r.reason) for r in rejects] == [("long.parquet#70", "too_large")]
    assert "row 70 holds 2.0 MB" in rejects[0].detail
    assert len(docs) == 199
    assert all(d.body == f"Row {d.order[1]} of a long table." for d in docs)
    assert [d.order[1] for d in docs] == [n for n in range(1, 201) if n != 70]


@pytest.mark.parametrize(
    "content, reason, says",
    [
        (b"text,html\nnot,parquet\n", "corrupt_archive", "not a Parquet file"),
        (b"", "corrupt_archive", "not a Parquet file"),
        (None, "empty", "no rows"),
    ],
)
def test_a_file_that_is_not_parquet_or_has_no_rows_is_rejected(tmp_path, content, reason, says):
    path = tmp_path / "table.parquet"
    if content is None:
        _parquet(path, pa.table({"text": pa.array([], pa.string())}))
    else:
        path.write_bytes(content)
    docs, rejects, _, _ = _read(path)
    assert docs == [] and [(_name(r.source), r.reason) for r in rejects] == [("table.parquet", reason)]
    assert says in rejects[0].detail


def test_damaged_parquet_data_keeps_the_rows_before_it(tmp_path):
    texts = [f"Row {n} of a table whose last row group is damaged." for n in range(1, 301)]
    path = _parquet(tmp_path / "damaged.parquet", pa.table({"text": texts}), row_group_size=100)
    chunk = pq.ParquetFile(path).metadata.row_group(2).column(0)  # the third row group's text
    data = bytearray(path.read_bytes())
    middle = (chunk.dictionary_page_offset or chunk.data_page_offset) + chunk.total_compressed_size // 2
    data[middle : middle + 100] = bytes(100)
    path.write_bytes(bytes(data))
    docs, rejects, _, seen = _read(path)
    assert [(_name(r.source), r.reason) for r in rejects] == [("damaged.parquet", "corrupt_archive")]
    assert f"the {len(docs)} rows before it were read" in rejects[0].detail and 0 < len(docs) < 300
    assert [d.body for d in docs] == texts[: len(docs)]
    assert seen  # damaged data, not a disk that failed: the file is still recognised next time


def test_a_compressed_parquet_name_is_not_an_input(tmp_path):
    (tmp_path / "rows.parquet.gz").write_bytes(b"")
    files, rejects = discover([tmp_path])
    assert files == [] and [r.reason for r in rejects] == ["unsupported_type"]


# -- zstd -------------------------------------------------------------------------------------

LINES = [  # 400 KB that compresses to several zstd blocks
    json.dumps(
        {"id": f"r{i}", "text": f"Record number {i} of the archive: {hashlib.sha256(bytes(i)).hexdigest()}."}
    )
    for i in range(3000)
]


def test_zstd_pages_texts_and_feeds_are_read(tmp_path):
    zstd = zstandard.ZstdCompressor()
    (tmp_path / "page.html.zst").write_bytes(zstd.compress(_page("Tram", ZURICH).encode()))
    (tmp_path / "note.txt.zst").write_bytes(zstd.compress("\n".join(OSLO).encode("cp1252")))
    # two frames, as concatenating two .zst files or a multi-threaded zstd make
    half = len(LINES) // 2
    feed = zstd.compress(("\n".join(LINES[:half]) + "\n").encode()) + zstd.compress(
        "\n".join(LINES[half:]).encode()
    )
    (tmp_path / "feed.jsonl.zst").write_bytes(feed)
    (tmp_path / "saved.html").write_bytes(
        zstd.compress(_page("Saved", OSLO).encode())
    )  # zstd under a plain name
    docs, rejects, _, _ = _read(tmp_path)
    assert rejects == []
    by_name = Counter(_name(d.source).split("#")[0] for d in docs)
    assert by_name == {"feed.jsonl.zst": 3000, "page.html.zst": 1, "note.txt.zst": 1, "saved.html": 1}
    page, note, saved = (
        next(d for d in docs if _name(d.source) == n) for n in ("page.html.zst", "note.txt.zst", "saved.html")
    )
    assert (
        page.html == _page("Tram", ZURICH)
        and note.body == "\n".join(OSLO)
        and saved.html == _page("Saved", OSLO)
    )
    assert [d.body for d in docs if _name(d.source).startswith("feed")][-1] == json.loads(LINES[-1])["text"]


def test_a_cut_zstd_feed_keeps_its_complete_lines_wherever_it_is_cut(tmp_path):
    packed = zstandard.ZstdCompressor(write_checksum=True).compress("\n".join(LINES).encode())
    path = tmp_path / "cut.jsonl.zst"
    for cut in [*range(1, 40, 3), len(packed) // 2, len(packed) - 5, len(packed) - 1]:
        path.write_bytes(packed[:cut])
        docs, rejects, _, _ = _read(path)
        assert [r.reason for r in rejects] == ["truncated"], cut
        assert [d.source.rsplit("#")[1] for d in docs] == [str(n) for n in range(1, len(docs) + 1)]
        if docs:
            assert f"the {len(docs)} lines before it were read" in rejects[0].detail
    path.write_bytes(packed[: len(packed) // 2])
    assert 0 < len(_read(path)[0]) < 3000
    for cut in (1, 2, 3):  # a second frame cut inside its magic number: cut off, not junk after
        path.write_bytes(packed + packed[:cut])
        docs, rejects, _, _ = _read(path)
        assert [r.reason for r in rejects] == ["truncated"] and len(docs) == 2999  # the unended last line too


@pytest.mark.parametrize("after", [b"junk", b"ju", b"not zstd at all\n" * 5000, bytes(512), bytes(2)])
def test_bytes_after_the_last_zstd_frame_lose_no_line(tmp_path, after):
    """Bytes after the last frame (a copy with junk appended, or padded to a block with
    zeros): every line is read, as from a gzip file. The decompressor raised on them and lost
    what it had decompressed in the same read: the last 1,273 of 3,000 lines, or both of two."""
    packed = zstandard.ZstdCompressor().compress(("\n".join(LINES) + "\n").encode())
    (tmp_path / "feed.jsonl.zst").write_bytes(packed + after)
    (tmp_path / "two.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(b'{"text": "a"}\n{"text": "b"}\n') + after
    )
    (tmp_path / "note.txt.zst").write_bytes(
        zstandard.ZstdCompressor().compress("\n".join(OSLO).encode()) + after
    )
    docs, rejects, _, _ = _read(tmp_path)
    read = Counter(_name(d.source).split("#")[0] for d in docs)
    feed = [d for d in docs if _name(d.source).startswith("feed")]
    assert read["feed.jsonl.zst"] == 3000 and feed[-1].body == json.loads(LINES[-1])["text"]
    assert read["two.jsonl.zst"] == 2
    found = {_name(r.source): (r.reason, r.detail) for r in rejects}
    if any(after):  # junk: said, with what was read; a text file is whole or nothing
        assert set(found) == {"feed.jsonl.zst", "two.jsonl.zst", "note.txt.zst"}
        reason, detail = found["feed.jsonl.zst"]
        assert reason == "corrupt_compressed"
        assert f"{len(after)} bytes after the last zstd frame are not zstd data" in detail
        assert "the 3000 lines before it were read" in detail
    else:  # zeros: padding, as gzip reads it
        assert found == {} and read["note.txt.zst"] == 1


@pytest.mark.parametrize("name", ["damaged.txt.zst", "damaged.jsonl.zst"])
def test_damaged_zstd_is_corrupt_compressed(tmp_path, name):
    packed = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress("\n".join(LINES).encode()))
    packed[len(packed) // 2 : len(packed) // 2 + 60] = bytes(60)
    (tmp_path / name).write_bytes(bytes(packed))
    (tmp_path / "plain.txt.zst").write_bytes(b"not zstd at all")
    docs, rejects, _, _ = _read(tmp_path)
    files = {_name(r.source): r.reason for r in rejects if "#" not in _name(r.source)}
    assert files == {name: "corrupt_compressed", "plain.txt.zst": "corrupt_compressed"}


@pytest.mark.parametrize("name", ["bomb.txt.zst", "bomb.jsonl.zst"])
def test_a_zstd_bomb_is_too_large_with_bounded_memory(tmp_path, name):
    path = tmp_path / name
    with open(path, "wb") as fh, zstandard.ZstdCompressor().stream_writer(fh) as writer:
        for _ in range(100):
            writer.write(b" " * 1_000_000)  # 100 MB of spaces, 3 KB compressed
    assert path.stat().st_size < 100_000
    (docs, rejects, _, _), peak = peak_bytes(lambda: _read(path, max_record_bytes=1_000_000))
    assert docs == [] and [r.reason for r in rejects] == ["too_large"]
    assert peak < 5_000_000, f"reading {name} peaked at {peak:,} bytes"
