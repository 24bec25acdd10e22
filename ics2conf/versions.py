"""Read every VEVENT of a calendar block as one version of its UID.

A version records what ranks it against other versions of the same UID
(SEQUENCE, DTSTAMP or LAST-MODIFIED, input order), whether it cancels the
meeting, and the iTIP METHOD and X-WR-TIMEZONE of the calendar it came in.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime

import icalendar

from . import timezones
from .model import Problem

_MIN_STAMP = datetime.min.replace(tzinfo=UTC)


@dataclass
class Version:
    """One VEVENT as read from one input."""

    uid: str
    recurrence_key: str | None
    sequence: int
    stamp: datetime
    cancelled: bool
    component: icalendar.Event
    source: str
    block: int  # index of the VCALENDAR block it came from
    order: int
    calendar_zone: str | None = None  # X-WR-TIMEZONE of its calendar
    method: str = ""  # METHOD of its calendar (iTIP, RFC 5546), upper-case

    @property
    def rank(self) -> tuple:
        # A cancellation wins a full tie: RFC 5546 CANCEL messages may repeat
        # the request's SEQUENCE, and a CANCEL is always sent after it.
        return (self.sequence, self.stamp, self.cancelled, self.order)


def describe(error: Exception) -> str:
    """Return the first line of an error message, for a problem that quotes it."""
    return _first_line(str(error)) or type(error).__name__


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""


def read_block(
    text: str, source: str, block_index: int, default_timezone: str, problems: list[Problem]
) -> list[Version]:
    """Parse one VCALENDAR block and return its VEVENTs as versions, adding what went wrong to ``problems``."""
    try:
        for tzid, reason, block in timezones.register_vtimezones(text, default_timezone=default_timezone):
            text = text.replace(block, "")
            problems.append(
                Problem(
                    "warning",
                    f"{source}: VTIMEZONE {tzid!r} is invalid ({reason}); ignored it, so events using it"
                    " cannot be scheduled",
                    source,
                )
            )
        for tzid, zone in timezones.register_tzid_aliases(text):
            problems.append(
                Problem(
                    "warning",
                    f"{source}: TZID {tzid!r} is not a time zone name and has no VTIMEZONE;"
                    f" read it as {zone}",
                    source,
                )
            )
        calendars = _parse_with_repairs(text, source, problems)
    except Exception as error:  # noqa: BLE001 - icalendar raises several types on bad input
        problems.append(Problem("error", f"cannot parse {source}: {describe(error)}", source))
        return []

    found: list[Version] = []
    for calendar in calendars:
        method = str(calendar.get("METHOD", "")).strip().upper()
        calendar_zone = _calendar_zone(calendar, source, problems)
        for index, component in enumerate(calendar.walk("VEVENT")):
            try:
                version = _read_version(component, method, source, block_index, index, problems)
                version.calendar_zone = calendar_zone
                version.method = method
                found.append(version)
            except Exception as error:  # noqa: BLE001
                problems.append(
                    Problem("error", f"cannot read event #{index + 1} in {source}: {describe(error)}", source)
                )
    return found


_UNPARSABLE_LINE = re.compile(r"Content line could not be parsed into parts: '(.*)': [^']*$", re.DOTALL)
_MAX_REPAIRS = 10


def _parse_with_repairs(text: str, source: str, problems: list[Problem]) -> list[icalendar.Calendar]:
    """Parse a calendar block, dropping what makes icalendar reject the whole block.

    Lines outside any VEVENT that cannot be parsed fail the whole block in
    icalendar, and so does a broken VTIMEZONE of an IANA zone, which
    icalendar would not use anyway. Each is removed with a warning, up to
    ten times, before the block is given up.
    """
    for _ in range(_MAX_REPAIRS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as error:  # noqa: BLE001 - icalendar raises several types on bad input
            repaired, message = _repair(text, error)
            if repaired is None:
                raise
            text = repaired
            problems.append(Problem("warning", f"{source}: {message}", source))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return icalendar.Calendar.from_ical(text, multiple=True)


def _repair(text: str, error: Exception) -> tuple[str | None, str]:
    match = _UNPARSABLE_LINE.search(str(error))
    lines = text.split("\r\n")
    if match and match.group(1) in lines:
        lines.remove(match.group(1))
        return "\r\n".join(lines), f"ignored line {match.group(1)[:80]!r} that cannot be parsed"
    known = timezones.iana_vtimezone_blocks(text)
    if known:
        for tzid, block in known:
            text = text.replace(block, "")
        names = ", ".join(repr(tzid) for tzid, _ in known)
        return text, (
            f"ignored the VTIMEZONE definitions of {names} because one cannot be parsed;"
            " times in these zones follow tzdata, as they would anyway"
        )
    return None, ""


def _calendar_zone(calendar: icalendar.Calendar, source: str, problems: list[Problem]) -> str | None:
    """Return the calendar's X-WR-TIMEZONE (Google, Apple) when it names an IANA zone."""
    value = str(calendar.get("X-WR-TIMEZONE", "")).strip()
    if not value:
        return None
    try:
        timezones.zone_info(value)
    except timezones.UnknownTimezoneError:
        problems.append(
            Problem(
                "warning",
                f"{source}: unknown X-WR-TIMEZONE {value!r} ignored; times in UTC stay in UTC and floating"
                " times use the default time zone",
                source,
            )
        )
        return None
    return value


def _read_version(
    component: icalendar.Event, method: str, source: str, block: int, index: int, problems: list[Problem]
) -> Version:
    uid = str(component.get("UID", "")).strip()
    if not uid:
        # Without a UID no later export can update or cancel the meeting, so
        # the substitute is derived from what identifies it in this file.
        seed = f"{source}|{component.get('DTSTART').to_ical() if 'DTSTART' in component else ''}|"
        seed += str(component.get("SUMMARY", ""))
        uid = "no-uid-" + hashlib.sha256(seed.encode("utf-8", "replace")).hexdigest()[:16]
        problems.append(
            Problem(
                "warning",
                f"event #{index + 1} in {source} has no UID; using {uid}, which changes when the file"
                " is renamed or the event edited",
                source,
                uid,
            )
        )
    for name, message in getattr(component, "errors", []):
        # icalendar drops a line it cannot parse and records why.
        what = f"property {name}" if name else "a line"
        problems.append(
            Problem(
                "warning",
                f"event {uid} in {source}: ignored {what} that cannot be parsed ({_first_line(message)})",
                source,
                uid,
            )
        )
    recurrence_key = None
    if "RECURRENCE-ID" in component:
        recurrence_key = instant_key(component.decoded("RECURRENCE-ID"))
    status = str(component.get("STATUS", "")).strip().upper()
    return Version(
        uid=uid,
        recurrence_key=recurrence_key,
        sequence=_sequence(component),
        stamp=_stamp(component),
        cancelled=method == "CANCEL" or status == "CANCELLED",
        component=component,
        source=source,
        block=block,
        order=0,
    )


def instant_key(value: date | datetime) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if isinstance(value, datetime):
        return value.strftime("%Y%m%dT%H%M%S")
    return value.strftime("%Y%m%d")


def _sequence(component: icalendar.Event) -> int:
    try:
        return int(str(component.get("SEQUENCE", 0)).strip() or 0)
    except ValueError:
        return 0


def _stamp(component: icalendar.Event) -> datetime:
    stamps = []
    for name in ("DTSTAMP", "LAST-MODIFIED"):
        try:
            value = component.decoded(name)
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(value, datetime):
            stamps.append(value if value.tzinfo else value.replace(tzinfo=UTC))
        elif isinstance(value, date):
            stamps.append(datetime(value.year, value.month, value.day, tzinfo=UTC))
    return max(stamps, default=_MIN_STAMP)
