"""A seeded, labelled news corpus for measuring cleaning and dedup quality.

All text is composed here from word lists and sentence templates: fictional people, towns and
organisations, no downloads. `build_corpus(n, seed)` returns JSONL-ready records and labels:

- originals: articles of 4-9 paragraphs (40-80 words each) on generated stories;
- hard negatives: a second, different article on the same story, sharing its names, places and
  one quoted sentence, which must not be merged with the first;
- copies of originals on other sites, later in time, one edit type each: words substituted
  (1-5 per 60 words), typos, quote style, a dateline, paragraphs merged or split, the last
  paragraphs cut, paragraphs reordered, a mirror with new chrome;
- quoted passages: originals that carry one paragraph of another article, lightly edited;
- chrome: labelled lines of every kind the cleaner knows, plus lines of chrome no rule knows
  (each site repeats its own, for learned boilerplate), plus content lines that look like
  chrome (a paragraph opening "Read more about ...", subheadings, short quotes);
- clean articles: no chrome at all, where no line may be lost.

Every line of a record's text is one paragraph; labels address lines by position.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

EDITS_NEAR = (
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "typos",
    "quotes",
    "dateline",
    "merge",
    "split",
    "reorder",
)
EDITS = (*EDITS_NEAR, "truncate", "mirror")
# The kind a copy should get: "exact" is the same passages after normalisation, so quote
# style and paragraph order do not make a copy near.
DOC_KIND = {
    **{e: "near" for e in EDITS_NEAR},
    "quotes": "exact",
    "reorder": "exact",
    "truncate": "contained",
    "mirror": "exact",
}

_SYLLABLES = (
    "ka lo ven dra mi sor tel an bri gus ha vik mar nel os pe qua ri sten tor ul va wen yl zan bel cor dun "
    "er fen gar hol is jor kel lun mor nor ost pra rin sal tam ung vor wil ash bren cal dov el fro gil har "
    "ith jal kor lem mun nix orl pel rus sev tov ur vel wyn xan yor zel"
).split()
_ROLES = (
    "minister",
    "mayor",
    "spokesperson",
    "chief executive",
    "union leader",
    "analyst",
    "professor",
    "police chief",
    "judge",
    "director",
    "board chair",
    "economist",
    "chief engineer",
    "senior doctor",
    "council member",
    "prosecutor",
    "head coach",
    "museum curator",
    "harbour master",
    "fire chief",
)
_ORG_KINDS = (
    "Council",
    "Authority",
    "Bank",
    "Workers Union",
    "University",
    "Institute",
    "Group",
    "Hospital Trust",
    "Police",
    "Water Board",
    "Rail Company",
    "Chamber of Commerce",
    "Energy Cooperative",
    "Court",
)
_THINGS = (
    "budget",
    "harbour expansion",
    "rail link",
    "hospital wing",
    "school merger",
    "bridge repair",
    "dam",
    "election",
    "strike",
    "flood defences",
    "wildfire response",
    "vaccine rollout",
    "tariff",
    "pension reform",
    "housing plan",
    "museum",
    "airport runway",
    "ferry service",
    "power plant",
    "water supply",
    "festival",
    "fraud trial",
    "bank merger",
    "bond sale",
    "drought plan",
    "earthquake relief",
    "tram line",
    "fish quota",
    "tax rebate",
    "wind farm",
    "ski season",
    "quarry",
    "library network",
    "night bus",
    "grain harvest",
    "copper mine",
    "coastal road",
    "data centre",
    "river dredging",
    "cycle lane",
    "heat pump subsidy",
    "teacher pay deal",
    "ambulance contract",
    "border crossing",
    "salmon farm",
    "opera house",
    "film studio",
)
_VERBS = (
    "approved",
    "rejected",
    "delayed",
    "announced",
    "criticised",
    "defended",
    "investigated",
    "expanded",
    "suspended",
    "reopened",
    "funded",
    "cancelled",
    "reviewed",
    "questioned",
    "welcomed",
    "opposed",
    "postponed",
    "redesigned",
    "audited",
    "shortened",
    "extended",
    "priced",
    "mapped",
    "tested",
)
_ADJS = (
    "unexpected",
    "controversial",
    "long-awaited",
    "costly",
    "temporary",
    "sweeping",
    "modest",
    "urgent",
    "disputed",
    "ambitious",
    "fragile",
    "overdue",
    "popular",
    "risky",
    "narrow",
    "generous",
    "cautious",
    "rushed",
    "detailed",
    "vague",
    "binding",
    "provisional",
    "record",
    "surprise",
)
_PLACES_NOUNS = (
    "town hall",
    "quay",
    "market square",
    "depot",
    "terminal",
    "station",
    "courthouse",
    "shipyard",
    "stadium",
    "campus",
    "warehouse",
    "clinic",
    "reservoir",
    "lighthouse",
    "tunnel",
    "plant",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SENTENCES = (
    "{P}, the {R} of the {O}, said on {D} that the {X} would be {V} before the end of {M}.",
    "The {O} {V} the {A} {X} after a vote of {N} to {n2} at the {L} in {T}.",
    "According to figures released by the {O}, {N} residents of {T} were affected by the {X}.",
    "{P} told reporters outside the {L} that the decision was {A} and that talks would resume.",
    '"{Q}," {P} said, adding that the {O} had not been consulted about the {X}.',
    "Officials in {T} estimate the {X} will cost about {N} million crowns over {n2} years.",
    "Critics of the {X}, among them {P2}, argue that the plan is {A} and leaves {T} exposed.",
    "The {A} {X} is the first of its kind in {T} since the {O} was founded {n2} years ago.",
    "{P2}, a {R2} who has followed the {X} for years, called the outcome {A} but not surprising.",
    "Work on the {X} began in {M} and was {V} twice after {N} complaints from neighbours.",
    "On {D}, about {N} people gathered at the {L} to protest against the {A} {X}.",
    "The {O} said it had {V} its own review of the {X} and would publish the findings in {M}.",
    "In a statement, the {O2} said the {X} had been {V} without a proper assessment of its risks.",
    "Residents near the {L} said they first noticed problems with the {X} in early {M}.",
    "{P} said the {O} would ask the {O2} for {N} million crowns to complete the {X}.",
    "A spokesperson for the {O2} declined to comment on the {A} {X} when contacted on {D}.",
    "The vote on the {X} is expected to take place on {D}, {d} {M}, at the {L} in {T}.",
    "Previous attempts to fix the {X} in {T} failed in {Y} and again in {Y2}, records show.",
    "{P2} warned that the {X} could be {V} again unless the {O} agreed to an independent audit.",
    "Local businesses in {T} reported a {n2} percent drop in trade during the {X}.",
    "The {O} has hired {N} extra staff to deal with the {X}, {P} said on {D}.",
    "Neighbouring {T2} {V} a similar {X} last year, at a cost of {n2} million crowns.",
    "Asked whether the {X} would be {V}, {P} said only that every option remained open.",
    "Engineers from the {O2} inspected the {L} on {D} and found {n2} faults linked to the {X}.",
    '"{Q}," said {P2}, the {R2} of the {O2}, speaking at the {L} on {D}.',
    "The {X} has divided opinion in {T}, where {n2} percent of voters backed it in a {Y} poll.",
    "Documents seen by local media show the {O} knew about problems with the {X} as early as {Y2}.",
    "{P} rejected suggestions that the {X} had been {V} for political reasons.",
    "Traffic around the {L} was diverted for {n2} hours while crews worked on the {X}.",
    "A petition against the {X} has gathered {N} signatures since it was launched in {M}.",
    "The {O2} will hold a public hearing on the {X} at the {L} on {D} evening.",
    "Insurers have paid out {N} claims related to the {X}, a figure the {O} disputes.",
    "{P2} said {n2} families had written to the {O} asking for compensation over the {X}.",
    "The last comparable {X} in the region, in {T2}, ran {n2} months over schedule.",
    "Farmers outside {T} say the {X} has cut their income by roughly a third this year.",
    "Under the {A} deal, the {O} keeps control of the {X} until at least {Y2}.",
    "Opposition members walked out of the {L} when the motion on the {X} was read.",
    "A report by the {O2} found that {n2} percent of the money for the {X} was never spent.",
    "Schools near the {L} closed early on {D} as a precaution linked to the {X}.",
    "{P} has led the {O} for {n2} years and is expected to step down after the {X} vote.",
    "Union representatives met {P2} on {D} but left without an agreement on the {X}.",
    "Shipping companies using the {L} warned of delays of up to {n2} days because of the {X}.",
    "The {O} first proposed the {X} in {Y}, when {T} had fewer than {N} residents.",
    "Auditors will examine whether contracts for the {X} were awarded without proper tenders.",
    "Volunteers from {T2} arrived on {D} with {n2} trucks of supplies for those hit by the {X}.",
    "Weather forecasters expect conditions around the {L} to worsen before the {X} is finished.",
    "The {O2} estimates that the {X} will create {N} jobs, a claim {P2} called {A}.",
    "A court in {T} will hear the first challenge to the {X} on {D}, {d} {M}.",
    "Students at the {L} staged a sit-in on {D} to demand a say in the {X}.",
    "Prices for housing near the {L} have risen {n2} percent since the {X} was announced.",
)
_QUOTE_PARTS = (
    ("We cannot", "We will not", "Nobody should", "We must", "Our members will", "The town cannot"),
    ("accept", "delay", "ignore", "fund", "abandon", "rush", "support", "block"),
    ("a {X} that", "this {X} while", "the {X} because", "any {X} unless"),
    (
        "nobody has costed",
        "the {O} refuses to explain",
        "people in {T} are still waiting",
        "the numbers do not add up",
        "families have paid enough",
        "the risks are this high",
    ),
)
_CHROME = {
    "tagline": (
        "Independent news for {region} since {year}",
        "Your trusted source for {region} news",
        "News you can count on, every single day",
        "Straight talk from {region}",
        "The voice of {region}",
    ),
    "read_more": (
        "READ MORE",
        "Continue reading",
        "Read more »",
        "READ MORE: {teaser}",
        "Also read: {teaser}",
    ),
    "comment_prompt": (
        "Leave a Reply",
        "Post Comment",
        "Your email address will not be published. Required fields are marked *",
        "Join the conversation",
        "{n} Comments",
        "Be the first to comment on this story",
    ),
    "share_prompt": (
        "Share this article",
        "Facebook Twitter WhatsApp Email",
        "Share on Facebook",
        "Copy link",
        "Share this story: Facebook Twitter LinkedIn Email",
    ),
    "subscribe_prompt": (
        "Subscribe now",
        "Sign up for our morning newsletter and get the top stories delivered to your inbox.",
        "Follow us on Instagram",
        "Download our app for breaking news alerts",
        "Already a subscriber? Log in",
    ),
    "copyright": (
        "© {year2} {site}. All rights reserved.",
        "Copyright {year2} {site} Media Ltd",
        "© {site} {year2}",
        "All rights reserved. {site} {year2}",
    ),
    "syndication_credit": (
        "This article was originally published on {host}",
        "Originally published by the {agency}.",
        "This story first appeared in {site}.",
        "Republished with permission from {site}",
    ),
    "photo_caption": (
        "{Scene}. Photo: {person} / {site}",
        "(Photo courtesy: {agency})",
        "In this photo taken on {date}, {scene}. File photo",
        "{Scene}. {person} / AFP",
        "Image credit: {person} for {site}",
    ),
    "timestamp": (
        "Published: {month} {day}, {year2} {hh}:{mm} CET",
        "Updated {day} {month} {year2}, {hh}:{mm} GMT",
        "{n} hours ago",
        "Posted on {weekday}, {day} {month} {year2} at {hh}:{mm}",
    ),
    "byline": ("By {person}", "By {person}, {role_title}", "Written by {person} and {person2}"),
    "navigation": ("Skip to content", "Advertisement", "Menu", "Back to top", "Sponsored content"),
    "tags": ("Tags: {x1}, {x2}, {town}", "Topics: {x1}, {town}"),
    "debris": ("ss", "|", "»", "•", "x", "--"),
    "section_label": ("Politics", "World News", "Business", "Local News", "Opinion", "Analysis", "Europe"),
}
_RELATED_HEADINGS = (
    "Related Articles",
    "You may also like",
    "Most read",
    "More from {site}",
    "Recommended for you",
)
_OUTLETS = (
    "Herald",
    "Gazette",
    "Post",
    "Times",
    "Courier",
    "Ledger",
    "Tribune",
    "Observer",
    "Chronicle",
    "Journal",
)
_AGENCIES = ("Valley Wire Service", "Northern Press Agency", "Coastline News Agency", "Meridian Wire")
# Subheadings name their article's subject, as real ones mostly do.
_SUBHEADINGS = (
    "Who pays for the {X} in {T}",
    "Questions over the {X} at the {L}",
    "Reaction in {T} to the {V} {X}",
    "Why the {X} matters for {T}",
    "What {P} wants from the {O}",
    "The {A} road to the {X} vote",
    "{T} waits for the {O}",
    "Inside the {L} on {D}",
)


@dataclass
class Story:
    people: list[tuple[str, str]]  # (name, role)
    orgs: list[str]
    towns: list[str]
    thing: str
    quote: str
    # Sentence templates in a shuffled rotation: articles on one story share its names, and
    # reusing a template with the same names would make accidental near-duplicates.
    templates: list[str] = field(default_factory=list)


@dataclass
class Site:
    name: str
    host: str
    region: str
    rules: tuple[str, ...]  # chrome kinds this site's pages carry
    unknown: tuple[str, ...]  # the site's own chrome lines, which no rule knows


@dataclass
class Record:
    id: str
    url: str
    published: str
    lines: list[str]
    labels: list[dict]  # per line: {"label": "content"|"boilerplate", "kind": ...}
    title: str | None = None
    duplicate_of: str | None = None
    edit: str | None = None
    kind: str | None = None
    passages: list[dict] = field(default_factory=list)  # copied paragraphs and their sources

    def as_input(self) -> dict:
        record = {
            "id": self.id,
            "url": self.url,
            "published": self.published,
            "text": "\n\n".join(self.lines),
        }
        if self.title is not None:
            record["title"] = self.title
        return record

    def as_label(self) -> dict:
        return {
            "id": self.id,
            "duplicate_of": self.duplicate_of,
            "edit": self.edit,
            "kind": self.kind,
            "lines": self.labels,
            "passages": self.passages,
        }


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_names: set[str] = set()

    # -- words -----------------------------------------------------------------------------

    def word(self, syllables: tuple[int, int] = (2, 3)) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.randint(*syllables)))

    def name(self) -> str:
        while True:
            full = f"{self.word((2, 2)).capitalize()} {self.word((2, 3)).capitalize()}"
            if full not in self.used_names:
                self.used_names.add(full)
                return full

    def town(self) -> str:
        return self.word((2, 3)).capitalize() + self.rng.choice(("", "", "vik", "by", "holm", "stad", "port"))

    def story(self) -> Story:
        towns = [self.town() for _ in range(2)]
        orgs = [f"{self.rng.choice(towns)} {self.rng.choice(_ORG_KINDS)}" for _ in range(2)]
        people = [(self.name(), self.rng.choice(_ROLES)) for _ in range(3)]
        story = Story(people, orgs, towns, self.rng.choice(_THINGS), "")
        story.quote = self.quote(story)
        return story

    def sentence(self, story: Story) -> str:
        if not story.templates:
            story.templates = self.rng.sample(_SENTENCES, len(_SENTENCES))
        return self.fill(story.templates.pop(), story)

    def quote(self, story: Story) -> str:
        parts = [self.rng.choice(p) for p in _QUOTE_PARTS]
        return self.fill(" ".join(parts), story)

    def fill(self, template: str, story: Story) -> str:
        rng = self.rng
        (p1, r1), (p2, r2) = rng.sample(story.people, 2)
        values = {
            "P": p1,
            "R": r1,
            "P2": p2,
            "R2": r2,
            "O": story.orgs[0],
            "O2": story.orgs[1],
            "T": story.towns[0],
            "T2": story.towns[1],
            "X": story.thing,
            "V": rng.choice(_VERBS),
            "A": rng.choice(_ADJS),
            "L": rng.choice(_PLACES_NOUNS),
            "D": rng.choice(_DAYS),
            "M": rng.choice(_MONTHS),
            "N": rng.randint(12, 9800),
            "n2": rng.randint(2, 95),
            "d": rng.randint(1, 28),
            "Y": rng.randint(1985, 2015),
            "Y2": rng.randint(2016, 2025),
        }
        if "{Q}" in template:
            values["Q"] = self.quote(story)
        text = template
        for key in sorted(values, key=len, reverse=True):
            text = text.replace("{" + key + "}", str(values[key]))
        return text

    def paragraph(self, story: Story, extra: str | None = None) -> str:
        while True:
            sentences = [self.sentence(story) for _ in range(self.rng.randint(2, 4))]
            if extra:
                sentences.insert(self.rng.randint(0, len(sentences)), extra)
            text = " ".join(sentences)
            if 40 <= len(text.split()) <= 80:
                return text

    def headline(self, story: Story) -> str:
        return (
            f"{story.towns[0]} {self.rng.choice(_VERBS)} {self.rng.choice(_ADJS)} {story.thing} "
            f"after {self.rng.choice(('vote', 'talks', 'protests', 'review', 'delay', 'inquiry'))}"
        )

    def site(self, index: int) -> Site:
        base = self.word((2, 2)).capitalize()
        name = f"The {base} {_OUTLETS[index % len(_OUTLETS)]}"
        host = f"{base.lower()}{_OUTLETS[index % len(_OUTLETS)].lower()}.example"
        kinds = [k for k in _CHROME if self.rng.random() < 0.6]
        unknown = (
            f"{name} — reader-funded since {self.rng.randint(1890, 2010)}",
            f"Got a story? The {base} desk reads every message: desk@{host}",
            f"{base} reporting reaches {self.rng.randint(3, 90)},{self.rng.randint(100, 999)} homes each week",
        )
        return Site(name, host, self.town(), ("site_name", "headline", "related", *kinds), unknown)

    # -- chrome ----------------------------------------------------------------------------

    def chrome(self, kind: str, site: Site, story: Story, when: datetime) -> str:
        rng = self.rng
        template = rng.choice(_CHROME[kind])
        scene = self.fill("residents gather at the {L} in {T} on {D}", story)
        values = {
            "region": site.region,
            "year": rng.randint(1890, 1990),
            "year2": when.year,
            "site": site.name,
            "host": site.host,
            "agency": rng.choice(_AGENCIES),
            "teaser": self.headline(self.story()),
            "n": rng.randint(2, 48),
            "person": self.name(),
            "person2": self.name(),
            "Scene": scene.capitalize(),
            "scene": scene,
            "date": f"{when:%B} {when.day}",
            "month": f"{when:%B}",
            "day": when.day,
            "hh": f"{when:%H}",
            "mm": f"{when:%M}",
            "weekday": f"{when:%A}",
            "role_title": "Staff Writer",
            "x1": story.thing,
            "x2": rng.choice(_THINGS),
            "town": story.towns[0],
        }
        return template.format(**values)

    def related_block(self, site: Site) -> list[tuple[str, str]]:
        heading = self.rng.choice(_RELATED_HEADINGS).format(site=site.name)
        lines = [(heading, "related")]
        for _ in range(self.rng.randint(2, 3)):
            other = self.story()
            lines.append((self.headline(other), "related"))
            snippet = " ".join(self.paragraph(other).split()[: self.rng.randint(9, 14)]) + "..."
            lines.append((snippet, "related"))
        return lines


def _edit_words(rng: random.Random, text: str, per_60: int, vocab: list[str]) -> str:
    words = text.split()
    count = max(1, round(per_60 * len(words) / 60))
    for i in rng.sample(range(len(words)), min(count, len(words))):
        words[i] = rng.choice(vocab)
    return " ".join(words)


def _typos(rng: random.Random, text: str) -> str:
    words = text.split()
    candidates = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in rng.sample(candidates, min(len(candidates), max(1, round(2 * len(words) / 60)))):
        w = words[i]
        j = rng.randint(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(words)


def _quotes(text: str) -> str:
    """The other quote style: curly quotes straightened, straight ones curled."""
    if any(ch in text for ch in "“”’"):
        return text.replace("“", '"').replace("”", '"').replace("’", "'")
    out, opening = [], True
    for ch in text:
        if ch == '"':
            out.append("“" if opening else "”")
            opening = not opening
        elif ch == "'":
            out.append("’")
        else:
            out.append(ch)
    return "".join(out)


def build_corpus(n_articles: int = 2000, seed: int = 7) -> tuple[list[Record], dict]:
    """About `n_articles` records: originals, hard negatives, edited copies, clean pages."""
    gen = Generator(seed)
    rng = gen.rng
    vocab = [w for t in (_THINGS, _VERBS, _ADJS) for phrase in t for w in phrase.split()]
    sites = [gen.site(i) for i in range(max(8, n_articles // 40))]
    start = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    records: list[Record] = []
    originals: list[tuple[Record, Story, Site, list[int]]] = []  # record, story, site, content positions
    hard_negatives: list[list[str]] = []
    n_copies = n_articles * 3 // 10
    n_originals = n_articles - n_copies

    def render(rid: str, site: Site, story: Story, paragraphs: list[str], when: datetime, clean: bool):
        """Lay out a page: chrome around the paragraphs, every line labelled."""
        lines: list[tuple[str, dict]] = []

        def add(text: str, kind: str, label: str = "boilerplate") -> None:
            lines.append((text, {"label": label, "kind": kind}))

        headline = gen.headline(story)
        give_title = clean or rng.random() < 0.7
        if not clean:
            add(site.name, "site_name")
            if "tagline" in site.rules:
                add(gen.chrome("tagline", site, story, when), "tagline")
            if rng.random() < 0.5:
                add(site.unknown[0], "learned")
            if "section_label" in site.rules:
                add(gen.chrome("section_label", site, story, when), "section_label")
            add(f"Home › {rng.choice(('News', 'Local', 'World'))} › {story.towns[0]}", "breadcrumb")
            add(headline, "headline")
            if not give_title:
                add(headline, "headline")  # repeated: how the page shows its title
            for kind in ("timestamp", "byline"):
                if kind in site.rules:
                    add(gen.chrome(kind, site, story, when), kind)
        content_positions = []
        for i, para in enumerate(paragraphs):
            if not clean and i == 1 and "photo_caption" in site.rules:
                add(gen.chrome("photo_caption", site, story, when), "photo_caption")
            if not clean and i == 2 and rng.random() < 0.3:
                add(gen.fill(rng.choice(_SUBHEADINGS), story), "subheading", "content")
            content_positions.append(len(lines))
            add(para, "paragraph", "content")
            if not clean and i == 2 and "read_more" in site.rules:
                add(gen.chrome("read_more", site, story, when), "read_more")
            if not clean and i == 3 and "navigation" in site.rules:
                add(gen.chrome("navigation", site, story, when), "navigation")
            if not clean and i == 3 and rng.random() < 0.2:
                add(gen.chrome("debris", site, story, when), "debris")
        if not clean:
            for kind in ("tags", "share_prompt", "syndication_credit", "subscribe_prompt"):
                if kind in site.rules:
                    add(gen.chrome(kind, site, story, when), kind)
            add(site.unknown[1], "learned")
            add(site.unknown[2], "learned")
            for text, kind in gen.related_block(site):
                add(text, kind)
            for kind in ("comment_prompt", "copyright"):
                if kind in site.rules:
                    add(gen.chrome(kind, site, story, when), kind)
        record = Record(
            id=rid,
            url=f"https://www.{site.host}/{when:%Y/%m}/{rid}",
            published=when.isoformat(),
            lines=[t for t, _ in lines],
            labels=[lab for _, lab in lines],
            title=headline if give_title else None,
        )
        return record, content_positions

    # Originals and hard negatives.
    story_pool: list[Story] = []
    for i in range(n_originals):
        site = sites[i % len(sites)]
        when = start + timedelta(minutes=17 * i)
        negative_of = None
        if story_pool and rng.random() < 0.12:
            negative_of = rng.randrange(len(originals))
            story = originals[negative_of][1]
        else:
            story = gen.story()
        paragraphs = [gen.paragraph(story) for _ in range(rng.randint(4, 9))]
        # A hard negative always carries the story's quote (the one sentence it shares with
        # the first article); half the other articles carry their own.
        if negative_of is not None or rng.random() < 0.5:
            k = rng.randrange(len(paragraphs))
            paragraphs[k] = gen.paragraph(story, extra=f'"{story.quote}," {story.people[0][0]} said.')
        if rng.random() < 0.3:  # sites that typeset curly quotes
            paragraphs = [_quotes(p) for p in paragraphs]
        clean = rng.random() < 0.1
        if not clean and rng.random() < 0.15:  # content that looks like chrome
            lookalike = f"Read more about the {story.thing} in the {story.orgs[0]}'s report, which sets out {rng.randint(3, 40)} options."
            paragraphs.insert(1, f"{lookalike} {gen.sentence(story)} {gen.sentence(story)}")
        if not clean and rng.random() < 0.15:
            paragraphs.append(
                f'"{rng.choice(("Never again.", "Not yet.", "We will see.", "Ask them."))}" {story.people[1][0]} said.'
            )
        record, positions = render(f"a{i:05d}", site, story, paragraphs, when, clean)
        if negative_of is not None:
            hard_negatives.append([originals[negative_of][0].id, record.id])
        records.append(record)
        originals.append((record, story, site, positions))
        story_pool.append(story)

    # Quoted passages: some originals carry one (lightly edited) paragraph of an earlier one.
    for record, _story, _site, positions in originals[len(originals) // 2 :: 9]:
        source, _s, _site2, source_positions = originals[rng.randrange(len(originals) // 2)]
        if source is record:
            continue
        sp = rng.choice(source_positions)
        target = rng.choice(positions)
        edit = rng.choice(("sub1", "sub2", "quotes", "exact"))
        text = source.lines[sp]
        text = (
            _quotes(text)
            if edit == "quotes"
            else text
            if edit == "exact"
            else _edit_words(rng, text, int(edit[-1]), vocab)
        )
        record.lines[target] = text
        record.passages.append({"position": target, "sources": [[source.id, sp]], "edit": edit})

    # Edited copies on other sites, published later than their original.
    for j in range(n_copies):
        edit = EDITS[j % len(EDITS)]
        original, story, osite, positions = originals[rng.randrange(len(originals))]
        site = rng.choice([s for s in sites if s is not osite])
        paras = [(original.lines[p], [[original.id, p]]) for p in positions]
        if edit.startswith("sub"):
            paras = [(_edit_words(rng, t, int(edit[-1]), vocab), src) for t, src in paras]
        elif edit == "typos":
            paras = [(_typos(rng, t), src) for t, src in paras]
        elif edit == "quotes":
            paras = [(_quotes(t), src) for t, src in paras]
        elif edit == "dateline":
            agency = rng.choice(("AFP", "Reuters", "AP", "VWS"))
            first, src = paras[0]
            paras[0] = (f"{story.towns[0].upper()} ({agency}) - {first}", src)
        elif edit == "merge" and len(paras) >= 2:
            k = rng.randrange(len(paras) - 1)
            paras[k : k + 2] = [(paras[k][0] + " " + paras[k + 1][0], paras[k][1] + paras[k + 1][1])]
        elif edit == "split":
            k = max(range(len(paras)), key=lambda i: len(paras[i][0]))
            sentences = paras[k][0].split(". ")
            if len(sentences) >= 2:
                cut = len(sentences) // 2
                paras[k : k + 1] = [
                    (". ".join(sentences[:cut]) + ".", paras[k][1]),
                    (". ".join(sentences[cut:]), paras[k][1]),
                ]
        elif edit == "truncate":
            paras = paras[: rng.randint(2, 3)]
        elif edit == "reorder":
            rng.shuffle(paras)
        when = datetime.fromisoformat(original.published) + timedelta(hours=rng.randint(1, 72))
        record, new_positions = render(f"c{j:05d}", site, story, [t for t, _ in paras], when, clean=False)
        record.duplicate_of, record.edit, record.kind = original.id, edit, DOC_KIND[edit]
        for pos, (_text, sources) in zip(new_positions, paras, strict=True):
            record.passages.append({"position": pos, "sources": sources, "edit": edit})
        records.append(record)

    labels = {
        "seed": seed,
        "records": {r.id: r.as_label() for r in records},
        "hard_negatives": hard_negatives,
    }
    return records, labels
