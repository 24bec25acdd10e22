"""Every calendar of the public corpus compiles exactly or gets a clear error; none crashes.

The corpus lives next to the repository (``../shared/corpus``) and the test
is skipped when it is absent. Events are read with the project's calendar
loader. The first ten timed events of each file are compiled as of ten days
after their first occurrence, so old calendars are exercised too. Recurring
ones are also compiled as of a fixed date in 2026.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ics2conf.errors import Ics2confError, ScheduleError
from ics2conf.model import CallSeries
from ics2conf.schedule import compile_schedule, verify_schedule

CORPUS = Path(__file__).parents[2] / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.ics")) if CORPUS.is_dir() else []
FIXED_NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.skipif(not FILES, reason="no calendar corpus next to the repository")


def _series_of(path: Path) -> list[CallSeries]:
    calendar = pytest.importorskip("ics2conf.calendar")
    try:
        load = calendar.load_events([str(path)], default_timezone="Asia/Kolkata")
    except Ics2confError:
        return []
    return [
        CallSeries(
            uid=event.uid,
            summary=event.summary,
            zone=event.zone,
            first_call=event.start,
            rrule=event.rrule,
            intended=event.occurrences,
            has_exceptions=event.has_exceptions,
        )
        for event in load.events
        if not event.all_day
    ]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_calendar_compiles(path):
    for series in _series_of(path)[:10]:
        nows = [series.first_call.astimezone(timezone.utc) + timedelta(days=10)]
        if series.rrule:
            nows.append(FIXED_NOW)
        for now in nows:
            horizon_end = now + timedelta(days=30)
            try:
                schedule = compile_schedule(series, now=now, horizon_end=horizon_end)
            except ScheduleError as error:
                assert series.uid in str(error)
                continue
            verify_schedule(schedule, series, start=now, end=schedule.checked_until)
