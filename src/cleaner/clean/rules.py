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
needs), and `match_lines` tries a page's lines only on the rules whose cue they pass. The
cues are checked against the rules on every corpus we have (tests/test_rules_cues.py).
"""

from __future__ import annotations

import functools
import re
import re._compiler as _compiler
import re._constants as _c
import re._parser as _parser
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from cleaner.text import collapse_spaces, normalize, words
from cleaner.timestamps import MAX_CHARS as TIMESTAMP_CHARS
from cleaner.timestamps import TZ_OFFSETS_HOURS, is_timestamp_line


class Line(NamedTuple):
    """A paragraph as the rules see it, its normal form and words computed once."""

    text: str
    norm: str
    words: list[str]

    @classmethod
    def of(cls, text: str, collapsed: bool = False) -> Line:
        """The line of `text`; `collapsed`: its spaces are collapsed already (`collapse_spaces`)."""
        # An ASCII line, most of them, skips NFC and the punctuation fold, which change no
        # ASCII character: `normalize` less its 1.3 µs of `str.translate`. Lower-casing it
        # leaves its spaces as they were, collapsed or not.
        if text.isascii():
            norm = text.lower() if collapsed else collapse_spaces(text.lower())
        else:
            norm = normalize(text)
        return cls(text, norm, words(norm))


@dataclass(frozen=True)
class Cue:
    """What every line a rule matches has: at most `max_words` words (None: any number), and
    a normal form that starts with the pattern `starts`, or passes `test`. A rule that is one
    pattern (`_full`) has its pattern for cue, as `whole`.

    The test runs only on a line with a sign that it may pass, when the cue gives some: one of
    the `words` (words of the line as `cleaner.text.words` splits it: "photo's" is one word),
    one of the strings `holds`, or a last word in `last` or made of more than letters. A cue
    with such signs and no test is passed by a line with one of them; a cue with nothing is
    passed by any line within its bound.

    `match_lines` combines the cues of the rules allowing a line's word count: their `starts`
    and `whole` patterns split into alternatives by the character they can start with, their
    words in one set, their strings each looked for once; most lines have none.

    A cue is a necessary condition of its rule, never a guess: a line it turns away is one the
    rule would not have matched. tests/test_rules_cues.py checks every cue on every corpus."""

    max_words: int | None = None
    starts: str | None = None
    holds: tuple[str, ...] = ()
    test: Callable[[Line], bool] | None = None
    whole: str | None = None  # the normal form is entirely this pattern
    words: frozenset[str] = frozenset()
    last: frozenset[str] | None = None
    # Narrower tests for the strings of `holds`: a line with one of `words` has had `test`
    # by the time its strings are looked at, so a line holding a string is given that
    # string's `held` test instead, when it has one. On a line without the words, `test`
    # must pass exactly when the held test of some string it holds passes, and a held test
    # never passes a line `test` turns away (tests/test_rules_cues.py checks both).
    held: tuple[tuple[str, Callable[[Line], bool]], ...] = ()
    # Strings, each with its test, that stand for `words` where no other cue has words: a
    # word costs a hash, and `in` over a long line costs less than hashing its fifty words.
    # Every line `test` passes by one of `words` holds one of them and passes its test; a
    # test here never passes a line `test` turns away (tests/test_rules_cues.py checks both).
    instead: tuple[tuple[str, Callable[[Line], bool]], ...] = ()

    @property
    def gated(self) -> bool:
        """Whether the test (or passing, without one) needs a sign: words, strings, last word."""
        return bool(self.words or self.holds or self.instead) or self.last is not None

    @property
    def any_line(self) -> bool:
        return self.starts is None and self.whole is None and not self.gated and self.test is None

    def admits(self, line: Line) -> bool:
        _, norm, tokens = line
        if self.max_words is not None and len(tokens) > self.max_words:
            return False
        sign = (
            not self.words.isdisjoint(tokens)
            or any(s in norm for s in self.holds)
            or any(s in norm for s, _ in self.instead)
            or (
                self.last is not None
                and bool(tokens)
                and (tokens[-1] in self.last or not tokens[-1].isalpha())
            )
        )
        return (
            self.any_line
            or (self.starts is not None and re.match(self.starts, norm) is not None)
            or (self.whole is not None and re.fullmatch(self.whole, norm) is not None)
            or (
                (sign or not self.gated)
                and (self.test is not None or self.gated)
                and (self.test is None or self.test(line))
            )
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

_PICTURES = ("photo", "image", "picture", "photograph", "video", "graphic", "illustration")
_PHOTO = rf"(?:{'|'.join(_PICTURES)})s?\b"
# What names a credit after the picture's word: "Photo courtesy of", "Image credit:", "Photo:".
# Without it the word is content: "..., image quality can't be beat", "(photo, video, florist)".
_CREDIT = r"(?:\s+(?:courtesy|by)\b(?:\s+of)?\s*:?|\s+(?:credits?|sources?)\s*:|\s*:)"
# How a caption may open: its credit ("Photo: Jens Varga / Harbour Herald", "Image credit:
# Getty"; not "Graphics: Nvidia RTX 4050" or "Video: ...", a spec sheet, an embed's title),
# "In this photo taken on March 3, ...", "File photo: ...", "Pictured: ...".
_CAPTION_OPENINGS = (
    rf"\(?(?:photo|image|picture|photograph|illustration)s?\b{_CREDIT}",
    r"\(?(?:in this|this) (?:file |handout |undated |aerial |combination )?(?:photo|image|picture|photograph)\b",
    r"\(?(?:file|handout|stock|archive) (?:photo|image|picture)\b",
    r"pictured(?: above| below| left| right| here)?\s*:",
)
_CAPTION_PATTERNS = tuple(
    re.compile(p)
    for p in (
        *(opening + ".*" for opening in _CAPTION_OPENINGS),
        # A caption ending in its credit: "..., Photo courtesy: Reuters", "... (Photo: AP)".
        rf".*[.,;]\s*\(?{_PHOTO}{_CREDIT}\s*[^.:]{{1,60}}\)?",
        rf".*\({_PHOTO}{_CREDIT}?\s*[^.:]{{1,60}}\)",
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
    ("(", re.compile(rf"\((?:(?:{_AGENCIES})\b|{_PHOTO})")),
)
_CREDITED_PICTURE = re.compile(rf"[.,;]\s*\(?{_PHOTO}{_CREDIT}")


# What a caption's credit has wherever it is in the line: the sign before an agency's credit
# (or a picture's word glued to an apostrophe: "(Photo's ...)"), or a picture's word.
_CAPTION_SIGNS = tuple(sign for sign, _ in _SIGNED_CREDITS)
_PICTURE_WORDS = frozenset(w + s for w in _PICTURES for s in ("", "s"))


def _caption_cue(line: Line) -> bool:
    """A credit after its sign, or a picture's word with its credit after it."""
    norm = line.norm
    for sign, credited in _CREDITED_AFTER_SIGN:
        if sign in norm and credited(line):
            return True
    return _credited_picture(line)


def _credited_after(credit: re.Pattern) -> Callable[[Line], bool]:
    """The caption cue's test on a line holding a credit's sign and no picture's word: that
    sign's credit. (A sixth of real lines hold "(", "|" or "/", and most have no picture's
    word: the whole test would look for every sign and every word of the line again.)"""

    def credited(line: Line) -> bool:
        return credit.search(line.norm) is not None

    return credited


_CREDITED_AFTER_SIGN = tuple((sign, _credited_after(credit)) for sign, credit in _SIGNED_CREDITS)


def _credited_picture(line: Line) -> bool:
    """The caption cue's test but for the signed credits: a picture's word with its credit
    after it, a word of the line ("photo" in ", photo:")."""
    return _CREDITED_PICTURE.search(line.norm) is not None and not _PICTURE_WORDS.isdisjoint(line.words)


def _credit_at(sign: str, before: str) -> Callable[[Line], bool]:
    """`_credited_picture` on a line holding `sign` right after the pattern `before`: what
    each credit of `_CREDITED_PICTURE` without a sign has. `before` is looked for only in
    the characters it can span before each place of the sign, a few dozen where the line
    may have hundreds (a normal form's spaces are single: its width is bounded)."""
    pattern = re.compile(before + r"\Z")
    reach = _parser.parse(before).getwidth()[1]

    def credited(line: Line) -> bool:
        norm = line.norm
        at = norm.find(sign)
        while at >= 0:
            if pattern.search(norm, max(0, at - reach), at) is not None and _credited_picture(line):
                return True
            at = norm.find(sign, at + 1)
        return False

    return credited


# A picture's word credited without a sign: "photo by", "photo courtesy", "photo:", "image
# credit:", "picture source:" (`_CREDITED_PICTURE` in a normal form, its spaces single).
_PICTURE_BEFORE = rf"[.,;] ?\(?{_PHOTO}"
_CREDITS_UNSIGNED = (
    (" by", _credit_at(" by", _PICTURE_BEFORE)),
    (" courtesy", _credit_at(" courtesy", _PICTURE_BEFORE)),
    (":", _credit_at(":", rf"{_PICTURE_BEFORE}(?: (?:courtesy|by)\b(?: of)?| (?:credits?|sources?))? ?")),
)


def _timestamp(line: Line) -> bool:
    return is_timestamp_line(line.text)


# The subscribe pattern's alternatives that may start anywhere in the line: "... delivered
# straight to your inbox", "... sign up for our newsletter." The words of the second may be
# glued to an apostrophe ("the newsletter's"), and a line holding one is tested too.
_PITCH_WORDS = frozenset(("newsletter", "mailing", "updates", "notifications"))


def _subscribe_cue(line: Line) -> bool:
    return "to your inbox" in line.norm or _pitch_cue(line)


def _pitch_cue(line: Line) -> bool:
    """The subscribe cue's test on a line with an apostrophe and none of the cue's words:
    "to your inbox" has "your" for a word, so only the pitch can be there."""
    norm = line.norm
    return ("sign up" in norm or "subscribe" in norm or "join" in norm) and (
        "newsletter" in norm or "mailing list" in norm or "updates" in norm or "notifications" in norm
    )


def _copyright_cue(line: Line) -> bool:
    return "©" in line.norm or "all rights reserved" in line.norm


def _share_cue(line: Line) -> bool:
    return bool(line.words) and line.words[0] in _SHARE_WORDS and line.words[-1] in _SHARE_WORDS


# A superset of the characters `str.isdigit` takes for digits: `\d` (decimal digits) and the
# superscript, subscript, circled and other digits (tests/test_rules_cues.py checks it over
# all of Unicode).
_DIGIT = re.compile(
    r"[\d\xb2\xb3\xb9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u24ff\u2776-\u2793"
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


_AMOUNT_SIGNS = ("%", "$", "€", "£")

# "ago" in any case: no other character is one of its letters to case-insensitive matching.
_AGO = tuple(a + g + o for a in "aA" for g in "gG" for o in "oO")


def _timestamp_cue(line: Line) -> bool:
    """A relative timestamp ends in "ago". An absolute one (`timestamps._date_part`) is at
    most 80 characters long, has a digit (its year's or its day's), and every word of it is
    a piece of a date's word, a number (it has a digit: "2026", "35pm", "02t12") or its label."""
    text = line.text.strip()
    if text.endswith(_AGO):
        return True
    if len(text) > TIMESTAMP_CHARS or not line.words:
        return False
    # The commonest turn-away: content ends in a word of its own, and a word of letters
    # only has no digit (`str.isdigit` takes no letter for one).
    last = line.words[-1]
    if last not in _DATE_PIECES and (last.isalpha() or _DIGIT.search(last) is None):
        return False
    if "ı" in text or "İ" in text:
        return True  # the label is matched ignoring case, and these are an "i" to it ("Fırst")
    first = line.words[0]  # the next commonest: content starts with a word of its own
    if first.isalpha() and first not in _DATE_PIECES and not first.startswith(_LABEL_WORDS):
        return False
    # A price or a share is no date, though its words are numbers: "$13.55", "| 4/1/2018 |
    # +4.2% |" (a date's words and numbers hold none of these signs, nor does its label).
    if any(sign in text for sign in _AMOUNT_SIGNS):
        return False
    if _DIGIT.search(text) is None:
        return False
    # A word of letters only has no digit: only the others are searched for one.
    for w in line.words:
        if (
            w not in _DATE_PIECES
            and (w.isalpha() or _DIGIT.search(w) is None)
            and not w.startswith(_LABEL_WORDS)
        ):
            return False
    return True


# A rule that is one pattern has it for cue; the other cues are read off their rules: the
# words their alternatives start with, the phrases their unanchored alternatives need, their
# word bounds.
LINE_RULES: tuple[LineRule, ...] = (
    _rule("read_more", "READ MORE / continue reading links and teaser links", _READ_MORE),
    _rule("related", "'Related: ...' inline teaser", _RELATED_INLINE),
    _rule("comment_prompt", "comment forms and prompts (Leave a Reply, Post Comment)", _COMMENT),
    # Every word of a share line is a share word, its first and last too, and one of them
    # is a share button's.
    _rule(
        "share_prompt",
        "share buttons and prompts",
        _share,
        Cue(20, words=frozenset(_SHARE_ANCHORS), test=_share_cue),
    ),
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
            ("'",),
            test=_subscribe_cue,
            words=_PITCH_WORDS | {"your"},
            held=(("'", _pitch_cue),),
        ),
    ),
    _rule(
        "copyright",
        "copyright and all-rights-reserved lines",
        _COPYRIGHT,
        Cue(35, r"\(c\)|copyright", ("©",), test=_copyright_cue, words=frozenset(("rights",))),
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
            "|".join(_CAPTION_OPENINGS),
            _CAPTION_SIGNS,
            test=_caption_cue,
            words=_PICTURE_WORDS,
            held=_CREDITED_AFTER_SIGN,
            instead=_CREDITS_UNSIGNED,
        ),
    ),
    # A relative timestamp ends in the word "ago", an absolute one in a piece of a date or a
    # number. Either has at most 40 words: a relative one four, an absolute one at most 80
    # characters, and a word takes one and the space or sign after it another.
    _rule(
        "timestamp",
        "bare publication timestamps (parsed into `published`)",
        _timestamp,
        Cue(TIMESTAMP_CHARS // 2, test=_timestamp_cue, last=_DATE_PIECES | {"ago"}),
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


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """(position, character, depth) of each bracket and bar of a pattern that is one, not in
    a set or escaped; a bracket's depth is that of what is inside it."""
    depth, i, in_set = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 1
        elif in_set:
            in_set = c != "]"
        elif c == "[":
            in_set = True
            i += pattern.startswith("^", i + 1)
            i += pattern.startswith("]", i + 1)  # "[]...]", "[^]...]": a "]" first is itself
        elif c == "(":
            depth += 1
            yield i, c, depth
        elif c == ")":
            yield i, c, depth
            depth -= 1
        elif c == "|":
            yield i, c, depth
        i += 1


def _branches(pattern: str) -> list[str]:
    """The alternatives of a pattern at its top level (`a|b(?:c|d)` -> `a`, `b(?:c|d)`)."""
    bars = [i for i, c, depth in _structure(pattern) if c == "|" and depth == 0]
    return [pattern[i + 1 : j] for i, j in zip([-1, *bars], [*bars, len(pattern)], strict=True)]


# A pattern's first character made optional: a sign escaped or a character plain ("\\(?").
_OPTIONAL_CHARACTER = re.compile(r"(\\\W|[^\\()\[\]{}.*+?|^$])\?(?![?+])")


@functools.cache
def _alternatives(pattern: str) -> list[str]:
    """Alternatives a pattern matches what it matches with (as far as whether it matches):
    its top-level ones, with a group or an optional character opening one spread over them
    (`(?:a|b)c` -> `(?:a)c`, `(?:b)c`; `(?:a )?b` -> `(?:a )b`, `b`; `\\(?a` -> `\\(a`, `a`)."""
    found = []
    for branch in _branches(pattern):
        optional = _OPTIONAL_CHARACTER.match(branch)
        if optional is not None:
            rest = branch[optional.end() :]
            found += _alternatives(optional.group(1) + rest) + _alternatives(rest)
            continue
        end = next((i for i, c, depth in _structure(branch) if c == ")" and depth == 1), None)
        if not branch.startswith("(?:") or end is None:
            found.append(branch)
            continue
        inner, rest = branch[3:end], branch[end + 1 :]
        if rest.startswith("?") and not rest.startswith(("??", "?+")):
            found += _alternatives(f"(?:{inner}){rest[1:]}") + _alternatives(rest[1:])
        elif rest.startswith(("*", "+", "?", "{")):
            found.append(branch)
        elif len(_branches(inner)) == 1:  # a group of one sequence is that sequence
            found += _alternatives(inner + rest)
        else:
            found += [a for b in _branches(inner) for a in _alternatives(f"(?:{b}){rest}")]
    return found


class _First(NamedTuple):
    """The characters a pattern's match can start with: these, and those one of the sets
    `classes` takes (a category such as digits, a negated set, a wide range)."""

    chars: frozenset[str]
    classes: tuple[re.Pattern, ...]

    def takes(self, c: str) -> bool:
        return c in self.chars or any(p.fullmatch(c) for p in self.classes)


@functools.cache
def _first_characters(pattern: str) -> _First | None:
    """What a match of the pattern can start with, or None for any character (a wildcard,
    a pattern that may match the empty string and so match any line)."""
    parsed = _parser.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = _first_of(parsed)
    return None if found is None or found[2] else _First(frozenset(found[0]), tuple(found[1]))


def _one_character(op: object, av: object) -> re.Pattern:
    """The pattern of one parsed set, compiled as a pattern of `str` is (Unicode classes:
    `\\d` takes "٣" too)."""
    state = _parser.State()
    state.flags = re.UNICODE
    return _compiler.compile(_parser.SubPattern(state, [(op, av)]))


def _first_of(items: Iterable[tuple]) -> tuple[set[str], list[re.Pattern], bool] | None:
    """(the first characters of a parsed sequence, the sets taking others, whether it may
    be empty), or None for any character."""
    chars: set[str] = set()
    classes: list[re.Pattern] = []
    for op, av in items:
        if op is _c.LITERAL:
            first = {chr(av)}, [], False
        elif op is _c.IN:
            if all(member is _c.LITERAL for member, _ in av):
                first = {chr(v) for _, v in av}, [], False
            else:
                first = set(), [_one_character(op, av)], False
        elif op is _c.BRANCH:
            parts = [_first_of(p) for p in av[1]]
            if any(part is None for part in parts):
                return None
            first = (
                set().union(*(p[0] for p in parts)),  # type: ignore[index]
                [c for p in parts for c in p[1]],  # type: ignore[index]
                any(p[2] for p in parts),  # type: ignore[index]
            )
        elif op is _c.SUBPATTERN and not av[1] & re.IGNORECASE:
            first = _first_of(av[3])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            first = _first_of(av[2])
            if first is not None and av[0] == 0:
                first = first[0], first[1], True
        elif op is _c.ATOMIC_GROUP:
            first = _first_of(av)
        elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # no character of its own
            first = set(), [], True
        else:  # any character, a group's text again
            return None
        if first is None:
            return None
        chars |= first[0]
        classes += first[1]
        if not first[2]:
            return chars, classes, False
    return chars, classes, True


_Test = Callable[[Line], bool] | None


class _Tier(NamedTuple):
    """The cues of the rules that allow a line of so many words, combined."""

    first: dict[str, re.Pattern | None]  # the patterns `starts` has found so far
    starts: _ByFirstCharacter  # the `starts` and `whole` patterns, for `re.match`
    words: frozenset[str]  # the words of the cues with words
    by_word: dict[str, tuple[_Test, ...]]  # a word's cues' tests (None: a cue without one)
    strings: tuple[str, ...]  # the strings of `holds`
    by_string: dict[str, tuple[_Test, ...]]  # a string's cues' tests
    last: frozenset[str] | None  # the last words of the cues with some
    by_last: tuple[_Test, ...]
    tests: tuple[Callable[[Line], bool], ...]  # the tests of the other cues
    # after[k]: the rules whose cue a line may still pass once the checks before step k
    # (0 patterns, 1 words, 2 strings, 3 last word, 4 other tests) turned it away,
    # in their order: a line passing a cue at step k is tried on those rules only.
    after: tuple[tuple[LineRule, ...], ...]


def _either(patterns: list[str | None]) -> re.Pattern | None:
    found = [f"(?:{p})" for p in patterns if p is not None]
    return re.compile("|".join(found)) if found else None


class _ByFirstCharacter:
    """The alternatives of some patterns, grouped by the character they can start with: for
    a character, the pattern of the alternatives that can start with it, for `re.match` on
    a normal form starting with it (the engine visits every alternative of a pattern in turn,
    and these are some 500). An empty normal form ("") has them all. Each pattern is compiled
    when a line first needs it. (Picked by a line's first three characters, two fifths of
    real lines would try a pattern, not three quarters, but the table grows to thousands of
    openings and its lookups cost more than the patterns they spare.)"""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.alternatives = [(a, _first_characters(a)) for p in patterns for a in _alternatives(p)]
        # The patterns so far, in a plain dict: a line looks its character up here (a dict
        # subclass's lookup, with `__missing__`, took 35 ns more).
        self.found: dict[str, re.Pattern | None] = {}

    def __getitem__(self, c: str) -> re.Pattern | None:
        if c not in self.found:
            alternatives = (a for a, first in self.alternatives if first is None or c == "" or first.takes(c))
            self.found[c] = _compiled(tuple(alternatives))
        return self.found[c]


@functools.cache
def _compiled(alternatives: tuple[str, ...]) -> re.Pattern | None:
    return _either(list(alternatives))


@functools.cache  # most word counts have the cues of the next
def _tier(line_rules: tuple[LineRule, ...]) -> _Tier:
    cues = tuple(r.cue for r in line_rules)
    wholes = [rf"(?:{b})\Z" for c in cues if c.whole is not None for b in _alternatives(c.whole)]
    # A cue passed by any line within its bound starts with the empty pattern.
    starts = [c.starts for c in cues if c.starts is not None] + ["" for c in cues if c.any_line]
    # A cue's words are hashed only where another cue's must be; elsewhere its strings
    # `instead` stand for them.
    worded = [c for c in cues if c.words and (not c.instead or any(o.words and o is not c for o in cues))]
    words = sorted({w for c in worded for w in c.words})
    by_string: dict[str, list[_Test]] = {}
    for c in cues:
        for s in c.holds:
            by_string.setdefault(s, []).append(dict(c.held).get(s, c.test))
        if c.words and c not in worded:
            for s, test in c.instead:
                by_string.setdefault(s, []).append(test)
    lasts = [c for c in cues if c.last is not None]
    # Past step 0 a cue passes only by a test (a sign's, or one needing none); past step 1
    # every cue with one of the line's words has had its test; and so on.
    routes: tuple[Callable[[Cue], bool], ...] = (
        lambda c: True,
        lambda c: c.gated or c.test is not None,
        lambda c: bool(c.holds or c.instead) or c.last is not None or (c.test is not None and not c.gated),
        lambda c: c.last is not None or (c.test is not None and not c.gated),
        lambda c: c.test is not None and not c.gated,
    )
    by_first = _ByFirstCharacter(starts + wholes)
    return _Tier(
        by_first.found,
        by_first,
        frozenset(words),
        {w: tuple(c.test for c in worded if w in c.words) for w in words},
        tuple(by_string),
        {s: tuple(tests) for s, tests in by_string.items()},
        frozenset().union(*(c.last for c in lasts)) if lasts else None,  # type: ignore[misc]
        tuple(c.test for c in lasts),
        tuple(c.test for c in cues if c.test is not None and not c.gated),
        tuple(tuple(r for r in line_rules if route(r.cue)) for route in routes),
    )


def _tiers(line_rules: tuple[LineRule, ...]) -> tuple[_Tier, ...]:
    """tiers[n]: the cues of the rules allowing a line of n words; the last stands for any
    longer line too."""
    longest = max(r.cue.max_words or 0 for r in line_rules) + 1
    return tuple(
        _tier(tuple(r for r in line_rules if r.cue.max_words is None or r.cue.max_words >= n))
        for n in range(longest + 1)
    )


_TIERS = _tiers(LINE_RULES)
_LONGEST = len(_TIERS) - 1


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
    return match_lines((Line.of(line) if isinstance(line, str) else line,), disabled)[0]


def match_lines(lines: Iterable[Line], disabled: frozenset[str] = frozenset()) -> list[str | None]:
    """`match_line` of each line, in one call: a page's lines are matched together.

    The rules are tried only on a line passing some rule's cue; most lines pass none, and
    every step of the cues counts: they are most of the time of such a line (a call of its
    own would be a tenth of it)."""
    found: list[str | None] = []
    tiers, longest, first = _TIERS, _LONGEST, _first_rule
    for line in lines:
        _, norm, tokens = line
        n = len(tokens)
        first_seen, starts, words, by_word, strings, by_string, last, by_last, tests, after = tiers[
            n if n < longest else longest
        ]
        try:
            pattern = first_seen[norm[:1]]
        except KeyError:
            pattern = starts[norm[:1]]
        if pattern is not None and pattern.match(norm) is not None:
            found.append(first(line, after[0], disabled))
        elif words and not words.isdisjoint(tokens) and _signed(line, words, by_word):
            found.append(first(line, after[1], disabled))
        else:
            for s in strings:
                if s in norm and _passes(line, by_string[s]):
                    found.append(first(line, after[2], disabled))
                    break
            else:
                if (
                    last is not None
                    and n
                    and (tokens[-1] in last or not tokens[-1].isalpha())
                    and _passes(line, by_last)
                ):
                    found.append(first(line, after[3], disabled))
                elif tests and _passes(line, tests):
                    found.append(first(line, after[4], disabled))
                else:
                    found.append(None)
    return found


def _signed(line: Line, words: frozenset[str], by_word: dict[str, tuple[_Test, ...]]) -> bool:
    """Whether a cue with one of the line's words passes it."""
    return any(_passes(line, by_word[word]) for word in words.intersection(line.words))


def _passes(line: Line, tests: tuple[_Test, ...]) -> bool:
    """Whether one of the cues' tests passes the line (None: a cue without a test)."""
    for test in tests:  # noqa: SIM110 (`any` of a generator costs more than the tests here)
        if test is None or test(line):
            return True
    return False


def match_every_rule(line: Line, disabled: frozenset[str] = frozenset()) -> str | None:
    """`match_line` by trying every rule in turn."""
    return _first_rule(line, LINE_RULES, disabled)


def _first_rule(line: Line, line_rules: tuple[LineRule, ...], disabled: frozenset[str]) -> str | None:
    for rule in line_rules:
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
