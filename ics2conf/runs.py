"""The steps behind each command, without Typer or output formats.

``prepare_plan`` reads the input and lists the account; ``execute_sync`` applies a plan under
the namespace lock. Both return plain values that ``cli`` renders.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ics2conf import plan as planner
from ics2conf.config import Settings
from ics2conf.easycron import EasyCronClient
from ics2conf.directory import load_directory
from ics2conf.errors import ConfigError, Ics2confError, PlanError
from ics2conf.model import Delete, Plan, Problem, RemoteJob, parse_job_name, uid_hash
from ics2conf.pipeline import DesiredState, build_desired

EASYCRON_KEY_VAR = "EASYCRON_API_KEY"
KOOKOO_KEY_VAR = "KOOKOO_API_KEY"


def stdin_bytes() -> Any:
    """Return the binary standard input for the ``-`` input, or None when the process has none."""
    return getattr(sys.stdin, "buffer", None)


def resolve_now(settings: Settings) -> datetime:
    """Return the moment treated as now: ``--now`` when given, else the clock (UTC)."""
    return settings.now if settings.now is not None else datetime.now(timezone.utc)


def make_client(settings: Settings) -> EasyCronClient:
    """Return an EasyCron client for the configured URL and key; the key must be set.

    The client logs each request (method, path, status, duration) at DEBUG, which
    ``--verbose`` shows.
    """
    if not settings.easycron_api_key:
        raise ConfigError(f"{EASYCRON_KEY_VAR} is not set: export your EasyCron API key in it")
    return EasyCronClient(
        settings.easycron_api_url,
        settings.easycron_api_key,
    )


def require_kookoo_key(settings: Settings, state: DesiredState) -> None:
    """Raise ConfigError when jobs would be written without the KooKoo key in their URL."""
    if state.jobs and not settings.kookoo_api_key:
        raise ConfigError(
            f"{KOOKOO_KEY_VAR} is not set: export your KooKoo API key in it; the call URLs"
            " of the jobs carry it"
        )


def managed_jobs(jobs: Sequence[RemoteJob], namespace: str) -> list[RemoteJob]:
    """Return the jobs whose name marks them as created by ics2conf in ``namespace``."""
    result = []
    for job in jobs:
        key = parse_job_name(job.name)
        if key is not None and key.namespace == namespace:
            result.append(job)
    return result


@dataclass
class PreparedPlan:
    """A plan with the input it came from and what the CLI must tell the user about it."""

    state: DesiredState
    plan: Plan
    now: datetime
    problems: list[Problem] = field(default_factory=list)  # input problems, then plan notes
    held_deletes: int = 0
    names: dict[str, str] = field(default_factory=dict)  # directory names by lower-cased email


def hold_deletes(plan: Plan, state: DesiredState) -> tuple[Plan, list[Delete]]:
    """Remove from ``plan`` the deletes that an input error may have caused; return both.

    A file that failed to read, or an event with an error, is missing from the desired jobs,
    so its existing jobs would look removed. When an error names no event (a whole file or
    feed), every delete is held. Otherwise only the deletes of the events named by an error are held.
    """
    errors = [p for p in state.problems if p.level == "error"]
    failed = set(getattr(state, "failed_uids", ()) or ())
    if not errors and not failed:
        return plan, []

    hold_all = any(p.uid is None for p in errors)
    held_hashes = {uid_hash(uid) for uid in failed | {p.uid for p in errors if p.uid}}

    kept, held = [], []
    for action in plan.actions:
        if isinstance(action, Delete):
            key = parse_job_name(action.remote.name)
            if hold_all or (key is not None and key.uid_hash in held_hashes):
                held.append(action)
                continue
        kept.append(action)
    if not held:
        return plan, []
    return dataclasses.replace(plan, actions=tuple(kept)), held


def held_deletes_problem(count: int) -> Problem:
    """Return the warning that counts the deletes held back by input errors."""
    return Problem(
        "warning",
        f"{count} job{'s' if count != 1 else ''} not deleted because the input had errors:"
        " fix the errors and run again to delete them.",
    )


def prepare_plan(
    inputs: Sequence[str],
    settings: Settings,
    *,
    client: EasyCronClient | None,
    stdin: Any = None,
) -> PreparedPlan:
    """Read the input, list the account (empty without a client) and diff the two."""
    now = resolve_now(settings)
    state = build_desired(inputs, settings, now=now, stdin=stdin if stdin is not None else stdin_bytes())
    remote = client.list_jobs() if client is not None else []
    return plan_against(state, remote, settings, now=now)


def plan_against(
    state: DesiredState, remote: Sequence[RemoteJob], settings: Settings, *, now: datetime
) -> PreparedPlan:
    """Diff the desired jobs against the account's jobs, holding deletes that input errors may cause.

    Without KOOKOO_API_KEY the desired URLs carry a placeholder key, so the
    ``api_key`` query parameter is left out of the comparison. A sync always
    has the real key and compares it.
    """
    ignored = frozenset() if settings.kookoo_api_key else frozenset({"api_key"})
    plan = planner.diff(state.jobs, remote, settings.namespace, now=now, ignored_url_params=ignored)
    plan, held = hold_deletes(plan, state)
    problems = list(state.problems)
    if held:
        problems.append(held_deletes_problem(len(held)))
    return PreparedPlan(
        state=state, plan=plan, now=now, problems=problems, held_deletes=len(held),
        names=directory_names(settings),
    )


def directory_names(settings: Settings) -> dict[str, str]:
    """Return the directory's display names by lower-cased email, for attendees the invite leaves unnamed.

    The pipeline reads the directory for numbers and has already reported its problems, so a
    file that fails to read here only leaves the names out.
    """
    if not settings.directories:
        return {}
    try:
        return dict(load_directory(list(settings.directories)).names)
    except Ics2confError:
        return {}


def mass_delete_problem(plan: Plan, allow: bool) -> Problem | None:
    """Return the mass-delete guard's message as a problem, or None when the plan passes it."""
    try:
        planner.check_mass_delete(plan, allow)
    except PlanError as error:
        return Problem("error", str(error))
    return None


def purge_plan(jobs: Sequence[RemoteJob], namespace: str) -> Plan:
    """Return a plan that deletes every managed job of ``namespace``."""
    managed = sorted(managed_jobs(jobs, namespace), key=lambda job: (job.name, job.id))
    actions = tuple(Delete(remote=job, reason=f"purge of namespace {namespace}") for job in managed)
    return Plan(namespace=namespace, actions=actions, unchanged=(), managed_count=len(managed))

