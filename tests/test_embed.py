"""Passage embeddings: WordLlama's vectors, read from its wheel offline, as exact int8 codes."""

import subprocess
import sys

import numpy as np
import pytest

from benchmarks.rewrites.corpus import load_stories
from cleaner.dedup import embed


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    stories = load_stories()
    return [p for s in stories for p in s["original"]["paragraphs"] + s["rewrite_a"]["paragraphs"]]


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter with no network and an empty home folder."""
    guard = (
        "import socket\n"
        "def _refuse(*a, **k): raise OSError('network use in a test that must not download')\n"
        "socket.socket.connect = _refuse\n"
        "socket.create_connection = _refuse\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", guard + code], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_model_loads_from_the_wheel_without_network_or_cache_and_leaves_logging_alone(tmp_path):
    result = _run(
        "import logging\n"
        "from cleaner.dedup import embed\n"
        "v = embed.embed(['Vellmont council approved the tram line on Tuesday night.'])\n"
        "print(v.shape, round(float((v * v).sum()), 4), logging.root.handlers, logging.root.level)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["(1,", "256)", "1.0", "[]", "30"]
    assert list(tmp_path.iterdir()) == []  # no cache folder, nothing downloaded


def test_vectors_are_wordllamas_own(paragraphs, tmp_path):
    """The same numbers as `WordLlama.embed(norm=True)`, run in another process: importing
    wordllama configures the root logger, which this test process must not get."""
    code = (
        "import json, sys, wordllama\n"
        "from pathlib import Path\n"
        "wl = wordllama.WordLlama.load(config='l2_supercat', dim=256, disable_download=True,\n"
        "                              cache_dir=Path(wordllama.__file__).parent)\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps(wl.embed(texts, norm=True).tolist()))\n"
    )
    import json

    result = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(paragraphs[:40]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    theirs = np.array(json.loads(result.stdout.splitlines()[-1]), dtype=np.float32)
    ours = embed.embed(paragraphs[:40])
    assert np.abs(ours - theirs).max() < 1e-5


def test_a_vector_does_not_depend_on_the_rest_of_its_batch(paragraphs):
    alone = np.stack([embed.codes(embed.embed([p]))[0] for p in paragraphs[:10]])
    together = embed.codes(embed.embed(paragraphs[:10] + paragraphs[::-1]))[:10]
    assert np.array_equal(alone, together)


def test_codes_keep_cosines_within_a_few_thousandths(paragraphs):
    vectors = embed.embed(paragraphs)
    exact = vectors @ vectors.T
    approx = embed.cosines(embed.codes(vectors), embed.codes(vectors))
    assert np.abs(exact - approx).max() < 0.005
    assert np.allclose(np.diag(approx), 1.0)


def test_cosines_of_codes_are_exact_whatever_the_batch(paragraphs):
    codes = embed.codes(embed.embed(paragraphs))
    whole = embed.cosines(codes, codes)
    for i, j in [(0, 1), (5, 17), (30, 2)]:
        assert embed.cosines(codes[[i]], codes[[j]])[0, 0] == whole[i, j]
        assert embed.cosines(codes[[j, i, 3]], codes[[i]])[1, 0] == whole[i, i]


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("He said “we will fight on” and left.", "He said   and left."),
        ('He called it "a blank cheque" on Tuesday.', "He called it   on Tuesday."),
        ("«Bonjour», dit-il.", " , dit-il."),
        ("„Guten Tag“, sagte er.", " , sagte er."),
        ("A quote runs “into the next paragraph", "A quote runs  "),
        ("Japan’s plan is ‘fine’, it’s said.", "Japan’s plan is ‘fine’, it’s said."),  # apostrophes stay
    ],
)
def test_quoted_spans_are_taken_out(text, left):
    assert embed.unquoted(text) == left


def test_a_passage_that_is_mostly_quote_gets_no_vector():
    texts = [
        "“This is the most important transport decision this city has taken in fifty years,” said the mayor.",
        "The council will publish a timetable for the roadworks on Lindqvist Avenue before the summer.",
        "",
    ]
    has, codes = embed.passage_codes(texts, min_words=8)
    assert has.tolist() == [False, True, False]
    assert not codes[0].any() and codes[1].any()


def test_a_document_with_fewer_passages_than_an_alignment_needs_gets_no_vectors():
    """A rewrite aligns at least `min_aligned` pairs: a one-paragraph record can be neither
    a rewrite nor a source, so embedding it is wasted (and a million of them, all close to
    one another, once made the stage's candidates grow past 12 GB)."""
    long = "The council will publish a timetable for the roadworks on Lindqvist Avenue before summer."
    texts = [long, long, "Too short.", long, long, long, long]
    docs = [7, 7, 7, 3, 3, 3, 9]  # document 7 has two passages with a vector, 3 has three, 9 one
    has, codes = embed.passage_codes(texts, min_words=8, docs=docs, min_per_doc=3)
    assert has.tolist() == [False, False, False, True, True, True, False]
    assert not codes[~has].any() and codes[has].any(axis=1).all()
    everyone, _ = embed.passage_codes(texts, min_words=8, docs=docs, min_per_doc=1)
    assert everyone.tolist() == [True, True, False, True, True, True, True]
