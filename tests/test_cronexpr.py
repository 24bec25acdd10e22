"""The EasyCron evaluator against every example of EasyCron's cron FAQ, and its edge readings."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

import pytest

from ics2conf.cronexpr import CronSyntaxError, fire_times, parse_cron

UTC = timezone.utc


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _minutes(start: datetime, end: datetime):
    current = start
    while current < end:
        yield current
        current += timedelta(minutes=1)


def _last_weekday_of_month(t: datetime, weekday: int) -> bool:
    return t.weekday() == weekday and t.day + 7 > calendar.monthrange(t.year, t.month)[1]


# Every example of the FAQ "What cron expression does EasyCron support", with
# its stated meaning as a predicate on UTC minutes, checked minute by minute
# over a window that contains matches and near-misses.
FAQ_EXAMPLES = [
    # (expression, window start, window days, meaning)
    ("* * * * * 2020", _utc(2019, 12, 31, 23), 1, lambda t: t.year == 2020),
    ("* * * * *", _utc(2026, 5, 1), 1, lambda t: True),
    ("*/5 * * * *", _utc(2026, 5, 1), 1, lambda t: t.minute % 5 == 0),
    ("0 * * * *", _utc(2026, 5, 1), 1, lambda t: t.minute == 0),
    ("0 12 * * *", _utc(2026, 5, 1), 3, lambda t: (t.hour, t.minute) == (12, 0)),
    ("15 10 * * *", _utc(2026, 5, 1), 3, lambda t: (t.hour, t.minute) == (10, 15)),
    ("15 10 * * ?", _utc(2026, 5, 1), 3, lambda t: (t.hour, t.minute) == (10, 15)),
    ("15 10 * * * 2020-2022", _utc(2022, 12, 30), 4, lambda t: (t.hour, t.minute) == (10, 15) and t.year <= 2022),
    ("15 10 * * * 2020-2022", _utc(2019, 12, 30), 4, lambda t: (t.hour, t.minute) == (10, 15) and t.year >= 2020),
    ("* 14 * * *", _utc(2026, 5, 1), 2, lambda t: t.hour == 14),
    ("0/5 14,18 * * *", _utc(2026, 5, 1), 2, lambda t: t.hour in (14, 18) and t.minute % 5 == 0),
    ("0-5 14 * * *", _utc(2026, 5, 1), 2, lambda t: t.hour == 14 and t.minute <= 5),
    ("10,44 14 * 3 3", _utc(2026, 2, 20), 40, lambda t: t.month == 3 and t.weekday() == 2 and t.hour == 14 and t.minute in (10, 44)),
    ("15 10 * * 1-5", _utc(2026, 5, 1), 10, lambda t: t.weekday() < 5 and (t.hour, t.minute) == (10, 15)),
    ("15 10 15 * *", _utc(2026, 4, 10), 40, lambda t: t.day == 15 and (t.hour, t.minute) == (10, 15)),
    ("15 10 L * *", _utc(2028, 1, 25), 40, lambda t: t.day == calendar.monthrange(t.year, t.month)[1] and (t.hour, t.minute) == (10, 15)),
    ("15 10 * * 5L", _utc(2026, 5, 20), 45, lambda t: _last_weekday_of_month(t, 4) and (t.hour, t.minute) == (10, 15)),
    ("15 10 * * 5#3", _utc(2026, 5, 1), 62, lambda t: t.weekday() == 4 and 15 <= t.day <= 21 and (t.hour, t.minute) == (10, 15)),
    ("0 12 1/5 * *", _utc(2026, 1, 25), 40, lambda t: t.day in (1, 6, 11, 16, 21, 26, 31) and (t.hour, t.minute) == (12, 0)),
    ("11 11 11 11 *", _utc(2026, 11, 9), 5, lambda t: (t.month, t.day, t.hour, t.minute) == (11, 11, 11, 11)),
    ("11 11 11 11 * 2020", _utc(2020, 11, 9), 5, lambda t: (t.year, t.month, t.day, t.hour, t.minute) == (2020, 11, 11, 11, 11)),
    ("11 11 11 11 * 2020", _utc(2021, 11, 9), 5, lambda t: False),
    ("0 0 * * 3", _utc(2026, 5, 1), 15, lambda t: t.weekday() == 2 and (t.hour, t.minute) == (0, 0)),
    ("0 0 ? * 3", _utc(2026, 5, 1), 15, lambda t: t.weekday() == 2 and (t.hour, t.minute) == (0, 0)),
    ("0 0 4 * ?", _utc(2026, 5, 1), 40, lambda t: t.day == 4 and (t.hour, t.minute) == (0, 0)),
    ("0 0 1,2 * *", _utc(2026, 4, 28), 10, lambda t: t.day in (1, 2) and (t.hour, t.minute) == (0, 0)),
    ("0 0 1,2 * 3", _utc(2026, 4, 28), 20, lambda t: (t.day in (1, 2) or t.weekday() == 2) and (t.hour, t.minute) == (0, 0)),
]


@pytest.mark.parametrize(("expression", "start", "days", "meaning"), FAQ_EXAMPLES)
def test_faq_example(expression, start, days, meaning):
    end = start + timedelta(days=days)
    expected = [t for t in _minutes(start, end) if meaning(t)]
    assert list(fire_times(expression, "UTC", start, end).instants) == expected


@pytest.mark.parametrize(
    ("expression", "month", "expected_days"),
    [
        # Both day fields restricted: a day matches if either matches.
        ("0 9 13 * 5", (2026, 2), [6, 13, 20, 27]),
        ("0 9 1 * 1#1", (2026, 6), [1]),
        ("0 9 L * 1", (2026, 6), [1, 8, 15, 22, 29, 30]),
        # W: nearest weekday, never leaving the month.
        ("0 9 15W * *", (2026, 8), [14]),  # the 15th is a Saturday
        ("0 9 15W * *", (2026, 3), [16]),  # the 15th is a Sunday
        ("0 9 1W * *", (2026, 8), [3]),  # the 1st is a Saturday
        ("0 9 31W * *", (2026, 5), [29]),  # the 31st is a Sunday
        ("0 9 LW * *", (2026, 5), [29]),
        ("0 9 * * 2#5", (2026, 6), [30]),
        ("0 9 * * 2#5", (2026, 7), []),
        ("0 9 * * 0", (2026, 3), [1, 8, 15, 22, 29]),
        ("0 9 * * 1-5/2", (2026, 6), [1, 3, 5, 8, 10, 12, 15, 17, 19, 22, 24, 26, 29]),
        ("0 9 31 * *", (2026, 4), []),
        ("0 9 29 2 *", (2028, 2), [29]),
        ("0 9 29 2 *", (2027, 2), []),
    ],
)
def test_day_matching(expression, month, expected_days):
    parsed = parse_cron(expression)
    assert list(parsed.days(*month)) == sorted(set(expected_days))


@pytest.mark.parametrize(
    "expression",
    [
        "0 9 * * 7",  # Sunday as 7 is not documented
        "0 9 * * MON",
        "0 9 * JAN *",
        "0 9 L-3 * *",
        "0 9 * * L",
        "0 9 5-1 * *",
        "0 9 */2 * 1",  # '*/2' beside a restricted day-of-week
        "0 9 1 * */2",
        "0 9 * * * 2027 1",
        "0 9 * *",
        "60 9 * * *",
        "0 24 * * *",
        "0 9 32 * *",
        "0 9 * 13 *",
        "0 9 * * * 1969",
        "0 9 * * * 2100",
        "? 9 * * *",
        "0 9 * * 1#6",
        "0 9 ,1 * *",
    ],
)
def test_undocumented_syntax_rejected(expression):
    with pytest.raises(CronSyntaxError):
        parse_cron(expression)


def test_berlin_spring_gap_reported_nonexistent():
    result = fire_times("30 2 * 3 *", "Europe/Berlin", _utc(2026, 3, 28), _utc(2026, 3, 31))
    assert result.nonexistent == (datetime(2026, 3, 29, 2, 30),)
    assert [t.day for t in result.instants] == [28, 30]


def test_berlin_autumn_fold_reported_ambiguous():
    result = fire_times("30 2 * 10 *", "Europe/Berlin", _utc(2026, 10, 24), _utc(2026, 10, 27))
    assert result.ambiguous == (datetime(2026, 10, 25, 2, 30),)
    assert [t.day for t in result.instants] == [24, 26]


def test_lord_howe_half_hour_gap():
    # Australia/Lord_Howe moves from +10:30 to +11:00 at 02:00 on 2026-10-04.
    result = fire_times("15,45 2 4 10 *", "Australia/Lord_Howe", _utc(2026, 10, 3), _utc(2026, 10, 5))
    assert result.nonexistent == (datetime(2026, 10, 4, 2, 15),)
    assert result.instants == (_utc(2026, 10, 3, 15, 45),)


def test_lord_howe_half_hour_fold():
    # On 2026-04-05 the wall clock goes back from 02:00 to 01:30.
    result = fire_times("45 1 5 4 *", "Australia/Lord_Howe", _utc(2026, 4, 4), _utc(2026, 4, 6))
    assert result.ambiguous == (datetime(2026, 4, 5, 1, 45),)
    assert result.instants == ()


def test_fires_converted_with_zone_offset():
    result = fire_times("0 10 * * 1-5", "Asia/Kolkata", _utc(2026, 12, 7), _utc(2026, 12, 8))
    assert result.instants == (_utc(2026, 12, 7, 4, 30),)


def test_window_bounds_half_open():
    start = _utc(2026, 12, 7, 4, 30)
    result = fire_times("30 4 * * *", "UTC", start, start + timedelta(days=2))
    assert result.instants == (start, start + timedelta(days=1))


def test_new_york_fires_follow_offset_change():
    result = fire_times("0 9 * * *", "America/New_York", _utc(2026, 3, 7), _utc(2026, 3, 10))
    assert [t.hour for t in result.instants] == [14, 13, 13]


def test_days_iterate_a_decade_quickly():
    # A year-ranged expression over ten years must not iterate minutes.
    result = fire_times("0 10 * * 1-5 2027-2036", "Europe/Berlin", _utc(2026, 1, 1), _utc(2037, 1, 1))
    weekdays = sum(
        1
        for offset in range((date(2037, 1, 1) - date(2027, 1, 1)).days)
        if (date(2027, 1, 1) + timedelta(days=offset)).weekday() < 5
    )
    assert len(result.instants) == weekdays
