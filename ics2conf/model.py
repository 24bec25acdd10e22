"""Frozen value types passed between the pipeline stages.

The stages are pure until the EasyCron client: calendar files become
``Event`` values, each event with its reachable attendees becomes a
``CallSeries``, the schedule compiler turns a series into ``SchedulePart``
expressions, the planner fans parts out to one ``DesiredJob`` per attendee
and diffs them against ``RemoteJob`` values into a ``Plan``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# --- problems -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A warning or error found while reading input or building the plan.

    ``source`` is the file or URL, ``uid`` the event UID and ``address`` the
    attendee address the problem is about, when known.
    """

    level: Literal["error", "warning"]
    message: str
    source: str | None = None
    uid: str | None = None
    address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"level": self.level, "message": self.message}
        for key in ("source", "uid", "address"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


# --- calendar -------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """An ATTENDEE or ORGANIZER property of an event, as written in the invite."""

    value: str  # the calendar address, e.g. "mailto:a@example.com" or "tel:+91..."
    name: str | None = None  # CN
    partstat: str | None = None  # PARTSTAT, upper-case
    role: str | None = None  # ROLE, upper-case
    cutype: str | None = None  # CUTYPE, upper-case

    @property
    def email(self) -> str | None:
        """Return the lower-cased email of a ``mailto:`` address, else None."""
        if self.value.lower().startswith("mailto:"):
            return self.value[len("mailto:"):].strip().lower() or None
        return None

    @property
    def tel(self) -> str | None:
        """Return the number of a ``tel:`` address (without the scheme), else None."""
        if self.value.lower().startswith("tel:"):
            return self.value[len("tel:"):].strip() or None
        return None


@dataclass(frozen=True)
class Event:
    """One meeting after version resolution: the newest invite of a UID.

    ``zone`` is the IANA zone that jobs for this event use. It is the event's
    own zone when that maps to an IANA name, else "UTC". ``start`` is the
    first occurrence's DTSTART, timezone-aware. ``rrule`` is the RRULE value
    as written (``FREQ=WEEKLY;BYDAY=MO``) or None for a single event.
    ``occurrences`` returns the start instants of the real occurrences in
    ``[start, end)`` with EXDATE, RDATE and RECURRENCE-ID overrides applied,
    cancelled occurrences removed, sorted.
    """

    uid: str
    summary: str
    source: str
    zone: str
    start: datetime
    rrule: str | None
    all_day: bool
    organizer: Address | None
    attendees: tuple[Address, ...]
    sequence: int = 0
    has_exceptions: bool = False  # EXDATE, RDATE or overrides anywhere in the series
    occurrences: Callable[[datetime, datetime], list[datetime]] = field(
        default=lambda start, end: [], compare=False, repr=False
    )
    # Attendee lists of single occurrences that differ from ``attendees``:
    # RECURRENCE-ID overrides and per-occurrence REPLY messages. Keyed by the
    # occurrence's start instant in UTC (an override's own, possibly moved,
    # DTSTART), as ``occurrences`` returns it.
    occurrence_attendees: Mapping[datetime, tuple[Address, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Attendee lists that RECURRENCE-ID;RANGE=THISANDFUTURE overrides set for
    # their occurrence and every later one: (start instant in UTC, list),
    # sorted by start. ``occurrence_attendees`` still wins for its occurrences.
    attendees_from: tuple[tuple[datetime, tuple[Address, ...]], ...] = field(
        default=(), compare=False, repr=False
    )


@dataclass(frozen=True)
class Callee:
    """An attendee who will be rung, with the number in KooKoo's form."""

    key: str  # stable identity: lower-cased email, else "tel:" + E.164
    address: str  # what the invite wrote, for messages
    name: str | None
    phone: str  # KooKoo form, e.g. "09876543210" or "00441632960961"
    phone_e164: str  # "+919876543210"


@dataclass(frozen=True)
class SkippedAttendee:
    """An attendee who will not be rung, and why."""

    address: str
    name: str | None
    reason: str


# --- schedules ------------------------------------------------------------


@dataclass(frozen=True)
class CallSeries:
    """The call instants of one event, the input of the schedule compiler.

    ``intended(start, end)`` returns every instant in ``[start, end)`` at
    which each attendee must be rung, after lead time and calling rules are
    applied. ``first_call`` and ``rrule`` describe the series the instants
    come from, so the compiler can propose evergreen expressions; the
    compiler must verify any proposal against ``intended``.
    """

    uid: str
    summary: str
    zone: str
    first_call: datetime
    rrule: str | None
    intended: Callable[[datetime, datetime], list[datetime]] = field(compare=False, repr=False)
    label: str = ""  # stable suffix for extra attempts (redials); "" for the main call
    # EXDATE, RDATE or RECURRENCE-ID anywhere in the series. Exceptions after
    # the compiler's check window cannot be seen, so such a schedule is only
    # claimed exact up to the end of that window.
    has_exceptions: bool = False


@dataclass(frozen=True)
class SchedulePart:
    """One cron expression of a compiled schedule.

    ``key`` is short (``[a-z0-9]{1,8}``) and stable across syncs, so an
    edited meeting updates its jobs in place. ``exact_until`` is None when
    the expression is exact forever, else the instant after which it needs
    another sync. ``fires`` are its fire instants inside the checked window.
    """

    key: str
    cron_expression: str
    timezone: str
    fires: tuple[datetime, ...]
    exact_until: datetime | None


@dataclass(frozen=True)
class Schedule:
    """A compiled schedule: the parts whose fire times are the series' calls."""

    uid: str
    parts: tuple[SchedulePart, ...]
    exact_until: datetime | None  # None: exact forever without another sync
    checked_until: datetime  # end of the window the exactness check covered


# --- jobs -----------------------------------------------------------------

# Fields every managed job sends on create and update. EasyCron does not
# return ``timezone_from``, so it is never compared, only always sent.
HTTP_METHOD = "GET"
SUCCESS_CRITERION = 3  # 2xx is success unless the body matches failure_regexp
FAILURE_REGEXP = r"<status>\s*error\s*</status>"
TIMEZONE_FROM_JOB = 2

MAX_URL_LENGTH = 1024
MAX_NAME_LENGTH = 100
MAX_EXPRESSION_LENGTH = 1000
MAX_DESCRIPTION_LENGTH = 1024


@dataclass(frozen=True)
class JobSpec:
    """The fields of an EasyCron job that ics2conf manages and compares."""

    name: str
    url: str
    cron_expression: str
    timezone: str
    description: str = ""
    http_method: str = HTTP_METHOD
    success_criterion: int = SUCCESS_CRITERION
    failure_regexp: str = FAILURE_REGEXP
    status: int = 1

    def to_api(self) -> dict[str, Any]:
        """Return the JSON body for a create or a full update."""
        return {
            "cron_job_name": self.name,
            "url": self.url,
            "cron_expression": self.cron_expression,
            "timezone_from": TIMEZONE_FROM_JOB,
            "timezone": self.timezone,
            "description": self.description,
            "http_method": self.http_method,
            "success_criterion": self.success_criterion,
            "failure_regexp": self.failure_regexp,
            "status": self.status,
        }


@dataclass(frozen=True)
class DesiredJob:
    """A job the calendar requires: one attendee, one schedule part."""

    spec: JobSpec
    event_uid: str
    summary: str
    callee: Callee
    room: str
    part_key: str
    next_run: datetime | None
    exact_until: datetime | None


@dataclass(frozen=True)
class RemoteJob:
    """A job as EasyCron's list call returns it."""

    id: int
    name: str
    url: str
    cron_expression: str
    timezone: str
    description: str = ""
    http_method: str = HTTP_METHOD
    success_criterion: int | None = None
    failure_regexp: str | None = None
    status: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


# --- job names ------------------------------------------------------------
# A managed job's name carries the namespace and a stable key, so a re-run
# finds its own jobs with no local state:
#     ics2conf.<namespace>.<uid hash 12>.<attendee hash 10>.<part key>
# Hashes keep the name within EasyCron's 100 characters and free of the
# characters an arbitrary UID or address may contain.

JOB_NAME_PREFIX = "ics2conf"
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PART_KEY_PATTERN = re.compile(r"^[a-z0-9]{1,8}$")
JOB_NAME_PATTERN = re.compile(
    r"^ics2conf\.(?P<namespace>[a-z0-9][a-z0-9_-]{0,39})"
    r"\.(?P<uid>[0-9a-f]{12})\.(?P<attendee>[0-9a-f]{10})\.(?P<part>[a-z0-9]{1,8})$"
)


@dataclass(frozen=True)
class JobKey:
    """The parsed name of a managed job."""

    namespace: str
    uid_hash: str
    attendee_hash: str
    part: str

    @property
    def name(self) -> str:
        return f"{JOB_NAME_PREFIX}.{self.namespace}.{self.uid_hash}.{self.attendee_hash}.{self.part}"


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def make_job_key(namespace: str, uid: str, callee_key: str, part: str) -> JobKey:
    """Build the key of the job that rings ``callee_key`` for ``part`` of event ``uid``."""
    if not NAMESPACE_PATTERN.match(namespace):
        raise ValueError(
            f"invalid namespace {namespace!r}: use 1-40 lower-case letters, digits, '-' or '_',"
            " starting with a letter or digit"
        )
    if not PART_KEY_PATTERN.match(part):
        raise ValueError(f"invalid schedule part key {part!r}")
    return JobKey(namespace, _digest(uid, 12), _digest(callee_key, 10), part)


def parse_job_name(name: str) -> JobKey | None:
    """Return the key of a managed job's name, or None for a job ics2conf did not create."""
    match = JOB_NAME_PATTERN.match(name or "")
    if match is None:
        return None
    return JobKey(match["namespace"], match["uid"], match["attendee"], match["part"])


def uid_hash(uid: str) -> str:
    """Return the 12-character UID hash used in job names."""
    return _digest(uid, 12)


# --- plans ----------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    desired: DesiredJob
    action: str = "create"


@dataclass(frozen=True)
class Update:
    """Replace a remote job's managed fields; ``changed`` names them (JobSpec field names)."""

    remote: RemoteJob
    desired: DesiredJob
    changed: tuple[str, ...]
    action: str = "update"


@dataclass(frozen=True)
class Delete:
    """Remove a remote job. ``reason`` is a short explanation shown in the plan."""

    remote: RemoteJob
    reason: str
    action: str = "delete"


Action = Create | Update | Delete


@dataclass(frozen=True)
class Plan:
    """The changes that bring one namespace of an account to the desired jobs."""

    namespace: str
    actions: tuple[Action, ...]
    unchanged: tuple[DesiredJob, ...]
    managed_count: int  # managed jobs of this namespace in the account before the sync

    @property
    def creates(self) -> list[Create]:
        return [a for a in self.actions if isinstance(a, Create)]

    @property
    def updates(self) -> list[Update]:
        return [a for a in self.actions if isinstance(a, Update)]

    @property
    def deletes(self) -> list[Delete]:
        return [a for a in self.actions if isinstance(a, Delete)]

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)
