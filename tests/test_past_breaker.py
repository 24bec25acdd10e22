"""Break test: leaving out ended meetings before parsing must not change any job.

For any input, ``build_desired(..., skip_past=True)`` must plan the same jobs
(names, cron expressions, time zones, URLs) as ``skip_past=False``, and must
not lose a UID from ``failed_uids`` that still has calls. The text check in
``ics2conf.past`` reads VEVENT lines itself, so every place where it reads a
line differently from icalendar is a way to drop a meeting that still rings,
or to drop a version that suppressed calls.

The cases in the second section each planned different jobs with and
without skipping before the check read lines the way icalendar does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from ics2conf.config import Settings
from ics2conf.past import drop_past_events
from ics2conf.pipeline import build_desired, past_cutoff
from ics2conf.rooms import room_number
from tests.past_support import (
    LIVE,
    NOW,
    PAST,
    both,
    calendar,
    job_table,
    people,
    settings_for,
    vevent,
)

UTC = ZoneInfo("UTC")
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def write(tmp_path: Path, *texts: str) -> list[str]:
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"input{index}.ics"
        path.write_text(text, newline="")
        paths.append(str(path))
    return paths


def assert_same_plan(inputs: list[str], settings: Settings, now: datetime = NOW):
    skipped, full = both(inputs, settings, now)
    assert job_table(skipped) == job_table(full)
    live_failed = set(full.failed_uids) - set(skipped.past_uids)
    assert live_failed <= set(skipped.failed_uids)
    assert set(skipped.failed_uids) <= set(full.failed_uids)
    return skipped, full


# --- inputs that keep the plan unchanged ---------------------------------------------

HOLDS = {
    "future override of an ended series": [
        calendar(
            vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z"),
            vevent("s@example.com", LIVE, "RECURRENCE-ID:20261208T100000Z"),
        )
    ],
    "future override in another file": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z")),
        calendar(vevent("s@example.com", LIVE, "RECURRENCE-ID:20261208T100000Z")),
    ],
    "newer future version in another file": [
        calendar(vevent("s@example.com", PAST, "SEQUENCE:1")),
        calendar(vevent("s@example.com", LIVE, "SEQUENCE:2")),
    ],
    "newer past version beats an older future one": [
        calendar(vevent("s@example.com", LIVE, "SEQUENCE:1")),
        calendar(vevent("s@example.com", PAST, "SEQUENCE:2")),
    ],
    "THISANDFUTURE override with a past RECURRENCE-ID": [
        calendar(
            vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20270215T000000Z"),
            vevent("s@example.com", "20261209T110000Z", "RECURRENCE-ID;RANGE=THISANDFUTURE:20261208T100000Z"),
        )
    ],
    "THISANDFUTURE override of an ended series": [
        calendar(
            vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261220T000000Z"),
            vevent("s@example.com", "20261209T110000Z", "RECURRENCE-ID;RANGE=THISANDFUTURE:20261208T100000Z"),
        )
    ],
    "past UNTIL with a future RDATE": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z", "RDATE:" + LIVE))
    ],
    "lower-case rdate": [calendar(vevent("s@example.com", PAST, "rdate:" + LIVE))],
    "RDATE period": [calendar(vevent("s@example.com", PAST, "RDATE;VALUE=PERIOD:20270110T100000Z/PT1H"))],
    "two RRULEs, one still running": [
        calendar(
            vevent(
                "s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z", "RRULE:FREQ=DAILY;UNTIL=20270110T000000Z"
            )
        )
    ],
    "two RRULEs, both ended": [
        calendar(
            vevent(
                "s@example.com", PAST, "RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z", "RRULE:FREQ=DAILY;UNTIL=20261220T000000Z"
            )
        )
    ],
    "COUNT reaching the window": [calendar(vevent("s@example.com", PAST, "RRULE:FREQ=DAILY;COUNT=60"))],
    "lower-case count": [calendar(vevent("s@example.com", PAST, "RRULE:freq=daily;count=60"))],
    "lower-case until": [calendar(vevent("s@example.com", PAST, "RRULE:freq=daily;until=20261215T000000Z"))],
    "date UNTIL the day before the cutoff": [calendar(vevent("s@example.com", PAST, "RRULE:FREQ=DAILY;UNTIL=20261231"))],
    "space before UNTIL": [calendar(vevent("s@example.com", PAST, "RRULE:FREQ=DAILY; UNTIL=20261231T000000Z"))],
    "second UNTIL that icalendar skips": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=DAILY;UNTIL=20261231T000000Z;UNTIL=20270201T000000Z=x"))
    ],
    "quoted TZID with colon, open series": [
        calendar(
            vevent("s@example.com", "20261201T100000", "RRULE:FREQ=DAILY").replace(
                "DTSTART:", 'DTSTART;TZID="Asia/Kolkata":'
            )
        )
    ],
    "group-prefixed RRULE and RDATE": [
        calendar(vevent("s@example.com", PAST, "A.RRULE:FREQ=DAILY", "g.RDATE:" + LIVE))
    ],
    "RDATE inside a VALARM": [
        calendar(vevent("s@example.com", PAST, "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "RDATE:" + LIVE, "END:VALARM"))
    ],
    "METHOD:CANCEL of a live series, carrying the first start": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY")),
        calendar(vevent("s@example.com", PAST, "SEQUENCE:1"), head=("METHOD:CANCEL",)),
    ],
    "METHOD:CANCEL of one future occurrence": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY")),
        calendar(
            vevent("s@example.com", "20270105T100000Z", "RECURRENCE-ID:20270105T100000Z", "SEQUENCE:1"),
            head=("METHOD:CANCEL",),
        ),
    ],
    "METHOD:REPLY with the series' first start": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY", "ATTENDEE:mailto:vikram@example.com")),
        calendar(
            vevent("s@example.com", PAST, "ATTENDEE;PARTSTAT=DECLINED:mailto:asha@example.com"), head=("METHOD:REPLY",)
        ),
    ],
    "Pacific/Kiritimati on the cutoff date": [
        calendar(vevent("s@example.com", "20270101T000000").replace("DTSTART:", "DTSTART;TZID=Pacific/Kiritimati:"))
    ],
    "Etc/GMT+12 the minute before the cutoff date": [
        calendar(vevent("s@example.com", "20261231T235900").replace("DTSTART:", "DTSTART;TZID=Etc/GMT+12:"))
    ],
    "Google export in UTC with X-WR-TIMEZONE": [
        calendar(
            vevent("s@example.com", "20261130T233000Z", "RRULE:FREQ=WEEKLY;UNTIL=20261231T235959Z"),
            head=("X-WR-TIMEZONE:Pacific/Kiritimati",),
        )
    ],
    "events without UID": [calendar(vevent(None, PAST), vevent(None, LIVE))],
    "UID with a parameter": [
        calendar(
            vevent("s@example.com", PAST, "SEQUENCE:5").replace("UID:", "UID;X-A=1:"),
            vevent("s@example.com", LIVE),
        )
    ],
    "override with a past RECURRENCE-ID of a live series": [
        calendar(
            vevent("s@example.com", "20261101T100000Z", "RRULE:FREQ=WEEKLY"),
            vevent("s@example.com", "20261102T100000Z", "RECURRENCE-ID:20261108T100000Z"),
        )
    ],
    "truncated file": [
        calendar(
            vevent("s@example.com", PAST, "RRULE:FREQ=DAILY;UNTIL=20261215T000000Z"), vevent("t@example.com", LIVE)
        )[:-40]
    ],
    "VEVENT nested in a live VEVENT": [
        calendar(vevent("outer@example.com", LIVE, vevent("inner@example.com", "20270111T100000Z")))
    ],
}


@pytest.mark.parametrize("texts", list(HOLDS.values()), ids=list(HOLDS))
def test_plan_is_unchanged(tmp_path, people, texts):
    assert_same_plan(write(tmp_path, *texts), settings_for(people))


def test_utf16_file_plans_the_same_jobs(tmp_path, people):
    text = calendar(vevent("old@example.com", PAST), vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY"))
    path = tmp_path / "utf16.ics"
    path.write_bytes(text.encode("utf-16"))
    skipped, _ = assert_same_plan([str(path)], settings_for(people))
    assert skipped.past_uids == ["old@example.com"]
    assert skipped.jobs


@pytest.mark.parametrize(
    ("redial", "redial_after", "lead", "days_ago"),
    [
        (10, 1440, 0, 9),  # the last redial is tomorrow
        (10, 1440, 0, 12),
        (2, 1440, 30, 4),
        (0, 5, 1440, 2),
    ],
)
def test_redials_reaching_into_the_window(tmp_path, people, redial, redial_after, lead, days_ago):
    start = (NOW - timedelta(days=days_ago)).astimezone(UTC)
    text = calendar(vevent("r@example.com", f"{start:%Y%m%dT%H%M00Z}"))
    settings = settings_for(people, redial=redial, redial_after_minutes=redial_after, lead_minutes=lead)
    assert_same_plan(write(tmp_path, text), settings)


ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "Etc/GMT-14", "Asia/Kolkata", "America/St_Johns", "UTC"]


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    now_zone=st.sampled_from(ZONES),
    start_hours=st.integers(min_value=-24 * 16, max_value=24 * 2),
    until_hours=st.one_of(st.none(), st.integers(min_value=-24 * 14, max_value=24 * 3)),
    date_until=st.booleans(),
    override_hours=st.one_of(st.none(), st.integers(min_value=-24 * 6, max_value=24 * 6)),
    redial=st.integers(min_value=0, max_value=3),
    redial_after=st.sampled_from([5, 720, 1440]),
)
def test_series_near_the_cutoff(
    tmp_path, people, zone, now_zone, start_hours, until_hours, date_until, override_hours, redial, redial_after
):
    now = NOW.astimezone(ZoneInfo(now_zone))
    tz = ZoneInfo(zone)
    start = (NOW + timedelta(hours=start_hours)).astimezone(tz).replace(second=0, microsecond=0)
    extra = []
    if until_hours is not None:
        until = (NOW + timedelta(hours=until_hours)).astimezone(UTC)
        extra.append(f"RRULE:FREQ=DAILY;UNTIL={until:%Y%m%d}" if date_until else f"RRULE:FREQ=DAILY;UNTIL={until:%Y%m%dT%H%M%SZ}")
    components = [vevent("edge@example.com", f"{start:%Y%m%dT%H%M%S}", *extra).replace("DTSTART:", f"DTSTART;TZID={zone}:")]
    if until_hours is not None and override_hours is not None:
        moved = (start + timedelta(days=1, hours=override_hours)).astimezone(UTC)
        second = (start + timedelta(days=1)).astimezone(UTC)
        components.append(
            vevent("edge@example.com", f"{moved:%Y%m%dT%H%M%SZ}", f"RECURRENCE-ID:{second:%Y%m%dT%H%M%SZ}")
        )
    path = tmp_path / "edge.ics"
    path.write_text(calendar(*components), newline="")
    assert_same_plan([str(path)], settings_for(people, redial=redial, redial_after_minutes=redial_after), now=now)


def test_event_numbers_survive_dropped_events(tmp_path, people):
    bad_override = vevent("bad@example.com", LIVE, "RECURRENCE-ID:garbage")
    text = calendar(
        vevent("old1@example.com", PAST),
        vevent(None, LIVE),
        vevent("old2@example.com", PAST, "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "END:VALARM"),
        vevent("outer@example.com", LIVE, vevent("inner@example.com", "20270111T100000Z")),
        vevent("old3@example.com", PAST),
        bad_override,
    )
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert sorted(p.message for p in skipped.problems) == sorted(p.message for p in full.problems)
    messages = " | ".join(p.message for p in skipped.problems)
    assert "event #2 in" in messages
    assert "cannot read event #7 in" in messages


# --- inputs that once planned different jobs with and without skipping -----------------
# Regression: icalendar accepts parameters on BEGIN and END lines, so
# "END;X-A=1:VALARM" closes the VALARM and the RDATE after it belongs to the
# VEVENT. The text check once read the RDATE as part of the alarm and dropped
# the meeting's future call. A block with such a line is now kept whole.


def test_parameterised_end_keeps_rdate(tmp_path, people):
    text = calendar(
        vevent(
            "hidden-rdate@example.com",
            PAST,
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT5M",
            "END;X-A=1:VALARM",
            "RDATE:" + LIVE,
            "BEGIN;X-A=1:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT5M",
            "END:VALARM",
        )
    )
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert [j[1] for j in job_table(full)] == ["0 10 10 1 * 2027"]
    assert job_table(skipped) == job_table(full)


# Regression: icalendar's vRecur skips an RRULE part with two "=" signs, so
# "UNTIL=20261215T000000Z=" leaves the rule open-ended. A pattern match once
# read the date anyway and dropped the series; the check now reads the rule
# with vRecur.


@pytest.mark.parametrize(
    ("rule", "cron"),
    [
        ("RRULE:FREQ=DAILY;UNTIL=20261215T000000Z=", "0 10 * * *"),
        ("RRULE:FREQ=WEEKLY;UNTIL=20261215T000000Z=X;BYDAY=MO", "0 10 * * 1"),
    ],
)
def test_ignored_until_keeps_series_open(tmp_path, people, rule, cron):
    text = calendar(vevent("open@example.com", PAST, rule))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert [j[1] for j in job_table(full)] == [cron]
    assert job_table(skipped) == job_table(full)


# Regression: icalendar unescapes UIDs, so "a\,b" and "a,b" are one meeting.
# The text check once compared them as written, dropped a METHOD:CANCEL whose
# UID was escaped differently from the invite, and the cancelled series rang
# again.


@pytest.mark.parametrize(
    ("series_uid", "cancel_uid"),
    [
        ("team,standup@example.com", "team\\,standup@example.com"),
        ("team\\,standup@example.com", "team,standup@example.com"),
        ("team;standup@example.com", "team\\;standup@example.com"),
        ("team\\standup@example.com", "team\\\\standup@example.com"),
    ],
)
def test_escaped_uid_cancel_still_cancels(tmp_path, people, series_uid, cancel_uid):
    series = calendar(vevent(series_uid, "20261101T100000Z", "RRULE:FREQ=WEEKLY"))
    cancel = calendar(vevent(cancel_uid, "20261101T100000Z", "SEQUENCE:1", "STATUS:CANCELLED"), head=("METHOD:CANCEL",))
    skipped, full = both(write(tmp_path, series, cancel), settings_for(people))
    assert job_table(full) == []
    assert job_table(skipped) == job_table(full)


# Regression: the planner reads every VEVENT that icalendar's walk() returns,
# at any depth. A newer, ended version at the top level was once dropped while
# an older, future version nested in another component was planned. Every UID
# line of the input now counts, at any depth.


@pytest.mark.parametrize(
    "wrap",
    [
        lambda inner: "BEGIN:X-WRAPPER\r\n" + inner + "\r\nEND:X-WRAPPER",
        lambda inner: "BEGIN:VTODO\r\nUID:todo@example.com\r\n" + inner + "\r\nEND:VTODO",
        lambda inner: vevent("outer@example.com", "20270111T100000Z", inner),
        lambda inner: inner.replace("BEGIN:VEVENT", "BEGIN;X-A=1:VEVENT").replace("END:VEVENT", "END;X-A=1:VEVENT"),
    ],
    ids=["x-component", "vtodo", "vevent", "begin-with-parameter"],
)
def test_nested_older_version_stays_unplanned(tmp_path, people, wrap):
    newer_ended = vevent("moved@example.com", PAST, "SEQUENCE:5")
    older_future = vevent("moved@example.com", LIVE, "SEQUENCE:1")
    text = calendar(newer_ended, wrap(older_future))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert "0 10 10 1 * 2027" not in [j[1] for j in job_table(full)]
    assert job_table(skipped) == job_table(full)


# Regression: room_ids resolves a hash collision by sorted UID. When it saw
# only the parsed UIDs, a live meeting that collided with an ended one moved
# rooms, and all its jobs were updated, once the ended meeting passed the
# cutoff. With a 10k export about 5% of runs have some collision.

ENDED_OWNER = "m13703@example.com"  # sorts first, so it keeps the room
LIVE_LOSER = "m3643@example.com"


def test_room_number_collides_for_fixture_uids():
    assert room_number(ENDED_OWNER) == room_number(LIVE_LOSER)


def rooms_of(state) -> set[str]:
    return {re.search(r"conference%3E(\d+)", job.spec.url).group(1) for job in state.jobs}


def test_live_room_ignores_skipping(tmp_path, people):
    text = calendar(vevent(ENDED_OWNER, PAST), vevent(LIVE_LOSER, LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert rooms_of(skipped) == rooms_of(full)


def test_live_room_stable_across_cutoff(tmp_path, people):
    text = calendar(vevent(ENDED_OWNER, "20270102T100000Z"), vevent(LIVE_LOSER, "20270120T100000Z"))
    inputs, settings = write(tmp_path, text), settings_for(people)
    before = build_desired(inputs, settings, now=NOW, skip_past=True)
    after = build_desired(inputs, settings, now=NOW + timedelta(days=5), skip_past=True)
    assert rooms_of(after) == rooms_of(before)


# Regression: an unparsable VALARM property failed the whole VCALENDAR
# without skipping, while with skipping the ended VEVENT holding it was cut
# out first. Unparsable VALARMs are now dropped with a warning in both cases.


@pytest.mark.parametrize("line", ["TRIGGER:garbage", "REPEAT:x"])
def test_broken_alarm_of_an_ended_meeting(tmp_path, people, line):
    ended = vevent("old@example.com", PAST, "BEGIN:VALARM", "ACTION:DISPLAY", line, "TRIGGER:-PT5M", "END:VALARM")
    text = calendar(ended, vevent("live@example.com", LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert job_table(skipped) == job_table(full)


# Regression: register_tzid_aliases once took any line starting with "TZID"
# for a VTIMEZONE definition, so a stray TZID property in an ended VEVENT
# blocked the alias "asia/kolkata" unless that VEVENT was skipped.


def test_tzid_property_of_an_ended_meeting(tmp_path, people):
    live = vevent("live@example.com", "20270110T100000").replace("DTSTART:", "DTSTART;TZID=asia/kolkata:")
    text = calendar(vevent("old@example.com", PAST, "TZID:asia/kolkata"), live)
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert job_table(skipped) == job_table(full)
    assert [p.message for p in skipped.problems if p.level == "error"] == [
        p.message for p in full.problems if p.level == "error"
    ]


# Regression: when icalendar found more VEVENTs than the text check counted
# (one opened by "BEGIN;X-A=1:VEVENT"), the messages numbered only the events
# left after dropping: "event #2" instead of the file's "event #4".


def test_event_number_with_hidden_vevent(tmp_path, people):
    hidden = vevent("hidden@example.com", LIVE).replace("BEGIN:VEVENT", "BEGIN;X-A=1:VEVENT")
    hidden = hidden.replace("END:VEVENT", "END;X-A=1:VEVENT")
    text = calendar(vevent("old1@example.com", PAST), hidden, vevent("old2@example.com", PAST), vevent(None, LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert any("event #4 in" in p.message for p in full.problems)
    assert sorted(p.message for p in skipped.problems) == sorted(p.message for p in full.problems)


# Regression: the text check must keep a UID whose RRULE or DTSTART
# icalendar rejects, so the "invalid RRULE" error, which holds back the
# deletion of the meeting's jobs, is reported as without skipping.


@pytest.mark.parametrize(
    "rule",
    ["RRULE:FREQ=DAILY;UNTIL=20261215T0000Z", "RRULE:FREQ=DAILY;UNTIL=202612150", "RRULE:FREQ=DAILY;UNTIL=20261215X"],
)
def test_until_icalendar_cannot_read_keeps_the_uid(rule):
    text = calendar(vevent("typo@example.com", PAST, rule))
    _, past = drop_past_events([text], past_cutoff(NOW, Settings()))
    assert past.uids == set()


# --- the corpus of public exports ------------------------------------------------------------


def call_table(state) -> list[tuple]:
    return sorted(
        (m.event.uid, tuple(m.calls), tuple(tuple(r) for r in m.redial_calls))
        for m in state.meetings
        if m.calls or any(m.redial_calls)
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the corpus folder next to the repository is missing")
@pytest.mark.parametrize(
    "now",
    [NOW, datetime(2019, 10, 27, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))],
    ids=["2027-01-04", "2019-10-27"],
)
def test_corpus_plans_the_same_calls(now):
    """Every corpus file: the same calls, redials and jobs with and without skipping."""
    settings = Settings(allow_quiet_hours=True, horizon_days=400, redial=1, redial_after_minutes=1440)
    files = sorted(CORPUS.rglob("*.ics"))
    assert files
    differing = []
    calls = 0
    for path in files:
        skipped, full = both([str(path)], settings, now)
        live_failed = set(full.failed_uids) - set(skipped.past_uids)
        same = call_table(skipped) == call_table(full) and job_table(skipped) == job_table(full)
        if not same or not live_failed <= set(skipped.failed_uids):
            differing.append(path.name)
        calls += sum(len(row[1]) for row in call_table(full))
    assert differing == []
    assert calls > 500  # the comparison covered real calls, not empty plans
