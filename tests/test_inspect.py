"""`cleaner inspect` on a corpus the flow made of the bundled examples: the exact output for a
planted teaser (exact duplicates of a kept article) and a planted edited copy (near duplicate)."""

from __future__ import annotations

import io

import pytest

from cleaner import explain
from cleaner_flows.cli import main
from tests.conftest import EXAMPLES
from tests.example_corpus import example_corpus

pytestmark = pytest.mark.prefect

TEASER = "8149db5ba24b05df"  # newsdrift/teasers/hallvik-fish-market.html
FISH_MARKET = "52195f3493028185"  # harbour-herald/2026/03/fish-market-reopens.html, which it repeats
SKARVIK = "78d34ac2cee8057e"  # valley-wire/feed.jsonl#2, kept
SKARVIK_COPY = "8e0d781fe4e2f64b"  # ridgeback-times/2026/skarvik-air-tollan.txt, its edited copy

FISH = (
    "Hallvik's covered fish market reopened on Saturday after a two-year rebuild, with 34 traders back "
    "under a restored iron roof and a queue of shoppers stretching along the quay before the doors "
    "opened at 7 a.m."
)
HALL = (
    "The market hall, built in 1902, was closed in early 2024 after engineers found that corrosion had "
    "weakened the roof trusses. The restoration cost 96 million crowns, shared between the city and a "
    "national heritage fund."
)
TEASER_OUTPUT = """\
document 8149db5ba24b05df: dropped as a duplicate (contained, similarity 1.00) of 52195f3493028185
source: {EXAMPLES}/pages/newsdrift/teasers/hallvik-fish-market.html
title:  Hallvik fish market reopens after two-year rebuild
run:    {run}
8 passages: 0 kept, 6 boilerplate, 2 exact_duplicate, 0 near_duplicate, 0 rewrite
(a dropped duplicate's passages are not in documents/, whatever their status)

   0 - boilerplate: breadcrumb      Home » Local
   1 - boilerplate: headline        Hallvik fish market reopens after two-year rebuild
   2 - boilerplate: timestamp       Published: March 14, 2026 12:30 CET
   3 = exact_duplicate              {FISH}
       repeats 52195f3493028185 #4  {FISH}
   4 = exact_duplicate              {HALL}
       repeats 52195f3493028185 #5  {HALL}
   5 - boilerplate: read_more       READ MORE: Hallvik fish market reopens after two-year rebuild
   6 - boilerplate: read_more       Continue reading
   7 - boilerplate: share_prompt    Facebook Twitter WhatsApp Email
"""

SKARVIK_OUTPUT = """\
cluster 78d34ac2cee8057e: 2 documents, the kept one and 1 duplicate
words: [-only in the kept document-] {+only in this one+}

78d34ac2cee8057e                                 | 8e0d781fe4e2f64b
kept                                             | near, similarity 0.78
valley-wire/feed.jsonl#2                         | ridgeback-times/2026/skarvik-air-tollan.txt
------------------------------------------------ | ------------------------------------------------
Regional carrier Skarvik Air will restore        | {+OSTERLUND, March 9 (VWS) -+} Regional carrier
year-round flights between Osterlund and the     | Skarvik Air will restore year-round flights
island of Tollan from May, ending a three-year   | between Osterlund and the island of Tollan from
gap in winter service that islanders say has cut | May, ending a three-year gap in winter service
them off from hospitals, universities and family | that islanders say has cut them off from
on the mainland.                                 | hospitals, [-universities-] {+colleges+} and
                                                 | family on the mainland.
                                                 |
The airline said on Monday it would operate a    | The airline said on Monday it would [-operate-]
72-seat turboprop on the route four times a week | {+fly+} a 72-seat turboprop on the route four
between October and April, rising to two daily   | times a week between October and April, rising
return flights in the summer. The flight time is | to two daily return flights in [-the-] summer.
about 55 minutes, compared with a ferry crossing | The flight [-time is-] {+takes+} about 55
of more than five hours.                         | minutes, compared with a ferry crossing of more
                                                 | than five hours.
                                                 |
The return of winter flights follows a public    | The return of winter flights follows a public
service contract worth 64 million crowns over    | service contract worth 64 million crowns over
four years, signed last week by the regional     | four years, signed last week by the regional
transport ministry. Skarvik Air was the only     | transport ministry. Skarvik Air was the [-only-]
bidder after two larger carriers withdrew from   | {+sole+} bidder after two [-larger-] {+bigger+}
the tender in January.                           | carriers [-withdrew from-] {+pulled out of+} the
                                                 | tender in January.
                                                 |
"For the first time since 2023, a student on     | [-"For-] {+“For+} the first time since 2023, a
Tollan can plan to come home for Christmas       | student on Tollan can plan to come home for
without gambling on the weather," said Annika    | Christmas without gambling on the [-weather,"-]
Rauhala, who chairs the island council. Around   | {+weather,”+} said Annika Rauhala, who chairs
4,300 people live on Tollan year-round.          | the island council. [-Around-] {+About+} 4,300
                                                 | people live on Tollan year-round.
                                                 |
Skarvik Air chief executive Mikkel Oyen said     | Skarvik Air chief executive Mikkel Oyen said
fares would be capped at 890 crowns one way for  | fares would be capped at 890 crowns one way for
island residents, while visitors would pay       | island residents, while visitors would pay
market rates. He said the airline expected to    | market [-rates.-] {+prices.+} He said the
carry around 38,000 passengers a year on the     | airline expected to carry [-around-] {+some+}
route.                                           | 38,000 passengers a year on the route.
                                                 |
The island's runway, which was shortened in 2022 |
after subsidence damaged its northern end, is    |
due to be resurfaced in April. The regional      |
airport company said the work would be finished  |
in time for the first scheduled departure on May |
4.                                               |
                                                 |
Opposition politicians in the regional assembly  | Opposition politicians in the regional assembly
questioned the cost of the contract, noting that | questioned the cost of the contract, noting that
the subsidy works out at roughly 420 crowns per  | the subsidy works out at roughly 420 crowns per
passenger. Transport minister Eirik Salvesen     | passenger. Transport minister Eirik Salvesen
said the figure was "modest compared with the    | said the figure was [-"modest-] {+“modest+}
cost of isolation".                              | compared with the cost of [-isolation".-]
                                                 | {+isolation”.+}
"""


@pytest.fixture(scope="module")
def corpus(prefect_server, tmp_path_factory):
    return example_corpus(tmp_path_factory)


def _run_id(corpus) -> str:
    return next((corpus / "runs").glob("*.json")).stem


def test_doc_marks_each_removed_line_and_shows_the_passage_each_duplicate_repeats(corpus, capsys):
    assert main(["inspect", str(corpus), "--doc", TEASER, "--no-color"]) == 0
    expected = TEASER_OUTPUT.format(EXAMPLES=EXAMPLES, FISH=FISH, HALL=HALL, run=_run_id(corpus))
    assert capsys.readouterr().out == expected


def test_doc_of_a_kept_document_shows_near_duplicates_with_their_similarity(corpus):
    out = io.StringIO()
    explain.show_document(corpus, SKARVIK_COPY, stream=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"document {SKARVIK_COPY}: dropped as a duplicate (near, similarity 0.78) of {SKARVIK}"
    near = [i for i, line in enumerate(lines) if " ~ near_duplicate 0." in line]
    assert near, lines
    for i in near:  # each is followed by the kept passage it repeats
        assert lines[i + 1].lstrip().startswith(f"repeats {SKARVIK} #")
    kept = io.StringIO()
    explain.show_document(corpus, SKARVIK, stream=kept)
    assert kept.getvalue().splitlines()[0] == f"document {SKARVIK}: kept"
    assert "repeats" not in kept.getvalue()  # the original repeats nothing


def test_cluster_side_by_side_with_word_differences(corpus, capsys):
    assert main(["inspect", str(corpus), "--cluster", SKARVIK, "--width", "100", "--no-color"]) == 0
    assert capsys.readouterr().out == SKARVIK_OUTPUT


def test_a_duplicates_id_names_its_cluster(corpus, capsys):
    assert main(["inspect", str(corpus), "--cluster", SKARVIK_COPY, "--width", "100", "--no-color"]) == 0
    first, *rest = capsys.readouterr().out.splitlines(keepends=True)
    assert first == f"{SKARVIK_COPY} is a duplicate in the cluster of {SKARVIK}\n"
    assert "".join(rest) == SKARVIK_OUTPUT


def test_colours_replace_the_markers_on_a_terminal(corpus):
    out = io.StringIO()
    explain.show_cluster(corpus, SKARVIK, colour=True, width=100, stream=out)
    text = out.getvalue()
    assert "[-" not in text and "{+" not in text
    assert "\x1b[9;31muniversities\x1b[0m" in text and "\x1b[1;32mcolleges\x1b[0m" in text
    # colour codes take no columns: every row still splits at the same place
    plain = [line for line in text.splitlines() if " | " in line]
    assert plain and all(
        len(_strip(line).split(" | ")[0]) == 48 for line in plain if _strip(line)[:48].strip()
    )


def _strip(line: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", line)


@pytest.mark.parametrize(
    "name",
    [
        f"{EXAMPLES}/pages/valley-wire/feed.jsonl#2",  # its source, as the report lists it
        "valley-wire/feed.jsonl#2",  # the end of it, as --cluster shows it
        "https://www.valley-wire.example/wire/2026/03/09/skarvik-air-tollan-winter-flights",  # its url
    ],
)
def test_a_source_or_url_stands_for_the_doc_id(corpus, name, capsys):
    assert main(["inspect", str(corpus), "--doc", name, "--no-color"]) == 0
    by_name = capsys.readouterr().out
    assert main(["inspect", str(corpus), "--doc", SKARVIK, "--no-color"]) == 0
    assert by_name == capsys.readouterr().out and by_name.startswith(f"document {SKARVIK}: kept")
    assert main(["inspect", str(corpus), "--cluster", name, "--width", "100", "--no-color"]) == 0
    assert capsys.readouterr().out == SKARVIK_OUTPUT


def test_a_name_several_documents_share_lists_their_ids(corpus, capsys):
    # meridian-post/feed.jsonl#2 and valley-wire/feed.jsonl#2 both end so
    assert main(["inspect", str(corpus), "--doc", "feed.jsonl#2"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("cleaner: error: 'feed.jsonl#2' names 2 documents of ")
    assert SKARVIK in err[0] and err[0].endswith("give one doc_id")


@pytest.mark.parametrize("option", ["--doc", "--cluster"])
@pytest.mark.parametrize("name", ["0123456789abcdef", ""])  # "" was taken for no --doc at all
def test_an_unknown_id_is_a_one_line_error_that_says_where_ids_are(corpus, option, name, capsys):
    assert main(["inspect", str(corpus), option, name]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert len(err) == 1 and err[0].startswith("cleaner: error: no ")
    assert f"'{name}'" in err[0] and "doc_id column of documents/ and duplicates/" in err[0]


def test_a_folder_that_is_no_corpus_is_an_error(tmp_path, capsys):
    assert main(["inspect", str(tmp_path), "--doc", TEASER]) == 2
    assert "holds no cleaner corpus" in capsys.readouterr().err


def test_word_diff_marks_deleted_and_inserted_words():
    tokens = explain.word_diff("the cat sat on the mat".split(), "the dog sat on mat today".split())
    assert tokens == [
        ("the", None),
        ("cat", "del"),
        ("dog", "ins"),
        ("sat", None),
        ("on", None),
        ("the", "del"),
        ("mat", None),
        ("today", "ins"),
    ]
    lines = explain._wrap(tokens, 16)
    assert [" ".join(w for w, _ in line) for line in lines] == [
        "the [-cat-]",
        "{+dog+} sat on",
        "[-the-] mat",
        "{+today+}",
    ]


def test_columns_are_measured_in_terminal_cells_so_wide_characters_keep_them_aligned():
    from rich.cells import cell_len

    kept = [(w, None) for w in "東京の魚市場 reopened on Saturday 🐟🐟 after a rebuild".split()]
    copy = explain.word_diff(
        [w for w, _ in kept], "東京の魚市場 reopened on Sunday 🐟🐟 after a rebuild".split()
    )
    cells = [explain._wrap(kept, 10), explain._wrap(copy, 10)]
    # a CJK character and an emoji take two cells: the 12-cell word is cut after 10 cells
    assert [" ".join(w for w, _ in line) for line in cells[0]][:2] == ["東京の魚市", "場"]
    assert all(sum(cell_len(w) for w, _ in line) + len(line) - 1 <= 10 for cell in cells for line in cell)
    lines: list[str] = []
    explain._print_row(cells, 10, explain._painter(False), lines.append)
    assert len(lines) > 3 and all(cell_len(line.split(" | ")[0]) == 10 for line in lines)


def test_a_rejected_record_named_by_its_source_is_shown_as_rejected(tmp_path, capsys):
    """`--doc day5/feed.jsonl#2` (a record reusing an id) showed the document of that id as
    "kept", as if it were the record asked about; a page with no main text was "no document
    'c062...'", an id never typed; a file of a type not read, "no document" either."""
    import json

    import cleaner

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    story = "The ferry to the outer islands will run twice a day from Monday, the county said."
    (inbox / "feed.jsonl").write_text(
        json.dumps({"id": "a-1", "text": story})
        + "\n"
        + json.dumps({"id": "a-1", "text": story + " Again."})
        + "\n"
    )
    (inbox / "scripts.html").write_text("<html><head><script>var x = 1;</script></head><body></body></html>")
    (inbox / "notes.pdf").write_bytes(b"%PDF-1.4 not read")
    cleaner.run([inbox], out, executor=cleaner.InlineExecutor())
    kept = explain.Corpus(out).resolve("feed.jsonl#1")
    for name, head, why in [
        ("feed.jsonl#2", "rejected (duplicate_id)", f"its doc_id {kept} is the document from "),
        ("inbox/scripts.html", "rejected (no_main_text)", "why:    "),
        ("notes.pdf", "rejected (unsupported_type)", "why:    "),
    ]:
        assert main(["inspect", str(out), "--doc", name, "--no-color"]) == 0
        shown = capsys.readouterr().out.splitlines()
        assert shown[0].startswith(f"record {inbox.as_posix()}/{name.removeprefix('inbox/')}: {head} in run ")
        assert any(line.startswith(why) for line in shown[1:]), shown
