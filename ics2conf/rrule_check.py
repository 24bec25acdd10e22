"""Validate RRULE values against RFC 5545 section 3.3.10 before expansion.

dateutil and recurring-ical-events accept rules that the RFC forbids and
then loop forever (``INTERVAL=0``), fire on other days than the rule states
(``BYMONTHDAY=0`` reads as daily) or fail with an unrelated message
("UNTIL parameter is missing"). ``rule_error`` names the first forbidden
part so the event can be rejected with a message the user can act on.
``rule_warnings`` finds rules that are valid but can never occur.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from icalendar.prop import vRecur

FREQUENCIES = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# (part, lowest, highest, whether negative values -highest..-lowest are allowed)
_RANGES = (
    ("BYSECOND", 0, 60, False),
    ("BYMINUTE", 0, 59, False),
    ("BYHOUR", 0, 23, False),
    ("BYMONTHDAY", 1, 31, True),
    ("BYYEARDAY", 1, 366, True),
    ("BYWEEKNO", 1, 53, True),
    ("BYMONTH", 1, 12, False),
    ("BYSETPOS", 1, 366, True),
)
_WEEKDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
# The maximum number of days of each month, counting 29 February.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def rule_error(rule: vRecur) -> str | None:
    """Return the first part of ``rule`` that RFC 5545 forbids, as ``PART=value: what is allowed``, or None."""
    frequencies = _values(rule, "FREQ")
    if not frequencies:
        return "FREQ is missing: add FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"
    frequency = str(frequencies[0]).upper()
    if frequency not in FREQUENCIES:
        return f"FREQ={frequency} is not a known frequency: use one of {', '.join(FREQUENCIES)}"

    for interval in _values(rule, "INTERVAL"):
        number = _integer(interval)
        if number is None or number < 1:
            return f"INTERVAL={interval} is invalid: INTERVAL must be 1 or more"
    for count in _values(rule, "COUNT"):
        number = _integer(count)
        if number is None or number < 1:
            return f"COUNT={count} is invalid: COUNT must be 1 or more"
    if _values(rule, "COUNT") and _values(rule, "UNTIL"):
        return "COUNT and UNTIL are both given: keep one of them"

    for part, low, high, negative in _RANGES:
        for value in _values(rule, part):
            number = _integer(value)
            allowed = number is not None and (
                low <= number <= high or negative and -high <= number <= -low
            )
            if not allowed:
                span = f"{low} to {high}" + (f" or -{high} to -{low}" if negative else "")
                return f"{part}={value} is out of range: {part} must be {span}"

    for value in _values(rule, "BYDAY"):
        match = _WEEKDAY.match(str(value).strip().upper())
        if not match:
            return f"BYDAY={value} is invalid: use a weekday such as MO or an ordinal weekday such as -1FR"
        if match[2] is None:
            continue
        ordinal = int(match[2])
        if not 1 <= ordinal <= 53:
            return f"BYDAY={value} is out of range: the ordinal before the weekday must be 1 to 53 or -53 to -1"
        if frequency not in ("MONTHLY", "YEARLY"):
            return (
                f"BYDAY={value} has an ordinal, which RFC 5545 allows only with FREQ=MONTHLY or YEARLY:"
                f" drop the number or change FREQ={frequency}"
            )
    for value in _values(rule, "WKST"):
        if str(value).strip().upper() not in WEEKDAYS:
            return f"WKST={value} is not a weekday: use one of {', '.join(WEEKDAYS)}"
    return None


def rule_warnings(rule: vRecur, start: date | datetime | None) -> list[str]:
    """Return why a valid ``rule`` starting at ``start`` adds no occurrence; empty when it may add some."""
    found: list[str] = []
    months = [m for m in (_integer(v) for v in _values(rule, "BYMONTH")) if m is not None and 1 <= m <= 12]
    days = [d for d in (_integer(v) for v in _values(rule, "BYMONTHDAY")) if d is not None and d != 0]
    if months and days and not any(abs(day) <= _MONTH_DAYS[month - 1] for month in months for day in days):
        found.append(
            f"BYMONTH={_joined(months)} has no day BYMONTHDAY={_joined(days)},"
            " so the rule adds no occurrence after DTSTART"
        )
    for until in _values(rule, "UNTIL"):
        if start is not None and _before(until, start):
            found.append(f"UNTIL={_written(until)} is before DTSTART, so the series has no occurrence")
    return found


def _values(rule: vRecur, part: str) -> list:
    value = rule.get(part)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _integer(value) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _joined(numbers: Iterable[int]) -> str:
    return ",".join(str(n) for n in numbers)


def _written(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y%m%dT%H%M%S") + ("Z" if value.tzinfo is not None else "")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value)


def _before(until, start: date | datetime) -> bool:
    """Return True when ``until`` is before ``start``; dates compare by day, naive times as written."""
    if not isinstance(until, date):
        return False
    if not isinstance(until, datetime) or not isinstance(start, datetime):
        until_day = until.date() if isinstance(until, datetime) else until
        start_day = start.date() if isinstance(start, datetime) else start
        return until_day < start_day
    if (until.tzinfo is None) != (start.tzinfo is None):
        # A floating start with a UTC UNTIL: compare the wall-clock times.
        return until.replace(tzinfo=None) < start.replace(tzinfo=None)
    return until < start
