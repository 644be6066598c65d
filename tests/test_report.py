"""`cleaner report` on a corpus the flow made of the bundled examples: the plotted figures
agree with the manifest and the planted duplicates, and the page renders in headless Chromium
with every plot, no error and nothing fetched."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser

import pytest

from cleaner import report
from cleaner.errors import OutputError
from cleaner_flows.cli import main
from tests.example_corpus import example_corpus

pytestmark = pytest.mark.prefect

WIDTH, HEIGHT = 900, 4200


@pytest.fixture(scope="module")
def corpus(prefect_server, tmp_path_factory):
    return example_corpus(tmp_path_factory)


@pytest.fixture(scope="module")
def manifest(corpus):
    return json.loads((corpus / "manifest.json").read_text())


@pytest.fixture(scope="module")
def page(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", str(corpus), "--out", str(out)]) == 0
    return out


def test_figures_agree_with_the_manifest_and_the_planted_duplicates(corpus, manifest, example_labels):
    stats = report.read_stats(corpus)
    counts = manifest["counts"]
    assert dict(stats.statuses) == counts["passages_by_status"]
    assert dict(stats.rules) == counts["boilerplate_by_rule"]
    assert dict(stats.kinds) == counts["duplicates_by_kind"]
    assert stats.documents == counts["documents"]
    # clusters: each original with the planted duplicates of it
    planted = Counter(
        d["duplicate_of"] for d in example_labels["documents"].values() if d["role"] == "duplicate"
    )
    assert stats.cluster_sizes == Counter(1 + n for n in planted.values())
    near_passages = counts["passages_by_status"]["near_duplicate"]
    assert stats.passage_similarity.sum() == near_passages
    assert stats.document_similarity.sum() == counts["duplicates_by_kind"]["near"]
    assert sum(stats.published.values()) + stats.undated == counts["documents"]
    assert stats.site_duplicates["newsdrift.example"] == 4  # the mirror's and the teasers' pages
    assert stats.site_documents["newsdrift.example"] == 0
    assert list(stats.stage_seconds) == list(manifest["timings_seconds"])


def test_each_bar_carries_its_value(page, manifest):
    html = page.read_text()
    status = _svg(html, "plot-status")
    for name, n in manifest["counts"]["passages_by_status"].items():
        assert f"<title>{name}: {n}</title>" in status
    rules = _svg(html, "plot-rules")
    for rule, n in manifest["counts"]["boilerplate_by_rule"].items():
        assert f"<title>{rule}: {n}</title>" in rules
    assert "<title>newsdrift.example: 100%, 4 of 4</title>" in _svg(html, "plot-sites")
    assert "<title>2: 6</title>" in _svg(html, "plot-clusters")


def test_the_largest_clusters_are_listed_with_their_ids_and_sources(corpus, page, capsys, example_labels):
    stats = report.read_stats(corpus)
    largest = stats.largest
    assert [c["documents"] for c in largest] == sorted(
        (1 + n for n in stats.cluster_members.values()), reverse=True
    )[: report.LARGEST_CLUSTERS]
    pages = {p: label for p, label in example_labels["documents"].items()}
    for cluster in largest:
        kept = cluster["source"].split("examples/pages/", 1)[1]
        copies = sorted(d.split("examples/pages/", 1)[1] for d in cluster["duplicates"])
        assert pages[kept]["role"] == "original"
        assert copies == sorted(p for p, label in pages.items() if label.get("duplicate_of") == kept)
    html = page.read_text()
    table = html.split('<table id="clusters">', 1)[1].split("</table>", 1)[0]
    assert "cleaner inspect DIR --cluster ID" in table
    for cluster in largest:  # each id in the table, with its sources, leads to the cluster
        assert f"<code>{cluster['id']}</code>" in table and cluster["source"] in table
        assert main(["inspect", str(corpus), "--cluster", cluster["id"], "--no-color"]) == 0
        assert capsys.readouterr().out.startswith(
            f"cluster {cluster['id']}: {cluster['documents']} documents"
        )


def test_page_needs_no_network(page):
    html = page.read_text()
    for pattern in (
        r"<script",
        r"<link",
        r"<img",
        r"\bsrc\s*=",
        r"\bhref\s*=",
        r"url\(",
        r"@import",
        r"@font-face",
    ):
        assert not re.search(pattern, html, re.I), pattern


def test_runs_are_selected_and_uncommitted_partitions_ignored(corpus, tmp_path, manifest):
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    first = manifest["run_id"]
    for second, committed in (("29990101T000000Z-00000000", True), ("29990102T000000Z-11111111", False)):
        for folder in copy.glob(f"**/run={first}"):  # the datasets' and the index's
            shutil.copytree(folder, folder.parent / f"run={second}")
        if committed:
            (copy / "runs" / f"{second}.json").write_text(json.dumps({**manifest, "run_id": second}))
            (copy / "manifest.json").write_text(json.dumps({**manifest, "run_id": second}))  # the latest's
            shutil.copy(copy / "runs" / f"{first}.inputs.parquet", copy / "runs" / f"{second}.inputs.parquet")
        else:  # moved in by a commit under way, which its journal names
            (copy / ".commit.json").write_text(
                json.dumps({"run_id": second, "staging": ".staging-x", "moves": []})
            )
    one = report.read_stats(copy, run=first)
    both = report.read_stats(copy)
    assert len(both.runs) == 2 and both.documents == 2 * one.documents
    assert both.statuses == Counter({k: 2 * v for k, v in one.statuses.items()})
    assert report.read_stats(copy, run="29990101T000000Z-00000000").statuses == one.statuses
    assert both.stage_seconds["write"] == pytest.approx(2 * one.stage_seconds["write"])
    assert main(["report", str(copy), "--run", "29990102T000000Z-11111111"]) == 2  # not committed
    shutil.rmtree(copy / "duplicates" / "run=29990101T000000Z-00000000")  # damage: not read as no duplicates
    with pytest.raises(
        OutputError, match=r"is damaged: duplicates/run=29990101T000000Z-00000000/ is missing"
    ):
        report.read_stats(copy)


def test_default_file_is_written_atomically_in_the_corpus(corpus, tmp_path, capsys):
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    (copy / "report.html").write_text("old")
    assert main(["report", str(copy)]) == 0
    assert capsys.readouterr().out.strip() == f"report written to {copy / 'report.html'}"
    assert (copy / "report.html").read_text().startswith("<!doctype html>")
    assert not [p for p in copy.iterdir() if p.name.startswith(".report.html")]


def test_not_a_corpus_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no cleaner corpus" in err


def test_page_renders_in_headless_chromium_with_every_plot_and_no_error(page, tmp_path):
    chromium = _chromium()
    dom, console = _render_dom(chromium, page)
    assert console == [], console
    found = _Elements()
    found.feed(dom)
    for plot_id, title in report.PLOTS.items():
        assert found.tags.get(plot_id) == "svg", plot_id
        assert found.text[f"{plot_id}-title"] == title
        assert found.bars[plot_id] > 0, plot_id  # every example plot has data
    assert found.count["xlabel"] == found.count["ylabel"] == len(report.PLOTS)
    assert found.tags.get("summary") == "table"

    shot = tmp_path / "report.png"
    _run(chromium, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (WIDTH, HEIGHT)
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>")
    _run(
        chromium, f"--screenshot={tmp_path / 'blank.png'}", f"--window-size={WIDTH},{HEIGHT}", blank.as_uri()
    )
    # a white page of that size compresses to ~18 KB; seven plots and their labels do not
    assert len(data) > 5 * (tmp_path / "blank.png").stat().st_size


def test_the_console_check_sees_script_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><p id="x">x</p><script>console.error("boom"); notDefined();</script>')
    _, console = _render_dom(_chromium(), bad)
    assert any('"boom"' in line for line in console) and any("notDefined" in line for line in console)


# -- helpers -------------------------------------------------------------------------------


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _render_dom(chromium: str, page) -> tuple[str, list[str]]:
    """The DOM after loading, and every console message (script errors included)."""
    done = _run(chromium, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def _svg(html: str, plot_id: str) -> str:
    start = html.index(f'<svg id="{plot_id}"')
    return html[start : html.index("</svg>", start)]


class _Elements(HTMLParser):
    """Tags by id, the text of elements with an id, bars (rects with a tooltip) per plot,
    and elements per class."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.text: dict[str, str] = {}
        self.bars: Counter = Counter()
        self.count: Counter = Counter()
        self.plot: str | None = None
        self.open: str | None = None
        self.rect = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.tags[attrs["id"]] = tag
            self.open = attrs["id"]
            self.text[self.open] = ""
        if tag == "svg":
            self.plot = attrs.get("id")
        self.rect = tag == "rect" or (self.rect and tag == "title")
        if tag == "title" and self.rect and self.plot:
            self.bars[self.plot] += 1
        for name in (attrs.get("class") or "").split():
            self.count[name] += 1

    def handle_endtag(self, tag):
        self.open = None

    def handle_data(self, data):
        if self.open:
            self.text[self.open] += data


def test_documents_without_a_site_are_no_site_in_the_count(tmp_path):
    """A run whose records had no url counted one site, the "(no site)" they were grouped
    under."""
    import cleaner

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    texts = ["The ferry runs twice a day from Monday, the county said.", "Schools merge in the autumn term."]
    (inbox / "feed.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    cleaner.run([inbox], tmp_path / "out", executor=cleaner.InlineExecutor())
    stats = report.read_stats(tmp_path / "out")
    assert stats.site_documents[report.NO_SITE] == 2
    assert dict(report.summary_rows(stats))["sites"] == "0"


def test_a_runs_cluster_names_a_kept_document_of_an_earlier_run(tmp_path):
    """`cleaner report --run <id>` left the kept document's source empty when the document
    its duplicates repeat was kept by an earlier run."""
    import cleaner

    story = (
        "Ferry services to the outer islands will run twice a day from Monday after the operator "
        "agreed a new contract with the county, keeping the night crossing islanders feared to lose."
    )
    days = [tmp_path / "day1", tmp_path / "day2"]
    for day in days:
        day.mkdir()
    (days[0] / "ferry.txt").write_text(story + "\n")
    (days[1] / "ferry-copy.txt").write_text(story + "\n")
    out = tmp_path / "out"
    cleaner.run([days[0]], out, executor=cleaner.InlineExecutor())
    second = cleaner.run([days[1]], out, executor=cleaner.InlineExecutor())
    (cluster,) = report.read_stats(out, second.run_id).largest
    assert cluster["source"] == (days[0] / "ferry.txt").as_posix()
    assert cluster["duplicates"] == [(days[1] / "ferry-copy.txt").as_posix()]
