"""Calling rules: quiet hours, daily call budget, one call per phone number."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ics2conf.calling import (
    daily_budget_warnings,
    describe_event,
    drop_shared_numbers,
    in_quiet_hours,
    quiet_hours_warning,
    shared_number_warnings,
)
from ics2conf.model import Callee, Event, Problem, SkippedAttendee

IST = ZoneInfo("Asia/Kolkata")
UTC = timezone.utc


def make_event(summary="Stand-up", uid="uid-1@example.com"):
    return Event(
        uid=uid,
        summary=summary,
        source="team.ics",
        zone="Asia/Kolkata",
        start=datetime(2027, 1, 4, 10, 0, tzinfo=IST),
        rrule=None,
        all_day=False,
        organizer=None,
        attendees=(),
    )


def callee(email, phone_digits, name=None):
    return Callee(
        key=email,
        address=f"mailto:{email}",
        name=name,
        phone="0" + phone_digits,
        phone_e164="+91" + phone_digits,
    )


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((8, 59), True),
        ((9, 0), False),
        ((12, 0), False),
        ((20, 59), False),
        ((21, 0), True),
        ((23, 30), True),
        ((0, 0), True),
        ((3, 15), True),
    ],
)
def test_quiet_hours_ist(local, quiet):
    instant = datetime(2027, 1, 4, *local, tzinfo=IST)
    assert in_quiet_hours(instant) is quiet


@pytest.mark.parametrize(
    ("instant", "quiet"),
    [
        (datetime(2027, 1, 4, 3, 30, tzinfo=UTC), False),  # 09:00 IST
        (datetime(2027, 1, 4, 3, 29, tzinfo=UTC), True),  # 08:59 IST
        (datetime(2027, 1, 4, 15, 29, tzinfo=UTC), False),  # 20:59 IST
        (datetime(2027, 1, 4, 15, 30, tzinfo=UTC), True),  # 21:00 IST
        (datetime(2027, 7, 5, 11, 0, tzinfo=ZoneInfo("Europe/Berlin")), False),  # 14:30 IST
        (datetime(2027, 7, 5, 18, 0, tzinfo=ZoneInfo("Europe/Berlin")), True),  # 21:30 IST
    ],
)
def test_quiet_hours_other_zones(instant, quiet):
    assert in_quiet_hours(instant) is quiet


def test_quiet_hours_warning_one_call():
    event = make_event()
    warning = quiet_hours_warning(event, [datetime(2027, 1, 4, 16, 0, tzinfo=UTC)])
    assert warning == Problem(
        "warning",
        'Event "Stand-up" (UID uid-1@example.com): 1 call falls in the quiet hours'
        " 21:00-09:00 IST and will not be scheduled: 2027-01-04 21:30 IST. Move the meeting"
        " or pass --allow-quiet-hours.",
        source="team.ics",
        uid="uid-1@example.com",
    )


def test_quiet_hours_warning_lists_five():
    event = make_event()
    calls = [datetime(2027, 1, 4, 22, 0, tzinfo=IST) + timedelta(days=n) for n in range(7)]
    # An instant given twice (two attempts at one minute) is one call.
    warning = quiet_hours_warning(event, calls + calls[:1])
    assert warning.message == (
        'Event "Stand-up" (UID uid-1@example.com): 7 calls fall in the quiet hours'
        " 21:00-09:00 IST and will not be scheduled: 2027-01-04 22:00 IST, 2027-01-05 22:00 IST,"
        " 2027-01-06 22:00 IST, 2027-01-07 22:00 IST, 2027-01-08 22:00 IST and 2 more."
        " Move the meeting or pass --allow-quiet-hours."
    )


def test_describe_event_one_line():
    event = make_event(summary="Review\n  <b>&\tplan</b>")
    assert describe_event(event) == '"Review <b>& plan</b>" (UID uid-1@example.com)'


def test_describe_event_long_and_empty():
    assert describe_event(make_event(summary="x" * 100)) == '"' + "x" * 79 + '…" (UID uid-1@example.com)'
    assert describe_event(make_event(summary="  ")) == '"(no title)" (UID uid-1@example.com)'


def test_budget_under_limit():
    calls = [datetime(2027, 1, 4, 10, 0, tzinfo=IST)] * 50
    assert daily_budget_warnings(calls, 50) == []


def test_budget_over_limit_per_ist_day():
    # 23:00 UTC on the 4th is 04:30 IST on the 5th: it counts for the 5th.
    calls = (
        [datetime(2027, 1, 4, 10, 0, tzinfo=IST)] * 3
        + [datetime(2027, 1, 4, 23, 0, tzinfo=UTC)] * 2
        + [datetime(2027, 1, 5, 11, 0, tzinfo=IST)] * 2
        + [datetime(2027, 1, 6, 11, 0, tzinfo=IST)] * 2
    )
    assert daily_budget_warnings(calls, 2) == [
        Problem(
            "warning",
            "2027-01-04 (IST): 3 calls planned, more than the daily limit of 2. KooKoo may"
            " reject the calls over the account's daily cap; raise --daily-call-limit if your"
            " account allows more.",
        ),
        Problem(
            "warning",
            "2027-01-05 (IST): 4 calls planned, more than the daily limit of 2. KooKoo may"
            " reject the calls over the account's daily cap; raise --daily-call-limit if your"
            " account allows more.",
        ),
    ]


def test_shared_number_called_once():
    event = make_event()
    asha = callee("asha@example.com", "9876543210", "Asha")
    desk = callee("desk@example.com", "9876543210")
    vikram = callee("vikram@example.com", "9876543211")
    kept, problems = drop_shared_numbers(event, [asha, vikram, desk])
    assert kept == [asha, vikram]
    assert problems == [
        Problem(
            "warning",
            'Event "Stand-up" (UID uid-1@example.com): attendees asha@example.com and'
            " desk@example.com have the same number +919876543210; it is called once, for"
            " asha@example.com.",
            source="team.ics",
            uid="uid-1@example.com",
            address="mailto:desk@example.com",
        )
    ]


def test_distinct_numbers_all_kept():
    event = make_event()
    people = [callee(f"p{n}@example.com", f"98765432{n:02d}") for n in range(5)]
    assert drop_shared_numbers(event, people) == (people, [])


def test_shared_number_from_resolver_skip():
    event = make_event()
    asha = callee("asha@example.com", "9876543210", "Asha")
    skipped = [
        SkippedAttendee("mailto:desk@example.com", None, "same person as mailto:asha@example.com, rung once"),
        SkippedAttendee("mailto:ASHA@example.com", "Asha", "same person as mailto:asha@example.com, rung once"),
        SkippedAttendee("mailto:bob@example.com", None, "declined"),
    ]
    assert shared_number_warnings(event, [asha], skipped) == [
        Problem(
            "warning",
            'Event "Stand-up" (UID uid-1@example.com): attendees asha@example.com and'
            " desk@example.com have the same number +919876543210; it is called once, for"
            " asha@example.com.",
            source="team.ics",
            uid="uid-1@example.com",
            address="mailto:desk@example.com",
        )
    ]


def test_shared_number_tel_attendee():
    event = make_event()
    asha = callee("asha@example.com", "9876543210")
    skipped = [SkippedAttendee("tel:+91 98765 43210", "Desk", "same person as mailto:asha@example.com, rung once")]
    warnings = shared_number_warnings(event, [asha], skipped)
    assert [w.address for w in warnings] == ["tel:+91 98765 43210"]
