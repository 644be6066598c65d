"""Named boilerplate rules.

A line rule looks at one line on its own and says whether it is chrome; its name is what the
passage records as `rule`, so every removal can be traced to the rule that made it. Rules that
need the rest of the page (the headline, the masthead above it, a "Related Articles" block and
its teasers) or the rest of the run (learned boilerplate) are applied in `cleaner.clean.lines`; their
names are listed here too so configuration can refer to every rule by name.

Patterns are anchored at the start of the line and bounded in length: content that merely
mentions a phrase ("Read more about the budget in the council's report, which...") must
not match.

Most lines are content, and no rule matches them: each rule declares a `Cue`, a cheap test
every line it matches passes (a word bound, the words the pattern starts with, a phrase it
needs), and `match_line` tries the rules only on a line that passes some rule's cue. The
cues are checked against the rules on every corpus we have (tests/test_rules_cues.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from cleaner.text import normalize, words
from cleaner.timestamps import TZ_OFFSETS_HOURS, is_timestamp_line


class Line(NamedTuple):
    """A paragraph as the rules see it, its normal form and words computed once."""

    text: str
    norm: str
    words: list[str]

    @classmethod
    def of(cls, text: str) -> Line:
        # An ASCII line, most of them, skips NFC and the punctuation fold, which change no
        # ASCII character: `normalize` less its 1.3 µs of `str.translate`.
        norm = " ".join(text.casefold().split()) if text.isascii() else normalize(text)
        return cls(text, norm, words(norm))


@dataclass(frozen=True)
class Cue:
    """What every line a rule matches has: at most `max_words` words (None: any number), and
    a normal form that starts with the pattern `starts`, or holds one of the strings `holds`,
    or somewhere matches the pattern `finds`, or the line passes `test`. A cue with none of
    these is passed by any line within the bound. A rule that is one pattern (`_full`) has its
    pattern for cue, as `whole`: the patterns of such rules are tried together, in one call.

    A cue is a necessary condition of its rule, never a guess: a line it turns away is one the
    rule would not have matched. tests/test_rules_cues.py checks every cue on every corpus."""

    max_words: int | None = None
    starts: str | None = None
    holds: tuple[str, ...] = ()
    finds: str | None = None
    test: Callable[[Line], bool] | None = None
    whole: str | None = None  # the normal form is entirely this pattern

    @property
    def any_line(self) -> bool:
        return (
            self.starts is None
            and not self.holds
            and self.finds is None
            and self.test is None
            and self.whole is None
        )

    def admits(self, line: Line) -> bool:
        if self.max_words is not None and len(line.words) > self.max_words:
            return False
        return (
            self.any_line
            or (self.starts is not None and re.match(self.starts, line.norm) is not None)
            or any(s in line.norm for s in self.holds)
            or (self.finds is not None and re.search(self.finds, line.norm) is not None)
            or (self.test is not None and self.test(line))
            or (self.whole is not None and re.fullmatch(self.whole, line.norm) is not None)
        )


@dataclass(frozen=True)
class LineRule:
    name: str
    description: str
    matches: Callable[[Line], bool]
    cue: Cue = Cue()


def _rule(name: str, description: str, matches: Callable[[Line], bool], cue: Cue | None = None) -> LineRule:
    """A line rule; a `_full` one has its own pattern and word bound for cue unless given one."""
    if cue is None:
        cue = Cue(matches.max_words, whole=matches.pattern)  # type: ignore[attr-defined]
    return LineRule(name, description, matches, cue)


def _full(pattern: str, max_words: int | None = None) -> Callable[[Line], bool]:
    """A rule that matches when the normalised line is entirely the pattern."""
    compiled = re.compile(pattern)

    def matches(line: Line) -> bool:
        if max_words is not None and len(line.words) > max_words:
            return False
        return compiled.fullmatch(line.norm) is not None

    matches.pattern, matches.max_words = pattern, max_words  # type: ignore[attr-defined]  # for its cue
    return matches


# Trailing punctuation and arrows after a prompt ("»" is folded to '"' by normalisation).
_END = r"[\s.:!?\"»>›→…|\-]*"

_READ_MORE = _full(
    r"(?:(?:read|see) (?:more|also|next|the full (?:story|article))|continue reading"
    r"(?: (?:the )?(?:main story|article|story|below))?|keep reading|read on|full story"
    r"|click here to read more|more on this story|story continues below(?: advertisement)?"
    r"|read (?:the )?(?:full|whole|complete) (?:story|article|report))"
    + _END
    # "READ MORE: Ferry timetable cut as strike bites": a teaser link, not a sentence.
    + r"|(?:read more|also read|read also|see also|read next|more|watch|listen|recommended"
    r"|(?:next|previous|prev) (?:article|post|story))"
    r"\s*[:|»›>\-]\s*.*[^.\s]",
    max_words=25,
)

_RELATED_INLINE = _full(
    r"(?:related|related (?:article|story|coverage|reading))\s*[:|»›>\-]\s*.+"
    r"|(?:related \w+|you (?:may|might) (?:also )?like|more on (?:this|the) (?:topic|story))\s*:\s*.+",
    25,
)

_COMMENT = _full(
    r"(?:leave a (?:reply|comment)(?: to .+)?|post (?:a |your )?comment|add (?:a |your )?comment"
    r"|submit(?: a)? comment|\d* ?comments?(?: \(\d+\))?|(?:view|show|hide|read|load)(?: all| more)?"
    r" comments(?: \(\d+\))?|join the (?:conversation|discussion|debate)|be the first to comment.*"
    r"|you must be logged in to (?:post a )?comment.*|log ?in to (?:comment|reply).*"
    r"|your email address will not be published.*|required fields are marked.*"
    r"|save my name, email,? and website in this browser.*|cancel reply|reply"
    r"|(?:name|e-?mail|website|comment)\s*\*|what do you think\?|have your say.*"
    r"|comments are closed\.?|this site uses akismet to reduce spam.*"
    r"|\d+ (?:responses?|replies|thoughts) (?:to|on) .+)" + _END,
    max_words=40,
)

_SHARE_WORDS = {
    "share",
    "this",
    "article",
    "story",
    "post",
    "page",
    "on",
    "via",
    "facebook",
    "twitter",
    "x",
    "linkedin",
    "whatsapp",
    "email",
    "e-mail",
    "mail",
    "print",
    "reddit",
    "telegram",
    "pinterest",
    "copy",
    "link",
    "copied",
    "tweet",
    "messenger",
    "flipboard",
    "pocket",
    "threads",
    "bluesky",
    "sms",
    "opens",
    "in",
    "new",
    "window",
    "tab",
    "click",
    "to",
    "the",
    "with",
    "your",
    "friends",
    "save",
    "gift",
    "bookmark",
    "url",
}
_SHARE_ANCHORS = {
    "share",
    "facebook",
    "twitter",
    "linkedin",
    "whatsapp",
    "email",
    "e-mail",
    "print",
    "reddit",
    "telegram",
    "pinterest",
    "tweet",
    "flipboard",
    "bluesky",
    "copy",
}


def _share(line: Line) -> bool:
    tokens = line.words
    return (
        0 < len(tokens) <= 20
        and all(t in _SHARE_WORDS for t in tokens)
        and any(t in _SHARE_ANCHORS for t in tokens)
    )


_SUBSCRIBE = _full(
    r"(?:subscribe(?: now| today| here| for free)?|sign up(?: now| here| for free)?|newsletter"
    r"|(?:subscribe|sign up|opt in) (?:to|for|with) .+|get (?:our|the) .*newsletter.*"
    r"|.*(?:delivered|sent|straight) (?:straight |directly )?to your inbox.*"
    r"|follow us(?: on .+)?|join (?:our|the) .*(?:newsletter|mailing list|channel|community).*"
    r"|download (?:our|the) .*\bapp\b.*|enter your e-?mail(?: address)?.*"
    r"|already (?:a subscriber|have an account)\??.*|(?:support|fund) (?:independent|our|quality) journalism.*"
    r"|become a (?:member|subscriber|supporter).*|unlock (?:full|unlimited) access.*"
    r"|you have reached your (?:limit|free article).*"
    # The pitch inside a sentence: "For daily tips, sign up for our newsletter."
    r"|.*\b(?:sign up|subscribe|join)\b.{0,40}\b(?:newsletter|mailing list|updates|notifications)\b.*"
    r"|(?:would you like|do you want) to (?:receive|get) (?:notifications|updates|alerts).*"
    r"|get (?:the latest|our latest) (?:news|updates|stories)\b.*)" + _END,
    max_words=35,
)

_COPYRIGHT = _full(
    r"(?:©|\(c\)|copyright\s*(?:©|\(c\)|\d{4}|by\b|of\b|\d{4}\s*-)).*"
    r"|.{0,160}\ball rights reserved\b.*|.{0,80}©\s*\d{4}.*",
    max_words=35,
)

_AGENCIES = (
    r"afp|reuters|ap|associated press|getty images|getty|epa|epa-efe|efe|shutterstock|bloomberg"
    r"|xinhua|kyodo|yonhap|anp|dpa|pa|pa wire|pa media|alamy|istock|aap|ansa|anadolu|tass"
)
_MONTH_NAMES = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)

_SYNDICATION = _full(
    # "Originally published on fr.news.yahoo.com": where, not when ("Originally published in
    # March 2022" is the article's own history).
    r"(?:this (?:article|story|post|piece|report|content) (?:was|is|has been) )?"
    r"(?:originally|first) (?:published|posted|appeared|ran)"
    r"(?: (?:on|in|at|by|with)\b(?! (?:" + _MONTH_NAMES + r")\b| \d)).*"
    r"|(?:this )?(?:article|story|post|piece) (?:first )?(?:appeared|ran) (?:on|in|at)\b.*"
    r"|(?:this (?:article|story|post|piece) (?:was|is|has been) )?(?:republished|reprinted|"
    r"syndicated|reproduced) (?:from|with|by|under|courtesy)\b.*"
    # "Source: AFP", "Via: reuters.com"; not "Source: 2023 NAIC Health Insurance Report", the
    # source of a figure the article shows.
    r"|(?:source|via|courtesy of)\s*:\s*(?:(?:" + _AGENCIES + r")\b[\s,/&]*)+"
    r"|(?:source|via|courtesy of)\s*:\s*(?:[\w-]+\.)+[a-z]{2,}/?\S*",
    max_words=30,
)

_PHOTO = r"(?:photo|image|picture|photograph|video|graphic|illustration)s?\b"
# What names a credit after the picture's word: "Photo courtesy of", "Image credit:", "Photo:".
# Without it the word is content: "..., image quality can't be beat", "(photo, video, florist)".
_CREDIT = r"(?:\s+(?:courtesy|by)\b(?:\s+of)?\s*:?|\s+(?:credits?|sources?)\s*:|\s*:)"
_CAPTION_PATTERNS = tuple(
    re.compile(p)
    for p in (
        # A credit line: "Photo: Jens Varga / Harbour Herald", "Image credit: Getty". Not
        # "Graphics: Nvidia RTX 4050" or "Video: ..." (a spec sheet, an embed's title).
        rf"\(?(?:photo|image|picture|photograph|illustration)s?\b{_CREDIT}.*",
        # A caption ending in its credit: "..., Photo courtesy: Reuters", "... (Photo: AP)".
        rf".*[.,;]\s*\(?{_PHOTO}{_CREDIT}\s*[^.:]{{1,60}}\)?",
        rf".*\({_PHOTO}{_CREDIT}?\s*[^.:]{{1,60}}\)",
        # "In this photo taken on March 3, ...", "File photo: ...", "Pictured: ..."
        r"\(?(?:in this|this) (?:file |handout |undated |aerial |combination )?(?:photo|image|picture|photograph)\b.*",
        r"\(?(?:file|handout|stock|archive) (?:photo|image|picture)\b.*",
        r"pictured(?: above| below| left| right| here)?\s*:.*",
        # Agency credit at the end: "... on Tuesday. Jens Varga / AFP", "(AFP Photo/Jo Lee)".
        rf".*[/|]\s*(?:{_AGENCIES})(?: (?:photo|via getty images|pool))?\s*\)?",
        rf".*\((?:{_AGENCIES})(?: photo)?\s*/[^)]{{1,40}}\)|.*\((?:{_AGENCIES}) photo\)",
    )
)


# Every caption pattern needs one of these: most lines have none, and are spared the eight
# patterns, half of which try every position of the line.
_CAPTION_CUES = ("photo", "image", "picture", "video", "graphic", "illustration", "/", "|")


def _caption(line: Line) -> bool:
    return (
        len(line.words) <= 80
        and any(cue in line.norm for cue in _CAPTION_CUES)
        and any(p.fullmatch(line.norm) for p in _CAPTION_PATTERNS)
    )


_NAVIGATION = _full(
    r"(?:[-*•] )?"  # written as a list item
    r"(?:(?:advertisement|advertisment)+|advert|ad|sponsored(?: content)?|skip to (?:main )?content"
    r"|skip to navigation|menu|main menu|search|close|back to top|scroll to top|toggle navigation"
    r"|open menu|sign in|log ?in|log out|register|my account|home|homepage|top|next|previous"
    r"|(?:next|previous|prev) (?:article|story|post)|page \d+ of \d+|(?:\d+ )+(?:next|last)"
    r"|loading(?:\.\.\.)?|listen to this article|\d+ min(?:ute)?s? read(?: time)?|print this page"
    # The table of contents' heading (trafilatura drops the list of links under it).
    r"|table of contents|contents|in this article|on this page|back to (?:blog|blogs|news|articles|all posts)"
    r"|blog index|(?:accept|reject|manage) (?:all )?cookies.*|we use cookies.*)" + _END,
    max_words=25,
)

# The buttons of a page, left as lines: "Book a demo", "Check Price on Amazon", "Learn more".
_CALL_TO_ACTION = _full(
    r"(?:(?:book|schedule|request) (?:a |your |free )*(?:demo|quote|call|consultation)"
    r"|get started(?: today| now| for free)?|(?:view|check price|buy|shop) (?:on|at) amazon"
    r"|see (?:packages|plans|pricing|deals?|price)|pin (?:it )?for later|contact info|get in touch"
    r"|learn more|shop now|buy now|download now|try (?:it )?(?:for )?free|sign up now"
    r"|start (?:your )?free trial|free \d+-day trial|get (?:a |your )?(?:free )?quote|call (?:us )?(?:now|today))"
    + _END,
    max_words=8,
)

_BYLINE = re.compile(
    r"(?i:by|written by|words by|reporting by)\s+"
    r"[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|de|van|von|da|del|bin|al))*"
    # "and" is a word of its own: glued to the names around it ("XxandXxand..."), each "and"
    # could end a name or be part of it, and a line that fails to match took exponential time.
    r"(?:(?:\s*[,&]|\s+and)\s*[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+)*)*"
    r"(?:\s*[,|\-–—]\s*[\w.'’ ]{2,40})?"
)


_BYLINE_PREFIX = re.compile(r"(?:written by|words by|reporting by|by)\s+")
_AGENCY = re.compile(_AGENCIES)


def _byline(line: Line) -> bool:
    if len(line.words) > 12 or line.text.endswith(".") or _BYLINE.fullmatch(line.text) is None:
        return False
    # A name has two words or more, unless it is an agency's ("By AFP"): "By Functionality"
    # and "By Audience" head the entries of a menu.
    name = words(_BYLINE_PREFIX.sub("", line.norm, count=1).split(",")[0])
    return len(name) >= 2 or (len(name) == 1 and _AGENCY.fullmatch(name[0]) is not None)


_TAGS = _full(r"(?:tags|topics|filed under|categories|category|keywords|more on)\s*:.*", 30)


# The caption's alternatives that can start anywhere in the line: an agency's credit after a
# slash, a bar or a bracket, a picture's word in brackets, or one with its credit after
# punctuation. Each is looked for only in a line holding its sign or word, with a pattern
# that opens with one character: `in` and such a search run ten times quicker than a search
# for a set of characters.
_SIGNED_CREDITS = (
    ("/", re.compile(rf"/\s*(?:{_AGENCIES})\b")),
    ("|", re.compile(rf"\|\s*(?:{_AGENCIES})\b")),
    ("(", re.compile(rf"\((?:{_AGENCIES})\b|\({_PHOTO}")),
)
_CREDITED_PICTURE = re.compile(rf"[.,;]\s*\(?{_PHOTO}{_CREDIT}")


def _caption_cue(line: Line) -> bool:
    norm = line.norm
    for sign, credit in _SIGNED_CREDITS:
        if sign in norm and credit.search(norm) is not None:
            return True
    for word in _CAPTION_CUES[:6]:  # the picture's words
        if word in norm:
            return _CREDITED_PICTURE.search(norm) is not None
    return False


def _timestamp(line: Line) -> bool:
    return is_timestamp_line(line.text)


def _share_cue(line: Line) -> bool:
    return bool(line.words) and line.words[0] in _SHARE_WORDS and line.words[-1] in _SHARE_WORDS


# A superset of the characters `str.isdigit` takes for digits: `\d` (decimal digits) and the
# superscript, subscript, circled and other digits (tests/test_rules_cues.py checks it over
# all of Unicode).
_DIGIT = re.compile(
    r"[\d\xb2\xb3\xb9\u1369-\u1371\u19da\u2070-\u2089\u2460-\u24ff\u2776-\u2793"
    r"\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a\U0001f100-\U0001f10a]"
)
# The words a date's words ("a.m.", "sept", "CEST") are made of; tests/test_rules_cues.py checks
# that they are all of `timestamps`' date words.
_DATE_PIECES = frozenset(
    (
        "jan january feb february mar march apr april may jun june jul july aug august sep sept september "
        "oct october nov november dec december mon monday tue tues tuesday wed wednesday thu thur thurs "
        "thursday fri friday sat saturday sun sunday at on of the am pm a m p h hrs uhr"
    ).split()
) | {zone.lower() for zone in TZ_OFFSETS_HOURS}


# The words of `timestamps`' label ("Published on:", "First posted", "Pub date"); a word
# starting with one of them may be the label glued to the date ("Published2026").
_LABEL_WORDS = tuple(
    "first last originally published posted updated modified created written uploaded date time pub on at".split()
)


# "ago" in any case: no other character is one of its letters to case-insensitive matching.
_AGO = tuple(a + g + o for a in "aA" for g in "gG" for o in "oO")


def _timestamp_cue(line: Line) -> bool:
    """A relative timestamp ends in "ago". An absolute one (`timestamps._date_part`) is at
    most 80 characters long, has a digit (its year's or its day's), and every word of it is
    a piece of a date's word, a number (it has a digit: "2026", "35pm", "02t12") or its label."""
    text = line.text.strip()
    if text.endswith(_AGO):
        return True
    if len(text) > 80 or not line.words:
        return False
    last = line.words[-1]  # the commonest turn-away: content ends in a word of its own
    if (last not in _DATE_PIECES and _DIGIT.search(last) is None) or _DIGIT.search(text) is None:
        return False
    if "ı" in text or "İ" in text:
        return True  # the label is matched ignoring case, and these are an "i" to it ("Fırst")
    return all(
        w in _DATE_PIECES or _DIGIT.search(w) is not None or w.startswith(_LABEL_WORDS) for w in line.words
    )


# A rule that is one pattern has it for cue; the other cues are read off their rules: the
# words their alternatives start with, the phrases their unanchored alternatives need, their
# word bounds.
LINE_RULES: tuple[LineRule, ...] = (
    _rule("read_more", "READ MORE / continue reading links and teaser links", _READ_MORE),
    _rule("related", "'Related: ...' inline teaser", _RELATED_INLINE),
    _rule("comment_prompt", "comment forms and prompts (Leave a Reply, Post Comment)", _COMMENT),
    # Every word of a share line is a share word: its first and last too.
    _rule("share_prompt", "share buttons and prompts", _share, Cue(20, test=_share_cue)),
    # Alternatives starting with ".*" would make the pattern slow to try on every line.
    _rule(
        "subscribe_prompt",
        "subscribe, newsletter, follow and app prompts",
        _SUBSCRIBE,
        Cue(
            35,
            r"subscribe|sign up|newsletter|opt in|get (?:our|the)|follow us|join (?:our|the)"
            r"|download (?:our|the)|enter your|already (?:a|have)|(?:support|fund) (?:independent|our|quality)"
            r"|become a|unlock|you have reached|would you like|do you want",
            # "... delivered to your inbox", "... sign up for our newsletter."
            ("to your inbox", "newsletter", "mailing list", "updates", "notifications"),
        ),
    ),
    _rule(
        "copyright",
        "copyright and all-rights-reserved lines",
        _COPYRIGHT,
        Cue(35, r"\(c\)|copyright", ("©", "all rights reserved")),
    ),
    _rule("syndication_credit", "'originally published on ...' credits", _SYNDICATION),
    # A caption starts with a picture's word ("Photo: ...", "In this photo", "File photo",
    # "Pictured: ..."), has one with its credit after punctuation or in brackets ("..., Photo
    # courtesy: Reuters", "(Photo: AP)"), or ends in an agency's credit ("... / AFP",
    # "(AP Photo/Jo Lee)").
    _rule(
        "photo_caption",
        "photo captions and photo credits",
        _caption,
        Cue(
            80,
            r"\(?(?:photo|image|picture|illustration|pictured|(?:in )?this (?:\w+ )?(?:photo|image|picture)"
            r"|(?:file|handout|stock|archive) (?:photo|image|picture))",
            test=_caption_cue,
        ),
    ),
    _rule(
        "timestamp",
        "bare publication timestamps (parsed into `published`)",
        _timestamp,
        Cue(test=_timestamp_cue),
    ),
    _rule(
        "navigation",
        "navigation, ads and page furniture (Skip to content, Menu, Table of Contents)",
        _NAVIGATION,
    ),
    _rule(
        "call_to_action",
        "buttons left as lines (Book a demo, Learn more, Check Price on Amazon)",
        _CALL_TO_ACTION,
    ),
    # The byline is matched on the text, case-insensitively: its normal form starts with "by "
    # or the case-folded first letters of "written by", "words by", "reporting by" ("wrıtten",
    # with a dotless i, is "written" to the pattern and not to case-folding).
    _rule(
        "byline",
        "a bare byline ('By Mara Quint'); the name goes to `author`",
        _byline,
        Cue(12, r"by |wr|words by|report"),
    ),
    _rule("tags", "tag and topic lists", _TAGS),
)


class _Tier(NamedTuple):
    """The cues of the rules that allow a line of so many words, combined."""

    any_line: bool  # a rule with no cue allows any line of that length
    starts: re.Pattern | None  # the `starts` and `whole` patterns, for `re.match`
    holds: tuple[str, ...]
    finds: re.Pattern | None
    tests: tuple[Callable[[Line], bool], ...]


def _either(patterns: list[str | None]) -> re.Pattern | None:
    found = [f"(?:{p})" for p in patterns if p is not None]
    return re.compile("|".join(found)) if found else None


def _tier(cues: list[Cue]) -> _Tier:
    whole = _either([c.whole for c in cues])
    return _Tier(
        any(c.any_line for c in cues),
        _either([c.starts for c in cues] + [whole and rf"(?:{whole.pattern})\Z"]),
        tuple(dict.fromkeys(s for c in cues for s in c.holds)),
        _either([c.finds for c in cues]),
        tuple(c.test for c in cues if c.test is not None),
    )


# _TIERS[n]: the cues of the rules allowing a line of n words; the last stands for any
# longer line too.
_LONGEST = max(r.cue.max_words or 0 for r in LINE_RULES) + 1
_TIERS: tuple[_Tier, ...] = tuple(
    _tier([r.cue for r in LINE_RULES if r.cue.max_words is None or r.cue.max_words >= n])
    for n in range(_LONGEST + 1)
)


# Rules applied by cleaner.clean.lines with the whole page or run in view.
CONTEXT_RULES: dict[str, str] = {
    "headline": "the headline repeated in the body (it goes to the `title` column)",
    "breadcrumb": "breadcrumb trails (Home › World › Europe)",
    "site_name": "the site's name (masthead line above the headline, or the known site name)",
    "tagline": "the site's tagline or slogan in the masthead above the headline",
    "section_label": "section labels (Politics, World News) and breadcrumb sections",
    "related": "'Related Articles' / 'You may also like' / 'Most read' blocks with their teasers",
    "teaser_list": "lists of other stories' headlines and teasers cut off with an ellipsis (index pages)",
    "debris": "scraping debris: lines of symbols only, and lone lower-case fragments among chrome",
    "learned": "a line recurring across several articles of the same site in this run",
}

# Rules that recognise English phrases ("Read more", "Leave a Reply", "Politics"): a page
# identified as written in another language is spared them, so that its own words ("Comment"
# in French, "Home" in German) are never taken for chrome. The structural rules (headline,
# breadcrumb, masthead, debris, timestamps, copyright signs, learned boilerplate) apply to all.
ENGLISH_RULES = frozenset(
    {
        "read_more",
        "related",
        "comment_prompt",
        "share_prompt",
        "subscribe_prompt",
        "syndication_credit",
        "photo_caption",
        "navigation",
        "call_to_action",
        "byline",
        "tags",
        "section_label",
    }
)

# "related" is both a line rule (an inline "Related: ..." link) and a block rule.
RULE_NAMES: tuple[str, ...] = tuple(dict.fromkeys([*(r.name for r in LINE_RULES), *CONTEXT_RULES]))


def match_line(line: str | Line, disabled: frozenset[str] = frozenset()) -> str | None:
    """Name of the first line rule that marks this line as boilerplate, or None."""
    if isinstance(line, str):
        line = Line.of(line)
    if not _may_match(line):
        return None
    return match_every_rule(line, disabled)


def _may_match(line: Line) -> bool:
    """Whether the line passes some rule's cue: only then can a rule match it."""
    n = len(line.words)
    tier = _TIERS[n] if n < _LONGEST else _TIERS[_LONGEST]
    norm = line.norm
    if tier.any_line or (tier.starts is not None and tier.starts.match(norm) is not None):
        return True
    for s in tier.holds:
        if s in norm:
            return True
    if tier.finds is not None and tier.finds.search(norm) is not None:
        return True
    for test in tier.tests:  # noqa: SIM110 (a loop costs less than any() over a generator)
        if test(line):
            return True
    return False


def match_every_rule(line: Line, disabled: frozenset[str] = frozenset()) -> str | None:
    """`match_line` by trying every rule in turn."""
    for rule in LINE_RULES:
        if rule.name not in disabled and rule.matches(line):
            return rule.name
    return None


_WORD_CHAR = re.compile(r"[^\W_]")
# A markdown table row as trafilatura writes tables ("| a | b |", "|---|---|"), and the
# brackets of code: structure of the content, not debris.
_TABLE_ROW = re.compile(r"\|.*\|")
_CODE_PUNCTUATION = re.compile(r"[{}()\[\];]")


def is_debris(line: str) -> bool:
    """Scraping debris: a line with no letter and no digit ("|", "»", "• • •", "↓"), but
    for a table row and the brackets of code. Digits make a line content: prices, phone
    numbers, scores, table cells."""
    if _WORD_CHAR.search(line):
        return False
    text = line.strip()
    return not (_TABLE_ROW.fullmatch(text) or _CODE_PUNCTUATION.search(text))


def is_fragment(line: str, max_letters: int) -> bool:
    """A lone lower-case fragment of fewer than `max_letters` letters and nothing else but
    symbols ("ss", "f", "in": what icon fonts leave of share buttons). Such a line is also
    a word of code, a quotation or a list ("by", "i++", "vs."), so it is debris only among
    chrome (`cleaner.clean.lines` checks its neighbours)."""
    found = _WORD_CHAR.findall(line)
    return 0 < len(found) < max_letters and all(c.islower() for c in found)


# Headings that open a block of links to other articles.
RELATED_HEADING = re.compile(
    r"(?:related(?: articles?| stories| news| posts?| content| coverage| reading| links| topics"
    r"| publications| reports| videos| guides)?"
    r"|(?:you|we think you) (?:may|might|will|could) (?:also )?(?:like|enjoy|be interested in)"
    r"(?: (?:the following|these) \w+)?"
    r"|more (?:from|in|on|stories|articles|news)(?: .{1,40})?|most (?:read|popular|viewed|shared|commented)"
    r"(?: (?:today|this week|stories|articles))?|recommended(?: for you| stories| articles| reading)?"
    r"|trending(?: now| stories| today)?|(?:read|watch) (?:next|also)|also read|also on .{1,40}"
    r"|popular (?:now|stories|articles|posts|today)|top stories|latest(?: news| stories| posts| articles)?"
    r"|see also|what to read next|editor'?s picks?|don'?t miss|in (?:other|case you missed).{0,20}"
    r"|around the web|from (?:our|the) partners|sponsored stories|more headlines|elsewhere on .{1,40})"
    r"[\s:.»›>|\-]*"
)

SECTION_NAMES = frozenset(
    name.strip()
    for name in """world|world news|news|latest news|local|local news|national|national news
    |international|politics|business|economy|markets|money|finance|opinion|opinions|comment
    |editorial|analysis|sport|sports|football|soccer|technology|tech|science|health|culture
    |arts|entertainment|lifestyle|life|travel|food|environment|climate|education|crime|justice
    |weather|obituaries|europe|asia|africa|americas|middle east|asia pacific|asia-pacific|uk
    |us|u.s.|usa|region|features|feature|investigations|exclusive|breaking|breaking news|live
    |video|videos|photos|podcasts|podcast|in depth|explainer|fact check|uk news|us news
    |business news|world politics""".split("|")
)
