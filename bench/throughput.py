"""Apply 2,000 job changes against the local EasyCron server with a fixed latency per request.

The floor is ``requests x latency / concurrency``: every request waits the
server's latency, and at most ``concurrency`` requests are in flight. The
target allows 1.5 times that. The plan mixes 1,000 creates, 600 updates and
400 deletes. ``ics2conf.sync.apply`` runs the deletes first, then the
creates and updates together, as its module docstring states, so the pool
drains once between the two phases.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ics2conf.easycron import EasyCronClient, RequestRecord
from ics2conf.model import Create, Delete, Plan, RemoteJob, Update
from ics2conf.sync import apply
from tests.easycron_server import FakeEasyCron
from tests.job_factory import desired_job

from .measure import median

API_KEY = "bench-easycron-key"
MAX_RATIO = 1.5
CREATES, UPDATES, DELETES = 1_000, 600, 400


@dataclass
class Throughput:
    concurrency: int
    latency_ms: float
    walls: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # actions not applied, per run

    @property
    def changes(self) -> int:
        return CREATES + UPDATES + DELETES

    @property
    def wall(self) -> float:
        return median(self.walls)

    @property
    def floor(self) -> float:
        """Return ``requests x latency / concurrency`` in seconds, for the median request count."""
        return median(self.requests) * self.latency_ms / 1000 / self.concurrency

    @property
    def ratio(self) -> float:
        return self.wall / self.floor

    def to_dict(self) -> dict:
        return {
            "changes": self.changes,
            "concurrency": self.concurrency,
            "latency_ms": self.latency_ms,
            "wall_s": [round(w, 3) for w in self.walls],
            "requests": self.requests,
            "failed_actions": self.failed,
            "median_wall_s": round(self.wall, 3),
            "floor_s": round(self.floor, 3),
            "ratio": round(self.ratio, 3),
        }


def seed_plan(server: FakeEasyCron) -> Plan:
    """Store the jobs that the updates and deletes touch, and return the 2,000-change plan."""
    actions: list = []
    for number in range(CREATES):
        actions.append(Create(desired_job(f"new-{number}@example.com", cron_expression=_expression(number))))
    for number in range(UPDATES):
        desired = desired_job(f"moved-{number}@example.com", cron_expression=_expression(number))
        old_expression = _expression(number + 1)
        job_id = server.add_job(**{**desired.spec.to_api(), "cron_expression": old_expression})
        remote = RemoteJob(job_id, desired.spec.name, desired.spec.url, old_expression, desired.spec.timezone,
                           desired.spec.description)
        actions.append(Update(remote, desired, ("cron_expression",)))
    for number in range(DELETES):
        gone = desired_job(f"removed-{number}@example.com", cron_expression=_expression(number))
        job_id = server.add_job(**gone.spec.to_api())
        remote = RemoteJob(job_id, gone.spec.name, gone.spec.url, gone.spec.cron_expression, gone.spec.timezone)
        actions.append(Delete(remote, "no longer in the calendar"))
    return Plan("default", tuple(actions), (), UPDATES + DELETES)


def _expression(number: int) -> str:
    return f"{number % 60} {9 + number % 10} {1 + number % 28} 3 * 2027"


def measure_throughput(runs: int, concurrency: int, latency_ms: float, progress=print) -> Throughput:
    """Apply the plan ``runs`` times, each against a fresh server, and return the timings."""
    result = Throughput(concurrency, latency_ms)
    for run in range(1, runs + 1):
        with FakeEasyCron(api_key=API_KEY, latency_seconds=latency_ms / 1000) as server:
            plan = seed_plan(server)
            client = EasyCronClient(server.url, API_KEY)
            server.reset_counters()
            started = time.perf_counter()
            report = apply(plan, client, concurrency=concurrency)
            wall = time.perf_counter() - started
            requests = server.count()
            expected_jobs = CREATES + UPDATES
            if len(server.jobs()) != expected_jobs:
                progress(f"  run {run}: the account holds {len(server.jobs())} jobs, expected {expected_jobs}")
        result.walls.append(wall)
        result.requests.append(requests)
        result.failed.append(len(report.results) - len(report.applied))
        progress(f"  run {run}/{runs}: {wall:.2f} s, {requests} requests, {result.failed[-1]} actions not applied")
    return result


@dataclass
class Backoff:
    """One run with injected 429 responses: were the pauses honoured?"""

    rate_limited: int  # 429 responses received by the client
    retry_after_s: float
    sent_during_pause: int  # requests sent while a Retry-After pause was running
    wall: float
    requests: int
    failed: int

    def to_dict(self) -> dict:
        return {**self.__dict__, "wall": round(self.wall, 3)}


def measure_backoff(concurrency: int, latency_ms: float, retry_after_s: float = 1.0,
                    progress=print) -> Backoff:
    """Apply the plan once while the server rejects three creates with 429 and Retry-After.

    The client's ``on_request`` callback runs when a response arrives, so
    each record gives the send time (arrival minus duration). A request
    sent within a Retry-After pause that began when a 429 arrived means the
    pool ignored the back-off; 10 ms of slack covers a worker that was
    already past its pause check when the 429 arrived.
    """
    records: list[tuple[float, float, int | None]] = []  # (sent, arrived, status)
    lock = threading.Lock()

    def record(item: RequestRecord) -> None:
        arrived = time.monotonic()
        with lock:
            records.append((arrived - item.seconds, arrived, item.status))

    with FakeEasyCron(api_key=API_KEY, latency_seconds=latency_ms / 1000) as server:
        plan = seed_plan(server)
        for skip in (200, 500, 800):
            server.inject("rate_limit", op="create", retry_after=f"{retry_after_s:g}", skip=skip)
        client = EasyCronClient(server.url, API_KEY, on_request=record)
        server.reset_counters()
        started = time.perf_counter()
        report = apply(plan, client, concurrency=concurrency)
        wall = time.perf_counter() - started
        requests = server.count()

    pauses = [arrived for _, arrived, status in records if status == 429]
    slack = 0.010
    sent_during_pause = sum(
        1 for sent, _, _ in records
        if any(start + slack < sent < start + retry_after_s - slack for start in pauses)
    )
    result = Backoff(len(pauses), retry_after_s, sent_during_pause, wall, requests,
                     len(report.results) - len(report.applied))
    progress(f"  with 429s: {result.rate_limited} responses with 429, {sent_during_pause} requests sent during"
             f" a pause, {wall:.2f} s, {requests} requests, {result.failed} actions not applied")
    return result
