"""Turn plans, sync reports, meetings and job lists into JSON documents.

Every document has ``format_version`` (bumped on any incompatible change) and ``command``;
docs/json-output.md describes the fields and docs/json-output.schema.json is their JSON
Schema. The text renderers in ``render_text`` reuse the helpers here, so both formats show the
same values. Nothing here masks secrets: the CLI redacts every line it writes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, Options

from ics2conf.model import Create, Delete, DesiredJob, Plan, Problem, RemoteJob, Update, uid_hash

FORMAT_VERSION = 1
IST = ZoneInfo("Asia/Kolkata")
# Year-bounded expressions end at the last year EasyCron's year field accepts, so a schedule
# exact through this year needs no reminder to sync again.
FAR_FUTURE_YEAR = 2099

_CONFERENCE = re.compile(r"<conference[^>]*>([^<]*)</conference>")

# JobSpec fields whose change an update shows, in display order. A changed URL is shown as the
# phone and room it carries. Any other URL change (key, caller id, greeting) shows as "call URL".
SHOWN_FIELDS = ("cron_expression", "timezone", "phone", "room")
FIELD_LABELS = {
    "cron_expression": "schedule",
    "timezone": "zone",
    "phone": "phone",
    "room": "room",
    "url": "call URL",
    "name": "name",
    "description": "description",
    "http_method": "HTTP method",
    "success_criterion": "success criterion",
    "failure_regexp": "failure pattern",
    "status": "status",
}


# --- shared helpers -------------------------------------------------------------------------


# cron-descriptor reloads its gettext catalogue for every description, and a
# large plan repeats the same few hundred expressions thousands of times.
@functools.lru_cache(maxsize=4096)
def describe_schedule(expression: str) -> str:
    """Describe an EasyCron expression (five fields plus an optional year) in English words."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        return expression
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = True  # EasyCron counts Sunday as 0
    # cron-descriptor reads seven fields as seconds ... year, so a leading "0" seconds field
    # lets it describe EasyCron's year field too.
    try:
        return ExpressionDescriptor("0 " + expression, options).get_description()
    except Exception:  # noqa: BLE001 - any parser failure falls back to the expression itself
        return expression


def iso(moment: datetime | None) -> str | None:
    """Return an aware instant in ISO-8601 with its offset, or None."""
    return moment.isoformat() if moment is not None else None


def in_zone(moment: datetime, zone: str) -> datetime:
    """Return ``moment`` converted to the IANA zone ``zone`` (UTC when the name is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone))
    except Exception:  # noqa: BLE001 - an unknown zone is reported elsewhere
        return moment.astimezone(ZoneInfo("UTC"))


def url_phone(url: str) -> str | None:
    """Return the ``phone_no`` parameter of a KooKoo outbound URL, or None."""
    values = parse_qs(urlsplit(url or "").query).get("phone_no")
    return values[0] if values else None


def url_room(url: str) -> str | None:
    """Return the conference room inside a KooKoo URL's ``extra_data`` XML, or None."""
    values = parse_qs(urlsplit(url or "").query).get("extra_data")
    if not values:
        return None
    match = _CONFERENCE.search(values[0])
    return match.group(1) if match else None


def problem_dicts(problems: Iterable[Problem], level: str) -> list[dict[str, Any]]:
    """Return the problems of ``level`` as JSON objects, in input order, without repeats."""
    seen: set[tuple] = set()
    result = []
    for problem in problems:
        key = (problem.level, problem.message, problem.source, problem.uid, problem.address)
        if problem.level != level or key in seen:
            continue
        seen.add(key)
        result.append(problem.to_dict())
    return result


def field_changes(update: Update) -> dict[str, dict[str, Any]]:
    """Return ``{field: {"before", "after"}}`` for the fields an update changes.

    Phone and room live inside the call URL, so a changed URL is shown as the phone and room
    it carries. When neither differs, the URL is listed as changed without its values, because
    it contains the KooKoo key.
    """
    remote, spec = update.remote, update.desired.spec
    changes: dict[str, dict[str, Any]] = {}
    for name in update.changed:
        if name == "url":
            before_phone, after_phone = url_phone(remote.url), url_phone(spec.url)
            before_room, after_room = url_room(remote.url), url_room(spec.url)
            if before_phone != after_phone:
                changes["phone"] = {"before": before_phone, "after": after_phone}
            if before_room != after_room:
                changes["room"] = {"before": before_room, "after": after_room}
            if before_phone == after_phone and before_room == after_room:
                changes["url"] = {"before": None, "after": None}
            continue
        changes[name] = {"before": getattr(remote, name, None), "after": getattr(spec, name, None)}
    order = {name: index for index, name in enumerate(SHOWN_FIELDS)}
    return dict(sorted(changes.items(), key=lambda item: order.get(item[0], len(order))))


def action_sort_key(action: Create | Update | Delete) -> tuple:
    """Return a key that orders actions stably: by kind, event, attendee, next run, schedule part."""
    if isinstance(action, Delete):
        return (2, action.remote.name, "", "", "")
    desired = action.desired
    rank = 0 if isinstance(action, Create) else 1
    first_run = iso(desired.next_run) or ""
    return (rank, desired.event_uid, desired.callee.address.lower(), first_run, desired.part_key)


# --- plan and sync documents ----------------------------------------------------------------


def desired_job_dict(job: DesiredJob) -> dict[str, Any]:
    """Return the JSON fields of a desired job, without its URL because the URL contains the KooKoo key."""
    spec = job.spec
    return {
        "job_name": spec.name,
        "cron_expression": spec.cron_expression,
        "timezone": spec.timezone,
        "schedule_text": describe_schedule(spec.cron_expression),
        "phone": job.callee.phone,
        "attendee": job.callee.address,
        "attendee_name": job.callee.name,
        "event_uid": job.event_uid,
        "summary": job.summary,
        "room": job.room,
        "part": job.part_key,
        "next_run": iso(in_zone(job.next_run, spec.timezone)) if job.next_run else None,
        "next_run_ist": iso(job.next_run.astimezone(IST)) if job.next_run else None,
        "exact_until": iso(job.exact_until),
    }


def remote_job_dict(job: RemoteJob) -> dict[str, Any]:
    """Return the JSON fields of a job as listed in the account."""
    return {
        "job_id": job.id,
        "job_name": job.name,
        "cron_expression": job.cron_expression,
        "timezone": job.timezone,
        "schedule_text": describe_schedule(job.cron_expression),
        "phone": url_phone(job.url),
        "room": url_room(job.url),
        "status": job.status,
    }


def change_dict(action: Create | Update | Delete, uid_by_hash: dict[str, str]) -> dict[str, Any]:
    """Return the JSON object of one planned change."""
    if isinstance(action, Delete):
        remote = action.remote
        data = remote_job_dict(remote)
        data.pop("status", None)
        data.update(
            description=remote.description,
            event_uid=_uid_of_job_name(remote.name, uid_by_hash),
            next_run=None,
            reason=action.reason,
        )
        return {"action": "delete", **data}
    data = {"action": action.action, "job_id": None, **desired_job_dict(action.desired)}
    if isinstance(action, Update):
        data["job_id"] = action.remote.id
        data["changed"] = field_changes(action)
    return data


def _uid_of_job_name(name: str, uid_by_hash: dict[str, str]) -> str | None:
    parts = name.split(".")
    return uid_by_hash.get(parts[2]) if len(parts) >= 5 else None


def meeting_dict(meeting: Any) -> dict[str, Any]:
    """Return the JSON object of one meeting report: occurrences, callees, skipped, schedule."""
    event = meeting.event
    schedule = getattr(meeting, "schedule", None)
    parts = list(schedule.parts) if schedule is not None else []
    for extra in getattr(meeting, "redial_schedules", None) or ():
        parts.extend(extra.parts)
    problems = list(getattr(meeting, "problems", None) or ())
    reminder = future_sync_warning(meeting)
    if reminder is not None:
        problems.append(reminder)
    return {
        "event_uid": event.uid,
        "summary": event.summary,
        "source": event.source,
        "zone": event.zone,
        "room": meeting.room,
        "exact_until": iso(meeting.exact_until),
        "exact_forever": schedule is not None and last_exact_year(meeting) is None,
        "occurrences": [
            {"start": iso(in_zone(start, event.zone)), "start_ist": iso(start.astimezone(IST))}
            for start in meeting.occurrences
        ],
        "calls": [iso(in_zone(moment, event.zone)) for moment in (getattr(meeting, "calls", None) or ())],
        "callees": [
            {"address": callee.address, "name": callee.name, "phone": callee.phone}
            for callee in meeting.callees
        ],
        "skipped": [
            {"address": skipped.address, "name": skipped.name, "reason": skipped.reason}
            for skipped in meeting.skipped
        ],
        "schedule": [
            {
                "key": part.key,
                "cron_expression": part.cron_expression,
                "timezone": part.timezone,
                "schedule_text": describe_schedule(part.cron_expression),
                "exact_until": iso(part.exact_until),
            }
            for part in parts
        ],
        "warnings": problem_dicts(problems, "warning"),
        "errors": problem_dicts(problems, "error"),
    }


def last_exact_year(meeting: Any) -> int | None:
    """Return the last year a meeting's jobs stay exact without a sync; None when practically forever."""
    if meeting.exact_until is None:
        return None
    year = (in_zone(meeting.exact_until, meeting.event.zone) - timedelta(minutes=1)).year
    return None if year >= FAR_FUTURE_YEAR else year


def future_sync_warning(meeting: Any) -> Problem | None:
    """Return the warning that a meeting's jobs need another sync before their exact-until date."""
    if getattr(meeting, "schedule", None) is None or last_exact_year(meeting) is None:
        return None
    event = meeting.event
    until = in_zone(meeting.exact_until, event.zone).strftime("%Y-%m-%d %H:%M %Z")
    return Problem(
        "warning",
        f'Event "{event.summary}" (UID {event.uid}): its jobs are exact only until {until};'
        " run sync again before then, for example from a scheduled run.",
        source=event.source,
        uid=event.uid,
    )


def with_future_sync_warnings(problems: Sequence[Problem], meetings: Sequence[Any]) -> list[Problem]:
    """Return ``problems`` followed by one future-sync warning per meeting that needs one."""
    reminders = [future_sync_warning(m) for m in sorted_meetings(meetings)]
    return [*problems, *(r for r in reminders if r is not None)]


def sorted_meetings(meetings: Sequence[Any]) -> list[Any]:
    """Return meetings in a stable display order: summary, then UID."""
    return sorted(meetings, key=lambda m: (m.event.summary.lower(), m.event.uid))


def plan_document(
    plan: Plan,
    meetings: Sequence[Any],
    problems: Sequence[Problem],
    *,
    command: str,
    now: datetime,
    dry_run: bool = False,
    result: dict[str, Any] | None = None,
    statuses: dict[int, Any] | None = None,
    past_uids: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the JSON document of ``plan`` (and of its sync ``result`` when applied).

    ``statuses`` maps ``id(action)`` to the sync's result of that action (``status``,
    ``message``, ``job_id``); each change then carries its ``status``.
    ``past_uids`` are the meetings left out unread because they ended; they
    are counted, and a delete of one of their jobs still names its UID.
    """
    uid_by_hash = {uid_hash(uid): uid for uid in past_uids}
    uid_by_hash.update((uid_hash(m.event.uid), m.event.uid) for m in meetings)
    actions = sorted(plan.actions, key=action_sort_key)
    changes = []
    for action in actions:
        change = change_dict(action, uid_by_hash)
        outcome = (statuses or {}).get(id(action))
        if outcome is not None:
            change["status"] = outcome.status
            change["message"] = outcome.message
            if change.get("job_id") is None:
                change["job_id"] = outcome.job_id
        changes.append(change)
    return {
        "format_version": FORMAT_VERSION,
        "command": command,
        "namespace": plan.namespace,
        "now": iso(now),
        "dry_run": dry_run,
        "summary": {
            "create": len(plan.creates),
            "update": len(plan.updates),
            "delete": len(plan.deletes),
            "unchanged": len(plan.unchanged),
        },
        "changes": changes,
        "meetings": [meeting_dict(m) for m in sorted_meetings(meetings)],
        "past_meetings_skipped": len(past_uids),
        "warnings": problem_dicts(with_future_sync_warnings(problems, meetings), "warning"),
        "errors": problem_dicts(problems, "error"),
        "result": result,
    }


def inspect_document(
    meetings: Sequence[Any], problems: Sequence[Problem], *, now: datetime, horizon_days: int
) -> dict[str, Any]:
    """Return the JSON document of ``inspect``: every meeting and every problem."""
    return {
        "format_version": FORMAT_VERSION,
        "command": "inspect",
        "now": iso(now),
        "horizon_days": horizon_days,
        "meetings": [meeting_dict(m) for m in sorted_meetings(meetings)],
        "warnings": problem_dicts(with_future_sync_warnings(problems, meetings), "warning"),
        "errors": problem_dicts(problems, "error"),
    }


def list_document(
    jobs: Sequence[RemoteJob], *, namespace: str, problems: Sequence[Problem] = ()
) -> dict[str, Any]:
    """Return the JSON document of ``list``: the namespace's managed jobs, ordered by name."""
    return {
        "format_version": FORMAT_VERSION,
        "command": "list",
        "namespace": namespace,
        "jobs": [remote_job_dict(job) for job in sorted(jobs, key=lambda j: (j.name, j.id))],
        "warnings": problem_dicts(problems, "warning"),
        "errors": problem_dicts(problems, "error"),
    }


def aborted_document(command: str, message: str) -> dict[str, Any]:
    """Return the JSON document of a command stopped by an error before it produced a result."""
    return {
        "format_version": FORMAT_VERSION,
        "command": command,
        "aborted": True,
        "warnings": [],
        "errors": [{"level": "error", "message": message}],
    }
