"""Turn calendar inputs into ``Event`` values, one per meeting.

Every VEVENT of every input is a version of its UID. The newest version of
each UID wins: the highest SEQUENCE, then the latest DTSTAMP or
LAST-MODIFIED (RFC 5546 section 2.1.5). When the newest version is
cancelled, the meeting is removed. RECURRENCE-ID overrides are resolved
the same way per occurrence and are kept unless a newer version of the
whole series replaced them.
Occurrences are expanded lazily with recurring-ical-events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import BinaryIO

import icalendar
import requests
from dateutil.rrule import rrulestr
from icalendar.prop import vDDDLists, vDDDTypes, vRecur

from . import rrule_check, timezones
from .errors import ConfigError
from .model import Address, Event, Problem
from .occurrences import OccurrenceIndex
from .past import drop_past_events
from .sources import read_inputs
from .versions import Version, describe, instant_key, read_block, tied_versions

_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
# iTIP methods an attendee sends (RFC 5546 section 1.4): they never replace the
# organizer's invite. A REPLY's PARTSTAT is applied to the invite's attendee.
_ATTENDEE_METHODS = frozenset({"REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"})


@dataclass
class CalendarLoad:
    """The meetings read from all inputs, with everything that went wrong."""

    events: list[Event] = field(default_factory=list)
    cancelled: list[tuple[str, str, str]] = field(default_factory=list)  # (uid, summary, source)
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    # UIDs of meetings left out unread because they ended before the cutoff.
    past_uids: set[str] = field(default_factory=set)
    # Every UID read, whether its meeting was built, cancelled or failed.
    uids: set[str] = field(default_factory=set)


def load_events(
    inputs: Sequence[str],
    *,
    default_timezone: str = "Asia/Kolkata",
    stdin: BinaryIO | None = None,
    session: requests.Session | None = None,
    past_cutoff: date | None = None,
) -> CalendarLoad:
    """Read the inputs and return the newest, not cancelled version of each meeting.

    With ``past_cutoff``, meetings whose every occurrence starts on a date
    before it are left out without being parsed (see ``past``) and only
    their UIDs are kept in ``past_uids``.
    """
    try:
        default_zone = timezones.zone_info(default_timezone)
    except timezones.UnknownTimezoneError:
        raise ConfigError(
            f"unknown default time zone {default_timezone!r}: use an IANA name such as Asia/Kolkata"
        ) from None

    read = read_inputs(inputs, stdin=stdin, session=session)
    load = CalendarLoad(problems=list(read.problems), sources=list(read.sources))
    written = [block.text for block in read.calendars]
    texts = written
    event_numbers: list[list[int] | None] = [None] * len(written)
    if past_cutoff is not None:
        texts, past_events = drop_past_events(written, past_cutoff)
        load.past_uids = past_events.uids
        event_numbers = past_events.event_numbers
    versions: dict[str, list[Version]] = {}
    order = 0
    for block_index, block in enumerate(read.calendars):
        reduced = event_numbers[block_index] is not None
        versions_read = read_block(
            texts[block_index],
            block.source,
            block_index,
            default_timezone,
            load.problems,
            event_numbers[block_index],
            full_text=written[block_index] if reduced else None,
        )
        for version in versions_read:
            version.order = order
            order += 1
            versions.setdefault(version.uid, []).append(version)

    load.uids = set(versions)
    # A broken block is read whole again, so some left-out meetings may have been read after all.
    load.past_uids -= load.uids
    for uid, uid_versions in versions.items():
        try:
            _resolve_uid(uid, uid_versions, default_timezone, default_zone, load)
        except Exception as error:  # noqa: BLE001 - one bad meeting must not stop the others
            source = uid_versions[-1].source
            load.problems.append(
                Problem("error", f"cannot read event {uid} in {source}: {describe(error)}", source, uid)
            )
    return load


# --- resolving versions ---------------------------------------------------


def _resolve_uid(
    uid: str, versions: list[Version], default_timezone: str, default_zone, load: CalendarLoad
) -> None:
    replies = [v for v in versions if v.method == "REPLY"]
    messages = [v for v in versions if v.method in _ATTENDEE_METHODS]
    versions = [v for v in versions if v.method not in _ATTENDEE_METHODS]
    if not versions:
        # Only attendees' messages: the organizer's invite was not among the inputs.
        source = messages[0].source
        load.problems.append(
            Problem(
                "warning",
                f"event {uid} in {source} is only an attendee's reply or proposal, not the invite;"
                " add the invite itself to schedule the meeting",
                source,
                uid,
            )
        )
        return
    masters = [v for v in versions if v.recurrence_key is None]
    newest = max(masters, key=lambda v: v.rank) if masters else None
    load.problems.extend(tied_versions(uid, versions))

    by_occurrence: dict[str, Version] = {}
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

    if newest is not None:
        for version in overrides:
            _align_recurrence_id(version, newest.component, load)

    main = newest or min(overrides, key=lambda v: _start_sort_key(v.component))
    master_component = newest.component if newest else None
    override_components = [v.component for v in overrides]
    calendar_zone = main.calendar_zone
    if calendar_zone and master_component is not None and _needs_calendar_zone(master_component):
        # Google writes a series in UTC and means the calendar's zone: the
        # series must keep its local time across DST changes.
        master_component, override_components = timezones.apply_x_wr_timezone(
            calendar_zone, master_component, override_components
        )

    local_zone_name = calendar_zone or default_timezone
    local_zone = timezones.zone_info(local_zone_name) if calendar_zone else default_zone
    event = _build_event(
        uid,
        summary,
        main,
        master_component,
        override_components,
        local_zone_name,
        local_zone,
        load,
    )
    if event is not None:
        if replies and newest is not None:
            event = _apply_replies(event, newest, replies)
        event = _with_occurrence_attendees(event, newest, overrides, override_components, replies, local_zone)
        load.events.append(event)


def _align_recurrence_id(override: Version, master: icalendar.Event, load: CalendarLoad) -> None:
    """Give a date RECURRENCE-ID of a timed series the series' time of day.

    RFC 5545 3.8.4.4 wants RECURRENCE-ID to have DTSTART's value type. A
    date there would match no occurrence and silently keep a cancelled
    one, so it is read as that day's occurrence, with a warning.
    """
    try:
        recurrence_id = override.component.decoded("RECURRENCE-ID")
        start = master.decoded("DTSTART")
    except (KeyError, ValueError, TypeError):
        return
    if isinstance(recurrence_id, datetime) or not isinstance(start, datetime):
        return
    aligned = datetime.combine(recurrence_id, start.time(), tzinfo=start.tzinfo)
    override.component.pop("RECURRENCE-ID")
    override.component.add("RECURRENCE-ID", aligned)
    load.problems.append(
        Problem(
            "warning",
            f"event {override.uid} in {override.source}: RECURRENCE-ID {recurrence_id.isoformat()} is a date"
            f" but the series is timed; read it as the occurrence at {start.strftime('%H:%M')} that day",
            override.source,
            override.uid,
        )
    )


def _apply_replies(event: Event, invite: Version, replies: list[Version]) -> Event:
    """Return the event with attendees' PARTSTAT taken from their newer REPLY messages.

    RFC 5546 section 3.2.3: a REPLY carries one attendee's response to
    the invite with the same SEQUENCE. A reply to a single occurrence
    (RECURRENCE-ID) cannot change who is called for the whole series, so
    ``_with_occurrence_attendees`` applies it to that occurrence only.
    """
    answers = _reply_answers(r for r in replies if _answers_series(r, invite))
    if not answers:
        return event
    return replace(event, attendees=_answered(event.attendees, answers))


def _with_occurrence_attendees(
    event: Event,
    invite: Version | None,
    overrides: list[Version],
    components: list[icalendar.Event],
    replies: list[Version],
    zone,
) -> Event:
    """Return the event with the attendee lists of occurrences that differ from the series'.

    An override (RECURRENCE-ID) carries its own ATTENDEE list, for its
    occurrence or, with RANGE=THISANDFUTURE, for every later one as well.
    A REPLY to one occurrence changes one PARTSTAT of that occurrence only.
    A REPLY to the whole series applies to every occurrence, overrides
    included, and the newest reply wins where both answer for one attendee.
    ``components`` are the override components as expanded (after
    X-WR-TIMEZONE), in the order of ``overrides``.
    """
    lists: dict[datetime, tuple[tuple[Address, ...], str | None, int]] = {}
    from_lists: dict[datetime, tuple[tuple[Address, ...], str | None, int]] = {}
    start_by_key: dict[str, datetime | None] = {}  # RECURRENCE-ID -> occurrence start, None: cancelled
    for version, component in zip(overrides, components):
        if str(component.get("STATUS", "")).strip().upper() == "CANCELLED":
            start_by_key[version.recurrence_key or ""] = None
            continue
        start = timezones.as_aware(component.decoded("DTSTART"), zone).astimezone(UTC)
        attendees = tuple(a for a in (_address(p) for p in _as_list(component.get("ATTENDEE"))) if a)
        target = from_lists if _this_and_future(version.component) else lists
        target[start] = (attendees, version.recurrence_key, version.sequence)
        start_by_key[version.recurrence_key or ""] = start

    if invite is not None:
        for reply in replies:
            key = reply.recurrence_key
            if key is None or key in start_by_key:
                continue
            try:
                start = timezones.as_aware(reply.component.decoded("RECURRENCE-ID"), zone).astimezone(UTC)
            except (KeyError, ValueError, TypeError):
                continue
            # A reply to an occurrence the organizer never overrode: the
            # list in force there (before replies) with this reply's answer.
            base = _invite_attendees(invite)
            for since, (attendees, _, _) in sorted(from_lists.items()):
                if since <= start:
                    base = attendees
            lists[start] = (base, key, invite.sequence)
            start_by_key[key] = start

    def answered(entry: tuple[tuple[Address, ...], str | None, int]) -> tuple[Address, ...]:
        attendees, key, sequence = entry
        answers = _reply_answers(
            r
            for r in replies
            if _answers_series(r, invite) or (r.recurrence_key == key and r.sequence >= sequence)
        )
        return _answered(attendees, answers)

    changes = [(start, answered(entry)) for start, entry in sorted(from_lists.items())]
    if all(attendees == event.attendees for _, attendees in changes):
        changes = []
    found: dict[datetime, tuple[Address, ...]] = {}
    for start, entry in lists.items():
        in_force = event.attendees
        for since, attendees in changes:
            if since <= start:
                in_force = attendees
        attendees = answered(entry)
        if attendees != in_force:
            found[start] = attendees
    if not found and not changes:
        return event
    return replace(event, occurrence_attendees=found, attendees_from=tuple(changes))


def _this_and_future(component: icalendar.Event) -> bool:
    recurrence_id = component.get("RECURRENCE-ID")
    params = getattr(recurrence_id, "params", None) or {}
    return str(params.get("RANGE", "")).strip().upper() == "THISANDFUTURE"


def _answers_series(reply: Version, invite: Version | None) -> bool:
    return invite is not None and reply.recurrence_key is None and reply.sequence >= invite.sequence


def _invite_attendees(invite: Version) -> tuple[Address, ...]:
    return tuple(a for a in (_address(p) for p in _as_list(invite.component.get("ATTENDEE"))) if a)


def _reply_answers(replies) -> dict[str, tuple[tuple, str]]:
    """Return the newest PARTSTAT per attendee key among ``replies``, with its reply's rank."""
    answers: dict[str, tuple[tuple, str]] = {}
    for reply in replies:
        for prop in _as_list(reply.component.get("ATTENDEE")):
            address = _address(prop)
            if address is None or not address.partstat:
                continue
            key = _address_key(address)
            if key not in answers or reply.rank > answers[key][0]:
                answers[key] = (reply.rank, address.partstat)
    return answers


def _answered(attendees: tuple[Address, ...], answers: dict[str, tuple[tuple, str]]) -> tuple[Address, ...]:
    return tuple(
        replace(a, partstat=answers[_address_key(a)][1]) if _address_key(a) in answers else a
        for a in attendees
    )


def _address_key(address: Address) -> str:
    return address.email or address.value.strip().lower()


def _needs_calendar_zone(component: icalendar.Event) -> bool:
    """Return True for a series whose DTSTART is in UTC or floating, which X-WR-TIMEZONE changes."""
    if "RRULE" not in component and "RDATE" not in component:
        return False
    start = component.get("DTSTART")
    value = getattr(start, "dt", None)
    if not isinstance(value, datetime):
        return False
    return value.tzinfo is None or value.utcoffset() == timedelta(0) and value.tzname() in ("UTC", "Z")


def _build_event(
    uid: str,
    summary: str,
    main: Version,
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
            try:
                moments = [item.dt[0] if isinstance(item.dt, tuple) else item.dt for item in value.dts]
            except (AttributeError, ValueError, TypeError):
                # icalendar 7 keeps a partly broken list as a property that raises on access.
                return f"has an invalid {name} {written!r}"
            if any(not isinstance(moment, date) for moment in moments):
                return f"has an {name} without a date ({written!r})"
    for rule in _as_list(component.get("RRULE")):
        if not isinstance(rule, vRecur):
            return f"has an invalid RRULE {rule.to_ical().decode(errors='replace')!r}"
        rule_error = rrule_check.rule_error(rule)
        if rule_error:
            written = rule.to_ical().decode(errors="replace")
            return (
                f"has an invalid RRULE {written!r} ({rule_error});"
                " fix the rule in the calendar app and export again"
            )
        if rule.get("RSCALE"):
            # RFC 7529 calendar scales and SKIP are not implemented by
            # recurring-ical-events 3 or dateutil.
            scale = str(rule["RSCALE"][0]).upper()
            return f"repeats by RSCALE={scale} (RFC 7529), which ics2conf cannot expand"
        if _too_dense(rule, start.dt):
            return (
                f"repeats more than {MAX_OCCURRENCES_PER_DAY} times a day"
                f" ({rule.to_ical().decode(errors='replace')}), more often than one call every 5 minutes"
            )
    return None


# One call every 5 minutes. Denser rules (FREQ=SECONDLY, a long BYMINUTE list)
# would take recurring-ical-events minutes to expand over the scheduling window.
MAX_OCCURRENCES_PER_DAY = 288


def _too_dense(rule: vRecur, start: date) -> bool:
    """Return True when the rule's first occurrences come more often than MAX_OCCURRENCES_PER_DAY."""
    frequency = str((rule.get("FREQ") or [""])[0]).upper()
    if frequency not in ("SECONDLY", "MINUTELY", "HOURLY") and not ("BYMINUTE" in rule or "BYSECOND" in rule):
        return False
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    try:
        expanded = rrulestr(rule.to_ical().decode(), dtstart=start.replace(tzinfo=None), ignoretz=True)
        first = list(islice(expanded, MAX_OCCURRENCES_PER_DAY + 1))
    except (ValueError, TypeError, OverflowError):
        return False
    return len(first) > MAX_OCCURRENCES_PER_DAY and first[-1] - first[0] < timedelta(days=1)


def _start_sort_key(component: icalendar.Event) -> str:
    try:
        return instant_key(component.decoded("DTSTART"))
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
