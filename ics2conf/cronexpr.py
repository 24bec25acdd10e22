"""An exact evaluator of the cron expressions EasyCron accepts.

EasyCron's cron FAQ ("What cron expression does EasyCron support",
easycron.com/faq) defines the syntax this module follows:

- fields ``minute hour day-of-month month day-of-week [year]``; the optional
  sixth field is the year, not seconds (``11 11 11 11 * 2020`` fires once);
- minute 0-59 and hour 0-23 with ``, - * /``; day-of-month 1-31 with
  ``, - * ? / L W``; month 1-12; day-of-week 0-6 with Sunday = 0 and
  ``, - * ? / L #`` (``5L`` is the last Friday of the month, ``5#3`` the third
  Friday); year as a single year, a range or a list;
- when both day-of-month and day-of-week are restricted (neither ``*`` nor
  ``?``) a day matches if either field matches: ``0 0 1,2 * 3`` fires on the
  1st, the 2nd and every Wednesday.

Readings this module chooses where the FAQ is silent, so that it never
claims to know more than the documentation states:

- ``7`` for Sunday, month and day names, ``L`` alone in day-of-week,
  ``L-3`` and reversed ranges such as ``5-1`` are rejected with
  ``CronSyntaxError``;
- a step over a star in a day field (``*/2``) while the other day field is
  restricted is rejected: classic cron counts such a field as unrestricted,
  other implementations do not;
- ``W`` picks the weekday nearest the given day without leaving the month
  (the Quartz-style reading, as gorhill/cronexpr's README states it: the 1st
  on a Saturday moves to Monday the 3rd);
- years run from 1970 to 2099, the range of Quartz-style implementations.

croniter 7.0 was checked as an alternative and does not evaluate EasyCron's
form: it reads a sixth field as seconds and rejects ``15 10 * * * 2027``;
it rejects ``5L`` (it spells the last Friday ``L5``). It does apply the OR
rule to ``0 0 1,2 * 3``. Hence this evaluator.

Local times are evaluated in an IANA zone. A fire at a local time that the
zone skips (a DST gap) or repeats (a DST fold) is reported separately in
``FireTimes.nonexistent`` and ``FireTimes.ambiguous`` and is not part of
``FireTimes.instants``: EasyCron does not document what it does there, so
the schedule compiler must produce expressions that never fire at such times.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from .dst import transitions

MIN_YEAR = 1970
MAX_YEAR = 2099

_UTC = timezone.utc


class CronSyntaxError(ValueError):
    """An expression EasyCron's documented syntax does not cover."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"invalid cron expression {expression!r}: {reason}")
        self.expression = expression
        self.reason = reason


# --- field parsing ---------------------------------------------------------


def _parse_number(text: str, low: int, high: int, expression: str, name: str) -> int:
    if not text.isdigit():
        raise CronSyntaxError(expression, f"{name} value {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise CronSyntaxError(expression, f"{name} value {value} is outside {low}-{high}")
    return value


def _parse_plain_item(item: str, low: int, high: int, expression: str, name: str) -> set[int]:
    """Parse ``*``, ``n``, ``a-b`` and their ``/step`` forms into a set of values."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        step = _parse_number(step_text, 1, high - low + 1 if high > low else 1, expression, name)
    if base == "*":
        first, last = low, high
    elif "-" in base:
        first_text, _, last_text = base.partition("-")
        first = _parse_number(first_text, low, high, expression, name)
        last = _parse_number(last_text, low, high, expression, name)
        if first > last:
            raise CronSyntaxError(expression, f"{name} range {base!r} runs backwards")
    else:
        first = _parse_number(base, low, high, expression, name)
        last = high if slash else first
    return set(range(first, last + 1, step))


def _parse_simple_field(text: str, low: int, high: int, expression: str, name: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise CronSyntaxError(expression, f"empty item in {name} field {text!r}")
        values |= _parse_plain_item(item, low, high, expression, name)
    return frozenset(values)


@dataclass(frozen=True)
class DayOfMonth:
    """The day-of-month field: plain days, ``L``, ``LW`` and ``nW`` items."""

    restricted: bool
    days: frozenset[int] = frozenset()
    last_day: bool = False  # L
    last_weekday: bool = False  # LW
    nearest_weekday: frozenset[int] = frozenset()  # nW

    def matching(self, year: int, month: int) -> frozenset[int]:
        return _dom_matching(self, year, month)


@lru_cache(maxsize=65536)
def _dom_matching(spec: DayOfMonth, year: int, month: int) -> frozenset[int]:
    """Return the days of a month that a day-of-month field selects (shared across expressions)."""
    length = calendar.monthrange(year, month)[1]
    result = {day for day in spec.days if day <= length}
    if spec.last_day:
        result.add(length)
    if spec.last_weekday:
        day = length
        while calendar.weekday(year, month, day) >= 5:
            day -= 1
        result.add(day)
    for day in spec.nearest_weekday:
        if day <= length:
            result.add(_nearest_weekday(year, month, day, length))
    return frozenset(result)


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    weekday = calendar.weekday(year, month, day)  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before when the last day
        return day + 1 if day < length else day - 2
    return day


@dataclass(frozen=True)
class DayOfWeek:
    """The day-of-week field with Sunday = 0: plain days, ``nL`` and ``n#k`` items."""

    restricted: bool
    days: frozenset[int] = frozenset()
    last_of: frozenset[int] = frozenset()  # 5L: last Friday
    nth: frozenset[tuple[int, int]] = frozenset()  # (5, 3): third Friday

    def matching(self, year: int, month: int) -> frozenset[int]:
        return _dow_matching(self, year, month)


@lru_cache(maxsize=65536)
def _dow_matching(spec: DayOfWeek, year: int, month: int) -> frozenset[int]:
    """Return the days of a month that a day-of-week field selects (shared across expressions)."""
    length = calendar.monthrange(year, month)[1]
    first_weekday = (calendar.weekday(year, month, 1) + 1) % 7  # Sunday = 0
    result: set[int] = set()
    for day in range(1, length + 1):
        weekday = (first_weekday + day - 1) % 7
        if weekday in spec.days:
            result.add(day)
        if weekday in spec.last_of and day + 7 > length:
            result.add(day)
        if (weekday, (day - 1) // 7 + 1) in spec.nth:
            result.add(day)
    return frozenset(result)


def _parse_day_of_month(text: str, expression: str) -> DayOfMonth:
    if text in ("*", "?"):
        return DayOfMonth(restricted=False)
    days: set[int] = set()
    last_day = last_weekday = False
    nearest: set[int] = set()
    for item in text.split(","):
        if item == "L":
            last_day = True
        elif item == "LW":
            last_weekday = True
        elif item.endswith("W"):
            nearest.add(_parse_number(item[:-1], 1, 31, expression, "day-of-month"))
        elif item.startswith("L"):
            raise CronSyntaxError(expression, f"day-of-month item {item!r} is not documented")
        else:
            days |= _parse_plain_item(item, 1, 31, expression, "day-of-month")
    return DayOfMonth(True, frozenset(days), last_day, last_weekday, frozenset(nearest))


def _parse_day_of_week(text: str, expression: str) -> DayOfWeek:
    if text in ("*", "?"):
        return DayOfWeek(restricted=False)
    days: set[int] = set()
    last_of: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in text.split(","):
        if item.endswith("L") and len(item) > 1:
            last_of.add(_parse_number(item[:-1], 0, 6, expression, "day-of-week"))
        elif "#" in item:
            day_text, _, count_text = item.partition("#")
            weekday = _parse_number(day_text, 0, 6, expression, "day-of-week")
            nth.add((weekday, _parse_number(count_text, 1, 5, expression, "day-of-week #")))
        elif item == "L":
            raise CronSyntaxError(expression, "'L' alone in day-of-week is not documented")
        else:
            days |= _parse_plain_item(item, 0, 6, expression, "day-of-week")
    return DayOfWeek(True, frozenset(days), frozenset(last_of), frozenset(nth))


# --- expressions -------------------------------------------------------------


@dataclass(frozen=True)
class CronExpression:
    """A parsed EasyCron expression; ``years`` is None when the year field is absent or ``*``."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    day_of_month: DayOfMonth
    months: frozenset[int]
    day_of_week: DayOfWeek
    years: frozenset[int] | None
    _days_cache: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def days(self, year: int, month: int) -> tuple[int, ...]:
        """Return the days of ``month`` on which the expression fires, sorted."""
        key = (year, month)
        cached = self._days_cache.get(key)
        if cached is not None:
            return cached
        if (self.years is not None and year not in self.years) or month not in self.months:
            result: tuple[int, ...] = ()
        else:
            dom, dow = self.day_of_month, self.day_of_week
            if dom.restricted and dow.restricted:
                # EasyCron: when both day fields are restricted, either may match.
                chosen = dom.matching(year, month) | dow.matching(year, month)
            elif dom.restricted:
                chosen = dom.matching(year, month)
            elif dow.restricted:
                chosen = dow.matching(year, month)
            else:
                chosen = set(range(1, calendar.monthrange(year, month)[1] + 1))
            result = tuple(sorted(chosen))
        self._days_cache[key] = result
        return result

    def matches_day(self, day: date) -> bool:
        """Return whether the expression fires on ``day`` at all."""
        return day.day in self.days(day.year, day.month)

    def tagged_wall_times(self, first: date, last: date) -> Iterator[datetime]:
        """Yield the fire wall times on the days ``first`` to ``last``, in order, tagged with UTC."""
        return self._wall_times(first, last, _UTC)

    def local_times(self, first: date, last: date) -> Iterator[datetime]:
        """Yield the naive local fire times on the days ``first`` to ``last`` inclusive, in order."""
        return self._wall_times(first, last, None)

    def _wall_times(self, first: date, last: date, tag) -> Iterator[datetime]:
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            for day in self.days(year, month):
                current = date(year, month, day)
                if current < first or current > last:
                    continue
                for hour in self.hours:
                    for minute in self.minutes:
                        yield datetime(year, month, day, hour, minute, tzinfo=tag)
            month += 1
            if month == 13:
                year, month = year + 1, 1


@lru_cache(maxsize=4096)
def parse_cron(text: str) -> CronExpression:
    """Parse an EasyCron expression; raise CronSyntaxError for anything undocumented."""
    fields = text.split()
    if len(fields) not in (5, 6):
        raise CronSyntaxError(text, f"expected 5 or 6 fields, found {len(fields)}")
    for position, value in enumerate(fields):
        if value == "?" and position not in (2, 4):
            raise CronSyntaxError(text, "'?' is allowed in day-of-month and day-of-week only")
    minutes = _parse_simple_field(fields[0], 0, 59, text, "minute")
    hours = _parse_simple_field(fields[1], 0, 23, text, "hour")
    day_of_month = _parse_day_of_month(fields[2], text)
    months = _parse_simple_field(fields[3], 1, 12, text, "month")
    day_of_week = _parse_day_of_week(fields[4], text)
    years = None
    if len(fields) == 6 and fields[5] != "*":
        years = _parse_simple_field(fields[5], MIN_YEAR, MAX_YEAR, text, "year")
    if day_of_month.restricted and day_of_week.restricted:
        if fields[2].startswith("*") or fields[4].startswith("*"):
            raise CronSyntaxError(
                text, "a '*/n' day field next to a restricted day field has no documented meaning"
            )
    return CronExpression(
        text=text,
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        day_of_month=day_of_month,
        months=months,
        day_of_week=day_of_week,
        years=years,
    )


# --- fire times in a zone ----------------------------------------------------


@dataclass(frozen=True)
class FireTimes:
    """The fires of an expression in a window: exact instants (UTC) and wall times to avoid."""

    instants: tuple[datetime, ...]
    nonexistent: tuple[datetime, ...] = ()
    ambiguous: tuple[datetime, ...] = ()


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# A year of a daily expression is a few hundred instants; 2048 entries keep
# memory in the tens of megabytes while one compile's repeated evaluations
# and meetings sharing an expression still hit the cache.
@lru_cache(maxsize=2048)
def fire_times(expression: str, zone: str, start: datetime, end: datetime) -> FireTimes:
    """Evaluate ``expression`` in IANA ``zone``: its fires in ``[start, end)`` (aware bounds).

    Days are iterated, not minutes, and wall times become instants by the
    zone's offset between its transitions, so the cost is one set lookup per
    month plus a subtraction per fire. Results are cached, since many
    attendees and meetings share an expression and a window.
    """
    parsed = parse_cron(expression)
    tz = _zone(zone)
    # One day of margin on each side: the window bounds are instants and the
    # zone's offset moves a wall-clock day across them.
    first_day = start.astimezone(tz).date() - timedelta(days=1)
    last_day = end.astimezone(tz).date() + timedelta(days=1)
    start_utc, end_utc = start.astimezone(_UTC), end.astimezone(_UTC)
    changes = transitions(zone, first_day.year - 1, last_day.year + 1)
    index = 0
    offset = datetime(first_day.year - 1, 1, 1, tzinfo=_UTC).astimezone(tz).utcoffset()
    instants: list[datetime] = []
    nonexistent: list[datetime] = []
    ambiguous: list[datetime] = []
    # Wall times are tagged with UTC so that comparing them costs no zone lookup.
    for wall in parsed.tagged_wall_times(first_day, last_day):
        # Wall times come in order: pass every transition whose affected
        # interval ends at or before this wall time.
        while index < len(changes) and wall >= changes[index].tagged_end:
            offset = changes[index].after
            index += 1
        if index < len(changes) and wall >= changes[index].tagged_start:
            change = changes[index]
            if start_utc <= wall - change.before < end_utc:
                (nonexistent if change.is_gap else ambiguous).append(wall.replace(tzinfo=None))
            continue
        instant = wall - offset
        if start_utc <= instant < end_utc:
            instants.append(instant)
    return FireTimes(tuple(instants), tuple(nonexistent), tuple(ambiguous))
