"""Daylight-saving transitions of IANA zones, and the wall times they skip or repeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cronexpr import CronExpression

_UTC = timezone.utc


@dataclass(frozen=True)
class Transition:
    """A change of a zone's UTC offset at ``instant`` (UTC).

    ``wall_start`` is the first wall time that the change skips (gap) or
    repeats (fold), ``wall_end`` the first wall time after that interval;
    both are naive. ``tagged_start`` and ``tagged_end`` are the same wall
    times tagged with UTC, so they compare quickly with other UTC-tagged
    wall times.
    """

    instant: datetime
    before: timedelta
    after: timedelta
    wall_start: datetime = field(init=False)
    wall_end: datetime = field(init=False)
    tagged_start: datetime = field(init=False, repr=False)
    tagged_end: datetime = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tagged_start = self.instant.astimezone(_UTC) + min(self.before, self.after)
        tagged_end = self.instant.astimezone(_UTC) + max(self.before, self.after)
        object.__setattr__(self, "tagged_start", tagged_start)
        object.__setattr__(self, "tagged_end", tagged_end)
        object.__setattr__(self, "wall_start", tagged_start.replace(tzinfo=None))
        object.__setattr__(self, "wall_end", tagged_end.replace(tzinfo=None))

    @property
    def is_gap(self) -> bool:
        return self.after > self.before


def transitions(zone: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """Return the offset changes of ``zone`` from ``first_year`` to ``last_year``, inclusive."""
    found: list[Transition] = []
    for year in range(first_year, last_year + 1):
        found.extend(_year_transitions(zone, year))
    return tuple(found)


@lru_cache(maxsize=4096)
def _year_transitions(zone: str, year: int) -> tuple[Transition, ...]:
    """Return the offset changes of ``zone`` during one UTC year.

    The offset is sampled once a day and each change is narrowed to the
    minute by bisection; a zone that changes twice within one day would lose
    one change (none does in the current tz database).
    """
    tz = ZoneInfo(zone)
    cursor = datetime(year, 1, 1, tzinfo=_UTC)
    stop = datetime(year + 1, 1, 1, tzinfo=_UTC)
    step = timedelta(days=1)
    found: list[Transition] = []
    offset = cursor.astimezone(tz).utcoffset()
    while cursor < stop:
        following = cursor + step
        next_offset = following.astimezone(tz).utcoffset()
        if next_offset != offset:
            low, high = cursor, following
            while high - low > timedelta(minutes=1):
                middle = (low + (high - low) / 2).replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            found.append(Transition(high, offset, next_offset))
            offset = next_offset
        cursor = following
    return tuple(found)


def classify_local(naive: datetime, zone: ZoneInfo) -> str:
    """Return "ok", "nonexistent" (in a DST gap) or "ambiguous" (in a DST fold) for a wall time."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return "ok"
    round_trip = first.astimezone(_UTC).astimezone(zone).replace(tzinfo=None)
    return "nonexistent" if round_trip != naive else "ambiguous"


def colliding_months(
    expressions: list["CronExpression"], zone: str, start: datetime, end: datetime
) -> set[int]:
    """Return the months in which an expression fires at a skipped or repeated wall time.

    Only transitions between ``start`` and ``end`` (aware) count. The
    expressions are read without their year field.
    """
    if zone == "UTC":
        return set()
    months: set[int] = set()
    for transition in transitions(zone, start.year, end.year):
        if not start <= transition.instant < end:
            continue
        wall_start, wall_end = transition.wall_start, transition.wall_end
        days = {wall_start.date(), (wall_end - timedelta(minutes=1)).date()}
        for expression in expressions:
            for day in days:
                if not expression.matches_day(day):
                    continue
                for hour in expression.hours:
                    for minute in expression.minutes:
                        wall = datetime(day.year, day.month, day.day, hour, minute)
                        if wall_start <= wall < wall_end:
                            months.add(day.month)
    return months


def needs_utc(instant: datetime, zone: ZoneInfo) -> bool:
    """Return whether a call at ``instant`` must be carried in UTC instead of ``zone``.

    True when its wall time is repeated by a fold, or when it lies within a gap's
    length after a gap, where RFC 5545 puts an occurrence whose wall time the
    gap skips: such a time "is interpreted using the UTC offset before the gap
    in local times" (RFC 5545, 3.3.5), i.e. moved forward by the gap length.
    A meeting really set at that later wall time goes to UTC too; the instant is
    the same, so the call is still exact.
    """
    local = instant.astimezone(zone)
    naive = local.replace(tzinfo=None)
    if classify_local(naive, zone) == "ambiguous":
        return True
    before = (instant - timedelta(hours=3)).astimezone(zone).utcoffset()
    after = local.utcoffset()
    if before is not None and after is not None and after > before:
        return classify_local(naive - (after - before), zone) == "nonexistent"
    return False
