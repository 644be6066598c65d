"""Fuzz the line cleaner and the text primitives with atheris, outside CI.

An input is UTF-8 (invalid bytes become U+FFFD, as the readers decode them): the body of a
`Document`, optionally followed, after \\x1d separators, by its title, site name and URL as
a JSONL record carries them. The document is cleaned with `cleaner.clean.lines.clean_batch`, once
with the default rules and once with every rule switched off, and the text primitives of
`cleaner.text` run on its paragraphs and on the input cut at \\x1e. Checked beyond "does not
crash":

- every paragraph of the body (`split_paragraphs`) becomes exactly one passage, in order, at
  positions 0..n-1; a passage's text is never empty and holds no line break or spaces to
  collapse, so the kept text read back (`split_paragraphs(doc.text)`) gives the kept passages;
- a passage is kept or boilerplate, and has a rule, one of `RULE_NAMES`, iff it is boilerplate;
  with every rule disabled nothing is dropped; cleaning twice gives the same labels;
- recovered metadata: a title is a passage of the page, a date is aware UTC;
- `word_spans(texts)` gives, for each text, `words(normalize(text))`;
  `fingerprints(texts) == [fingerprint(t) for t in texts]`; `words` (with its ASCII fast
  path) gives the tokens of the full pattern.

A hang (an input running past `--timeout`, 5 s by default here) is a finding. Coverage does
not lead the fuzzer to the inputs on which a regular expression backtracks catastrophically
(they cover no new code, they only take longer), so `--sweep` times instead every line rule,
the related-heading pattern and the whole cleaner on lines made of a prefix the rules look for
and a short fragment pair repeated 10, 20 and 40 times; a call over `--slow` seconds (0.25)
is reported, and the sweep exits 1 if there is any.

Runs one process on one core. Install atheris (the `fuzz` extra), then from the repository:

    pip install -e '.[fuzz]'
    python -m benchmarks.fuzz_clean --seconds 600 --seeds   # 10 minutes; seeds rebuilt
    python -m benchmarks.fuzz_clean FILE ...                # rerun a saved finding
    python -m benchmarks.fuzz_clean --sweep                 # the timing sweep (about 20 s)

The growing corpus and any `crash-*`/`timeout-*` file go to $TMPDIR/cleaner-fuzz/fuzz_clean
(`--work`); minimised findings are kept in benchmarks/fuzz_corpus/clean/ and are seeds of
every run. Fuzzing never runs in CI.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from datetime import UTC

import atheris

from benchmarks import fuzzing

with atheris.instrument_imports(include=["cleaner"]):
    from cleaner.clean.lines import clean_batch, no_content_rejects
    from cleaner.clean.rules import LINE_RULES, RELATED_HEADING, RULE_NAMES, Line
    from cleaner.config import CleanConfig
    from cleaner.document import Document, Status
    from cleaner.io.readers import decode_text
    from cleaner.io.records import site_of
    from cleaner.text import (
        _TOKEN,
        collapse_spaces,
        fingerprint,
        fingerprints,
        normalize,
        split_paragraphs,
        word_spans,
        words,
    )

DEFAULT = CleanConfig()
NOTHING = CleanConfig(disabled_rules=RULE_NAMES)

# Words and shapes the rules look for, for the mutations to splice in.
DICTIONARY = [
    s.encode("utf-8")
    for s in (
        "\n",
        "\n\n",
        "\r\n",
        "\x1d",
        "\x1e",
        "By ",
        " and ",
        "Written by ",
        "Read more",
        "READ MORE: ",
        "Related: ",
        "Related Articles",
        "You may also like",
        "Most read",
        "Leave a Reply",
        "Share on Facebook",
        "Subscribe to our newsletter",
        "delivered to your inbox",
        "© 2026 ",
        "All rights reserved",
        "Copyright ",
        "Originally published on ",
        "Photo: ",
        "(Photo: AP)",
        " / AFP",
        "(Reuters photo)",
        "Published: ",
        "Updated ",
        "March 4, 2026 10:12 GMT",
        "2026-03-04T10:12:00Z",
        "3 hours ago",
        "Advertisement",
        "Tags: ",
        "Home › World › Europe",
        "Home ",
        " | The Harbour Herald",
        "...",
        "…",
        "’",
        "'",
        "“",
        "İ",
        "ß",
        "東京",
        "\u0301",
        "\u200b",
        "\u2028",
        "\x85",
        "\x00",
        "\ufeff",
    )
]


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    body, title, site_name, url = [*text.split("\x1d", 3), None, None, None][:4]
    paragraphs = split_paragraphs(body)
    check_text([*paragraphs, *text.split("\x1e")])

    doc = _document(body, title, site_name, url)
    (cleaned,) = clean_batch([doc], DEFAULT)
    assert cleaned is doc and doc.body is None
    check_passages(doc, paragraphs, title or None)
    again = clean_batch([_document(body, title, site_name, url)], DEFAULT)[0]
    assert _labels(again) == _labels(doc), "cleaning the same page twice disagrees"
    rejects = no_content_rejects([doc])
    assert bool(rejects) == (not any(p.is_content for p in doc.passages)), rejects
    assert all(r.reason == "no_content" and r.detail for r in rejects)

    bare = clean_batch([_document(body, title, site_name, url)], NOTHING)[0]
    assert [p.text for p in bare.passages] == paragraphs
    assert all(p.status is Status.KEPT and p.rule is None for p in bare.passages), _labels(bare)


def _document(body, title, site_name, url) -> Document:
    return Document(
        doc_id="0" * 16,
        source="fuzz",
        order=(0, 0),
        kind="text",
        body=body,
        title=title or None,
        site_name=site_name or None,
        url=url or None,
        site=site_of(url),
    )


def _labels(doc: Document) -> list:
    return [(p.position, p.text, p.status, p.rule) for p in doc.passages] + [
        doc.title,
        doc.author,
        doc.published,
    ]


def check_passages(doc: Document, paragraphs: list[str], title: str | None) -> None:
    passages = doc.passages
    assert [p.text for p in passages] == paragraphs, "passages are not the body's paragraphs"
    assert [p.position for p in passages] == list(range(len(passages)))
    for p in passages:
        assert p.text and p.text == collapse_spaces(p.text) and "\n" not in p.text, p
        assert p.status in (Status.KEPT, Status.BOILERPLATE), p
        assert (p.rule is not None) == (p.status is Status.BOILERPLATE), p
        assert p.rule is None or p.rule in RULE_NAMES, p
    kept = [p.text for p in passages if p.status is Status.KEPT]
    assert split_paragraphs(doc.text) == kept, "the kept text does not read back as its passages"
    if title is None and doc.title is not None:
        assert doc.title in paragraphs, f"title {doc.title!r} is not a line of the page"
    assert doc.author is None or (isinstance(doc.author, str) and doc.author.strip()), doc.author
    if doc.published is not None:
        assert doc.published.utcoffset() == UTC.utcoffset(None), doc.published


def check_text(texts: list[str]) -> None:
    for t in texts:
        got = words(t)
        assert got == _TOKEN.findall(t), f"words({t!r}) = {got}, the pattern gives {_TOKEN.findall(t)}"
    assert fingerprints(texts) == [fingerprint(t) for t in texts], f"fingerprints disagree on {texts!r}"
    data, starts, ends, counts = word_spans(texts)
    assert len(counts) == len(texts) and int(counts.sum()) == len(starts) == len(ends)
    assert data.endswith(bytes(8))
    at = 0
    for t, n in zip(texts, counts.tolist(), strict=True):
        spans = [
            data[s:e].decode("utf-8") for s, e in zip(starts[at : at + n], ends[at : at + n], strict=True)
        ]
        at += n
        expected = words(normalize(t))
        assert spans == expected, f"word_spans of {t!r}: {spans}, words(normalize()) gives {expected}"


def seeds():
    """Our own texts: text files and JSONL records as they are, and the bodies and titles of
    every page as `cleaner run` would clean them (extracted once, here)."""
    from cleaner.clean.extract import extract_document
    from cleaner.config import ExtractConfig

    for name, data in fuzzing.example_files():
        if name.endswith(".jsonl"):
            for line in data.splitlines():
                try:
                    record = json.loads(line)
                    fields = (record.get("text"), record.get("title"), None, record.get("url"))
                    yield "\x1d".join(f if isinstance(f, str) else "" for f in fields).encode("utf-8")
                except (ValueError, AttributeError):
                    yield line
        elif name.endswith(".html"):
            doc = Document("0" * 16, name, (0, 0), "html", html=decode_text(data))
            result = extract_document(doc, ExtractConfig(timeout_seconds=10))
            if isinstance(result, Document):
                fields = (result.body, result.title, result.site_name, result.url)
                yield "\x1d".join(f or "" for f in fields).encode("utf-8")
        else:
            yield data


SWEEP_PREFIXES = (
    "",
    "By ",
    "Photo: ",
    "Get the ",
    "© ",
    "Read more: ",
    "Related: ",
    "Home › ",
    "Published: ",
)
SWEEP_FRAGMENTS = (
    *("Xx", "and", " ", "-", ",", ".", "'", "’", "(", ")", "/", "|", ":", "©", "2026", "a", "…", "...", "»"),
    *("!", "Photo", "by", "read more", "comments", "newsletter", "to your inbox", "home", " › ", "\n"),
)


def sweep(slow: float) -> int:
    """Time each rule on repeated fragments; print and count the calls slower than `slow` s."""
    checks = [(rule.name, rule.matches) for rule in LINE_RULES]
    checks.append(("related heading", lambda line: RELATED_HEADING.fullmatch(line.norm)))
    checks.append(
        ("clean_document", lambda line: clean_batch([_document(line.text, None, None, None)], DEFAULT))
    )
    found = 0
    for prefix, a, b in itertools.product(SWEEP_PREFIXES, SWEEP_FRAGMENTS, SWEEP_FRAGMENTS):
        for name, check in checks:
            for n in (10, 20, 40):
                text = prefix + (a + b) * n + "!"
                start = time.perf_counter()
                check(Line.of(text))
                took = time.perf_counter() - start
                if took > slow:
                    found += 1
                    print(f"fuzz_clean --sweep: {name} took {took:.2f} s on {text!r}", flush=True)
                    break  # a longer line would take longer still
    print(f"fuzz_clean --sweep: {found} slow calls")
    return 1 if found else 0


def main() -> int:
    def sweep_options(parser):
        parser.add_argument(
            "--sweep", action="store_true", help="time the rules on repeated fragments instead"
        )
        parser.add_argument("--slow", type=float, default=0.25, help="seconds a sweep call may take (0.25)")

    args = fuzzing.arguments("fuzz_clean", __doc__, timeout=5, extra=sweep_options)
    if args.sweep:
        return sweep(args.slow)
    fuzzing.fuzz("fuzz_clean", args, test_one_input, seeds, DICTIONARY)
    return 0


if __name__ == "__main__":
    sys.exit(main())
