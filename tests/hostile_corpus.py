"""A corpus of the inputs real crawls produce, each with the outcome it must have.

`build(root)` writes it under `root` and returns what each input must become: a document
(and phrases its text must hold, one per paragraph, so a bad decode or a rule written for
English that ate a line shows) or a reject with its reason. Inputs are keyed by `source` as
the pipeline reports them: the path under `root`, plus `#N` for line N of a JSONL file.

The large inputs (a 50 MB page, a 10 MB line, a 20 MB JSON record, a gzip bomb) are made
here rather than kept in the repository. The texts are our own, written for these tests.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import random
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Expected:
    outcome: str  # "document" or "reject"
    reason: str | None = None  # for a reject
    phrases: tuple[str, ...] = field(default_factory=tuple)  # for a document: in its text
    title: str | None = None


def document(*phrases: str, title: str | None = None) -> Expected:
    return Expected("document", phrases=phrases, title=title)


def reject(reason: str) -> Expected:
    return Expected("reject", reason)


# -- articles --------------------------------------------------------------------------------

TOKYO = (
    "東京湾の新しいフェリー航路、来月から運航開始",
    [
        "東京都は二十日、東京湾を横断する新しいフェリー航路を来月一日から運航すると発表した。通勤客の混雑を和らげるため、朝と夕方に一時間おきに出航する。",
        "新航路は品川と木更津を約四十分で結び、運賃は片道千二百円となる。都の担当者は「道路の渋滞に左右されない移動手段を増やしたい」と話した。",
        "運航会社によると、使用する船は電気とディーゼルを組み合わせたハイブリッド船で、従来の船より燃料の消費を三割ほど抑えられるという。",
        "一方、地元の漁業団体は航路が漁場の近くを通ることに懸念を示しており、都は運航開始後も協議を続ける方針だ。",
    ],
)
OSAKA = (
    "大阪で記録的な大雨、鉄道に遅れ",
    [
        "大阪府では十五日未明から激しい雨が降り続き、気象台によると一時間に八十ミリを超える記録的な雨量を観測した。",
        "この雨の影響で、JRと私鉄の一部の路線で運転の見合わせや遅れが相次ぎ、通勤客など約五万人に影響が出た。",
        "市内では道路の冠水が複数の場所で確認されたが、これまでのところけが人の情報は入っていないという。",
    ],
)
CAIRO = (
    "افتتاح خط جديد لمترو القاهرة الشهر المقبل",
    [
        "أعلنت وزارة النقل المصرية يوم الأحد أن الخط الجديد لمترو القاهرة سيبدأ تشغيله في الأول من الشهر المقبل، بعد تأخير دام أكثر من عام بسبب أعمال الحفر.",
        "ويربط الخط الجديد وسط المدينة بالأحياء الشرقية، ومن المتوقع أن ينقل نحو مليون راكب يوميا عند اكتمال جميع محطاته.",
        "وقال وزير النقل في مؤتمر صحفي إن أسعار التذاكر ستبقى كما هي خلال الأشهر الستة الأولى من التشغيل.",
        "ويأمل سكان الأحياء الشرقية أن يخفف المشروع من الازدحام المروري الذي يعانون منه كل صباح.",
    ],
)
BERLIN = (
    "Berliner Senat beschließt neue Radwege in Pankow",
    [
        "Der Berliner Senat hat am Dienstag den Bau von zwölf Kilometern neuer Radwege im Bezirk Pankow beschlossen. Die Arbeiten sollen im kommenden Frühjahr beginnen und rund zwei Jahre dauern.",
        "Nach Angaben der Verkehrsverwaltung kostet das Vorhaben etwa 18 Millionen Euro, von denen der Bund knapp die Hälfte übernimmt.",
        "„Wir wollen, dass Kinder sicher mit dem Fahrrad zur Schule fahren können“, sagte die Verkehrssenatorin bei der Vorstellung der Pläne.",
        "Anwohner kritisierten jedoch, dass für die neuen Wege mehr als 400 Parkplätze wegfallen sollen. Der Bezirk will die Pläne im März öffentlich vorstellen.",
    ],
)
LYON = (
    "Le maire de Lyon annonce un nouveau parc",
    [
        "Le maire de Lyon a annoncé mercredi la création d'un parc de quatre hectares sur l'ancien site industriel de la rive gauche, à deux pas du fleuve.",
        "Les travaux débuteront à l'été et coûteront environ douze millions d'euros, financés en grande partie par la métropole.",
        "Les riverains, qui réclamaient des espaces verts depuis des années, se sont félicités de cette décision très attendue.",
    ],
)
HARBOUR = (
    "Harbour toll rises to €4 next spring",
    [
        "“The toll has not changed in a decade,” the port director said on Monday — adding that the rise would pay for dredging the silted northern channel.",
        "Residents of the island pay half price, and the ferry operator’s season pass holders are exempt from the new toll until the end of the year.",
        "Fishermen’s groups said they would ask the council for a lower rate for working boats, which use the channel several times a day.",
    ],
)
VALLEY = (
    "Valley school reopens after flood repairs",
    [
        "The primary school in the lower valley reopened on Monday, five weeks after floodwater filled its ground floor and ruined most of its books.",
        "Volunteers from three neighbouring villages repainted the classrooms over two weekends, and a publisher donated four hundred new books.",
        "The head teacher said the pupils had spent the weeks in the village hall, where lessons were held in shifts because of the lack of space.",
    ],
)
PIER = (
    "Pier repairs to start in June",
    [
        "Repairs to the old pier will start in June, after divers found that two of its iron columns had rusted almost through below the waterline.",
        "The pier will stay open to walkers during the work, but the fishing platform at its far end will be closed until the autumn.",
    ],
)
BAKERY = (
    "High street bakery to close after ninety years",
    [
        "A bakery that has stood on the high street for ninety years will close at the end of the month, its owners said, because neither of their children wants to take it over.",
        "Regular customers have started a petition asking the council to help find a new baker who would keep the old ovens and the shop's name.",
    ],
)
ORCHESTRA = (
    "Youth orchestra returns to the cathedral",
    [
        "The county youth orchestra will play in the cathedral on Saturday, its first concert there since the roof was repaired last winter.",
        "Tickets are free for children, and the collection after the concert will pay for new instruments for the orchestra's string section.",
    ],
)
CAFE = (
    "Lighthouse café reopens under new owners",
    [
        "The café by the lighthouse reopened on Sunday under new owners, who have kept the crème brûlée that made it famous among walkers on the coast path.",
        "They plan to stay open through the winter for the first time, with a smaller menu and a wood stove in the back room.",
    ],
)
LIFEBOAT = (
    "Lifeboat crew called out three times in one night",
    [
        "The lifeboat crew was called out three times in one night during the storm, rescuing two sailors and a dog from a yacht that had lost its mast.",
        "The station is raising money for a new boathouse, as the old one floods at high spring tides and the crew has to launch from the beach.",
    ],
)
ALLOTMENTS = (
    "Allotment waiting list passes three hundred",
    [
        "The waiting list for allotments in the town has grown to more than three hundred names, and the council is looking for land to add another forty plots.",
        "Gardeners already holding a plot may be asked to share it, a proposal that drew an angry response at Tuesday's meeting of the allotment society.",
    ],
)
FEED = [  # JSONL records: (id, title, paragraphs)
    (
        "feed-1",
        "Night buses return to the coast road",
        [
            "Night buses will run again on the coast road from Friday, the transport authority said, ending a gap of almost two years after the old contract lapsed.",
            "The new service leaves the central station every hour between midnight and five in the morning and stops at every village along the bay.",
        ],
    ),
    (
        "feed-2",
        "Library extends its opening hours",
        [
            "The town library will open until nine in the evening on weekdays from next month, after a survey found that most readers could only visit after work.",
            "The longer hours are paid for by closing the reading room on Sunday mornings, when it was used by fewer than a dozen people.",
        ],
    ),
    (
        "feed-3",
        "Market square to lose its car park",
        [
            "Cars will no longer be allowed to park on the market square from the spring, the council decided on Thursday after a long and heated debate.",
            "Shopkeepers fear fewer customers, while the council argues that a square without cars will draw more people to the cafes and the weekly market.",
        ],
    ),
]


# For names that are not UTF-8, and dates Python cannot hold.
SAWMILL = (
    "Old sawmill becomes a boatyard",
    [
        "The sawmill at the mouth of the river, closed for eleven years, will build and repair wooden boats again from the summer, its new owners said on Wednesday.",
        "Four apprentices have been taken on, and the first order is a rowing boat for the sea scouts, who lost theirs in the January gale.",
    ],
)
GLACIER = (
    "Glacier path closed after rockfall",
    [
        "The footpath to the glacier tongue has been closed for the rest of the season after a rockfall buried a hundred metres of it on Sunday night.",
        "Nobody was hurt, and the mountain rescue team said the slope above the path was still moving and could not be made safe before the snow.",
    ],
)
CHOIR = (
    "Choir sings in the flooded church",
    [
        "The parish choir gave its winter concert in the church on Saturday after all, in rubber boots, three days after the river had poured through the nave.",
        "The collection, more than four thousand in coins and notes, will pay for drying out the organ, which has stood silent since the flood.",
    ],
)
BEEKEEPERS = (
    "Beekeepers count their winter losses",
    [
        "Beekeepers in the valley lost almost a third of their colonies over the winter, the highest share since their association began to count them.",
        "The association blames the wet autumn, which kept the bees inside when they should have been gathering the last pollen of the year.",
    ],
)
TUNNEL = (
    "Tunnel reopens a week early",
    [
        "The road tunnel under the ridge reopened on Friday a week ahead of schedule, after its lights and ventilation were replaced over the winter.",
        "Drivers had faced a forty-minute detour over the pass, which was itself closed twice by snow while the tunnel works went on.",
    ],
)
KITES = (
    "Kite festival returns to the dunes",
    [
        "More than two hundred kites filled the sky over the dunes on Sunday as the festival returned after a three-year break for the repair of the beach.",
        "The prize for the largest kite went to a club from the islands, whose sea serpent, forty metres long, needed eight people to hold it.",
    ],
)

HERONS = (
    "Herons nest in the town park",
    [
        "A pair of grey herons has built a nest in the tallest plane tree of the town park, the first to breed inside the town since records began.",
        "The park keepers have fenced off the lawn below the tree until the chicks fly, and ask walkers not to feed the birds.",
    ],
)


def _html(title: str, paragraphs: list[str], head: str = '<meta charset="utf-8">', lang: str = "en") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{head}<title>{title}</title></head>'
        f"<body><header><nav><a href='/'>Home</a></nav></header>"
        f"<article><h1>{title}</h1>{body}</article><footer><p>Contact us</p></footer></body></html>"
    )


def _text(title: str, paragraphs: list[str]) -> str:
    return "\n\n".join([title, *paragraphs]) + "\n"


def _phrases(paragraphs: list[str]) -> tuple[str, ...]:
    """A stretch from the middle of each paragraph: present only if the paragraph is."""
    return tuple(p[len(p) // 3 : len(p) // 3 + 12] for p in paragraphs)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4)))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
_TEASERS = "".join(
    f'<article class="teaser"><h2><a href="/news/{i}">{title}</a></h2>'
    f"<p>{summary}</p><a href='/news/{i}'>Read more</a></article>"
    for i, (title, summary) in enumerate(
        [
            ("Council approves harbour wall repairs", "Work on the storm-damaged wall starts in May…"),
            ("New ferry timetable from Monday", "Two extra crossings a day on the island route…"),
            ("Valley school reopens after flood", "Pupils return five weeks after the water came in…"),
            ("Market square to lose its car park", "Shopkeepers fear fewer customers, the council…"),
            ("Night buses return to the coast road", "An hourly service between midnight and five…"),
            ("Library extends its opening hours", "Open until nine on weekdays from next month…"),
        ]
    )
)
INDEX_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Latest news | The Bay Courier</title></head>"
    "<body><header><p>The Bay Courier</p><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></header>"
    f"<main><h1>Latest news</h1>{_TEASERS}</main><footer><p>© 2026 The Bay Courier</p></footer></body></html>"
)


def build(root: Path, large: bool = True) -> dict[str, Expected]:
    """Write the corpus under `root`; returns the expected outcome of each source. With
    `large=False` the multi-megabyte inputs are left out (for quick runs, e.g. fuzz seeds)."""
    root.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Expected] = {}

    def put(rel: str, data: bytes | str, outcome: Expected | None) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if outcome is not None:
            expected[rel] = outcome
        return path

    # Not text at all, whatever the name says.
    put("binary/photo.html", _png(), reject("binary"))
    put("binary/report.html", _PDF, reject("binary"))
    put("binary/blob.html", random.Random(6).randbytes(3000) + b"\x00\x00", reject("binary"))
    # Nothing in it.
    put("empty/empty.html", b"", reject("empty"))
    put("empty/blank.txt", b"  \n\t\r\n   \n", reject("empty"))
    put("empty/bom-only.html", b"\xef\xbb\xbf\n", reject("empty"))

    # Encodings, declared as pages declare them.
    title, paras = LYON
    put(
        "encoding/latin1.html",
        _html(title, paras, '<meta charset="iso-8859-1">', "fr").encode("latin-1"),
        document(*_phrases(paras), "à deux pas", title=title),
    )
    title, paras = HARBOUR
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    put(
        "encoding/cp1252.html",
        _html(title, paras, head).encode("cp1252"),
        document(*_phrases(paras), "“The toll", "decade,”", title=title),
    )
    title, paras = OSAKA
    put(
        "encoding/shift_jis.html",
        _html(title, paras, '<meta charset="Shift_JIS">', "ja").encode("shift_jis"),
        document(*_phrases(paras), title=title),
    )
    title, paras = VALLEY
    put(
        "encoding/utf16-bom.html",
        b"\xff\xfe" + _html(title, paras, "").encode("utf-16-le"),
        document(*_phrases(paras), title=title),
    )
    put("encoding/utf8-bom.txt", b"\xef\xbb\xbf" + _text(*PIER).encode("utf-8"), document(*_phrases(PIER[1])))
    # Mostly UTF-8 with a few broken bytes: the broken ones become U+FFFD, not the page mojibake.
    broken = (
        _html(*CAFE)
        .encode("utf-8")
        .replace(b"owners, who", b"own\xffers, who")
        .replace(b"wood", b"wo\xe2\x80d")
    )
    put(
        "encoding/invalid-utf8.html",
        broken,
        document("crème brûlée", "own\ufffders", "wo\ufffdd", title=CAFE[0]),
    )

    # Pages that are HTML but not an article.
    put(
        "html/scripts-only.html",
        "<html><head><style>body { color: #333 }</style><script>var tracker = 1;</script></head>"
        "<body>" + "<script>window.dataLayer = window.dataLayer || [];</script>" * 40 + "</body></html>",
        reject("no_main_text"),
    )
    put("html/index-page.html", INDEX_PAGE, reject("no_content"))
    deep = "<div>" * 100_000 + "".join(f"<p>{p}</p>" for p in VALLEY[1]) + "</div>" * 100_000
    put("html/deep-nesting.html", f"<html><body>{deep}</body></html>", reject("no_main_text"))

    # Articles in other languages and scripts: kept, and every paragraph with them.
    for name, (title, paras), lang in (
        ("tokyo", TOKYO, "ja"),
        ("cairo", CAIRO, "ar"),
        ("berlin", BERLIN, "de"),
    ):
        put(f"world/{name}.html", _html(title, paras, lang=lang), document(*_phrases(paras), title=title))

    # JSONL: every kind of bad line, between good ones.
    lines: list[bytes] = []

    def record(outcome: Expected, line: bytes | str) -> None:
        lines.append(line.encode("utf-8") if isinstance(line, str) else line)
        expected[f"records/feed.jsonl#{len(lines)}"] = outcome

    def good(i: int) -> tuple[Expected, str]:
        rid, title, paras = FEED[i]
        return document(*_phrases(paras), title=title), json.dumps(
            {"id": rid, "title": title, "text": "\n\n".join(paras), "url": f"https://bay.example/{rid}"},
            ensure_ascii=False,
        )

    record(*good(0))
    record(reject("invalid_json"), '{"id": "feed-x", "text": "an unterminated string')
    record(reject("invalid_record"), '{"id": "feed-y", "title": "No text or html"}')
    record(reject("invalid_record"), '{"id": "feed-z", "text": 42}')
    record(reject("invalid_record"), '{"id": ["a", "list"], "text": "An id must be a string or number."}')
    record(reject("invalid_record"), "[1, 2, 3]")
    record(reject("invalid_record"), '{"id": "feed-w", "text": "A text long enough.", "published": 12}')
    record(*good(1))
    lines.append(b"   ")  # a blank line is no record
    rid, title, paras = FEED[0]
    record(reject("duplicate_id"), json.dumps({"id": rid, "text": "A second record claiming the first id."}))
    # Invalid UTF-8 inside a string: the record is kept, the broken byte becomes U+FFFD.
    rid, title, paras = FEED[2]
    text = "\n\n".join(paras).encode("utf-8").replace(b"weekly", b"week\xffly")
    record(
        document(*_phrases(paras[:1]), "week\ufffdly", title=title),
        b'{"id": "%s", "title": "%s", "text": "%s"}'
        % (rid.encode(), title.encode(), text.replace(b"\n", b"\\n")),
    )
    # JSON can escape half a surrogate pair, which no UTF-8 file can hold: U+FFFD as well.
    record(
        document("Lighthouse keepers", "\ufffd", title="Keepers"),
        '{"id": "feed-5", "title": "Keepers", "text": "Lighthouse keepers \\ud800 of the north coast met for '
        'the last time on Saturday, fifty years after the last lamp was automated."}',
    )
    # Ids and URLs that look like paths: they are data, never where anything is written.
    for rid, url, text in (
        (
            "../../../escaped",
            "file:///etc/passwd",
            "The trust that owns the old lighthouse on the point wants to open its gallery to "
            "visitors next summer, once the iron stair has been repaired.",
        ),
        (
            "/tmp/absolute",
            "../../up.html",
            "Volunteers counted more than two thousand seals on the sandbanks this winter, the "
            "highest number since the lighthouse keepers began keeping a tally in 1961.",
        ),
    ):
        record(
            document(text[20:40], title="Path-like id"),
            json.dumps({"id": rid, "url": url, "title": "Path-like id", "text": text}),
        )
    if large:
        record(reject("too_large"), json.dumps({"id": "feed-huge", "text": "word " * 4_000_000}))  # 20 MB
    title, paras = ALLOTMENTS
    record(
        document(*_phrases(paras), title=title),
        json.dumps({"id": "feed-4", "title": title, "text": "\n".join(paras)}),
    )
    put("records/feed.jsonl", b"\n".join(lines) + b"\n", None)

    # Compressed inputs: good, cut short, not gzip at all, and a bomb.
    title, paras = ORCHESTRA
    put("compressed/page.html.gz", gzip.compress(_html(title, paras).encode()), document(*_phrases(paras)))
    # A cut-off archive of distinct records: the test checks that the lines before the cut
    # still come through as documents (their number depends on where the cut falls).
    vocabulary = sorted(
        {w.strip(".,“”’'") for _, ps in (PIER, BAKERY, CAFE, LIFEBOAT) for p in ps for w in p.split()}
    )
    draw = random.Random(7)
    records = "".join(
        json.dumps({"id": f"gz-{i}", "text": " ".join(draw.choices(vocabulary, k=40)) + "."}) + "\n"
        for i in range(300)
    )
    whole = gzip.compress(records.encode())
    put("compressed/truncated.jsonl.gz", whole[: len(whole) // 2], reject("truncated"))
    put("compressed/truncated.html.gz", gzip.compress(_html(*LYON).encode())[:-30], reject("truncated"))
    put("compressed/not-gzip.txt.gz", b"this was never compressed\n" * 20, reject("corrupt_compressed"))
    if large:
        put("compressed/bomb.txt.gz", gzip.compress(b" " * 200_000_000, compresslevel=9), reject("too_large"))
        # Huge inputs.
        block = "<div class='x'><p>" + "filler words for a huge page " * 30 + "</p></div>\n"
        put("huge/page.html", "<html><body>" + block * (50_000_000 // len(block)) + "</body></html>", None)
        expected["huge/page.html"] = reject("too_large")
        put("huge/one-line.txt", "endless text without a newline " * (10_000_000 // 31), reject("too_large"))

    # The file system: a loop of folder links, a loop of file links, a dangling link, a pipe,
    # a file nobody may read, and a type we do not read.
    put("links/article.txt", _text(*BAKERY), document(*_phrases(BAKERY[1])))
    os.symlink("..", root / "links" / "again")  # links/again/links/again/... : a loop
    expected["links/again"] = reject("symlink_loop")
    os.symlink("self.html", root / "links" / "self.html")
    expected["links/self.html"] = reject("unreadable")
    os.symlink("missing.html", root / "links" / "dangling.html")
    expected["links/dangling.html"] = reject("unreadable")
    os.mkfifo(root / "links" / "pipe.html")
    expected["links/pipe.html"] = reject("not_a_file")
    locked = put("links/locked.html", _html(*LIFEBOAT), None)
    locked.chmod(0)
    # root reads it anyway: then it is a page like any other
    unreadable = os.geteuid() != 0
    expected["links/locked.html"] = reject("unreadable") if unreadable else document(*_phrases(LIFEBOAT[1]))
    put("misc/notes.docx", b"PK\x03\x04 not read", reject("unsupported_type"))

    # File and folder names are bytes, not always UTF-8: a source writes those bytes as \xNN
    # and doubles a backslash of the name (readers.source_of).
    def put_bytes(name: bytes, data: bytes | str, source: str, outcome: Expected) -> None:
        path = os.fsencode(root) + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        expected[source] = outcome

    put_bytes(b"names/caf\xe9.txt", _text(*SAWMILL), "names/caf\\xe9.txt", document(*_phrases(SAWMILL[1])))
    title, paras = GLACIER
    put_bytes(
        b"names/r\xe9seau/glacier.html",
        _html(title, paras),
        "names/r\\xe9seau/glacier.html",
        document(*_phrases(paras), title=title),
    )
    put_bytes(
        b"names/back\\slash.txt", _text(*CHOIR), "names/back\\\\slash.txt", document(*_phrases(CHOIR[1]))
    )

    # Dates Python cannot hold, and ISO 8601's 24:00, which it does not read.
    title, paras = BEEKEEPERS
    dated = [
        (reject("invalid_record"), {"id": "late", "text": "x", "published": "9999-12-31T23:00:00-05:00"}),
        (reject("invalid_record"), {"id": "early", "text": "x", "published": "0001-01-01T00:00:00+05:00"}),
        (
            document(*_phrases(paras), title=title),
            {
                "id": "midnight",
                "title": title,
                "text": "\n\n".join(paras),
                "published": "2026-03-04T24:00:00+01:00",
            },
        ),
    ]
    lines = [json.dumps(record) for _, record in dated]
    lines.append('{"id": ' + "7" * 5000 + ', "text": "An id of more digits than Python reads."}')
    lines.append(
        '{"text": "Nested deeper than Python recurses.", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    outcomes = [outcome for outcome, _ in dated] + [reject("invalid_record"), reject("invalid_record")]
    expected.update({f"dates/feed.jsonl#{n}": outcome for n, outcome in enumerate(outcomes, start=1)})
    put("dates/feed.jsonl", "\n".join(lines) + "\n", None)
    title, paras = TUNNEL  # dateutil reads an offset of a day in the timestamp line
    put(
        "dates/timestamp.txt",
        "\n\n".join([title, "Published 2026-05-06 10:00 GMT+24", *paras]) + "\n",
        document(*_phrases(paras)),
    )
    title, paras = KITES  # htmldate raised on the offset, and trafilatura dropped the metadata
    head = (
        '<meta charset="utf-8"><meta property="article:published_time" content="2026-05-06T10:00:00+25:00">'
    )
    put("dates/offset.html", _html(title, paras, head), document(*_phrases(paras), title=title))
    body = _html(*HERONS).encode()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    warc = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Date: 9999-12-31T23:00:00-05:00\r\n"
        b"WARC-Target-URI: https://bay.example/herons\r\nWARC-Record-ID: <urn:uuid:hostile-1>\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n"
        % (len(http), http)
    )
    put("dates/crawl.warc", warc, None)
    expected["dates/crawl.warc#1"] = document(*_phrases(HERONS[1]), title=HERONS[0])

    # A table with two columns of the name a record is read from.
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], ["text", "text"]), buffer)
    put("tables/twice.parquet", buffer.getvalue(), reject("invalid_schema"))
    return expected


_FEED_WORDS = (
    "harbour council ferry school bridge island storm engine contract teacher parent road lorry "
    "village crossing winter market fisher nurse doctor hospital library budget vote river"
).split()


def awkward_feed(path: Path, limit: int, records: int = 62) -> Path:
    """A JSONL feed with every awkward line a crawl writes, for reading it whole and in
    ranges: a byte order mark on line 1, CRLF endings, bad JSON, records that are not
    documents, blank lines, a line over `limit` bytes (`read.max_record_bytes`), exact and
    near copies, a site's repeated line (learned boilerplate), an HTML record, and a last
    line without its line break."""
    rng = random.Random(19)

    def paragraph() -> str:
        return " ".join(rng.choices(_FEED_WORDS, k=18)).capitalize() + "."

    lines: list[bytes] = []
    texts: list[str] = []
    for i in range(records):
        end = b"\r\n" if i % 3 == 0 else b"\n"
        if i == records // 2:
            lines.append(json.dumps({"text": "x " * limit}).encode() + end)  # over the limit
        elif i == records // 3:
            page = "<html><body><h1>Storm closes the bridge</h1>" + "".join(
                f"<p>{paragraph()}</p>" for _ in range(3)
            )
            lines.append(json.dumps({"html": page + "</body></html>"}).encode() + end)
        elif i % 9 == 4:
            lines.append(b"{not json" + end)
        elif i % 13 == 6:
            lines.append(b"   " + end if i % 2 else end)
        elif i % 17 == 8:
            lines.append(json.dumps(["a", "list"]).encode() + end)
        else:
            if i % 5 == 2 and texts:
                text = rng.choice(texts)  # an exact copy
            elif i % 7 == 3 and texts:
                text = rng.choice(texts).replace("harbour", "ferry", 1)  # a near copy
            else:
                text = "\n\n".join(paragraph() for _ in range(3))
            texts.append(text)
            record = {"text": text, "title": f"Story {i}"}
            if i % 2:
                record["url"] = f"https://www.harbour-herald.example/news/{i}"
                record["text"] += (
                    "\n\nThe Harbour Herald is printed in Kessel and read along the whole northern coast."
                )
            if i % 4 == 1:
                record["id"] = f"story-{i}"
            lines.append(json.dumps(record).encode() + end)
    lines[0] = codecs.BOM_UTF8 + lines[0]
    lines[-1] = lines[-1].rstrip(b"\r\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))
    return path
