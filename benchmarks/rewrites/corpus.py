"""The labelled set for rewrite detection: fictional stories, their content-farm rewrites and
independent reports of the same events (`stories/*.toml`, all written for this benchmark), and
the seeds of `../shared/seeds` when present (`seeds.json`: which seed rewrites which, and our
pairing of their paragraphs, as indices only).

Each story has an original, two hand-written rewrites in which paragraph i restates the
original's paragraph i (synonyms, clauses reordered, sentences split and joined, quotes turned
into reported speech), a content farm's filler paragraphs, and three independent reports by
other outlets that share the story's quotes and facts. Three rewrite documents are made of
them, the way content farms publish:

- `rewrite-a`: rewrite A as written;
- `rewrite-b`: rewrite B with one paragraph dropped, two neighbours merged into one and the
  farm's closing filler added;
- `rewrite-mix`: each paragraph from A or B, one paragraph split in two at a sentence, one
  or two dropped, one pair of neighbours swapped, the farm's opening filler added.

Every paragraph of a rewrite lists the original paragraphs it restates (`sources`: none for
filler, two for a merge). The set is judged as two corpora (`runs`), each in a seeded shuffled
order in which an original comes before its rewrites (a rewrite is published after its
source) and independent reports fall anywhere, before the original too.
"""

from __future__ import annotations

import json
import random
import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STORIES = Path(__file__).with_name("stories")
SEEDS_LABELS = Path(__file__).with_name("seeds.json")
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
REALPAGES = SEEDS.parent / "realpages" / "wcxb-dev" / "ground-truth"
DEFAULT_SEED = 7
_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“])")


@dataclass
class Doc:
    """One document of the labelled set. `family` is its story (None: unrelated); `rewrite_of`
    is set on rewrites (the original's id); `sources[i]` lists the original's paragraphs that
    paragraph i restates."""

    id: str
    outlet: str
    title: str
    paragraphs: list[str]
    family: str | None
    kind: str  # "original", "rewrite", "independent"
    rewrite_of: str | None = None
    sources: list[list[int]] = field(default_factory=list)


def load_stories(folder: Path = STORIES) -> list[dict]:
    stories = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            story = tomllib.load(fh)
        story["id"] = path.stem
        n = len(story["original"]["paragraphs"])
        for version in ("rewrite_a", "rewrite_b"):
            if len(story[version]["paragraphs"]) != n:
                raise ValueError(
                    f"{path.name}: {version} has {len(story[version]['paragraphs'])} paragraphs, the original {n}"
                )
        stories.append(story)
    return stories


def _sentences(paragraph: str) -> list[str]:
    return _SENTENCE_END.split(paragraph)


def story_documents(story: dict, seed: int) -> list[Doc]:
    """The original, its three rewrite documents and its independent reports."""
    rng = random.Random(f"{seed}:{story['id']}")
    sid, original = story["id"], story["original"]["paragraphs"]
    a, b = story["rewrite_a"]["paragraphs"], story["rewrite_b"]["paragraphs"]
    n = len(original)
    docs = [
        Doc(
            f"{sid}/original",
            story["outlet"],
            story["title"],
            list(original),
            sid,
            "original",
            sources=[[i] for i in range(n)],
        )
    ]

    def rewrite(name: str, rows: list[tuple[str, list[int]]]) -> Doc:
        return Doc(
            f"{sid}/{name}",
            f"{name} farm",
            story["title"],
            [t for t, _ in rows],
            sid,
            "rewrite",
            rewrite_of=f"{sid}/original",
            sources=[s for _, s in rows],
        )

    docs.append(rewrite("rewrite-a", [(t, [i]) for i, t in enumerate(a)]))

    rows = [(t, [i]) for i, t in enumerate(b)]
    del rows[rng.randrange(1, n)]
    k = rng.randrange(0, len(rows) - 1)
    rows[k : k + 2] = [(rows[k][0] + " " + rows[k + 1][0], rows[k][1] + rows[k + 1][1])]
    rows.append((story["farm"]["outro"], []))
    docs.append(rewrite("rewrite-b", rows))

    rows = [(rng.choice((a[i], b[i])), [i]) for i in range(n)]
    splittable = [i for i, (t, _) in enumerate(rows) if len(_sentences(t)) >= 2]
    if splittable:
        i = rng.choice(splittable)
        parts = _sentences(rows[i][0])
        cut = len(parts) // 2
        rows[i : i + 1] = [(" ".join(parts[:cut]), rows[i][1]), (" ".join(parts[cut:]), rows[i][1])]
    for _ in range(rng.choice((1, 2))):
        del rows[rng.randrange(1, len(rows))]
    k = rng.randrange(1, len(rows) - 1)
    rows[k], rows[k + 1] = rows[k + 1], rows[k]
    rows.insert(0, (story["farm"]["intro"], []))
    docs.append(rewrite("rewrite-mix", rows))

    for j, report in enumerate(story["independent"], 1):
        docs.append(
            Doc(
                f"{sid}/independent-{j}",
                report["outlet"],
                report["title"],
                list(report["paragraphs"]),
                sid,
                "independent",
            )
        )
    return docs


def labelled_set(seed: int = DEFAULT_SEED) -> list[Doc]:
    """Every story's documents (see `runs`)."""
    return [d for story in load_stories() for d in story_documents(story, seed)]


def runs(seed: int = DEFAULT_SEED) -> list[list[Doc]]:
    """The labelled set as two corpora, each in a seeded order where an original precedes
    its rewrites: the originals, `rewrite-a`, `rewrite-b` and the independent reports; then
    the originals, `rewrite-mix` and the independent reports again. `rewrite-mix` reuses A's
    and B's paragraphs word for word, so beside them it is a plain copy of copies, which
    MinHash finds: it is judged on its own, against the original only."""
    docs = labelled_set(seed)
    first = [d for d in docs if not d.id.endswith("/rewrite-mix")]
    second = [d for d in docs if d.kind != "rewrite" or d.id.endswith("/rewrite-mix")]
    return [_ordered(first, seed), _ordered(second, seed + 1)]


def _ordered(docs: list[Doc], seed: int) -> list[Doc]:
    docs = list(docs)
    rng = random.Random(seed)
    rng.shuffle(docs)
    for family in sorted({d.family for d in docs}):
        slots = [i for i, d in enumerate(docs) if d.family == family and d.kind != "independent"]
        ordered = sorted((docs[i] for i in slots), key=lambda d: (d.kind != "original", d.id))
        for i, d in zip(slots, ordered, strict=True):
            docs[i] = d
    return docs


def seed_documents(folder: Path = SEEDS) -> tuple[list[Doc], dict] | None:
    """The seeds' texts (paragraphs: their non-empty lines) and our labels, or None when the
    folder is absent. The seeds' text is read from the shared folder, never stored here."""
    if not folder.is_dir():
        return None
    labels = json.loads(SEEDS_LABELS.read_text(encoding="utf-8"))
    docs = []
    for name, label in labels["documents"].items():
        path = next(folder.glob(f"{name}_*.txt"))
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        docs.append(
            Doc(
                f"seed/{name}",
                "seed",
                path.name,
                lines,
                "seeds",
                label["kind"],
                rewrite_of=label.get("rewrite_of"),
            )
        )
    return docs, labels


def realpages_articles() -> list[tuple[str | None, list[str]]]:
    """Each real page's URL and the non-empty lines of its ground-truth text, in file order
    (none when the set is not beside the checkout). Read where they lie, never stored here."""
    articles = []
    for path in sorted(REALPAGES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        content = data["ground_truth"].get("main_content") or ""
        articles.append((data.get("url"), [p for p in content.split("\n") if p.strip()]))
    return articles


def speed_paragraphs(n: int, min_words: int = 8) -> list[str]:
    """`n` paragraphs to time an embedding on: the real pages' ground-truth paragraphs of at
    least `min_words` words when they are there, else the labelled set's, repeated."""
    texts = [p for _, lines in realpages_articles() for p in lines if len(p.split()) >= min_words]
    texts = texts or [p for d in labelled_set() for p in d.paragraphs]
    return (texts * (n // len(texts) + 1))[:n]


def embedding_speed(embed: Callable[[list[str]], object], n: int) -> dict:
    """Wall and CPU time of `embed` over `speed_paragraphs(n)`, after a first call of eight
    (a model's one-off costs), and passages a second of each."""
    texts = speed_paragraphs(n)
    embed(texts[:8])
    start, cpu = time.perf_counter(), time.process_time()
    embed(texts)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "passages": n,
        "mean_words": round(sum(len(t.split()) for t in texts) / n, 1),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "per_second": round(n / wall, 1),
        "per_cpu_second": round(n / cpu, 1),
    }
