"""Call instants and the calling rules applied at plan time.

``CallTimes`` turns an event's occurrences into call instants. The rules
are the quiet hours, the daily budget and one call per phone number.

Indian rules bar commercial calls between 21:00 and 09:00 IST, and KooKoo
rejects them ("calls will not be made between 9PM to 9AM"), so a
call in that window would only fail in EasyCron. Two public KooKoo callers
cite a default cap of 50 outbound calls a day per account, which is the
default daily budget.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .model import Callee, Event, Problem, SkippedAttendee

IST = ZoneInfo("Asia/Kolkata")
QUIET_START = time(21, 0)  # IST, inclusive
QUIET_END = time(9, 0)  # IST, exclusive: a call at 09:00 is allowed
DEFAULT_DAILY_CALL_LIMIT = 50
MAX_LISTED_CALLS = 5  # suppressed calls named in one warning; the rest are counted
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class CallTimes:
    """The call instants of one event for one attempt: main call or a redial.

    A call rings at the minute containing the occurrence's start, moved by
    ``offset`` (minus the lead time, plus the redial delay). An occurrence at
    10:00:30 therefore rings at 10:00, never a minute late. Offsets are added
    to UTC instants, because adding a timedelta to a zoned datetime moves the
    wall clock, which is wrong across a DST change.
    """

    event: Event
    offset: timedelta
    check_quiet_hours: bool

    def all_calls(self, start: datetime, end: datetime) -> list[datetime]:
        """Return the call instants in ``[start, end)`` before the quiet-hours rule."""
        # A call c = floor(o) + offset lies in [start, end) only if the
        # occurrence o lies in [start - offset, end - offset + 1 minute).
        occurrences = self.event.occurrences(start - self.offset, end - self.offset + MINUTE)
        zone = ZoneInfo(self.event.zone)
        calls = set()
        for occurrence in occurrences:
            call = _floor_minute(occurrence.astimezone(timezone.utc)) + self.offset
            if start <= call < end:
                calls.add(call)
        return [call.astimezone(zone) for call in sorted(calls)]

    def intended(self, start: datetime, end: datetime) -> list[datetime]:
        """Return the instants in ``[start, end)`` at which each callee is rung."""
        calls = self.all_calls(start, end)
        if self.check_quiet_hours:
            calls = [call for call in calls if not in_quiet_hours(call)]
        return calls


@dataclass(frozen=True)
class CalleeGroup:
    """Callees of one event who are rung at the same occurrences.

    A callee is rung at an occurrence (start instant in UTC) in ``also_at``
    and not at one in ``not_at``. Elsewhere the last ``(start, rung)``
    entry of ``changes_from`` at or before the occurrence decides. Before
    the first change, ``in_series`` decides, which is True when the
    series' own list rings them.
    """

    callees: tuple[Callee, ...]
    in_series: bool = True
    changes_from: tuple[tuple[datetime, bool], ...] = ()
    not_at: frozenset[datetime] = frozenset()
    also_at: frozenset[datetime] = frozenset()

    @property
    def has_exceptions(self) -> bool:
        return not self.in_series or bool(self.changes_from or self.not_at or self.also_at)

    @property
    def follows_rule(self) -> bool:
        """Return True when the group is rung at a run of the series' occurrences, not only at single ones."""
        return self.in_series or any(rung for _, rung in self.changes_from)

    def rings_at(self, occurrence: datetime) -> bool:
        if occurrence in self.also_at:
            return True
        if occurrence in self.not_at:
            return False
        rung = self.in_series
        for since, value in self.changes_from:
            if since > occurrence:
                break
            rung = value
        return rung

    def event_for(self, event: Event) -> Event:
        """Return ``event`` with only the occurrences this group is rung at."""
        if not self.has_exceptions:
            return event
        return replace(event, occurrences=_SelectedOccurrences(event.occurrences, self))


@dataclass(frozen=True)
class _SelectedOccurrences:
    occurrences: Callable[[datetime, datetime], list[datetime]]
    group: CalleeGroup

    def __call__(self, start: datetime, end: datetime) -> list[datetime]:
        return [o for o in self.occurrences(start, end) if self.group.rings_at(o)]


def group_callees(
    series_callees: Sequence[Callee],
    occurrence_callees: Mapping[datetime, Sequence[Callee]],
    callees_from: Sequence[tuple[datetime, Sequence[Callee]]] = (),
) -> list[CalleeGroup]:
    """Group callees by the occurrences they are rung at.

    ``occurrence_callees`` maps an occurrence start (UTC) whose attendee
    list differs from the list in force there to the callees of that list.
    ``callees_from`` contains, sorted by start, the callees of lists that
    apply from an occurrence on (RANGE=THISANDFUTURE). A callee missing
    from a list is not rung where it applies, and one found there is. The
    series' callees with no exception come first, in one group, so a
    meeting without per-occurrence differences keeps one group.
    """
    by_key: dict[str, Callee] = {callee.key: callee for callee in series_callees}
    for _, callees in [*occurrence_callees.items(), *callees_from]:
        for callee in callees:
            by_key.setdefault(callee.key, callee)
    series_keys = {callee.key for callee in series_callees}
    from_keys = [(since, {callee.key for callee in callees}) for since, callees in callees_from]

    groups: dict[tuple, list[Callee]] = {}
    for key, callee in by_key.items():
        in_series = key in series_keys
        changes: list[tuple[datetime, bool]] = []
        rung = in_series
        for since, keys in from_keys:
            if (key in keys) != rung:
                rung = key in keys
                changes.append((since, rung))
        group = CalleeGroup((), in_series, tuple(changes))
        not_at = set()
        also_at = set()
        for instant, callees in occurrence_callees.items():
            present = any(c.key == key for c in callees)
            if present and not group.rings_at(instant):
                also_at.add(instant)
            elif not present and group.rings_at(instant):
                not_at.add(instant)
        signature = (in_series, tuple(changes), frozenset(not_at), frozenset(also_at))
        groups.setdefault(signature, []).append(callee)

    ordered = sorted(
        groups.items(),
        key=lambda item: (not item[0][0], len(item[0][1]) + len(item[0][2]) + len(item[0][3]), _sort_key(item[0])),
    )
    return [
        CalleeGroup(tuple(callees), in_series, changes, not_at, also_at)
        for (in_series, changes, not_at, also_at), callees in ordered
    ]


def _sort_key(signature: tuple) -> tuple:
    _, changes, not_at, also_at = signature
    return (changes, sorted(not_at), sorted(also_at))


def _floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def one_line(text: str) -> str:
    """Return ``text`` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def describe_event(event: Event) -> str:
    """Return ``"SUMMARY" (UID uid)`` on one line, for messages."""
    summary = one_line(event.summary) or "(no title)"
    if len(summary) > 80:
        summary = summary[:79] + "…"
    return f'"{summary}" (UID {one_line(event.uid)})'


def format_ist(instant: datetime) -> str:
    """Return ``instant`` as ``YYYY-MM-DD HH:MM IST``."""
    return instant.astimezone(IST).strftime("%Y-%m-%d %H:%M IST")


def in_quiet_hours(instant: datetime) -> bool:
    """Return True when ``instant`` falls between 21:00 and 09:00 IST."""
    local = instant.astimezone(IST).time()
    return local >= QUIET_START or local < QUIET_END


def quiet_hours_warning(event: Event, suppressed: Sequence[datetime]) -> Problem:
    """Return the warning that names the calls of ``event`` dropped for quiet hours."""
    instants = sorted(set(suppressed))
    listed = ", ".join(format_ist(instant) for instant in instants[:MAX_LISTED_CALLS])
    if len(instants) > MAX_LISTED_CALLS:
        listed += f" and {len(instants) - MAX_LISTED_CALLS} more"
    count = "1 call falls" if len(instants) == 1 else f"{len(instants)} calls fall"
    return Problem(
        "warning",
        f"Event {describe_event(event)}: {count} in the quiet hours 21:00-09:00 IST and"
        f" will not be scheduled: {listed}. Move the meeting or pass --allow-quiet-hours.",
        source=event.source,
        uid=event.uid,
    )


def daily_budget_warnings(calls: Iterable[datetime], limit: int) -> list[Problem]:
    """Return one warning per IST day on which more than ``limit`` calls are planned.

    ``calls`` contains one instant per call to be placed, so a meeting with five
    callees contributes five equal instants.
    """
    per_day: Counter[date] = Counter(instant.astimezone(IST).date() for instant in calls)
    return [
        Problem(
            "warning",
            f"{day.isoformat()} (IST): {count} calls planned, more than the daily limit of"
            f" {limit}. KooKoo may reject the calls over the account's daily cap;"
            " raise --daily-call-limit if your account allows more.",
        )
        for day, count in sorted(per_day.items())
        if count > limit
    ]


def drop_shared_numbers(event: Event, callees: Sequence[Callee]) -> tuple[list[Callee], list[Problem]]:
    """Keep the first callee of each phone number and warn about the others.

    Two attendees with one number would ring the same phone twice at once,
    and the second call would fail as busy.
    """
    kept: list[Callee] = []
    by_phone: dict[str, Callee] = {}
    problems: list[Problem] = []
    for callee in callees:
        first = by_phone.get(callee.phone_e164)
        if first is None:
            by_phone[callee.phone_e164] = callee
            kept.append(callee)
            continue
        problems.append(_shared_number_warning(event, first, callee.address, callee.phone_e164))
    return kept, problems


# The reason attendees.resolve_callees gives an attendee it drops because an
# earlier attendee has the same email or number: "same person as ADDRESS, rung once".
_SAME_PERSON = re.compile(r"^same person as (?P<address>.+), rung once$")


def shared_number_warnings(
    event: Event, callees: Sequence[Callee], skipped: Sequence[SkippedAttendee]
) -> list[Problem]:
    """Return a warning for each attendee dropped because another attendee has the same number.

    The attendee resolver already rings such a number once and lists the
    second attendee as skipped. The same email listed twice is one person and
    gives no warning. Two people sharing a number may be a typo in the
    directory, so the plan names both.
    """
    by_address = {callee.address: callee for callee in callees}
    problems: list[Problem] = []
    for attendee in skipped:
        match = _SAME_PERSON.match(attendee.reason)
        first = by_address.get(match["address"]) if match else None
        if first is None or _identity(attendee.address) == _identity(first.address):
            continue
        problems.append(_shared_number_warning(event, first, attendee.address, first.phone_e164))
    return problems


def _shared_number_warning(event: Event, first: Callee, other_address: str, e164: str) -> Problem:
    return Problem(
        "warning",
        f"Event {describe_event(event)}: attendees {_bare(first.address)} and"
        f" {_bare(other_address)} have the same number {e164}; it is called once, for"
        f" {_bare(first.address)}.",
        source=event.source,
        uid=event.uid,
        address=other_address,
    )


def _identity(address: str) -> str:
    """Return the lower-cased email of a ``mailto:`` address, else the address lower-cased."""
    return _bare(address).strip().lower()


def _bare(address: str) -> str:
    """Return ``address`` without its ``mailto:`` scheme."""
    if address.lower().startswith("mailto:"):
        return address[len("mailto:"):]
    return address
