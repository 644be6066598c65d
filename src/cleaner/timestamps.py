"""Publication dates: ISO 8601 from metadata, and bare timestamp lines found in page text
("published – November 02, 2024 12:35 PM IST", "Updated 4 March 2026, 10:12 GMT").

A line is a timestamp only if every word in it belongs to a date: a label, month and day
names, numbers, am/pm, a time-zone name. "Published in March, the report found..." is not.
All results are timezone-aware UTC; a time without a zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from dateutil import parser as date_parser

# Abbreviations as news sites use them. Ambiguous ones take their most common news meaning
# (IST = India Standard Time, CST = US Central).
TZ_OFFSETS_HOURS: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "BST": 1,
    "CET": 1,
    "WAT": 1,
    "WEST": 1,
    "CEST": 2,
    "EET": 2,
    "SAST": 2,
    "CAT": 2,
    "EEST": 3,
    "MSK": 3,
    "EAT": 3,
    "AST": 3,
    "GST": 4,
    "PKT": 5,
    "IST": 5.5,
    "NPT": 5.75,
    "ICT": 7,
    "WIB": 7,
    "HKT": 8,
    "SGT": 8,
    "PHT": 8,
    "AWST": 8,
    "JST": 9,
    "KST": 9,
    "ACST": 9.5,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "HST": -10,
    "BRT": -3,
    "ART": -3,
}
_TZINFOS = {name: timezone(timedelta(hours=h)) for name, h in TZ_OFFSETS_HOURS.items()}

_MONTHS = (
    "jan january feb february mar march apr april may jun june jul july aug august sep sept "
    "september oct october nov november dec december"
).split()
_DAYS = "mon monday tue tues tuesday wed wednesday thu thur thurs thursday fri friday sat saturday sun sunday".split()
_FILLER = {"at", "on", "of", "the", "am", "pm", "a.m", "p.m", "a.m.", "p.m.", "h", "hrs", "uhr"}
_DATE_WORDS = set(_MONTHS) | set(_DAYS) | _FILLER | {z.lower() for z in TZ_OFFSETS_HOURS}

_LABEL = re.compile(
    r"^(?:(?:first\s+|last\s+|originally\s+)?(?:published|posted|updated|modified|created|"
    r"written|uploaded|dated?)(?:\s+(?:on|at))?|date|time|pub(?:lished)?\s+date)\s*[:\-–—|]?\s*",
    re.IGNORECASE,
)
# An absolute timestamp line is at most this long (a relative one, "Posted 3 hours ago", is
# four words at most).
MAX_CHARS = 80
_RELATIVE = re.compile(
    r"^(?:(?:published|posted|updated)\s+)?(?:\d+|an?|one)\s+"
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\s+ago$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\s,|/·•]+")
_NUMERIC = re.compile(
    r"^(?:\d{1,4}(?:st|nd|rd|th)?\.?"  # 2, 2nd, 2024
    r"|\d{1,4}[:./-]\d{1,2}(?:[:./-]\d{1,4})*(?:[ap]m)?"  # 12:35, 02/11/2024, 12.35pm
    r"|\d{4}-\d{2}-\d{2}t[\d:.]+(?:z|[+-]\d{2}:?\d{2})?"  # 2024-11-02t12:35:00z
    r"|[+-]\d{2}:?\d{2}|(?:utc|gmt)[+-]\d{1,2}(?::?\d{2})?)$"  # +05:30, gmt+1
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_DAY_RANGE = re.compile(r"\d{1,2}[-–]\d{1,2}$")


# ISO 8601's end of a day, "T24:00" (24:00:00, 240000, 24:00:00.000): the next day's 00:00,
# which Python's fromisoformat refuses.
_END_OF_DAY = re.compile(r"(?P<date>[^Tt ]+[Tt ])24(?P<rest>(?::?00){0,2}(?:[.,]0+)?(?:[+-].*)?)")


def parse_iso8601(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time into aware UTC. Raises ValueError if it is not one,
    or if it is not a moment of the years 1 to 9999 once in UTC."""
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    end_of_day = _END_OF_DAY.fullmatch(text)
    if end_of_day:
        text = f"{end_of_day['date']}00{end_of_day['rest']}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {_shown(value)}") from None
    # Counted from 0001-01-01 in UTC, as a timedelta, which cannot overflow: only a result
    # outside the years 1 to 9999 is an error ("0001-01-01T24:00+23:59" is 00:01 UTC).
    since = parsed.replace(tzinfo=None) - datetime.min - (parsed.utcoffset() or timedelta(0))
    try:
        return (datetime.min + (since + timedelta(days=1 if end_of_day else 0))).replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError(f"{_shown(value)} is outside the years 1 to 9999 once in UTC") from None


def to_utc(value: datetime | date) -> datetime:
    """An aware UTC datetime; a date or naive datetime is taken as UTC. Raises ValueError,
    not OverflowError, when the moment is outside the years 1 to 9999 in UTC
    ("9999-12-31T23:00:00-05:00"), or its offset is a day or more (dateutil makes those)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 once in UTC") from None
    except ValueError:  # the tzinfo's offset is 24 hours or more
        local = value.replace(tzinfo=None).isoformat()
        raise ValueError(f"{local} has a UTC offset of a day or more ({value.tzinfo})") from None


def _shown(value: str) -> str:
    """A value for an error message: quoted, and cut at 80 characters."""
    return repr(value) if len(value) <= 80 else repr(value[:80]) + "..."


def is_timestamp_line(line: str) -> bool:
    """True if the whole line is a publication timestamp, absolute or relative."""
    return bool(_RELATIVE.match(line.strip())) or _date_part(line) is not None


def parse_timestamp_line(line: str) -> datetime | None:
    """The UTC date-time of a timestamp line that names its year; None otherwise.

    Year-less ("4 March, 10:12") and relative ("3 hours ago") timestamps are boilerplate
    all the same, but guessing their year would make the output depend on the run date.
    """
    rest = _date_part(line)
    if rest is None or not _YEAR.search(rest):
        return None
    try:
        parsed = date_parser.parse(
            rest.replace("–", " ").replace("—", " "),
            tzinfos=_TZINFOS,
            default=datetime(2000, 1, 1),
            fuzzy=True,
        )
        return to_utc(parsed)  # ValueError out of the years 1-9999 in UTC or with a silly offset
    except (ValueError, ArithmeticError):
        # ParserError is a ValueError; ArithmeticError is OverflowError, and the decimal error
        # dateutil raises on a number of 29 digits or more ("2026-01-01t0:111...1").
        return None


def _date_part(line: str) -> str | None:
    """The line without its label ("Published:"), if everything left is one date.

    Not a timestamp: a line ending in a colon (a date heading the entry under it, as in a
    changelog), a date range ("January 6-9, 2026": an event's dates), a bare year (a cell
    of a timeline: "1946")."""
    text = line.strip()
    if not text or len(text) > MAX_CHARS or text.endswith(":"):
        return None
    rest = _LABEL.sub("", text, count=1).strip(" :-–—|·•")
    tokens = [t.strip(".()[]").lower() for t in _TOKEN.findall(rest)]
    tokens = [t for t in tokens if t]
    if not tokens or len(tokens) > 10:
        return None
    has_month = False
    for token in tokens:
        if token in _DATE_WORDS:
            has_month |= token in _MONTHS
        elif not _NUMERIC.match(token):
            return None
    if has_month and any(_DAY_RANGE.match(t) for t in tokens):
        return None
    # A date needs a year with more than itself (a month, a day, a label), or a month name
    # with a day: a clock time alone ("12:35") or a bare number does not place an article
    # in time.
    has_day = any(t[:1].isdigit() for t in tokens)
    labelled = len(rest) < len(text.strip(" :-–—|·•"))
    bare_year = len(tokens) == 1 and _YEAR.fullmatch(tokens[0]) is not None and not labelled
    if (_YEAR.search(rest) and not bare_year) or (has_month and has_day):
        return rest
    return None
