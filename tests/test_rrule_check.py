"""RRULE validation: RFC 5545 ranges, clear errors, and rules that add no occurrence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from icalendar.prop import vRecur

from ics2conf import rrule_check
from ics2conf.calendar import load_events
from ics2conf.schedule import compile_schedule, verify_schedule
from schedule_support import make_series

DATA = Path(__file__).parent / "data"
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def rule(text: str) -> vRecur:
    return vRecur.from_ical(text)


# (rule, expected substring of the error)
INVALID_RULES = [
    ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
    ("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO", "INTERVAL=0"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32"),
    ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY=-32"),
    ("FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY=367"),
    ("FREQ=YEARLY;BYYEARDAY=0", "BYYEARDAY=0"),
    ("FREQ=YEARLY;BYWEEKNO=54", "BYWEEKNO=54"),
    ("FREQ=YEARLY;BYWEEKNO=0", "BYWEEKNO=0"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH=13"),
    ("FREQ=YEARLY;BYMONTH=0", "BYMONTH=0"),
    ("FREQ=DAILY;BYHOUR=24", "BYHOUR=24"),
    ("FREQ=DAILY;BYHOUR=99", "BYHOUR=99"),
    ("FREQ=DAILY;BYMINUTE=60", "BYMINUTE=60"),
    ("FREQ=DAILY;BYSECOND=61", "BYSECOND=61"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS=0"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=367", "BYSETPOS=367"),
    ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY=0MO"),
    ("FREQ=YEARLY;BYDAY=54MO", "BYDAY=54MO"),
    ("FREQ=DAILY;BYDAY=0MO", "BYDAY=0MO"),
    ("FREQ=WEEKLY;BYDAY=1MO", "only with FREQ=MONTHLY or YEARLY"),
    ("COUNT=3", "FREQ is missing"),
    ("FREQ=DAILY;COUNT=0", "COUNT=0"),
    ("FREQ=DAILY;COUNT=2;UNTIL=20270201T000000Z", "COUNT and UNTIL"),
]


@pytest.mark.parametrize(("text", "expected"), INVALID_RULES, ids=[c[0] for c in INVALID_RULES])
def test_invalid_rule_is_named(text, expected):
    error = rrule_check.rule_error(rule(text))
    assert error is not None
    assert expected in error


VALID_RULES = [
    "FREQ=DAILY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;BYDAY=53MO",
    "FREQ=YEARLY;BYYEARDAY=-366;BYWEEKNO=-53",
    "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=0,59;BYSECOND=60;COUNT=1",
    "FREQ=DAILY;UNTIL=20270201T000000Z",
]


@pytest.mark.parametrize("text", VALID_RULES)
def test_valid_rule_passes(text):
    assert rrule_check.rule_error(rule(text)) is None


NEVER_OCCURRING = [
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "BYMONTHDAY=30"),
    ("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", "BYMONTHDAY=31"),
    ("FREQ=YEARLY;BYMONTH=4,6,9,11;BYMONTHDAY=-31", "BYMONTHDAY=-31"),
    ("FREQ=DAILY;UNTIL=20261231", "UNTIL=20261231"),
]


@pytest.mark.parametrize(("text", "expected"), NEVER_OCCURRING, ids=[c[0] for c in NEVER_OCCURRING])
def test_rule_without_occurrence_warns(text, expected):
    warnings = rrule_check.rule_warnings(rule(text), date(2027, 1, 5))
    assert len(warnings) == 1
    assert expected in warnings[0]


@pytest.mark.parametrize(
    "text", ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=2,3;BYMONTHDAY=30", "FREQ=DAILY"]
)
def test_possible_rule_has_no_warning(text):
    assert rrule_check.rule_warnings(rule(text), date(2027, 1, 5)) == []


def test_interval_zero_is_error_and_skipped():
    path = DATA / "rrule_interval_zero.ics"
    result = load_events([str(path)])
    assert [e.uid for e in result.events] == ["valid-daily@example.com"]
    errors = {p.uid: p for p in result.problems if p.level == "error"}
    assert set(errors) == {"interval-zero@example.com", "weekly-interval-zero@example.com"}
    for problem in errors.values():
        assert str(path) in problem.message
        assert "INTERVAL=0" in problem.message
        assert "fix the rule" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FREQ=DAILY;BYDAY=0MO", "BYDAY=0MO"),
        ("FREQ=DAILY;BYHOUR=99", "BYHOUR=99"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS=0"),
        ("COUNT=3", "FREQ is missing"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY=0"),
    ],
)
def test_bad_rule_message_names_part(tmp_path, text, expected):
    path = tmp_path / "bad-rule.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:bad-rule@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20270105T100000\r\n"
        f"RRULE:{text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        newline="",
    )
    result = load_events([str(path)])
    assert result.events == []
    [problem] = result.problems
    assert problem.level == "error"
    assert problem.uid == "bad-rule@example.com"
    assert expected in problem.message
    assert "UNTIL parameter is missing" not in problem.message
    assert "positional argument" not in problem.message


def test_calendar_warns_for_rules_without_occurrence():
    result = load_events([str(DATA / "rrule_never_occurs.ics")])
    warnings = {p.uid: p.message for p in result.problems}
    assert all(p.level == "warning" for p in result.problems)
    assert "BYMONTHDAY=30" in warnings["february-30@example.com"]
    assert "BYMONTHDAY=31" in warnings["april-31@example.com"]
    assert "before DTSTART" in warnings["until-before-start@example.com"]
    assert "DTEND" in warnings["end-before-start@example.com"]


def test_dtend_before_dtstart_uses_dtstart():
    result = load_events([str(DATA / "rrule_never_occurs.ics")])
    event = next(e for e in result.events if e.uid == "end-before-start@example.com")
    assert event.occurrences(*WINDOW) == [datetime(2027, 1, 5, 4, 30, tzinfo=UTC)]


# (rule, the cron expressions of the compiled schedule)
IMPOSSIBLE_DAY_SCHEDULES = [
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", ["0 10 5 1 * 2027"]),
    ("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", ["0 10 5 1 * 2027"]),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", ["0 10 29 2 * 2027-2099", "0 10 5 1 * 2027"]),
]


@pytest.mark.parametrize(("text", "expressions"), IMPOSSIBLE_DAY_SCHEDULES, ids=[c[0] for c in IMPOSSIBLE_DAY_SCHEDULES])
def test_schedule_drops_parts_that_never_fire(text, expressions):
    ist = timezone(timedelta(hours=5, minutes=30))
    now = datetime(2027, 1, 4, 8, 0, tzinfo=ist)
    series = make_series("Asia/Kolkata", datetime(2027, 1, 5, 10, 0), text)
    schedule = compile_schedule(series, now=now, horizon_end=now + timedelta(days=30))
    assert [part.cron_expression for part in schedule.parts] == expressions
    verify_schedule(schedule, series, start=now, end=schedule.checked_until)
