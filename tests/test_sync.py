"""Applying plans against the local EasyCron server: idempotence, ownership, reports and logs."""

from __future__ import annotations

import logging
import threading

import pytest

from ics2conf.easycron import EasyCronClient
from ics2conf.model import make_job_key, parse_job_name
from ics2conf.plan import diff
from ics2conf.sync import apply
from tests.easycron_server import FakeEasyCron
from tests.job_factory import KOOKOO_TEST_KEY, desired_job, desired_set


def client_for(server: FakeEasyCron, **options) -> EasyCronClient:
    options.setdefault("backoff_base_seconds", 0.001)
    return EasyCronClient(server.url, server.api_key, **options)


def sync(server: FakeEasyCron, desired, namespace: str = "default", *, client=None, **options):
    client = client or client_for(server)
    plan = diff(desired, client.list_jobs(), namespace)
    return apply(plan, client, **options)


def managed_names(server: FakeEasyCron, namespace: str = "default") -> list[str]:
    return sorted(
        job["cron_job_name"] for job in server.jobs()
        if (key := parse_job_name(job["cron_job_name"])) and key.namespace == namespace
    )


def test_first_sync_creates_second_writes_nothing(easycron_server):
    desired = desired_set(9)
    report = sync(easycron_server, desired)
    assert report.ok
    assert len(report.applied) == 9
    assert managed_names(easycron_server) == sorted(job.spec.name for job in desired)

    easycron_server.reset_counters()
    second = sync(easycron_server, desired)
    assert second.results == ()
    assert easycron_server.writes == 0
    assert easycron_server.count("list") == 1


def test_edit_updates_in_place(easycron_server):
    job = desired_job("standup@example.com")
    sync(easycron_server, [job])
    [before] = easycron_server.jobs()
    moved = desired_job("standup@example.com", cron_expression="0 11 15 1 * 2027")
    report = sync(easycron_server, [moved])
    assert [r.action.action for r in report.applied] == ["update"]
    [after] = easycron_server.jobs()
    assert after["cron_job_id"] == before["cron_job_id"]
    assert after["cron_expression"] == "0 11 15 1 * 2027"


def test_removed_meeting_deleted(easycron_server):
    kept, removed = desired_job("kept@example.com"), desired_job("removed@example.com")
    sync(easycron_server, [kept, removed])
    report = sync(easycron_server, [kept])
    assert [r.action.action for r in report.applied] == ["delete"]
    assert managed_names(easycron_server) == [kept.spec.name]


def test_foreign_and_other_namespace_untouched(easycron_server):
    easycron_server.add_job(cron_job_name="nightly backup", url="https://example.com/backup")
    easycron_server.add_job(cron_job_name="", url="https://example.com/unnamed")
    other = desired_job("standup@example.com", namespace="team-b")
    sync(easycron_server, [other], "team-b")
    before = easycron_server.jobs()

    sync(easycron_server, desired_set(6))
    sync(easycron_server, [])  # nothing desired: only namespace "default" is emptied
    assert easycron_server.jobs() == before


def test_duplicates_reduced_to_one(easycron_server):
    job = desired_job("standup@example.com")
    ids = [easycron_server.add_job(**job.spec.to_api()) for _ in range(3)]
    report = sync(easycron_server, [job])
    assert report.ok
    assert [j["cron_job_id"] for j in easycron_server.jobs()] == [min(ids)]


def test_failed_action_does_not_stop_others(easycron_server):
    good = desired_set(6)
    bad = desired_job("mars@example.com", timezone_name="Mars/Olympus_Mons")
    report = sync(easycron_server, [*good, bad])
    assert not report.ok
    assert len(report.applied) == 6
    [failed] = report.failed
    assert failed.action.desired is bad
    assert bad.spec.name in failed.message
    assert "Mars/Olympus_Mons" in failed.message
    assert report.summary() == "applied 6 of 7 changes (6 created, 0 updated, 0 deleted); 1 failed"


def test_rejected_key_stops_the_rest(easycron_server):
    client = client_for(easycron_server)
    plan = diff(desired_set(8), client.list_jobs(), "default")
    wrong = EasyCronClient(easycron_server.url, "wrong-key")
    report = apply(plan, wrong, concurrency=1)
    assert len(report.failed) == 1
    assert "EasyCron rejected the API key" in report.failed[0].message
    assert len(report.not_attempted) == 7
    assert all("EasyCron rejected the API key" in r.message for r in report.not_attempted)
    assert easycron_server.writes == 1


def test_persistent_outage_leaves_rest_not_attempted(easycron_server):
    sync(easycron_server, desired_set(24))
    client = client_for(easycron_server, retry_budget_seconds=0, sleep=lambda s: None)
    plan = diff(desired_set(24, generation=5), client.list_jobs(), "default")
    easycron_server.inject("status", "update", status=502, times=1000)
    report = apply(plan, client, concurrency=1)
    assert len(plan.updates) == 5
    assert len(report.failed) == 1
    assert "failed after 1 attempt(s)" in report.failed[0].message
    assert len(report.not_attempted) == 4
    assert "EasyCron stayed unavailable" in report.not_attempted[0].message


def test_persistent_create_errors_end_as_failed(easycron_server):
    client = client_for(easycron_server)
    plan = diff(desired_set(3), client.list_jobs(), "default")
    easycron_server.inject("status", "create", status=503, times=1000)
    report = apply(plan, client)
    assert report.relists == 2  # each round of creates is followed by a re-list
    assert easycron_server.count("create") == 9
    assert len(report.failed) == 3
    assert "still unknown after 2 re-list(s)" in report.failed[0].message
    assert easycron_server.jobs() == []


def test_unknown_create_relisted_not_duplicated(easycron_server):
    desired = desired_set(6)
    easycron_server.inject("commit_then_drop", "create", times=2)
    report = sync(easycron_server, desired)
    assert report.ok
    assert report.relists == 1
    assert managed_names(easycron_server) == sorted(job.spec.name for job in desired)
    assert easycron_server.count("create") == 6  # the two committed creates were not sent again


def test_unknown_create_not_committed_created_after_relist(easycron_server):
    desired = desired_set(3)
    easycron_server.inject("reset", "create")
    report = sync(easycron_server, desired)
    assert report.ok
    assert easycron_server.count("create") == 4
    assert managed_names(easycron_server) == sorted(job.spec.name for job in desired)


def test_update_of_job_deleted_meanwhile_recreates_it(easycron_server):
    job = desired_job("standup@example.com")
    sync(easycron_server, [job])
    moved = desired_job("standup@example.com", cron_expression="0 11 15 1 * 2027")
    client = client_for(easycron_server)
    plan = diff([moved], client.list_jobs(), "default")
    [stored] = easycron_server.jobs()
    client.delete(stored["cron_job_id"])  # someone deletes it between list and update
    report = apply(plan, client)
    assert report.ok
    [recreated] = easycron_server.jobs()
    assert recreated["cron_expression"] == "0 11 15 1 * 2027"


def test_unsettled_after_relist_failure_reported(easycron_server):
    client = client_for(easycron_server, max_attempts=2)
    plan = diff(desired_set(2), client.list_jobs(), "default")
    easycron_server.inject("reset", "create", times=1)
    easycron_server.inject("status", "list", status=503, times=10)
    report = apply(plan, client, concurrency=1)
    [failed] = report.failed
    assert "may or may not have happened" in failed.message
    assert "Re-listing the account to settle it failed" in failed.message


def test_deletes_run_before_creates(easycron_server):
    old = desired_set(4)
    sync(easycron_server, old)
    easycron_server.reset_counters()
    new = [desired_job(f"new-{n}@example.com") for n in range(4)]
    sync(easycron_server, new)
    operations = [method for method, _, _ in easycron_server.log if method != "GET"]
    assert operations == ["DELETE"] * 4 + ["POST"] * 4


def test_rate_limit_pauses_all_workers(easycron_server):
    sleeps: list[float] = []
    lock = threading.Lock()

    def recording_sleep(seconds: float) -> None:
        with lock:
            sleeps.append(seconds)
        threading.Event().wait(seconds)

    client = client_for(easycron_server, sleep=recording_sleep)
    plan = diff(desired_set(12), client.list_jobs(), "default")
    easycron_server.inject("rate_limit", "create", retry_after="1", skip=2)
    report = apply(plan, client, concurrency=4)
    assert report.ok
    assert len(easycron_server.jobs()) == 12
    assert max(sleeps) >= 1  # the worker that got the 429
    assert len(sleeps) >= 2  # and at least one other worker held back by the shared pause


def test_logs_one_line_per_action_without_secrets(caplog):
    key = "EASYCRON-secret-KEY-555"
    caplog.set_level(logging.DEBUG)
    with FakeEasyCron(api_key=key) as server:
        client = EasyCronClient(server.url, key, backoff_base_seconds=0.001)
        sync(server, desired_set(3), client=client)
        sync(server, desired_set(3, generation=1), client=client)
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and r.name == "ics2conf.sync"]
    assert len(info) == 3 + 3  # three creates, then two updates and one delete
    assert info[0].startswith("created job ics2conf.default.")
    assert "for event meeting-0@example.com, attendee mailto:" in info[0]
    assert any(line.startswith("deleted job ") and "its meeting no longer needs it" in line for line in info)
    assert any(line.startswith("updated job ") and "cron_expression changed" in line for line in info)
    assert key not in caplog.text
    assert KOOKOO_TEST_KEY not in caplog.text


def test_log_line_escapes_newlines_in_uid(easycron_server, caplog):
    caplog.set_level(logging.INFO, logger="ics2conf.sync")
    sync(easycron_server, [desired_job("evil\nINFO forged line@example.com")])
    [line] = [r.getMessage() for r in caplog.records if r.name == "ics2conf.sync"]
    assert "\n" not in line
    assert "evil\\nINFO forged line" in line


@pytest.mark.parametrize("concurrency", [1, 4, 16])
def test_concurrency_levels_converge(easycron_server, concurrency):
    for generation in range(3):
        desired = desired_set(30, generation=generation)
        assert sync(easycron_server, desired, concurrency=concurrency).ok
        assert managed_names(easycron_server) == sorted(job.spec.name for job in desired)


def test_job_key_names_are_stable():
    first = make_job_key("default", "standup@example.com", "a@example.com", "p0").name
    assert first == make_job_key("default", "standup@example.com", "a@example.com", "p0").name
    assert first == desired_job("standup@example.com").spec.name


def test_unexpected_error_reported_not_raised(easycron_server):
    class BrokenCreates:
        def __init__(self, client):
            self._client = client

        def create(self, spec):
            raise RuntimeError("boom")

        def update(self, job_id, spec):
            self._client.update(job_id, spec)

        def delete(self, job_id, *, name=None):
            self._client.delete(job_id, name=name)

        def list_jobs(self):
            return self._client.list_jobs()

    client = client_for(easycron_server)
    sync(easycron_server, desired_set(3))
    target = [*desired_set(3, generation=1), desired_job("new@example.com")]
    report = apply(diff(target, client.list_jobs(), "default"), BrokenCreates(client))
    [failed] = report.failed
    assert failed.action.action == "create"
    assert "failed unexpectedly: RuntimeError: boom" in failed.message
    assert len(report.applied) == 3


def test_api_economy_counts(easycron_server):
    # First sync of an empty account: one list request, one create per job.
    sync(easycron_server, desired_set(30))
    assert easycron_server.count("list") == 1
    assert easycron_server.count("create") == 30
    assert easycron_server.count() == 31

    # An unchanged re-sync of 1,101 jobs: ceil(1101 / 500) = 3 list requests, no writes.
    desired = desired_set(1101)
    for job in desired[30:]:
        easycron_server.add_job(**job.spec.to_api())
    easycron_server.reset_counters()
    sync(easycron_server, desired)
    assert easycron_server.count("list") == 3
    assert easycron_server.writes == 0

    # Moving one meeting (three attendees) writes exactly its three jobs.
    moved_uid = desired[600].event_uid
    edited = [
        desired_job(job.event_uid, job.callee.key, cron_expression="0 18 1 4 * 2027",
                    room=job.room, phone=job.callee.phone)
        if job.event_uid == moved_uid else job
        for job in desired
    ]
    easycron_server.reset_counters()
    report = sync(easycron_server, edited)
    assert easycron_server.writes == 3
    assert easycron_server.count("update") == 3
    assert [r.action.desired.event_uid for r in report.applied] == [moved_uid] * 3
