"""Apply a Plan to the EasyCron account with a bounded pool of workers.

Ordering rule: all deletes run first, then creates and updates together.
Deleting first frees the account's job and executions-per-day allowance
before new jobs are added. Within a phase the actions are independent,
because ``diff`` emits at most one action per remote job id and at most one
create per job name, so they run in any order.

A write whose outcome is unknown (EasyCronUnknownOutcome: sent, no usable
response) is never simply repeated. After the pool drains, the account is
re-listed once, the plan is recomputed for the affected job names only, and
what is still missing or different is applied in the next round. So a job
is never created a second time without a re-list in between.

NOTE: a server that commits a create only after the client's read timeout
(30 s by default) and after the re-list would still leave a duplicate. The
next sync removes it, keeping the job with the lowest id.

Call ``check_mass_delete`` from ics2conf.plan before ``apply``; ``apply``
runs whatever plan it is given.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

from .easycron import EasyCronUnavailable
from .errors import EasyCronAuthError, EasyCronError, EasyCronUnknownOutcome
from .model import Action, Create, Delete, DesiredJob, JobSpec, Plan, RemoteJob, Update
from .plan import diff

log = logging.getLogger("ics2conf.sync")

DEFAULT_CONCURRENCY = 4
MAX_ROUNDS = 3  # rounds of (apply, re-list) before an unknown outcome is reported as failed

Status = Literal["applied", "failed", "not_attempted"]


class JobWriter(Protocol):
    """The part of EasyCronClient that ``apply`` uses."""

    def create(self, spec: JobSpec) -> int: ...
    def update(self, job_id: int, spec: JobSpec) -> None: ...
    def delete(self, job_id: int, *, name: str | None = None) -> None: ...
    def list_jobs(self) -> list[RemoteJob]: ...


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one action of the plan."""

    action: Action
    status: Status
    message: str | None = None  # the error when failed, the cause when not attempted
    job_id: int | None = None  # the id of a created job, when known


@dataclass(frozen=True)
class SyncReport:
    """The outcome of ``apply``: one result per action of the plan, in plan order."""

    results: tuple[ActionResult, ...]
    relists: int = 0  # re-lists made to settle writes whose outcome was unknown

    def _with(self, status: Status) -> list[ActionResult]:
        return [result for result in self.results if result.status == status]

    @property
    def applied(self) -> list[ActionResult]:
        return self._with("applied")

    @property
    def failed(self) -> list[ActionResult]:
        return self._with("failed")

    @property
    def not_attempted(self) -> list[ActionResult]:
        return self._with("not_attempted")

    @property
    def ok(self) -> bool:
        """Whether every action was applied."""
        return all(result.status == "applied" for result in self.results)

    def summary(self) -> str:
        """Return one line such as "applied 4 of 5 changes (2 created, ...); 1 failed"."""
        applied = self.applied
        counts = {kind: sum(1 for r in applied if r.action.action == kind) for kind in ("create", "update", "delete")}
        line = (
            f"applied {len(applied)} of {len(self.results)} changes ({counts['create']} created,"
            f" {counts['update']} updated, {counts['delete']} deleted)"
        )
        if self.failed:
            line += f"; {len(self.failed)} failed"
        if self.not_attempted:
            line += f"; {len(self.not_attempted)} not attempted"
        return line


# Severity of an outcome when one plan action needed several writes in a re-check.
_SEVERITY = {"applied": 0, "unknown": 1, "not_attempted": 2, "failed": 3}


@dataclass
class _Outcome:
    status: str  # a Status, or "unknown" until a re-list settles it
    message: str | None = None
    job_id: int | None = None


def apply(
    plan: Plan,
    client: JobWriter,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    desired: Sequence[DesiredJob] | None = None,
    relist: Callable[[], Sequence[RemoteJob]] | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> SyncReport:
    """Run the plan's actions and return what was applied, what failed and what was not attempted.

    ``desired`` (default: every desired job the plan holds) and ``relist``
    (default: ``client.list_jobs``) recompute the plan for job names whose
    write had an unknown outcome. A failed action does not stop the others,
    except that a rejected API key, or EasyCron staying unavailable after the
    retry budget is spent, leaves the remaining actions not attempted.
    """
    if desired is None:
        desired = [*plan.unchanged, *(a.desired for a in plan.actions if not isinstance(a, Delete))]
    relist = relist or client.list_jobs
    runner = _Runner(client, max(1, concurrency))

    outcomes: dict[int, _Outcome] = {}
    work: list[tuple[int, Action]] = list(enumerate(plan.actions))
    relists = 0
    for round_number in range(1, max_rounds + 1):
        round_outcomes: dict[int, _Outcome] = {}
        for origin, outcome in runner.run(work):
            previous = round_outcomes.get(origin)
            if previous is None or _SEVERITY[outcome.status] > _SEVERITY[previous.status]:
                round_outcomes[origin] = outcome
        outcomes.update(round_outcomes)

        unsettled = {origin: plan.actions[origin] for origin, o in round_outcomes.items() if o.status == "unknown"}
        if not unsettled:
            break
        if round_number == max_rounds:
            for origin in unsettled:
                outcomes[origin].status = "failed"
                outcomes[origin].message = (
                    f"{outcomes[origin].message} The outcome was still unknown after"
                    f" {relists} re-list(s); the next sync settles it."
                )
            break
        try:
            remote = relist()
            relists += 1
        except EasyCronError as exc:
            for origin in unsettled:
                outcomes[origin].status = "failed"
                outcomes[origin].message = (
                    f"{outcomes[origin].message} Re-listing the account to settle it failed: {exc}"
                )
            break
        work = _recheck(unsettled, plan.namespace, desired, remote, outcomes)

    results = tuple(
        ActionResult(action, outcomes[i].status, outcomes[i].message, outcomes[i].job_id)  # type: ignore[arg-type]
        for i, action in enumerate(plan.actions)
    )
    return SyncReport(results, relists)


def _recheck(
    unsettled: dict[int, Action],
    namespace: str,
    desired: Sequence[DesiredJob],
    remote: Sequence[RemoteJob],
    outcomes: dict[int, _Outcome],
) -> list[tuple[int, Action]]:
    """Return the writes still needed for actions whose outcome was unknown; settle the rest as applied."""
    fresh = diff(desired, remote, namespace)
    by_name: dict[str, list[Action]] = {}
    for action in fresh.actions:
        by_name.setdefault(_job_name(action), []).append(action)
    remote_by_id = {job.id: job for job in remote}

    work: list[tuple[int, Action]] = []
    for origin, action in unsettled.items():
        if isinstance(action, Delete):
            # Re-check the very job id: the name may be kept by another copy.
            still_there = remote_by_id.get(action.remote.id)
            needed: list[Action] = [Delete(still_there, action.reason)] if still_there else []
        else:
            needed = by_name.get(_job_name(action), [])
        if needed:
            work.extend((origin, follow_up) for follow_up in needed)
        else:
            outcomes[origin] = _Outcome("applied", "confirmed by re-listing the account")
            log.info("confirmed %s of job %s by re-listing the account", action.action, _job_name(action))
    return work


def _job_name(action: Action) -> str:
    return action.remote.name if isinstance(action, Delete) else action.desired.spec.name


class _Runner:
    """Runs one round of actions: deletes, then creates and updates, each phase in a thread pool."""

    def __init__(self, client: JobWriter, concurrency: int):
        self._client = client
        self._concurrency = concurrency
        self._stop_reason: str | None = None
        self._stop_lock = threading.Lock()

    def run(self, work: list[tuple[int, Action]]) -> list[tuple[int, _Outcome]]:
        deletes = [item for item in work if isinstance(item[1], Delete)]
        writes = [item for item in work if not isinstance(item[1], Delete)]
        results: list[tuple[int, _Outcome]] = []
        for phase in (deletes, writes):
            if not phase:
                continue
            with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="ics2conf-sync") as pool:
                results.extend(zip((origin for origin, _ in phase), pool.map(self._execute, (a for _, a in phase))))
        return results

    def _stop(self, reason: str) -> None:
        with self._stop_lock:
            if self._stop_reason is None:
                self._stop_reason = reason

    def _execute(self, action: Action) -> _Outcome:
        if self._stop_reason is not None:
            return _Outcome("not_attempted", self._stop_reason)
        name = _job_name(action)
        try:
            if isinstance(action, Create):
                job_id = self._client.create(action.desired.spec)
                callee = action.desired.callee
                log.info(
                    "created job %s (id %d) for event %s, attendee %s",
                    name, job_id, _plain(action.desired.event_uid), _plain(callee.address),
                )
                return _Outcome("applied", job_id=job_id)
            if isinstance(action, Update):
                self._client.update(action.remote.id, action.desired.spec)
                log.info(
                    "updated job %s (id %d) for event %s: %s changed",
                    name, action.remote.id, _plain(action.desired.event_uid), ", ".join(action.changed),
                )
                return _Outcome("applied", job_id=action.remote.id)
            self._client.delete(action.remote.id, name=name)
            log.info("deleted job %s (id %d): %s", name, action.remote.id, action.reason)
            return _Outcome("applied", job_id=action.remote.id)
        except EasyCronAuthError as exc:
            self._stop(f"not attempted because {exc}")
            log.error("%s", exc)
            return _Outcome("failed", str(exc))
        except EasyCronUnknownOutcome as exc:
            log.warning("%s", exc)
            return _Outcome("unknown", str(exc))
        except EasyCronError as exc:
            if isinstance(action, Update) and exc.status == 404:
                # Deleted by someone else since the listing: the re-check recreates it.
                log.warning("%s", exc)
                return _Outcome("unknown", str(exc))
            if isinstance(exc, EasyCronUnavailable) and getattr(self._client, "retry_budget_exhausted", False):
                self._stop(f"not attempted because EasyCron stayed unavailable: {exc}")
            log.error("%s", exc)
            return _Outcome("failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - one broken action must not lose the report of the others
            message = f"The {action.action} of job {name} failed unexpectedly: {type(exc).__name__}: {exc}"
            log.error("%s", message)
            return _Outcome("failed", message)


def _plain(text: str) -> str:
    """Return ``text`` with control characters (newlines included) shown as escapes, for one-line logs."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
