"""Run ``sync`` and ``purge``: lock the namespace, list, diff, guard, apply, report.

A progress bar on stderr counts the writes when there are more than ``PROGRESS_THRESHOLD``
of them, stderr is a terminal and ``--quiet`` is not given.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ics2conf import plan as planner
from ics2conf import sync as syncer
from ics2conf.config import Settings
from ics2conf.errors import PlanError
from ics2conf.lock import namespace_lock
from ics2conf.model import JobSpec, Plan, Problem, RemoteJob
from ics2conf.output import Output
from ics2conf.pipeline import DesiredState
from ics2conf.runs import (
    PreparedPlan,
    build_desired,
    make_client,
    plan_against,
    purge_plan,
    require_kookoo_key,
    resolve_now,
    stdin_bytes,
)

log = logging.getLogger("ics2conf.cli")

PROGRESS_THRESHOLD = 20  # writes; fewer finish before a bar would be worth drawing


@dataclass
class SyncOutcome:
    """The outcome of a sync or purge, ready to render."""

    prepared: PreparedPlan
    problems: list[Problem]
    result: dict[str, Any] | None  # None when nothing was applied (the guard stopped it)
    failed: bool
    statuses: dict[int, Any] = field(default_factory=dict)


class ProgressWriter:
    """An EasyCron client wrapper that advances a progress bar after each write."""

    def __init__(self, client: Any, advance: Callable[[], None]):
        self._client = client
        self._advance = advance

    def create(self, spec: JobSpec) -> int:
        try:
            return self._client.create(spec)
        finally:
            self._advance()

    def update(self, job_id: int, spec: JobSpec) -> None:
        try:
            self._client.update(job_id, spec)
        finally:
            self._advance()

    def delete(self, job_id: int, *, name: str | None = None) -> None:
        try:
            self._client.delete(job_id, name=name)
        finally:
            self._advance()

    def list_jobs(self) -> list[RemoteJob]:
        return self._client.list_jobs()

    @property
    def retry_budget_exhausted(self) -> bool:
        return bool(getattr(self._client, "retry_budget_exhausted", False))


def apply_with_progress(plan: Plan, client: Any, settings: Settings, output: Output, *,
                        desired: Sequence | None = None) -> syncer.SyncReport:
    """Apply ``plan``, drawing a progress bar on a terminal for large plans."""
    total = len(plan.actions)
    if total <= PROGRESS_THRESHOLD or output.quiet or not output.stderr_is_terminal:
        return syncer.apply(plan, client, concurrency=settings.concurrency, desired=desired)
    columns = (
        TextColumn("applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
    )
    with Progress(*columns, console=output.err_console, transient=True) as progress:
        task = progress.add_task("apply", total=total)
        writer = ProgressWriter(client, lambda: progress.advance(task))
        return syncer.apply(plan, writer, concurrency=settings.concurrency, desired=desired)


def result_dict(report: syncer.SyncReport) -> dict[str, Any]:
    """Return the JSON object of a sync's outcome."""
    applied = {kind: 0 for kind in ("create", "update", "delete")}
    for item in report.applied:
        applied[item.action.action] += 1

    def entry(item: Any) -> dict[str, Any]:
        action = item.action
        name = action.remote.name if action.action == "delete" else action.desired.spec.name
        return {"action": action.action, "job_name": name, "job_id": item.job_id, "message": item.message}

    return {
        "applied": applied,
        "failed": [entry(item) for item in report.failed],
        "not_attempted": [entry(item) for item in report.not_attempted],
        "failed_count": len(report.failed),
        "not_attempted_count": len(report.not_attempted),
        "relists": report.relists,
    }


def statuses_of(report: syncer.SyncReport) -> dict[int, Any]:
    """Return each action's result, keyed by ``id(action)``, for the per-change status."""
    return {id(item.action): item for item in report.results}


def lock_notice(settings: Settings, output: Output) -> Callable[[str | None], None]:
    """Return the callback that prints, once, why a sync pauses for the namespace lock."""

    def notice(pid: str | None) -> None:
        holder = f"process {pid}" if pid else "another process"
        output.message(
            f"Waiting for the lock of namespace {settings.namespace}, held by {holder} (another"
            f" ics2conf sync); up to {settings.lock_timeout_seconds:g} s, see --lock-timeout."
        )

    return notice


def run_sync(settings: Settings, inputs: Sequence[str], *, output: Output) -> SyncOutcome:
    """Read the input, then under the namespace lock list, diff, guard and apply."""
    client = make_client(settings)
    now = resolve_now(settings)
    state: DesiredState = build_desired(inputs, settings, now=now, stdin=stdin_bytes())
    require_kookoo_key(settings, state)

    with namespace_lock(settings.namespace, settings.lock_timeout_seconds, on_wait=lock_notice(settings, output)):
        remote = client.list_jobs()
        prepared = plan_against(state, remote, settings, now=now)
        plan, problems = prepared.plan, prepared.problems

        try:
            planner.check_mass_delete(plan, settings.allow_mass_delete)
        except PlanError as error:
            problems.append(Problem("error", str(error)))
            # The CLI prints the problem on stderr; the log file still records why the sync stopped.
            log.info("sync of namespace %s stopped: %s", settings.namespace, error)
            return SyncOutcome(prepared, problems, None, True)

        report = apply_with_progress(plan, client, settings, output, desired=state.jobs)

    result = result_dict(report)
    log.info("sync of namespace %s: %s", settings.namespace, report.summary())
    failed = not report.ok or any(problem.level == "error" for problem in problems)
    return SyncOutcome(prepared, problems, result, failed, statuses_of(report))


def run_purge(
    settings: Settings, *, output: Output, confirm: Callable[[int, str], bool]
) -> SyncOutcome | None:
    """Delete every managed job of the namespace after ``confirm``; None when not confirmed."""
    client = make_client(settings)
    now = resolve_now(settings)
    empty = DesiredState(jobs=[], meetings=[], cancelled=[], problems=[], sources=[])
    with namespace_lock(settings.namespace, settings.lock_timeout_seconds, on_wait=lock_notice(settings, output)):
        plan = purge_plan(client.list_jobs(), settings.namespace)
        prepared = PreparedPlan(state=empty, plan=plan, now=now, problems=[])
        if plan.actions and not confirm(len(plan.actions), settings.namespace):
            return None
        report = apply_with_progress(plan, client, settings, output, desired=[])
    log.info("purge of namespace %s: %s", settings.namespace, report.summary())
    return SyncOutcome(prepared, [], result_dict(report), not report.ok, statuses_of(report))

