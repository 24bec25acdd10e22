"""Read every VEVENT of a calendar block as one version of its UID.

A version records what ranks it against other versions of the same UID,
whether it cancels the meeting, and the iTIP METHOD and X-WR-TIMEZONE of the
calendar it came in. Versions rank by SEQUENCE, then the later of DTSTAMP
and LAST-MODIFIED (RFC 5546 section 2.1.5), then cancellation, then
LAST-MODIFIED alone, CREATED, and last a SHA-256 hash of the VEVENT's
properties. Because of the hash, the choice between two different versions
that tie on everything else does not depend on the order of the inputs.
``tied_versions`` warns about such pairs.
"""

from __future__ import annotations

import functools
import hashlib
import re
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import icalendar
from icalendar.parser import Contentline
from icalendar.prop import vRecur

from . import rrule_check, timezones
from .model import Problem
from .sources import BOUNDARY_LINE

_MIN_STAMP = datetime.min.replace(tzinfo=UTC)


class UnreadableEvent(ValueError):
    """A VEVENT whose UID is known but which cannot be read as a version of it."""

    def __init__(self, uid: str, reason: str):
        super().__init__(f"event {uid} {reason}")
        self.uid = uid
        self.reason = reason


# Broken values of these properties stop the event with an error when it is built.
_ERROR_PROPERTIES = frozenset({"DTSTART", "RRULE", "RDATE", "EXDATE"})


@functools.total_ordering
class ContentHash:
    """The SHA-256 of a VEVENT's own properties, computed when a comparison first needs it.

    On the benchmark exports, serialising every VEVENT took about 40% as long
    as parsing the file, and the hash only decides between versions that tie
    on everything else.
    NOTE: the text is the component as it is at the first comparison, so
    compare versions before changing their components (``calendar`` does).
    """

    __slots__ = ("_component", "_digest")

    def __init__(self, component: icalendar.Event | None = None, digest: str | None = None):
        self._component = component
        self._digest = digest

    @property
    def digest(self) -> str:
        if self._digest is None:
            component, self._component = self._component, None
            self._digest = _content_digest(component) if component is not None else ""
        return self._digest

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentHash):
            return NotImplemented
        return self.digest == other.digest

    def __lt__(self, other: ContentHash) -> bool:
        return self.digest < other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"ContentHash({self.digest[:12]})"


def _content_digest(component: icalendar.Event) -> str:
    """Return the SHA-256 of the component's own properties, leaving out its subcomponents.

    Subcomponents (VALARM) do not change a call. Leaving them out keeps the
    cost linear in the file size when broken files nest VEVENTs in each other.
    """
    digest = hashlib.sha256()
    for name, value in component.property_items(recursive=False):
        if name in ("BEGIN", "END"):
            continue
        written = value.to_ical() if hasattr(value, "to_ical") else str(value).encode("utf-8", "replace")
        digest.update(name.encode("utf-8", "replace") + b":" + written + b"\r\n")
    return digest.hexdigest()


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
    last_modified: datetime = _MIN_STAMP
    created: datetime = _MIN_STAMP
    content_hash: ContentHash = ContentHash(digest="")

    @property
    def rank(self) -> tuple:
        # A cancellation wins a tie of SEQUENCE and stamp: RFC 5546 CANCEL
        # messages may repeat the request's SEQUENCE, and a CANCEL is always
        # sent after it. The input order is deliberately not part of the rank.
        return (self.sequence, self.stamp, self.cancelled, self.last_modified, self.created, self.content_hash)


def describe(error: Exception) -> str:
    """Return the first line of an error message, for a problem that quotes it."""
    return _first_line(str(error)) or type(error).__name__


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else ""


def read_block(
    text: str,
    source: str,
    block_index: int,
    default_timezone: str,
    problems: list[Problem],
    event_numbers: list[int] | None = None,
    full_text: str | None = None,
) -> list[Version]:
    """Parse one VCALENDAR block and return its VEVENTs as versions, adding what went wrong to ``problems``.

    Identical problems of the block are reported once, with a count.
    When ``text`` has VEVENTs left out (see ``past.drop_past_events``),
    ``event_numbers`` gives the original number of each VEVENT left, so
    messages still count events as the file does, and ``full_text`` is the
    block as written. If ``text`` needs a repair or does not parse, the
    block is read again from ``full_text``, so a broken file is read and
    reported exactly as it would be without leaving anything out.
    """
    block_problems: list[Problem] = []
    versions = _read_block(text, source, block_index, default_timezone, block_problems, event_numbers)
    if versions is None:
        block_problems = []
        versions = _read_block(full_text or text, source, block_index, default_timezone, block_problems) or []
    problems.extend(collapse_repeats(block_problems))
    return versions


def collapse_repeats(problems: list[Problem]) -> list[Problem]:
    """Return ``problems`` in order with identical ones merged into the first, which gets a count."""
    counts: dict[Problem, int] = {}
    for problem in problems:
        counts[problem] = counts.get(problem, 0) + 1
    return [
        problem if count == 1 else replace(problem, message=f"{problem.message} ({count} times)")
        for problem, count in counts.items()
    ]


def _read_block(
    text: str,
    source: str,
    block_index: int,
    default_timezone: str,
    problems: list[Problem],
    event_numbers: list[int] | None = None,
) -> list[Version] | None:
    """Read a block; with ``event_numbers``, return None when the text did not read cleanly."""
    reduced = event_numbers is not None
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
        before_repairs = len(problems)
        calendars = _parse_with_repairs(text, source, problems)
    except Exception as error:  # noqa: BLE001 - icalendar raises several types on bad input
        if reduced:
            return None
        problems.append(Problem("error", f"cannot parse {source}: {describe(error)}", source))
        return []
    if reduced and (len(problems) > before_repairs or not calendars):
        return None
    if not calendars:
        # icalendar returns nothing, without an error, when a line it reads as
        # BEGIN (such as " BEGIN:X" or "B EGIN:X") opens a component that never ends.
        problems.append(
            Problem(
                "error",
                f"cannot parse {source}: icalendar found no complete VCALENDAR in it; look for a BEGIN line"
                " that has no matching END, such as one with spaces in or before BEGIN",
                source,
            )
        )
        return []

    found: list[Version] = []
    missing_uids: list[tuple[int, str]] = []  # (event index, substitute UID)
    for calendar in calendars:
        method = str(calendar.get("METHOD", "")).strip().upper()
        calendar_zone = _calendar_zone(calendar, source, problems)
        components = calendar.walk("VEVENT")
        if reduced and len(event_numbers) != len(components):
            return None
        numbers = event_numbers if reduced else None
        for walked, component in enumerate(components):
            index = numbers[walked] if numbers is not None else walked
            try:
                version = _read_version(component, method, source, block_index, index, problems, missing_uids)
                version.calendar_zone = calendar_zone
                version.method = method
                found.append(version)
            except UnreadableEvent as error:
                problems.append(Problem("error", f"event {error.uid} in {source} {error.reason}", source, error.uid))
            except Exception as error:  # noqa: BLE001
                problems.append(
                    Problem("error", f"cannot read event #{index + 1} in {source}: {describe(error)}", source)
                )
    problems.extend(_missing_uid_problems(missing_uids, source))
    return found


def _missing_uid_problems(missing_uids: list[tuple[int, str]], source: str) -> list[Problem]:
    """Report events without UID: one warning each for a few, one warning in all for many."""
    if len(missing_uids) <= _MAX_LISTED_MISSING_UIDS:
        return [
            Problem(
                "warning",
                f"event #{index + 1} in {source} has no UID; using {uid}, which changes when the file"
                " is renamed or the event edited",
                source,
                uid,
            )
            for index, uid in missing_uids
        ]
    listed = ", ".join(f"#{index + 1}" for index, _ in missing_uids[:_MAX_LISTED_MISSING_UIDS])
    return [
        Problem(
            "warning",
            f"{len(missing_uids)} events in {source} have no UID (events {listed}, ...); using substitute UIDs"
            f" such as {missing_uids[0][1]}, which change when the file is renamed or the event edited",
            source,
        )
    ]


_UNPARSABLE_LINE = re.compile(r"Content line could not be parsed into parts: '(.*)': [^']*$", re.DOTALL)
_MAX_REPAIRS = 10
_MAX_LISTED_MISSING_UIDS = 5


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
    if match:
        bad = _unparsable_strict_lines(lines)
        if not bad and match.group(1) in lines:
            bad = [lines.index(match.group(1))]
        if bad:
            first = lines[bad[0]]
            for index in reversed(bad):
                del lines[index]
            if len(bad) == 1:
                return "\r\n".join(lines), f"ignored line {first[:80]!r} that cannot be parsed"
            return "\r\n".join(lines), f"ignored {len(bad)} lines that cannot be parsed, the first {first[:80]!r}"
    broken_alarms = _broken_alarm_blocks(text)
    if broken_alarms:
        for block in broken_alarms:
            text = text.replace(block, "", 1)
        return text, (
            f"ignored {len(broken_alarms)} VALARM reminder(s) that cannot be parsed ({describe(error)});"
            " reminders do not change calls"
        )
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


# icalendar records a property it cannot parse in these components and reads
# on; anywhere else (VCALENDAR, VTIMEZONE, VALARM) the whole calendar fails.
_LENIENT_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})


def _unparsable_strict_lines(lines: list[str]) -> list[int]:
    """Return the indexes of the lines outside lenient components that icalendar cannot split.

    All of them are removed in one repair, so a file with many such lines
    is not given up after ten, and a harmless copy of the same text inside
    a VEVENT stays.
    """
    bad: list[int] = []
    stack: list[str] = []
    for index, line in enumerate(lines):
        boundary = BOUNDARY_LINE.fullmatch(line)
        if boundary:
            if boundary[1].upper() == "BEGIN":
                stack.append(boundary[2].upper())
            elif stack:
                stack.pop()
            continue
        if not line or (stack and stack[-1] in _LENIENT_COMPONENTS):
            continue
        try:
            Contentline(line).parts()
        except ValueError:
            bad.append(index)
    return bad


_VALARM_BLOCK = re.compile(r"^BEGIN:VALARM\r\n.*?^END:VALARM\r\n", re.MULTILINE | re.DOTALL | re.IGNORECASE)


def _broken_alarm_blocks(text: str) -> list[str]:
    """Return the VALARM blocks that icalendar rejects on their own.

    icalendar reads an unparsable property of a VEVENT as a recorded error,
    but an unparsable property of a VALARM fails the whole calendar.
    """
    broken = []
    for match in _VALARM_BLOCK.finditer(text):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                icalendar.Alarm.from_ical(match.group(0))
        except Exception:  # noqa: BLE001 - icalendar raises several types on bad input
            broken.append(match.group(0))
    return broken


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
    component: icalendar.Event,
    method: str,
    source: str,
    block: int,
    index: int,
    problems: list[Problem],
    missing_uids: list[tuple[int, str]],
) -> Version:
    written_uid = component.get("UID", "")
    if isinstance(written_uid, list):
        # RFC 5545 allows one UID per VEVENT; icalendar returns a list for several.
        problems.append(
            Problem(
                "warning",
                f"event #{index + 1} in {source} has {len(written_uid)} UID lines; using the first,"
                f" {str(written_uid[0]).strip()}",
                source,
            )
        )
        written_uid = written_uid[0]
    uid = str(written_uid).strip()
    if not uid:
        # Without a UID no later export can update or cancel the meeting, so
        # the substitute is derived from what identifies it in this file.
        seed = f"{source}|{component.get('DTSTART').to_ical() if 'DTSTART' in component else ''}|"
        seed += str(component.get("SUMMARY", ""))
        uid = "no-uid-" + hashlib.sha256(seed.encode("utf-8", "replace")).hexdigest()[:16]
        missing_uids.append((index, uid))
    _keep_first_of_repeated(component, uid, source, problems)
    for name, message in getattr(component, "errors", []):
        # icalendar drops a line it cannot parse and records why. A broken
        # start or rule is not ignored: building the event reports it as an error.
        if str(name).upper() in _ERROR_PROPERTIES:
            continue
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
    if isinstance(component.get("RECURRENCE-ID"), list):
        raise UnreadableEvent(
            uid,
            f"has {len(component['RECURRENCE-ID'])} RECURRENCE-ID properties; keep the one of the occurrence"
            " this override replaces",
        )
    if "RECURRENCE-ID" in component:
        recurrence_key = instant_key(component.decoded("RECURRENCE-ID"))
    status = str(component.get("STATUS", "")).strip().upper()
    _check_times(component, uid, source, problems)
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
        last_modified=_stamp(component, ("LAST-MODIFIED",)),
        created=_stamp(component, ("CREATED",)),
        content_hash=ContentHash(component),
    )


# Properties RFC 5545 allows once per VEVENT that reading a version uses.
# icalendar returns a list when one is repeated.
# DTSTART and RECURRENCE-ID are left out on purpose: with two of them the time
# to call, or the occurrence replaced, is unknown, so such an event is an error.
_SINGLE_VALUED = (
    "DTEND", "DURATION", "SEQUENCE", "STATUS", "SUMMARY", "DTSTAMP", "LAST-MODIFIED", "CREATED", "ORGANIZER",
)


def _keep_first_of_repeated(component: icalendar.Event, uid: str, source: str, problems: list[Problem]) -> None:
    """Keep the first of a repeated single-valued property, with a warning, so the event can still be read."""
    for name in _SINGLE_VALUED:
        value = component.get(name)
        if not isinstance(value, list) or not value:
            continue
        component[name] = value[0]
        problems.append(
            Problem(
                "warning",
                f"event {uid} in {source} has {len(value)} {name} lines; using the first,"
                f" {_first_line(value[0].to_ical().decode('utf-8', 'replace')) if hasattr(value[0], 'to_ical') else value[0]}",
                source,
                uid,
            )
        )


def _check_times(component: icalendar.Event, uid: str, source: str, problems: list[Problem]) -> None:
    """Warn about times that leave the event without a call, and drop a DTEND before DTSTART."""
    try:
        start = component.decoded("DTSTART")
    except (KeyError, ValueError, TypeError):
        start = None
    if isinstance(start, list):
        start = None  # several DTSTARTs: reading the event reports them as an error
    if start is not None and "DTEND" in component:
        try:
            end = component.decoded("DTEND")
            backwards = _comparable(end, start) < _comparable(start, start)
        except (KeyError, ValueError, TypeError):
            backwards = False
        if backwards:
            written = component["DTEND"].to_ical().decode(errors="replace")
            del component["DTEND"]
            problems.append(
                Problem(
                    "warning",
                    f"event {uid} in {source}: DTEND {written} is before DTSTART; ignored DTEND, so the"
                    " meeting ends when it starts. Fix the end time in the calendar app",
                    source,
                    uid,
                )
            )
    rules = component.get("RRULE")
    if rules is None:
        rules = []
    elif not isinstance(rules, list):
        rules = [rules]
    for rule in rules:
        if not isinstance(rule, vRecur) or rrule_check.rule_error(rule):
            continue  # an invalid rule is an error when the event is built
        for reason in rrule_check.rule_warnings(rule, start):
            problems.append(Problem("warning", f"event {uid} in {source}: RRULE {reason}", source, uid))


def _comparable(value: date | datetime, reference: date | datetime) -> datetime:
    """Return ``value`` as a datetime that compares with ``reference``'s kind (naive or aware)."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(reference, datetime) and reference.tzinfo is not None and value.tzinfo is None:
        return value.replace(tzinfo=reference.tzinfo)
    if (not isinstance(reference, datetime) or reference.tzinfo is None) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def tied_versions(uid: str, versions: list[Version]) -> list[Problem]:
    """Warn about different versions of ``uid`` that tie on SEQUENCE, stamp and cancellation.

    The winner among them is still chosen by ``Version.rank``; the warning
    names both inputs so the user can remove the stale one.
    """
    groups: dict[str | None, list[Version]] = {}
    for version in versions:
        groups.setdefault(version.recurrence_key, []).append(version)
    problems: list[Problem] = []
    for key, group in groups.items():
        winner = max(group, key=lambda v: v.rank)
        tie = (winner.sequence, winner.stamp, winner.cancelled)
        for other in group:
            if other is winner or (other.sequence, other.stamp, other.cancelled) != tie:
                continue
            if other.content_hash == winner.content_hash:
                continue
            what = f"event {uid}" + (f" (occurrence {key})" if key else "")
            problems.append(
                Problem(
                    "warning",
                    f"{what} has two different versions with SEQUENCE {winner.sequence} and the same"
                    f" DTSTAMP/LAST-MODIFIED, in {other.source} and {winner.source}; used the one in"
                    f" {winner.source} (later LAST-MODIFIED, then CREATED, then content hash). Remove the"
                    " stale copy or export the meeting again",
                    winner.source,
                    uid,
                )
            )
    return problems


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


def _stamp(component: icalendar.Event, names: tuple[str, ...] = ("DTSTAMP", "LAST-MODIFIED")) -> datetime:
    stamps = []
    for name in names:
        try:
            value = component.decoded(name)
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(value, datetime):
            stamps.append(value if value.tzinfo else value.replace(tzinfo=UTC))
        elif isinstance(value, date):
            stamps.append(datetime(value.year, value.month, value.day, tzinfo=UTC))
    return max(stamps, default=_MIN_STAMP)
