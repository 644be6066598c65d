import unicodedata
from datetime import UTC, datetime

from cleaner.clean.learned import apply_learned, learn_boilerplate
from cleaner.clean.lines import clean_document, no_content_rejects
from cleaner.config import CleanConfig, DedupConfig
from cleaner.dedup.sketch import Sketch
from cleaner.document import Document, Status

P1 = "Dock workers at the port of Hallvik voted on Tuesday to end a twelve-day strike after the harbour authority agreed to a new shift schedule."
P2 = "The union said 412 of its 530 members took part in the ballot, and that 87 percent of them backed the offer made on Monday night."
P3 = "Ferries to the outer islands are expected to run to the normal timetable again from Thursday morning, the operator said."
HEADLINE = "Hallvik dock strike ends after twelve days"


DEFAULT = CleanConfig()


def _clean(body, config=DEFAULT, **meta):
    doc = Document(doc_id="d", source="s.txt", order=(0, 0), kind="text", body=body, **meta)
    return clean_document(doc, config)


def _rules(doc):
    return [(p.text, p.rule) for p in doc.passages if p.status is Status.BOILERPLATE]


def _kept(doc):
    return [p.text for p in doc.passages if p.status is Status.KEPT]


def test_masthead_and_repeated_headline():
    body = "\n\n".join(
        [
            "The Quay Observer",
            "Straight talk from the waterfront, every single day.",
            HEADLINE,
            HEADLINE,
            P1,
            P2,
            HEADLINE,
            P3,
            "READ MORE",
            "Leave a Reply",
        ]
    )
    doc = _clean(body)
    assert doc.title == HEADLINE
    assert _rules(doc) == [
        ("The Quay Observer", "site_name"),
        ("Straight talk from the waterfront, every single day.", "tagline"),
        (HEADLINE, "headline"),
        (HEADLINE, "headline"),
        (HEADLINE, "headline"),
        ("READ MORE", "read_more"),
        ("Leave a Reply", "comment_prompt"),
    ]
    assert _kept(doc) == [P1, P2, P3]
    assert doc.body is None and [p.position for p in doc.passages] == list(range(10))


def test_breadcrumb_without_separators_names_the_title_and_sections_and_related_block():
    body = "\n".join(
        [
            f"Home Harbour Affairs {HEADLINE}",
            "Harbour Affairs",
            "",
            HEADLINE,
            "",
            P1,
            "",
            P2,
            "",
            "Related Articles",
            "",
            "Ferry timetable cut as strike bites",
            "Harbour Affairs",
            "",
            "Passengers faced long queues at the Hallvik terminal as the...",
            "",
            "Port authority names a new chief executive",
            "The board picked a former shipping...",
        ]
    )
    doc = _clean(body)
    assert doc.title == HEADLINE
    rules = dict(_rules(doc))
    assert rules[f"Home Harbour Affairs {HEADLINE}"] == "breadcrumb"
    assert rules["Harbour Affairs"] == "section_label"
    assert rules[HEADLINE] == "headline"
    assert rules["Related Articles"] == rules["Ferry timetable cut as strike bites"] == "related"
    assert rules["The board picked a former shipping..."] == "related"
    assert _kept(doc) == [P1, P2]


def test_related_block_stops_at_the_next_paragraph():
    doc = _clean(
        "\n".join(
            [
                P1,
                "You may also like",
                "Port authority names a new chief",
                "Ferry timetable cut...",
                P2,
                "Background",
                P3,
            ]
        )
    )
    assert _kept(doc) == [P1, P2, "Background", P3]


def test_header_heading_after_breadcrumb_and_before_dateline_gives_the_title():
    body = "\n\n".join(
        [
            "The Quay Observer",
            "Home › Local › Port",
            HEADLINE,
            "Published: March 4, 2026 09:30 CET",
            "By Mara Quint",
            P1,
            P2,
        ]
    )
    doc = _clean(body)
    assert doc.title == HEADLINE
    assert dict(_rules(doc)) == {
        "The Quay Observer": "site_name",
        "Home › Local › Port": "breadcrumb",
        HEADLINE: "headline",
        "Published: March 4, 2026 09:30 CET": "timestamp",
        "By Mara Quint": "byline",
    }
    assert doc.published == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
    assert doc.author == "Mara Quint"


def test_metadata_from_the_record_is_not_overwritten():
    published = datetime(2026, 1, 1, tzinfo=UTC)
    doc = _clean(
        "\n".join([P1, "Published: March 4, 2026 09:30 CET", "By Mara Quint"]),
        published=published,
        author="Ilse Borken",
    )
    assert (doc.published, doc.author) == (published, "Ilse Borken")


def test_a_timestamp_line_outside_what_utc_holds_is_boilerplate_without_a_date():
    # dateutil reads an offset of 24 hours, and the year 1 at +05:30, both beyond UTC's reach:
    # each raised out of the cleaning of its page and stopped the batch.
    for line in ("Published 2024-05-06 10:00 GMT+24", "Posted 0001-01-01 2024 00:00 IST"):
        doc = _clean("\n".join([P1, line, P2]))
        assert _rules(doc) == [(line, "timestamp")] and doc.published is None
        assert _kept(doc) == [P1, P2]


def test_no_title_without_evidence():
    doc = _clean("\n".join([P1, "Why the strike ended now", P2, "What happens next for the ferries", P3]))
    assert doc.title is None
    assert len(_kept(doc)) == 5


def test_known_site_name_is_dropped_anywhere():
    doc = _clean(
        "\n".join([P1, "The Quay Observer", P2, "quayobserver"]),
        site_name="The Quay Observer",
        site="quayobserver.example",
    )
    assert _rules(doc) == [("The Quay Observer", "site_name"), ("quayobserver", "site_name")]


def test_no_masthead_above_a_paragraph():
    # The line equal to the title comes after a paragraph: the article's own heading, kept.
    doc = _clean("\n".join(["Harbour notes", P1, HEADLINE, P2]), title=HEADLINE)
    assert _kept(doc) == ["Harbour notes", P1, HEADLINE, P2]


def test_a_headline_shown_at_the_top_goes_with_its_repeats_further_down():
    doc = _clean("\n".join([HEADLINE, P1, HEADLINE, P2]), title=HEADLINE)
    assert _kept(doc) == [P1, P2]
    assert _rules(doc) == [(HEADLINE, "headline"), (HEADLINE, "headline")]


def test_headline_with_site_suffix():
    doc = _clean("\n".join([f"{HEADLINE} | The Quay Observer", P1]), title=HEADLINE)
    assert _rules(doc) == [(f"{HEADLINE} | The Quay Observer", "headline")]


def test_disabled_context_rules():
    body = "\n".join(["Related Articles", "Ferry timetable cut as strike bites", P1, "ss"])
    doc = _clean(body, CleanConfig(disabled_rules=("related", "debris")))
    assert _kept(doc) == ["Related Articles", "Ferry timetable cut as strike bites", P1, "ss"]


def test_every_line_is_accounted_for_once():
    body = "\n\n".join(["The Quay Observer", HEADLINE, HEADLINE, P1, "ss", "Share this article", P2])
    doc = _clean(body)
    assert [p.text for p in doc.passages] == [
        "The Quay Observer",
        HEADLINE,
        HEADLINE,
        P1,
        "ss",
        "Share this article",
        P2,
    ]
    assert all((p.status is Status.KEPT) == (p.rule is None) for p in doc.passages)


def _site_doc(i, lines, site="quay.example"):
    doc = Document(
        doc_id=f"d{i}", source=f"s{i}", order=(i, 0), kind="text", body="\n".join(lines), site=site
    )
    return clean_document(doc, CleanConfig())


ARTICLES = [
    [
        f"Article {n} opens with its own long first paragraph about topic number {n} in the town."
        for n in range(k, k + 3)
    ]
    for k in (0, 10, 20, 30)
]
CHROME_A = "Tips for the desk? Write to quay-desk@quay.example any time"
CHROME_B = "The Quay Observer is owned by its 9,000 readers"


def _sketch(docs):
    return Sketch.of(docs, DedupConfig())


def test_learned_boilerplate_needs_n_different_articles_of_one_site():
    docs = [_site_doc(i, [CHROME_A, *ARTICLES[i], CHROME_B]) for i in range(3)]
    docs.append(_site_doc(3, [CHROME_A, *ARTICLES[3]], site="other.example"))
    sketch = _sketch(docs)
    learned = learn_boilerplate(sketch, CleanConfig())
    assert set(learned) == {"quay.example"} and len(learned["quay.example"]) == 2
    assert apply_learned(sketch, learned) == 6
    sketch.apply(docs)
    assert [p.text for p in docs[0].passages if p.rule == "learned"] == [CHROME_A, CHROME_B]
    assert all(p.rule is None for p in docs[3].passages)  # another site keeps its line


def test_pages_without_an_address_learn_by_the_name_they_give_their_site():
    docs = []
    for i in range(3):
        doc = Document(
            doc_id=f"d{i}",
            source=f"s{i}",
            order=(i, 0),
            kind="text",
            body="\n".join([*ARTICLES[i], CHROME_B]),
        )
        doc.site_name = "The Quay Observer"
        docs.append(clean_document(doc, CleanConfig()))
    sketch = _sketch(docs)
    assert apply_learned(sketch, learn_boilerplate(sketch, CleanConfig())) == 3
    assert all(doc.site is None for doc in docs)


def test_copies_of_one_article_do_not_teach_boilerplate():
    docs = [_site_doc(i, [CHROME_A, *ARTICLES[0]]) for i in range(4)]
    docs.append(_site_doc(9, [CHROME_A, *ARTICLES[1]]))
    learned = learn_boilerplate(_sketch(docs), CleanConfig())
    assert learned == {}  # five pages, but only two articles


def test_learned_respects_threshold_and_needs_a_site():
    two = [_site_doc(i, [CHROME_A, *ARTICLES[i]]) for i in range(2)]
    assert learn_boilerplate(_sketch(two), CleanConfig()) == {}
    nosite = [_site_doc(i, [CHROME_A, *ARTICLES[i]], site=None) for i in range(4)]
    assert learn_boilerplate(_sketch(nosite), CleanConfig()) == {}
    three = [_site_doc(i, [CHROME_A, *ARTICLES[i]]) for i in range(3)]
    assert learn_boilerplate(_sketch(three), CleanConfig(learned_min_docs=4)) == {}


def test_learned_boilerplate_is_off_when_disabled_rules_names_it():
    docs = [_site_doc(i, [CHROME_A, *ARTICLES[i], CHROME_B]) for i in range(3)]
    assert learn_boilerplate(_sketch(docs), CleanConfig(disabled_rules=("learned",))) == {}
    assert learn_boilerplate(_sketch(docs), CleanConfig(disabled_rules=("byline",))) != {}


def test_no_content_rejects():
    empty = _clean("\n".join(["Related Articles", "Ferry timetable cut as strike bites", "READ MORE"]))
    full = _clean(P1)
    rejects = no_content_rejects([empty, full])
    assert [(r.source, r.reason, r.doc_id) for r in rejects] == [("s.txt", "no_content", empty.doc_id)]
    assert rejects[0].detail == "all 3 lines are boilerplate (read_more, related)"


def test_a_timestamp_line_with_a_29_digit_number_does_not_stop_cleaning():
    # Found by benchmarks/fuzz_clean.py: dateutil raised decimal.InvalidOperation (not a
    # ValueError) on the seconds of this timestamp, and the whole batch failed with it.
    doc = _clean(f"{P1}\n2026-03-24T2:{'5' * 54}00Z\nRead more\n")
    assert _rules(doc) == [(f"2026-03-24T2:{'5' * 54}00Z", "timestamp"), ("Read more", "read_more")]
    assert doc.published is None and _kept(doc) == [P1]


def test_the_date_of_a_quoted_message_is_its_text():
    body = "\n".join([P1, "Date: Fri, 1 Feb 2002 11:53:40 -0500 (EST)", "From: Mara Quint", P2])
    assert _rules(_clean(body)) == []
    assert _rules(_clean("\n".join([P1, "Published: 1 Feb 2002", P2]))) == [
        ("Published: 1 Feb 2002", "timestamp")
    ]


def test_text_title_and_author_are_written_composed():
    decomposed = (
        "Die Anlage wurde gepru\u0308ft und fu\u0308r sicher erkla\u0308rt, sagte der Pru\u0308fer am Montag."
    )
    doc = clean_document(
        Document(
            "d",
            "d.txt",
            (0, 0),
            "text",
            body=decomposed,
            title="Gepru\u0308ft",
            author="Jo\u0308rg Ma\u0308rz",
        ),
        CleanConfig(),
    )
    assert doc.passages[0].text == unicodedata.normalize("NFC", decomposed)
    assert "geprüft" in doc.passages[0].text
    assert (doc.title, doc.author) == ("Geprüft", "Jörg März")


def test_a_table_under_a_related_looking_heading_is_kept():
    rows = ["| item | cost | change |", "| flood map | 12,000 | +300% |", "| sandbags | 4,500 | +20% |"]
    doc = _clean("\n".join([P1, "Also on the agenda:", *rows, P2]))
    assert all(p.status is Status.KEPT for p in doc.passages if p.text in rows)
