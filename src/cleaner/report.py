"""`cleaner report`: one self-contained HTML page with plots of a corpus.

The page needs nothing but itself to open: the plots are inline SVG drawn here (bars, axes and
labels are a few rectangles and lines; a plotting library would add a large dependency for
that), styles are inline, fonts are the reader's own, and there is no script.

The data are read with pyarrow a dataset at a time, by column and in record batches, so the
report never holds the corpus's texts (it reads no `text` column at all) and its memory does
not grow with the corpus but for one counter entry per distinct site, day and cluster.

Only committed runs count: those with a manifest in `runs/`; partitions of a run that is still
moving its files into place are left out, as for any reader that must see the datasets agree.

A *cluster* is a kept document together with the duplicate documents that point at it
(`duplicates.duplicate_of`); its id is the kept document's `doc_id`. Its size counts the kept
document, so the smallest cluster shown is 2. A dropped duplicate always points at a document
kept in the corpus (its own passages are never first occurrences), so clusters do not chain.
The largest clusters are listed by id with their documents' sources, the way into
`cleaner inspect DIR --cluster ID`.
"""

from __future__ import annotations

import html
import math
import os
from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from cleaner.corpus import index, read, writers
from cleaner.errors import CleanerError
from cleaner.io.records import site_of

STATUSES = ("kept", "boilerplate", "exact_duplicate", "near_duplicate", "rewrite")
NO_SITE = "(no site)"
SIMILARITY_BINS = 20  # 0.05 wide, over [0, 1]
LARGEST_CLUSTERS = 10  # listed by id in the report
SOURCES_SHOWN = 3  # duplicates named per listed cluster
PLOTS = {  # element id: title
    "plot-status": "Passages by status",
    "plot-rules": "Boilerplate removed per rule",
    "plot-clusters": "Duplicate cluster sizes",
    "plot-similarity": "Similarity of near-duplicates",
    "plot-sites": "Duplicate share per site",
    "plot-published": "Documents over time",
    "plot-stages": "Time per stage",
}


class ReportError(CleanerError):
    """The folder is not a corpus, or the run asked for is not in it."""


# -- reading -------------------------------------------------------------------------------


@dataclass
class CorpusStats:
    """What the report plots, computed from a corpus's datasets and run manifests."""

    runs: list[dict]  # the manifests of the runs reported on, oldest first
    statuses: Counter = field(
        default_factory=lambda: Counter(dict.fromkeys(STATUSES, 0))
    )  # every status, 0 too
    rules: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    cluster_members: Counter = field(default_factory=Counter)  # kept doc_id -> duplicates of it
    passage_similarity: np.ndarray = field(default_factory=lambda: np.zeros(SIMILARITY_BINS, np.int64))
    document_similarity: np.ndarray = field(default_factory=lambda: np.zeros(SIMILARITY_BINS, np.int64))
    site_documents: Counter = field(default_factory=Counter)
    site_duplicates: Counter = field(default_factory=Counter)
    published: Counter = field(default_factory=Counter)  # day -> kept documents
    documents: int = 0
    undated: int = 0
    rejects: Counter = field(default_factory=Counter)
    largest: list[dict] = field(default_factory=list)  # `largest_clusters`

    @property
    def duplicates(self) -> int:
        return sum(self.kinds.values())

    @property
    def cluster_sizes(self) -> Counter:
        return Counter(1 + n for n in self.cluster_members.values())

    @property
    def stage_seconds(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for manifest in self.runs:
            for stage, seconds in manifest.get("timings_seconds", {}).items():
                total[stage] = total.get(stage, 0.0) + float(seconds)
        return total


def read_stats(corpus: str | Path, run: str | None = None) -> CorpusStats:
    """Count what the plots show over every committed run, or only `run`."""
    corpus = Path(corpus)
    runs = read.manifests(corpus)
    if run is not None:
        runs = [m for m in runs if m["run_id"] == run]
        if not runs:
            raise ReportError(
                f"no committed run {run!r} in {corpus}: the run ids are the names in {corpus / 'runs'}"
            )
    stats = CorpusStats(runs=runs)
    ids = [m["run_id"] for m in runs]

    for batch in read.batches(corpus, "passages", ["status", "rule", "similarity"], ids):
        _count(stats.statuses, batch.column("status"))
        boilerplate = pc.equal(batch.column("status"), "boilerplate")
        _count(stats.rules, batch.column("rule").filter(boilerplate))
        near = batch.column("similarity").filter(pc.equal(batch.column("status"), "near_duplicate"))
        stats.passage_similarity += _histogram(near)

    for batch in read.batches(corpus, "duplicates", ["url", "duplicate_of", "kind", "similarity"], ids):
        _count(stats.kinds, batch.column("kind"))
        _count(stats.cluster_members, batch.column("duplicate_of"))
        near = batch.column("similarity").filter(pc.equal(batch.column("kind"), "near"))
        stats.document_similarity += _histogram(near)
        for url in batch.column("url").to_pylist():
            stats.site_duplicates[site_of(url) or NO_SITE] += 1

    for batch in read.batches(corpus, "documents", ["site", "published"], ids):
        stats.documents += batch.num_rows
        _count(stats.site_documents, pc.fill_null(batch.column("site"), NO_SITE))
        published = batch.column("published")
        stats.undated += published.null_count
        days = pc.cast(pc.cast(published.drop_null(), pa.timestamp("us")), pa.date32())
        _count(stats.published, days)

    for batch in read.batches(corpus, "rejects", ["reason"], ids):
        _count(stats.rejects, batch.column("reason"))
    stats.largest = largest_clusters(corpus, stats.cluster_members, ids)
    return stats


def largest_clusters(
    corpus: Path, members: Counter, runs: list[str], n: int = LARGEST_CLUSTERS
) -> list[dict]:
    """The `n` largest clusters (most duplicates first, then by id): the kept document's id,
    source and title, the cluster's size and its duplicates' sources (`SOURCES_SHOWN`), in
    `runs`. The kept document is looked up in every run: a run's duplicates repeat earlier
    runs' documents."""
    top = sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    if not top:
        return []
    ids = [doc_id for doc_id, _ in top]
    every = sorted(writers.committed_runs(corpus) | set(runs))
    kept = {
        r["doc_id"]: r
        for r in read.rows(
            corpus, "documents", ["doc_id", "source", "title"], ds.field("doc_id").isin(ids), every
        )
    }
    copies: dict[str, list[str]] = {}
    for r in read.rows(
        corpus, "duplicates", ["duplicate_of", "source"], ds.field("duplicate_of").isin(ids), runs
    ):
        copies.setdefault(r["duplicate_of"], []).append(r["source"])
    return [
        {
            "id": doc_id,
            "documents": 1 + count,
            "source": kept.get(doc_id, {}).get("source"),
            "title": kept.get(doc_id, {}).get("title"),
            "duplicates": sorted(copies.get(doc_id, [])),
        }
        for doc_id, count in top
    ]


def _count(counter: Counter, values: pa.Array) -> None:
    for item in pc.value_counts(values.drop_null()).to_pylist():
        counter[item["values"]] += item["counts"]


def _histogram(values: pa.Array) -> np.ndarray:
    numbers = values.drop_null().to_numpy(zero_copy_only=False)
    return np.histogram(numbers, bins=SIMILARITY_BINS, range=(0.0, 1.0))[0].astype(np.int64)


# -- plot data -----------------------------------------------------------------------------


def time_bins(days: Counter) -> tuple[str, list[str], list[int]]:
    """Documents per day, per week or per month, whichever keeps the bars at most ~60."""
    if not days:
        return "day", [], []
    first, last = min(days), max(days)
    span = (last - first).days + 1
    if span <= 62:
        unit, key = "day", (lambda d: d)
    elif span <= 62 * 7:
        unit, key = "week", (lambda d: d - timedelta(days=d.weekday()))
    else:
        unit, key = "month", (lambda d: d.replace(day=1))
    counts: Counter = Counter()
    for day, n in days.items():
        counts[key(day)] += n
    labels, values, current = [], [], key(first)
    while current <= key(last):  # every bin in the range, empty ones too: time is an axis
        labels.append(current.strftime("%Y-%m") if unit == "month" else current.isoformat())
        values.append(counts[current])
        current = _next(current, unit)
    return unit, labels, values


def _next(current: date, unit: str) -> date:
    if unit == "day":
        return current + timedelta(days=1)
    if unit == "week":
        return current + timedelta(days=7)
    return date(current.year + current.month // 12, current.month % 12 + 1, 1)


def site_shares(stats: CorpusStats) -> list[tuple[str, int, int]]:
    """(site, duplicate documents, all documents) per site, highest share first."""
    sites = set(stats.site_documents) | set(stats.site_duplicates)
    rows = [(s, stats.site_duplicates[s], stats.site_documents[s] + stats.site_duplicates[s]) for s in sites]
    return sorted(rows, key=lambda r: (-r[1] / r[2], -r[2], r[0]))


# -- SVG -----------------------------------------------------------------------------------

_COLOURS = ("#3b6ea8", "#d08c2e", "#5a9e5a", "#b04a4a")
_FONT = 12


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top`."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def bar_chart(
    plot_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    xlabel: str,
    ylabel: str,
    horizontal: bool = False,
    notes: Sequence[str] | None = None,
    value_format=_fmt,
) -> str:
    """A bar chart as an SVG element: one bar per category and series (series side by side),
    a value axis with round ticks, both axes labelled, a legend for several series, and the
    exact value of each bar as its tooltip. Horizontal charts suit long category names."""
    n = max(len(categories), 1)
    label_chars = max((len(c) for c in categories), default=4)
    if horizontal:
        left = min(12 + label_chars * 7, 300)
        width, plot_h = 760, max(n * 22, 60)
        plot_w = width - left - 120  # room for the value labels
        height = plot_h + 110
    else:
        rotate = n > 8 or label_chars * 7 > 640 / n
        left, width, plot_w, plot_h = 70, 760, 660, 260
        bottom = (min(label_chars, 24) * 6 + 30) if rotate else 40
        height = plot_h + bottom + 70
    top = 46 + (18 if len(series) > 1 else 0)
    peak = max((v for _, values in series for v in values), default=0)
    ticks = nice_ticks(peak)
    scale = ticks[-1]
    out = [
        f'<svg id="{plot_id}" class="plot" role="img" aria-labelledby="{plot_id}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="system-ui, sans-serif" font-size="{_FONT}">',
        f'<text id="{plot_id}-title" class="title" x="{width / 2}" y="22" text-anchor="middle" '
        f'font-size="16" font-weight="600">{_e(title)}</text>',
    ]
    if len(series) > 1:
        x = left
        for i, (name, _) in enumerate(series):
            out.append(f'<rect x="{x}" y="34" width="12" height="12" fill="{_COLOURS[i % 4]}"/>')
            out.append(f'<text x="{x + 16}" y="44">{_e(name)}</text>')
            x += 30 + len(name) * 7
    band = (plot_h if horizontal else plot_w) / n
    bar = band * 0.8 / len(series)
    for t in ticks:  # grid and tick labels
        if horizontal:
            x = left + plot_w * t / scale
            out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#ddd"/>')
            out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{_fmt(t)}</text>')
        else:
            y = top + plot_h - plot_h * t / scale
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for i, category in enumerate(categories):
        for j, (name, values) in enumerate(series):
            value = values[i]
            length = (plot_w if horizontal else plot_h) * value / scale
            offset = i * band + band * 0.1 + j * bar
            tip = f"{category}: {value_format(value)}" + (f" ({name})" if len(series) > 1 else "")
            if notes:
                tip += f", {notes[i]}"
            if horizontal:
                x, y, w, h = left, top + offset, length, bar
            else:
                x, y, w, h = left + offset, top + plot_h - length, bar, length
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'fill="{_COLOURS[j % 4]}"><title>{_e(tip)}</title></rect>'
            )
            if horizontal:
                label = value_format(value) + (f" ({notes[i]})" if notes else "")
                out.append(f'<text x="{x + w + 4:.1f}" y="{y + h / 2 + 4:.1f}">{_e(label)}</text>')
        if horizontal:
            y = top + i * band + band / 2 + 4
            out.append(f'<text x="{left - 6}" y="{y:.1f}" text-anchor="end">{_e(category)}</text>')
        else:
            x = left + i * band + band / 2
            y = top + plot_h + 16
            if rotate:
                out.append(
                    f'<text x="{x:.1f}" y="{y - 6}" text-anchor="end" '
                    f'transform="rotate(-45 {x:.1f} {y - 6})">{_e(category)}</text>'
                )
            else:
                out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{_e(category)}</text>')
    if not categories:
        out.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#888">no data</text>'
        )
    # axes and their labels
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>'
    )
    out.append(
        f'<text class="xlabel" x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle" '
        f'font-weight="600">{_e(xlabel)}</text>'
    )
    cy = top + plot_h / 2
    out.append(
        f'<text class="ylabel" x="14" y="{cy}" text-anchor="middle" font-weight="600" '
        f'transform="rotate(-90 14 {cy})">{_e(ylabel)}</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


# -- the page ------------------------------------------------------------------------------


def plots(stats: CorpusStats) -> dict[str, str]:
    """Every plot's SVG, by element id."""
    t = PLOTS
    rules = stats.rules.most_common()
    sizes = stats.cluster_sizes
    largest = max(sizes, default=1)
    # a histogram: every size up to the largest, unless that would make the bars unreadable
    sizes = [(n, sizes[n]) for n in range(2, largest + 1)] if largest <= 40 else sorted(sizes.items())
    low = min(
        (i for i in range(SIMILARITY_BINS) if stats.passage_similarity[i] or stats.document_similarity[i]),
        default=SIMILARITY_BINS // 2,
    )
    bins = range(min(low, SIMILARITY_BINS // 2), SIMILARITY_BINS)
    similarity_labels = [f"{i / SIMILARITY_BINS:.2f}–{(i + 1) / SIMILARITY_BINS:.2f}" for i in bins]
    sites = site_shares(stats)
    unit, days, per_day = time_bins(stats.published)
    stages = stats.stage_seconds
    return {
        "plot-status": bar_chart(
            "plot-status",
            t["plot-status"],
            list(STATUSES),
            [("passages", [stats.statuses[s] for s in STATUSES])],
            xlabel="status",
            ylabel="passages",
        ),
        "plot-rules": bar_chart(
            "plot-rules",
            t["plot-rules"],
            [r for r, _ in rules],
            [("lines", [n for _, n in rules])],
            xlabel="boilerplate lines removed",
            ylabel="rule",
            horizontal=True,
        ),
        "plot-clusters": bar_chart(
            "plot-clusters",
            t["plot-clusters"],
            [str(size) for size, _ in sizes],
            [("clusters", [n for _, n in sizes])],
            xlabel="documents in the cluster (the kept one and its duplicates)",
            ylabel="clusters",
        ),
        "plot-similarity": bar_chart(
            "plot-similarity",
            t["plot-similarity"],
            similarity_labels,
            [
                ("near-duplicate passages", [int(stats.passage_similarity[i]) for i in bins]),
                ("near-duplicate documents", [int(stats.document_similarity[i]) for i in bins]),
            ],
            xlabel="similarity to the passage or document repeated",
            ylabel="count",
        ),
        "plot-sites": bar_chart(
            "plot-sites",
            t["plot-sites"],
            [s for s, _, _ in sites],
            [("duplicate share", [100 * d / n for _, d, n in sites])],
            xlabel="duplicate documents, % of the site's documents",
            ylabel="site",
            horizontal=True,
            notes=[f"{d} of {n}" for _, d, n in sites],
            value_format=lambda v: f"{v:.0f}%",
        ),
        "plot-published": bar_chart(
            "plot-published",
            t["plot-published"],
            days,
            [("documents", per_day)],
            xlabel=f"published ({unit}, UTC)",
            ylabel="kept documents",
        ),
        "plot-stages": bar_chart(
            "plot-stages",
            t["plot-stages"],
            list(stages),
            [("seconds", [round(s, 3) for s in stages.values()])],
            xlabel="seconds" + (f", summed over {len(stats.runs)} runs" if len(stats.runs) > 1 else ""),
            ylabel="stage",
            horizontal=True,
            value_format=lambda v: f"{v:.2f} s",
        ),
    }


def summary_rows(stats: CorpusStats) -> list[tuple[str, str]]:
    passages = sum(stats.statuses.values())
    dropped = passages - stats.statuses["kept"]
    clusters = len(stats.cluster_members)
    dates = sorted(stats.published)
    rows = [
        ("runs", f"{len(stats.runs)}"),
        ("kept documents", f"{stats.documents:,}"),
        (
            "duplicate documents",
            f"{stats.duplicates:,}" + (f" ({_kinds(stats.kinds)})" if stats.kinds else ""),
        ),
        ("duplicate clusters", f"{clusters:,}, largest {max(stats.cluster_sizes, default=0)} documents"),
        (
            "rejected inputs",
            f"{sum(stats.rejects.values()):,}" + (f" ({_kinds(stats.rejects)})" if stats.rejects else ""),
        ),
        ("passages", f"{passages:,}, of which {dropped:,} dropped ({_share(dropped, passages)})"),
        ("sites", f"{len((set(stats.site_documents) | set(stats.site_duplicates)) - {NO_SITE}):,}"),
        (
            "published",
            (f"{dates[0]} to {dates[-1]}" if dates else "no dates")
            + (f"; {stats.undated:,} kept documents without a date" if stats.undated else ""),
        ),
    ]
    return rows


def _kinds(counter: Counter) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items()))


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 820px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
p.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0 2em; }
th, td { text-align: left; padding: 0.25em 0.8em; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 2.5em; }
figcaption { color: #555; font-size: 0.9em; max-width: 760px; }
caption { text-align: left; color: #555; font-size: 0.9em; padding-bottom: 0.4em; }
svg.plot { display: block; max-width: 100%; height: auto; }
"""

_CAPTIONS = {
    "plot-status": "Every paragraph read, by the decision on the paragraph itself (a dropped duplicate "
    "document's own paragraphs count as kept, as in manifest.json).",
    "plot-rules": "Lines dropped as boilerplate, by the rule that dropped them.",
    "plot-clusters": "A cluster is a kept document and the duplicate documents that point at it "
    "(duplicates.duplicate_of); its id is the kept document's doc_id (cleaner inspect DIR --cluster ID).",
    "plot-similarity": "Passages: similarity (Jaccard, or containment) to the passage repeated. "
    "Documents: share of the document's text found in the one it repeats, for kind near.",
    "plot-sites": "Duplicate documents among each site's documents (kept and duplicate). The site is the "
    "host of the page's URL; inputs without a URL are (no site).",
    "plot-published": "Kept documents by publication date; documents without one are left out.",
    "plot-stages": "Wall-clock seconds per stage of the flow, from each run's manifest.",
}


def render(stats: CorpusStats, corpus_name: str) -> str:
    """The whole page as a string."""
    svg = plots(stats)
    summary = "\n".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in summary_rows(stats))
    run_rows = "\n".join(
        "<tr>"
        f"<td>{_e(m['run_id'])}</td>"
        f'<td class="n">{m.get("counts", {}).get("documents", 0):,}</td>'
        f'<td class="n">{m.get("counts", {}).get("duplicate_documents", 0):,}</td>'
        f'<td class="n">{m.get("counts", {}).get("rejects", 0):,}</td>'
        f'<td class="n">{sum(m.get("timings_seconds", {}).values()):.1f}</td>'
        "</tr>"
        for m in stats.runs
    )
    figures = "\n".join(
        f"<figure>\n{svg[pid]}\n<figcaption>{_e(_CAPTIONS[pid])}</figcaption>\n</figure>"
        + (_clusters_table(stats.largest) if pid == "plot-clusters" else "")
        for pid in PLOTS
    )
    scope = "all runs" if len(stats.runs) != 1 else f"run {stats.runs[0]['run_id']}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cleaner report: {_e(corpus_name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Corpus report: {_e(corpus_name)}</h1>
<p class="sub">{_e(scope)}, {len(stats.runs)} committed</p>
<table id="summary">
{summary}
</table>
<table id="runs">
<tr><th>run</th><th>documents</th><th>duplicates</th><th>rejects</th><th>seconds</th></tr>
{run_rows}
</table>
{figures}
</body>
</html>
"""


def _clusters_table(largest: list[dict]) -> str:
    """The largest clusters by id, with sources: what to give `cleaner inspect --cluster`."""
    if not largest:
        return ""
    rows = []
    for c in largest:
        shown = c["duplicates"][:SOURCES_SHOWN]
        more = len(c["duplicates"]) - len(shown)
        duplicates = "<br>".join(_e(s) for s in shown) + (f"<br>and {more} more" if more else "")
        rows.append(
            f'<tr><td><code>{_e(c["id"])}</code></td><td class="n">{c["documents"]}</td>'
            f"<td>{_e(c['source'] or '')}" + (f"<br><i>{_e(c['title'])}</i>" if c["title"] else "") + "</td>"
            f"<td>{duplicates}</td></tr>"
        )
    return (
        '<table id="clusters">\n<caption>The largest clusters: <code>cleaner inspect DIR --cluster ID</code> '
        "shows one side by side</caption>\n"
        "<tr><th>cluster (kept doc_id)</th><th>documents</th><th>kept document</th><th>duplicates</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>"
    )


def _inside_data(corpus: Path, out: Path) -> str | None:
    """The corpus folder (a dataset, the index, the runs' records) that `out` would lie in."""
    try:
        rel = out.resolve().relative_to(corpus.resolve())
    except ValueError:
        return None
    top = rel.parts[0] if len(rel.parts) > 1 else None
    return top if top in (*writers.DATASETS, index.INDEX, writers.RUNS) else None


def write_report(corpus: str | Path, out: str | Path | None = None, run: str | None = None) -> Path:
    """Write the report for `corpus` (every committed run, or `run`) to `out`, by default
    `corpus/report.html`, atomically: a reader finds the old page or the new, never half."""
    corpus = Path(corpus)
    out = Path(out) if out else corpus / "report.html"
    inside = _inside_data(corpus, out)
    if inside:
        raise ReportError(
            f"cannot write {out}: it would lie in {inside}/ of the corpus, where every reader of its data "
            "would fail on it; give --out a file elsewhere"
        )
    page = render(read_stats(corpus, run), corpus.resolve().name)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        with suppress(OSError):  # on a read-only file system, even this says so
            tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {out}: {exc.strerror}; give --out a file elsewhere") from None
    return out
