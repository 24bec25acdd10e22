"""Version resolution, cancellations, overrides, EXDATE and occurrence expansion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ics2conf.calendar import load_events

DATA = Path(__file__).parent / "data"
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def load(*files: str, **kwargs):
    return load_events([str(DATA / f) for f in files], **kwargs)


def events_by_uid(result) -> dict:
    return {e.uid: e for e in result.events}


@pytest.mark.parametrize(
    "files",
    [("version_seq1.ics", "version_seq2.ics"), ("version_seq2.ics", "version_seq1.ics")],
    ids=["old-first", "new-first"],
)
def test_highest_sequence_wins_in_any_order(files):
    event = events_by_uid(load(*files))["versioned@example.com"]
    assert event.summary == "Budget review (moved)"
    assert event.sequence == 2
    assert event.occurrences(*WINDOW) == [utc("2027-01-12T09:30Z")]


def test_equal_sequence_latest_dtstamp_wins():
    for files in (("version_seq1.ics", "version_seq2.ics"), ("version_seq2.ics", "version_seq1.ics")):
        event = events_by_uid(load(*files))["same-sequence@example.com"]
        assert event.summary == "Newer stamp"
        assert event.occurrences(*WINDOW) == [utc("2027-01-13T04:30Z")]


def test_method_cancel_removes_meeting():
    result = load("version_seq1.ics", "version_seq2.ics", "cancel_method.ics")
    assert "versioned@example.com" not in events_by_uid(result)
    assert [c[0] for c in result.cancelled] == ["versioned@example.com"]
    assert result.cancelled[0][2].endswith("cancel_method.ics")


def test_older_cancel_does_not_remove_newer_request(tmp_path):
    newer = (DATA / "version_seq2.ics").read_text().replace("SEQUENCE:2", "SEQUENCE:4")
    (tmp_path / "newer.ics").write_text(newer)
    result = load_events([str(DATA / "cancel_method.ics"), str(tmp_path / "newer.ics")])
    assert "versioned@example.com" in events_by_uid(result)
    assert result.cancelled == []


def test_status_cancelled_removes_meeting():
    result = load("status_cancelled.ics")
    assert result.events == []
    assert result.cancelled == [
        ("status-cancelled@example.com", "Offsite", str(DATA / "status_cancelled.ics"))
    ]


def test_overrides_move_cancel_and_this_and_future():
    event = events_by_uid(load("overrides.ics"))["overrides@example.com"]
    assert event.rrule == "FREQ=DAILY;COUNT=6"
    assert event.has_exceptions
    assert event.occurrences(*WINDOW) == [
        utc("2027-02-01T04:00Z"),  # 09:30 IST as planned
        utc("2027-02-02T09:00Z"),  # moved to 14:30 IST
        # 2027-02-03 cancelled by STATUS:CANCELLED
        utc("2027-02-04T04:00Z"),
        utc("2027-02-05T05:30Z"),  # RANGE=THISANDFUTURE: 11:00 IST from here on
        utc("2027-02-06T05:30Z"),
    ]


def test_moved_occurrence_found_only_at_new_time():
    event = events_by_uid(load("overrides.ics"))["overrides@example.com"]
    assert event.occurrences(utc("2027-02-02T03:00Z"), utc("2027-02-02T05:00Z")) == []
    assert event.occurrences(utc("2027-02-02T08:00Z"), utc("2027-02-02T10:00Z")) == [utc("2027-02-02T09:00Z")]


def test_method_cancel_with_recurrence_id_removes_one_occurrence():
    result = load("overrides.ics", "cancel_one_occurrence.ics")
    event = events_by_uid(result)["overrides@example.com"]
    assert utc("2027-02-04T04:00Z") not in event.occurrences(*WINDOW)
    assert len(event.occurrences(*WINDOW)) == 4
    assert result.cancelled == []


def test_this_and_future_cancellation(tmp_path):
    path = tmp_path / "future.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:future@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20270301T100000\r\nRRULE:FREQ=DAILY;COUNT=5\r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:future@example.com\r\nDTSTAMP:20261202T090000Z\r\nSEQUENCE:1\r\n"
        "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Asia/Kolkata:20270303T100000\r\n"
        "DTSTART;TZID=Asia/Kolkata:20270303T100000\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    event = events_by_uid(load_events([str(path)]))["future@example.com"]
    assert event.occurrences(*WINDOW) == [utc("2027-03-01T04:30Z"), utc("2027-03-02T04:30Z")]


def test_newer_series_drops_older_override(tmp_path):
    override = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:series@example.com\r\n"
        "DTSTAMP:20261202T090000Z\r\nSEQUENCE:1\r\nRECURRENCE-ID;TZID=Asia/Kolkata:20270302T100000\r\n"
        "DTSTART;TZID=Asia/Kolkata:20270302T170000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    series = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:series@example.com\r\n"
        "DTSTAMP:20261203T090000Z\r\nSEQUENCE:{seq}\r\nDTSTART;TZID=Asia/Kolkata:20270301T100000\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (tmp_path / "override.ics").write_text(override)
    (tmp_path / "series0.ics").write_text(series.format(seq=0))
    (tmp_path / "series2.ics").write_text(series.format(seq=2))

    kept = events_by_uid(load_events([str(tmp_path / "series0.ics"), str(tmp_path / "override.ics")]))
    assert kept["series@example.com"].occurrences(*WINDOW)[1] == utc("2027-03-02T11:30Z")

    replaced = events_by_uid(load_events([str(tmp_path / "override.ics"), str(tmp_path / "series2.ics")]))
    assert replaced["series@example.com"].occurrences(*WINDOW)[1] == utc("2027-03-02T04:30Z")


def test_exdate_in_every_form():
    event = events_by_uid(load("exdate_forms.ics"))["exdate-forms@example.com"]
    assert event.has_exceptions
    # 03-02 (TZID), 03-03 (UTC), 03-04 (DATE), 03-06 and 03-07 (list) are excluded.
    assert event.occurrences(*WINDOW) == [
        utc("2027-03-01T04:30Z"),
        utc("2027-03-05T04:30Z"),
        utc("2027-03-08T04:30Z"),
    ]


def test_all_day_event_is_marked():
    event = events_by_uid(load("floating_and_utc.ics"))["all-day@example.com"]
    assert event.all_day
    assert event.occurrences(*WINDOW) == [utc("2027-01-25T18:30Z")]  # midnight IST


def test_attendees_and_organizer_are_read():
    event = events_by_uid(load("outlook_windows_zone.ics"))[
        "040000008200E00074C5B7101A82E00800000000-outlook-ist@example.com"
    ]
    assert event.organizer.name == "Rao, Priya"
    assert event.organizer.email == "priya.rao@example.com"
    assert [a.name for a in event.attendees] == ["Iyer, Anand", "Meera Nair", "Board Room"]
    assert event.attendees[2].cutype == "ROOM"
    assert event.attendees[1].tel == "+91-98765-43210"


def test_event_without_uid_gets_stable_substitute(tmp_path):
    path = tmp_path / "no_uid.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nDTSTAMP:20261201T090000Z\r\n"
        "SUMMARY:No UID\r\nDTSTART;TZID=Asia/Kolkata:20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    first = load_events([str(path)])
    second = load_events([str(path)])
    assert first.events[0].uid == second.events[0].uid
    assert first.events[0].uid.startswith("no-uid-")
    assert any("has no UID" in p.message for p in first.problems)


def test_event_without_dtstart_is_error(tmp_path):
    path = tmp_path / "no_start.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:no-start@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nSUMMARY:No start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    assert result.events == []
    assert result.problems[0].level == "error"
    assert result.problems[0].uid == "no-start@example.com"
    assert "DTSTART" in result.problems[0].message


def test_unparsable_line_is_warning_naming_uid():
    result = load("attendees.ics")
    warnings = [p for p in result.problems if p.uid == "attendees@example.com"]
    assert len(warnings) == 1
    assert "Broken" in warnings[0].message


def test_occurrences_repeated_windows_agree():
    event = events_by_uid(load("overrides.ics"))["overrides@example.com"]
    whole = event.occurrences(*WINDOW)
    parts = []
    edges = [WINDOW[0], utc("2027-02-02T09:00Z"), utc("2027-02-05T05:30Z"), WINDOW[1]]
    for start, end in zip(edges, edges[1:]):
        parts += event.occurrences(start, end)
    assert parts == whole
    assert event.occurrences(*WINDOW) == whole


def test_years_after_until_need_no_expansion():
    event = events_by_uid(load("outlook_vtimezone.ics"))["outlook-vtimezone-berlin@example.com"]
    # The series ends in April 2027, so later years return without expansion.
    assert event.occurrences(utc("2030-01-01T00:00Z"), utc("2040-01-01T00:00Z")) == []
    assert event.occurrences._years == {}


def test_ended_series_is_skipped_without_expansion(tmp_path):
    path = tmp_path / "past.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:past@example.com\r\n"
        "DTSTAMP:20101201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20100105T100000\r\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20120101T000000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:past-count@example.com\r\n"
        "DTSTAMP:20101201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20100105T100000\r\n"
        "RRULE:FREQ=DAILY;COUNT=10\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    for event in load_events([str(path)]).events:
        assert event.occurrences._query is None, event.uid  # nothing built while loading
        assert event.occurrences(utc("2026-01-01T00:00Z"), utc("2036-01-01T00:00Z")) == []
        assert event.occurrences._years == {}, event.uid
        assert event.occurrences._query is None, event.uid


def test_weekly_series_over_years():
    path_events = load("outlook_windows_zone.ics").events
    event = path_events[0]
    assert len(event.occurrences(utc("2000-01-01T00:00Z"), utc("2100-01-01T00:00Z"))) == 4


def test_several_inputs_listed_in_sources():
    result = load("version_seq1.ics", "version_seq2.ics")
    assert result.sources == [str(DATA / "version_seq1.ics"), str(DATA / "version_seq2.ics")]


def test_rdate_adds_occurrences(tmp_path):
    path = tmp_path / "rdate.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:rdate@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20270301T100000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
        "RDATE;TZID=Asia/Kolkata:20270303T150000\r\nRDATE;VALUE=PERIOD:20270304T060000Z/PT1H\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:rdate-only@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=Asia/Kolkata:20270401T100000\r\nRDATE;TZID=Asia/Kolkata:20270402T100000,20270403T100000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    events = events_by_uid(load_events([str(path)]))
    assert events["rdate@example.com"].has_exceptions
    assert events["rdate@example.com"].occurrences(*WINDOW) == [
        utc("2027-03-01T04:30Z"),
        utc("2027-03-03T09:30Z"),
        utc("2027-03-04T06:00Z"),
        utc("2027-03-08T04:30Z"),
    ]
    assert events["rdate-only@example.com"].rrule is None
    assert events["rdate-only@example.com"].occurrences(*WINDOW) == [
        utc("2027-04-01T04:30Z"),
        utc("2027-04-02T04:30Z"),
        utc("2027-04-03T04:30Z"),
    ]


def test_dst_gap_and_fold_follow_rfc5545(tmp_path):
    # RFC 5545 3.3.5: a nonexistent local time uses the offset before the
    # gap, an ambiguous one its first occurrence.
    path = tmp_path / "dst.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:dst@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART;TZID=Europe/Berlin:20270321T023000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=2\r\nRDATE;TZID=Europe/Berlin:20271031T023000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    event = load_events([str(path)]).events[0]
    assert event.occurrences(*WINDOW) == [
        utc("2027-03-21T01:30Z"),
        utc("2027-03-28T01:30Z"),  # 02:30 does not exist that day: read with +01:00
        utc("2027-10-31T00:30Z"),  # 02:30 happens twice: the first, at +02:00
    ]


# (lines inside the VEVENT after UID and DTSTAMP, expected words in the error)
UNSCHEDULABLE = [
    ("DTSTART;TZID=Asia/Kolkata:20270105T100000\r\nDTSTART;TZID=Asia/Kolkata:20270105T110000",
     "has 2 DTSTART properties"),
    ("DTSTART:NOT-A-DATE", "invalid DTSTART 'NOT-A-DATE'"),
    ("DTSTART:20270105T100000Z\r\nRRULE:FREQ=SOMETIMES", "invalid RRULE 'FREQ=SOMETIMES'"),
    ("DTSTART:20270105T100000Z\r\nRRULE:RSCALE=CHINESE;FREQ=YEARLY", "RSCALE=CHINESE"),
    ("DTSTART:20270105T100000Z\r\nRRULE:FREQ=DAILY\r\nEXDATE:", "invalid EXDATE"),
    ("DTSTART:20270105T100000Z\r\nRDATE;VALUE=TIME:083000", "RDATE without a date"),
    ("DTSTART:20270105T100000Z\r\nRRULE:FREQ=SECONDLY", "more than 288 times a day"),
    ("DTSTART:20270105T100000Z\r\nRRULE:FREQ=MINUTELY;INTERVAL=2", "more than 288 times a day"),
]


@pytest.mark.parametrize(("lines", "expected"), UNSCHEDULABLE, ids=[e for _, e in UNSCHEDULABLE])
def test_unschedulable_event_is_error(tmp_path, lines, expected):
    path = tmp_path / "bad.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:bad@example.com\r\n"
        f"DTSTAMP:20261201T090000Z\r\n{lines}\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:good@example.com\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20270105T100000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    assert [e.uid for e in result.events] == ["good@example.com"]
    errors = [p for p in result.problems if p.level == "error"]
    assert len(errors) == 1
    assert expected in errors[0].message
    assert errors[0].uid == "bad@example.com"
    assert str(path) in errors[0].message


def test_attendee_email_parameter_gives_mailto(tmp_path):
    path = tmp_path / "urn.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:urn@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART:20270105T100000Z\r\n"
        "ATTENDEE;CN=Urn Person;EMAIL=Urn.Person@example.com:urn:uuid:6f7e2a44-0000-4000-8000-000000000001\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    attendee = load_events([str(path)]).events[0].attendees[0]
    assert attendee.value == "mailto:Urn.Person@example.com"
    assert attendee.email == "urn.person@example.com"


def reply_file(tmp_path, name: str, partstat: str, sequence: int, extra: str = "") -> str:
    path = tmp_path / name
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:versioned@example.com\r\n"
        f"SEQUENCE:{sequence}\r\nDTSTAMP:20261220T090000Z\r\n{extra}"
        f"ATTENDEE;PARTSTAT={partstat};CN=Ravi Kumar:mailto:Ravi.Kumar@example.com\r\n"
        "DTSTART;TZID=Asia/Kolkata:20270112T180000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return str(path)


def test_reply_updates_partstat_not_the_meeting(tmp_path):
    reply = reply_file(tmp_path, "reply.ics", "DECLINED", 2)
    event = events_by_uid(load_events([str(DATA / "version_seq2.ics"), reply]))["versioned@example.com"]
    assert event.summary == "Budget review (moved)"
    assert event.occurrences(*WINDOW) == [utc("2027-01-12T09:30Z")]
    assert [(a.email, a.partstat) for a in event.attendees] == [("ravi.kumar@example.com", "DECLINED")]


def test_reply_to_older_sequence_is_ignored(tmp_path):
    reply = reply_file(tmp_path, "reply.ics", "DECLINED", 1)
    event = events_by_uid(load_events([str(DATA / "version_seq2.ics"), reply]))["versioned@example.com"]
    assert event.attendees[0].partstat is None


def test_reply_without_invite_is_warning(tmp_path):
    result = load_events([reply_file(tmp_path, "reply.ics", "ACCEPTED", 2)])
    assert result.events == []
    assert result.problems[0].level == "warning"
    assert "reply" in result.problems[0].message
    assert result.problems[0].uid == "versioned@example.com"


def test_hourly_and_short_dense_rules_are_allowed(tmp_path):
    path = tmp_path / "hourly.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:hourly@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART:20270105T100000Z\r\nRRULE:FREQ=HOURLY;INTERVAL=2\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:burst@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART:20270105T100000Z\r\nRRULE:FREQ=MINUTELY;COUNT=3\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    events = events_by_uid(load_events([str(path)]))
    day = (utc("2027-01-05T00:00Z"), utc("2027-01-06T00:00Z"))
    assert len(events["hourly@example.com"].occurrences(*day)) == 7
    assert events["burst@example.com"].occurrences(*day) == [
        utc("2027-01-05T10:00Z"),
        utc("2027-01-05T10:01Z"),
        utc("2027-01-05T10:02Z"),
    ]


@pytest.mark.parametrize(
    ("start_line", "default_timezone"),
    [
        ("DTSTART;TZID=Pacific/Kiritimati:20261228T003000", "Asia/Kolkata"),  # UTC+14
        ("DTSTART;TZID=Pacific/Pago_Pago:20261228T233000", "Asia/Kolkata"),  # UTC-11
        ("DTSTART:20261228T003000", "Pacific/Kiritimati"),  # floating
        ("DTSTART;VALUE=DATE:20261228", "Pacific/Pago_Pago"),  # all-day
    ],
)
def test_no_occurrence_lost_at_year_boundary(tmp_path, start_line, default_timezone):
    path = tmp_path / "new_year.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:new-year@example.com\r\n"
        f"DTSTAMP:20261201T090000Z\r\n{start_line}\r\nRRULE:FREQ=DAILY;COUNT=8\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    event = load_events([str(path)], default_timezone=default_timezone).events[0]
    whole = event.occurrences(utc("2026-01-01T00:00Z"), utc("2028-01-01T00:00Z"))
    assert len(whole) == 8
    assert [b - a for a, b in zip(whole, whole[1:])] == [timedelta(days=1)] * 7
    by_year = event.occurrences(utc("2026-01-01T00:00Z"), utc("2027-01-01T00:00Z")) + event.occurrences(
        utc("2027-01-01T00:00Z"), utc("2028-01-01T00:00Z")
    )
    assert by_year == whole


def test_recurrence_id_in_utc_and_as_date():
    result = load("recurrence_id_forms.ics")
    event = events_by_uid(result)["rid@example.com"]
    assert event.occurrences(*WINDOW) == [
        utc("2027-03-01T04:30Z"),
        utc("2027-03-02T09:30Z"),  # UTC RECURRENCE-ID 04:30Z matches 10:00 IST, moved to 15:00 IST
        # 2027-03-03 cancelled by a DATE RECURRENCE-ID
    ]
    assert len(result.problems) == 1
    assert "RECURRENCE-ID 2027-03-03 is a date" in result.problems[0].message


def test_windows_agree_with_one_wide_window():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    files = ["overrides.ics", "exdate_forms.ics", "outlook_vtimezone.ics", "google_x_wr_timezone.ics",
             "custom_vtimezone.ics", "until_forms.ics", "recurrence_id_forms.ics"]
    events = load(*files).events
    wide = (utc("2026-06-01T00:00Z"), utc("2028-06-01T00:00Z"))
    expected = {e.uid: e.occurrences(*wide) for e in events}
    minutes = st.integers(min_value=0, max_value=2 * 366 * 24 * 60)

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(events), minutes, minutes)
    def check(event, a, b):
        start, end = sorted((wide[0] + timedelta(minutes=a), wide[0] + timedelta(minutes=b)))
        got = event.occurrences(start, end)
        assert got == [t for t in expected[event.uid] if start <= t < end]

    check()


def test_occurrences_until_far_future_window():
    event = events_by_uid(load("exdate_forms.ics"))["exdate-forms@example.com"]
    far = datetime.max.replace(tzinfo=UTC)
    assert len(event.occurrences(utc("2027-01-01T00:00Z"), far)) == 3


# --- per-occurrence attendee lists ------------------------------------------

OVERRIDE_UID = "override-attendees@example.com"


def partstats(attendees) -> dict[str, str | None]:
    return {a.email: a.partstat for a in attendees}


def override_reply(tmp_path, name: str, email: str, partstat: str, sequence: int, recurrence_id: str = "") -> str:
    path = tmp_path / name
    extra = f"RECURRENCE-ID;TZID=Asia/Kolkata:{recurrence_id}\r\n" if recurrence_id else ""
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
        f"UID:{OVERRIDE_UID}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20261220T090000Z\r\n{extra}"
        f"ATTENDEE;PARTSTAT={partstat}:mailto:{email}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return str(path)


def test_occurrence_attendees_of_changed_overrides():
    event = events_by_uid(load("override_attendees.ics"))[OVERRIDE_UID]
    # 25 January is cancelled and 8 February only moved: neither has its own list.
    assert sorted(event.occurrence_attendees) == [
        utc("2027-01-11T04:30Z"),
        utc("2027-01-18T06:00Z"),
        utc("2027-02-01T04:30Z"),
    ]
    assert partstats(event.occurrence_attendees[utc("2027-01-11T04:30Z")])["vikram@example.com"] == "DECLINED"
    assert sorted(partstats(event.occurrence_attendees[utc("2027-01-18T06:00Z")])) == [
        "asha@example.com",
        "meera@example.com",
        "priya@example.com",
    ]
    assert partstats(event.attendees)["vikram@example.com"] == "ACCEPTED"


def test_occurrence_attendee_keys_are_occurrences():
    event = events_by_uid(load("override_attendees.ics"))[OVERRIDE_UID]
    starts = set(event.occurrences(*WINDOW))
    assert set(event.occurrence_attendees) <= starts
    assert utc("2027-02-08T05:00Z") in starts


def test_series_reply_applies_to_overrides(tmp_path):
    reply = override_reply(tmp_path, "reply.ics", "vikram@example.com", "DECLINED", 0)
    event = events_by_uid(load_events([str(DATA / "override_attendees.ics"), reply]))[OVERRIDE_UID]
    assert partstats(event.attendees)["vikram@example.com"] == "DECLINED"
    # 11 January now equals the series; 1 February keeps its own list, declined too.
    assert sorted(event.occurrence_attendees) == [utc("2027-01-18T06:00Z"), utc("2027-02-01T04:30Z")]
    assert partstats(event.occurrence_attendees[utc("2027-02-01T04:30Z")])["vikram@example.com"] == "DECLINED"


def test_occurrence_reply_changes_that_occurrence(tmp_path):
    moved = override_reply(tmp_path, "moved.ics", "asha@example.com", "DECLINED", 1, "20270208T100000")
    plain = override_reply(tmp_path, "plain.ics", "vikram@example.com", "DECLINED", 0, "20270104T100000")
    event = events_by_uid(load_events([str(DATA / "override_attendees.ics"), moved, plain]))[OVERRIDE_UID]
    assert partstats(event.attendees) == {
        "priya@example.com": "ACCEPTED",
        "asha@example.com": "ACCEPTED",
        "vikram@example.com": "ACCEPTED",
        "meera@example.com": "DECLINED",
    }
    # The reply names the original start; the override moved it to 10:30 IST.
    assert partstats(event.occurrence_attendees[utc("2027-02-08T05:00Z")])["asha@example.com"] == "DECLINED"
    assert partstats(event.occurrence_attendees[utc("2027-01-04T04:30Z")])["vikram@example.com"] == "DECLINED"


def test_occurrence_reply_to_older_override_is_ignored(tmp_path):
    reply = override_reply(tmp_path, "reply.ics", "asha@example.com", "DECLINED", 0, "20270208T100000")
    event = events_by_uid(load_events([str(DATA / "override_attendees.ics"), reply]))[OVERRIDE_UID]
    assert utc("2027-02-08T05:00Z") not in event.occurrence_attendees


def test_events_without_overrides_have_no_occurrence_attendees():
    events = load("overrides.ics", "attendees.ics", "version_seq2.ics").events
    assert events
    assert all(event.occurrence_attendees == {} for event in events)


# --- version ties and repeated warnings ---------------------------------------


def test_version_tie_independent_of_order():
    first, second = str(DATA / "version_tie_a.ics"), str(DATA / "version_tie_b.ics")
    forward = load_events([first, second])
    backward = load_events([second, first])
    assert [e.summary for e in forward.events] == [e.summary for e in backward.events]
    assert forward.events[0].summary == backward.events[0].summary


def test_version_tie_warns_with_both_files():
    first, second = str(DATA / "version_tie_a.ics"), str(DATA / "version_tie_b.ics")
    result = load_events([first, second])
    [problem] = result.problems
    assert problem.level == "warning"
    assert problem.uid == "tied@example.com"
    assert "tied@example.com" in problem.message
    assert first in problem.message
    assert second in problem.message


def test_version_tie_prefers_later_last_modified(tmp_path):
    template = (DATA / "version_tie_a.ics").read_text()
    newer = tmp_path / "newer.ics"
    newer.write_text(
        template.replace("Board review (room 1)", "Board review (moved)").replace(
            "DTSTAMP:20261201T090000Z", "DTSTAMP:20261201T090000Z\nLAST-MODIFIED:20261130T090000Z"
        )
    )
    for order in ([str(newer), str(DATA / "version_tie_a.ics")], [str(DATA / "version_tie_a.ics"), str(newer)]):
        assert [e.summary for e in load_events(order).events] == ["Board review (moved)"]


def test_identical_copies_do_not_warn(tmp_path):
    copy = tmp_path / "copy.ics"
    copy.write_bytes((DATA / "version_tie_a.ics").read_bytes())
    result = load_events([str(DATA / "version_tie_a.ics"), str(copy)])
    assert result.problems == []


def test_many_events_without_uid_warn_once(tmp_path):
    event = "BEGIN:VEVENT\r\nDTSTART:20270111T043000Z\r\nSUMMARY:No UID\r\n"
    nested = event * 5000 + "END:VEVENT\r\n" * 5000
    path = tmp_path / "nested.ics"
    path.write_text(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{nested}END:VCALENDAR\r\n", newline="")
    result = load_events([str(path)])
    no_uid = [p for p in result.problems if "no UID" in p.message]
    assert len(no_uid) == 1
    assert "5000 events" in no_uid[0].message
    assert str(path) in no_uid[0].message
    assert [p for p in result.problems if p.level == "error"] == []


def test_identical_warnings_are_counted(tmp_path):
    line = "X-BROKEN\r\n"
    path = tmp_path / "broken.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:counted@example.com\r\n"
        f"DTSTART:20270111T043000Z\r\n{line * 3}END:VEVENT\r\nEND:VCALENDAR\r\n",
        newline="",
    )
    messages = [p.message for p in load_events([str(path)]).problems]
    assert len(messages) == len(set(messages))


def test_this_and_future_override_sets_later_lists(tmp_path):
    text = (DATA / "override_attendees.ics").read_text()
    text = text.replace(
        "RECURRENCE-ID;TZID=Asia/Kolkata:20270118T100000", "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Asia/Kolkata:20270118T100000"
    )
    path = tmp_path / "future.ics"
    path.write_text(text, newline="")
    event = events_by_uid(load_events([str(path)]))[OVERRIDE_UID]
    assert [start for start, _ in event.attendees_from] == [utc("2027-01-18T06:00Z")]
    assert sorted(partstats(event.attendees_from[0][1])) == ["asha@example.com", "meera@example.com", "priya@example.com"]
    # 1 February and 8 February differ from the list in force from 18 January on.
    assert sorted(event.occurrence_attendees) == [
        utc("2027-01-11T04:30Z"),
        utc("2027-02-01T04:30Z"),
        utc("2027-02-08T05:00Z"),
    ]
