"""Typical meetings compiled to EasyCron expressions: expected parts, keys and exactness."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from ics2conf.dated import dated_expressions
from ics2conf.drafts import Draft, join, range_fields
from ics2conf.errors import ScheduleError
from ics2conf.model import PART_KEY_PATTERN, Schedule, SchedulePart
from ics2conf.rules import candidate_for, parse_rule
from ics2conf.schedule import compile_schedule, verify_schedule
from schedule_support import make_series

UTC = timezone.utc
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday
HORIZON = NOW + timedelta(days=30)
# The default check window; a series with exceptions is exact only up to it,
# because an EXDATE, RDATE or override past it is not among the checked calls.
CHECK_END = NOW + timedelta(days=400)
IST = "Asia/Kolkata"
FOREVER = None


def _parts(schedule: Schedule) -> list[tuple[str, str, str]]:
    return [(p.key, p.cron_expression, p.timezone) for p in schedule.parts]


TYPICAL = [
    # (name, zone, first start, RRULE, extra .ics arguments, now, expected parts, exact until)
    (
        "weekday standup",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", {}, NOW,
        [("e0", "0 10 * * 1-5", IST)], FOREVER,
    ),
    (
        "weekly monday and wednesday",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO,WE", {}, NOW,
        [("e0", "0 10 * * 1,3", IST)], FOREVER,
    ),
    (
        "weekly without byday uses start weekday",
        IST, datetime(2026, 1, 8, 16, 45), "FREQ=WEEKLY", {}, NOW,
        [("e0", "45 16 * * 4", IST)], FOREVER,
    ),
    (
        "monthly second tuesday",
        IST, datetime(2026, 1, 13, 10, 0), "FREQ=MONTHLY;BYDAY=2TU", {}, NOW,
        [("e0", "0 10 * * 2#2", IST)], FOREVER,
    ),
    (
        "monthly last friday",
        IST, datetime(2026, 1, 30, 10, 0), "FREQ=MONTHLY;BYDAY=-1FR", {}, NOW,
        [("e0", "0 10 * * 5L", IST)], FOREVER,
    ),
    (
        "monthly on the 31st skips short months",
        IST, datetime(2026, 1, 31, 10, 0), "FREQ=MONTHLY", {}, NOW,
        [("e0", "0 10 31 * *", IST)], FOREVER,
    ),
    (
        "monthly last day",
        IST, datetime(2026, 1, 31, 10, 0), "FREQ=MONTHLY;BYMONTHDAY=-1", {}, NOW,
        [("e0", "0 10 L * *", IST)], FOREVER,
    ),
    (
        "quarterly",
        IST, datetime(2026, 1, 1, 10, 0), "FREQ=MONTHLY;INTERVAL=3", {}, NOW,
        [("e0", "0 10 1 1,4,7,10 *", IST)], FOREVER,
    ),
    (
        "yearly",
        IST, datetime(2026, 3, 15, 10, 0), "FREQ=YEARLY", {}, NOW,
        [("e0", "0 10 15 3 *", IST)], FOREVER,
    ),
    (
        "yearly on february 29",
        IST, datetime(2024, 2, 29, 10, 0), "FREQ=YEARLY", {}, NOW,
        [("e0", "0 10 29 2 *", IST)], FOREVER,
    ),
    (
        "until spanning years",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO;UNTIL=20280315T000000Z", {}, NOW,
        [
            ("y0", "0 10 * * 1 2026-2027", IST),
            ("y1", "0 10 * 1,2 1 2028", IST),
            ("d0", "0 10 6,13 3 * 2028", IST),
        ],
        FOREVER,
    ),
    (
        "count ending in a later year",
        IST, datetime(2026, 11, 2, 10, 0), "FREQ=DAILY;COUNT=100", {}, NOW,
        [
            ("y0", "0 10 * * * 2026", IST),
            ("y1", "0 10 * 1 * 2027", IST),
            ("d0", "0 10 1-9 2 * 2027", IST),
        ],
        FOREVER,
    ),
    (
        "rule already ended",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO;UNTIL=20261201T000000Z", {}, NOW,
        [], FOREVER,
    ),
    (
        "fortnightly is dated",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", {}, NOW,
        [("d0", "0 10 7,21 12 * 2026", IST)], HORIZON,
    ),
    (
        "exdate next week combines ranged and dated",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO",
        {"exdates": (datetime(2026, 12, 14, 10, 0),)}, NOW,
        [("y0", "0 10 * * 1 2027-2099", IST), ("d0", "0 10 7,21,28 12 * 2026", IST)],
        CHECK_END,
    ),
    (
        "moved occurrence is called at its new time",
        IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO",
        {"overrides": ((datetime(2026, 12, 14, 10, 0), datetime(2026, 12, 15, 11, 0)),)}, NOW,
        [
            ("y0", "0 10 * * 1 2027-2099", IST),
            ("d0", "0 10 7,21,28 12 * 2026", IST),
            ("d1", "0 11 15 12 * 2026", IST),
        ],
        CHECK_END,
    ),
    (
        "bysetpos is dated",
        IST, datetime(2026, 1, 1, 10, 0), "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", {}, NOW,
        [("d0", "0 10 31 12 * 2026", IST)], HORIZON,
    ),
    (
        "friday the 13th is dated, never both day fields",
        IST, datetime(2026, 2, 13, 10, 0), "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", {}, NOW,
        [], HORIZON,
    ),
    (
        "series starting later gets a lower year bound",
        "Europe/Berlin", datetime(2027, 1, 20, 9, 0), "FREQ=WEEKLY;BYDAY=WE", {}, NOW,
        [
            ("y0", "0 9 * * 3 2028-2099", "Europe/Berlin"),
            ("y1", "0 9 * 2-12 3 2027", "Europe/Berlin"),
            ("d0", "0 9 20,27 1 * 2027", "Europe/Berlin"),
        ],
        datetime(2099, 12, 31, 23, 0, tzinfo=UTC),
    ),
    (
        "single meeting within the horizon",
        IST, datetime(2026, 12, 20, 10, 0), None, {}, NOW,
        [("d0", "0 10 20 12 * 2026", IST)], FOREVER,
    ),
    (
        "single meeting past the horizon",
        IST, datetime(2027, 2, 20, 10, 0), None, {}, NOW,
        [], HORIZON,
    ),
    (
        "berlin 02:30 daily across the march gap",
        "Europe/Berlin", datetime(2026, 1, 5, 2, 30), "FREQ=DAILY", {}, datetime(2027, 3, 20, tzinfo=UTC),
        [
            ("e0", "30 2 * 1,2,4-9,11,12 *", "Europe/Berlin"),
            ("d0", "30 2 20-27,29-31 3 * 2027", "Europe/Berlin"),
            # 02:30 does not exist on 2027-03-28: RFC 5545 reads it with the
            # offset before the gap (+01:00), i.e. 03:30 CEST = 01:30 UTC.
            ("u0", "30 1 28 3 * 2027", "UTC"),
        ],
        datetime(2027, 4, 19, tzinfo=UTC),
    ),
    (
        "berlin 10:00 weekdays never meets a transition",
        "Europe/Berlin", datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", {}, NOW,
        [("e0", "0 10 * * 1-5", "Europe/Berlin")], FOREVER,
    ),
    (
        "new york sunday 01:30 in the november fold",
        "America/New_York", datetime(2026, 1, 4, 1, 30), "FREQ=WEEKLY;BYDAY=SU", {},
        datetime(2026, 10, 25, tzinfo=UTC),
        [
            ("e0", "30 1 * 1-10,12 0", "America/New_York"),
            ("d0", "30 1 8,15,22 11 * 2026", "America/New_York"),
            # 01:30 happens twice on 2026-11-01: RFC 5545 takes the first (EDT).
            ("u0", "30 5 1 11 * 2026", "UTC"),
        ],
        datetime(2026, 11, 24, tzinfo=UTC),
    ),
    (
        "lord howe 02:15 in the half-hour gap",
        "Australia/Lord_Howe", datetime(2026, 1, 5, 2, 15), "FREQ=DAILY", {}, datetime(2026, 9, 25, tzinfo=UTC),
        [
            ("e0", "15 2 * 1-9,11,12 *", "Australia/Lord_Howe"),
            ("d0", "15 2 1-3,5-25 10 * 2026", "Australia/Lord_Howe"),
            # 02:15 does not exist on 2026-10-04; read with +10:30: 15:45 UTC the day before.
            ("u0", "45 15 3 10 * 2026", "UTC"),
        ],
        datetime(2026, 10, 25, tzinfo=UTC),
    ),
    (
        "lord howe 09:00 weekdays",
        "Australia/Lord_Howe", datetime(2026, 1, 5, 9, 0), "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", {}, NOW,
        [("e0", "0 9 * * 1-5", "Australia/Lord_Howe")], FOREVER,
    ),
    (
        "utc zone",
        "UTC", datetime(2026, 1, 5, 2, 30), "FREQ=DAILY", {}, NOW,
        [("e0", "30 2 * * *", "UTC")], FOREVER,
    ),
    (
        "several times a day",
        IST, datetime(2026, 1, 5, 9, 0), "FREQ=DAILY;BYHOUR=9,15;BYMINUTE=0,30", {}, NOW,
        [("e0", "0,30 9,15 * * *", IST)], FOREVER,
    ),
]


@pytest.mark.parametrize(
    ("zone", "start", "rrule", "extra", "now", "expected", "exact_until"),
    [case[1:] for case in TYPICAL],
    ids=[case[0] for case in TYPICAL],
)
def test_typical_meeting(zone, start, rrule, extra, now, expected, exact_until):
    series = make_series(zone, start, rrule, **extra)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=30))
    assert _parts(schedule) == expected
    assert schedule.exact_until == exact_until
    verify_schedule(schedule, series, start=now, end=schedule.checked_until)


def test_friday_13th_dated_within_horizon():
    series = make_series(IST, datetime(2026, 2, 13, 10, 0), "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13")
    now = datetime(2027, 8, 1, tzinfo=UTC)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=30))
    assert _parts(schedule) == [("d0", "0 10 13 8 * 2027", IST)]


def test_part_keys_short_and_unique():
    series = make_series(
        "Europe/Berlin", datetime(2026, 1, 5, 2, 30), "FREQ=DAILY", exdates=(datetime(2026, 12, 10, 2, 30),)
    )
    now = datetime(2026, 12, 4, tzinfo=UTC)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=120))
    keys = [part.key for part in schedule.parts]
    assert len(keys) == len(set(keys))
    assert all(PART_KEY_PATTERN.match(key) for key in keys)


def test_same_meeting_same_keys_next_day():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO;UNTIL=20280315T000000Z")
    today = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    tomorrow = compile_schedule(series, now=NOW + timedelta(days=1), horizon_end=HORIZON + timedelta(days=1))
    assert _parts(today) == _parts(tomorrow)


def test_parts_fire_within_check_window():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO,WE")
    schedule = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    (part,) = schedule.parts
    assert part.fires[0] == datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    assert all(NOW <= fire < schedule.checked_until for fire in part.fires)
    assert schedule.checked_until >= NOW + timedelta(days=400)


def test_verify_names_event_and_instant():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO")
    wrong = Schedule(
        uid=series.uid,
        parts=(SchedulePart("e0", "0 10 * * 1,2", IST, (), None),),
        exact_until=None,
        checked_until=NOW + timedelta(days=30),
    )
    with pytest.raises(ScheduleError) as caught:
        verify_schedule(wrong, series, start=NOW, end=NOW + timedelta(days=30))
    assert caught.value.uid == series.uid
    assert series.uid in str(caught.value)
    assert "2026-12-08 04:30" in str(caught.value)


def test_verify_reports_missing_call():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO,TU")
    wrong = Schedule(series.uid, (SchedulePart("e0", "0 10 * * 1", IST, (), None),), None, HORIZON)
    with pytest.raises(ScheduleError, match="no call at 2026-12-08 04:30"):
        verify_schedule(wrong, series, start=NOW, end=HORIZON)


def test_verify_rejects_fire_in_dst_gap():
    series = make_series("Europe/Berlin", datetime(2026, 1, 5, 2, 30), "FREQ=DAILY")
    now = datetime(2027, 3, 20, tzinfo=UTC)
    wrong = Schedule(series.uid, (SchedulePart("e0", "30 2 * * *", "Europe/Berlin", (), None),), None, now)
    with pytest.raises(ScheduleError, match="skips or repeats"):
        verify_schedule(wrong, series, start=now, end=now + timedelta(days=30))


def test_verify_rejects_second_call():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO")
    doubled = Schedule(
        series.uid,
        (
            SchedulePart("e0", "0 10 * * 1", IST, (), None),
            SchedulePart("d0", "0 10 7 12 * 2026", IST, (), None),
        ),
        None,
        HORIZON,
    )
    with pytest.raises(ScheduleError, match="a second call at 2026-12-07 04:30"):
        verify_schedule(doubled, series, start=NOW, end=HORIZON)


def test_unknown_zone_raises_schedule_error():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=DAILY")
    with pytest.raises(ScheduleError, match="Mars/Olympus"):
        compile_schedule(replace(series, zone="Mars/Olympus"), now=NOW, horizon_end=HORIZON)


def test_intended_subset_falls_back_to_dated():
    # A calling rule drops Wednesdays while the RRULE hint is daily.
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=DAILY")
    full = series.intended
    filtered = replace(series, intended=lambda a, b: [t for t in full(a, b) if t.weekday() != 2])
    schedule = compile_schedule(filtered, now=NOW, horizon_end=HORIZON)
    assert all(part.key.startswith("d") for part in schedule.parts)
    assert schedule.exact_until == HORIZON
    verify_schedule(schedule, filtered, start=NOW, end=HORIZON)


def test_lead_time_across_midnight_shifts_weekday():
    # A Monday 00:02 meeting called 5 minutes early rings on Sundays at 23:57.
    series = make_series(IST, datetime(2026, 1, 5, 0, 2), "FREQ=WEEKLY;BYDAY=MO")
    full = series.intended
    early = replace(
        series,
        first_call=series.first_call - timedelta(minutes=5),
        intended=lambda a, b: [t - timedelta(minutes=5) for t in full(a + timedelta(minutes=5), b + timedelta(minutes=5))],
    )
    schedule = compile_schedule(early, now=NOW, horizon_end=HORIZON)
    assert _parts(schedule) == [("e0", "57 23 * * 0", IST)]


def test_dated_groups_share_fields():
    times = [
        datetime(2027, 1, 3, 10, 0), datetime(2027, 1, 10, 10, 0), datetime(2027, 1, 24, 10, 0),
        datetime(2027, 2, 3, 10, 0), datetime(2027, 2, 10, 10, 0), datetime(2027, 2, 24, 10, 0),
        datetime(2027, 2, 25, 16, 30),
    ]
    assert dated_expressions(times) == ["0 10 3,10,24 1,2 * 2027", "30 16 25 2 * 2027"]


def test_long_dated_expression_split(monkeypatch):
    monkeypatch.setattr("ics2conf.dated.MAX_EXPRESSION_LENGTH", 30)
    times = [datetime(2027, 1, day, 10, 0) for day in range(1, 31, 2)]
    texts = dated_expressions(times)
    assert len(texts) > 1
    assert all(len(text) <= 30 for text in texts)
    days = sorted(int(d) for text in texts for d in text.split()[2].split(","))
    assert days == list(range(1, 31, 2))


def test_overlapping_day_alternatives_never_double():
    # In a leap February the 29th is also the last day: one call, not two.
    series = make_series(IST, datetime(2026, 1, 1, 10, 0), "FREQ=MONTHLY;BYMONTHDAY=1,29,-1")
    now = datetime(2028, 2, 1, tzinfo=UTC)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=30))
    verify_schedule(schedule, series, start=now, end=now + timedelta(days=60))
    feb_29 = datetime(2028, 2, 29, 4, 30, tzinfo=UTC)
    assert sum(part.fires.count(feb_29) for part in schedule.parts) == 1


def test_exdate_after_horizon_cuts_ranged_part():
    series = make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO", exdates=(datetime(2027, 6, 14, 10, 0),))
    schedule = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    assert _parts(schedule) == [("y0", "0 10 * * 1 2026", IST), ("y1", "0 10 * 1-5 1 2027", IST)]
    assert schedule.exact_until == datetime(2027, 5, 31, 18, 30, tzinfo=UTC)


def test_dtstart_off_rule_stays_evergreen():
    # DTSTART on a Sunday with BYDAY=MO: the Sunday is past, Mondays follow.
    series = make_series(IST, datetime(2025, 6, 1, 10, 0), "FREQ=DAILY;BYDAY=MO")
    schedule = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    assert _parts(schedule) == [("e0", "0 10 * * 1", IST)]


def test_series_with_exceptions_exact_until_window_end():
    # An EXDATE after the check window cannot be seen, so the schedule makes no claim past it.
    series = replace(make_series(IST, datetime(2026, 1, 5, 10, 0), "FREQ=WEEKLY;BYDAY=MO"), has_exceptions=True)
    schedule = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    assert _parts(schedule) == [("e0", "0 10 * * 1", IST)]
    assert schedule.exact_until == schedule.checked_until
    assert schedule.parts[0].exact_until == schedule.checked_until


def test_ranged_parts_with_exceptions_exact_until_window_end():
    # An exception inside the horizon turns the rest of the rule into year-ranged
    # parts reaching 2099; an exception past the check window would still be
    # unseen, so their claim stops at the window's end too.
    start = datetime(2026, 12, 7, 10, 0)
    series = make_series(IST, start, "FREQ=WEEKLY;BYDAY=MO", exdates=(datetime(2026, 12, 14, 10, 0),))
    schedule = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    assert any(part.key.startswith("y") for part in schedule.parts)
    assert schedule.exact_until == schedule.checked_until
    assert all(part.exact_until == schedule.checked_until for part in schedule.parts)


def test_evergreen_part_exact_forever_beside_dated_dst_parts():
    series = make_series("Europe/Berlin", datetime(2026, 1, 5, 2, 30), "FREQ=DAILY")
    now = datetime(2027, 3, 20, tzinfo=UTC)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=30))
    exact = {part.key: part.exact_until for part in schedule.parts}
    assert exact == {"e0": None, "d0": now + timedelta(days=30), "u0": now + timedelta(days=30)}


@pytest.mark.parametrize(
    ("first", "second", "joined"),
    [
        (("y", "0 1 1 5-12 * 2026"), ("d", "0 1 1 4 * 2026"), ("y", "0 1 1 4-12 * 2026")),
        (("d", "0 10 3 1 * 2027"), ("d", "30 10 3 1 * 2027"), ("d", "0,30 10 3 1 * 2027")),
        (("d", "0 10 1-15 1 * 2027"), ("d", "0 10 16-31 1 * 2027"), ("d", "0 10 * 1 * 2027")),
        (("e", "0 10 1 * 0-3"), ("e", "0 10 1 * 4-6"), None),  # '*' would drop the OR with day 1
        (("e", "0 10 1 * *"), ("e", "0 10 L * *"), None),  # L is never listed with other days
        (("d", "0 10 3 1 * 2027"), ("d", "30 11 3 1 * 2027"), None),  # two fields differ
    ],
)
def test_join_drafts(first, second, joined):
    result = join(Draft(first[0], first[1], IST), Draft(second[0], second[1], IST))
    assert result == (None if joined is None else Draft(joined[0], joined[1], IST))


def test_join_keeps_time_zones_apart():
    assert join(Draft("d", "0 10 3 1 * 2027", IST), Draft("u", "0 10 4 1 * 2027", "UTC")) is None


@pytest.mark.parametrize(
    ("rrule", "first", "expressions"),
    [
        ("FREQ=DAILY", datetime(2026, 1, 5, 9, 5), ["5 9 * * *"]),
        ("FREQ=DAILY;BYMONTH=1,2,3", datetime(2026, 1, 5, 9, 0), ["0 9 * 1-3 *"]),
        ("FREQ=WEEKLY;BYDAY=SU,SA", datetime(2026, 1, 4, 9, 0), ["0 9 * * 0,6"]),
        ("FREQ=MONTHLY;BYDAY=1MO,-1FR", datetime(2026, 1, 5, 9, 0), ["0 9 * * 5L", "0 9 * * 1#1"]),
        ("FREQ=MONTHLY;BYDAY=MO", datetime(2026, 1, 5, 9, 0), ["0 9 * * 1"]),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15,-1", datetime(2026, 1, 1, 9, 0), ["0 9 1,15 * *", "0 9 L * *"]),
        ("FREQ=MONTHLY;INTERVAL=2", datetime(2026, 2, 10, 9, 0), ["0 9 10 2,4,6,8,10,12 *"]),
        ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", datetime(2026, 11, 26, 9, 0), ["0 9 * 11 4#4"]),
        ("FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=30", datetime(2026, 6, 30, 9, 0), ["0 9 30 6,12 *"]),
        ("FREQ=YEARLY;BYMONTHDAY=1", datetime(2026, 1, 1, 9, 0), ["0 9 1 * *"]),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", datetime(2026, 1, 5, 9, 0), None),
        ("FREQ=MONTHLY;INTERVAL=5", datetime(2026, 1, 5, 9, 0), None),
        ("FREQ=YEARLY;INTERVAL=2", datetime(2026, 1, 5, 9, 0), None),
        ("FREQ=MONTHLY;BYDAY=-2FR", datetime(2026, 1, 23, 9, 0), None),
        ("FREQ=MONTHLY;BYMONTHDAY=-2", datetime(2026, 1, 30, 9, 0), None),
        ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", datetime(2026, 2, 13, 9, 0), None),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", datetime(2026, 1, 5, 9, 0), None),
        ("FREQ=YEARLY;BYWEEKNO=20", datetime(2026, 5, 11, 9, 0), None),
        ("FREQ=YEARLY;BYDAY=20MO", datetime(2026, 5, 18, 9, 0), None),
        ("FREQ=HOURLY", datetime(2026, 1, 5, 9, 0), None),
    ],
)
def test_rule_candidates(rrule, first, expressions):
    candidate = candidate_for(parse_rule(rrule), first)
    if expressions is None:
        assert candidate is None
    else:
        assert candidate is not None
        assert candidate.expressions() == expressions


@pytest.mark.parametrize(
    ("months", "first", "last", "expected"),
    [
        ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), (2027, 1), None, [((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), "2027-2099")]),
        ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), (2026, 12), (2028, 2),
         [((12,), "2026"), ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), "2027"), ((1, 2), "2028")]),
        ((3, 9), (2026, 1), (2029, 12), [((3, 9), "2026-2029")]),
        ((3, 9), (2026, 4), (2029, 5), [((9,), "2026"), ((3, 9), "2027-2028"), ((3,), "2029")]),
        ((6,), (2026, 7), (2027, 5), []),
        ((1, 2), (2027, 3), (2027, 1), []),
    ],
)
def test_range_fields(months, first, last, expected):
    assert range_fields(months, first, last) == expected


def test_ranged_expression_stable_across_years():
    series = make_series(IST, datetime(2025, 3, 3, 10, 0), "FREQ=WEEKLY;BYDAY=MO;UNTIL=20280315T000000Z")
    this_year = compile_schedule(series, now=NOW, horizon_end=HORIZON)
    next_year = datetime(2027, 2, 1, tzinfo=UTC)
    later = compile_schedule(series, now=next_year, horizon_end=next_year + timedelta(days=30))
    assert _parts(this_year)[0] == ("y0", "0 10 * * 1 2025-2027", IST)
    assert _parts(later) == _parts(this_year)
