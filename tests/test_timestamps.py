from datetime import UTC, datetime

import pytest

from cleaner.timestamps import is_timestamp_line, parse_iso8601, parse_timestamp_line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("published – November 02, 2024 12:35 PM IST", datetime(2024, 11, 2, 7, 5, tzinfo=UTC)),
        ("Updated 4 March 2026, 10:12 GMT", datetime(2026, 3, 4, 10, 12, tzinfo=UTC)),
        ("Published: March 6, 2026 07:45 CET", datetime(2026, 3, 6, 6, 45, tzinfo=UTC)),
        ("Posted on Tuesday, 3 March 2026 at 8:15 pm", datetime(2026, 3, 3, 20, 15, tzinfo=UTC)),
        ("2026-03-04T09:30:00+01:00", datetime(2026, 3, 4, 8, 30, tzinfo=UTC)),
        ("November 1, 2024", datetime(2024, 11, 1, tzinfo=UTC)),
        ("11.24.2025", datetime(2025, 11, 24, tzinfo=UTC)),
    ],
)
def test_bare_timestamps_are_recognised_and_parsed_to_utc(line, expected):
    assert is_timestamp_line(line)
    assert parse_timestamp_line(line) == expected


@pytest.mark.parametrize("line", ["4 March, 10:12", "3 hours ago", "Updated 5 mins ago"])
def test_timestamps_without_a_year_are_recognised_but_not_guessed(line):
    assert is_timestamp_line(line)
    assert parse_timestamp_line(line) is None


@pytest.mark.parametrize(
    "line",
    [
        "Published in March, the report found the harbour had silted up.",
        "The 2024 election changed everything.",
        "May",
        "12:35",
        "Japan and EU to announce new defense pact",
        "ss",
        # Seen as article text on real pages (benchmarks/realpages): a cell of a timeline, a
        # changelog's entry heading, an event's dates.
        "1946",
        "2025-12-19:",
        "Date: January 6-9, 2026",
        "16-19 March 2026",
    ],
)
def test_content_is_not_a_timestamp(line):
    assert not is_timestamp_line(line)


def test_parse_iso8601_variants():
    assert parse_iso8601("2026-03-04T09:30:00Z") == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert parse_iso8601("2026-03-04") == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_iso8601("2026-03-04T09:30:00+0100") == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO 8601 date"):
        parse_iso8601("last Tuesday")


@pytest.mark.parametrize("line", ["2026-01-01t0:" + "1" * 29, "2026-03-24T2:" + "5" * 54 + "00Z"])
def test_a_timestamp_dateutil_cannot_compute_is_no_date(line):
    # Found by benchmarks/fuzz_clean.py: dateutil raises decimal.InvalidOperation, an
    # ArithmeticError, on seconds of 29 digits or more.
    assert is_timestamp_line(line) and parse_timestamp_line(line) is None
