"""The line rules' fast path (`rules.match_line` tries the rules only on a line passing some
rule's cue) gives the same answer as the full rule loop (`rules.match_every_rule`), and every
cue is a necessary condition of its rule: on every line of the synthetic corpus, the bundled
examples, the real pages of ../shared/realpages when they are there, and lines built from the
rules' own pieces."""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import replace

import pytest

from benchmarks.bench_lines import REAL_PAGES, example_lines, real_page_lines, synthetic_lines
from cleaner.clean import rules
from cleaner.clean.rules import LINE_RULES, Cue, Line, LineRule, match_every_rule, match_line
from cleaner.text import normalize, words
from cleaner.timestamps import _DATE_WORDS, is_timestamp_line
from tests.test_rules import CHROME, CONTENT


def cue_violations(texts: list[str], line_rules: tuple[LineRule, ...] = LINE_RULES) -> list[tuple[str, str]]:
    """(rule, line) for every line a rule matches and its cue turns away."""
    found = []
    for text in texts:
        line = Line.of(text)
        found += [(r.name, text) for r in line_rules if r.matches(line) and not r.cue.admits(line)]
    return found


def fast_path_differences(texts: list[str]) -> list[tuple[str, str | None, str | None]]:
    """(line, fast path's answer, full loop's answer) wherever they differ, and lines whose
    `Line.of` (an ASCII shortcut) is not the normal form and words of `cleaner.text`."""
    out = []
    for text in texts:
        line = Line.of(text)
        if line != (text, normalize(text), words(normalize(text))):
            out.append((text, line.norm, normalize(text)))
        for disabled in (frozenset(), rules.ENGLISH_RULES):
            fast, full = match_line(line, disabled), match_every_rule(line, disabled)
            if fast != full:
                out.append((text, fast, full))
    return out


def dispatch_differences(texts: list[str], tiers: tuple = rules._TIERS) -> list[tuple[str, int]]:
    """(line, word count) wherever the pattern `match_line` picks by the line's first character
    answers otherwise than the cues' own `starts` and `whole` patterns, tried one by one."""
    out = []
    for text in texts:
        line = Line.of(text)
        n = min(len(line.words), rules._LONGEST)
        cues = [r.cue for r in LINE_RULES if r.cue.max_words is None or r.cue.max_words >= n]
        expected = any(
            (c.starts is not None and re.match(c.starts, line.norm))
            or (c.whole is not None and re.fullmatch(c.whole, line.norm))
            or c.any_line
            for c in cues
        )
        pattern = tiers[n].starts[line.norm[:1]]
        if (pattern is not None and pattern.match(line.norm) is not None) != expected:
            out.append((text, n))
    return out


def _held_routes(cue: Cue, line: Line) -> list[bool]:
    """What the held test (or the cue's own test) of each string of `holds` the line holds says."""
    held = dict(cue.held)
    return [held.get(s, cue.test)(line) for s in cue.holds if s in line.norm]


def _cues_on(texts: list[str], line_rules: tuple[LineRule, ...], part: str):
    """(rule's name, text, cue, line) for every line and every cue with a test and a
    non-empty `part` ("held" or "instead"): what the contract checks below go over."""
    for text in texts:
        line = Line.of(text)
        for rule in line_rules:
            if getattr(rule.cue, part) and rule.cue.test is not None:
                yield rule.name, text, rule.cue, line


def held_violations(texts: list[str], line_rules: tuple[LineRule, ...] = LINE_RULES) -> list[tuple[str, str]]:
    """(rule, line) wherever a cue's `held` tests do not stand for its test: a held test
    passing a line the test turns away, or, on a line holding some of the cue's strings and
    none of its words, the held tests of those strings answering otherwise than the test."""
    out = []
    for name, text, cue, line in _cues_on(texts, line_rules, "held"):
        passed = _held_routes(cue, line)
        full = cue.test(line)
        if (any(passed) and not full) or (
            passed and cue.words.isdisjoint(line.words) and any(passed) != full
        ):
            out.append((name, text))
    return out


def instead_violations(
    texts: list[str], line_rules: tuple[LineRule, ...] = LINE_RULES
) -> list[tuple[str, str]]:
    """(rule, line) wherever a cue's strings `instead` of its words do not stand for them: a
    test of theirs passing a line the cue's test turns away, or a line the cue's test passes
    that no route but its words (a string of `holds` with its test, or one of `instead` with
    its own) passes."""
    out = []
    for name, text, cue, line in _cues_on(texts, line_rules, "instead"):
        routes = [test(line) for s, test in cue.instead if s in line.norm]
        full = cue.test(line)
        if (any(routes) and not full) or (full and not any(routes) and not any(_held_routes(cue, line))):
            out.append((name, text))
    return out


def _check(texts: list[str]) -> None:
    assert cue_violations(texts)[:5] == []
    assert held_violations(texts)[:5] == []
    assert instead_violations(texts)[:5] == []
    assert fast_path_differences(texts)[:5] == []
    assert dispatch_differences(texts)[:5] == []


# -- the corpora ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic() -> list[str]:
    return synthetic_lines()


def test_the_fast_path_equals_the_rule_loop_on_the_synthetic_corpus(synthetic):
    assert len(synthetic) > 50_000
    assert sum(match_every_rule(Line.of(t)) is not None for t in synthetic) > 10_000  # rules do fire
    _check(synthetic)


def test_the_fast_path_equals_the_rule_loop_on_the_examples():
    lines = example_lines()
    assert len(lines) > 400
    _check(lines)


@pytest.mark.skipif(
    not REAL_PAGES.is_dir(), reason=f"the real-page set is not at {REAL_PAGES} (../shared/realpages)"
)
def test_the_fast_path_equals_the_rule_loop_on_the_real_pages():
    """Every line the library extracts from every other page of the 711 (all of them take 20 s
    more; `python -m benchmarks.bench_lines` checks them all), and the lines of every page's
    ground truth (the article's text and its snippets); read where they lie, never copied."""
    lines = real_page_lines(workers=2, every=2)
    assert len(lines) > 25_000
    for path in sorted((REAL_PAGES / "ground-truth").glob("*.json")):
        truth = json.loads(path.read_text(encoding="utf-8")).get("ground_truth") or {}
        lines += (truth.get("main_content") or "").splitlines()
        lines += [s for key in ("with", "without") for s in truth.get(key) or [] if isinstance(s, str)]
        lines += [v for key in ("title", "author") if isinstance(v := truth.get(key), str)]
    _check(lines)


# -- lines built from the rules' pieces -------------------------------------------------------

# The words and signs the rules and their cues are made of, and what sits next to them.
PIECES = """
read more see also next the full story article continue reading keep on click here to
related coverage you may might like topic leave a reply comment post your add submit 12
comments (3) view show all load join conversation be first must logged in log login required
fields are marked * name email e-mail website what do think? have say closed responses thoughts
share this facebook twitter x linkedin whatsapp print reddit copy link tweet via friends window
subscribe now sign up for free newsletter opt get our delivered straight directly inbox follow
us channel community download app enter address already subscriber support independent
journalism become member unlock unlimited access reached limit would want receive updates
notifications alerts latest news © (c) copyright 2026 by of all rights reserved originally
published appeared ran republished courtesy source: afp reuters ap associated press getty images
epa pa wire photo photos image picture pictured photograph video graphic illustration file
handout credit credits sources / | ( ) : , . ; - advertisement advert ad sponsored skip content
menu search close back top scroll toggle navigation open register my account home homepage
previous prev page 2 of 5 min minute loading listen table contents on blog accept cookies we use
book demo schedule quote started amazon check price buy shop pricing pin later contact learn try
start trial 14-day call today written words reporting mara quint jo park staff writer and &
tags topics filed under categories keywords updated posted march 4 monday 09:30 cet gmt am a.m.
pm 12:35pm 2024-11-02t12:35:00z +05:30 utc+1 hours ago 3rd yesterday • » › → … ! " ' ’ ı İ ſ K
² ３ 1946 ferry harbour council budget the strike
""".split()


def _built_lines(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        shape = rng.random()
        parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 10))]
        if shape < 0.3:  # a chrome line of the tests with pieces around it, or glued to them
            chrome = rng.choice([line for lines in CHROME.values() for line in lines])
            parts = parts[: rng.randint(0, 2)] + [chrome] + parts[rng.randint(0, 10) :]
        sep = rng.choice([" ", " ", " ", "", "\u00a0", " | ", ", ", "\t"])
        line = sep.join(parts)
        if rng.random() < 0.2:  # beyond a word bound: 8, 12, 20, 25, 30, 35, 40, 80 words
            line += " harbour" * rng.choice([1, 4, 8, 13, 18, 23, 28, 33, 38, 78])
        if rng.random() < 0.2:
            line = line.upper() if rng.random() < 0.5 else line.title()
        out.append(line)
    return out


# What case-insensitive matching takes for an ASCII letter and case-folding does not fold to it.
_CASE_TWINS = {"i": ("ı", "İ"), "s": ("ſ",), "k": ("\u212a",)}
_LABELS = ["Published", "published on", "First posted", "Updated at", "Pub date", "Date", "Time", "Modified"]
_DATES = [
    "2026",
    "March 4, 2026",
    "4 March 2026 10:12 GMT",
    "Mon, 02/11/2024",
    "12:35pm",
    "2024-11-02T12:35:00Z",
]


def _edge_lines() -> list[str]:
    """Lines at the edges of the cues: at each manual word bound, timestamps with their label
    glued to the date, long relative timestamps, and chrome lines with a letter swapped for
    one that only case-insensitive matching takes for it."""
    lines = [" ".join(["Share"] + ["Facebook"] * (n - 1)) for n in (19, 20, 21)]  # share_prompt: 20 words
    lines += ["By Mara " + " ".join(["Quint"] * (n - 2)) for n in (11, 12, 13)]  # byline: 12
    lines += ["Photo: " + " ".join(["harbour"] * (n - 1)) for n in (79, 80, 81)]  # photo_caption: 80
    lines += [f"{label}{sep}{date}" for label in _LABELS for sep in ("", " ", ": ", " - ") for date in _DATES]
    lines += ["Posted" + " " * n + "3 hours ago" for n in (1, 80)] + ["Updated " + "1" * 90 + " days ago"]
    lines += [date + "²" for date in _DATES] + ["March ４, ２０２６", "March 4, " + "٢٠٢٦"]
    pictures = ("photo", "image", "picture", "photograph", "video", "graphic", "illustration")
    lines += [  # photo_caption: a picture's word and its credit after punctuation or in brackets
        line
        for word in pictures
        for plural in ("", "s")
        for line in (
            f"Crews at the dam, {word}{plural}: Jo Park",
            f"The dam. {word.title()}{plural} courtesy of Reuters",
            f"The dam; ({word}{plural} credit: AFP)",
            f"The dam ({word}{plural} by Jo Park)",
        )
    ]
    # Words a pattern needs glued to an apostrophe, which `words` keeps in one word.
    lines += [
        "The dam at dusk (Photo's credit: Jo Park)",
        "The dam at dusk (photos' archive)",
        "Sign up for the newsletter's weekly digest",
        "Sign up for x'newsletter today",
        "Subscribe'newsletter",
        "join's updates",
        "Fresh stories delivered straight to your inbox's top",
        "Published 3 hours AGO",
        "Updated 2 days aGo.",
        "Copyright'2026 all rights reserved",
        "\u0663 comments",  # a digit of another script, at a pattern's start (`\\d* ?comments?`)
    ]
    chrome = [t for ts in CHROME.values() for t in ts] + [
        f"{label}: {date}" for label in _LABELS for date in _DATES
    ]
    for text in chrome:
        for letter, twins in _CASE_TWINS.items():
            for twin in twins:
                for cased in (text, text.upper()):
                    lines.append(cased.replace(letter, twin).replace(letter.upper(), twin))
    return lines


def test_the_fast_path_equals_the_rule_loop_on_lines_built_from_the_rules_pieces():
    lines = (
        _built_lines(40_000, seed=19) + [t for ts in CHROME.values() for t in ts] + CONTENT + _edge_lines()
    )
    matched = {match_every_rule(Line.of(t)) for t in lines}
    assert matched >= {r.name for r in LINE_RULES}  # every rule fires on some built line
    _check(lines)


# -- the cues' parts --------------------------------------------------------------------------


def test_a_wrong_cue_is_caught():
    """A cue that turns away a line its rule matches is reported: the byline's without "by "."""
    broken = tuple(
        LineRule(r.name, r.description, r.matches, Cue(12, r"wr|words by|report"))
        if r.name == "byline"
        else r
        for r in LINE_RULES
    )
    lines = _built_lines(5_000, seed=19) + _edge_lines()
    assert any(name == "byline" for name, _ in cue_violations(lines, broken))


def test_a_wrong_held_test_is_caught():
    """A held test that turns away what its cue's test passes is reported, and makes the
    fast path differ from the rule loop: the caption's credit after a bracket, taken away."""
    broken = tuple(
        LineRule(
            r.name,
            r.description,
            r.matches,
            replace(r.cue, held=(*r.cue.held[:2], ("(", lambda line: False))),
        )
        if r.name == "photo_caption"
        else r
        for r in LINE_RULES
    )
    assert [s for s, _ in rules._CREDITED_AFTER_SIGN] == ["/", "|", "("]
    lines = _built_lines(5_000, seed=19) + _edge_lines()
    assert any(name == "photo_caption" for name, _ in held_violations(lines, broken))
    tiers = rules._tiers(broken)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules, "_TIERS", tiers)
        assert match_line("Rescue crews on Monday (Reuters/Ola Nordby)") is None
    assert match_line("Rescue crews on Monday (Reuters/Ola Nordby)") == "photo_caption"


def test_a_wrong_string_instead_of_words_is_caught():
    """A caption credited "by" and turned away by the strings standing for the picture's
    words on a long line is reported, and makes the fast path differ from the rule loop."""
    broken = tuple(
        LineRule(
            r.name,
            r.description,
            r.matches,
            replace(r.cue, instead=(*r.cue.instead[1:], (" by", lambda line: False))),
        )
        if r.name == "photo_caption"
        else r
        for r in LINE_RULES
    )
    assert [s for s, _ in rules._CREDITS_UNSIGNED][0] == " by"
    caption = " ".join(["Crowds wave as the ferry leaves the harbour"] * 5) + ". Photo by Ola Nordby"
    assert len(Line.of(caption).words) > 40 and match_line(caption) == "photo_caption"
    assert instead_violations([caption], broken) == [("photo_caption", caption)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules, "_TIERS", rules._tiers(broken))
        assert match_line(caption) is None


def test_the_longest_timestamp_is_within_the_cues_word_bound():
    """A timestamp of 80 characters, its time cut into as many words as it can hold, is
    within the timestamp cue's bound of 40 words (an absolute one: 80 characters, a word and
    its separator two), and passes the cue."""
    line = "March 3 2024 " + ":".join(["1"] * 34)
    assert len(line) == 80 and match_every_rule(Line.of(line)) == "timestamp"
    assert len(Line.of(line).words) <= 40 and cue_violations([line]) == []
    assert match_line(line) == "timestamp"
    assert rules.LINE_RULES[[r.name for r in LINE_RULES].index("timestamp")].cue.max_words == 40


def test_no_timestamp_holds_an_amount_sign():
    """The timestamp cue turns away a line with a price's or a share's sign: every timestamp
    of the corpora and of the built lines stops being one with such a sign anywhere in it."""
    lines = _built_lines(40_000, seed=19) + [t for ts in CHROME.values() for t in ts] + _edge_lines()
    stamps = [t for t in lines if is_timestamp_line(t)]
    assert len(stamps) > 100
    for sign in rules._AMOUNT_SIGNS:
        for t in stamps:
            for at in (0, len(t) // 2, len(t)):
                assert not is_timestamp_line(t[:at] + sign + t[at:]), (sign, t, at)


def test_a_rule_left_out_of_a_step_is_caught():
    """A line passing a cue at a step is tried on the rules whose cue it may still pass:
    with the timestamp rule left out of the last word's step, a timestamp is missed."""
    assert match_line("Posted 3 hours ago") == "timestamp"
    assert match_line("Published March 3, 2024 09:30 CET") == "timestamp"
    broken = tuple(t._replace(after=(*t.after[:3], (), t.after[4])) for t in rules._TIERS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules, "_TIERS", broken)
        assert match_line("Posted 3 hours ago") is None
        assert match_line("Published March 3, 2024 09:30 CET") is None


def test_every_rule_with_a_word_bound_has_it_in_its_cue():
    for rule in LINE_RULES:
        bound = getattr(rule.matches, "max_words", None)
        if bound is not None:
            assert rule.cue.max_words is not None and rule.cue.max_words >= bound, rule.name


def test_the_digit_class_holds_every_digit_of_unicode():
    missing = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isdigit() and not rules._DIGIT.match(c)]
    assert missing == []
    # and takes no letter: the timestamp cue searches only words not made of letters alone
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if c.isalpha() and rules._DIGIT.match(c)] == []


def test_the_date_pieces_are_the_words_of_every_date_word():
    assert {w for date_word in _DATE_WORDS for w in words(date_word)} <= rules._DATE_PIECES


# -- the patterns by first character ----------------------------------------------------------


def test_a_wrong_dispatch_is_caught():
    """A pattern by first character missing the alternatives of one character ("r": "read
    more", "related", "reply") is reported."""

    class Broken(dict):
        def __init__(self, right):
            super().__init__()
            self.right = right

        def __missing__(self, c):
            return None if c == "r" else self.right[c]

    broken = tuple(t._replace(starts=Broken(t.starts)) for t in rules._TIERS)
    lines = [t for ts in CHROME.values() for t in ts]
    assert dispatch_differences(lines) == []
    assert any(text.lower().startswith("r") for text, _ in dispatch_differences(lines, broken))


def test_the_alternatives_of_a_pattern_match_what_it_matches():
    lines = [Line.of(t).norm for t in _built_lines(3_000, seed=5) + [t for ts in CHROME.values() for t in ts]]
    for rule in LINE_RULES:
        for pattern in (rule.cue.starts, rule.cue.whole):
            if pattern is None:
                continue
            alternatives = rules._alternatives(pattern)
            assert len(alternatives) >= len(rules._branches(pattern)) >= 1
            for norm in lines:
                whole = re.fullmatch(pattern, norm) is not None
                assert whole == any(re.fullmatch(a, norm) for a in alternatives), (rule.name, norm)
                start = re.match(pattern, norm) is not None
                assert start == any(re.match(a, norm) for a in alternatives), (rule.name, norm)


@pytest.mark.parametrize(
    ("pattern", "chars", "others"),
    [
        ("ab|cd", "ac", "bd -"),
        ("(?:[-*•] )?(?:ab|c)", "-*•ac", "b "),
        (r"\d* ?comments?", "0 9c\u0663", "ax"),
        (r"\(?photo", "(p", "h"),
        ("(?:x)?(?:y)?z", "xyz", "a"),
    ],
)
def test_the_first_characters_of_a_pattern(pattern, chars, others):
    first = rules._first_characters(pattern)
    assert first is not None
    assert all(first.takes(c) for c in chars)
    assert not any(first.takes(c) for c in others)


@pytest.mark.parametrize("pattern", [".*x", "a?", "", "(?i:a)b", "(?:ab)*"])
def test_a_pattern_that_may_start_anywhere_has_no_first_characters(pattern):
    assert rules._first_characters(pattern) is None


def test_the_first_characters_of_a_class_are_those_it_takes():
    word = rules._first_characters(r"(?:\w+ )?x")
    assert all(word.takes(c) for c in "xyz\u0663é_") and not word.takes(" ")
    other = rules._first_characters("[^ab]c")
    assert all(other.takes(c) for c in "xyz é") and not other.takes("a") and not other.takes("b")


def test_the_top_level_alternatives_of_a_pattern():
    assert rules._branches(r"a|b(?:c|d)|[|(]|\||e") == ["a", "b(?:c|d)", "[|(]", r"\|", "e"]
    assert rules._branches("[]|]|x") == ["[]|]", "x"]
    assert rules._alternatives("(?:a|b)c|(?:d )?e") == ["ac", "bc", "d e", "e"]
    assert rules._alternatives(r"\(?(?:a|(?:in )?b)c") == [r"\((?:a|(?:in )?b)c", "ac", "in bc", "bc"]
    assert rules._alternatives("(?:a|b)+c|(?:ab)?+c") == ["(?:a|b)+c", "(?:ab)?+c"]
