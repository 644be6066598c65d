"""Text primitives shared by the stages: the normalised form used for comparison, word
tokens, and splitting a body into paragraphs.

Comparison uses a normalised form; what is written is always the original characters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

# Typographic variants that copies of one text disagree on: curly vs straight quotes, the
# dash a CMS picked, a single-character ellipsis.
_PUNCT_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u200b": "",
        "\ufeff": "",
        # Invisible in any text: the soft hyphen (`&shy;`, which server-side hyphenation puts
        # inside long words, splitting them for `words`) and the word joiner. Zero-width
        # (non-)joiners are not: Persian and Indic scripts spell with them.
        "\u00ad": "",
        "\u2060": "",
    }
)

# The folds one by one: `str.replace` of the few present costs a tenth of `str.translate`,
# which looks every character of a non-ASCII text up in the table (10.4 -> 0.9 µs on a real
# page's line of 275 characters). A fold's result holds no character folded, so the order
# of the replacements does not matter.
_PUNCT_FOLDS = tuple((chr(c), folded) for c, folded in _PUNCT_FOLD.items())

# CJK scripts are written without spaces: each character is a token of its own, so shingles
# and word counts mean something for Japanese or Chinese text too.
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af"  # hangul syllables
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*")
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*", re.ASCII)
# Every ASCII character but letters, digits and the apostrophe separates words: a table for
# `bytes.translate`, which costs less than `str.translate` (2.8 -> 2.2 µs with the split).
_ASCII_SEPARATORS = bytes(
    c if c < 128 and (chr(c).isalnum() or c == ord("'")) else ord(" ") for c in range(256)
)
# Byte classes for `word_spans`: ASCII letters and digits are word bytes, and so is every byte
# of a non-ASCII character (such text reaches them already split into words by the pattern);
# an apostrophe joins the word bytes on both sides of it; every other byte separates words.
_WORD_BYTE, _APOSTROPHE = 1, 2
_BYTE_CLASSES = bytes(
    _WORD_BYTE if c >= 128 or chr(c).isalnum() else _APOSTROPHE if c == ord("'") else 0 for c in range(256)
)


def normalize(text: str) -> str:
    """The form two copies of a passage agree on: NFC, case-folded, typographic quotes,
    dashes and spaces folded, whitespace collapsed."""
    return collapse_spaces(_fold(text))


def _fold(text: str) -> str:
    """What `normalize` does character by character (all it does to the words)."""
    text = unicodedata.normalize("NFC", text)
    for character, folded in _PUNCT_FOLDS:
        if character in text:
            text = text.replace(character, folded)
    return text.casefold()


def fingerprint(text: str) -> int:
    """64-bit hash of the normalised form, for exact-duplicate detection."""
    digest = hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fingerprints(texts: Sequence[str]) -> list[int]:
    """`fingerprint` of every text of a batch, normalising the batch in one call: the
    separator is neither space nor word, and the folds act per character, so each part
    is its text's normal form once the spaces next to a separator are stripped."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:  # a text holds the separator itself
        return [fingerprint(t) for t in texts]
    parts = normalize(joined).split("\x00") if texts else []
    return [
        int.from_bytes(hashlib.blake2b(part.strip(" ").encode("utf-8"), digest_size=8).digest(), "big")
        for part in parts
    ]


def words(text: str) -> list[str]:
    """Word tokens (letters and digits, joined across apostrophes; a CJK character is a word).

    ASCII text, most of it, takes a fast path that gives the same tokens as the pattern:
    every other character separates words, and only a chunk holding an apostrophe needs
    the pattern."""
    if not text.isascii():
        return _TOKEN.findall(text)
    chunks = text.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    if "'" not in text:
        return chunks
    tokens: list[str] = []
    for chunk in chunks:
        if "'" in chunk:
            tokens.extend(_ASCII_TOKEN.findall(chunk))
        else:
            tokens.append(chunk)
    return tokens


def word_spans(texts: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """The words of each normalised passage (`words(normalize(text))`) for a whole batch,
    without a Python object per word: one UTF-8 buffer, the start and end offsets of every
    word in it, and the number of words of each passage.

    The buffer ends in 8 zero bytes, so a fixed-width read at any word stays inside it.
    ASCII passages, most of them, are tokenised in bulk on their bytes (normalising ASCII is
    lower-casing it, as far as words go); the others are normalised in one call for the batch
    and, if still not ASCII, split by `words` and written as their words joined by spaces."""
    joined = "\x00".join(texts)
    if joined.isascii():
        data = joined.encode("ascii").lower()
        sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    else:
        # NFC, case folding and the character folds act per character, and the separator is
        # neither space nor word: one call serves the batch unless a passage holds it.
        folded = _fold(joined)
        parts = folded.split("\x00") if folded.count("\x00") == len(texts) - 1 else list(map(_fold, texts))
        encoded = [p.encode("ascii") if p.isascii() else " ".join(words(p)).encode("utf-8") for p in parts]
        data = b"\x00".join(encoded)
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    data = b"\x00" + data + bytes(8)
    begins = np.concatenate(([1], np.cumsum(sizes + 1) + 1))  # passage i: data[begins[i]:begins[i + 1] - 1]
    classes = np.frombuffer(data.translate(_BYTE_CLASSES), dtype=np.uint8)
    word = classes == _WORD_BYTE
    if b"'" in data:
        word[1:-1] |= (classes[1:-1] == _APOSTROPHE) & word[:-2] & word[2:]
    # The buffer starts and ends with a separator, so word edges alternate start, end.
    edges = np.flatnonzero(word[1:] != word[:-1]) + 1
    starts, ends = edges[0::2], edges[1::2]
    return data, starts, ends, np.diff(np.searchsorted(starts, begins))


# The whitespace of ASCII but the space: what `collapse_spaces` looks for before it splits.
_ASCII_OTHER_SPACES = "".join(chr(c) for c in range(128) if chr(c).isspace() and c != ord(" "))


def collapse_spaces(text: str) -> str:
    """Runs of whitespace as one space, none at either end. An ASCII text whose only
    whitespace is single spaces, as a paragraph cleaned once is, is only stripped: looking
    for the others takes a tenth of splitting it into words and joining them again."""
    # str.split() and the regex \s agree on every code point (checked over all of Unicode).
    if text.isascii() and "  " not in text and not any(c in text for c in _ASCII_OTHER_SPACES):
        return text.strip(" ")
    return " ".join(text.split())


def split_paragraphs(body: str) -> list[str]:
    """Split extracted text into paragraphs.

    Scraped and extracted text puts one paragraph per line, sometimes with blank lines
    between them, so each non-empty line is a paragraph. The exception is hard-wrapped
    text (a paragraph broken into lines of similar width): such a block, lines between
    blank ones, is joined back.

    A line ends at every line break Unicode knows (`str.splitlines`): besides "\r" and
    "\n", the line separator, NEL, vertical tab, form feed, and the file, group and record
    separators. Text exported from word processors and escaped in JavaScript holds them; read
    as spaces, five paragraphs became one passage. The paragraph separator ends a block.
    """
    if "\u2029" in body:
        body = body.replace("\u2029", "\n\n")
    lines = body.splitlines()
    if len(lines) == 1:  # one line: a feed's one-paragraph record
        line = collapse_spaces(lines[0])
        return [line] if line else []
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:  # a blank line closes the last block
        line = collapse_spaces(line)
        if line:
            block.append(line)
            continue
        if _is_hard_wrapped(block):
            paragraphs.append(" ".join(block))
        else:
            paragraphs.extend(block)
        block = []
    return paragraphs


def _is_hard_wrapped(lines: list[str]) -> bool:
    if len(lines) < 3:
        return False
    body = lines[:-1]
    widths = [len(line) for line in body]
    if min(widths) < 40 or max(widths) > 100 or max(widths) - min(widths) > 30:
        return False
    open_ended = sum(1 for line in body if not line.endswith((".", "!", "?", ":", '"', "”")))
    return open_ended * 2 >= len(body)
