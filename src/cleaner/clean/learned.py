"""Learned boilerplate: the chrome of sites no rule was written for.

A line that recurs, once in each, across several different articles of one site is that
site's chrome (a tagline, a footer, a widget's text), whatever its words. Learned on the
whole run's `Sketch` (fingerprints and word counts suffice: no text is read), after every
page has been through the line rules (`lines`), and applied to the sketch's statuses.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from cleaner.clean.lines import ARTICLE_LINE_MIN_WORDS
from cleaner.config import CleanConfig
from cleaner.dedup.sketch import BOILERPLATE, KEPT, Sketch


def learn_boilerplate(sketch: Sketch, config: CleanConfig) -> dict[str, frozenset[int]]:
    """Per site, the fingerprints of lines that recur across at least `learned_min_docs`
    different articles of that site, once in each.

    A line a page repeats is the page's structure: the "Pros" and "Cons" over every product
    of a review, which its site's other reviews share (on the real pages of
    benchmarks/realpages, 62 of the 77 lines learned before this rule were such headings).

    Copies of one article (a story republished with an update) share their paragraphs
    without those being chrome, so documents that share most of their article-length lines
    count as one article. Works on the corpus's sketch: fingerprints and word counts suffice.
    Nothing is learned when `disabled_rules` names "learned".
    """
    if "learned" in config.disabled_rules:
        return {}
    starts, status = sketch.starts.tolist(), sketch.status.tolist()
    fps, n_words = sketch.fingerprints.tolist(), sketch.n_words.tolist()
    by_site: dict[str, list[int]] = defaultdict(list)
    for d, site in enumerate(sketch.sites):
        if site and starts[d + 1] > starts[d] and not sketch.excluded[d]:
            by_site[site].append(d)
    learned: dict[str, frozenset[int]] = {}
    for site, site_docs in sorted(by_site.items()):
        if len(site_docs) < config.learned_min_docs:
            continue
        holders: dict[int, list[int]] = defaultdict(list)  # line fingerprint -> doc indices
        article_lines: list[frozenset[int]] = []
        for index, d in enumerate(site_docs):
            article: set[int] = set()
            counts = Counter(fps[k] for k in range(starts[d], starts[d + 1]) if status[k] == KEPT)
            for k in range(starts[d], starts[d + 1]):
                if status[k] != KEPT:
                    continue
                fp = fps[k]
                if n_words[k] >= ARTICLE_LINE_MIN_WORDS:
                    article.add(fp)
                if n_words[k] <= config.learned_max_words and counts[fp] == 1:
                    holders[fp].append(index)
            article_lines.append(frozenset(article))
        chrome = frozenset(
            fp
            for fp, indices in holders.items()
            if len(indices) >= config.learned_min_docs
            and _distinct_articles(indices, article_lines, config) >= config.learned_min_docs
        )
        if chrome:
            learned[site] = chrome
    return learned


def _distinct_articles(indices: list[int], article_lines: list[frozenset[int]], config) -> int:
    """How many of these documents are different articles (greedy, stops at the target)."""
    counted: list[frozenset[int]] = []
    for index in indices:
        lines = article_lines[index]
        if all(not _same_article(lines, other, config) for other in counted):
            counted.append(lines)
            if len(counted) >= config.learned_min_docs:
                break
    return len(counted)


def _same_article(a: frozenset[int], b: frozenset[int], config: CleanConfig) -> bool:
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= config.learned_same_article_share


def apply_learned(sketch: Sketch, learned: dict[str, frozenset[int]]) -> int:
    """Label the learned lines of each document's site in the sketch (`Sketch.apply` puts
    the label on the documents), but not a line the page repeats; returns how many lines it
    dropped."""
    starts, status, fps = sketch.starts.tolist(), sketch.status.tolist(), sketch.fingerprints.tolist()
    dropped = 0
    for d, site in enumerate(sketch.sites):
        chrome = learned.get(site or "")
        if not chrome or sketch.excluded[d]:
            continue
        counts = Counter(fps[k] for k in range(starts[d], starts[d + 1]) if status[k] == KEPT)
        for k in range(starts[d], starts[d + 1]):
            if status[k] == KEPT and fps[k] in chrome and counts[fps[k]] == 1:
                sketch.status[k] = BOILERPLATE
                sketch.learned[k] = True
                dropped += 1
    return dropped
