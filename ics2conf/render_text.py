"""Render plans, sync results, meetings and job lists as text on a rich Console.

Colour comes from the Console: rich enables it only on a terminal and honours ``NO_COLOR``.
Event text is passed as ``Text`` objects, never as markup, so a ``[`` in a summary prints as is.
Text that comes from a calendar or the account passes through ``printable`` first: control
characters could clear or retitle the user's terminal, and a line break would break the layout.
JSON output keeps the text exact.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.text import Text

from ics2conf.model import Create, Delete, Plan, RemoteJob, Update, uid_hash
from ics2conf.render import (
    FIELD_LABELS,
    IST,
    action_sort_key,
    describe_schedule,
    field_changes,
    in_zone,
    last_exact_year,
    sorted_meetings,
    url_phone,
    url_room,
)

TEXT_LIMIT = 200  # characters of one piece of calendar text, such as a summary or a UID
MESSAGE_LIMIT = 1000  # characters of a warning or error, which may quote calendar text
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BREAKS = re.compile("\r\n|[\r\n\t\v\f\u2028\u2029]")


def _escape(match: re.Match) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}"


def printable(text: Any, limit: int | None = TEXT_LIMIT, *, newlines: bool = False) -> str:
    """Return ``text`` safe to print on a terminal: one line, no control characters, at most ``limit`` characters.

    Line breaks and tabs become spaces (kept with ``newlines=True``); other control characters
    are shown escaped, as ``\\x1b``. Text longer than ``limit`` is cut and ends with "…".
    """
    if text is None:
        return ""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if newlines:
        text = text.replace("\r\n", "\n")
        return _CONTROL.sub(lambda m: "\n" if m.group() == "\n" else _escape(m), text)
    return _CONTROL.sub(_escape, _BREAKS.sub(" ", text))


# The pipeline ends the job description of an extra attempt with "redial N of M".
REDIAL_SUFFIX = re.compile(r"redial (\d+) of (\d+)$")
NO_CHANGES_MATCHED = "No changes. The account matches the calendars."
STYLE = {"create": "green", "update": "yellow", "delete": "red"}
SIGN = {"create": "+", "update": "~", "delete": "-"}


def format_moment(moment: datetime, zone: str) -> str:
    """Format an instant in ``zone`` and in IST: ``Mon 2026-01-05 10:00 CET (14:30 IST)``."""
    local = in_zone(moment, zone)
    text = local.strftime("%a %Y-%m-%d %H:%M %Z")
    if local.utcoffset() == local.astimezone(IST).utcoffset() and local.tzname() == "IST":
        return text
    ist = moment.astimezone(IST)
    ist_text = ist.strftime("%H:%M IST") if ist.date() == local.date() else ist.strftime("%a %Y-%m-%d %H:%M IST")
    return f"{text} ({ist_text})"


def format_date(moment: datetime, zone: str) -> str:
    """Format the local date and time of an instant in ``zone``: ``2026-02-04 10:00 CET``."""
    return in_zone(moment, zone).strftime("%Y-%m-%d %H:%M %Z")


def exactness_line(meeting: Any) -> Text:
    """Return the line stating until when a meeting's jobs stay exact without another sync."""
    if getattr(meeting, "schedule", None) is None:
        return Text("no calls scheduled", style="dim")
    if meeting.exact_until is None:
        return Text("exact with no further sync", style="dim")
    if last_exact_year(meeting) is None:
        last_year = (in_zone(meeting.exact_until, meeting.event.zone) - timedelta(minutes=1)).year
        return Text(f"exact with no further sync (through {last_year})", style="dim")
    until = format_date(meeting.exact_until, meeting.event.zone)
    return Text(f"exact until {until}: run sync again before then", style="yellow")


def attendee_label(name: str | None, address: str) -> str:
    """Return ``Name <email>`` for an attendee, or the bare address when there is no other name."""
    shown = address[len("mailto:"):] if address.lower().startswith("mailto:") else address
    if name and name.strip().lower() != shown.lower():
        return f"{printable(name)} <{printable(shown)}>"
    return printable(shown)


def _attendee(callee: Any, names: Mapping[str, str] | None = None) -> str:
    """Return a callee's label; without a name in the invite, the directory's name (by email)."""
    name = callee.name
    address = _bare_address(callee.address)
    if names and (not name or name.strip().lower() == address):
        # An invite without CN, or with the address as CN (Outlook writes that).
        name = names.get(address) or names.get(callee.key) or name
    return attendee_label(name, callee.address)


def _bare_address(address: str) -> str:
    address = (address or "").strip().lower()
    return address[len("mailto:"):] if address.startswith("mailto:") else address


def _schedule_lines(expression: str, zone: str, next_run: datetime | None) -> list[Text]:
    lines = [Text.assemble("      schedule  ", (expression, "bold"), f"  ({describe_schedule(expression)}, {zone})")]
    if next_run is not None:
        lines.append(Text(f"      next run  {format_moment(next_run, zone)}"))
    return lines


def action_lines(action: Create | Update | Delete, names: Mapping[str, str] | None = None) -> list[Text]:
    """Return the lines of one planned change; ``names`` maps emails to the directory's names."""
    kind = action.action
    head = Text(f"  {SIGN[kind]} {kind:<6} ", style=STYLE[kind])
    if isinstance(action, Delete):
        remote = action.remote
        phone, room = url_phone(remote.url), url_room(remote.url)
        details = ", ".join(
            p for p in (f"phone {printable(phone)}" if phone else "", f"room {printable(room)}" if room else "") if p
        )
        lines = [head + Text(printable(remote.name)) + Text(f"  ({printable(action.reason, MESSAGE_LIMIT)})", style="dim")]
        if remote.description:
            # The description names the meeting and attendee, which the hashed name cannot.
            lines.append(Text(f"      job for  {printable(' '.join(remote.description.split()), MESSAGE_LIMIT)}"))
        if details:
            lines.append(Text(f"      {details}"))
        lines.append(
            Text.assemble(
                "      schedule  ",
                printable(remote.cron_expression),
                f"  ({printable(describe_schedule(remote.cron_expression))}, {printable(remote.timezone)})",
            )
        )
        return lines

    desired = action.desired
    attempt = REDIAL_SUFFIX.search(desired.spec.description)
    label = f"  (redial {attempt.group(1)} of {attempt.group(2)})" if attempt else ""
    lines = [head + Text(f"{_attendee(desired.callee, names)}  {desired.callee.phone}{label}")]
    if isinstance(action, Create):
        lines.extend(_schedule_lines(desired.spec.cron_expression, desired.spec.timezone, desired.next_run))
        return lines
    for name, change in field_changes(action).items():
        label = FIELD_LABELS.get(name, name)
        if change["before"] is None and change["after"] is None:
            lines.append(Text(f"      {label} changed"))
        else:
            before, after = printable(change["before"]), printable(change["after"])
            lines.append(Text(f"      {label}  {before} -> {after}", style="yellow"))
    if "cron_expression" in action.changed or "timezone" in action.changed:
        lines.append(Text(f"      now reads  {describe_schedule(desired.spec.cron_expression)}, {desired.spec.timezone}"))
    else:
        lines.append(Text(f"      schedule  {desired.spec.cron_expression}  ({describe_schedule(desired.spec.cron_expression)}, {desired.spec.timezone})"))
    if desired.next_run is not None:
        lines.append(Text(f"      next run  {format_moment(desired.next_run, desired.spec.timezone)}"))
    return lines


def meeting_ids_line(meeting: Any) -> str:
    """Return the ``UID ...  zone ...  room ...`` line under a meeting's title."""
    event = meeting.event
    return f"  UID {printable(event.uid)}  zone {printable(event.zone)}  room {printable(str(meeting.room))}"


def no_jobs_reason(meeting: Any) -> str:
    """Return why a meeting has no jobs, in a few words."""
    if meeting.event.all_day:
        return "all-day event"
    if not meeting.occurrences:
        return "no occurrence in the window"
    if not meeting.callees:
        return "nobody with a phone number to call"
    if not meeting.calls:
        return "every call falls in the quiet hours"
    return "see the errors above"


def _print_action(
    console: Console,
    action: Create | Update | Delete,
    statuses: dict[int, Any] | None,
    names: Mapping[str, str] | None = None,
) -> None:
    for line in action_lines(action, names):
        console.print(line)
    outcome = (statuses or {}).get(id(action))
    if outcome is not None and outcome.status != "applied":
        state = "FAILED" if outcome.status == "failed" else "NOT ATTEMPTED"
        console.print(Text(f"      {state}: {printable(outcome.message, MESSAGE_LIMIT)}", style="red"))


def render_plan(
    console: Console,
    plan: Plan,
    meetings: Sequence[Any],
    *,
    title: str = "Plan",
    orphan_title: str = "Jobs of meetings no longer in the input",
    statuses: dict[int, Any] | None = None,
    no_changes: str = NO_CHANGES_MATCHED,
    names: Mapping[str, str] | None = None,
    past_uids: Sequence[str] = (),
) -> None:
    """Print ``plan`` grouped by meeting, then its one-line summary.

    ``past_uids`` are meetings left out unread because they ended: deletes of
    their jobs are listed under their own heading, and they count as not shown.

    ``names`` maps lower-cased emails to the directory's names, shown for callees whose invite
    gives no name. ``no_changes`` is the sentence printed when the plan changes nothing (see ``no_changes_line``).

    Deletes of jobs whose meeting is not in ``meetings`` are listed last under ``orphan_title``.
    ``statuses`` maps ``id(action)`` to a sync's result; actions that were not applied get a
    line saying so.
    """
    by_hash = {uid_hash(m.event.uid): m for m in meetings}
    past_hashes = {uid_hash(uid) for uid in past_uids}
    grouped: dict[str, list] = defaultdict(list)
    orphans: list[Delete] = []
    ended: list[Delete] = []
    for action in sorted(plan.actions, key=action_sort_key):
        if isinstance(action, Delete):
            parts = action.remote.name.split(".")
            meeting = by_hash.get(parts[2]) if len(parts) >= 5 else None
            if meeting is None and len(parts) >= 5 and parts[2] in past_hashes:
                ended.append(action)
                continue
            if meeting is None:
                orphans.append(action)
                continue
            grouped[meeting.event.uid].append(action)
        else:
            grouped[action.desired.event_uid].append(action)
    unchanged: dict[str, int] = defaultdict(int)
    for job in plan.unchanged:
        unchanged[job.event_uid] += 1

    idle = 0
    for meeting in sorted_meetings(meetings):
        event = meeting.event
        if not grouped.get(event.uid) and not unchanged.get(event.uid) and not meeting.occurrences:
            # Past or far-future meetings would bury the changes in an export of a whole calendar.
            idle += 1
            continue
        console.print(Text(f'Meeting "{printable(event.summary)}"', style="bold"))
        console.print(Text(meeting_ids_line(meeting), style="dim"))
        console.print(Text("  ") + exactness_line(meeting))
        for action in grouped.get(event.uid, []):
            _print_action(console, action, statuses, names)
        count = unchanged.get(event.uid, 0)
        if count:
            console.print(Text(f"  = {count} job{'s' if count != 1 else ''} unchanged", style="dim"))
        if not grouped.get(event.uid) and not count:
            console.print(Text(f"  (no jobs: {no_jobs_reason(meeting)})", style="dim"))
        console.print()

    if ended:
        console.print(Text("Jobs of meetings that have ended", style="bold"))
        for action in ended:
            _print_action(console, action, statuses, names)
        console.print()

    if orphans:
        console.print(Text(orphan_title, style="bold"))
        for action in orphans:
            _print_action(console, action, statuses, names)
        console.print()

    idle += len(past_uids)
    if idle:
        console.print(
            Text(
                f"{idle} more meeting{'s' if idle != 1 else ''} without jobs or occurrences in the"
                f" window {'is' if idle == 1 else 'are'} not shown; ics2conf inspect lists them.",
                style="dim",
            )
        )
    if not plan.has_changes:
        console.print(no_changes)
    console.print(summary_line(plan, title))


def no_changes_line(*, account_listed: bool, input_errors: bool, has_jobs: bool, purge: bool = False) -> str:
    """Return the sentence for a plan without changes, saying what was actually compared."""
    if purge:
        return "No changes. The namespace has no jobs to delete."
    if input_errors:
        return "No changes planned, but the input had errors (see above)."
    if not account_listed:
        if has_jobs:
            return "No changes planned; no EasyCron account was listed."
        return "Nothing to schedule: no calls in the window."
    return NO_CHANGES_MATCHED


def summary_line(plan: Plan, title: str = "Plan") -> str:
    """Return ``Plan: 3 to create, 1 to update, 0 to delete.``"""
    return (
        f"{title}: {len(plan.creates)} to create, {len(plan.updates)} to update, "
        f"{len(plan.deletes)} to delete."
    )


def render_result(console: Console, result: dict[str, Any]) -> None:
    """Print the outcome of a sync: what was applied, what failed, what was not attempted."""
    applied = result["applied"]
    console.print(
        f"Applied: {applied['create']} created, {applied['update']} updated, {applied['delete']} deleted"
        f"; {result['failed_count']} failed, {result['not_attempted_count']} not attempted."
    )


def render_inspect(
    console: Console,
    meetings: Sequence[Any],
    *,
    now: datetime,
    horizon_days: int,
    names: Mapping[str, str] | None = None,
) -> None:
    """Print each meeting: occurrences in its zone and IST, callees, skipped attendees, problems.

    ``names`` maps lower-cased emails to the directory's names, shown for callees whose invite
    gives no name.
    """
    console.print(Text(f"Window: {format_moment(now, 'Asia/Kolkata')} + {horizon_days} days", style="dim"))
    console.print()
    for meeting in sorted_meetings(meetings):
        event = meeting.event
        console.print(Text(f'Meeting "{printable(event.summary)}"', style="bold"))
        console.print(Text(meeting_ids_line(meeting), style="dim"))
        console.print(Text(f"  from {printable(event.source, MESSAGE_LIMIT)}", style="dim"))
        console.print(Text("  ") + exactness_line(meeting))
        occurrences = list(meeting.occurrences)
        console.print(f"  occurrences in the window ({len(occurrences)}):")
        for start in occurrences:
            console.print(f"    {format_moment(start, event.zone)}")
        calls = list(getattr(meeting, "calls", None) or ())
        if calls != occurrences:
            # Lead time or the quiet hours moved or removed calls: list when phones ring.
            note = "" if calls else " every call was dropped, see the warnings below"
            console.print(f"  call times ({len(calls)}):{note}")
            for moment in calls:
                console.print(f"    {format_moment(moment, event.zone)}")
        console.print(f"  attendees called ({len(meeting.callees)}):")
        exceptions = getattr(meeting, "exceptions", None) or {}
        for callee in meeting.callees:
            console.print(Text(f"    {_attendee(callee, names)} -> {callee.phone}"))
            exception = exceptions.get(callee.key)
            if exception is not None and exception.called_only is not None:
                starts = ", ".join(format_moment(start, event.zone) for start in exception.called_only)
                console.print(Text(f"      rung only at: {starts or 'no occurrence in the window'}"))
            elif exception is not None and exception.not_called:
                starts = ", ".join(format_moment(start, event.zone) for start in exception.not_called)
                console.print(Text(f"      not rung at: {starts}"))
            if exception is not None and exception.schedule is not None:
                own = "; ".join(part.cron_expression for part in exception.schedule.parts)
                console.print(Text(f"      own schedule: {own or 'no expression'}"))
        if meeting.skipped:
            console.print(f"  attendees skipped ({len(meeting.skipped)}):")
            for skipped in meeting.skipped:
                who = attendee_label(skipped.name, skipped.address)
                console.print(Text(f"    {who}: {printable(skipped.reason, MESSAGE_LIMIT)}"))
        schedule = getattr(meeting, "schedule", None)
        parts = list(schedule.parts) if schedule is not None else []
        for extra in getattr(meeting, "redial_schedules", None) or ():
            parts.extend(extra.parts)
        if parts:
            whom = "per attendee without their own schedule" if exceptions else "per attendee"
            console.print(f"  schedule ({len(parts)} expression{'s' if len(parts) != 1 else ''} {whom}):")
            for part in parts:
                console.print(Text(f"    {part.cron_expression}  ({describe_schedule(part.cron_expression)}, {part.timezone})"))
        for problem in getattr(meeting, "problems", None) or ():
            style = "red" if problem.level == "error" else "yellow"
            console.print(Text(f"  {problem.level}: {printable(problem.message, MESSAGE_LIMIT)}", style=style))
        console.print()
    console.print(f"{len(meetings)} meeting{'s' if len(meetings) != 1 else ''}.")


def render_list(console: Console, jobs: Sequence[RemoteJob], *, namespace: str) -> None:
    """Print the managed jobs of a namespace, one block per job, ordered by name."""
    for job in sorted(jobs, key=lambda j: (j.name, j.id)):
        phone, room = url_phone(job.url), url_room(job.url)
        state = "" if job.status in (None, 1) else "  (disabled)"
        console.print(Text.assemble((printable(job.id), "bold"), f"  {printable(job.name)}{state}"))
        if job.description:
            console.print(Text(f"    {printable(' '.join(job.description.split()), MESSAGE_LIMIT)}"))
        console.print(Text(f"    phone {printable(phone) or '?'}  room {printable(room) or '?'}"))
        expression = printable(job.cron_expression)
        console.print(Text(f"    {expression}  ({printable(describe_schedule(job.cron_expression))}, {printable(job.timezone)})"))
    console.print(f"{len(jobs)} job{'s' if len(jobs) != 1 else ''} in namespace {namespace}.")
