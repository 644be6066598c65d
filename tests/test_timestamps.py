from datetime import UTC, datetime, timedelta, timezone

import pytest

from cleaner.timestamps import is_timestamp_line, parse_iso8601, parse_timestamp_line, to_utc


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-04T24:00:00", datetime(2026, 3, 5, tzinfo=UTC)),  # ISO 8601's end of a day
        ("2026-12-31T24:00Z", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-02-28T24:00:00.000+01:00", datetime(2026, 2, 28, 23, tzinfo=UTC)),
        ("20260304T240000", datetime(2026, 3, 5, tzinfo=UTC)),
        ("9999-12-31T24:00:00+01:00", datetime(9999, 12, 31, 23, tzinfo=UTC)),  # in range once in UTC
        ("0001-01-01T24:00+23:59", datetime(1, 1, 1, 0, 1, tzinfo=UTC)),
        ("9999-12-31T18:59:59-05:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0001-01-01", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_parse_iso8601_reads_the_end_of_a_day_and_the_edges_of_the_calendar(value, expected):
    assert parse_iso8601(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:00:00-05:00",  # 10000-01-01T04:00 in UTC
        "0001-01-01T00:00:00+05:00",  # the year 0 in UTC
        "9999-12-31T24:00:00Z",
    ],
)
def test_a_date_outside_the_years_1_to_9999_in_utc_is_a_value_error_not_an_overflow(value):
    with pytest.raises(ValueError, match=r"is outside the years 1 to 9999 once in UTC"):
        parse_iso8601(value)


@pytest.mark.parametrize("value", ["2026-03-04T24:00:01", "2026-03-04T24:30", "2026-03-04T25:00"])
def test_only_24_00_itself_ends_a_day(value):
    with pytest.raises(ValueError, match="not an ISO 8601 date"):
        parse_iso8601(value)


def test_to_utc_refuses_what_utc_cannot_hold_with_a_value_error():
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        to_utc(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))))
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        to_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))


@pytest.mark.parametrize(
    "line",
    [
        "Posted 0001-01-01 2024 00:00 IST",  # dateutil reads the year 1, before UTC's
        "Published 2024-05-06 10:00 GMT+24",  # an offset of a day, which datetime refuses
        "Updated 2024-01-01 12:00 -24:00",
        "Posted 2024-05-06 10:00 GMT-30",
    ],
)
def test_a_timestamp_line_utc_cannot_hold_is_no_date(line):
    assert is_timestamp_line(line) and parse_timestamp_line(line) is None
