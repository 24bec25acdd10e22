"""RRULE hints to cron field candidates, and the last occurrence of a bounded rule.

A candidate is a proposal only: the schedule compiler evaluates it and
compares its fires with the series' intended call instants before using it.
Rules that cron cannot carry exactly give no candidate (None):

- INTERVAL > 1 except MONTHLY with an interval that divides 12 (the months
  then repeat every year, so ``*/3``-like month lists are exact);
- BYSETPOS, BYWEEKNO, BYYEARDAY, and FREQ finer than DAILY;
- BYMONTHDAY together with BYDAY (RFC 5545 intersects them, cron would
  unite them: when both day fields are restricted a day matches if either
  matches);
- negative BYMONTHDAY other than -1, and BYDAY ordinals other than 1..5 and
  -1 (EasyCron documents only ``L``, ``nL`` and ``n#k``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

# RFC 5545 weekday codes to cron's day-of-week numbers (Sunday = 0).
CRON_WEEKDAY = {"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}

_UNSUPPORTED_PARTS = ("BYSETPOS", "BYWEEKNO", "BYYEARDAY", "RSCALE", "SKIP")


@dataclass(frozen=True)
class Rule:
    """The parts of an RRULE value the compiler reads."""

    text: str
    freq: str
    interval: int
    count: int | None
    until: str | None
    by_day: tuple[tuple[int | None, int], ...]  # (ordinal or None, cron weekday)
    by_month_day: tuple[int, ...]
    by_month: tuple[int, ...]
    by_hour: tuple[int, ...]
    by_minute: tuple[int, ...]
    unsupported: tuple[str, ...]  # parts present that cron cannot carry

    @property
    def bounded(self) -> bool:
        return self.count is not None or self.until is not None


def parse_rule(text: str) -> Rule | None:
    """Parse an RRULE value such as ``FREQ=WEEKLY;BYDAY=MO``; return None when unreadable."""
    parts: dict[str, str] = {}
    for item in text.strip().removeprefix("RRULE:").split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            return None
        parts[key.strip().upper()] = value.strip().upper()
    try:
        by_day = tuple(_parse_by_day(item) for item in _split(parts.get("BYDAY")))
        rule = Rule(
            text=text,
            freq=parts.get("FREQ", ""),
            interval=int(parts.get("INTERVAL", "1")),
            count=int(parts["COUNT"]) if "COUNT" in parts else None,
            until=parts.get("UNTIL"),
            by_day=by_day,
            by_month_day=tuple(int(v) for v in _split(parts.get("BYMONTHDAY"))),
            by_month=tuple(int(v) for v in _split(parts.get("BYMONTH"))),
            by_hour=tuple(int(v) for v in _split(parts.get("BYHOUR"))),
            by_minute=tuple(int(v) for v in _split(parts.get("BYMINUTE"))),
            unsupported=tuple(key for key in _UNSUPPORTED_PARTS if key in parts),
        )
    except (ValueError, KeyError):
        return None
    if rule.freq not in ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return None
    return rule


def _split(value: str | None) -> list[str]:
    return [item for item in (value or "").split(",") if item]


def _parse_by_day(item: str) -> tuple[int | None, int]:
    code = item[-2:]
    if code not in CRON_WEEKDAY:
        raise ValueError(item)
    ordinal_text = item[:-2]
    return (int(ordinal_text) if ordinal_text else None, CRON_WEEKDAY[code])


# --- candidates ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Cron fields (no year) whose fires are a rule's occurrences.

    ``day_fields`` lists (day-of-month, day-of-week) pairs, one expression
    each, because EasyCron documents ``L`` and ``#`` as single items only.
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    day_fields: tuple[tuple[str, str], ...]

    def expressions(self, months: tuple[int, ...] | None = None, years: str | None = None) -> list[str]:
        """Return one expression per day-field pair, with ``months`` and ``years`` when given."""
        month_field = format_values(months if months is not None else self.months, 1, 12)
        result = []
        for dom, dow in self.day_fields:
            fields = [format_values(self.minutes, 0, 59), format_values(self.hours, 0, 23), dom, month_field, dow]
            if years is not None:
                fields.append(years)
            result.append(" ".join(fields))
        return result


def format_values(values, low: int, high: int) -> str:
    """Render a set of numbers as a cron list, with ``a-b`` for runs of three or more."""
    ordered = sorted(set(values))
    if ordered == list(range(low, high + 1)):
        return "*"
    items: list[str] = []
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - index >= 2:
            items.append(f"{ordered[index]}-{ordered[end]}")
        else:
            items.extend(str(value) for value in ordered[index:end + 1])
        index = end + 1
    return ",".join(items)


def candidates_for(rule: Rule, first_local: datetime) -> list[Candidate]:
    """Return cron fields that may carry ``rule`` from its first call ``first_local``, best first.

    When the first call's weekday is not in BYDAY but the next day's is, a
    lead time may have moved every call across midnight to the previous day,
    so a candidate shifted by one weekday follows the plain one. The plain one
    still comes first: RFC 5545 counts a DTSTART that does not match the rule
    as an occurrence, and the rest of the series then follows BYDAY.
    """
    result = []
    for shift in (0, -1):
        candidate = candidate_for(rule, first_local, shift)
        if candidate is not None and candidate not in result:
            result.append(candidate)
    return result


def candidate_for(rule: Rule, first_local: datetime, shift: int = 0) -> Candidate | None:
    """Return cron fields carrying ``rule`` from ``first_local`` (zone wall time), BYDAY moved by ``shift`` days."""
    if rule.unsupported or rule.freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return None
    if rule.by_month_day and rule.by_day:
        return None
    months = tuple(sorted(set(rule.by_month))) if rule.by_month else tuple(range(1, 13))
    if rule.interval != 1:
        if rule.freq != "MONTHLY" or 12 % rule.interval or rule.by_month:
            return None
        months = tuple(m for m in range(1, 13) if (m - first_local.month) % rule.interval == 0)
    if rule.freq == "YEARLY" and not (rule.by_month or rule.by_month_day or rule.by_day):
        months = (first_local.month,)

    day_fields = _day_fields(rule, first_local, shift)
    if day_fields is None:
        return None
    minutes = tuple(sorted(set(rule.by_minute))) if rule.by_minute else (first_local.minute,)
    hours = tuple(sorted(set(rule.by_hour))) if rule.by_hour else (first_local.hour,)
    if not all(0 <= m <= 59 for m in minutes) or not all(0 <= h <= 23 for h in hours):
        return None
    return Candidate(minutes, hours, months, day_fields)


def _day_fields(rule: Rule, first_local: datetime, shift: int) -> tuple[tuple[str, str], ...] | None:
    weekday = (first_local.weekday() + 1) % 7  # Sunday = 0
    if shift and not rule.by_day:
        return None
    if rule.by_month_day:
        if rule.freq == "WEEKLY":
            return None  # RFC 5545 forbids BYMONTHDAY with WEEKLY
        positive = sorted({d for d in rule.by_month_day if 1 <= d <= 31})
        pairs = []
        if positive:
            pairs.append((format_values(positive, 1, 31), "*"))
        negative = {d for d in rule.by_month_day if d < 0}
        if negative - {-1} or any(d == 0 or d > 31 or d < -31 for d in rule.by_month_day):
            return None
        if -1 in negative:
            pairs.append(("L", "*"))
        return tuple(pairs)

    if rule.by_day:
        plain = sorted({day for ordinal, day in rule.by_day if ordinal is None})
        ordinals = sorted({(ordinal, day) for ordinal, day in rule.by_day if ordinal is not None})
        if ordinals and not (rule.freq == "MONTHLY" or (rule.freq == "YEARLY" and rule.by_month)):
            return None
        if shift and (ordinals or weekday in plain or (weekday - shift) % 7 not in plain):
            return None
        pairs = []
        if plain:
            pairs.append(("*", format_values([(d + shift) % 7 for d in plain], 0, 6)))
        for ordinal, day in ordinals:
            if 1 <= ordinal <= 5:
                pairs.append(("*", f"{day}#{ordinal}"))
            elif ordinal == -1:
                pairs.append(("*", f"{day}L"))
            else:
                return None
        return tuple(pairs)

    if rule.freq == "DAILY":
        return (("*", "*"),)
    if rule.freq == "WEEKLY":
        return (("*", str(weekday)),)
    return ((str(first_local.day), "*"),)


# --- rule end ------------------------------------------------------------------

_MAX_EXPANDED = 100_000


@lru_cache(maxsize=4096)
def last_occurrence(rule: Rule, first_local: datetime, zone: ZoneInfo) -> datetime | None:
    """Return the wall time of a bounded rule's last occurrence, or None when it never ends.

    The rule is expanded in wall-clock time from ``first_local``, as RFC 5545
    expands a DTSTART with a TZID. A UTC UNTIL is converted to the zone's
    wall time first; a date-only UNTIL includes that whole day.
    """
    if not rule.bounded:
        return None
    text = ";".join(
        part for part in rule.text.strip().removeprefix("RRULE:").split(";")
        if part and not part.upper().startswith("UNTIL=")
    )
    if rule.until is not None:
        text += ";UNTIL=" + _until_wall_time(rule.until, zone).strftime("%Y%m%dT%H%M%S")
    expanded = rrulestr(text, dtstart=first_local.replace(tzinfo=None, second=0, microsecond=0))
    last = None
    for index, occurrence in enumerate(expanded):
        last = occurrence
        if index >= _MAX_EXPANDED:
            return None
    return last


def _until_wall_time(until: str, zone: ZoneInfo) -> datetime:
    if "T" not in until:
        day = datetime.strptime(until[:8], "%Y%m%d")
        return day + timedelta(days=1) - timedelta(seconds=1)
    moment = datetime.strptime(until.rstrip("Z")[:15], "%Y%m%dT%H%M%S")
    if until.endswith("Z"):
        return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return moment


def month_start(day: date) -> date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)
