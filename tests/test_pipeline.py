"""The pipeline from events to desired jobs, on hand-built events and on samples/."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ics2conf import pipeline
from ics2conf.calendar import CalendarLoad
from ics2conf.config import Settings
from ics2conf.cronexpr import fire_times
from ics2conf.directory import load_directory
from ics2conf.errors import CalendarError, ConfigError, ScheduleError
from ics2conf.model import JOB_NAME_PATTERN, Address, Event, Problem, make_job_key
from ics2conf.pipeline import CallTimes, build_desired_from_load

IST = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=IST)  # a Monday

DIRECTORY_CSV = """email,phone,name
asha@example.com,+91 98765 43210,Asha Rao
vikram@example.com,098765 43211,Vikram Iyer
desk@example.com,+91 98765 43210,Front desk
"""


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "directory.csv"
    path.write_text(DIRECTORY_CSV, encoding="utf-8")
    return load_directory([str(path)])


def attendee(email, name=None, **params):
    return Address(f"mailto:{email}", name=name, **params)


def make_event(
    start,
    *,
    rrule=None,
    uid="uid-1@example.com",
    summary="Stand-up",
    attendees=(attendee("asha@example.com", "Asha Rao"), attendee("vikram@example.com")),
    all_day=False,
    exdates=(),
):
    """Return an Event whose occurrences come from dateutil's RRULE expansion."""

    def occurrences(window_start, window_end):
        if rrule is None:
            starts = [start]
        else:
            rule = rrulestr(rrule, dtstart=start)
            starts = rule.between(window_start - timedelta(seconds=1), window_end, inc=True)
        return sorted(s for s in starts if window_start <= s < window_end and s not in exdates)

    return Event(
        uid=uid,
        summary=summary,
        source="team.ics",
        zone=start.tzinfo.key,
        start=start,
        rrule=rrule,
        all_day=all_day,
        organizer=None,
        attendees=tuple(attendees),
        has_exceptions=bool(exdates),
        occurrences=occurrences,
    )


def plan(events, directory, **settings):
    load = CalendarLoad(events=list(events), sources=["team.ics"])
    return build_desired_from_load(load, directory, Settings(**settings), now=NOW)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- call instants --------------------------------------------------------


def test_start_seconds_ring_that_minute(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, 30, tzinfo=IST))
    state = plan([event], directory)
    meeting = state.meetings[0]
    assert meeting.occurrences == [datetime(2027, 1, 5, 10, 0, 30, tzinfo=IST)]
    assert meeting.calls == [utc(2027, 1, 5, 4, 30)]
    assert [job.next_run for job in state.jobs] == [utc(2027, 1, 5, 4, 30)] * 2


def test_calls_are_in_event_zone(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=BERLIN))
    meeting = plan([event], directory).meetings[0]
    assert [call.tzinfo for call in meeting.calls] == [BERLIN]
    assert [occurrence.tzinfo for occurrence in meeting.occurrences] == [BERLIN]


def test_one_job_per_attendee(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST))
    state = plan([event], directory)
    assert [job.callee.phone for job in state.jobs] == ["09876543210", "09876543211"]
    assert [job.room for job in state.jobs] == [state.meetings[0].room] * 2
    assert state.problems == []


def test_lead_minutes_ring_earlier(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST))
    meeting = plan([event], directory, lead_minutes=5).meetings[0]
    assert meeting.calls == [utc(2027, 1, 5, 4, 25)]


def test_lead_across_dst_gap_uses_instants(directory):
    # 03:00 CEST on 2027-03-28 is 01:00 UTC, right after Berlin's spring gap
    # (02:00 CET -> 03:00 CEST). Thirty minutes earlier is 00:30 UTC = 01:30
    # CET; wall-clock arithmetic would give the nonexistent 02:30.
    event = make_event(datetime(2027, 3, 28, 3, 0, tzinfo=BERLIN))
    state = plan([event], directory, lead_minutes=30, horizon_days=90, allow_quiet_hours=True)
    assert state.meetings[0].calls == [utc(2027, 3, 28, 0, 30)]
    assert state.meetings[0].calls[0].utcoffset() == timedelta(hours=1)


def test_window_bounds(directory):
    # A call exactly at now is planned; one exactly at the horizon end is not.
    at_now = make_event(datetime(2027, 1, 4, 9, 0, tzinfo=IST), uid="now")
    at_end = make_event(datetime(2027, 1, 5, 9, 0, tzinfo=IST), uid="end")
    state = plan([at_now, at_end], directory, horizon_days=1)
    calls = {meeting.event.uid: meeting.calls for meeting in state.meetings}
    assert calls == {"now": [utc(2027, 1, 4, 3, 30)], "end": []}
    assert {job.event_uid for job in state.jobs} == {"now"}


def test_lead_pulls_call_into_window(directory):
    # The meeting starts 2 minutes after the horizon, its call 3 minutes before.
    event = make_event(datetime(2027, 1, 5, 9, 2, tzinfo=IST))
    state = plan([event], directory, horizon_days=1, lead_minutes=5, allow_quiet_hours=True)
    assert state.meetings[0].occurrences == []
    assert state.meetings[0].calls == [utc(2027, 1, 5, 3, 27)]
    assert len(state.jobs) == 2


def test_intended_any_window():
    event = make_event(datetime(2026, 1, 5, 10, 0, tzinfo=IST), rrule="FREQ=WEEKLY;BYDAY=MO")
    times = CallTimes(event, timedelta(minutes=-15), check_quiet_hours=True)
    calls = times.intended(datetime(2026, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    mondays = (datetime(2030, 1, 1) - datetime(2026, 1, 5)).days // 7 + 1
    assert len(calls) == mondays
    assert calls[0] == datetime(2026, 1, 5, 9, 45, tzinfo=IST)
    assert calls[-1] == datetime(2029, 12, 31, 9, 45, tzinfo=IST)
    # Bounds are [start, end) on call instants, not on meeting starts.
    assert times.intended(calls[1], calls[2]) == [calls[1]]


def test_intended_drops_quiet_hours():
    event = make_event(datetime(2027, 1, 4, 9, 2, tzinfo=IST), rrule="FREQ=DAILY")
    window = (datetime(2027, 1, 4, tzinfo=IST), datetime(2027, 1, 6, tzinfo=IST))
    early = CallTimes(event, timedelta(minutes=-5), check_quiet_hours=True)
    allowed = CallTimes(event, timedelta(minutes=-5), check_quiet_hours=False)
    assert early.intended(*window) == []
    assert allowed.intended(*window) == [
        datetime(2027, 1, 4, 8, 57, tzinfo=IST),
        datetime(2027, 1, 5, 8, 57, tzinfo=IST),
    ]


# --- quiet hours, budget, shared numbers ----------------------------------


def test_quiet_hours_warning_and_no_jobs(directory):
    event = make_event(datetime(2027, 1, 5, 21, 30, tzinfo=IST), summary="Late sync")
    state = plan([event], directory)
    assert state.jobs == []
    assert state.meetings[0].calls == []
    assert state.problems == [
        Problem(
            "warning",
            'Event "Late sync" (UID uid-1@example.com): 1 call falls in the quiet hours'
            " 21:00-09:00 IST and will not be scheduled: 2027-01-05 21:30 IST. Move the"
            " meeting or pass --allow-quiet-hours.",
            source="team.ics",
            uid="uid-1@example.com",
        )
    ]


def test_allow_quiet_hours(directory):
    event = make_event(datetime(2027, 1, 5, 21, 30, tzinfo=IST))
    state = plan([event], directory, allow_quiet_hours=True)
    assert len(state.jobs) == 2
    assert state.problems == []


def test_quiet_hours_counts_redials_once_per_meeting(directory):
    # 20:50 rings; the redials at 21:00 and 21:10 fall in the quiet hours.
    event = make_event(datetime(2027, 1, 5, 20, 50, tzinfo=IST), summary="Evening")
    state = plan([event], directory, redial=2, redial_after_minutes=10)
    warnings = [p.message for p in state.problems]
    assert warnings == [
        'Event "Evening" (UID uid-1@example.com): 2 calls fall in the quiet hours'
        " 21:00-09:00 IST and will not be scheduled: 2027-01-05 21:00 IST, 2027-01-05"
        " 21:10 IST. Move the meeting or pass --allow-quiet-hours."
    ]
    assert {job.spec.description.endswith("redial 1 of 2") for job in state.jobs} == {False}
    assert len(state.jobs) == 2


def test_daily_budget_warning(directory):
    first = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST), uid="a")
    second = make_event(datetime(2027, 1, 5, 23, 0, tzinfo=ZoneInfo("UTC")), uid="b")  # 04:30 IST on the 6th
    third = make_event(datetime(2027, 1, 5, 15, 0, tzinfo=IST), uid="c")
    state = plan([first, second, third], directory, daily_call_limit=3, allow_quiet_hours=True)
    assert [p.message for p in state.problems] == [
        "2027-01-05 (IST): 4 calls planned, more than the daily limit of 3. KooKoo may reject"
        " the calls over the account's daily cap; raise --daily-call-limit if your account"
        " allows more."
    ]


def test_daily_budget_counts_redials(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST))
    state = plan([event], directory, daily_call_limit=5, redial=2)
    assert [p.message.split(":")[0] for p in state.problems] == ["2027-01-05 (IST)"]
    assert "6 calls planned" in state.problems[0].message


def test_same_number_called_once(directory):
    event = make_event(
        datetime(2027, 1, 5, 10, 0, tzinfo=IST),
        attendees=(attendee("asha@example.com", "Asha Rao"), attendee("desk@example.com")),
    )
    state = plan([event], directory)
    assert [job.callee.key for job in state.jobs] == ["asha@example.com"]
    assert state.problems == [
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


# --- redials and job fields ------------------------------------------------


def test_redials_have_own_jobs(directory):
    event = make_event(
        datetime(2027, 1, 5, 10, 0, tzinfo=IST), attendees=(attendee("asha@example.com", "Asha Rao"),)
    )
    state = plan([event], directory, redial=2, redial_after_minutes=3)
    meeting = state.meetings[0]
    assert meeting.calls == [utc(2027, 1, 5, 4, 30)]
    assert meeting.redial_calls == [[utc(2027, 1, 5, 4, 33)], [utc(2027, 1, 5, 4, 36)]]
    assert len(meeting.redial_schedules) == 2
    assert [job.next_run for job in state.jobs] == [
        utc(2027, 1, 5, 4, 30),
        utc(2027, 1, 5, 4, 33),
        utc(2027, 1, 5, 4, 36),
    ]
    assert [job.spec.description for job in state.jobs] == [
        "ics2conf: Stand-up — Asha Rao <asha@example.com> (uid-1@example.com)",
        "ics2conf: Stand-up — Asha Rao <asha@example.com> (uid-1@example.com), redial 1 of 2",
        "ics2conf: Stand-up — Asha Rao <asha@example.com> (uid-1@example.com), redial 2 of 2",
    ]
    names = [job.spec.name for job in state.jobs]
    assert len(set(names)) == 3
    part = state.jobs[1].part_key
    assert names[1] == make_job_key("default", "uid-1@example.com", "asha@example.com#r1", part).name


def test_job_name_and_url(directory):
    event = make_event(
        datetime(2027, 1, 5, 10, 0, tzinfo=IST), attendees=(attendee("vikram@example.com"),)
    )
    state = plan(
        [event],
        directory,
        namespace="team-a",
        kookoo_api_key="secret-key",
        kookoo_caller_id="08012345678",
        greeting="Stand-up starts now",
    )
    (job,) = state.jobs
    room = state.meetings[0].room
    assert job.spec.name == make_job_key("team-a", "uid-1@example.com", "vikram@example.com", job.part_key).name
    assert job.spec.url == (
        "http://www.kookoo.in/outbound/outbound.php?api_key=secret-key&phone_no=09876543211"
        "&outbound_version=2&extra_data=%3Cresponse%3E%3Cplaytext%3EStand-up%20starts%20now"
        f"%3C%2Fplaytext%3E%3Cconference%3E{room}%3C%2Fconference%3E%3C%2Fresponse%3E"
        "&caller_id=08012345678"
    )
    assert job.spec.description == "ics2conf: Stand-up — Vikram Iyer <vikram@example.com> (uid-1@example.com)"
    assert "secret-key" not in job.spec.description


def test_placeholder_key_without_kookoo_key(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST))
    state = plan([event], directory)
    assert {dict(parse_qsl(urlsplit(job.spec.url).query))["api_key"] for job in state.jobs} == {
        "KOOKOO_API_KEY"
    }


def test_hostile_event_text(directory):
    hostile = "</conference><hangup/> & \"x\" 'y'\n%0A#frag?phone_no=000&"
    event = make_event(
        datetime(2027, 1, 5, 10, 0, tzinfo=IST),
        uid=hostile,
        summary=hostile,
        attendees=(attendee("asha@example.com", hostile),),
    )
    state = plan([event], directory, greeting=hostile)
    (job,) = state.jobs
    assert JOB_NAME_PATTERN.match(job.spec.name)
    pairs = parse_qsl(urlsplit(job.spec.url).query, strict_parsing=True)
    assert [name for name, _ in pairs] == ["api_key", "phone_no", "outbound_version", "extra_data"]
    assert dict(pairs)["phone_no"] == "09876543210"
    root = ET.fromstring(dict(pairs)["extra_data"])
    assert [child.tag for child in root] == ["playtext", "conference"]
    assert root[1].text == job.room
    assert job.room.isdigit()
    assert "\n" not in job.spec.description


def test_long_description_truncated(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST), summary="word " * 400)
    state = plan([event], directory)
    assert {len(job.spec.description) for job in state.jobs} == {1024}
    assert state.jobs[0].spec.description.endswith("…")


def test_long_greeting_url_error(directory):
    event = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST))
    state = plan([event], directory, greeting="hello " * 200)
    assert [p.level for p in state.problems] == ["error"]
    assert state.problems[0].message.startswith(
        "2 KooKoo URLs are longer than EasyCron's limit of 1024 characters"
    )


# --- skipped events and failures -----------------------------------------


def test_all_day_event_skipped(directory):
    event = make_event(datetime(2027, 1, 5, 0, 0, tzinfo=IST), all_day=True, summary="Holiday")
    state = plan([event], directory)
    assert state.jobs == []
    assert state.meetings[0].room is None
    assert state.problems == [
        Problem(
            "warning",
            'Event "Holiday" (UID uid-1@example.com) is an all-day event and has no start time'
            " to call at; it is skipped.",
            source="team.ics",
            uid="uid-1@example.com",
        )
    ]


def test_past_event_plans_nothing(directory):
    event = make_event(datetime(2027, 1, 3, 10, 0, tzinfo=IST))
    state = plan([event], directory)
    assert state.jobs == []
    assert state.meetings[0].schedule is None
    assert state.problems == []


def test_monthly_meeting_beyond_horizon_gets_jobs(directory):
    # The first call is 2027-03-01, past the 30-day horizon; the evergreen job
    # must exist anyway, so the meeting rings even if no sync runs before then.
    event = make_event(datetime(2027, 3, 1, 11, 0, tzinfo=IST), rrule="FREQ=MONTHLY;BYMONTHDAY=1")
    state = plan([event], directory)
    assert state.meetings[0].calls == []
    expressions = sorted({job.spec.cron_expression for job in state.jobs})
    # The series starts in March 2027, so 2027 is bounded to months 3-12.
    assert expressions == ["0 11 1 * * 2028-2099", "0 11 1 3-12 * 2027"]
    assert len(state.jobs) == 4
    assert min(job.next_run for job in state.jobs) == datetime(2027, 3, 1, 11, 0, tzinfo=IST)


def test_ended_series_plans_nothing(directory):
    event = make_event(
        datetime(2026, 1, 5, 10, 0, tzinfo=IST), rrule="FREQ=WEEKLY;UNTIL=20260601T000000Z"
    )
    state = plan([event], directory)
    assert state.jobs == []
    assert state.problems == []


def test_exceptions_flag_reaches_compiler(directory, monkeypatch):
    seen = []
    real_compile = pipeline.compile_schedule

    def recording_compile(series, **kwargs):
        seen.append(series.has_exceptions)
        return real_compile(series, **kwargs)

    monkeypatch.setattr(pipeline, "compile_schedule", recording_compile)
    start = datetime(2027, 1, 4, 10, 0, tzinfo=IST)
    plan([make_event(start, rrule="FREQ=DAILY", exdates=(start + timedelta(days=3),))], directory)
    assert seen == [True]


def test_schedule_error_keeps_other_events(directory, monkeypatch):
    real_compile = pipeline.compile_schedule

    def failing_compile(series, **kwargs):
        if series.uid == "bad":
            raise ScheduleError("fires at 10:01 instead of 10:00", uid="bad")
        return real_compile(series, **kwargs)

    monkeypatch.setattr(pipeline, "compile_schedule", failing_compile)
    good = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST), uid="good")
    bad = make_event(datetime(2027, 1, 6, 10, 0, tzinfo=IST), uid="bad", summary="Broken")
    state = plan([good, bad], directory, redial=1)
    assert {job.event_uid for job in state.jobs} == {"good"}
    assert state.failed_uids == ["bad"]
    assert state.problems == [
        Problem(
            "error",
            'Event "Broken" (UID bad) could not be scheduled exactly, so none of its jobs are'
            " planned: fires at 10:01 instead of 10:00",
            source="team.ics",
            uid="bad",
        )
    ]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"namespace": "Team A"}, "Invalid namespace 'Team A'"),
        ({"horizon_days": 0}, "Invalid horizon of 0 days"),
        ({"lead_minutes": -1}, "Invalid lead time of -1 minutes"),
        ({"redial": -1}, "Invalid redial count -1"),
        ({"daily_call_limit": 0}, "Invalid daily call limit 0"),
        ({"redial": 1, "redial_after_minutes": 0}, "Invalid redial delay of 0 minutes"),
    ],
)
def test_invalid_settings(directory, settings, message):
    with pytest.raises(ConfigError, match=message):
        plan([], directory, **settings)


def test_naive_now_rejected(directory):
    with pytest.raises(ValueError, match="timezone-aware"):
        build_desired_from_load(CalendarLoad(), directory, Settings(), now=datetime(2027, 1, 4))


# --- samples/ ---------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE_SETTINGS = Settings(directories=(str(SAMPLES / "directory.csv"),))
STANDUP_UID = "6kq3c1o2dpj6abb4c5gm8b9k6s@google.com"
PLANNING_UID = "1v9tq8mb2kq0f4r7i3u6c5a8ho@google.com"
DESIGN_UID = "8F2A6C1E-4B7D-4E93-A0C5-3D9B1F7E2A64"
LATE_UID = "C41D9E07-2F6B-4A18-9B3E-7D5A0C8F1E26"
VENDOR_UID = (
    "040000008200E00074C5B7101A82E00800000000F0C3B5A1D7E4DA010000000000000000"
    "10000000C6E2A4D0B1F83E4A9D5C7B2E8F1A6D3C"
)


@pytest.fixture(scope="module")
def sample_state():
    return pipeline.build_desired([str(SAMPLES)], SAMPLE_SETTINGS, now=NOW)


def sample_jobs(state, uid):
    return [job for job in state.jobs if job.event_uid == uid]


def fires_in_window(state, uid):
    """Return the sorted UTC fires of the main schedule of ``uid`` inside [NOW, NOW + 30 days)."""
    meeting = next(m for m in state.meetings if m.event.uid == uid)
    end = NOW + timedelta(days=30)
    fires = {fire for part in meeting.schedule.parts for fire in part.fires if NOW <= fire < end}
    return sorted(fire.astimezone(UTC) for fire in fires)


def test_samples_meetings(sample_state):
    assert sorted(m.event.uid for m in sample_state.meetings) == sorted(
        [STANDUP_UID, PLANNING_UID, DESIGN_UID, LATE_UID, VENDOR_UID]
    )
    assert {m.event.zone for m in sample_state.meetings} == {"Asia/Kolkata"}
    assert sample_state.cancelled == []
    assert sample_state.failed_uids == []


def test_samples_problems(sample_state):
    assert [(p.level, p.uid, p.address) for p in sample_state.problems] == [
        ("warning", PLANNING_UID, "mailto:nikhil.bose@example.com"),
        ("warning", LATE_UID, None),
    ]
    assert sample_state.problems[1].message == (
        f'Event "Sync with the Toronto office" (UID {LATE_UID}): 1 call falls in the quiet'
        " hours 21:00-09:00 IST and will not be scheduled: 2027-01-15 21:30 IST. Move the"
        " meeting or pass --allow-quiet-hours."
    )


def test_samples_standup_is_evergreen(sample_state):
    jobs = sample_jobs(sample_state, STANDUP_UID)
    # The organizer (Asha) is rung only with --call-organizer.
    assert [job.callee.phone for job in jobs] == ["09876543211", "09876543212"]
    assert {(job.spec.cron_expression, job.spec.timezone) for job in jobs} == {
        ("0 10 * * 1-5", "Asia/Kolkata")
    }
    assert {job.exact_until for job in jobs} == {None}
    assert {job.next_run for job in jobs} == {utc(2027, 1, 4, 4, 30)}
    weekdays = [
        utc(2027, 1, day, 4, 30)
        for day in (4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29)
    ] + [utc(2027, 2, 1, 4, 30), utc(2027, 2, 2, 4, 30)]
    assert fires_in_window(sample_state, STANDUP_UID) == weekdays


def test_samples_google_one_off_in_utc(sample_state):
    jobs = sample_jobs(sample_state, PLANNING_UID)
    assert [job.callee.phone for job in jobs] == ["09876543213", "09876543214"]
    assert {job.spec.cron_expression for job in jobs} == {"30 14 12 1 * 2027"}
    assert fires_in_window(sample_state, PLANNING_UID) == [utc(2027, 1, 12, 9, 0)]


def test_samples_outlook_fortnightly(sample_state):
    meeting = next(m for m in sample_state.meetings if m.event.uid == VENDOR_UID)
    assert [(s.address, s.reason) for s in meeting.skipped] == [
        ("mailto:sunil.das@example.com", "declined"),
        ("mailto:kaveri.room@example.com", "resource"),
    ]
    jobs = sample_jobs(sample_state, VENDOR_UID)
    assert [job.callee.phone for job in jobs] == ["09876543214", "09876543213", "09876543216"]
    assert {job.spec.cron_expression for job in jobs} == {"0 15 7,21 1 * 2027"}
    assert fires_in_window(sample_state, VENDOR_UID) == [utc(2027, 1, 7, 9, 30), utc(2027, 1, 21, 9, 30)]


def test_samples_apple_exdate_and_move(sample_state):
    jobs = sample_jobs(sample_state, DESIGN_UID)
    assert {job.callee.phone for job in jobs} == {"09876543219", "09876543212"}
    # 2027-01-13 is excluded; 2027-01-20 16:00 moved to 2027-01-21 11:00.
    assert fires_in_window(sample_state, DESIGN_UID) == [
        utc(2027, 1, 6, 10, 30),
        utc(2027, 1, 21, 5, 30),
        utc(2027, 1, 27, 10, 30),
    ]


def test_samples_rooms_distinct(sample_state):
    rooms = {m.event.uid: m.room for m in sample_state.meetings}
    assert len(set(rooms.values())) == 5
    for job in sample_state.jobs:
        assert job.room == rooms[job.event_uid]
        assert JOB_NAME_PATTERN.match(job.spec.name)


def test_samples_job_count(sample_state):
    counts = {uid: len(sample_jobs(sample_state, uid)) for uid in (STANDUP_UID, PLANNING_UID, VENDOR_UID, LATE_UID)}
    assert counts == {STANDUP_UID: 2, PLANNING_UID: 2, VENDOR_UID: 3, LATE_UID: 0}
    assert len({job.spec.name for job in sample_state.jobs}) == len(sample_state.jobs)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 2, 9, 0, tzinfo=IST),
        datetime(2027, 6, 14, 12, 0, tzinfo=IST),
        datetime(2027, 12, 20, 18, 0, tzinfo=IST),
    ],
)
def test_samples_plan_any_date(now):
    state = pipeline.build_desired([str(SAMPLES)], SAMPLE_SETTINGS, now=now)
    planned = {job.event_uid for job in state.jobs}
    assert {STANDUP_UID, DESIGN_UID, VENDOR_UID} <= planned
    assert [p for p in state.problems if p.level == "error"] == []


def test_description_without_real_name(directory):
    event = make_event(
        datetime(2027, 1, 5, 10, 0, tzinfo=IST),
        attendees=(attendee("asha@example.com", "ASHA@example.com"), attendee("vikram@example.com")),
    )
    state = plan([event], directory)
    assert [job.spec.description for job in state.jobs] == [
        "ics2conf: Stand-up — asha@example.com (uid-1@example.com)",
        "ics2conf: Stand-up — Vikram Iyer <vikram@example.com> (uid-1@example.com)",
    ]


def test_occurrence_error_keeps_other_events(directory):
    def broken(start, end):
        raise CalendarError("cannot expand RRULE 'FREQ=SECONDLY' of event bad in team.ics")

    good = make_event(datetime(2027, 1, 5, 10, 0, tzinfo=IST), uid="good")
    bad = dataclasses.replace(make_event(datetime(2027, 1, 6, 10, 0, tzinfo=IST), uid="bad"), occurrences=broken)
    state = plan([good, bad], directory)
    assert {job.event_uid for job in state.jobs} == {"good"}
    assert state.failed_uids == ["bad"]
    assert [p.message for p in state.problems] == [
        'Event "Stand-up" (UID bad) could not be planned, so none of its jobs are planned:'
        " cannot expand RRULE 'FREQ=SECONDLY' of event bad in team.ics"
    ]


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    rule=st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=MONTHLY;BYMONTHDAY=-1"]),
    zone=st.sampled_from(["Asia/Kolkata", "Europe/Berlin", "America/New_York"]),
    second=st.integers(0, 59),
    offset_minutes=st.integers(-90, 90),
    start_hours=st.integers(0, 24 * 400),
    length_hours=st.integers(0, 24 * 60),
)
def test_intended_window_consistent(rule, zone, second, offset_minutes, start_hours, length_hours):
    # The compiler queries intended() on windows of every size; a sub-window
    # must return exactly the calls of the large window that fall inside it.
    event = make_event(datetime(2026, 1, 1, 8, 59, second, tzinfo=ZoneInfo(zone)), rrule=rule)
    times = CallTimes(event, timedelta(minutes=offset_minutes), check_quiet_hours=True)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    everything = times.intended(base, base + timedelta(days=500))
    start = base + timedelta(hours=start_hours, minutes=offset_minutes)
    end = start + timedelta(hours=length_hours)
    assert times.intended(start, end) == [call for call in everything if start <= call < end]
    assert all(call.second == 0 for call in everything)
    assert all(9 <= call.astimezone(IST).hour < 21 for call in everything)


def test_samples_with_dialling_options():
    settings = dataclasses.replace(
        SAMPLE_SETTINGS, call_organizer=True, allow_quiet_hours=True, redial=1, lead_minutes=2
    )
    state = pipeline.build_desired([str(SAMPLES)], settings, now=NOW)
    late = [job for job in state.jobs if job.event_uid == LATE_UID]
    assert sorted((job.callee.phone, job.next_run) for job in late) == [
        ("09876543218", utc(2027, 1, 15, 15, 58)),
        ("09876543218", utc(2027, 1, 15, 16, 3)),
        ("09876543219", utc(2027, 1, 15, 15, 58)),
        ("09876543219", utc(2027, 1, 15, 16, 3)),
    ]
    standup = sample_jobs(state, STANDUP_UID)
    assert sorted({job.callee.phone for job in standup}) == ["09876543210", "09876543211", "09876543212"]
    assert {job.spec.cron_expression for job in standup} == {"58 9 * * 1-5", "3 10 * * 1-5"}
    assert [p.level for p in state.problems] == ["warning"]


# --- per-occurrence attendee lists ------------------------------------------

OVERRIDE_UID = "override-attendees@example.com"
OVERRIDE_ICS = Path(__file__).parent / "data" / "override_attendees.ics"
OVERRIDE_DIRECTORY_CSV = """email,phone,name
priya@example.com,+91 98765 43213,Priya Nair
asha@example.com,+91 98765 43210,Asha Rao
vikram@example.com,+91 98765 43211,Vikram Iyer
meera@example.com,+91 98765 43212,Meera Das
ravi@example.com,+91 98765 43214,Ravi Kumar
"""


def plan_overrides(tmp_path, **settings):
    path = tmp_path / "people.csv"
    path.write_text(OVERRIDE_DIRECTORY_CSV, encoding="utf-8")
    return pipeline.build_desired(
        [str(OVERRIDE_ICS)], Settings(directories=(str(path),), **settings), now=NOW
    )


def fires_by_callee(state, end=NOW + timedelta(days=30)):
    """Return callee key -> sorted UTC fires of all their jobs in [NOW, end)."""
    fires: dict[str, list[datetime]] = {}
    for job in state.jobs:
        found = fire_times(job.spec.cron_expression, job.spec.timezone, NOW, end).instants
        fires.setdefault(job.callee.key, []).extend(f.astimezone(UTC) for f in found)
    return {key: sorted(instants) for key, instants in fires.items()}


def test_override_decline_skips_one_occurrence(tmp_path):
    fires = fires_by_callee(plan_overrides(tmp_path))
    # Vikram declined 11 January only and is not on the moved 18 January list.
    assert fires["vikram@example.com"] == [utc(2027, 1, 4, 4, 30), utc(2027, 2, 1, 4, 30)]
    assert fires["asha@example.com"] == [
        utc(2027, 1, 4, 4, 30),
        utc(2027, 1, 11, 4, 30),
        utc(2027, 1, 18, 6, 0),
        utc(2027, 2, 1, 4, 30),
    ]


def test_override_adds_attendee_for_one_occurrence(tmp_path):
    fires = fires_by_callee(plan_overrides(tmp_path))
    # Ravi is only on the 1 February override; Meera declined the series
    # but accepted the moved 18 January occurrence.
    assert fires["ravi@example.com"] == [utc(2027, 2, 1, 4, 30)]
    assert fires["meera@example.com"] == [utc(2027, 1, 18, 6, 0)]


def test_override_moved_with_changed_list(tmp_path):
    fires = fires_by_callee(plan_overrides(tmp_path))
    moved = utc(2027, 1, 18, 6, 0)  # 11:30 IST instead of 10:00
    called = sorted(key for key, instants in fires.items() if moved in instants)
    assert called == ["asha@example.com", "meera@example.com"]
    assert all(utc(2027, 1, 18, 4, 30) not in instants for instants in fires.values())


def test_cancelled_override_rings_nobody(tmp_path):
    fires = fires_by_callee(plan_overrides(tmp_path))
    # The cancelled 25 January override lists Ravi; it rings nobody.
    assert all(utc(2027, 1, 25, 4, 30) not in instants for instants in fires.values())
    assert sorted(fires) == ["asha@example.com", "meera@example.com", "ravi@example.com", "vikram@example.com"]


def test_override_jobs_and_expressions(tmp_path):
    state = plan_overrides(tmp_path)
    expressions: dict[str, list[str]] = {}
    for job in state.jobs:
        expressions.setdefault(job.callee.key, []).append(job.spec.cron_expression)
        assert job.spec.name == make_job_key("default", OVERRIDE_UID, job.callee.key, job.part_key).name
    assert {key: sorted(values) for key, values in expressions.items()} == {
        "asha@example.com": ["0 10 1 2 * 2027", "0 10 4,11 1 * 2027", "30 11 18 1 * 2027"],
        "vikram@example.com": ["0 10 1 2 * 2027", "0 10 4 1 * 2027"],
        "meera@example.com": ["30 11 18 1 * 2027"],
        "ravi@example.com": ["0 10 1 2 * 2027"],
    }
    assert len(state.jobs) == 7
    assert [p for p in state.problems if p.level == "error"] == []


def test_override_groups_compile_once_each(tmp_path, monkeypatch):
    compiled = []
    original = pipeline.compile_schedule

    def recording_compile(series, **kwargs):
        compiled.append(series)
        return original(series, **kwargs)

    monkeypatch.setattr(pipeline, "compile_schedule", recording_compile)
    plan_overrides(tmp_path)
    # Asha (no exception), Vikram (two skipped), Meera and Ravi (one occurrence each).
    assert len(compiled) == 4
    assert [series.rrule for series in compiled].count(None) == 2


def test_override_report_lists_exceptions(tmp_path):
    meeting = plan_overrides(tmp_path).meetings[0]
    assert [c.key for c in meeting.callees] == [
        "asha@example.com",
        "vikram@example.com",
        "meera@example.com",
        "ravi@example.com",
    ]
    assert sorted(meeting.exceptions) == ["meera@example.com", "ravi@example.com", "vikram@example.com"]
    vikram = meeting.exceptions["vikram@example.com"]
    assert [o.astimezone(UTC) for o in vikram.not_called] == [utc(2027, 1, 11, 4, 30), utc(2027, 1, 18, 6, 0)]
    assert vikram.called_only is None
    ravi = meeting.exceptions["ravi@example.com"]
    assert [o.astimezone(UTC) for o in ravi.called_only] == [utc(2027, 2, 1, 4, 30)]
    assert [p.cron_expression for p in ravi.schedule.parts] == ["0 10 1 2 * 2027"]
    assert [p.cron_expression for p in meeting.schedule.parts] == [
        "0 10 4,11 1 * 2027",
        "30 11 18 1 * 2027",
        "0 10 1 2 * 2027",
    ]


def test_override_budget_counts_callee_calls(tmp_path):
    state = plan_overrides(tmp_path, daily_call_limit=1)
    budget = [p.message for p in state.problems if "daily limit" in p.message]
    assert [message.split(" calls planned")[0] for message in budget] == [
        "2027-01-04 (IST): 2",
        "2027-01-18 (IST): 2",
        "2027-02-01 (IST): 3",
    ]


def test_override_redials_follow_exceptions(tmp_path):
    fires = fires_by_callee(plan_overrides(tmp_path, redial=1))
    assert fires["ravi@example.com"] == [utc(2027, 2, 1, 4, 30), utc(2027, 2, 1, 4, 35)]
    assert fires["vikram@example.com"] == [
        utc(2027, 1, 4, 4, 30),
        utc(2027, 1, 4, 4, 35),
        utc(2027, 2, 1, 4, 30),
        utc(2027, 2, 1, 4, 35),
    ]


def test_samples_without_occurrence_exceptions(monkeypatch):
    compiled = []
    original = pipeline.compile_schedule

    def recording_compile(series, **kwargs):
        compiled.append(series.uid)
        return original(series, **kwargs)

    monkeypatch.setattr(pipeline, "compile_schedule", recording_compile)
    state = pipeline.build_desired([str(SAMPLES)], SAMPLE_SETTINGS, now=NOW)
    assert all(not meeting.exceptions for meeting in state.meetings)
    assert sorted(compiled) == sorted(m.event.uid for m in state.meetings if m.schedule is not None)


THIS_AND_FUTURE_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Invented//This and future//EN
BEGIN:VEVENT
UID:this-and-future@example.com
DTSTAMP:20261201T090000Z
SUMMARY:Weekly review
DTSTART;TZID=Asia/Kolkata:20270104T100000
DURATION:PT30M
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=6
ATTENDEE;PARTSTAT=ACCEPTED:mailto:asha@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:vikram@example.com
END:VEVENT
BEGIN:VEVENT
UID:this-and-future@example.com
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Asia/Kolkata:20270118T100000
SEQUENCE:1
DTSTAMP:20261202T090000Z
SUMMARY:Weekly review, new group
DTSTART;TZID=Asia/Kolkata:20270118T100000
DURATION:PT30M
ATTENDEE;PARTSTAT=ACCEPTED:mailto:asha@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ravi@example.com
END:VEVENT
BEGIN:VEVENT
UID:this-and-future@example.com
RECURRENCE-ID;TZID=Asia/Kolkata:20270201T100000
SEQUENCE:1
DTSTAMP:20261202T090000Z
SUMMARY:Weekly review, everyone
DTSTART;TZID=Asia/Kolkata:20270201T100000
DURATION:PT30M
ATTENDEE;PARTSTAT=ACCEPTED:mailto:asha@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:vikram@example.com
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ravi@example.com
END:VEVENT
END:VCALENDAR
"""


def test_this_and_future_override_changes_later_lists(tmp_path):
    calendar = tmp_path / "future.ics"
    calendar.write_text(THIS_AND_FUTURE_ICS.replace("\n", "\r\n"), encoding="utf-8", newline="")
    people = tmp_path / "people.csv"
    people.write_text(OVERRIDE_DIRECTORY_CSV, encoding="utf-8")
    state = pipeline.build_desired([str(calendar)], Settings(directories=(str(people),)), now=NOW)
    fires = fires_by_callee(state)
    mondays = [utc(2027, 1, day, 4, 30) for day in (4, 11, 18, 25)] + [utc(2027, 2, 1, 4, 30)]
    assert fires["asha@example.com"] == mondays
    # Vikram leaves the series from 18 January on but is on the 1 February list.
    assert fires["vikram@example.com"] == [mondays[0], mondays[1], mondays[4]]
    assert fires["ravi@example.com"] == mondays[2:]
    assert [p for p in state.problems if p.level == "error"] == []


@pytest.mark.parametrize("name", ["override_attendees.ics", "future.ics"])
def test_override_fires_match_recurring_ical_events(tmp_path, name):
    from bench.override_calls import expected_calls  # counts calls without ics2conf's calendar code

    (tmp_path / "future.ics").write_text(THIS_AND_FUTURE_ICS.replace("\n", "\r\n"), encoding="utf-8", newline="")
    path = OVERRIDE_ICS if name == "override_attendees.ics" else tmp_path / name
    people = tmp_path / "people.csv"
    people.write_text(OVERRIDE_DIRECTORY_CSV, encoding="utf-8")
    end = NOW + timedelta(days=30)
    state = pipeline.build_desired([str(path)], Settings(directories=(str(people),)), now=NOW)
    planned = sorted((instant, key) for key, instants in fires_by_callee(state, end).items() for instant in instants)
    phones = {"priya@example.com", "asha@example.com", "vikram@example.com", "meera@example.com", "ravi@example.com"}
    expected = sorted(call for calls in expected_calls(path, phones, NOW, end).values() for call in calls.elements())
    assert planned == expected


def test_inspect_text_shows_callee_exceptions(tmp_path):
    from rich.console import Console

    from ics2conf.render_text import render_inspect

    console = Console(record=True, width=200, color_system=None)
    render_inspect(console, plan_overrides(tmp_path).meetings, now=NOW, horizon_days=30)
    lines = [line.strip() for line in console.export_text().splitlines()]
    vikram = lines.index("Vikram Iyer <vikram@example.com> -> 09876543211")
    assert lines[vikram + 1] == "not rung at: Mon 2027-01-11 10:00 IST, Mon 2027-01-18 11:30 IST"
    assert lines[vikram + 2] == "own schedule: 0 10 4 1 * 2027; 0 10 1 2 * 2027"
    ravi = lines.index("Ravi Kumar <ravi@example.com> -> 09876543214")
    assert lines[ravi + 1] == "rung only at: Mon 2027-02-01 10:00 IST"
    assert "schedule (3 expressions per attendee without their own schedule):" in lines
