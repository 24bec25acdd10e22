"""Property tests: compiled schedules fire exactly at recurring-ical-events' occurrences.

Random rules (FREQ, INTERVAL, BYDAY with ordinals, negative BYMONTHDAY,
BYSETPOS, COUNT, UNTIL, EXDATE, RDATE, moved and cancelled occurrences) in
zones with and without DST are written as .ics text, expanded by
recurring-ical-events, compiled, and the fires of every part are compared
with the occurrences over two years (dated parts: up to the schedule's
exact-until). No two parts may be joinable into one exact expression.

``HYPOTHESIS_PROFILE=thorough`` runs 3000 examples instead of 150.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ics2conf.cronexpr import fire_times
from ics2conf.model import MAX_EXPRESSION_LENGTH, CallSeries
from ics2conf.schedule import compile_schedule
from schedule_support import ics_text, series_from_ics

UTC = timezone.utc
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
CHECK_YEARS = 2

settings.register_profile(
    "schedule-default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "schedule-thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = settings.get_profile(
    "schedule-thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "schedule-default"
)


@st.composite
def meetings(draw):
    """Draw (zone, start, rrule, exdates, rdates, overrides, now, horizon days)."""
    zone = draw(st.sampled_from(ZONES))
    start_day = datetime(2025, 6, 1) + timedelta(days=draw(st.integers(0, 730)))
    # Early-morning hours meet DST transitions; office hours are the common case.
    hour = draw(st.one_of(st.sampled_from([1, 2]), st.integers(0, 3), st.integers(8, 18), st.integers(0, 23)))
    minute = draw(st.sampled_from([0, 15, 30, 45, draw(st.integers(0, 59))]))
    start = start_day.replace(hour=hour, minute=minute)

    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.sampled_from([1, 1, 1, 1, 2, 3, 4]))
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=5, unique=True))
        parts.append("BYDAY=" + ",".join(days))
    elif freq in ("MONTHLY", "YEARLY"):
        choice = draw(st.sampled_from(["none", "ordinal", "plain", "monthday"]))
        if freq == "YEARLY" and choice != "none" and draw(st.booleans()):
            months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True))
            parts.append("BYMONTH=" + ",".join(map(str, months)))
        if choice == "ordinal":
            items = draw(st.lists(
                st.tuples(st.sampled_from([1, 2, 3, 4, 5, -1, -2]), st.sampled_from(WEEKDAYS)),
                min_size=1, max_size=2, unique=True,
            ))
            parts.append("BYDAY=" + ",".join(f"{n}{d}" for n, d in items))
        elif choice == "plain":
            days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
            parts.append("BYDAY=" + ",".join(days))
            if draw(st.integers(0, 3)) == 0:
                parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1]))}")
        elif choice == "monthday":
            days = draw(st.lists(st.sampled_from([1, 5, 13, 15, 28, 29, 30, 31, -1, -2]),
                                 min_size=1, max_size=3, unique=True))
            parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    end_kind = draw(st.sampled_from(["none", "none", "count", "until"]))
    if end_kind == "count":
        parts.append(f"COUNT={draw(st.integers(1, 400))}")
    elif end_kind == "until":
        until = start + timedelta(days=draw(st.integers(0, 1500)))
        parts.append("UNTIL=" + until.strftime("%Y%m%dT%H%M%SZ"))

    # Half the time "now" lies a few days before a DST transition of one of the zones.
    before_transition = st.sampled_from([
        datetime(2026, 3, 20, tzinfo=UTC),  # Berlin gap 03-29
        datetime(2026, 3, 1, tzinfo=UTC),  # New York gap 03-08
        datetime(2026, 3, 30, tzinfo=UTC),  # Lord Howe fold 04-05
        datetime(2026, 9, 28, tzinfo=UTC),  # Lord Howe gap 10-04
        datetime(2026, 10, 20, tzinfo=UTC),  # Berlin fold 10-25, New York fold 11-01
    ])
    anywhere = st.builds(lambda days: datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=days),
                         st.integers(0, 400))
    now = draw(st.one_of(before_transition, anywhere)) + timedelta(minutes=draw(st.sampled_from([0, 7])))
    now_wall = now.replace(tzinfo=None)

    def near_now():
        return (now_wall + timedelta(days=draw(st.integers(-10, 120)))).replace(hour=hour, minute=minute)

    exdates = tuple(draw(st.lists(st.builds(near_now), max_size=2)))
    rdates = tuple(
        (now_wall + timedelta(days=draw(st.integers(0, 90)))).replace(
            hour=draw(st.integers(0, 23)), minute=draw(st.sampled_from([0, 30]))
        )
        for _ in range(draw(st.integers(0, 1)))
    )
    overrides = []
    for _ in range(draw(st.integers(0, 1))):
        original = near_now()
        moved = None if draw(st.booleans()) else original + timedelta(hours=draw(st.integers(-30, 30)))
        overrides.append((original, moved))
    horizon_days = draw(st.sampled_from([7, 30, 60]))
    return zone, start, ";".join(parts), exdates, rdates, tuple(overrides), now, horizon_days


def _cached(series: CallSeries, start: datetime, end: datetime) -> CallSeries:
    """Expand the series once over ``[start, end)`` and serve sub-windows from that list."""
    occurrences = series.intended(start, end)
    full = series.intended

    def intended(a: datetime, b: datetime) -> list[datetime]:
        if start <= a and b <= end:
            return [t for t in occurrences if a <= t < b]
        return full(a, b)

    return replace(series, intended=intended)


def _minute(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(second=0, microsecond=0)


_PLAIN_FIELD = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


def _joinable(first, second, start, end) -> str | None:
    """Return the joined expression when two parts differ in one plain field and join exactly."""
    if first.timezone != second.timezone:
        return None
    a, b = first.cron_expression.split(), second.cron_expression.split()
    if len(a) != len(b):
        return None
    differing = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differing) != 1:
        return None
    index = differing[0]
    if not (_PLAIN_FIELD.match(a[index]) and _PLAIN_FIELD.match(b[index])):
        return None
    joined = a.copy()
    joined[index] = a[index] + "," + b[index]
    text = " ".join(joined)
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None
    result = fire_times(text, first.timezone, start, end)
    union = set(fire_times(first.cron_expression, first.timezone, start, end).instants)
    union |= set(fire_times(second.cron_expression, second.timezone, start, end).instants)
    if result.nonexistent or result.ambiguous or set(result.instants) != union:
        return None
    return text


@settings(PROFILE)
@given(meetings())
def test_compiled_fires_equal_occurrences(meeting):
    zone, start, rrule, exdates, rdates, overrides, now, horizon_days = meeting
    text = ics_text(zone, start, rrule, exdates=exdates, rdates=rdates, overrides=overrides)
    window_end = now + timedelta(days=366 * CHECK_YEARS)
    series = _cached(series_from_ics(text, zone), now - timedelta(days=1), window_end)
    horizon_end = now + timedelta(days=horizon_days)

    schedule = compile_schedule(series, now=now, horizon_end=horizon_end)

    end = window_end if schedule.exact_until is None else min(window_end, schedule.exact_until)
    expected = sorted({_minute(t) for t in series.intended(now, end)})
    fired = []
    for part in schedule.parts:
        result = fire_times(part.cron_expression, part.timezone, now, end)
        assert not result.nonexistent, (part, result.nonexistent)
        assert not result.ambiguous, (part, result.ambiguous)
        assert len(part.cron_expression) <= MAX_EXPRESSION_LENGTH
        fired.extend(result.instants)
    assert sorted(fired) == expected, text

    assert schedule.exact_until is None or schedule.exact_until >= horizon_end
    for i, first in enumerate(schedule.parts):
        for second in schedule.parts[i + 1:]:
            assert _joinable(first, second, now, end) is None, (first, second)
