"""Score cleaner on real labelled pages, beside trafilatura alone on the same pages.

The pages are WCXB's development split (`../shared/realpages/wcxb-dev`, read where it lies:
no page text is copied into the repository). Each page goes through the library's real
stages as a run sends it: `pipeline.prepare_batch` on worker processes (read, extract,
clean, sketch, spool), then learned boilerplate and dedup on the joined sketch, then the
verdicts put on the spooled documents. trafilatura alone extracts the same decoded pages
with each of its settings.

The scorer is the benchmark's own (its `evaluate.py`): word-level F1 between a page's text
and `main_content` over bags of lower-cased `\\w+` tokens, averaged over pages, a page
without text scoring 0; the share of `with` snippets found and of `without` snippets
absent. cleaner's text for a page is what the corpus holds for it: the kept lines of its
document; for a document dropped as a duplicate of another (the set holds a few pages twice),
its lines but boilerplate, which the corpus holds once; nothing for a reject.

Where a removed line is judged, it "belongs to the ground truth" when its words appear, in
order, in `main_content`; a line of fewer than four words only when it is a line of it, or
the start or end of one ("1946" of "Established: 1946"): "Share" or "Menu" occur inside any
long text.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import re
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cleaner import pipeline
from cleaner.clean import learned, lines
from cleaner.config import Config
from cleaner.dedup import rewrites, visit
from cleaner.document import Document, Reject, Status
from cleaner.io import readers

DEV_SET = Path(__file__).resolve().parents[2].parent / "shared" / "realpages" / "wcxb-dev"
# trafilatura alone, as a user who does not run cleaner would: comments are never article text.
TRAFILATURA = {
    "precision": {"favor_precision": True, "include_comments": False},
    "no_comments": {"include_comments": False},
    "defaults": {},
}
_TOKEN = re.compile(r"\w+")
_BATCH = 16  # pages per prepare_batch call
_SHORT = 4  # a removed line of fewer words belongs to the truth only as a whole line of it


@dataclass(frozen=True)
class Page:
    fid: str
    path: Path
    truth: dict  # the ground truth: main_content, with, without, title, author, publish_date


def load_pages(folder: Path = DEV_SET, every: int = 1, offset: int = 0) -> list[Page]:
    """The labelled pages of the set, in file order; `every`/`offset` take a slice."""
    pages = []
    for path in sorted((folder / "ground-truth").glob("*.json"))[offset::every]:
        truth = json.loads(path.read_text(encoding="utf-8")).get("ground_truth") or {}
        pages.append(Page(path.stem, folder / "html" / f"{path.stem}.html.gz", truth))
    return pages


# -- the runs --------------------------------------------------------------------------------


@dataclass
class Output:
    """What one system made of one page."""

    text: str = ""
    extracted: str = ""  # cleaner only: every line the extraction gave, before cleaning
    title: str | None = None
    author: str | None = None
    date: str | None = None  # YYYY-MM-DD
    document: Document | None = None  # cleaner only
    reject: Reject | None = None  # cleaner only
    duplicate: bool = False  # cleaner only: dropped as a duplicate document


def run_cleaner(pages: Sequence[Page], config: Config | None = None, workers: int = 2) -> dict[str, Output]:
    """The library's stages over the pages, as a run does them; {fid: Output}."""
    config = config or Config()
    files, rejects = readers.discover([p.path for p in pages])
    if rejects:
        raise RuntimeError(f"unreadable pages in the set: {rejects[:3]}")
    ranked = list(enumerate(files))
    batches = [ranked[i : i + _BATCH] for i in range(0, len(ranked), _BATCH)]
    with tempfile.TemporaryDirectory(prefix="realpages-") as tmp:
        spool = str(Path(tmp) / pipeline.SPOOL)
        jobs = [(i, b, config, spool) for i, b in enumerate(batches)]
        if workers > 1:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.starmap(pipeline.prepare_batch, jobs, chunksize=1)
        else:
            results = [pipeline.prepare_batch(*job) for job in jobs]
        sketch, parts = pipeline.join(results, spool)
        id_rejects = sketch.exclude_repeated_ids()
        learned.apply_learned(sketch, learned.learn_boilerplate(sketch, config.clean))
        texts = pipeline.spool_texts(spool, sketch, parts)
        visit.deduplicate_sketch(sketch, config.dedup, texts=texts)
        if config.rewrite.enabled:
            rewrites.mark_rewrites(sketch, config.rewrite)
        docs: list[Document] = []
        first = 0
        for part in parts:
            batch = pipeline.read_spool(spool, part.name)
            docs += sketch.apply(batch, first)
            first += len(batch)
    rejected = [x for r in results for x in (*r.read_rejects, *r.extract_rejects)] + id_rejects
    rejected += lines.no_content_rejects(docs)
    out: dict[str, Output] = {}
    for doc in docs:
        out[_fid(doc.source)] = Output(
            text=doc.text,
            extracted="\n".join(p.text for p in doc.passages),
            title=doc.title,
            author=doc.author,
            date=_day(doc.published),
            document=doc,
            duplicate=doc.is_duplicate,
        )
    for reject in rejected:
        previous = out.get(_fid(reject.source)) or Output()
        out[_fid(reject.source)] = Output(
            reject=reject, document=previous.document, extracted=previous.extracted
        )
    for output in out.values():
        if output.duplicate:  # the corpus holds its text once, under the document it repeats
            output.text = output.document.content_text
    return out


def run_trafilatura(pages: Sequence[Page], settings: dict, workers: int = 2) -> dict[str, Output]:
    """trafilatura alone on the same decoded pages, with the given `extract` settings."""
    jobs = [(p.fid, str(p.path), settings) for p in pages]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = pool.starmap(_trafilatura_page, jobs, chunksize=8)
    else:
        found = [_trafilatura_page(*job) for job in jobs]
    return dict(found)


def _trafilatura_page(fid: str, path: str, settings: dict) -> tuple[str, Output]:
    import trafilatura

    html = readers.decode_page(gzip.decompress(Path(path).read_bytes()))
    found = trafilatura.extract(html, output_format="json", with_metadata=True, **settings)
    if not found:
        return fid, Output()
    data = json.loads(found)
    # The text format puts the comments (when they are extracted) after the text, as here.
    text = "\n".join(part for part in (data.get("text"), data.get("comments")) if part)
    return fid, Output(text=text, title=data.get("title"), author=data.get("author"), date=data.get("date"))


def _fid(source: str) -> str:
    return Path(source).name.split(".")[0]


def _day(value: datetime | None) -> str | None:
    return f"{value:%Y-%m-%d}" if value is not None else None


# -- scoring ---------------------------------------------------------------------------------


def tokens(text: str | None) -> list[str]:
    return _TOKEN.findall((text or "").lower())


def word_scores(predicted: str, reference: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the bags of words, as the benchmark's scorer counts them."""
    pred, ref = tokens(predicted), tokens(reference)
    if not ref:
        return (1.0, 1.0, 1.0) if not pred else (0.0, 0.0, 0.0)
    if not pred:
        return 0.0, 0.0, 0.0
    overlap = sum((Counter(pred) & Counter(ref)).values())
    precision, recall = overlap / len(pred), overlap / len(ref)
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


def snippet_share(text: str, snippets: Sequence[str]) -> float:
    if not snippets:
        return 1.0
    lower = text.lower()
    return sum(1 for s in snippets if s.lower() in lower) / len(snippets)


class Truth:
    """A page's ground-truth text, for asking whether a line belongs to it."""

    def __init__(self, main_content: str) -> None:
        self.joined = " " + " ".join(tokens(main_content)) + " "
        self.lines = [
            " " + " ".join(tokens(line)) + " " for line in main_content.splitlines() if tokens(line)
        ]

    def holds(self, line: str) -> bool:
        """Whether the line's words appear, in order, in the truth; a short line only as a
        line of it, or the start or end of one ("1946" of "Established: 1946")."""
        words = tokens(line)
        if not words:
            return False
        joined = " " + " ".join(words) + " "
        if len(words) < _SHORT:
            return any(t.startswith(joined) or t.endswith(joined) for t in self.lines)
        return joined in self.joined


def same_title(found: str | None, truth: str | None) -> bool:
    return _title_key(found) == _title_key(truth)


def _title_key(title: str | None) -> str:
    return " ".join(tokens(unicodedata.normalize("NFKC", title or "")))


_NAME_SEPARATORS = re.compile(r"\s*(?:[,;&|/]|\band\b|\bund\b|\bet\b|\by\b)\s*", re.IGNORECASE)


def same_author(found: str | None, truth: str | None) -> bool:
    """Names match case-insensitively: the same set of names, in any order."""
    return _names(found) == _names(truth)


def _names(value: str | None) -> frozenset[str]:
    parts = _NAME_SEPARATORS.split(unicodedata.normalize("NFKC", value or ""))
    return frozenset(" ".join(p.casefold().split()) for p in parts if p.strip())


def same_day(found: str | None, truth: str | None) -> bool:
    return (found or "")[:10] == (truth or "")[:10]


@dataclass
class Scores:
    pages: int = 0
    f1: float = 0.0
    precision: float = 0.0
    recall: float = 0.0
    with_found: float = 0.0
    without_absent: float = 0.0
    title: float = 0.0
    author: float = 0.0
    date: float = 0.0
    empty: int = 0  # pages with no text
    per_page: dict[str, float] = field(default_factory=dict)  # fid -> F1

    def as_dict(self) -> dict:
        return {
            k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items() if k != "per_page"
        }


def score(pages: Sequence[Page], outputs: dict[str, Output]) -> Scores:
    s = Scores(pages=len(pages))
    for page in pages:
        out = outputs.get(page.fid) or Output()
        truth = page.truth
        p, r, f1 = word_scores(out.text, truth.get("main_content") or "")
        s.per_page[page.fid] = f1
        s.f1 += f1
        s.precision += p
        s.recall += r
        s.with_found += snippet_share(out.text, truth.get("with") or [])
        s.without_absent += (
            1.0 - snippet_share(out.text, truth.get("without") or []) if truth.get("without") else 1.0
        )
        s.title += same_title(out.title, truth.get("title"))
        s.author += same_author(out.author, truth.get("author"))
        s.date += same_day(out.date, truth.get("publish_date"))
        s.empty += not out.text.strip()
    n = max(1, len(pages))
    for name in ("f1", "precision", "recall", "with_found", "without_absent", "title", "author", "date"):
        setattr(s, name, getattr(s, name) / n)
    return s


def removals(pages: Sequence[Page], outputs: dict[str, Output]) -> dict[str, dict]:
    """Per rule (and learned boilerplate, and each dedup status): lines removed, how many
    belong to the ground truth (false drops), and the rule's precision."""
    dropped: Counter = Counter()
    false: Counter = Counter()
    for page in pages:
        doc = outputs[page.fid].document if page.fid in outputs else None
        if doc is None:
            continue
        truth = Truth(page.truth.get("main_content") or "")
        for p in doc.passages:
            name = _removed_by(p)
            if name:
                dropped[name] += 1
                false[name] += truth.holds(p.text)
    return {
        name: {"dropped": n, "false_drops": false[name], "precision": round(1 - false[name] / n, 4)}
        for name, n in dropped.most_common()
    }


def _removed_by(passage) -> str | None:
    if passage.status is Status.BOILERPLATE:
        return passage.rule
    if passage.status is not Status.KEPT:
        return passage.status.value
    return None


def losses(
    pages: Sequence[Page],
    ours: dict[str, Output],
    theirs: dict[str, Output],
    scores: tuple[Scores, Scores],
    n: int,
) -> list[dict]:
    """The pages where cleaner's F1 falls furthest below trafilatura's, with what was lost:
    the reject, or the ground-truth lines removed and the rule or status that removed them."""
    mine, other = scores
    worst = sorted(pages, key=lambda p: mine.per_page[p.fid] - other.per_page[p.fid])[:n]
    out = []
    for page in worst:
        delta = mine.per_page[page.fid] - other.per_page[page.fid]
        if delta >= 0:
            break
        output = ours.get(page.fid) or Output()
        lost: list[tuple[str, str]] = []
        if output.reject is not None:
            lost.append((output.reject.reason, output.reject.detail))
        elif output.duplicate and output.document is not None:
            lost.append(("duplicate document", f"of {output.document.duplicate_of}"))
        if output.document is not None:
            truth = Truth(page.truth.get("main_content") or "")
            for p in output.document.passages:
                name = _removed_by(p)
                if name and truth.holds(p.text):
                    lost.append((name, p.text))
            if not lost:  # nothing of the truth removed: the extraction differs
                lost.append(("extraction", f"focus {output.document.extraction}"))
        out.append(
            {
                "page": page.fid,
                "cleaner": round(mine.per_page[page.fid], 4),
                "trafilatura": round(other.per_page[page.fid], 4),
                "lost": lost,
            }
        )
    return out


def by_language(pages: Sequence[Page], outputs: dict[str, Output]) -> dict[str, dict]:
    """Per language cleaner identified: pages, lines removed by a rule, and how many of those
    belong to the ground truth."""
    table: dict[str, Counter] = {}
    for page in pages:
        doc = outputs[page.fid].document if page.fid in outputs else None
        if doc is None:
            continue
        row = table.setdefault(str(doc.language), Counter())
        row["pages"] += 1
        truth = Truth(page.truth.get("main_content") or "")
        for p in doc.passages:
            if p.status is Status.BOILERPLATE:
                row["removed"] += 1
                row["false_drops"] += truth.holds(p.text)
    return {lang: dict(row) for lang, row in sorted(table.items(), key=lambda kv: -kv[1]["pages"])}


def _tally(outputs: dict[str, Output], field: str) -> dict[str, int]:
    """How many documents have each value of a `Document` field."""
    found = Counter(str(getattr(o.document, field, None)) for o in outputs.values() if o.document is not None)
    return dict(found.most_common())


def evaluate(
    pages: Sequence[Page], config: Config | None = None, workers: int | None = None, peers: bool = True
) -> dict:
    """Every figure of the benchmark, as plain data."""
    workers = workers or min(2, os.cpu_count() or 1)
    ours = run_cleaner(pages, config, workers)
    mine = score(pages, ours)
    metrics: dict = {
        "pages": len(pages),
        "cleaner": mine.as_dict(),
        "rejects": dict(Counter(o.reject.reason for o in ours.values() if o.reject is not None)),
        "duplicate_documents": sum(o.duplicate for o in ours.values()),
        "removed": removals(pages, ours),
        "languages": by_language(pages, ours),
        "extraction_focus": _tally(ours, "extraction"),
        # The same extraction, every line kept: what cleaning starts from.
        "extraction": score(pages, {fid: Output(text=o.extracted) for fid, o in ours.items()}).as_dict(),
    }
    if peers:
        alone = {name: run_trafilatura(pages, settings, workers) for name, settings in TRAFILATURA.items()}
        scored = {name: score(pages, found) for name, found in alone.items()}
        metrics["trafilatura"] = {name: s.as_dict() for name, s in scored.items()}
        best = max(scored, key=lambda name: scored[name].f1)
        metrics["compared_with"] = best
        metrics["losses"] = losses(pages, ours, alone[best], (mine, scored[best]), 20)
        metrics["per_page"] = {
            fid: {"cleaner": round(f1, 4), **{n: round(s.per_page[fid], 4) for n, s in scored.items()}}
            for fid, f1 in mine.per_page.items()
        }
    return metrics
