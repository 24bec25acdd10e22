"""Second break test: leaving out ended meetings must plan the same jobs as reading them.

``build_desired(..., skip_past=True)`` must plan the same jobs as
``skip_past=False`` for any input, keep every failed UID that still has
calls, and keep the file's event numbers in messages. The text check in
``ics2conf.past`` splits the unfolded text on CRLF and reads each line on its
own, while icalendar unfolds once more and reads property names leniently.
Each section below is a place where the two once disagreed. The check now
drops nothing when a line is not plain. Where the reader lost meetings by
itself, the reader was fixed.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ics2conf.pipeline import build_desired
from tests.past_support import (
    LIVE,
    LIVE_CRON,
    PAST,
    both,
    calendar,
    crons,
    job_table,
    people,
    settings_for,
    vevent,
)


# Raw bytes "\r\n\r\n  X": reading the file removes the fold "\r\n " and leaves a
# line " X" that starts with a space, which icalendar unfolds again onto the
# line before it (across the blank line).
def refold(text: str) -> str:
    return "\r\n\r\n  " + text


def write(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "input.ics"
    path.write_bytes(text.encode("utf-8"))
    return [str(path)]


# --- lines that start with a space after reading ------------------------------------
# icalendar joins such a line to the previous one, but the text check reads it as
# its own line. Each case below once planned different jobs with and without
# skipping.


def test_refolded_line_changes_uid(tmp_path, people):
    # icalendar reads the ended version's UID as "s@example.comZ:1", so it is
    # the newer version of the live meeting below and suppresses its call.
    # The text check once read UID "s@example.com" and dropped the ended version.
    ended = vevent("s@example.com", PAST, "SEQUENCE:5").replace("UID:s@example.com", "UID:s@example.com" + refold("Z:1"))
    older_live = vevent("s@example.comZ:1", LIVE, "SEQUENCE:1")
    skipped, full = both(write(tmp_path, calendar(ended, older_live)), settings_for(people))
    assert crons(full) == []
    assert job_table(skipped) == job_table(full)


def test_refolded_end_hides_rrule(tmp_path, people):
    # The text check once counted " END:VALARM" as an END, so after the real
    # END:VALARM its nesting was -1 and it skipped the RRULE as if it were
    # inside an alarm. icalendar joins " END:VALARM" to "X-A:1", closes the
    # alarm at END:VALARM and reads the RRULE as the meeting's: a daily call.
    ended = vevent(
        "daily@example.com",
        PAST,
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:-PT5M",
        "X-A:1" + refold("END:VALARM"),
        "END:VALARM",
        "RRULE:FREQ=DAILY",
    )
    skipped, full = both(write(tmp_path, calendar(ended)), settings_for(people))
    assert crons(full) == ["0 10 * * *"]
    assert job_table(skipped) == job_table(full)


def test_refolded_line_after_dropped_event(tmp_path, people):
    # Without skipping, " L" continues "END:VEVENT". With the ended VEVENT cut
    # out, it once continued "METHOD:CANCE" instead, and METHOD:CANCEL
    # cancelled the live meeting of the calendar.
    ended = vevent("old@example.com", PAST) + refold("L")
    text = calendar(ended, vevent("live@example.com", LIVE), head=("METHOD:CANCE",))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert crons(full) == [LIVE_CRON]
    assert job_table(skipped) == job_table(full)


# --- whitespace that icalendar strips from a property name ----------------------------
# icalendar strips leading whitespace of every kind and spaces and tabs inside a
# name, and upper-cases with str.upper() ("uıd" is UID). The check reads
# [A-Za-z0-9-] names only, so such a line turns the check off.


@pytest.mark.parametrize(
    "uid_line",
    ["U ID:s@example.com", "UI\tD:s@example.com", "\u00a0UID:s@example.com", "u\u0131d;X-A=1:s@example.com"],
    ids=["space-in-name", "tab-in-name", "leading-nbsp", "dotless-i-with-parameter"],
)
def test_uncounted_uid_line(tmp_path, people, uid_line):
    # The check once missed the live version's UID line and dropped the newer,
    # ended version. The older live version then rang at its old time.
    newer_ended = vevent("s@example.com", PAST, "SEQUENCE:5")
    older_live = vevent("s@example.com", LIVE, "SEQUENCE:1").replace("UID:s@example.com", uid_line)
    skipped, full = both(write(tmp_path, calendar(newer_ended, older_live)), settings_for(people))
    assert crons(full) == []
    assert job_table(skipped) == job_table(full)


@pytest.mark.parametrize("space", ["\u00a0", "\x0b", "\u3000"], ids=["nbsp", "vertical-tab", "ideographic-space"])
def test_end_line_with_leading_whitespace(tmp_path, people, space):
    # icalendar reads "<space>END:VEVENT" as END and closes the ended VEVENT
    # there. The plain END:VEVENT after it then closes the VCALENDAR, so the
    # whole file fails to parse. The check once ignored the line and dropped
    # the VEVENT, so the live meeting was planned only with skipping.
    ended = vevent("old@example.com", PAST, space + "END:VEVENT")
    text = calendar(ended, vevent("live@example.com", LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert job_table(skipped) == job_table(full)


def test_event_number_with_spaced_begin(tmp_path, people):
    # icalendar opens a VEVENT at "B EGIN:VEVENT", which the check does not
    # count. Messages once fell back to "event #2"; now nothing is dropped.
    hidden = vevent("hidden@example.com", LIVE).replace("BEGIN:VEVENT", "B EGIN:VEVENT")
    hidden = hidden.replace("END:VEVENT", "E ND:VEVENT")
    text = calendar(vevent("old1@example.com", PAST), hidden, vevent("old2@example.com", PAST), vevent(None, LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert any("event #4 in" in p.message for p in full.problems)
    assert sorted(p.message for p in skipped.problems) == sorted(p.message for p in full.problems)


@pytest.mark.parametrize("trail", [" ", "\t", "\u00a0"], ids=["space", "tab", "nbsp"])
def test_event_number_with_trailing_space_begin(tmp_path, people, trail):
    # icalendar once named the component "VEVENT " and walk("VEVENT") skipped
    # it, while the check counted it. Splitting the file now removes the
    # trailing whitespace, so both count the ended VEVENT.
    ended = vevent("old@example.com", PAST).replace("BEGIN:VEVENT", "BEGIN:VEVENT" + trail)
    text = calendar(ended, vevent(None, LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert any("event #2 in" in p.message for p in full.problems)
    assert sorted(p.message for p in skipped.problems) == sorted(p.message for p in full.problems)


# --- repairs of lines icalendar cannot parse ---------------------------------------------
# Reading a block once removed an unparsable line by its first occurrence in
# the text, at most ten times, so lines inside ended VEVENTs counted against
# that limit only without skipping. All such lines now go in one repair.


def test_ended_alarms_use_up_repairs(tmp_path, people):
    ended = [
        vevent(f"old{n}@example.com", PAST, "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", f"X-A;:{n}", "END:VALARM")
        for n in range(11)
    ]
    text = calendar(*ended, vevent("live@example.com", LIVE))
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert crons(skipped) == [LIVE_CRON]
    assert job_table(skipped) == job_table(full)


def test_repair_removes_ended_copy(tmp_path, people):
    # "X-A;:1" is harmless inside a VEVENT but fails the VCALENDAR at its top
    # level. Without skipping, each repair removes a harmless copy first.
    ended = [vevent(f"old{n}@example.com", PAST, "X-A;:1") for n in range(10)]
    text = calendar(*ended, vevent("live@example.com", LIVE), "X-A;:1")
    skipped, full = both(write(tmp_path, text), settings_for(people))
    assert crons(skipped) == [LIVE_CRON]
    assert job_table(skipped) == job_table(full)


# --- the cutoff itself ------------------------------------------------------------------


def test_cutoff_before_year_one(tmp_path, people):
    # past_cutoff subtracts three days and the redials from now; near
    # 0001-01-01 that raises OverflowError, which only plan and sync compute.
    now = datetime(1, 1, 2, tzinfo=timezone.utc)
    text = calendar(vevent("old@example.com", PAST), vevent("live@example.com", LIVE))
    inputs = write(tmp_path, text)
    full = build_desired(inputs, settings_for(people), now=now, skip_past=False)
    skipped = build_desired(inputs, settings_for(people), now=now, skip_past=True)
    assert job_table(skipped) == job_table(full)


# --- found alongside: not caused by skipping ---------------------------------------------


@pytest.mark.parametrize("begin", ["\u00a0BEGIN:X-NOTE", "B EGIN:X-NOTE"], ids=["nbsp", "space-in-name"])
def test_unclosed_hidden_begin_loses_meetings(tmp_path, people, begin):
    # icalendar opens a component that the file never closes, so it returns no
    # VCALENDAR and reports nothing: the meeting looks removed, and a sync
    # would delete its jobs. Splitting the file into VCALENDARs ignores the
    # line, so no warning names it either.
    text = calendar(vevent("live@example.com", LIVE), begin)
    _, full = both(write(tmp_path, text), settings_for(people))
    assert crons(full) == [LIVE_CRON] or any(p.level == "error" for p in full.problems)


@pytest.mark.parametrize("trail", [" ", "\t"], ids=["space", "tab"])
def test_trailing_space_begin_loses_meeting(tmp_path, people, trail):
    # icalendar keeps the trailing whitespace in the component name, so
    # "BEGIN:VEVENT " is no VEVENT to walk("VEVENT"). The live meeting is
    # neither planned nor reported, and a sync would delete its jobs.
    live = vevent("live@example.com", LIVE).replace("BEGIN:VEVENT", "BEGIN:VEVENT" + trail)
    _, full = both(write(tmp_path, calendar(live)), settings_for(people))
    assert crons(full) == [LIVE_CRON] or any(p.level == "error" for p in full.problems)


# --- room collisions with ended meetings that plan no event --------------------------
# room_ids resolves a hash collision by sorted UID. It once received only the
# events built without skipping, so an ended meeting that is cancelled, only
# replied to, or in an unknown zone took part only with skipping, and the live
# meeting changed rooms. It now receives every UID read.

ENDED_OWNER = "m13703@example.com"  # sorts first and has the same room number
LIVE_LOSER = "m3643@example.com"


def rooms_of(state) -> set[str]:
    return {re.search(r"conference%3E(\d+)", job.spec.url).group(1) for job in state.jobs}


@pytest.mark.parametrize(
    ("ended_extra", "method", "zone"),
    [
        (("STATUS:CANCELLED",), None, None),
        ((), "CANCEL", None),
        ((), "REPLY", None),
        ((), None, "Nowhere/Zone"),
    ],
    ids=["status-cancelled", "method-cancel", "reply-only", "unknown-tzid"],
)
def test_room_ignores_unplanned_ended_meeting(tmp_path, people, ended_extra, method, zone):
    ended = vevent(ENDED_OWNER, PAST, *ended_extra)
    if zone:
        ended = ended.replace(f"DTSTART:{PAST}", f"DTSTART;TZID={zone}:{PAST[:-1]}")
    head = (f"METHOD:{method}",) if method else ()
    paths = []
    for index, text in enumerate([calendar(ended, head=head), calendar(vevent(LIVE_LOSER, LIVE))]):
        path = tmp_path / f"input{index}.ics"
        path.write_bytes(text.encode("utf-8"))
        paths.append(str(path))
    skipped, full = both(paths, settings_for(people))
    assert rooms_of(full)
    assert rooms_of(skipped) == rooms_of(full)


# --- a VEVENT with two UID lines ---------------------------------------------------------
# icalendar returns a list for two UID lines, and the reader once turned it into
# the string "[vText(b'a@example.com'), vText(b'b@example.com')]". An ended
# VEVENT with that string as its UID then was the newer version of the live
# meeting only without skipping. The reader now takes the first UID, with a
# warning.


def test_two_uid_lines_read_as_one_list_uid(tmp_path, people):
    listed = "[vText(b'a@example.com'), vText(b'b@example.com')]"
    newer_ended = vevent(listed, PAST, "SEQUENCE:5")
    older_live = vevent("a@example.com", LIVE, "UID:b@example.com", "SEQUENCE:1")
    skipped, full = both(write(tmp_path, calendar(newer_ended, older_live)), settings_for(people))
    assert crons(full) == [LIVE_CRON]
    assert job_table(skipped) == job_table(full)
    assert any("has 2 UID lines; using the first, a@example.com" in p.message for p in full.problems)


# --- inputs that keep the plan unchanged --------------------------------------------------

HOLDS = {
    "DTSTART VALUE=DATE with a time": [
        calendar(vevent("d@example.com", PAST).replace("DTSTART:", "DTSTART;VALUE=DATE:"), vevent("d@example.com", LIVE))
    ],
    "DTSTART in year 0": [calendar(vevent("z@example.com", "00000101T100000Z", "SEQUENCE:5"), vevent("z@example.com", LIVE))],
    "DTSTART in year 9999": [calendar(vevent("y@example.com", "99991231T100000Z"), vevent("l@example.com", LIVE))],
    "UNTIL in year 1": [
        calendar(
            vevent("o@example.com", "00010101T100000Z", "RRULE:FREQ=DAILY;UNTIL=00010105T000000Z"),
            vevent("l@example.com", LIVE),
        )
    ],
    "two VCALENDARs in one file, the second cancels": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY"))
        + calendar(vevent("s@example.com", PAST, "SEQUENCE:1"), head=("METHOD:CANCEL",))
    ],
    "newer COUNTER of a live series": [
        calendar(vevent("s@example.com", PAST, "RRULE:FREQ=WEEKLY")),
        calendar(vevent("s@example.com", PAST, "SEQUENCE:4"), head=("METHOD:COUNTER",)),
    ],
    "overrides without their master, one live": [
        calendar(
            vevent("o@example.com", PAST, "RECURRENCE-ID:20261201T100000Z"),
            vevent("o@example.com", LIVE, "RECURRENCE-ID:20261208T100000Z"),
        )
    ],
    "floating series in X-WR-TIMEZONE Pacific/Kiritimati": [
        calendar(
            vevent("k@example.com", "20261231T235900", "RRULE:FREQ=DAILY;UNTIL=20261231T235900"),
            head=("X-WR-TIMEZONE:Pacific/Kiritimati",),
        )
    ],
    "UIDs differing in case": [calendar(vevent("C@example.com", PAST, "SEQUENCE:5"), vevent("c@example.com", LIVE))],
    "UIDs in NFC and NFD": [
        calendar(vevent("caf\u00e9@example.com", PAST, "SEQUENCE:5"), vevent("cafe\u0301@example.com", LIVE))
    ],
    "UID ending in a control character": [
        calendar(vevent("c@example.com\x1c", PAST, "SEQUENCE:5"), vevent("c@example.com", LIVE))
    ],
    "alarm carrying the live meeting's UID": [
        calendar(
            vevent("a@example.com", PAST, "BEGIN:VALARM", "UID:b@example.com", "ACTION:DISPLAY", "TRIGGER:-PT5M", "END:VALARM"),
            vevent("b@example.com", LIVE),
        )
    ],
}


@pytest.mark.parametrize("texts", list(HOLDS.values()), ids=list(HOLDS))
def test_plan_is_unchanged(tmp_path, people, texts):
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"input{index}.ics"
        path.write_bytes(text.encode("utf-8"))
        paths.append(str(path))
    skipped, full = both(paths, settings_for(people))
    assert job_table(skipped) == job_table(full)


def test_newer_ended_version_in_windows_1252(tmp_path, people):
    ended = tmp_path / "ended.ics"
    ended.write_bytes(calendar(vevent("caf\u00e9@example.com", PAST, "SEQUENCE:5")).encode("cp1252"))
    live = tmp_path / "live.ics"
    live.write_bytes(calendar(vevent("caf\u00e9@example.com", LIVE, "SEQUENCE:1")).encode("utf-8"))
    skipped, full = both([str(ended), str(live)], settings_for(people))
    assert crons(full) == []
    assert job_table(skipped) == job_table(full)
