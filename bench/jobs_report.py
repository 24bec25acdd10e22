"""Count jobs per call: the plan's jobs against the calls the export contains within the horizon.

The number of calls (occurrence x attendee to ring: not declined, not the
organizer) comes from the generator, which knows every occurrence it wrote.
A test checks that count against recurring-ical-events. The fires of the plan's jobs inside the
horizon are counted with croniter, independently of ics2conf's own cron
evaluator, so "fires == calls" is a cross-check of exactness.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterError, croniter


@dataclass(frozen=True)
class JobsPerCall:
    label: str
    jobs: int
    events_with_jobs: int
    occurrences: int  # occurrences in [now, now + horizon) per the generator
    calls: int  # occurrences x attendees to ring (not declined, not the organizer), per the generator
    fires: int  # fires of the plan's jobs in [now, now + horizon), per croniter
    unchecked_jobs: int  # jobs whose expression croniter cannot evaluate
    warnings: int
    errors: int
    # Events whose job fires differ from their calls: UID -> (calls, fires).
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def jobs_per_call(self) -> float:
        return self.jobs / self.calls if self.calls else float("nan")

    def to_dict(self) -> dict:
        data = {**self.__dict__, "jobs_per_call": round(self.jobs_per_call, 4)}
        data["mismatched"] = {uid: list(pair) for uid, pair in self.mismatched.items()}
        return data


def parse_years(field: str) -> set[int] | None:
    """Return the years an EasyCron year field allows, or None for ``*`` (every year)."""
    if field in ("*", "?"):
        return None
    years: set[int] = set()
    for item in field.split(","):
        if "-" in item:
            first, last = item.split("-", 1)
            years.update(range(int(first), int(last) + 1))
        else:
            years.add(int(item))
    return years


def count_fires(expression: str, zone: str, start: datetime, end: datetime) -> int:
    """Count the fires of an EasyCron expression (optional year field) in ``[start, end)``.

    Raises ValueError or CroniterError when croniter cannot evaluate the expression.
    """
    fields = expression.split()
    years = parse_years(fields[5]) if len(fields) == 6 else None
    tz = ZoneInfo(zone)
    local_start = start.astimezone(tz)
    # croniter returns instants strictly after its start, so start one second early.
    iterator = croniter(" ".join(fields[:5]), local_start - timedelta(seconds=1))
    fires = 0
    while True:
        moment = iterator.get_next(datetime)
        if moment >= end:
            return fires
        if years is None or moment.year in years:
            fires += 1


def jobs_per_call(label: str, plan: dict, counts: dict, calls_by_uid: dict[str, int], now: datetime,
                  horizon_days: int) -> JobsPerCall:
    """Compare the jobs of a plan made against an empty account with the export's calls."""
    end = now + timedelta(days=horizon_days)
    jobs = [change for change in plan.get("changes", []) if change.get("action") == "create"]
    fires_by_uid: Counter = Counter()
    unchecked = 0
    for job in jobs:
        try:
            fires_by_uid[job.get("event_uid")] += count_fires(job["cron_expression"], job["timezone"], now, end)
        except (CroniterError, ValueError, KeyError):
            unchecked += 1
    mismatched = {
        uid: (calls_by_uid.get(uid, 0), fires_by_uid.get(uid, 0))
        for uid in sorted(set(calls_by_uid) | set(fires_by_uid))
        if calls_by_uid.get(uid, 0) != fires_by_uid.get(uid, 0)
    }
    fires = sum(fires_by_uid.values())
    return JobsPerCall(
        label=label,
        jobs=len(jobs),
        events_with_jobs=len({job.get("event_uid") for job in jobs}),
        occurrences=int(counts.get("occurrences_in_horizon", 0)),
        calls=int(counts.get("calls_in_horizon", 0)),
        fires=fires,
        unchecked_jobs=unchecked,
        warnings=len(plan.get("warnings", [])),
        errors=len(plan.get("errors", [])),
        mismatched=mismatched,
    )
