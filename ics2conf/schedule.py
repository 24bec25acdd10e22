"""Compile a meeting's call instants into the fewest exact EasyCron expressions, and prove them.

``compile_schedule`` proposes expressions from the series' RRULE, evaluates
them with ``cronexpr`` and compares their fires with ``series.intended`` over
a check window. Calls a proposal cannot carry become dated expressions.
``verify_schedule`` repeats the comparison for any window. A schedule that
fails it is a bug and raises ``ScheduleError``; it is never written.

Part kinds and keys (stable across syncs while the meeting keeps its shape,
so an edited meeting updates its jobs in place):

- ``e0``, ``e1`` ...: evergreen, no year field, exact forever;
- ``y0``, ``y1`` ...: bounded by a year field (year and month ranges);
- ``d0``, ``d1`` ...: dated, every field pinned, in the meeting's zone;
- ``u0``, ``u1`` ...: dated in UTC, for calls whose wall time a DST change
  skips or repeats in the meeting's zone.

Evergreen and ranged parts are numbered in the order of their text, dated
parts in the order of their first fire.

The check window is ``[now, check_end)``. By default it runs to the latest of
``horizon_end`` and ``now`` + 400 days: 400 days hold every month and every
DST transition of a year at least once, so a yearly pattern or a transition
that an evergreen expression mishandles shows up. For a rule with an end
(UNTIL or COUNT) it extends to the rule's end, at most four years ahead
(a leap-year cycle); for a series that starts later it extends to 400 days
past the first call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cronexpr import MAX_YEAR, MIN_YEAR, CronExpression, CronSyntaxError, fire_times, parse_cron
from .drafts import Draft, dated_drafts, join_all, range_fields
from .dst import colliding_months
from .errors import ScheduleError
from .model import CallSeries, Schedule, SchedulePart
from .rules import Candidate, candidates_for, last_occurrence, parse_rule

UTC = timezone.utc
DEFAULT_CHECK_DAYS = 400
MAX_CHECK_DAYS = 4 * 366
DST_SCAN_YEARS = 30


# --- instants -----------------------------------------------------------------


def intended_calls(series: CallSeries, start: datetime, end: datetime) -> list[datetime]:
    """Return the series' calls in ``[start, end)`` as sorted UTC instants, one per minute.

    A call rings at its start minute, so seconds are dropped, and two calls
    in the same minute ring once.
    """
    # Timestamps compare without zone lookups, which matters for a year of calls.
    first, stop = start.timestamp(), end.timestamp()
    minutes = set()
    for moment in series.intended(start, end):
        seconds = moment.timestamp()
        if first <= seconds < stop:
            minutes.add(int(seconds // 60))
    return [datetime.fromtimestamp(minute * 60, UTC) for minute in sorted(minutes)]


def _wall_to_instant(wall: datetime, tz: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=tz).astimezone(UTC)


def _month_after(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return _wall_to_instant(datetime.combine(day, datetime.min.time()), tz)


def _fires(draft: Draft, start: datetime, end: datetime) -> tuple[datetime, ...]:
    return fire_times(draft.expression, draft.timezone, start, end).instants



# --- the candidate path -------------------------------------------------------------


@dataclass(frozen=True)
class _Proposal:
    drafts: list[Draft]
    exact_until: datetime | None


def _alternatives_overlap(expressions: list, first_year: int) -> bool:
    """Return whether two day-field alternatives share a day within 28 years.

    Weekdays and month lengths repeat every 28 years between 1901 and 2099,
    so a shared day (``29`` and ``L`` in a leap February) shows up within one
    cycle. Both would fire, ringing twice.
    """
    if len(expressions) < 2:
        return False
    for year in range(first_year, min(first_year + 28, MAX_YEAR) + 1):
        for month in range(1, 13):
            seen: set[int] = set()
            for expression in expressions:
                days = set(expression.days(year, month))
                if days & seen:
                    return True
                seen |= days
    return False


def _upper_end(
    candidate: Candidate, good_months: tuple[int, ...], last: datetime | None, tz: ZoneInfo
) -> tuple[tuple[int, int] | None, list[datetime]]:
    """Return the last month the ranged parts cover and the dated wall times after it.

    That month is the last one whose fires all precede the rule's last
    occurrence ``last`` (a wall time); the fires of the partial month after
    it, up to ``last``, become dated. None: the rule has no end.
    """
    if last is None:
        return None, []
    if last.year > MAX_YEAR:
        return (MAX_YEAR, 12), []
    month_first = datetime(last.year, last.month, 1)
    in_month: list[datetime] = []
    if last.month in good_months:
        start = _wall_to_instant(month_first, tz)
        end = _midnight(_month_after(last.date()), tz)
        for text in candidate.expressions(months=good_months):
            in_month.extend(fire_times(text, tz.key, start, end).instants)
    walls = sorted(f.astimezone(tz).replace(tzinfo=None) for f in in_month)
    if not any(w > last for w in walls):
        return (last.year, last.month), []
    previous = month_first - timedelta(days=1)
    return (previous.year, previous.month), [w for w in walls if w <= last]


def _propose(
    candidate: Candidate,
    last: datetime | None,
    tz: ZoneInfo,
    series: CallSeries,
    now: datetime,
    horizon_end: datetime,
    window_end: datetime,
    intended: list[datetime],
) -> _Proposal | None:
    """Return evergreen or ranged drafts plus dated drafts for the rest, or None."""
    zone = tz.key
    now_local = now.astimezone(tz)
    base = [parse_cron(text) for text in candidate.expressions()]
    if _alternatives_overlap(base, now_local.year):
        return None
    scan_end = now + timedelta(days=365 * DST_SCAN_YEARS)
    if last is not None:
        scan_end = min(scan_end, _wall_to_instant(last, tz) + timedelta(days=1))
    bad_months = colliding_months(base, zone, now, scan_end)
    good_months = tuple(m for m in candidate.months if m not in bad_months)

    def is_bad(instant: datetime) -> bool:
        return bool(bad_months) and instant.astimezone(tz).month in bad_months

    # Fires of the unbounded candidate in the good months, cut at the rule's end.
    fires: list[datetime] = []
    if good_months:
        for text in candidate.expressions(months=good_months):
            fires.extend(fire_times(text, zone, now, window_end).instants)
    if last is not None:
        last_instant = _wall_to_instant(last, tz)
        fires = [f for f in fires if f <= last_instant]
    expected = [t for t in intended if not is_bad(t)]
    differences = set(fires).symmetric_difference(expected)

    # Differences whose month ends within the horizon (or, for a series that
    # starts later, by the end of its first month) are dated, and the
    # candidate starts the month after. The first later difference cuts the
    # candidate off at the start of its month: the schedule is exact until then.
    limit = horizon_end
    if series.first_call > now:
        first_month_end = _month_after(series.first_call.astimezone(tz).date())
        limit = max(limit, _midnight(first_month_end, tz))
    early = [d for d in differences if _midnight(_month_after(d.astimezone(tz).date()), tz) <= limit]
    late = sorted(set(differences) - set(early))
    lower = _month_after(max(early).astimezone(tz).date()) if early else None
    cut = late[0].astimezone(tz).date().replace(day=1) if late else None
    dated_until = _midnight(lower, tz) if lower else now
    if dated_until >= window_end or (cut is not None and _midnight(cut, tz) <= horizon_end):
        return None

    last_month, tail_walls = _upper_end(candidate, good_months, last, tz)
    beyond_years = last is not None and last.year > MAX_YEAR
    if cut is not None and (last is None or cut <= date(last.year, last.month, 1)):
        previous_day = cut - timedelta(days=1)
        last_month = (previous_day.year, previous_day.month)
        tail_walls = []

    drafts: list[Draft] = []
    if good_months:
        if last is None and lower is None and cut is None:
            drafts += [Draft("e", text, zone) for text in candidate.expressions(months=good_months)]
        else:
            # Without a lower bound the year range starts at the series' first
            # year, so the expression stays the same from one year to the next.
            start_year = max(MIN_YEAR, min(series.first_call.astimezone(tz).year, now_local.year))
            first = (lower.year, lower.month) if lower else (start_year, 1)
            ranges = range_fields(good_months, first, last_month)
            if not ranges and cut is not None:
                return None  # the candidate would carry nothing: date the horizon instead
            for months, years in ranges:
                drafts += [Draft("y", text, zone) for text in candidate.expressions(months, years)]

    # Dated: everything before the lower bound, the bad months within the
    # horizon, and the partial last month.
    dated = [t for t in intended if t < dated_until]
    dated += [t for t in intended if dated_until <= t < horizon_end and is_bad(t)]
    dated += [t for t in (_wall_to_instant(w, tz) for w in tail_walls) if t >= dated_until]
    drafts += dated_drafts(sorted(set(dated)), tz)

    limits: list[datetime] = []
    last_instant = _wall_to_instant(last, tz) if last is not None else None
    if bad_months and (last_instant is None or last_instant >= horizon_end):
        limits.append(horizon_end)
    if cut is not None:
        limits.append(_midnight(cut, tz))
    if beyond_years or (last is None and lower is not None):
        limits.append(_wall_to_instant(datetime(MAX_YEAR + 1, 1, 1), tz))
    exact_until = min(limits) if limits else None
    return _Proposal(drafts, exact_until)


# --- assembly -------------------------------------------------------------------


def _series_ends_before(series: CallSeries, last: datetime | None, tz: ZoneInfo, moment: datetime) -> bool:
    if series.rrule is None:
        return True
    return last is not None and _wall_to_instant(last, tz) < moment


def _default_check_end(
    series: CallSeries, now: datetime, horizon_end: datetime, last: datetime | None, tz: ZoneInfo
) -> datetime:
    end = max(horizon_end, now + timedelta(days=DEFAULT_CHECK_DAYS))
    if series.first_call > now:
        end = max(end, series.first_call + timedelta(days=DEFAULT_CHECK_DAYS))
    if last is not None:
        rule_end = _wall_to_instant(last, tz) + timedelta(days=1)
        end = max(end, min(rule_end, now + timedelta(days=MAX_CHECK_DAYS)))
    return end


# Without a year field, day-of-month, month and day-of-week repeat with the
# Gregorian calendar's 400-year cycle.
_GREGORIAN_CYCLE_YEARS = 400


def _has_fire_day(parsed: CronExpression, year: int, month: int) -> bool:
    """Return whether ``parsed`` has a fire day in ``year``-``month`` or later, up to its last year."""
    last_year = max(parsed.years) if parsed.years is not None else year + _GREGORIAN_CYCLE_YEARS
    for current_year in range(year, last_year + 1):
        if parsed.years is not None and current_year not in parsed.years:
            continue
        for current_month in sorted(parsed.months):
            if (current_year, current_month) >= (year, month) and parsed.days(current_year, current_month):
                return True
    return False


def _assemble(
    series: CallSeries,
    drafts: list[Draft],
    now: datetime,
    checked_until: datetime,
    exact_until: datetime | None,
    evergreen_until: datetime | None = None,
) -> Schedule:
    evaluated = []
    for draft in join_all(drafts):
        fires = _fires(draft, now, checked_until)
        parsed = parse_cron(draft.expression)
        can_fire_later = parsed.years is None or max(parsed.years) > checked_until.year
        if not fires and can_fire_later:
            # A part without fires in the window may still never fire at all
            # (30 February): such a job would never run, so it is dropped.
            can_fire_later = _has_fire_day(parsed, checked_until.year, checked_until.month)
        if fires or can_fire_later:
            evaluated.append((draft, fires))
    never = datetime.max.replace(tzinfo=UTC)
    # Evergreen and ranged parts are numbered by their text, which does not
    # change as time passes; dated parts by their first fire.
    evaluated.sort(key=lambda item: (
        "eydu".index(item[0].kind),
        item[0].expression if item[0].kind in "ey" else "",
        item[1][0] if item[1] else never,
        item[0].expression,
    ))
    counters: dict[str, int] = {}
    parts = []
    for draft, fires in evaluated:
        number = counters.get(draft.kind, 0)
        counters[draft.kind] = number + 1
        part_exact_until = evergreen_until if draft.kind == "e" else exact_until
        parts.append(SchedulePart(
            key=f"{draft.kind}{number}",
            cron_expression=draft.expression,
            timezone=draft.timezone,
            fires=fires,
            exact_until=part_exact_until,
        ))
    return Schedule(series.uid, tuple(parts), exact_until, checked_until)


def _mismatch(schedule: Schedule, expected: list[datetime], start: datetime, end: datetime) -> str | None:
    """Return a description of the first difference between the schedule's fires and ``expected``."""
    got: list[datetime] = []
    for part in schedule.parts:
        result = fire_times(part.cron_expression, part.timezone, start, end)
        for wall in result.nonexistent + result.ambiguous:
            return (
                f"part {part.key} ({part.cron_expression!r}) fires at {wall:%Y-%m-%d %H:%M}, a wall"
                f" time that a DST change in {part.timezone} skips or repeats"
            )
        got.extend(result.instants)
    got.sort()
    for index in range(max(len(got), len(expected))):
        fired = got[index] if index < len(got) else None
        due = expected[index] if index < len(expected) else None
        if fired == due:
            continue
        if due is None or (fired is not None and fired < due):
            problem = "a second call" if fired in expected else "a call that is not intended"
            return f"{problem} at {fired:%Y-%m-%d %H:%M} UTC"
        return f"no call at {due:%Y-%m-%d %H:%M} UTC"
    return None


def _check(schedule: Schedule, series: CallSeries, expected: list[datetime], start: datetime, end: datetime) -> None:
    problem = _mismatch(schedule, expected, start, end)
    if problem is not None:
        raise ScheduleError(
            f"the schedule compiled for event {series.uid} ({series.summary!r}) is not exact:"
            f" {problem}. Nothing was written for it; this is a bug in ics2conf, please report"
            " it with the calendar file.",
            uid=series.uid,
        )


def verify_schedule(schedule: Schedule, series: CallSeries, *, start: datetime, end: datetime) -> None:
    """Check that the schedule's fires in ``[start, end)`` are exactly the series' calls.

    The window is cut at ``schedule.exact_until``, beyond which the schedule
    makes no claim. Raises ScheduleError naming the event and the first
    mismatching instant.
    """
    if schedule.exact_until is not None:
        end = min(end, schedule.exact_until)
    if end <= start:
        return
    _check(schedule, series, intended_calls(series, start, end), start, end)


def _compile_proposal(
    candidate: Candidate,
    last: datetime | None,
    tz: ZoneInfo,
    series: CallSeries,
    now: datetime,
    horizon_end: datetime,
    window_end: datetime,
    intended: list[datetime],
) -> Schedule | None:
    """Return the schedule built from the candidate when it checks out exactly, else None."""
    proposal = _propose(candidate, last, tz, series, now, horizon_end, window_end, intended)
    if proposal is None:
        return None
    exact_until = proposal.exact_until
    evergreen_until = None
    unseen_exceptions = series.has_exceptions and not _series_ends_before(series, last, tz, window_end)
    if unseen_exceptions and (exact_until is None or exact_until > window_end):
        # An EXDATE, RDATE or override past the check window is not among the
        # calls checked, so neither an evergreen nor a year-ranged part is known
        # to be exact beyond the window's end.
        exact_until = evergreen_until = window_end
    checked_until = window_end if exact_until is None else min(window_end, exact_until)
    schedule = _assemble(series, proposal.drafts, now, checked_until, exact_until, evergreen_until)
    expected = [t for t in intended if t < checked_until]
    if _mismatch(schedule, expected, now, checked_until) is not None:
        return None
    return schedule


def compile_schedule(
    series: CallSeries, *, now: datetime, horizon_end: datetime, check_end: datetime | None = None
) -> Schedule:
    """Compile the series' calls from ``now`` on into verified EasyCron expressions."""
    if now.tzinfo is None or horizon_end.tzinfo is None:
        raise ValueError("now and horizon_end must be timezone-aware")
    try:
        tz = ZoneInfo(series.zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(
            f"event {series.uid}: unknown time zone {series.zone!r}; use an IANA zone name",
            uid=series.uid,
        ) from error

    rule = parse_rule(series.rrule) if series.rrule else None
    first_local = series.first_call.astimezone(tz)
    candidates = candidates_for(rule, first_local) if rule is not None else []
    last = None
    if rule is not None:
        try:
            last = last_occurrence(rule, first_local, tz)
        except (ValueError, TypeError):
            candidates = []
    window_end = check_end or _default_check_end(series, now, horizon_end, last, tz)
    intended = intended_calls(series, now, window_end)

    for candidate in candidates:
        try:
            schedule = _compile_proposal(candidate, last, tz, series, now, horizon_end, window_end, intended)
        except CronSyntaxError:
            schedule = None  # a proposal outside EasyCron's documented syntax: date instead
        if schedule is not None:
            return schedule

    # Fallback: dated expressions for the calls within the horizon.
    exact_until: datetime | None = horizon_end
    if not any(t >= horizon_end for t in intended) and _series_ends_before(series, last, tz, horizon_end):
        exact_until = None
    checked_until = window_end if exact_until is None else min(window_end, horizon_end)
    drafts = dated_drafts([t for t in intended if t < horizon_end], tz)
    schedule = _assemble(series, drafts, now, checked_until, exact_until)
    _check(schedule, series, [t for t in intended if t < checked_until], now, checked_until)
    return schedule
