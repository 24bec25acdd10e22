"""Break tests with hostile calendars: an event that cannot be read gets an error naming its UID
and the property at fault. The error never contains the text of a Python exception, and the
other events of the file are still read.

A repeated DTSTART next to a DTEND and a zoned EXDATE with one bad value once showed the
text of a Python or icalendar exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import calendar, isolated_env, run_cli, vevent

NOW = "2027-01-04T09:00:00+05:30"
GOOD = vevent("good-1", "Good meeting", "20270110T100000")

# Phrases of Python or icalendar internals that must never reach the user.
INTERNAL_WORDS = ("'list' object", "has no attribute", "Cannot access 'dt'", "vDDDLists", "Traceback")


def broken_event(uid: str, extra: str, *, end: str) -> str:
    """Return a VEVENT with ``end`` (a DTEND or DURATION line) and the ``extra`` lines."""
    lines = [
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261201T000000Z", "SUMMARY:Broken meeting",
        "DTSTART;TZID=Asia/Kolkata:20270110T100000", end,
        "ATTENDEE;CN=Asha Rao;PARTSTAT=ACCEPTED:tel:+919876543210", *extra.splitlines(), "END:VEVENT",
    ]
    return "\n".join(lines)


DTEND = "DTEND;TZID=Asia/Kolkata:20270110T110000"
DURATION = "DURATION:PT1H"

# (UID, extra lines of the broken event, its end line, the property its error must name)
BROKEN = [
    pytest.param("two-starts", "DTSTART;TZID=Asia/Kolkata:20270110T150000", DTEND, "DTSTART",
                 id="repeated-dtstart-with-dtend"),
    pytest.param("two-starts-utc", "DTSTART:20270110T100000Z", DTEND, "DTSTART",
                 id="repeated-dtstart-utc-with-dtend"),
    pytest.param("two-starts-duration", "DTSTART;TZID=Asia/Kolkata:20270110T150000", DURATION, "DTSTART",
                 id="repeated-dtstart-with-duration"),
    pytest.param(
        "zoned-exdate", "RRULE:FREQ=DAILY;COUNT=5\nEXDATE;TZID=Asia/Kolkata:20270110T100000,garbage", DTEND,
        "EXDATE",
        id="zoned-exdate-with-a-bad-value",
    ),
    pytest.param("bad-exdate", "RRULE:FREQ=DAILY;COUNT=5\nEXDATE:garbage", DTEND, "EXDATE", id="exdate-garbage"),
    pytest.param("bad-rdate", "RDATE:garbage", DTEND, "RDATE", id="rdate-garbage"),
]


@pytest.mark.parametrize(("uid", "extra", "end", "prop"), BROKEN)
def test_unreadable_event_error_names_uid(
    tmp_path: Path, uid: str, extra: str, end: str, prop: str
) -> None:
    path = tmp_path / "broken.ics"
    path.write_bytes(calendar(broken_event(uid, extra, end=end), GOOD).replace("\n", "\r\n").encode())
    result = run_cli(["inspect", str(path), "--now", NOW, "--format", "json"], isolated_env(tmp_path))
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert errors, result.stderr
    for error in errors:
        assert error.get("uid") == uid, error
        assert uid in error["message"], error
        assert prop in error["message"], error
        assert not any(word in error["message"] for word in INTERNAL_WORDS), error
    assert not any(word in result.stderr for word in INTERNAL_WORDS), result.stderr
    assert "good-1" in result.stdout  # the readable event of the same file is still read
