"""Meetings that ended before the cutoff are left out unread, and leaving them out changes no job."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from rich.console import Console

from bench.generate import generate_export
from ics2conf.calendar import load_events
from ics2conf.config import Settings
from ics2conf.model import Delete, Plan, RemoteJob, uid_hash
from ics2conf.past import drop_past_events
from ics2conf.pipeline import build_desired, past_cutoff
from ics2conf.render import plan_document
from ics2conf.render_text import render_plan

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=IST)
CUTOFF = date(2027, 1, 1)
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
DATA = ROOT / "tests" / "data"


def vevent(uid: str | None = "a@example.com", start: str = "20261201T100000Z", *extra: str) -> str:
    lines = ["BEGIN:VEVENT"]
    if uid is not None:
        lines.append(f"UID:{uid}")
    lines += ["DTSTAMP:20261101T000000Z", f"DTSTART:{start}", "SUMMARY:Review", *extra, "END:VEVENT"]
    return "\r\n".join(lines)


def calendar(*events: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *events, "END:VCALENDAR", ""])


def dropped_uids(*texts: str, cutoff: date = CUTOFF) -> set[str]:
    return drop_past_events(list(texts), cutoff)[1].uids


# --- which VEVENTs are certainly over ----------------------------------------


@pytest.mark.parametrize(
    ("start", "extra", "dropped"),
    [
        ("20261201T100000Z", (), True),
        ("20261231T235900Z", (), True),  # the day before the cutoff
        ("20270101T000000Z", (), False),  # on the cutoff
        ("20270301T100000Z", (), False),
        ("20261201", (), True),  # an all-day event
        ("2026-12-01T10:00:00", (), False),  # not an iCalendar date, so unread
        ("20261301T100000Z", (), False),  # month 13
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;UNTIL=20261220T000000Z",), True),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;UNTIL=20261220",), True),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;UNTIL=20270101T000000Z",), False),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY",), False),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;COUNT=2",), False),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;COUNT=2;UNTIL=20261220",), False),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;UNTIL=20261210;UNTIL=20271210",), False),
        ("20261201T100000Z", ("RRULE:FREQ=WEEKLY;UNTIL=20261220", "RRULE:FREQ=DAILY"), False),
        ("20261201T100000Z", ("RDATE:20261205T100000Z",), False),
        ("20261201T100000Z", ("EXDATE:20261208T100000Z",), True),
        ("20261201T100000Z", ("BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "END:VALARM"), True),
        ("20261201T100000Z", ("BEGIN:VALARM", "DTSTART:20300101T000000Z", "END:VALARM"), True),
        ("20261201T100000Z", ("BEGIN:VEVENT", "UID:inner@example.com", "END:VEVENT"), False),
        ("20261201T100000Z", ("a line without a colon",), False),
        ("20261201T100000Z", ("DTSTART:20261202T100000Z",), False),  # two DTSTARTs
        ("20261201T100000Z", ("UID:b@example.com",), False),  # two UIDs
        ("20261201T100000Z", ("RECURRENCE-ID:20261208T100000Z",), True),
        ("20261201T100000Z", ("RECURRENCE-ID:20270108T100000Z",), False),
        ("20261201T100000Z", ("RECURRENCE-ID;RANGE=THISANDFUTURE:20261208T100000Z",), False),
    ],
)
def test_certainly_over(start, extra, dropped):
    text = calendar(vevent("a@example.com", start, *extra))
    assert (dropped_uids(text) == {"a@example.com"}) is dropped


def test_quoted_tzid_with_colon_is_read():
    text = calendar(vevent("a@example.com", "20261201T100000", ).replace(
        "DTSTART:", 'DTSTART;TZID="Eastern: US; Canada":'
    ))
    assert dropped_uids(text) == {"a@example.com"}


def test_lower_case_names_are_read():
    text = calendar("begin:vevent\r\nuid:a@example.com\r\ndtstart:20261201T100000Z\r\nend:vevent")
    assert dropped_uids(text) == {"a@example.com"}


def test_event_without_uid_is_kept():
    assert dropped_uids(calendar(vevent(None))) == set()


def test_future_override_keeps_past_series():
    series = vevent("s@example.com", "20261201T100000Z", "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z")
    moved = vevent("s@example.com", "20270110T100000Z", "RECURRENCE-ID:20261208T100000Z")
    assert dropped_uids(calendar(series, moved)) == set()


def test_future_version_in_another_file_keeps_uid():
    old = calendar(vevent("a@example.com", "20261201T100000Z"))
    moved = calendar(vevent("a@example.com", "20270110T100000Z", "SEQUENCE:2"))
    assert dropped_uids(old, moved) == set()


def test_past_versions_in_two_files_are_both_dropped():
    first = calendar(vevent("a@example.com", "20261201T100000Z"))
    second = calendar(vevent("a@example.com", "20261202T100000Z", "SEQUENCE:2"))
    texts, past = drop_past_events([first, second], CUTOFF)
    assert past.uids == {"a@example.com"}
    assert past.vevents == 2
    assert all("BEGIN:VEVENT" not in text for text in texts)


def test_other_components_are_untouched():
    todo = "BEGIN:VTODO\r\nUID:t@example.com\r\nDTSTART:20200101T000000Z\r\nEND:VTODO"
    text = calendar(todo, vevent("a@example.com"))
    texts, past = drop_past_events([text], CUTOFF)
    assert past.uids == {"a@example.com"}
    assert todo in texts[0]
    assert texts[0].endswith("END:VCALENDAR\r\n")


def test_event_numbers_count_dropped_events():
    text = calendar(
        vevent("old1@example.com"),
        vevent("live@example.com", "20270110T100000Z"),
        vevent("old2@example.com"),
        vevent("live2@example.com", "20270111T100000Z"),
    )
    _, past = drop_past_events([text, calendar(vevent("x@example.com", "20270110T100000Z"))], CUTOFF)
    assert past.event_numbers == [[1, 3], None]


def test_messages_keep_the_file_numbering(tmp_path):
    path = tmp_path / "export.ics"
    no_uid = vevent(None, "20270110T100000Z")
    path.write_text(calendar(vevent("old@example.com"), vevent("old2@example.com"), no_uid), newline="")
    load = load_events([str(path)], past_cutoff=CUTOFF)
    messages = [p.message for p in load.problems]
    assert load.past_uids == {"old@example.com", "old2@example.com"}
    assert any(m.startswith(f"event #3 in {path} has no UID") for m in messages), messages


# --- the cutoff ------------------------------------------------------------------


def test_cutoff_allows_for_redials():
    assert past_cutoff(NOW, Settings()) == date(2027, 1, 1)
    assert past_cutoff(NOW, Settings(redial=10, redial_after_minutes=1440)) == date(2026, 12, 22)


# --- leaving meetings out changes no job ---------------------------------------


def job_table(state):
    rows = [(job.spec, job.event_uid, job.part_key, job.next_run, job.exact_until) for job in state.jobs]
    return sorted(rows, key=lambda row: row[0].name)


def assert_same_jobs(inputs: list[str], settings: Settings, now: datetime = NOW):
    skipped = build_desired(inputs, settings, now=now, skip_past=True)
    full = build_desired(inputs, settings, now=now, skip_past=False)
    assert job_table(skipped) == job_table(full)
    assert set(skipped.failed_uids) <= set(full.failed_uids)
    live = {meeting.event.uid for meeting in skipped.meetings}
    assert not live & set(skipped.past_uids)
    for meeting in full.meetings:
        if meeting.event.uid in skipped.past_uids:
            assert not meeting.calls, meeting.event.uid
    return skipped


def test_samples_plan_the_same_jobs():
    state = assert_same_jobs([str(SAMPLES)], Settings(directories=(str(SAMPLES / "directory.csv"),)))
    assert state.jobs


@pytest.mark.parametrize("path", sorted(DATA.glob("*.ics")), ids=lambda path: path.name)
def test_test_data_plans_the_same_jobs(path):
    assert_same_jobs([str(path)], Settings(directories=(str(DATA / "directory.csv"),)))


def test_generated_export_plans_the_same_jobs(tmp_path):
    export = generate_export(400, seed=3, now=NOW)
    ics = tmp_path / "export.ics"
    people = tmp_path / "directory.csv"
    ics.write_text(export.ics, newline="")
    people.write_text(export.directory_csv)
    state = assert_same_jobs([str(ics)], Settings(directories=(str(people),)))
    assert len(state.past_uids) > 200
    assert state.jobs


ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe", "UTC"]


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    start_offset_hours=st.integers(min_value=-24 * 8, max_value=24 * 3),
    until_offset_hours=st.one_of(st.none(), st.integers(min_value=-24 * 6, max_value=24 * 4)),
    redial=st.integers(min_value=0, max_value=2),
)
def test_events_near_the_cutoff_plan_the_same_jobs(tmp_path, zone, start_offset_hours, until_offset_hours, redial):
    local = (NOW + timedelta(hours=start_offset_hours)).astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    extra = ["ATTENDEE;CN=Asha Rao:mailto:asha@example.com", "ORGANIZER:mailto:lead@example.com"]
    if until_offset_hours is not None:
        until = (NOW + timedelta(hours=until_offset_hours)).astimezone(ZoneInfo("UTC"))
        extra.append(f"RRULE:FREQ=DAILY;UNTIL={until:%Y%m%dT%H%M%SZ}")
    event = vevent("edge@example.com", f"{local:%Y%m%dT%H%M%S}", *extra).replace(
        "DTSTART:", f"DTSTART;TZID={zone}:"
    )
    path = tmp_path / "edge.ics"
    path.write_text(calendar(event), newline="")
    people = tmp_path / "people.csv"
    people.write_text("email,phone\nasha@example.com,+919876543210\n")
    settings = Settings(directories=(str(people),), redial=redial, redial_after_minutes=720, allow_quiet_hours=True)
    assert_same_jobs([str(path)], settings)


# --- output -----------------------------------------------------------------------


def ended_job_delete(uid: str) -> Delete:
    name = f"ics2conf.default.{uid_hash(uid)}.0123456789.e"
    remote = RemoteJob(2002, name, "http://www.kookoo.in/outbound/outbound.php?phone_no=09876543210",
                       "0 9 8 12 * 2026", "Asia/Kolkata")
    return Delete(remote, "its last run has passed")


def test_text_lists_ended_meetings_jobs_under_own_heading():
    plan = Plan(namespace="default", actions=(ended_job_delete("old@example.com"),), unchanged=(), managed_count=1)
    buffer = io.StringIO()
    console = Console(file=buffer, no_color=True, highlight=False, soft_wrap=True, width=200)
    render_plan(console, plan, [], past_uids=["old@example.com", "older@example.com"])
    text = buffer.getvalue()
    assert "Jobs of meetings that have ended" in text
    assert "Jobs of meetings no longer in the input" not in text
    assert "2 more meetings without jobs or occurrences in the window are not shown" in text


def test_json_counts_ended_meetings_and_names_their_uid():
    plan = Plan(namespace="default", actions=(ended_job_delete("old@example.com"),), unchanged=(), managed_count=1)
    document = plan_document(plan, [], [], command="plan", now=NOW, past_uids=["old@example.com"])
    assert document["past_meetings_skipped"] == 1
    assert document["changes"][0]["event_uid"] == "old@example.com"
