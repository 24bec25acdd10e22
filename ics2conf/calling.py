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

    ``not_at`` holds occurrence starts (UTC) of the series at which these
    callees are not rung. ``only_at`` is None for callees of the series;
    for a person the series does not ring, it holds the only occurrences
    they are rung at.
    """

    callees: tuple[Callee, ...]
    not_at: frozenset[datetime] = frozenset()
    only_at: frozenset[datetime] | None = None

    @property
    def has_exceptions(self) -> bool:
        return bool(self.not_at) or self.only_at is not None

    def event_for(self, event: Event) -> Event:
        """Return ``event`` with the occurrences this group is rung at."""
        if not self.has_exceptions:
            return event
        return replace(event, occurrences=_SelectedOccurrences(event.occurrences, self.not_at, self.only_at))


@dataclass(frozen=True)
class _SelectedOccurrences:
    occurrences: Callable[[datetime, datetime], list[datetime]]
    not_at: frozenset[datetime]
    only_at: frozenset[datetime] | None

    def __call__(self, start: datetime, end: datetime) -> list[datetime]:
        found = self.occurrences(start, end)
        if self.only_at is not None:
            return [o for o in found if o in self.only_at]
        return [o for o in found if o not in self.not_at]


def group_callees(
    series_callees: Sequence[Callee], occurrence_callees: Mapping[datetime, Sequence[Callee]]
) -> list[CalleeGroup]:
    """Group callees by the occurrences they are rung at.

    ``occurrence_callees`` maps an occurrence start (UTC) whose attendee
    list differs from the series' to the callees of that list. A series
    callee missing there is not rung at that occurrence, and a callee found
    only there is rung at such occurrences only. The series callees with
    no exception come first, in one group, so a meeting without
    per-occurrence differences keeps one group.
    """
    by_key: dict[str, Callee] = {callee.key: callee for callee in series_callees}
    not_at: dict[str, set[datetime]] = {callee.key: set() for callee in series_callees}
    only_at: dict[str, set[datetime]] = {}
    for instant, callees in sorted(occurrence_callees.items()):
        present = {callee.key for callee in callees}
        for key in not_at:
            if key not in present:
                not_at[key].add(instant)
        for callee in callees:
            if callee.key not in not_at:
                by_key.setdefault(callee.key, callee)
                only_at.setdefault(callee.key, set()).add(instant)

    groups: dict[tuple, list[Callee]] = {}
    for key, instants in not_at.items():
        groups.setdefault(("not_at", frozenset(instants)), []).append(by_key[key])
    for key, instants in only_at.items():
        groups.setdefault(("only_at", frozenset(instants)), []).append(by_key[key])
    ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "not_at", len(item[0][1]), sorted(item[0][1])))
    return [
        CalleeGroup(tuple(callees), frozenset(instants), None)
        if kind == "not_at"
        else CalleeGroup(tuple(callees), frozenset(), frozenset(instants))
        for (kind, instants), callees in ordered
    ]


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
