"""Turn calendar inputs into ``Event`` values, one per meeting.

Every VEVENT of every input is a version of its UID. The newest version of
each UID wins: the highest SEQUENCE, then the latest DTSTAMP or
LAST-MODIFIED (RFC 5546 section 2.1.5). When the newest version is
cancelled, the meeting is removed. RECURRENCE-ID overrides are resolved the same way per occurrence
and are kept unless a newer version of the whole series replaced them.
Occurrences are expanded lazily with recurring-ical-events.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import BinaryIO

import icalendar
import requests
from icalendar.prop import vDDDLists, vDDDTypes, vRecur

from . import timezones
from .errors import ConfigError
from .model import Address, Event, Problem
from .occurrences import OccurrenceIndex
from .sources import read_inputs

_MIN_STAMP = datetime.min.replace(tzinfo=UTC)
_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


@dataclass
class CalendarLoad:
    """The meetings read from all inputs, with everything that went wrong."""

    events: list[Event] = field(default_factory=list)
    cancelled: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, summary, source)
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class _Version:
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

    @property
    def rank(self) -> tuple:
        # A cancellation wins a full tie: RFC 5546 CANCEL messages may repeat
        # the request's SEQUENCE, and a CANCEL is always sent after it.
        return (self.sequence, self.stamp, self.cancelled, self.order)


def load_events(
    inputs: Sequence[str],
    *,
    default_timezone: str = "Asia/Kolkata",
    stdin: BinaryIO | None = None,
    session: requests.Session | None = None,
) -> CalendarLoad:
    """Read the inputs and return the newest, not cancelled version of each meeting."""
    try:
        default_zone = timezones.zone_info(default_timezone)
    except timezones.UnknownTimezoneError:
        raise ConfigError(
            f"unknown default time zone {default_timezone!r}: use an IANA name such as Asia/Kolkata"
        ) from None

    read = read_inputs(inputs, stdin=stdin, session=session)
    load = CalendarLoad(problems=list(read.problems), sources=list(read.sources))
    versions: dict[str, list[_Version]] = {}
    order = 0
    for block_index, block in enumerate(read.calendars):
        for version in _read_block(block.text, block.source, block_index, default_timezone, load.problems):
            version.order = order
            order += 1
            versions.setdefault(version.uid, []).append(version)

    for uid, uid_versions in versions.items():
        try:
            _resolve_uid(uid, uid_versions, default_timezone, default_zone, load)
        except Exception as error:  # noqa: BLE001 - one bad meeting must not stop the others
            source = uid_versions[-1].source
            load.problems.append(
                Problem("error", f"cannot read event {uid} in {source}: {_describe(error)}", source, uid)
            )
    return load


def _describe(error: Exception) -> str:
    return _first_line(str(error)) or type(error).__name__


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""


# --- reading versions -----------------------------------------------------


def _read_block(
    text: str, source: str, block_index: int, default_timezone: str, problems: list[Problem]
) -> list[_Version]:
    try:
        timezones.register_vtimezones(text, default_timezone=default_timezone)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as error:  # noqa: BLE001 - icalendar raises several types on bad input
        problems.append(Problem("error", f"cannot parse {source}: {_describe(error)}", source))
        return []

    found: list[_Version] = []
    for calendar in calendars:
        method = str(calendar.get("METHOD", "")).strip().upper()
        calendar_zone = _calendar_zone(calendar, source, problems)
        for index, component in enumerate(calendar.walk("VEVENT")):
            try:
                version = _read_version(component, method, source, block_index, index, problems)
                version.calendar_zone = calendar_zone
                found.append(version)
            except Exception as error:  # noqa: BLE001
                problems.append(
                    Problem("error", f"cannot read event #{index + 1} in {source}: {_describe(error)}", source)
                )
    return found


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
) -> _Version:
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
        recurrence_key = _instant_key(component.decoded("RECURRENCE-ID"))
    status = str(component.get("STATUS", "")).strip().upper()
    return _Version(
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


def _instant_key(value: date | datetime) -> str:
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


# --- resolving versions ---------------------------------------------------


def _resolve_uid(
    uid: str, versions: list[_Version], default_timezone: str, default_zone, load: CalendarLoad
) -> None:
    masters = [v for v in versions if v.recurrence_key is None]
    newest = max(masters, key=lambda v: v.rank) if masters else None

    by_occurrence: dict[str, _Version] = {}
    for version in versions:
        if version.recurrence_key is None:
            continue
        kept = by_occurrence.get(version.recurrence_key)
        if kept is None or version.rank > kept.rank:
            by_occurrence[version.recurrence_key] = version
    overrides = [
        v
        for v in by_occurrence.values()
        # A newer version of the whole series replaces the overrides sent
        # before it, unless they were sent together with it.
        if newest is None or v.block == newest.block or v.sequence >= newest.sequence
    ]
    overrides.sort(key=lambda v: v.recurrence_key or "")

    summary_source = newest or max(versions, key=lambda v: v.rank)
    summary = str(summary_source.component.get("SUMMARY", "")).strip()
    if newest is not None and newest.cancelled:
        load.cancelled.append((uid, summary, newest.source))
        return
    if newest is None and all(v.cancelled for v in overrides):
        load.cancelled.append((uid, summary, summary_source.source))
        return

    for version in ([newest] if newest else []) + overrides:
        for name in _TIME_PROPERTIES:
            if name not in version.component:
                continue
            tzid = timezones.unknown_tzid(version.component[name])
            if tzid:
                load.problems.append(
                    Problem(
                        "error",
                        f"unknown time zone {tzid!r} in {name} of event {uid} in {version.source}: add its"
                        " VTIMEZONE to the file or use an IANA name such as Asia/Kolkata",
                        version.source,
                        uid,
                    )
                )
                return

    for version in overrides:
        if version.cancelled and "STATUS" not in version.component:
            # A METHOD:CANCEL message for one occurrence need not carry STATUS.
            version.component["STATUS"] = "CANCELLED"

    main = newest or min(overrides, key=lambda v: _start_sort_key(v.component))
    master_component = newest.component if newest else None
    override_components = [v.component for v in overrides]
    calendar_zone = main.calendar_zone
    if calendar_zone and master_component is not None and _is_recurring(master_component):
        # Google writes a series in UTC and means the calendar's zone: the
        # series must keep its local time across DST changes.
        master_component, override_components = timezones.apply_x_wr_timezone(
            calendar_zone, master_component, override_components
        )

    local_zone_name = calendar_zone or default_timezone
    event = _build_event(
        uid,
        summary,
        main,
        master_component,
        override_components,
        local_zone_name,
        timezones.zone_info(local_zone_name) if calendar_zone else default_zone,
        load,
    )
    if event is not None:
        load.events.append(event)


def _is_recurring(component: icalendar.Event) -> bool:
    return "RRULE" in component or "RDATE" in component


def _build_event(
    uid: str,
    summary: str,
    main: _Version,
    master: icalendar.Event | None,
    overrides: list[icalendar.Event],
    local_zone_name: str,
    local_zone,
    load: CalendarLoad,
) -> Event | None:
    """Build the Event; ``local_zone`` reads floating and all-day times."""
    component = master if master is not None else main.component
    reason = _unschedulable(component)
    if reason:
        load.problems.append(
            Problem("error", f"event {uid} in {main.source} cannot be scheduled because it {reason}", main.source, uid)
        )
        return None

    start_value = component.decoded("DTSTART")
    all_day = not isinstance(start_value, datetime)
    floating = not all_day and start_value.tzinfo is None
    if all_day or floating:
        zone = timezones.canonical_zone(local_zone_name)
    else:
        tzid = component["DTSTART"].params.get("TZID")
        zone = timezones.iana_name(start_value.tzinfo, tzid=tzid, default_timezone=local_zone_name)
        if zone == timezones.UTC_ZONE and main.calendar_zone:
            zone = timezones.canonical_zone(main.calendar_zone)
        zone = zone or timezones.UTC_ZONE
    start = timezones.as_aware(start_value, local_zone)

    rrule = None
    rrules = component.get("RRULE") if master is not None else None
    if isinstance(rrules, list):
        rrule = rrules[0].to_ical().decode()
    elif rrules is not None:
        rrule = rrules.to_ical().decode()

    has_exceptions = bool(overrides) or "EXDATE" in component or "RDATE" in component
    has_exceptions = has_exceptions or isinstance(rrules, list) and len(rrules) > 1
    index = OccurrenceIndex(
        master=master,
        overrides=overrides,
        default_zone=local_zone,
    )
    return Event(
        uid=uid,
        summary=summary,
        source=main.source,
        zone=zone,
        start=start,
        rrule=rrule,
        all_day=all_day,
        organizer=_address(component.get("ORGANIZER")),
        attendees=tuple(a for a in (_address(p) for p in _as_list(component.get("ATTENDEE"))) if a),
        sequence=main.sequence,
        has_exceptions=has_exceptions,
        occurrences=index,
    )


def _unschedulable(component: icalendar.Event) -> str | None:
    """Return why the event's start or rule cannot be read, or None."""
    start = component.get("DTSTART")
    if start is None:
        return "has no DTSTART"
    if isinstance(start, list):
        return f"has {len(start)} DTSTART properties (keep one)"
    if not isinstance(start, vDDDTypes):
        return f"has an invalid DTSTART {start.to_ical().decode(errors='replace')!r}"
    if not isinstance(start.dt, date):
        return f"has a DTSTART without a date ({start.to_ical().decode(errors='replace')!r})"
    for name in ("RDATE", "EXDATE"):
        for value in _as_list(component.get(name)):
            # A broken EXDATE could hide a cancelled occurrence, so it stops the event.
            written = value.to_ical().decode(errors="replace")
            if not isinstance(value, vDDDLists):
                return f"has an invalid {name} {written!r}"
            for item in value.dts:
                moment = item.dt[0] if isinstance(item.dt, tuple) else item.dt
                if not isinstance(moment, date):
                    return f"has an {name} without a date ({written!r})"
    for rule in _as_list(component.get("RRULE")):
        if not isinstance(rule, vRecur):
            return f"has an invalid RRULE {rule.to_ical().decode(errors='replace')!r}"
        if rule.get("RSCALE"):
            # RFC 7529 calendar scales and SKIP are not implemented by
            # recurring-ical-events 3 or dateutil.
            scale = str(rule["RSCALE"][0]).upper()
            return f"repeats by RSCALE={scale} (RFC 7529), which ics2conf cannot expand"
    return None


def _start_sort_key(component: icalendar.Event) -> str:
    try:
        return _instant_key(component.decoded("DTSTART"))
    except (KeyError, ValueError, TypeError):
        return "~"


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _address(prop) -> Address | None:
    if prop is None:
        return None
    value = str(prop).strip()
    if not value:
        return None
    params = getattr(prop, "params", {}) or {}

    def param(name: str, upper: bool = True) -> str | None:
        raw = params.get(name)
        if raw is None:
            return None
        text = str(raw).strip()
        return (text.upper() if upper else text) or None

    lowered = value.lower()
    if not lowered.startswith(("mailto:", "tel:")) and param("EMAIL", upper=False):
        # RFC 6638 EMAIL: servers that address attendees by URN (urn:uuid:...)
        # give the person's email in this parameter.
        value = "mailto:" + param("EMAIL", upper=False)
    return Address(
        value=value,
        name=param("CN", upper=False),
        partstat=param("PARTSTAT"),
        role=param("ROLE"),
        cutype=param("CUTYPE"),
    )
