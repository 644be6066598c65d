"""What hostile pages cannot make the pipeline do: fetch anything from the network, read a
local file through an entity, or blow up through entity expansion.

A real HTTP server on 127.0.0.1 counts every request; pages point at it in every way HTML and
XML allow, and the whole per-batch path (read, extract, clean, sketch, spool) runs on them.
"""

from __future__ import annotations

import json
import resource
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cleaner import pipeline
from cleaner.config import Config
from cleaner.io import readers

ARTICLE = (
    "<p>The harbour board agreed on Tuesday to spend four million on a new breakwater after two "
    "winters of storm damage to the old one, its chairman said.</p>"
    "<p>Fishermen said the work could not start soon enough, since the outer moorings had become "
    "unsafe in anything stronger than a breeze.</p>"
)


@pytest.fixture()
def listener():
    """An HTTP server on 127.0.0.1 that records the path of every request it gets."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server API)
            requests.append(self.path)
            body = b'<!ENTITY leak "FETCHED-FROM-THE-NETWORK">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def _prepare(tmp_path: Path, pages: dict[str, str]) -> tuple[list, pipeline.BatchResult]:
    """Run the per-batch path on `pages`; returns the spooled documents and the result."""
    root = tmp_path / "pages"
    for name, content in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    files, _ = readers.discover([root])
    spool = tmp_path / "spool"
    result = pipeline.prepare_batch(0, list(enumerate(files)), Config(), str(spool))
    return [d for part in result.parts for d in pipeline.read_spool(spool, part.name)], result


def test_pages_pointing_at_the_network_fetch_nothing(tmp_path, listener):
    url, requests = listener
    head_and_body = {
        "img.html": f'<img src="{url}/img.png"><img srcset="{url}/a.png 2x">',
        "assets.html": f'<link rel="stylesheet" href="{url}/s.css"><script src="{url}/s.js"></script>',
        "frames.html": f'<iframe src="{url}/frame"></iframe><object data="{url}/obj"></object>',
        "refresh.html": f'<meta http-equiv="refresh" content="0; url={url}/refresh">',
        "base.html": f'<base href="{url}/"><link rel="canonical" href="{url}/canonical">',
        "import.html": f"<style>@import url({url}/import.css);</style>",
    }
    pages = {
        name: f"<html><head>{extra}</head><body><article>{ARTICLE}</article></body></html>"
        for name, extra in head_and_body.items()
    }
    pages["dtd.html"] = (
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "{url}/dtd">'
        f"<html><body><article>{ARTICLE}</article></body></html>"
    )
    pages["xxe.html"] = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY % remote SYSTEM "{url}/param"> %remote;'
        f'<!ENTITY ext SYSTEM "{url}/ext">]><html><body><article>{ARTICLE}<p>&ext;&leak;</p>'
        "</article></body></html>"
    )
    pages["xinclude.html"] = (
        '<html xmlns:xi="http://www.w3.org/2001/XInclude"><body><article>'
        f'{ARTICLE}<xi:include href="{url}/xinclude"/></article></body></html>'
    )
    pages["feed.jsonl"] = json.dumps({"url": f"{url}/record", "html": pages["img.html"]})
    docs, result = _prepare(tmp_path, pages)
    assert requests == []
    urllib.request.urlopen(f"{url}/probe").read()  # the listener does hear a real request
    assert requests == ["/probe"]
    assert len(docs) == len(pages)  # every page was read and extracted, not rejected
    assert not any("FETCHED-FROM-THE-NETWORK" in p.text for d in docs for p in d.passages)


def test_an_external_entity_cannot_read_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    page = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY file SYSTEM "file://{secret}">]>'
        f"<html><body><article>{ARTICLE}<p>Leak: &file;</p></article></body></html>"
    )
    docs, _ = _prepare(tmp_path, {"xxe.html": page})
    assert docs and not any("TOP-SECRET" in p.text for d in docs for p in d.passages)


def test_entity_expansion_bombs_are_not_expanded(tmp_path):
    levels = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    billion_laughs = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{levels}]>'
        f"<html><body><article>{ARTICLE}<p>&lol9;</p></article></body></html>"
    )
    quadratic = (
        f'<!DOCTYPE kaboom [<!ENTITY a "{"x" * 50_000}">]>'
        f"<html><body><article>{ARTICLE}<p>{'&a;' * 50_000}</p></article></body></html>"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    docs, result = _prepare(tmp_path, {"laughs.html": billion_laughs, "quadratic.html": quadratic})
    took = time.perf_counter() - start
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert took < 10 and grown_mib < 200  # expanded, they would be gigabytes
    text = "".join(p.text for d in docs for p in d.passages)
    assert "lollol" not in text and "x" * 1000 not in text
    # Each page is accounted for: the parser gives up on an inline DTD in HTML, so what it
    # cannot read is a reject with its reason, not a crash or a silent drop.
    rejected = [r.source.rsplit("/", 1)[1] for r in result.extract_rejects]
    assert sorted(rejected + [d.source.rsplit("/", 1)[1] for d in docs]) == ["laughs.html", "quadratic.html"]
    assert all(r.reason == "no_main_text" for r in result.extract_rejects)
