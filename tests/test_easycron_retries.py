"""EasyCron client retry timing: backoff, max_attempts, shared budget and pause, log lines.

Every client here gets a fake ``sleep`` that records the requested waits and
returns at once, so the tests check the waits without spending them.
"""

from __future__ import annotations

import logging

import pytest

from ics2conf.easycron import EasyCronClient, EasyCronUnavailable
from tests.easycron_server import FakeEasyCron


def make_client(server: FakeEasyCron, sleeps: list[float], **options) -> EasyCronClient:
    options.setdefault("read_timeout", 2.0)
    return EasyCronClient(server.url, server.api_key, sleep=sleeps.append, **options)


def test_backoff_doubles_with_equal_jitter(easycron_server):
    # Attempt n waits between half and all of min(max, base * 2 ** (n - 1)).
    bounds = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.0, 4.0)]
    for _ in range(10):
        sleeps: list[float] = []
        easycron_server.inject("status", "list", status=503, times=len(bounds))
        client = make_client(easycron_server, sleeps, backoff_base_seconds=1, backoff_max_seconds=4)
        client.list_jobs()
        assert len(sleeps) == len(bounds)
        for slept, (low, high) in zip(sleeps, bounds):
            assert low <= slept <= high


@pytest.mark.parametrize(("max_attempts", "expected_attempts"), [(0, 1), (1, 1), (3, 3)])
def test_max_attempts_limits_requests(easycron_server, max_attempts, expected_attempts):
    sleeps: list[float] = []
    easycron_server.inject("status", "list", status=503, times=100)
    client = make_client(easycron_server, sleeps, max_attempts=max_attempts, backoff_base_seconds=0.001)
    with pytest.raises(EasyCronUnavailable) as caught:
        client.list_jobs()
    assert f"failed after {expected_attempts} attempt(s)" in str(caught.value)
    assert easycron_server.count("list") == expected_attempts
    assert len(sleeps) == expected_attempts - 1  # no wait after the last attempt


def test_unavailable_message_names_call_and_next_step(easycron_server):
    job_id = easycron_server.add_job(cron_job_name="nightly backup")
    easycron_server.inject("status", "delete", status=503, times=100)
    client = make_client(easycron_server, [], max_attempts=2, backoff_base_seconds=0.001)
    with pytest.raises(EasyCronUnavailable) as caught:
        client.delete(job_id, name="nightly backup")
    assert caught.value.status == 503
    assert caught.value.endpoint == f"DELETE /cron-jobs/{job_id}"
    pattern = (
        rf"^EasyCron request DELETE /cron-jobs/{job_id} for job nightly backup failed after 2"
        r" attempt\(s\) in \d+\.\d s: HTTP 503 \(Service unavailable\.\)\. Run the sync again later\.$"
    )
    assert caught.match(pattern)


def test_retry_budget_shared_by_requests(easycron_server):
    easycron_server.inject("rate_limit", "list", retry_after="2", times=100)
    client = make_client(easycron_server, [], retry_budget_seconds=5, backoff_base_seconds=0.001)

    # Two waits of 2 s fit in the budget of 5 s, but the third does not.
    with pytest.raises(EasyCronUnavailable) as first:
        client.list_jobs()
    assert "failed after 3 attempt(s)" in str(first.value)
    assert "Retry-After of 2 s exceeds the remaining retry budget of 1 s" in str(first.value)
    assert client.retry_budget_exhausted

    # The next request of the same client finds the budget spent and does not retry.
    with pytest.raises(EasyCronUnavailable) as second:
        client.list_jobs()
    assert "failed after 1 attempt(s)" in str(second.value)
    assert "remaining retry budget of 0 s" in str(second.value)
    assert easycron_server.count("list") == 4


@pytest.mark.parametrize(
    ("kind", "options", "pauses_others"),
    [
        ("rate_limit", {"retry_after": "3600"}, True),
        ("rate_limit", {"retry_after": None}, True),
        ("status", {"status": 503, "retry_after": "3600"}, True),
        ("status", {"status": 503}, False),
    ],
)
def test_back_off_pauses_other_requests(easycron_server, kind, options, pauses_others):
    sleeps: list[float] = []
    job_id = easycron_server.add_job(cron_job_name="x")
    easycron_server.inject(kind, "list", **options)
    client = make_client(
        easycron_server, sleeps, backoff_base_seconds=3600, backoff_max_seconds=3600,
        retry_budget_seconds=100_000,
    )
    client.list_jobs()
    waits_before = len(sleeps)

    # The fake sleep returns at once, so a pause set by the list is still running here.
    assert client.get_job(job_id) is not None
    waits = sleeps[waits_before:]
    if pauses_others:
        assert len(waits) == 1
        assert waits[0] > 1000
    else:
        assert waits == []


def test_retry_after_longer_than_backoff_wins(easycron_server):
    sleeps: list[float] = []
    easycron_server.inject("rate_limit", "list", retry_after="7")
    make_client(easycron_server, sleeps, backoff_base_seconds=0.001).list_jobs()
    assert sleeps[0] == 7


def test_retry_logged_at_info(easycron_server, caplog):
    caplog.set_level(logging.INFO, logger="ics2conf.easycron")
    easycron_server.inject("rate_limit", "list", retry_after="7")
    make_client(easycron_server, []).list_jobs()
    expected = "retrying GET /cron-jobs in 7.0 s after HTTP 429 (Too many requests.) (attempt 2 of 6)"
    assert expected in caplog.text
