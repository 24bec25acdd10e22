"""The benchmark export generator: valid calendars, the promised mix, reproducible output."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import phonenumbers
import pytest
import recurring_ical_events
from icalendar import Calendar

from bench.generate import generate_export

NOW = datetime.fromisoformat("2027-01-04T09:00:00+05:30")
EVENTS = 300


@pytest.fixture(scope="module")
def export():
    return generate_export(EVENTS, seed=11, now=NOW)


@pytest.fixture(scope="module")
def calendar(export):
    return Calendar.from_ical(export.ics)


def masters(calendar):
    return [e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" not in e]


def attendees_of(event):
    value = event.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]


def test_export_parses_with_every_event(calendar):
    assert len(masters(calendar)) == EVENTS


def test_mix_of_past_recurring_future(calendar):
    singles = [e for e in masters(calendar) if "RRULE" not in e]
    past = [e for e in singles if e["DTSTART"].dt < NOW]
    assert len(masters(calendar)) - len(singles) == EVENTS * 20 // 100
    assert len(past) == EVENTS * 70 // 100
    assert len(singles) - len(past) == EVENTS * 10 // 100


def test_series_have_exdates_and_overrides(calendar):
    overrides = [e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" in e]
    with_exdate = [e for e in masters(calendar) if "EXDATE" in e]
    frequencies = {e["RRULE"]["FREQ"][0] for e in masters(calendar) if "RRULE" in e}
    assert overrides
    assert with_exdate
    assert frequencies == {"WEEKLY", "DAILY"}


def test_attendee_counts_and_declines(calendar):
    counts = [len(attendees_of(e)) for e in calendar.walk("VEVENT")]
    partstats = {a.params["PARTSTAT"] for e in calendar.walk("VEVENT") for a in attendees_of(e)}
    assert min(counts) >= 2
    assert max(counts) <= 12
    assert "DECLINED" in partstats
    addresses = [a for e in calendar.walk("VEVENT") for a in attendees_of(e)]
    assert all(str(a).startswith("mailto:") for a in addresses)
    assert all(a.params.get("CN") for a in addresses)


def test_every_tzid_has_vtimezone(calendar):
    defined = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    used = {e["DTSTART"].params["TZID"] for e in calendar.walk("VEVENT") if "TZID" in e["DTSTART"].params}
    utc_events = [e for e in calendar.walk("VEVENT") if "TZID" not in e["DTSTART"].params]
    assert used <= defined
    assert {"Asia/Kolkata", "Europe/Berlin", "America/New_York"} <= used
    assert utc_events


def test_directory_covers_attendees_with_indian_mobiles(export, calendar):
    rows = list(csv.DictReader(io.StringIO(export.directory_csv)))
    emails = {str(a)[len("mailto:"):] for e in calendar.walk("VEVENT") for a in attendees_of(e)}
    assert list(rows[0]) == ["email", "phone", "name"]
    assert {row["email"] for row in rows} == emails
    for row in rows:
        number = phonenumbers.parse(row["phone"], "IN")
        assert phonenumbers.is_valid_number(number), row
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE, row


def test_calls_in_horizon_match_expansion(export, calendar):
    # The generator's own count of calls is the benchmark's ground truth, so
    # it must agree with an independent expansion of the file.
    occurrences = [
        o for o in recurring_ical_events.of(calendar).between(NOW, NOW + timedelta(days=30))
        if o["DTSTART"].dt >= NOW
    ]
    # ics2conf does not ring the organizer by default, even when listed as an attendee.
    calls = sum(
        1 for o in occurrences for a in attendees_of(o)
        if a.params.get("PARTSTAT") != "DECLINED" and str(a) != str(o["ORGANIZER"])
    )
    assert export.counts["occurrences_in_horizon"] == len(occurrences)
    assert export.counts["calls_in_horizon"] == calls


def test_same_seed_same_bytes():
    first = generate_export(50, seed=3, now=NOW)
    second = generate_export(50, seed=3, now=NOW)
    other = generate_export(50, seed=4, now=NOW)
    assert first.ics == second.ics
    assert first.directory_csv == second.directory_csv
    assert first.ics != other.ics
