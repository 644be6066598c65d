import random
from itertools import pairwise

import pytest

from cleaner.text import (
    fingerprint,
    fingerprints,
    normalize,
    split_paragraphs,
    word_spans,
    words,
)


def test_normalize_folds_case_quotes_dashes_and_spaces():
    a = "“We got what we came for,” said Ilse Borken — the shop steward."
    b = '"we got what  we came for," said ilse borken - the shop steward.'
    assert normalize(a) == normalize(b)
    assert fingerprint(a) == fingerprint(b)


def test_normalize_drops_soft_hyphens_and_word_joiners():
    """A copy whose long words hold soft hyphens (`&shy;`) matched its source on no passage:
    each split its words in two."""
    plain = "The harbour administration announced the modernisation programme."
    hyphenated = "The har\u00adbour admin\u00adis\u00adtra\u00adtion announced the moder\u00adni\u00adsa\u00adtion pro\u2060gramme."
    assert fingerprint(plain) == fingerprint(hyphenated)
    assert words(normalize(hyphenated)) == words(normalize(plain))
    assert _spans_as_words([hyphenated]) == [words(normalize(plain))]


def test_normalize_applies_nfc():
    composed, decomposed = "Zürich café", "Zu\u0308rich cafe\u0301"
    assert composed != decomposed
    assert normalize(composed) == normalize(decomposed)


def test_fingerprint_separates_different_text():
    assert fingerprint("The vote passed.") != fingerprint("The vote failed.")


def test_words_splits_cjk_into_characters_and_keeps_contractions():
    assert words("東京で会議") == ["東", "京", "で", "会", "議"]
    assert words("Don't stop, it's 2026!") == ["Don't", "stop", "it's", "2026"]


def test_split_paragraphs_one_per_line_and_blank_line_blocks():
    body = "First line.\nSecond line.\n\n\nThird after blanks.\r\n  \nFourth.  "
    assert split_paragraphs(body) == ["First line.", "Second line.", "Third after blanks.", "Fourth."]


@pytest.mark.parametrize("separator", ["\u2029", "\u2028", "\x0c", "\x85", "\x0b", "\x1e"])
def test_unicode_line_and_paragraph_separators_end_a_paragraph(separator):
    """As str.splitlines reads them: read as spaces, a word processor's five paragraphs
    were one passage."""
    paragraphs = [f"Paragraph number {n} of an exported story." for n in range(5)]
    assert split_paragraphs(separator.join(paragraphs)) == paragraphs


def test_split_paragraphs_joins_hard_wrapped_blocks():
    wrapped = (
        "Dock workers at the port of Hallvik voted on Tuesday to end a twelve-day\n"
        "strike after the harbour authority agreed to a new shift schedule and a\n"
        "pay rise of four percent, the union said in a statement on its website\n"
        "late in the evening."
    )
    assert split_paragraphs(wrapped + "\n\nNext paragraph.") == [
        " ".join(wrapped.split("\n")),
        "Next paragraph.",
    ]


def test_a_carriage_return_and_another_line_break_are_two_breaks():
    """A carriage return and a line feed are one line break; a carriage return before any
    other break ends a line of its own, so a blank line separates the two blocks (they were
    read as one break and joined)."""
    lines = [
        "Dock workers at the port of Hallvik voted on Tuesday to end a twelve-day",
        "strike after the harbour authority agreed to a new shift schedule and a",
        "pay rise of four percent, the union said in a statement on its website",
    ]
    assert split_paragraphs("\r\n".join(lines)) == [" ".join(lines)]
    assert split_paragraphs("\r\x0c".join(lines)) == lines
    assert split_paragraphs("\r\u2028".join(lines)) == lines


def test_split_paragraphs_keeps_short_sentence_lines_apart():
    body = "The union voted.\nThe port reopened.\nShips queued outside."
    assert split_paragraphs(body) == ["The union voted.", "The port reopened.", "Ships queued outside."]


def test_fast_paths_agree_with_the_reference_patterns():
    import random
    import re

    from cleaner.text import _TOKEN

    rng = random.Random(9)
    alphabet = "abcXYZ019 '’_-.,;:!?\"()\t\n\r\u00a0\u2009\u3000éßü東京"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert words(text) == _TOKEN.findall(text), repr(text)
        assert " ".join(text.split()) == re.sub(r"\s+", " ", text).strip(), repr(text)
        ascii_text = text.encode("ascii", "ignore").decode()
        assert words(ascii_text) == _TOKEN.findall(ascii_text), repr(ascii_text)


def test_collapse_spaces_is_split_and_join_whatever_the_whitespace():
    import random

    from cleaner.text import collapse_spaces

    rng = random.Random(11)
    alphabet = [
        "a",
        "b",
        "é",
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x1f",
        "\x00",
        "\u00a0",
        "\u3000",
    ]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert collapse_spaces(text) == " ".join(text.split()), repr(text)


def _spans_as_words(texts):
    data, starts, ends, counts = word_spans(texts)
    assert len(counts) == len(texts) and data.endswith(bytes(8))
    tokens = [data[s:e].decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    bounds = [0, *counts.cumsum().tolist()]
    return [tokens[a:b] for a, b in pairwise(bounds)]


@pytest.mark.parametrize(
    "texts",
    [
        [],
        [""],
        ["Don't stop, it's 2026!", "'tis the workers' union's 'final' offer", "a''b a'b'c a'b''c ' '' x'"],
        ["rock'n'roll O'Neill's", "L’été d’Anne — “quoted”", "’s ‘a’ ’’"],
        [
            "東京で会議 2024年",
            "Zu\u0308rich ﬁnance ẞ İ",
            "zero\u200bwidth no\u00a0break",
            "soft\u00adhy\u2060phen",
        ],
        ["NUL\x00inside", "café au lait", "plain ASCII"],
        ["ASCII\x00NUL only", "and more"],
    ],
    ids=["empty", "one-empty", "ascii-apostrophes", "curly", "non-ascii", "nul-mixed", "nul-ascii"],
)
def test_word_spans_are_the_words_of_the_normalised_passages(texts):
    assert _spans_as_words(texts) == [words(normalize(t)) for t in texts]


def test_word_spans_agree_with_words_on_random_batches():
    rng = random.Random(11)
    alphabet = "abcXYZ019 '’‘_-.,;:!?\"()\t\n\x00\u00a0\u2009\u3000\u200béßüİΣ東京…ﬁ\u0301😀"
    for trial in range(2000):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(1, 6))
        ]
        if trial % 2:  # the ASCII byte path
            texts = [t.encode("ascii", "ignore").decode() for t in texts]
        assert _spans_as_words(texts) == [words(normalize(t)) for t in texts], texts


def test_fingerprints_of_a_batch_equal_one_at_a_time():
    texts = [
        "  Leading and trailing spaces  ",
        "",
        "Zürich – “quoted” text 東京…",
        "e\u0301 composed across NFC",  # a combining accent right after the separator
        "\u0301starts with a combining mark",
        "zero\u200bwidth and\u00a0no-break",
        "Straße STRASSE",
        "tabs\tand\nnewlines",
    ]
    assert fingerprints(texts) == [fingerprint(t) for t in texts]
    with_separator = ["a\x00b", "c"]  # a text holding the separator takes the slow path
    assert fingerprints(with_separator) == [fingerprint(t) for t in with_separator]
    assert fingerprints([]) == []
