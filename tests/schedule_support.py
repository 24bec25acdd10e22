"""Build call series from .ics text for the schedule tests, expanded by recurring-ical-events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from ics2conf.model import CallSeries

UTC = timezone.utc


def ics_text(
    zone: str,
    start: datetime,
    rrule: str | None,
    *,
    exdates: tuple[datetime, ...] = (),
    rdates: tuple[datetime, ...] = (),
    overrides: tuple[tuple[datetime, datetime | None], ...] = (),
    uid: str = "meeting-1@example.com",
) -> str:
    """Return a VCALENDAR with one 30-minute event; an override of (original, None) cancels it."""

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%S")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ics2conf tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        "SUMMARY:Planning",
        f"DTSTART;TZID={zone}:{stamp(start)}",
        f"DTEND;TZID={zone}:{stamp(start + timedelta(minutes=30))}",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    for moment in exdates:
        lines.append(f"EXDATE;TZID={zone}:{stamp(moment)}")
    for moment in rdates:
        lines.append(f"RDATE;TZID={zone}:{stamp(moment)}")
    lines.append("END:VEVENT")
    for original, moved in overrides:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260101T000000Z",
            "SUMMARY:Planning",
            f"RECURRENCE-ID;TZID={zone}:{stamp(original)}",
        ]
        if moved is None:
            lines += [f"DTSTART;TZID={zone}:{stamp(original)}", "STATUS:CANCELLED"]
        else:
            lines += [
                f"DTSTART;TZID={zone}:{stamp(moved)}",
                f"DTEND;TZID={zone}:{stamp(moved + timedelta(minutes=30))}",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def occurrences_of(calendar: icalendar.Calendar, uid: str | None = None):
    """Return a function listing the start instants of a calendar's timed occurrences in [a, b)."""
    query = recurring_ical_events.of(calendar)

    def occurrences(start: datetime, end: datetime) -> list[datetime]:
        result = []
        for event in query.between(start - timedelta(days=1), end + timedelta(days=1)):
            if uid is not None and str(event.get("UID")) != uid:
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            value = event.decoded("DTSTART")
            if not isinstance(value, datetime):
                continue
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            if start <= value < end:
                result.append(value)
        return sorted(result)

    return occurrences


def series_from_ics(text: str, zone: str, uid: str = "meeting-1@example.com") -> CallSeries:
    """Return the call series of the event ``uid`` in an .ics text."""
    calendar = icalendar.Calendar.from_ical(text)
    master = next(
        c for c in calendar.walk("VEVENT") if str(c.get("UID")) == uid and "RECURRENCE-ID" not in c
    )
    first = master.decoded("DTSTART")
    if first.tzinfo is None:
        first = first.replace(tzinfo=ZoneInfo(zone))
    rrule = master.get("RRULE")
    rrule_text = rrule.to_ical().decode() if rrule is not None else None
    overridden = any(
        str(c.get("UID")) == uid and "RECURRENCE-ID" in c for c in calendar.walk("VEVENT")
    )
    return CallSeries(
        uid=uid,
        summary=str(master.get("SUMMARY", "")),
        zone=zone,
        first_call=first,
        rrule=rrule_text,
        intended=occurrences_of(calendar, uid),
        has_exceptions=overridden or "EXDATE" in master or "RDATE" in master,
    )


def make_series(zone: str, start: datetime, rrule: str | None, **kwargs) -> CallSeries:
    """Return a series for one event built from the arguments of ``ics_text``."""
    return series_from_ics(ics_text(zone, start, rrule, **kwargs), zone)
