"""Diff desired jobs against the account's jobs into a Plan; pure, no I/O.

Ownership: a remote job is managed only when its name parses as an
ics2conf job name (``parse_job_name``) of the namespace being planned. Every
other job, foreign or of another namespace, is never updated or deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .cronexpr import CronSyntaxError, fire_times, parse_cron
from .errors import PlanError
from .model import Action, Create, Delete, DesiredJob, JobSpec, Plan, RemoteJob, Update, parse_job_name

REASON_NOT_DESIRED = "no longer in the calendar"
REASON_EXPIRED = "its last run has passed"
# The meeting is still planned, but no longer rings this attendee or uses this schedule part.
REASON_NOT_NEEDED = "its meeting no longer needs it"
REASON_DUPLICATE = "duplicate"  # followed by " of job <id>"

# Deleting more than this share of a namespace's jobs, and more than
# MASS_DELETE_MIN_COUNT of them, needs --allow-mass-delete.
MASS_DELETE_MIN_COUNT = 5
MASS_DELETE_SHARE = 0.5

# JobSpec fields compared with the remote job, in the order changes are listed.
COMPARED_FIELDS = (
    "url",
    "cron_expression",
    "timezone",
    "http_method",
    "success_criterion",
    "failure_regexp",
    "status",
    "description",
)


def normalize_url(
    url: str, ignored_params: frozenset[str] = frozenset()
) -> tuple[str, str, str, tuple[tuple[str, str], ...], str]:
    """Return a comparable form of a URL in which re-encoding the same query does not count as a change.

    The query becomes its decoded, sorted (name, value) pairs, so ``%3C`` and
    ``%3c``, ``+`` and ``%20``, or a different parameter order compare equal.
    Query parameters named in ``ignored_params`` are left out.
    """
    parts = urlsplit(url.strip())
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = tuple(sorted((name, value) for name, value in pairs if name not in ignored_params))
    return parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, parts.fragment


def normalize_expression(expression: str) -> str:
    """Return a cron expression with runs of whitespace collapsed to one space."""
    return " ".join(expression.split())


def changed_fields(
    spec: JobSpec, remote: RemoteJob, ignored_url_params: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """Return the names of the managed fields whose remote value differs from ``spec``.

    A field the API did not return (None in RemoteJob) is not compared,
    because it cannot be read back; every update sends it anyway.
    """
    changed = []
    for name in COMPARED_FIELDS:
        wanted = getattr(spec, name)
        actual = getattr(remote, name)
        if actual is None:
            continue
        if name == "url":
            differs = normalize_url(wanted, ignored_url_params) != normalize_url(actual, ignored_url_params)
        elif name == "cron_expression":
            differs = normalize_expression(wanted) != normalize_expression(actual)
        elif name == "http_method":
            differs = wanted.upper() != actual.upper()
        elif name == "description":
            differs = wanted.strip() != actual.strip()
        else:
            differs = wanted != actual
        if differs:
            changed.append(name)
    return tuple(changed)


def is_expired(job: RemoteJob, now: datetime) -> bool:
    """Return whether a job's expression pins years that hold no fire at or after ``now``.

    An expression without a year field, or one that cannot be parsed, never
    counts as expired.
    """
    try:
        years = parse_cron(job.cron_expression).years
        ZoneInfo(job.timezone or "UTC")
    except (CronSyntaxError, ZoneInfoNotFoundError, ValueError):
        return False
    if years is None:
        return False
    # Two days past the last pinned year cover every zone's offset from UTC.
    end = datetime(max(years) + 1, 1, 3, tzinfo=timezone.utc)
    if end <= now:
        return True
    if max(years) > now.year + 1:
        return False  # a later year is pinned; not worth evaluating
    fires = fire_times(job.cron_expression, job.timezone or "UTC", now, end)
    return not (fires.instants or fires.nonexistent or fires.ambiguous)


def diff(
    desired: Sequence[DesiredJob],
    remote: Sequence[RemoteJob],
    namespace: str,
    *,
    now: datetime | None = None,
    ignored_url_params: frozenset[str] = frozenset(),
) -> Plan:
    """Return the actions that turn the namespace's managed jobs into exactly ``desired``.

    Missing jobs are created, changed ones updated in place, and managed jobs
    no longer desired deleted. When several remote jobs carry one name (an
    older crash or a concurrent run), the lowest id is kept and the rest are
    deleted as duplicates. With ``now`` (aware), a delete of a job whose last
    fire time has passed carries REASON_EXPIRED, which the mass-delete guard
    does not count. Query parameters named in ``ignored_url_params`` are
    not compared: a plan made without the KooKoo key ignores ``api_key``, so
    jobs that differ only by the real key show as unchanged. Raises PlanError when a desired job's name is not a
    job name of ``namespace`` or two desired jobs share a name, because
    writing such a job would break ownership on the next sync.
    """
    wanted = _index_desired(desired, namespace)

    managed: dict[str, list[RemoteJob]] = defaultdict(list)
    for job in remote:
        key = parse_job_name(job.name)
        if key is not None and key.namespace == namespace:
            managed[job.name].append(job)
    managed_count = sum(len(jobs) for jobs in managed.values())

    creates: list[Create] = []
    updates: list[Update] = []
    deletes: list[Delete] = []
    unchanged: list[DesiredJob] = []

    for name, job in wanted.items():
        copies = sorted(managed.get(name, ()), key=lambda r: r.id)
        if not copies:
            creates.append(Create(job))
            continue
        kept, extra = copies[0], copies[1:]
        changes = changed_fields(job.spec, kept, ignored_url_params)
        if changes:
            updates.append(Update(kept, job, changes))
        else:
            unchanged.append(job)
        deletes.extend(Delete(copy, f"{REASON_DUPLICATE} of job {kept.id}") for copy in extra)

    uid_of_hash = {parse_job_name(job.spec.name).uid_hash: job.event_uid for job in wanted.values()}
    for name, copies in managed.items():
        if name not in wanted:
            key = parse_job_name(name)
            for copy in sorted(copies, key=lambda r: r.id):
                if now is not None and is_expired(copy, now):
                    reason = REASON_EXPIRED
                elif key is not None and key.uid_hash in uid_of_hash:
                    reason = REASON_NOT_NEEDED
                else:
                    reason = REASON_NOT_DESIRED
                deletes.append(Delete(copy, reason))

    actions: list[Action] = [*creates, *updates, *deletes]
    actions.sort(key=lambda action: _action_order(action, uid_of_hash))
    unchanged.sort(key=lambda job: (job.event_uid, job.spec.name))
    return Plan(namespace=namespace, actions=tuple(actions), unchanged=tuple(unchanged), managed_count=managed_count)


def _index_desired(desired: Sequence[DesiredJob], namespace: str) -> dict[str, DesiredJob]:
    wanted: dict[str, DesiredJob] = {}
    for job in desired:
        key = parse_job_name(job.spec.name)
        if key is None or key.namespace != namespace:
            raise PlanError(
                f"Job name {job.spec.name!r} for event {job.event_uid} is not an ics2conf job name"
                f" of namespace {namespace!r}, so a later sync could not find the job again."
                " This is a bug in ics2conf; please report it with the event."
            )
        other = wanted.get(job.spec.name)
        if other is not None and other.spec != job.spec:
            raise PlanError(
                f"Events {other.event_uid} and {job.event_uid} map to the same job name"
                f" {job.spec.name} with different schedules. This is a bug in ics2conf;"
                " please report it with both events."
            )
        wanted[job.spec.name] = job
    return wanted


def _action_order(action: Action, uid_of_hash: dict[str, str]) -> tuple[int, str, str, int]:
    """Sort by event UID, then job name; deletes of events no longer present come last."""
    if isinstance(action, Delete):
        key = parse_job_name(action.remote.name)
        uid = uid_of_hash.get(key.uid_hash) if key else None
        if uid is None:
            return (1, key.uid_hash if key else "", action.remote.name, action.remote.id)
        return (0, uid, action.remote.name, action.remote.id)
    return (0, action.desired.event_uid, action.desired.spec.name, 0)


def is_duplicate_delete(action: Action) -> bool:
    """Return whether ``action`` deletes an extra copy of a job that is kept."""
    return isinstance(action, Delete) and action.reason.startswith(REASON_DUPLICATE)


def check_mass_delete(plan: Plan, allow: bool) -> None:
    """Raise PlanError when the plan deletes most of the namespace's jobs and ``allow`` is False.

    The guard trips when more than half of the namespace's managed jobs, and
    more than five, would be deleted. Removing duplicates does not count,
    because their job stays in the account, and neither does removing jobs
    whose last run has passed (see ``diff``), because they can never fire again.
    """
    if allow:
        return
    duplicates = sum(1 for action in plan.deletes if is_duplicate_delete(action))
    expired = sum(1 for action in plan.deletes if action.reason == REASON_EXPIRED)
    removals = len(plan.deletes) - duplicates - expired
    total = plan.managed_count - duplicates - expired
    if removals > MASS_DELETE_MIN_COUNT and removals > total * MASS_DELETE_SHARE:
        raise PlanError(
            f"The sync would delete {removals} of the {total} jobs in namespace {plan.namespace!r},"
            " more than half of them. An empty, truncated or wrong calendar export looks like"
            " this, so nothing was changed. Check the input files; if the meetings were really"
            " removed, run the sync again with --allow-mass-delete."
        )
