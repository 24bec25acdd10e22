"""Custom time zone definitions: their offsets, an equal IANA zone, a fast tzinfo.

A VTIMEZONE (RFC 5545 section 3.6.5) defines a zone by observances: each
STANDARD or DAYLIGHT part starts at DTSTART local time and repeats by its
RRULE or RDATEs, switching from TZOFFSETFROM to TZOFFSETTO. ``OffsetTable``
expands those onsets into UTC instants once. Jobs need an IANA name, so
``matching_zone`` looks for an IANA zone with the same offsets. When none
matches, ``DefinedZone`` serves the definition's own rules as a tzinfo. It
is far cheaper than dateutil's, which re-expands the rules on every call.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

# Onsets are expanded over this span. After it a DefinedZone keeps the last
# offset, so a DST definition is wrong for instants past TABLE_END.
TABLE_START = datetime(1970, 1, 1)
TABLE_END = datetime(2048, 1, 1)

# An IANA zone matches when its offsets agree at each transition of the
# definition and at the 1st and 15th of every month, 2020 to 2045, 12:00 UTC.
_SAMPLES = tuple(
    datetime(year, month, day, 12, tzinfo=UTC) for year in range(2020, 2046) for month in range(1, 13) for day in (1, 15)
)
_MATCH_START = _SAMPLES[0]
_MATCH_END = _SAMPLES[-1]
_PREFILTER = (datetime(2030, 1, 15, 12, tzinfo=UTC), datetime(2030, 7, 15, 12, tzinfo=UTC))
_UNTIL_UTC = re.compile(r"(UNTIL=\d{8}(?:T\d{6})?)Z", re.IGNORECASE)


@dataclass(frozen=True)
class OffsetTable:
    """The UTC offsets of a zone: ``initial`` before the first transition, then one per transition."""

    initial: timedelta
    instants: tuple[datetime, ...]  # aware UTC transition instants, sorted
    offsets: tuple[timedelta, ...]  # offset in effect from the matching instant on

    def offset_at(self, instant: datetime) -> timedelta:
        """Return the UTC offset in effect at an aware instant."""
        index = bisect.bisect_right(self.instants, instant) - 1
        return self.initial if index < 0 else self.offsets[index]

    def transitions_between(self, start: datetime, end: datetime) -> tuple[datetime, ...]:
        low = bisect.bisect_left(self.instants, start)
        high = bisect.bisect_left(self.instants, end)
        return self.instants[low:high]


def offset_table(component: icalendar.Timezone) -> OffsetTable | None:
    """Expand a VTIMEZONE's observances into an OffsetTable, or None when it defines none."""
    onsets: list[tuple[datetime, timedelta, timedelta]] = []
    for observance in component.walk():
        if observance.name not in ("STANDARD", "DAYLIGHT"):
            continue
        start = observance.decoded("DTSTART")
        if not isinstance(start, datetime):
            start = datetime(start.year, start.month, start.day)
        start = start.replace(tzinfo=None)
        offset_from = observance.decoded("TZOFFSETFROM")
        offset_to = observance.decoded("TZOFFSETTO")
        local_onsets = [start] + _rule_onsets(observance, start) + _rdate_onsets(observance)
        onsets.extend((onset - offset_from, offset_from, offset_to) for onset in local_onsets)
    if not onsets:
        return None
    onsets.sort(key=lambda item: item[0])
    instants: list[datetime] = []
    offsets: list[timedelta] = []
    for utc_onset, _, offset_to in onsets:
        instant = utc_onset.replace(tzinfo=UTC)
        if instants and instants[-1] == instant:
            offsets[-1] = offset_to
            continue
        instants.append(instant)
        offsets.append(offset_to)
    return OffsetTable(initial=onsets[0][1], instants=tuple(instants), offsets=tuple(offsets))


def _rule_onsets(observance, start: datetime) -> list[datetime]:
    onsets: list[datetime] = []
    for rule in _as_list(observance.get("RRULE")):
        # An observance's UNTIL is in UTC (RFC 5545 section 3.6.5) while its
        # DTSTART is local, and dateutil rejects the mix. Reading UNTIL as
        # local time moves it by hours, which never contain a yearly onset.
        text = _UNTIL_UTC.sub(r"\1", rule.to_ical().decode())
        expanded = rrulestr(text, dtstart=_late_start(rule, start))
        onsets += expanded.between(max(start, TABLE_START), TABLE_END, inc=True)
    return onsets


def _late_start(rule, start: datetime) -> datetime:
    """Move a yearly rule's DTSTART (Outlook writes 1601) to just before TABLE_START.

    dateutil expands from DTSTART; for a plain yearly rule the year of
    DTSTART changes nothing after it, so skipping centuries is safe.
    """
    simple = "COUNT" not in rule and int((rule.get("INTERVAL") or [1])[0]) == 1
    if str((rule.get("FREQ") or [""])[0]).upper() != "YEARLY" or not simple:
        return start
    if start.year >= TABLE_START.year - 1 or (start.month, start.day) == (2, 29):
        return start
    return start.replace(year=TABLE_START.year - 1)


def _rdate_onsets(observance) -> list[datetime]:
    onsets: list[datetime] = []
    for rdate in _as_list(observance.get("RDATE")):
        for item in rdate.dts:
            value = item.dt[0] if isinstance(item.dt, tuple) else item.dt
            if isinstance(value, datetime):
                onsets.append(value.replace(tzinfo=None))
            elif isinstance(value, date):
                onsets.append(datetime(value.year, value.month, value.day))
    return onsets


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def fixed_offset_table(offset: timedelta) -> OffsetTable:
    """Return the table of a zone that never changes its offset."""
    return OffsetTable(initial=offset, instants=(), offsets=())


# --- matching IANA zones --------------------------------------------------


def matching_zone(table: OffsetTable, candidates: Iterable[str]) -> str | None:
    """Return the first candidate IANA zone whose offsets equal the table's from 2020 to 2045."""
    signature = tuple(table.offset_at(t) for t in _SAMPLES)
    transitions = table.transitions_between(_MATCH_START, _MATCH_END)
    for name in candidates:
        zone = ZoneInfo(name)
        if any(table.offset_at(t) != t.astimezone(zone).utcoffset() for t in _PREFILTER):
            continue
        if _zone_signature(name) != signature:
            continue
        if all(_agrees_around(table, zone, instant) for instant in transitions):
            return name
    return None


@functools.cache
def _zone_signature(name: str) -> tuple[timedelta, ...]:
    zone = ZoneInfo(name)
    return tuple(t.astimezone(zone).utcoffset() for t in _SAMPLES)


def _agrees_around(table: OffsetTable, zone: ZoneInfo, instant: datetime) -> bool:
    for moment in (instant - timedelta(minutes=1), instant):
        if table.offset_at(moment) != moment.astimezone(zone).utcoffset():
            return False
    return True


# --- a tzinfo for definitions no IANA zone matches ------------------------


class DefinedZone(tzinfo):
    """A tzinfo that follows an OffsetTable, with PEP 495 fold handling."""

    def __init__(self, name: str, table: OffsetTable):
        self.name = name
        self.table = table
        self._distinct = sorted({table.initial, *table.offsets}, reverse=True)

    def __repr__(self) -> str:
        return f"DefinedZone({self.name!r})"

    def tzname(self, dt: datetime | None) -> str:
        return self.name

    def dst(self, dt: datetime | None) -> timedelta | None:
        # NOTE: a definition does not say which offset is "standard"; callers
        # of ics2conf only use utcoffset.
        return timedelta(0) if dt is not None else None

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        wall = dt.replace(tzinfo=None)
        consistent = [
            offset
            for offset in self._distinct
            if self.table.offset_at((wall - offset).replace(tzinfo=UTC)) == offset
        ]
        if len(consistent) == 1:
            return consistent[0]
        if consistent:
            # Ambiguous wall time after a backward jump: fold=0 is the earlier
            # instant, which has the larger offset.
            return consistent[-1] if dt.fold else consistent[0]
        # A wall time skipped by a forward jump: use the offset before the jump.
        return self.table.offset_at((wall - self._distinct[0] - timedelta(hours=12)).replace(tzinfo=UTC))

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=UTC)
        offset = self.table.offset_at(utc)
        local = (dt.replace(tzinfo=None) + offset).replace(tzinfo=self)
        if local.utcoffset() != offset:
            local = local.replace(fold=1)
        return local

