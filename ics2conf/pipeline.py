"""Turn loaded calendar events into the EasyCron jobs a sync should leave in the account.

For each event with calls in ``[now, now + horizon)``, every reachable
attendee is rung once per occurrence at the occurrence's start minute in
the event's own zone, moved earlier by the lead time, plus one job set per
redial attempt. An occurrence with its own attendee list (a RECURRENCE-ID
override, or a REPLY to that occurrence) rings that list's callees instead,
and callees rung at the same occurrences share one compiled schedule.
Calls in the quiet hours are dropped unless allowed. The
schedule compiler turns each call series into exact cron expressions, and
each (attendee, expression) pair becomes one ``DesiredJob``.

Everything here is pure: files and feeds are read by ``calendar.py`` and
``directory.py`` in ``build_desired``; ``build_desired_from_load`` does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .attendees import resolve_callees
from .calendar import CalendarLoad, load_events
from .calling import (
    CalleeGroup,
    CallTimes,
    daily_budget_warnings,
    describe_event,
    drop_shared_numbers,
    group_callees,
    in_quiet_hours,
    one_line,
    quiet_hours_warning,
    shared_number_warnings,
)
from .config import Settings
from .directory import Directory, load_directory
from .errors import CalendarError, ConfigError, ScheduleError
from .kookoo import PLACEHOLDER_API_KEY, build_outbound_url
from .model import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    NAMESPACE_PATTERN,
    CallSeries,
    Callee,
    DesiredJob,
    Event,
    JobSpec,
    Problem,
    Schedule,
    SkippedAttendee,
    make_job_key,
)
from .rooms import room_ids
from .schedule import compile_schedule


@dataclass(frozen=True)
class CalleeException:
    """The difference between one callee's calls and the series' calls, from per-occurrence attendee lists."""

    not_called: tuple[datetime, ...]  # occurrence starts in the window this callee is not rung at
    called_only: tuple[datetime, ...] | None  # not on the series: the only occurrence starts rung at
    schedule: Schedule | None  # this callee's main-call schedule


@dataclass
class MeetingReport:
    """The plan for one event: room, callees, calls and schedules, for plan grouping and ``inspect``."""

    event: Event
    room: str | None
    callees: list[Callee]
    skipped: list[SkippedAttendee]
    occurrences: list[datetime]  # meeting starts in [now, horizon_end), in the event's zone
    calls: list[datetime]  # main-call instants in [now, horizon_end) after lead time and rules
    schedule: Schedule | None  # main-call schedule; None when nothing is scheduled
    redial_schedules: list[Schedule]
    exact_until: datetime | None  # None: exact forever, or nothing scheduled
    problems: list[Problem]
    redial_calls: list[list[datetime]] = field(default_factory=list)  # per redial attempt
    # Callees rung at other occurrences than the series' callees, by callee key.
    # ``callees`` lists them too; ``schedule`` is the schedule of the first group
    # of callees (the series' callees without exceptions, when there are any).
    exceptions: dict[str, CalleeException] = field(default_factory=dict)

    @classmethod
    def empty(cls, event: Event, room: str | None, problems: list[Problem] | None = None) -> "MeetingReport":
        """Return the report of an event with nothing planned yet."""
        return cls(
            event=event,
            room=room,
            callees=[],
            skipped=[],
            occurrences=[],
            calls=[],
            schedule=None,
            redial_schedules=[],
            exact_until=None,
            problems=list(problems or []),
        )


@dataclass
class DesiredState:
    """The jobs the input requests, with every problem found while building them."""

    jobs: list[DesiredJob]
    meetings: list[MeetingReport]
    cancelled: list[tuple[str, str, str]]  # (uid, summary, source) of cancelled meetings
    problems: list[Problem]  # all warnings and errors: files, events, attendees, rules
    sources: list[str]
    # UIDs whose jobs could not be built (a schedule or occurrence error). Their existing
    # jobs are not "no longer desired", so a sync must not delete them.
    failed_uids: list[str] = field(default_factory=list)
    # UIDs of meetings that ended before the past cutoff, left out unread.
    past_uids: list[str] = field(default_factory=list)


def build_desired(
    inputs: Sequence[str],
    settings: Settings,
    *,
    now: datetime,
    stdin=None,
    session=None,
    skip_past: bool = True,
) -> DesiredState:
    """Read the calendars and directories named in ``inputs`` and ``settings`` and plan their jobs.

    With ``skip_past``, meetings that ended days before ``now`` are left out
    unread (see ``past_cutoff``); ``inspect`` turns it off to list every meeting.
    """
    load = load_events(
        inputs,
        default_timezone=settings.default_timezone,
        stdin=stdin,
        session=session,
        past_cutoff=past_cutoff(now, settings) if skip_past else None,
    )
    directory = load_directory(list(settings.directories))
    return build_desired_from_load(load, directory, settings, now=now)


# Far more than any UTC offset (RFC 5545 allows up to 24 hours), so a meeting
# dated before the cutoff in its own zone started before now in every zone.
PAST_MARGIN = timedelta(days=3)


def past_cutoff(now: datetime, settings: Settings) -> date:
    """Return the date before which a meeting can no longer cause a call, redials included."""
    last_redial = timedelta(minutes=settings.redial * settings.redial_after_minutes)
    try:
        return (now - PAST_MARGIN - last_redial).date()
    except OverflowError:
        return date.min  # a --now in the first days of year 1: no meeting is before it


def build_desired_from_load(
    load: CalendarLoad, directory: Directory, settings: Settings, *, now: datetime
) -> DesiredState:
    """Plan the jobs of already loaded events, with no I/O."""
    _check_settings(settings, now)
    horizon_end = now + timedelta(days=settings.horizon_days)
    problems: list[Problem] = list(load.problems) + list(directory.problems)

    events = sorted(load.events, key=lambda event: (event.start, event.uid))
    # Every UID of the input takes part in resolving room collisions, including
    # meetings that are cancelled, ended or left out unread, so a live meeting's
    # room does not change when another meeting ends or is cancelled.
    rooms, room_problems = room_ids([event.uid for event in events] + sorted(load.uids | load.past_uids))
    problems.extend(room_problems)

    jobs: list[DesiredJob] = []
    meetings: list[MeetingReport] = []
    failed_uids: list[str] = []
    budget_calls: list[datetime] = []
    for event in events:
        try:
            report, event_jobs, calls, failed = _plan_event(
                event, rooms.get(event.uid), directory, settings, now=now, horizon_end=horizon_end
            )
        except CalendarError as error:
            # Occurrences are expanded lazily, so a broken rule may surface only here.
            report = _failed_report(event, rooms.get(event.uid), error)
            event_jobs, calls, failed = [], [], True
        meetings.append(report)
        jobs.extend(event_jobs)
        budget_calls.extend(calls)
        problems.extend(report.problems)
        if failed:
            failed_uids.append(event.uid)

    problems.extend(_check_jobs(jobs))
    problems.extend(daily_budget_warnings(budget_calls, settings.daily_call_limit))
    return DesiredState(
        jobs=jobs,
        meetings=meetings,
        cancelled=list(load.cancelled),
        problems=problems,
        sources=list(load.sources),
        failed_uids=failed_uids,
        past_uids=sorted(load.past_uids),
    )


def _check_settings(settings: Settings, now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    if not NAMESPACE_PATTERN.match(settings.namespace):
        raise ConfigError(
            f"Invalid namespace {settings.namespace!r}: use 1-40 lower-case letters, digits,"
            " '-' or '_', starting with a letter or digit."
        )
    if settings.horizon_days < 1:
        raise ConfigError(f"Invalid horizon of {settings.horizon_days} days: use 1 or more.")
    if settings.lead_minutes < 0:
        raise ConfigError(f"Invalid lead time of {settings.lead_minutes} minutes: use 0 or more.")
    if settings.daily_call_limit < 1:
        raise ConfigError(
            f"Invalid daily call limit {settings.daily_call_limit}: use 1 or more."
        )
    if settings.redial < 0:
        raise ConfigError(f"Invalid redial count {settings.redial}: use 0 or more.")
    if settings.redial and settings.redial_after_minutes < 1:
        raise ConfigError(
            f"Invalid redial delay of {settings.redial_after_minutes} minutes: use 1 or more."
        )


def _failed_report(event: Event, room: str | None, error: CalendarError) -> MeetingReport:
    """Return the report of an event whose occurrences could not be expanded."""
    problem = Problem(
        "error",
        f"Event {describe_event(event)} could not be planned, so none of its jobs are"
        f" planned: {error}",
        source=event.source,
        uid=event.uid,
    )
    return MeetingReport.empty(event, room, [problem])


def _plan_event(
    event: Event,
    room: str | None,
    directory: Directory,
    settings: Settings,
    *,
    now: datetime,
    horizon_end: datetime,
) -> tuple[MeetingReport, list[DesiredJob], list[datetime], bool]:
    """Plan one event: its report, its jobs, one instant per call for the budget, failure."""
    report = MeetingReport.empty(event, room)
    if event.all_day:
        report.room = None
        report.problems.append(
            Problem(
                "warning",
                f"Event {describe_event(event)} is an all-day event and has no start time"
                " to call at; it is skipped.",
                source=event.source,
                uid=event.uid,
            )
        )
        return report, [], [], False

    callees, skipped, attendee_problems = resolve_callees(
        event,
        directory,
        default_region=settings.default_region,
        allow_international=settings.allow_international,
        call_organizer=settings.call_organizer,
    )
    callees, shared_problems = drop_shared_numbers(event, callees)
    report.skipped = list(skipped)
    report.problems.extend(attendee_problems)
    report.problems.extend(shared_number_warnings(event, callees, skipped))
    report.problems.extend(shared_problems)
    occurrence_callees, callees_from = _occurrence_callees(event, directory, settings, report, now=now)
    groups = group_callees(callees, occurrence_callees, callees_from)
    report.callees = list(callees) + [c for g in groups if not g.in_series for c in g.callees]

    zone = ZoneInfo(event.zone)
    report.occurrences = [o.astimezone(zone) for o in event.occurrences(now, horizon_end)]

    check_quiet = not settings.allow_quiet_hours
    suppressed: list[datetime] = []
    budget_calls: list[datetime] = []
    jobs: list[DesiredJob] = []
    schedules: list[Schedule] = []
    main_schedules: dict[CalleeGroup, Schedule] = {}
    failed = False
    for attempt in range(settings.redial + 1):
        label = f"r{attempt}" if attempt else ""
        offset = timedelta(minutes=attempt * settings.redial_after_minutes - settings.lead_minutes)
        times = CallTimes(event, offset, check_quiet)
        window_calls = times.all_calls(now, horizon_end)
        calls = [c for c in window_calls if not (check_quiet and in_quiet_hours(c))]
        # Every occurrence of a group is an occurrence of the event, so these
        # are all the calls any group drops.
        suppressed.extend(c for c in window_calls if check_quiet and in_quiet_hours(c))
        if attempt == 0:
            report.calls = calls
        else:
            report.redial_calls.append(calls)
        for group in groups:
            if failed:
                break
            schedule, group_calls, error = _compile_group(
                event, group, times, calls, offset, now=now, horizon_end=horizon_end, label=label
            )
            if error is not None:
                report.problems.append(error)
                failed = True
                break
            if schedule is None:
                continue
            schedules.append(schedule)
            if attempt == 0:
                main_schedules[group] = schedule
            elif group is groups[0]:
                report.redial_schedules.append(schedule)
            budget_calls.extend(group_calls * len(group.callees))
            attempt_jobs, job_problems = _jobs_for_schedule(
                event, room, group.callees, schedule, settings, now=now, attempt=attempt, label=label
            )
            jobs.extend(attempt_jobs)
            report.problems.extend(job_problems)

    if suppressed:
        report.problems.append(quiet_hours_warning(event, suppressed))
    if failed:
        report.schedule = None
        report.redial_schedules = []
        return report, [], [], True

    report.schedule = main_schedules.get(groups[0]) if groups else None
    for group in groups:
        if group.has_exceptions:
            rung = [o for o in report.occurrences if group.rings_at(o)]
            exception = CalleeException(
                not_called=tuple(o for o in report.occurrences if o not in rung),
                called_only=None if group.in_series else tuple(rung),
                schedule=main_schedules.get(group),
            )
            for callee in group.callees:
                report.exceptions[callee.key] = exception
    bounded = [s.exact_until for s in schedules if s.exact_until is not None]
    report.exact_until = min(bounded) if bounded else None
    return report, jobs, budget_calls, False


def _occurrence_callees(
    event: Event, directory: Directory, settings: Settings, report: MeetingReport, *, now: datetime
) -> tuple[dict[datetime, list[Callee]], list[tuple[datetime, list[Callee]]]]:
    """Return the callees of the event's per-occurrence and from-an-occurrence-on attendee lists.

    Single occurrences whose every attempt rings before ``now`` are left
    out because they cannot change a schedule. Problems the series' list
    already reported are not repeated.
    """
    latest_offset = max(0, settings.redial * settings.redial_after_minutes - settings.lead_minutes)
    earliest = now - timedelta(minutes=latest_offset + 1)
    reported = {problem.message for problem in report.problems}
    found: dict[datetime, list[Callee]] = {}
    found_from: list[tuple[datetime, list[Callee]]] = []
    lists = [(instant, attendees, False) for instant, attendees in event.occurrence_attendees.items()]
    lists += [(instant, attendees, True) for instant, attendees in event.attendees_from]
    for instant, attendees, from_on in lists:
        if instant < earliest and not from_on:
            continue
        occurrence = replace(event, attendees=attendees)
        callees, skipped, problems = resolve_callees(
            occurrence,
            directory,
            default_region=settings.default_region,
            allow_international=settings.allow_international,
            call_organizer=settings.call_organizer,
        )
        callees, shared_problems = drop_shared_numbers(occurrence, callees)
        problems = problems + shared_number_warnings(occurrence, callees, skipped) + shared_problems
        for problem in problems:
            if problem.message not in reported:
                reported.add(problem.message)
                report.problems.append(problem)
        if from_on:
            found_from.append((instant, callees))
        else:
            found[instant] = callees
    return found, found_from


def _compile_group(
    event: Event,
    group: CalleeGroup,
    times: CallTimes,
    calls: list[datetime],
    offset: timedelta,
    *,
    now: datetime,
    horizon_end: datetime,
    label: str,
) -> tuple[Schedule | None, list[datetime], Problem | None]:
    """Compile the schedule of one group of callees for one attempt.

    Returns the schedule (None when nothing is to be scheduled), the group's
    calls in the window, and the error when the calls cannot be scheduled exactly.
    """
    zone = ZoneInfo(event.zone)
    if group.has_exceptions:
        times = CallTimes(group.event_for(event), offset, times.check_quiet_hours)
        calls = times.intended(now, horizon_end)
    if group.follows_rule:
        rrule = event.rrule
        first_call = (event.start.astimezone(timezone.utc) + offset).astimezone(zone)
    else:
        # Only single occurrences: their calls are dated, never a rule's.
        rrule = None
        first_call = (min(group.also_at) + offset).astimezone(zone)
    if not calls and not rrule:
        return None, [], None
    # A recurring meeting with no call inside the horizon is still compiled: its
    # evergreen or year-ranged parts must exist before its next call, even if no
    # sync runs in between. The compiler returns no parts for a series that ended.
    series = CallSeries(
        uid=event.uid,
        summary=event.summary,
        zone=event.zone,
        first_call=first_call,
        rrule=rrule,
        intended=times.intended,
        label=label,
        has_exceptions=event.has_exceptions or group.has_exceptions,
    )
    try:
        schedule = compile_schedule(series, now=now, horizon_end=horizon_end)
    except ScheduleError as error:
        problem = Problem(
            "error",
            f"Event {describe_event(event)} could not be scheduled exactly, so none"
            f" of its jobs are planned: {error}",
            source=event.source,
            uid=event.uid,
        )
        return None, [], problem
    return schedule, calls, None


def _jobs_for_schedule(
    event: Event,
    room: str | None,
    callees: Sequence[Callee],
    schedule: Schedule,
    settings: Settings,
    *,
    now: datetime,
    attempt: int,
    label: str,
) -> tuple[list[DesiredJob], list[Problem]]:
    """Return one job per (callee, schedule part) of one call attempt."""
    assert room is not None  # every event that is not all-day has a room
    jobs: list[DesiredJob] = []
    problems: list[Problem] = []
    for callee in callees:
        try:
            url = build_outbound_url(
                settings.kookoo_outbound_url,
                api_key=settings.kookoo_api_key or PLACEHOLDER_API_KEY,
                phone=callee.phone,
                room=room,
                caller_id=settings.kookoo_caller_id,
                greeting=settings.greeting,
            )
        except ValueError as error:
            if attempt == 0:  # one message per callee, not one per redial
                problems.append(
                    Problem(
                        "error",
                        f"Event {describe_event(event)}: attendee {callee.address} is not"
                        f" called: {error}",
                        source=event.source,
                        uid=event.uid,
                        address=callee.address,
                    )
                )
            continue
        # The redial label goes into the attendee hash, because part keys
        # belong to the compiler and are limited to 8 characters.
        attendee_key = f"{callee.key}#{label}" if label else callee.key
        description = _description(event, callee, attempt, settings.redial)
        for part in schedule.parts:
            key = make_job_key(settings.namespace, event.uid, attendee_key, part.key)
            spec = JobSpec(
                name=key.name,
                url=url,
                cron_expression=part.cron_expression,
                timezone=part.timezone,
                description=description,
            )
            upcoming = [fire for fire in part.fires if fire >= now]
            jobs.append(
                DesiredJob(
                    spec=spec,
                    event_uid=event.uid,
                    summary=event.summary,
                    callee=callee,
                    room=room,
                    part_key=part.key,
                    next_run=min(upcoming) if upcoming else None,
                    exact_until=part.exact_until,
                )
            )
    return jobs, problems


def _description(event: Event, callee: Callee, attempt: int, redials: int) -> str:
    """Return the job description: what the job calls, for people reading EasyCron."""
    summary = one_line(event.summary) or "(no title)"
    address = one_line(callee.address)
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:"):]
    name = one_line(callee.name or "")
    # Google writes the email as CN when it has no name, and "a@x <a@x>" says nothing more.
    who = f"{name} <{address}>" if name and name.lower() != address.lower() else address
    text = f"ics2conf: {summary} — {who} ({one_line(event.uid)})"
    if attempt:
        text += f", redial {attempt} of {redials}"
    if len(text) > MAX_DESCRIPTION_LENGTH:
        text = text[: MAX_DESCRIPTION_LENGTH - 1] + "…"
    return text


def _check_jobs(jobs: Sequence[DesiredJob]) -> list[Problem]:
    """Return errors for jobs EasyCron would reject or that would share a name."""
    problems: list[Problem] = []
    seen: set[str] = set()
    too_long = [job for job in jobs if len(job.spec.url) > MAX_URL_LENGTH]
    if too_long:
        longest = max(len(job.spec.url) for job in too_long)
        problems.append(
            Problem(
                "error",
                f"{len(too_long)} KooKoo URLs are longer than EasyCron's limit of"
                f" {MAX_URL_LENGTH} characters (longest: {longest}); shorten --greeting.",
            )
        )
    for job in jobs:
        if job.spec.name in seen:
            problems.append(
                Problem(
                    "error",
                    f"Two jobs of event UID {job.event_uid} have the same name"
                    f" {job.spec.name}; this is a bug in ics2conf, please report it.",
                    uid=job.event_uid,
                )
            )
        seen.add(job.spec.name)
    return problems
