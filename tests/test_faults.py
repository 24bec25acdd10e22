"""Fault matrix: every injected fault on every call ends with the account exactly as desired.

Each scenario starts from an account holding foreign jobs, jobs of another
namespace and an older generation of this namespace's jobs, injects one
fault, runs one sync that needs creates, updates and deletes, and then
checks: every desired job exactly once with its fields, no other managed
job, foreign jobs byte for byte unchanged, and a second sync with no writes.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ics2conf.easycron import EasyCronClient
from ics2conf.errors import EasyCronError
from ics2conf.model import parse_job_name
from ics2conf.plan import changed_fields, diff
from ics2conf.sync import apply
from tests.easycron_server import FakeEasyCron
from tests.job_factory import desired_job, desired_set

NAMESPACE = "default"
INITIAL = desired_set(18)
TARGET = desired_set(21, generation=1)  # creates, updates and deletes from INITIAL

FAULTS = [
    ("status", {"status": 500}),
    ("status", {"status": 502}),
    ("status", {"status": 503}),
    ("rate_limit", {"retry_after": "0"}),
    ("reset", {}),
    ("commit_then_drop", {}),
    ("commit_then_hang", {"seconds": 0.6}),
]
OPERATIONS = ["list", "create", "update", "delete"]


def make_client(server: FakeEasyCron) -> EasyCronClient:
    return EasyCronClient(server.url, server.api_key, backoff_base_seconds=0.001, read_timeout=0.3)


def run_sync(server: FakeEasyCron, desired, namespace: str = NAMESPACE):
    client = make_client(server)
    plan = diff(desired, client.list_jobs(), namespace)
    return plan, apply(plan, client)


@pytest.fixture
def account(easycron_server):
    """Return the server prepared with foreign jobs, another namespace and INITIAL, and its foreign jobs."""
    easycron_server.add_job(cron_job_name="nightly backup", url="https://example.com/backup?api_key=x")
    easycron_server.add_job(cron_job_name="ics2conf look-alike", url="https://example.com/x")
    run_sync(easycron_server, [desired_job("other@example.com", namespace="team-b")], "team-b")
    run_sync(easycron_server, INITIAL)
    foreign = [job for job in easycron_server.jobs() if not _is_ours(job)]
    easycron_server.reset_counters()
    return easycron_server, foreign


def _is_ours(job) -> bool:
    key = parse_job_name(job["cron_job_name"])
    return key is not None and key.namespace == NAMESPACE


def assert_exactly_desired(server: FakeEasyCron, desired, foreign) -> None:
    jobs = server.jobs()
    ours = [job for job in jobs if _is_ours(job)]
    names = Counter(job["cron_job_name"] for job in ours)
    duplicates = {name: n for name, n in names.items() if n > 1}
    wanted = {job.spec.name: job for job in desired}
    assert duplicates == {}
    assert sorted(names) == sorted(wanted)  # nothing lost, no orphan
    client = make_client(server)
    for remote in client.list_jobs():
        if remote.name in wanted:
            assert changed_fields(wanted[remote.name].spec, remote) == ()
    assert [job for job in jobs if not _is_ours(job)] == foreign


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize(("kind", "options"), FAULTS, ids=[f"{k}-{o.get('status', '')}" for k, o in FAULTS])
def test_single_fault_converges(account, op, kind, options):
    server, foreign = account
    # The sync lists once, so a list fault hits that call. A write fault hits
    # the second write of its kind, in the middle of the pool.
    server.inject(kind, op, skip=0 if op == "list" else 1, **options)
    plan, report = run_sync(server, TARGET)
    assert plan.creates
    assert plan.updates
    assert plan.deletes
    assert report.ok, [r.message for r in report.failed]
    assert server.pending_faults == []
    assert_exactly_desired(server, TARGET, foreign)

    server.reset_counters()
    _, second = run_sync(server, TARGET)
    assert second.results == ()
    assert server.writes == 0


def test_empty_page_404_on_first_list(account):
    server, foreign = account
    server.inject("empty_404", "list")
    _, report = run_sync(server, TARGET)
    assert report.ok
    assert_exactly_desired(server, TARGET, foreign)


@pytest.mark.parametrize("job_count", [500, 1000])
def test_exact_page_multiple_with_404_after_last_page(job_count):
    with FakeEasyCron(beyond_last_page="404") as server:
        desired = desired_set(job_count)
        for job in desired:
            server.add_job(**job.spec.to_api())
        _, report = run_sync(server, desired)
        assert report.results == ()
        assert server.writes == 0
        assert len(server.jobs()) == job_count


def test_many_faults_at_once_converge(account):
    server, foreign = account
    for op in ("create", "update", "delete"):
        server.inject("commit_then_drop", op, times=2)
        server.inject("reset", op, times=2)
        server.inject("status", op, status=503, times=2)
    server.inject("rate_limit", None, times=3)
    server.inject("status", "list", status=502, times=2)
    _, report = run_sync(server, TARGET)
    assert report.ok, [r.message for r in report.failed]
    assert_exactly_desired(server, TARGET, foreign)


def test_lasting_outage_then_recovery(account):
    server, foreign = account
    server.inject("status", "create", status=503, times=1000)
    _, report = run_sync(server, TARGET)
    assert not report.ok
    assert {r.action.action for r in report.failed} == {"create"}
    assert all(r.status == "applied" for r in report.results if r.action.action != "create")
    server.clear_faults()
    _, recovery = run_sync(server, TARGET)
    assert recovery.ok
    assert_exactly_desired(server, TARGET, foreign)


# --- random fault mixes -------------------------------------------------------------------

RANDOM_FAULTS = [kind for kind, _ in FAULTS if kind != "commit_then_hang"]  # hangs only slow the run


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    faults=st.lists(
        st.tuples(st.sampled_from(RANDOM_FAULTS), st.sampled_from([None, *OPERATIONS]),
                  st.integers(0, 6), st.integers(1, 3), st.sampled_from([500, 502, 503])),
        max_size=8,
    ),
    concurrency=st.sampled_from([1, 4]),
)
def test_random_fault_mix_never_duplicates(faults, concurrency):
    with FakeEasyCron() as server:
        server.add_job(cron_job_name="nightly backup", url="https://example.com/backup")
        for job in INITIAL:
            server.add_job(**job.spec.to_api())
        foreign = [job for job in server.jobs() if not _is_ours(job)]
        for kind, op, skip, times, status in faults:
            server.inject(kind, op, skip=skip, times=times, status=status)

        client = make_client(server)
        try:
            plan = diff(TARGET, client.list_jobs(), NAMESPACE)
            apply(plan, client, concurrency=concurrency)
        except EasyCronError:
            pass  # the listing itself failed after its retries: nothing was written
        names = Counter(job["cron_job_name"] for job in server.jobs() if _is_ours(job))
        assert [name for name, n in names.items() if n > 1] == []
        assert [job for job in server.jobs() if not _is_ours(job)] == foreign

        server.clear_faults()
        _, report = run_sync(server, TARGET)
        assert report.ok
        assert_exactly_desired(server, TARGET, foreign)
