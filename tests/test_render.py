"""Rendering of plans, meetings and job lists as text and JSON."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from ics2conf.kookoo import build_outbound_url
from ics2conf.model import (
    Callee,
    Create,
    Delete,
    DesiredJob,
    Event,
    JobSpec,
    Plan,
    RemoteJob,
    Schedule,
    SchedulePart,
    Update,
    make_job_key,
)
from ics2conf.pipeline import MeetingReport
from ics2conf.render import describe_schedule, field_changes, plan_document, url_phone, url_room
from ics2conf.render_text import format_moment, render_plan, summary_line

IST = ZoneInfo("Asia/Kolkata")
BERLIN = ZoneInfo("Europe/Berlin")
BASE = "http://www.kookoo.in/outbound/outbound.php"
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=IST)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 10 * * 1-5", "At 10:00, Monday through Friday"),
        ("30 9 15 1 *", "At 09:30, on day 15 of the month, only in January"),
        ("0 10 * * 5#3", "At 10:00, on the third Friday of the month"),
        ("0 10 ? * 5L", "At 10:00, on the last Friday of the month"),
        ("0 0 1,2 * 3", "At 00:00, on day 1 and 2 of the month, or on Wednesday"),
        ("0 16 9,16 12 * 2026", "At 16:00, on day 9 and 16 of the month, only in December, only in 2026"),
        ("0 10 * * 1 2027-2028", "At 10:00, only on Monday, 2027 through 2028"),
        ("0 10 * * 0", "At 10:00, only on Sunday"),
    ],
)
def test_describe_schedule(expression, words):
    assert describe_schedule(expression) == words


@pytest.mark.parametrize("expression", ["", "0 10 *", "not a cron expression at all", "a b c d e"])
def test_describe_schedule_falls_back_to_expression(expression):
    assert describe_schedule(expression) == expression


@pytest.mark.parametrize(
    ("moment", "zone", "text"),
    [
        (datetime(2027, 1, 5, 10, 0, tzinfo=BERLIN), "Europe/Berlin", "Tue 2027-01-05 10:00 CET (14:30 IST)"),
        (datetime(2027, 1, 5, 10, 0, tzinfo=IST), "Asia/Kolkata", "Tue 2027-01-05 10:00 IST"),
        (
            datetime(2027, 1, 5, 21, 0, tzinfo=BERLIN),
            "Europe/Berlin",
            "Tue 2027-01-05 21:00 CET (Wed 2027-01-06 01:30 IST)",
        ),
        (datetime(2027, 7, 5, 9, 0, tzinfo=BERLIN), "Europe/Berlin", "Mon 2027-07-05 09:00 CEST (12:30 IST)"),
    ],
)
def test_format_moment(moment, zone, text):
    assert format_moment(moment, zone) == text


def url(phone: str, room: str, key: str = "kk-secret") -> str:
    return build_outbound_url(BASE, api_key=key, phone=phone, room=room)


def test_url_phone_and_room():
    link = url("09876543210", "123456789")
    assert url_phone(link) == "09876543210"
    assert url_room(link) == "123456789"
    assert url_phone("https://example.com/ping") is None
    assert url_room("https://example.com/ping") is None


def event(uid: str = "review@example.com", summary: str = "Design review", zone: str = "Asia/Kolkata") -> Event:
    return Event(
        uid=uid,
        summary=summary,
        source="review.ics",
        zone=zone,
        start=datetime(2027, 1, 6, 15, 0, tzinfo=ZoneInfo(zone)),
        rrule=None,
        all_day=False,
        organizer=None,
        attendees=(),
    )


def callee(phone: str = "09876543210", name: str = "Asha Rao") -> Callee:
    return Callee(
        key="tel:+91" + phone[1:],
        address="tel:+91" + phone[1:],
        name=name,
        phone=phone,
        phone_e164="+91" + phone[1:],
    )


def desired(expression: str, *, phone: str = "09876543210", room: str = "123456789", ev: Event | None = None) -> DesiredJob:
    ev = ev or event()
    who = callee(phone)
    name = make_job_key("default", ev.uid, who.key, "d0").name
    return DesiredJob(
        spec=JobSpec(name=name, url=url(phone, room), cron_expression=expression, timezone=ev.zone),
        event_uid=ev.uid,
        summary=ev.summary,
        callee=who,
        room=room,
        part_key="d0",
        next_run=datetime(2027, 1, 6, 15, 0, tzinfo=IST),
        exact_until=datetime(2027, 2, 3, 8, 0, tzinfo=IST),
    )


def remote(job: DesiredJob, *, job_id: int = 1001, expression: str | None = None, phone: str | None = None) -> RemoteJob:
    return RemoteJob(
        id=job_id,
        name=job.spec.name,
        url=url(phone or job.callee.phone, job.room),
        cron_expression=expression or job.spec.cron_expression,
        timezone=job.spec.timezone,
    )


def meeting(ev: Event, exact_until: datetime | None) -> MeetingReport:
    part = SchedulePart("d0", "0 15 6 1 * 2027", ev.zone, (), exact_until)
    return MeetingReport(
        event=ev,
        room="123456789",
        callees=[callee()],
        skipped=[],
        occurrences=[ev.start],
        calls=[ev.start],
        schedule=Schedule(ev.uid, (part,), exact_until, NOW),
        redial_schedules=[],
        exact_until=exact_until,
        problems=[],
    )


def test_field_changes_split_url_into_phone_and_room():
    job = desired("30 16 7 1 * 2027", phone="09876543211")
    update = Update(remote(job, expression="0 15 6 1 * 2027", phone="09876543210"), job, ("url", "cron_expression"))
    assert field_changes(update) == {
        "cron_expression": {"before": "0 15 6 1 * 2027", "after": "30 16 7 1 * 2027"},
        "phone": {"before": "09876543210", "after": "09876543211"},
    }


def test_field_changes_hide_key_only_url_change():
    job = desired("0 15 6 1 * 2027")
    old = RemoteJob(1001, job.spec.name, url("09876543210", "123456789", key="old-key"), job.spec.cron_expression, "Asia/Kolkata")
    changes = field_changes(Update(old, job, ("url",)))
    assert changes == {"url": {"before": None, "after": None}}


def render(plan: Plan, meetings: list, *, terminal: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, no_color=not terminal, highlight=False, soft_wrap=True, width=200)
    render_plan(console, plan, meetings)
    return buffer.getvalue()


def plan_of(*actions, unchanged=()) -> Plan:
    return Plan(namespace="default", actions=tuple(actions), unchanged=tuple(unchanged), managed_count=len(actions))


def test_text_update_shows_before_and_after():
    job = desired("30 16 7 1 * 2027")
    ev = event()
    update = Update(remote(job, expression="0 15 6 1 * 2027"), job, ("cron_expression",))
    text = render(plan_of(update), [meeting(ev, job.exact_until)])
    assert "  ~ update Asha Rao <tel:+919876543210>  09876543210" in text
    assert "      schedule  0 15 6 1 * 2027 -> 30 16 7 1 * 2027" in text
    assert "      now reads  At 16:30, on day 7 of the month, only in January, only in 2027, Asia/Kolkata" in text
    assert "exact until 2027-02-03 08:00 IST: run sync again before then" in text
    assert text.rstrip().splitlines()[-1] == "Plan: 0 to create, 1 to update, 0 to delete."


def test_text_delete_of_unknown_meeting_listed_last():
    ev = event()
    kept = desired("0 15 6 1 * 2027", ev=ev)
    gone_event = event(uid="gone@example.com", summary="Gone")
    gone = remote(desired("0 9 8 1 * 2027", ev=gone_event), job_id=2002)
    text = render(plan_of(Create(kept), Delete(gone, "no longer in the calendar")), [meeting(ev, None)])
    lines = text.splitlines()
    assert lines.index('Meeting "Design review"') < lines.index("Jobs of meetings no longer in the input")
    assert f"  - delete {gone.name}  (no longer in the calendar)" in text
    assert "      phone 09876543210, room 123456789" in text
    assert "exact with no further sync" in text
    assert lines[-1] == "Plan: 1 to create, 0 to update, 1 to delete."


def test_text_unchanged_counted_per_meeting():
    ev = event()
    job = desired("0 15 6 1 * 2027", ev=ev)
    text = render(plan_of(unchanged=[job]), [meeting(ev, None)])
    assert "  = 1 job unchanged" in text
    assert "No changes. The account matches the calendars." in text


def test_text_colour_only_on_terminal():
    ev = event()
    plan = plan_of(Create(desired("0 15 6 1 * 2027", ev=ev)))
    assert "\x1b[" not in render(plan, [meeting(ev, None)], terminal=False)
    assert "\x1b[" in render(plan, [meeting(ev, None)], terminal=True)


def test_text_markup_in_summary_printed_verbatim():
    ev = event(summary="[bold]Budget[/bold] & <review>")
    text = render(plan_of(Create(desired("0 15 6 1 * 2027", ev=ev))), [meeting(ev, None)])
    assert 'Meeting "[bold]Budget[/bold] & <review>"' in text


def test_meetings_in_stable_order():
    first, second = event(uid="b@example.com", summary="Alpha"), event(uid="a@example.com", summary="beta")
    text = render(plan_of(), [meeting(second, None), meeting(first, None)])
    assert text.index('"Alpha"') < text.index('"beta"')


def test_summary_line():
    job = desired("0 15 6 1 * 2027")
    plan = plan_of(Create(job), Create(job), Delete(remote(job), "x"))
    assert summary_line(plan) == "Plan: 2 to create, 0 to update, 1 to delete."


def test_plan_document_changes():
    ev = event()
    job = desired("30 16 7 1 * 2027", ev=ev)
    update = Update(remote(job, expression="0 15 6 1 * 2027"), job, ("cron_expression",))
    document = plan_document(plan_of(update), [meeting(ev, None)], [], command="plan", now=NOW)
    change = document["changes"][0]
    assert change["action"] == "update"
    assert change["job_id"] == 1001
    assert change["changed"] == {"cron_expression": {"before": "0 15 6 1 * 2027", "after": "30 16 7 1 * 2027"}}
    assert change["next_run"] == "2027-01-06T15:00:00+05:30"
    assert change["next_run_ist"] == "2027-01-06T15:00:00+05:30"
    assert "url" not in change
    assert document["summary"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 0}


def test_plan_document_delete_names_event_when_known():
    ev = event()
    job = desired("0 15 6 1 * 2027", ev=ev)
    document = plan_document(plan_of(Delete(remote(job), "duplicate of job 1")), [meeting(ev, None)], [], command="plan", now=NOW)
    change = document["changes"][0]
    assert change["event_uid"] == ev.uid
    assert change["phone"] == "09876543210"
    assert change["room"] == "123456789"
    assert change["next_run"] is None


def test_far_future_bound_reads_as_no_further_sync():
    ev = event()
    text = render(plan_of(), [meeting(ev, datetime(2100, 1, 1, 0, 0, tzinfo=IST))])
    assert "exact with no further sync (through 2099)" in text


def test_far_future_bound_has_no_json_warning():
    ev = event()
    document = plan_document(plan_of(), [meeting(ev, datetime(2100, 1, 1, 0, 0, tzinfo=IST))], [], command="plan", now=NOW)
    assert document["meetings"][0]["exact_forever"] is True
    assert document["warnings"] == []


def test_meetings_without_occurrences_or_jobs_hidden():
    shown, idle = event(uid="now@example.com", summary="This week"), event(uid="old@example.com", summary="Last year")
    quiet = meeting(idle, None)
    quiet.occurrences = []
    text = render(plan_of(Create(desired("0 15 6 1 * 2027", ev=shown))), [meeting(shown, None), quiet])
    assert 'Meeting "This week"' in text
    assert "Last year" not in text
    assert "1 more meeting without jobs or occurrences in the window is not shown" in text
