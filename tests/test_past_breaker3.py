"""Third break test: leaving out ended meetings must plan the same jobs as reading them.

``build_desired(..., skip_past=True)`` must plan the same jobs as
``skip_past=False`` for any input, keep every failed UID that still has
calls, and keep the file's event numbers in messages. The first two break
tests attacked how the text check reads lines. This one attacks what the
reader does with the meetings afterwards. It covers versions spread over
files and blocks, overrides, long meetings, extreme UTC offsets, line
separators other than CRLF, repairs that remove text, and random edits of
generated exports.

The cases under "inputs that once went wrong" each failed before the reader
was fixed: a repair that removes a VEVENT nested in a broken VALARM, a stray
END inside a VALARM, and repeated RECURRENCE-ID or DTEND lines.
"""

from __future__ import annotations

import io
import random
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bench.generate import generate_export
from ics2conf.calendar import load_events
from ics2conf.config import Settings
from tests.past_support import (
    IST,
    LIVE,
    LIVE_CRON,
    NOW,
    PAST,
    both,
    calendar,
    crons,
    job_table,
    people,
    settings_for,
    vevent,
)

CUTOFF = date(2027, 1, 1)


def write(tmp_path: Path, text: str, name: str = "input.ics") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def numbered(state) -> list[str]:
    return sorted(p.message for p in state.problems if "event #" in p.message)


def assert_same(skipped, full) -> None:
    assert job_table(skipped) == job_table(full)
    assert set(full.failed_uids) - set(skipped.past_uids) <= set(skipped.failed_uids)
    assert numbered(skipped) == numbered(full)


# --- inputs that once went wrong --------------------------------------------------


def test_event_number_after_nested_event_removed(tmp_path, people):
    # The VALARM of the live meeting has a TRIGGER icalendar rejects, so the
    # reader removes the whole VALARM, with the VEVENT nested in it. The kept
    # numbers then counted one VEVENT more than icalendar returned, and the
    # event without UID was "event #2" after skipping but "event #3" without.
    # A block that needs a repair is now read whole, as without skipping.
    ended = vevent("ended@example.com", PAST)
    live = vevent(
        "live@example.com",
        LIVE,
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:garbage",
        "BEGIN:VEVENT",
        "DTSTART:20270111T100000Z",
        "END:VEVENT",
        "END:VALARM",
    )
    text = calendar(ended, live, vevent(None, LIVE))
    skipped, full = both([write(tmp_path, text)], settings_for(people))
    assert skipped.past_uids == []
    assert any("event #3 in" in message for message in numbered(full))
    assert numbered(skipped) == numbered(full)


@pytest.mark.parametrize("stray", ["END:VTIMEZONE", "END:VTODO", "END:X-FOO"])
def test_stray_end_in_alarm_keeps_meetings(tmp_path, people, stray):
    # The reader drops the stray END with a warning. The VALARM was then never
    # closed, icalendar found no complete VCALENDAR, and the live meeting of
    # the same file got no call. Splitting now closes the VALARM.
    broken = vevent("broken@example.com", PAST, "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", stray)
    text = calendar(broken, vevent("live@example.com", LIVE))
    skipped, full = both([write(tmp_path, text)], settings_for(people))
    assert job_table(skipped) == job_table(full)
    assert crons(full) == [LIVE_CRON]


# Room numbers of these two UIDs collide: the one that sorts first keeps it.
ROOM_OWNER = "m13703@example.com"
ROOM_LOSER = "m3643@example.com"


def room_of(state) -> list[str]:
    return [re.search(r"conference%3E(\d+)", job.spec.url).group(1) for job in state.jobs]


@pytest.mark.parametrize(
    "extra",
    [
        ("RECURRENCE-ID:20261201T100000Z", "RECURRENCE-ID:20261202T100000Z"),
        ("DTEND:20261201T090000Z", "DTEND:20261201T110000Z"),
    ],
    ids=["two-recurrence-ids", "two-dtends"],
)
def test_unreadable_ended_event_moves_live_room(tmp_path, people, extra):
    # Without skipping, the reader once failed on the ended VEVENT, which has a
    # list where one value is expected. Its UID was then not among the UIDs
    # read, so the live meeting kept room 251395507 without skipping and moved
    # to 419444895 with it. The reader now keeps the first of two DTEND lines,
    # and two RECURRENCE-ID lines are an error with and without skipping.
    text = calendar(vevent(ROOM_OWNER, PAST, *extra), vevent(ROOM_LOSER, LIVE))
    skipped, full = both([write(tmp_path, text)], settings_for(people))
    assert room_of(full)
    assert room_of(skipped) == room_of(full)


def test_two_dtend_lines_keep_the_meeting(tmp_path, people):
    # A second DTEND once made the reader fail with "'list' object has no
    # attribute 'year'", and the live meeting got no call.
    text = calendar(vevent("live@example.com", LIVE, "DTEND:20270110T110000Z", "DTEND:20270110T120000Z"))
    skipped, full = both([write(tmp_path, text)], settings_for(people))
    assert crons(full) == [LIVE_CRON]
    assert job_table(skipped) == job_table(full)


# --- what held ----------------------------------------------------------------------


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\u2029"])
def test_unicode_line_separator(tmp_path, people, separator):
    # str.splitlines() would split here; icalendar does not, so "RRULE" stays
    # text of the SUMMARY and the ended meeting may be dropped.
    ended = vevent("ended@example.com", PAST, "SUMMARY:x" + separator + "RRULE:FREQ=DAILY")
    skipped, full = both([write(tmp_path, calendar(ended, vevent("live@example.com", LIVE)))], settings_for(people))
    assert crons(full) == [LIVE_CRON]
    assert_same(skipped, full)


def test_meeting_spanning_now(tmp_path, people):
    # A month-long meeting that started before the cutoff is still running at
    # now; recurring-ical-events returns it for the window, but its call is past.
    text = calendar(
        vevent("long@example.com", PAST, "DTEND:20270201T100000Z"),
        vevent("series@example.com", PAST, "DTEND:20270201T100000Z", "RRULE:FREQ=DAILY;UNTIL=20261205T000000Z"),
        vevent("live@example.com", LIVE),
    )
    skipped, full = both([write(tmp_path, text)], settings_for(people))
    assert skipped.past_uids == ["long@example.com", "series@example.com"]
    assert crons(full) == [LIVE_CRON]
    assert_same(skipped, full)


@pytest.mark.parametrize("offset", ["-2359", "+2359", "-9900"])
def test_defined_zone_with_extreme_offset(tmp_path, people, offset):
    # A VTIMEZONE of -23:59 moves 2026-12-31 10:00 to 2027-01-01 09:59 UTC,
    # still days before now; -99:00 is rejected as a zone, so the meeting fails.
    zone = "\r\n".join(
        [
            "BEGIN:VTIMEZONE",
            "TZID:Far Away",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            "TZNAME:FAR",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
    )
    ended = vevent("far@example.com", "20261231T100000").replace("DTSTART:", 'DTSTART;TZID="Far Away":')
    skipped, full = both([write(tmp_path, calendar(zone, ended, vevent("live@example.com", LIVE)))], settings_for(people))
    assert skipped.past_uids == ["far@example.com"]
    assert_same(skipped, full)


def test_same_file_given_twice(tmp_path, people):
    folder = tmp_path / "calendars"
    folder.mkdir()
    series = calendar(
        vevent("s@example.com", PAST, "RRULE:FREQ=DAILY;UNTIL=20261210T000000Z", "SEQUENCE:3"),
        vevent(None, LIVE),
    )
    first = write(folder, series, "a.ics")
    # An override sent before the newer series in another file: both ended.
    override = write(
        tmp_path, calendar(vevent("s@example.com", "20261205T100000Z", "RECURRENCE-ID:20261205T100000Z")), "b.ics"
    )
    for inputs in ([first, first], [str(folder), first], [str(folder), override, first]):
        skipped, full = both(inputs, settings_for(people))
        assert skipped.past_uids == ["s@example.com"]
        assert crons(full) == [LIVE_CRON]
        assert_same(skipped, full)


@pytest.mark.parametrize(
    ("ended_extra", "live_extra"),
    [
        # An override whose RECURRENCE-ID has ended but whose new start is live.
        (("RRULE:FREQ=DAILY;UNTIL=20261210T000000Z",), ("RECURRENCE-ID:20261205T100000Z",)),
        # A cancelled override of an occurrence after the series' end.
        (("RRULE:FREQ=DAILY;UNTIL=20261210T000000Z",), ("RECURRENCE-ID:20270110T100000Z", "STATUS:CANCELLED")),
        # A newer cancelled series, sent before an override with a higher SEQUENCE.
        (("SEQUENCE:4", "STATUS:CANCELLED"), ("RECURRENCE-ID:20261201T100000Z", "SEQUENCE:5")),
    ],
    ids=["moved-into-future", "cancelled-override", "override-after-cancel"],
)
@pytest.mark.parametrize("method", ["", "METHOD:REQUEST", "METHOD:CANCEL", "METHOD:PUBLISH"])
def test_live_override_in_another_file(tmp_path, people, ended_extra, live_extra, method):
    ended = write(tmp_path, calendar(vevent("x@example.com", PAST, *ended_extra)), "series.ics")
    head = (method,) if method else ()
    live = write(tmp_path, calendar(vevent("x@example.com", LIVE, *live_extra), head=head), "override.ics")
    skipped, full = both([ended, live], settings_for(people))
    assert skipped.past_uids == []
    assert_same(skipped, full)


def test_stdin_keeps_event_numbers(people):
    data = calendar(vevent("ended@example.com", PAST), vevent(None, LIVE)).encode()
    skipped = load_events(["-"], stdin=io.BytesIO(data), past_cutoff=CUTOFF)
    full = load_events(["-"], stdin=io.BytesIO(data))
    assert skipped.past_uids == {"ended@example.com"}
    assert sorted(p.message for p in skipped.problems) == sorted(p.message for p in full.problems)
    assert any("event #2 in <stdin>" in p.message for p in full.problems)


# --- random edits of generated exports ----------------------------------------------


def _mutated_export(seed: int, now: datetime) -> tuple[str, str]:
    """Return (ics, directory) of a generated export with a few versions and rules added near the cutoff."""
    rng = random.Random(seed)
    export = generate_export(30, seed=seed, now=now)
    lines = export.ics.split("\r\n")
    events, start = [], None
    for index, line in enumerate(lines):
        if line == "BEGIN:VEVENT":
            start = index
        elif line == "END:VEVENT" and start is not None:
            events.append(lines[start : index + 1])
            start = None
    uids = [next(line[4:] for line in body if line.startswith("UID:")) for body in events]
    near = now - timedelta(days=3)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%S")

    added: list[list[str]] = []
    for _ in range(rng.randint(1, 4)):
        body = [line for line in rng.choice(events) if not line.startswith(("RRULE", "DTEND", "SEQUENCE"))]
        kind = rng.randrange(5)
        if kind == 0:  # a copy under another UID, with some SEQUENCE
            body = ["UID:" + rng.choice(uids) if line.startswith("UID:") else line for line in body]
            body.insert(2, f"SEQUENCE:{rng.randint(0, 5)}")
        elif kind == 1:  # a cancelled copy
            body = [line for line in body if not line.startswith("STATUS")]
            body.insert(2, "STATUS:CANCELLED")
        elif kind == 2:  # a series ending near the cutoff, in UTC, floating or as a date
            until = stamp(near + timedelta(hours=rng.randint(-60, 60)))
            body.insert(2, "RRULE:FREQ=HOURLY;INTERVAL=7;UNTIL=" + rng.choice([until[:8], until + "Z", until]))
        elif kind == 3:  # an override of another UID, near the cutoff
            body = ["UID:" + rng.choice(uids) if line.startswith("UID:") else line for line in body]
            body = [line for line in body if not line.startswith(("RECURRENCE-ID", "EXDATE"))]
            body.insert(2, "RECURRENCE-ID:" + stamp(near + timedelta(hours=rng.randint(-60, 60))) + "Z")
        else:  # a start near the cutoff in a far east or far west zone
            zone = rng.choice(["Pacific/Kiritimati", "Etc/GMT+12", "America/Los_Angeles"])
            moment = stamp(near + timedelta(hours=rng.randint(-60, 60)))
            body = [f"DTSTART;TZID={zone}:{moment}" if line.startswith("DTSTART") else line for line in body]
        added.append(body)
    head = lines[: len(lines) - 2]
    second: list[str] = []
    for body in added:
        (head if rng.random() < 0.6 else second).extend(body)
    text = "\r\n".join([*head, "END:VCALENDAR", ""])
    if second:
        extra = rng.choice(["METHOD:CANCEL", "METHOD:REQUEST", "X-WR-TIMEZONE:America/Los_Angeles", "VERSION:2.0"])
        text += "\r\n".join(["BEGIN:VCALENDAR", "PRODID:-//test//EN", extra, *second, "END:VCALENDAR", ""])
    return text, export.directory_csv


@pytest.mark.parametrize("seed", range(8))
def test_mutated_export_same_jobs(tmp_path, seed):
    now = datetime(2027, 1, 4, 9, 0, tzinfo=IST) + timedelta(hours=17 * seed)
    ics, directory = _mutated_export(seed, now)
    people = tmp_path / "people.csv"
    people.write_text(directory)
    settings = Settings(
        directories=(str(people),), allow_quiet_hours=True, horizon_days=400, redial=seed % 3, redial_after_minutes=700
    )
    skipped, full = both([write(tmp_path, ics)], settings, now)
    assert skipped.past_uids
    assert full.jobs
    assert_same(skipped, full)


def test_mutation_adds_events():
    text, _ = _mutated_export(1, NOW)
    assert len(re.findall(r"^BEGIN:VEVENT", text, re.MULTILINE)) > 30
