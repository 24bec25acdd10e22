"""Expand one meeting into the start instants of its real occurrences.

recurring-ical-events applies RRULE, RDATE, EXDATE and RECURRENCE-ID
overrides (including RANGE=THISANDFUTURE). ``OccurrenceIndex`` wraps it for
a scheduler that requests many windows over several years: results are
computed per calendar year (UTC) once and cached, and years before the first
or after the last possible occurrence return without expanding.

Only start instants and the cancelled status are needed, so the query reads
the occurrences of each series (``CalendarQuery.series``) instead of asking
``between`` for components: that would copy the whole VEVENT, with every
attendee, once per occurrence.
"""

from __future__ import annotations

import bisect
import warnings
from datetime import UTC, date, datetime, timedelta, tzinfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr
from recurring_ical_events.adapters.event import EventAdapter
from recurring_ical_events.occurrence import Occurrence
from recurring_ical_events.selection.name import ComponentsWithName

from .errors import CalendarError
from .timezones import as_aware

# Padding around each yearly query. Floating and all-day events are queried
# in local time, up to 14 hours off UTC, and recurring-ical-events returns
# events that overlap the span rather than start in it. Results are filtered
# by exact start instant afterwards, so padding adds work but never instants.
_QUERY_PADDING = timedelta(days=2)
_MAX_COUNT_FOR_BOUND = 20000
_LAST_YEAR = 9997  # the padded query of a later year overflows datetime


class _StatusAdapter(EventAdapter):
    """A VEVENT adapter that reads STATUS once, for the occurrences it yields."""

    def __init__(self, component: icalendar.Event):
        super().__init__(component)
        self.cancelled = _is_cancelled(component)


class _OccurrenceStart(Occurrence):
    """An occurrence that keeps its source's cancelled status and is never turned into a component."""

    def __init__(self, adapter: _StatusAdapter, start=None, end=None, sequence: int = -1):
        super().__init__(adapter, start, end, sequence)
        self.cancelled = adapter.cancelled


_SELECTION = ComponentsWithName("VEVENT", adapter=_StatusAdapter, occurrence=_OccurrenceStart)


class OccurrenceIndex:
    """The occurrence starts of one meeting, as a cached callable ``(start, end) -> list``."""

    def __init__(
        self,
        *,
        master: icalendar.Event | None,
        overrides: list[icalendar.Event],
        default_zone: tzinfo,
    ):
        self._master = master
        self._overrides = overrides
        self._default_zone = default_zone
        self._years: dict[int, list[datetime]] = {}
        self._query = None
        self._simple: list[datetime] | None = None
        self._bounds: tuple[datetime, datetime | None] | None = None  # first, last (None: unbounded)
        self._prepare()

    def _prepare(self) -> None:
        master = self._master
        recurring = master is not None and ("RRULE" in master or "RDATE" in master)
        if not recurring:
            # A single event, or only overrides of a series we never saw: the
            # instants are the components' own starts.
            starts = []
            if master is not None and not _excluded_by_own_exdate(master, self._default_zone):
                starts.append(self._start_of(master))
            starts += [self._start_of(c) for c in self._overrides if not _is_cancelled(c)]
            if master is not None and self._overrides:
                # Overrides of a non-recurring event replace it (RFC 5545 3.8.4.4).
                starts = [self._start_of(c) for c in self._overrides if not _is_cancelled(c)]
            self._simple = sorted({t.astimezone(UTC) for t in starts})
            return

        _include_until_date(master)
        # Building the query costs about a millisecond (measured on the
        # development machine), and an export may hold thousands of series
        # that ended years ago. So only series that may still run by the
        # clock build it now, where a bad rule surfaces while loading.
        if _may_run_after(master, datetime.now(UTC), self._start_tz(master)):
            self._build_query()

    def _series_bounds(self) -> tuple[datetime, datetime | None]:
        """Return the first start and an instant after the last one (None: unbounded), computed once."""
        if self._bounds is None:
            first = min([self._start_of(self._master)] + [self._start_of(c) for c in self._overrides])
            self._bounds = (first, self._series_end(self._master))
        return self._bounds

    def _build_query(self):
        if self._query is None:
            calendar = icalendar.Calendar()
            calendar.add_component(self._master)
            for component in self._overrides:
                calendar.add_component(component)
            self._query = recurring_ical_events.of(calendar, components=[_SELECTION])
        return self._query

    def _start_of(self, component: icalendar.Event) -> datetime:
        return as_aware(component.decoded("DTSTART"), self._default_zone)

    def _series_end(self, master: icalendar.Event) -> datetime | None:
        ends: list[datetime] = []
        for rule in _as_list(master.get("RRULE")):
            end = self._rule_end(master, rule)
            if end is None:
                return None
            ends.append(end)
        for rdate in _as_list(master.get("RDATE")):
            for item in rdate.dts:
                value = item.dt[0] if isinstance(item.dt, tuple) else item.dt
                ends.append(as_aware(value, self._start_tz(master)))
        ends += [self._start_of(c) for c in self._overrides]
        ends.append(self._start_of(master))
        return max(ends) + _QUERY_PADDING

    def _start_tz(self, master: icalendar.Event) -> tzinfo:
        start = master.decoded("DTSTART")
        if isinstance(start, datetime) and start.tzinfo is not None:
            return start.tzinfo
        return self._default_zone

    def _rule_end(self, master: icalendar.Event, rule) -> datetime | None:
        """Return an instant no earlier than the last occurrence of one RRULE, or None."""
        until = rule.get("UNTIL")
        if until:
            value = until[0] if isinstance(until, list) else until
            # UNTIL may be a date, UTC or (against RFC 5545) local time; a day
            # of slack covers every reading.
            return as_aware(value, self._start_tz(master)) + timedelta(days=1)
        count = rule.get("COUNT")
        if count:
            count_value = int(count[0] if isinstance(count, list) else count)
            if count_value > _MAX_COUNT_FOR_BOUND:
                return None
            start = master.decoded("DTSTART")
            if not isinstance(start, datetime):
                start = datetime(start.year, start.month, start.day)
            try:
                text = rule.to_ical().decode()
                last = None
                for last in rrulestr(text, dtstart=start.replace(tzinfo=None), ignoretz=True):
                    pass
            except (ValueError, TypeError, OverflowError):
                return None
            if last is None:
                return self._start_of(master)
            return as_aware(last, self._start_tz(master)) + timedelta(days=1)
        return None

    def __call__(self, start: datetime, end: datetime) -> list[datetime]:
        """Return the sorted start instants of real occurrences in ``[start, end)``, in UTC.

        UTC, not the event's zone: PEP 495 makes a zoned datetime inside a DST
        fold or gap compare unequal to every datetime of another zone, which
        would break set and equality checks against cron fire times.

        Raises CalendarError naming the UID when the series cannot be expanded.
        """
        try:
            return self._between(start, end)
        except CalendarError:
            raise
        except Exception as error:  # noqa: BLE001 - a malformed series fails in many ways
            uid = str(self._master.get("UID", "")) if self._master is not None else ""
            raise CalendarError(f"cannot expand the occurrences of event {uid}: {error}", uid=uid) from error

    def _between(self, start: datetime, end: datetime) -> list[datetime]:
        if end <= start:
            return []
        if self._simple is not None:
            return [t for t in self._simple if start <= t < end]
        first, last = self._series_bounds()
        if end <= first or (last is not None and start > last):
            return []
        result: list[datetime] = []
        first_year = max(start.astimezone(UTC).year, first.astimezone(UTC).year)
        last_year = min(end.astimezone(UTC).year, _LAST_YEAR)
        if last is not None:
            last_year = min(last_year, last.astimezone(UTC).year)
        for year in range(first_year, last_year + 1):
            instants = self._year(year)
            low = bisect.bisect_left(instants, start)
            high = bisect.bisect_left(instants, end)
            result.extend(instants[low:high])
        return result

    def _year(self, year: int) -> list[datetime]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        span_start = datetime(year, 1, 1, tzinfo=UTC)
        span_end = datetime(year + 1, 1, 1, tzinfo=UTC)
        query_start, query_end = span_start - _QUERY_PADDING, span_end + _QUERY_PADDING
        if self._is_local():
            query_start = query_start.astimezone(self._default_zone).replace(tzinfo=None)
            query_end = query_end.astimezone(self._default_zone).replace(tzinfo=None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                occurrences = [
                    occurrence
                    for series in self._build_query().series
                    for occurrence in series.between(query_start, query_end)
                ]
        except Exception as error:  # noqa: BLE001 - recurring-ical-events raises several types
            uid = str(self._master.get("UID", ""))
            raise CalendarError(
                f"cannot expand the occurrences of event {uid} in {year}: {error}", uid=uid
            ) from error
        instants = set()
        for occurrence in occurrences:
            if occurrence.cancelled:
                continue
            instant = as_aware(occurrence.start, self._default_zone)
            if span_start <= instant < span_end:
                instants.add(instant.astimezone(UTC))
        result = sorted(instants)
        self._years[year] = result
        return result

    def _is_local(self) -> bool:
        start = self._master.decoded("DTSTART")
        return not isinstance(start, datetime) or start.tzinfo is None


def _include_until_date(master: icalendar.Event) -> None:
    """Make a date UNTIL of a timed series include that whole day.

    RFC 5545 (3.3.10) requires UNTIL to have DTSTART's value type but some
    writers put a date under a timed DTSTART. The rule also states that
    UNTIL bounds the recurrence "in an inclusive manner", so the date's last
    second is used, in DTSTART's zone, instead of its first.
    """
    start = master.decoded("DTSTART")
    if not isinstance(start, datetime):
        return
    for rule in _as_list(master.get("RRULE")):
        until = _as_list(rule.get("UNTIL"))
        if until and not isinstance(until[0], datetime):
            day = until[0]
            rule["UNTIL"] = [datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=start.tzinfo)]


def _may_run_after(master: icalendar.Event, moment: datetime, start_tz: tzinfo) -> bool:
    """Return True unless every RRULE ends by UNTIL before ``moment`` or by COUNT, without expanding."""
    for rule in _as_list(master.get("RRULE")):
        until = _as_list(rule.get("UNTIL"))
        if until:
            if as_aware(until[0], start_tz) + timedelta(days=1) >= moment:
                return True
        elif not rule.get("COUNT"):
            return True
    return False


def _is_cancelled(component: icalendar.Event) -> bool:
    return str(component.get("STATUS", "")).strip().upper() == "CANCELLED"


def _excluded_by_own_exdate(master: icalendar.Event, default_zone: tzinfo) -> bool:
    if "EXDATE" not in master:
        return False
    start = as_aware(master.decoded("DTSTART"), default_zone)
    for exdate in _as_list(master.get("EXDATE")):
        for item in exdate.dts:
            value = item.dt
            if isinstance(value, datetime) or isinstance(value, date):
                if as_aware(value, default_zone) == start:
                    return True
    return False


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
