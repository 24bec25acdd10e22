"""EasyCron API v1 client against the local fake server: calls, paging, retries, errors, secrets."""

from __future__ import annotations

import logging
import socket

import pytest
import requests

from ics2conf.easycron import EasyCronClient, EasyCronUnavailable, parse_remote_job
from ics2conf.errors import ConfigError, EasyCronAuthError, EasyCronError, EasyCronUnknownOutcome
from ics2conf.model import JobSpec, TIMEZONE_FROM_JOB
from ics2conf.secrets import mask_url, redact
from tests.easycron_server import JOB_FIELDS_RETURNED, FakeEasyCron
from tests.job_factory import KOOKOO_TEST_KEY, desired_job


def make_client(server: FakeEasyCron, **options) -> EasyCronClient:
    options.setdefault("backoff_base_seconds", 0.001)
    options.setdefault("read_timeout", 2.0)
    return EasyCronClient(server.url, server.api_key, **options)


def spec(uid: str = "standup@example.com", **changes) -> JobSpec:
    job = desired_job(uid).spec
    return JobSpec(**{**job.__dict__, **changes})


# --- calls ------------------------------------------------------------------


def test_create_then_list_round_trip(easycron_server):
    client = make_client(easycron_server)
    job_spec = spec()
    job_id = client.create(job_spec)
    jobs = client.list_jobs()
    assert [job.id for job in jobs] == [job_id]
    job = jobs[0]
    assert job.name == job_spec.name
    assert job.url == job_spec.url
    assert job.cron_expression == job_spec.cron_expression
    assert job.timezone == job_spec.timezone
    assert job.success_criterion == job_spec.success_criterion
    assert job.failure_regexp == job_spec.failure_regexp
    assert job.status == 1


def test_create_sends_timezone_from(easycron_server):
    job_id = make_client(easycron_server).create(spec())
    assert easycron_server.timezone_from(job_id) == TIMEZONE_FROM_JOB
    assert "timezone_from" not in easycron_server.job(job_id)


def test_update_replaces_managed_fields(easycron_server):
    client = make_client(easycron_server)
    job_id = easycron_server.add_job(cron_job_name=spec().name, timezone="UTC")
    client.update(job_id, spec(cron_expression="0 11 15 1 * 2027"))
    stored = easycron_server.job(job_id)
    assert stored["cron_expression"] == "0 11 15 1 * 2027"
    assert stored["timezone"] == "Asia/Kolkata"
    assert easycron_server.timezone_from(job_id) == TIMEZONE_FROM_JOB


def test_update_of_missing_job_is_404(easycron_server):
    with pytest.raises(EasyCronError) as caught:
        make_client(easycron_server).update(999999, spec())
    assert caught.value.status == 404
    assert spec().name in str(caught.value)


def test_delete_and_delete_again(easycron_server):
    client = make_client(easycron_server)
    job_id = easycron_server.add_job(cron_job_name="x")
    client.delete(job_id)
    client.delete(job_id)  # already gone: fine
    assert easycron_server.job(job_id) is None


def test_get_job(easycron_server):
    client = make_client(easycron_server)
    job_id = easycron_server.add_job(cron_job_name="nightly backup")
    assert client.get_job(job_id).name == "nightly backup"
    assert client.get_job(job_id + 1) is None


def test_parse_tolerates_string_numbers():
    job = parse_remote_job({"cron_job_id": "42", "cron_job_name": "n", "status": "1", "success_criterion": "3",
                            "url": "https://example.com", "cron_expression": "* * * * *", "timezone": None})
    assert job.id == 42
    assert job.status == 1
    assert job.success_criterion == 3
    assert job.timezone == ""


def test_parse_rejects_job_without_id():
    with pytest.raises(EasyCronError):
        parse_remote_job({"cron_job_name": "n"})


# --- paging -----------------------------------------------------------------


@pytest.mark.parametrize("beyond_last_page", ["empty", "404"])
@pytest.mark.parametrize(("job_count", "expected_requests"), [(1234, 3), (1000, 3), (0, 1), (499, 1)])
def test_list_reads_every_page(beyond_last_page, job_count, expected_requests):
    with FakeEasyCron(beyond_last_page=beyond_last_page) as server:
        for number in range(job_count):
            server.add_job(cron_job_name=f"job {number}")
        jobs = make_client(server).list_jobs()
        assert len(jobs) == job_count
        assert len({job.id for job in jobs}) == job_count
        assert [job.id for job in jobs] == sorted(job.id for job in jobs)
        # A 404 that ends the list is confirmed by one more request.
        ends_with_404 = beyond_last_page == "404" and job_count % 500 == 0
        assert server.count("list") == expected_requests + (1 if ends_with_404 else 0)


def test_list_stray_404_is_confirmed(easycron_server):
    easycron_server.add_job(cron_job_name="nightly backup")
    easycron_server.inject("empty_404", "list")
    jobs = make_client(easycron_server).list_jobs()
    assert [job.name for job in jobs] == ["nightly backup"]


def test_list_404_means_no_jobs(easycron_server):
    easycron_server.inject("empty_404", "list", times=2)
    assert make_client(easycron_server).list_jobs() == []


# --- errors -----------------------------------------------------------------


def test_wrong_key_is_auth_error_not_retried(easycron_server):
    client = EasyCronClient(easycron_server.url, "wrong-key-SECRET")
    with pytest.raises(EasyCronAuthError) as caught:
        client.list_jobs()
    assert "EasyCron rejected the API key" in str(caught.value)
    assert "wrong-key-SECRET" not in str(caught.value)
    assert easycron_server.count() == 1


def test_missing_key_is_config_error(easycron_server):
    with pytest.raises(ConfigError, match="EASYCRON_API_KEY"):
        EasyCronClient(easycron_server.url, "")


@pytest.mark.parametrize("url", ["api.easycron.com/v1", "ftp://api.easycron.com/v1", "https://", ""])
def test_invalid_base_url_is_config_error(url):
    with pytest.raises(ConfigError, match="EASYCRON_API_URL"):
        EasyCronClient(url, "k")


def test_invalid_field_names_job_and_api_message(easycron_server):
    bad = spec(timezone="Mars/Olympus_Mons")
    with pytest.raises(EasyCronError) as caught:
        make_client(easycron_server).create(bad)
    assert caught.value.status == 422
    assert bad.name in str(caught.value)
    assert "Mars/Olympus_Mons" in str(caught.value)  # the API's message
    assert easycron_server.count("create") == 1


@pytest.mark.parametrize(
    ("field", "length", "label"),
    [("url", 1025, "URL"), ("name", 101, "name"), ("cron_expression", 1001, "cron expression")],
)
def test_limits_checked_before_sending(easycron_server, field, length, label):
    base = spec()
    value = getattr(base, field)
    too_long = spec(**{field: value + "x" * (length - len(value))})
    with pytest.raises(EasyCronError) as caught:
        make_client(easycron_server).create(too_long)
    assert f"its {label} is {length} characters long" in str(caught.value)
    assert easycron_server.count() == 0


# --- retries ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["status", "rate_limit", "reset", "commit_then_drop"])
@pytest.mark.parametrize("op", ["list", "delete"])
def test_idempotent_calls_retried(easycron_server, kind, op):
    client = make_client(easycron_server)
    job_id = easycron_server.add_job(cron_job_name="x")
    easycron_server.inject(kind, op)
    if op == "list":
        assert len(client.list_jobs()) == 1
    else:
        client.delete(job_id)
        assert easycron_server.job(job_id) is None
    assert easycron_server.count(op) == 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_on_update_retried(easycron_server, status):
    job_id = easycron_server.add_job(cron_job_name=spec().name)
    easycron_server.inject("status", "update", status=status)
    make_client(easycron_server).update(job_id, spec())
    assert easycron_server.count("update") == 2


def test_rate_limit_on_create_retried(easycron_server):
    easycron_server.inject("rate_limit", "create", times=2)
    make_client(easycron_server).create(spec())
    assert len(easycron_server.jobs()) == 1
    assert easycron_server.count("create") == 3


def test_retry_after_honoured(easycron_server):
    sleeps: list[float] = []
    easycron_server.inject("rate_limit", "list", retry_after="7")
    make_client(easycron_server, sleep=sleeps.append).list_jobs()
    assert max(sleeps) >= 7


def test_retry_after_beyond_budget_gives_up(easycron_server):
    easycron_server.inject("rate_limit", "list", retry_after="3600")
    client = make_client(easycron_server, retry_budget_seconds=60, sleep=lambda seconds: None)
    with pytest.raises(EasyCronUnavailable, match="Retry-After of 3600 s exceeds"):
        client.list_jobs()
    assert client.retry_budget_exhausted


def test_persistent_failure_stops_after_max_attempts(easycron_server):
    easycron_server.inject("status", "update", status=503, times=100)
    job_id = easycron_server.add_job(cron_job_name=spec().name)
    with pytest.raises(EasyCronUnavailable) as caught:
        make_client(easycron_server, max_attempts=4).update(job_id, spec())
    assert spec().name in str(caught.value)
    assert "after 4 attempt(s)" in str(caught.value)
    assert easycron_server.count("update") == 4


@pytest.mark.parametrize(
    ("kind", "options", "committed"),
    [
        ("status", {"status": 500}, False),
        ("status", {"status": 503}, False),
        ("reset", {}, False),
        ("commit_then_drop", {}, True),
        ("commit_then_hang", {"seconds": 1.0}, True),
    ],
)
def test_create_with_unknown_outcome_not_retried(easycron_server, kind, options, committed):
    easycron_server.inject(kind, "create", **options)
    with pytest.raises(EasyCronUnknownOutcome) as caught:
        make_client(easycron_server, read_timeout=0.3).create(spec())
    assert spec().name in str(caught.value)
    assert easycron_server.count("create") == 1
    assert len(easycron_server.jobs()) == (1 if committed else 0)


@pytest.mark.parametrize("kind", ["reset", "commit_then_drop"])
def test_update_with_unknown_outcome_not_retried(easycron_server, kind):
    job_id = easycron_server.add_job(cron_job_name=spec().name)
    easycron_server.inject(kind, "update")
    with pytest.raises(EasyCronUnknownOutcome):
        make_client(easycron_server).update(job_id, spec())
    assert easycron_server.count("update") == 1


def test_read_timeout_on_list_retried(easycron_server):
    easycron_server.inject("commit_then_hang", "list", seconds=1.0)
    assert make_client(easycron_server, read_timeout=0.3).list_jobs() == []
    assert easycron_server.count("list") == 2


def test_connection_refused_is_retried_then_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    records = []
    client = EasyCronClient(f"http://127.0.0.1:{port}/v1", "k", backoff_base_seconds=0.001,
                            max_attempts=3, on_request=records.append)
    # Nothing reached the server, so even a create is retried and then reported as unavailable.
    with pytest.raises(EasyCronUnavailable, match="connection failed"):
        client.create(spec())
    assert [record.attempt for record in records] == [1, 2, 3]
    assert all(record.status is None for record in records)


def test_on_request_sees_every_attempt(easycron_server):
    records = []
    easycron_server.inject("status", "list", status=502)
    make_client(easycron_server, on_request=records.append).list_jobs()
    assert [(r.method, r.status, r.attempt) for r in records] == [("GET", 502, 1), ("GET", 200, 2)]
    assert records[0].path.startswith("/cron-jobs?page=1&page_size=500")


# --- secrets ----------------------------------------------------------------


def test_key_never_in_logs_messages_or_repr(caplog):
    key = "EASYCRON-secret-KEY-987"
    caplog.set_level(logging.DEBUG)
    with FakeEasyCron(api_key=key) as server:
        client = make_client(server)
        job_id = client.create(spec())
        server.inject("status", "list", status=503)
        client.list_jobs()
        client.update(job_id, spec(cron_expression="1 1 1 1 * 2027"))
        messages = [repr(client)]
        for action in (lambda: client.create(spec(timezone="Bad/Zone")),
                       lambda: EasyCronClient(server.url, key + "-wrong").list_jobs()):
            with pytest.raises(EasyCronError) as caught:
                action()
            messages.append(str(caught.value))
    assert "POST /cron-jobs -> 201" in caplog.text  # the trace is there
    for text in [caplog.text, *messages]:
        assert key not in text
        assert KOOKOO_TEST_KEY not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://k.test/o.php?api_key=SECRET&phone_no=1", "http://k.test/o.php?api_key=***&phone_no=1"),
        ("http://k.test/o.php?phone_no=1&api_key=SECRET", "http://k.test/o.php?phone_no=1&api_key=***"),
        ("http://k.test/o.php?API_KEY=SECRET#x", "http://k.test/o.php?API_KEY=***#x"),
        ("https://www.easycron.com/rest/add?token=SECRET&url=x", "https://www.easycron.com/rest/add?token=***&url=x"),
        ("http://k.test/o.php?my_api_key=visible", "http://k.test/o.php?my_api_key=visible"),
        ("http://k.test/o.php?phone_no=1", "http://k.test/o.php?phone_no=1"),
    ],
)
def test_mask_url(url, expected):
    assert mask_url(url) == expected


def test_redact_removes_raw_and_encoded_secrets():
    text = "key a+b/c= in body, a%2Bb%2Fc%3D in URL, url http://x.test/?api_key=other&n=1"
    assert redact(text, ["a+b/c=", None, ""]) == "key *** in body, *** in URL, url http://x.test/?api_key=***&n=1"


# --- the fake server itself -------------------------------------------------


def test_fake_returns_documented_job_fields(easycron_server):
    job_id = make_client(easycron_server).create(spec())
    response = requests.get(f"{easycron_server.url}/cron-jobs/{job_id}",
                            headers={"X-API-Key": easycron_server.api_key}, timeout=5)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == set(JOB_FIELDS_RETURNED)
    assert "timezone_from" not in body
    assert isinstance(body["cron_job_id"], int)
    assert isinstance(body["status"], int)
    assert isinstance(body["success_criterion"], int)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("page=0", 400),
        ("page_size=0", 400),
        ("page_size=501", 400),
        ("sort_by=created", 400),
        ("order=up", 400),
        ("page=1&page_size=500&sort_by=cron_job_name&order=asc", 200),
    ],
)
def test_fake_validates_list_parameters(easycron_server, query, status):
    response = requests.get(f"{easycron_server.url}/cron-jobs?{query}",
                            headers={"X-API-Key": easycron_server.api_key}, timeout=5)
    assert response.status_code == status
    if status != 200:
        assert "message" in response.json()


def test_fake_list_defaults_to_ten_newest(easycron_server):
    ids = [easycron_server.add_job(cron_job_name=f"job {n}") for n in range(12)]
    response = requests.get(f"{easycron_server.url}/cron-jobs",
                            headers={"X-API-Key": easycron_server.api_key}, timeout=5)
    assert [job["cron_job_id"] for job in response.json()["cron_jobs"]] == ids[::-1][:10]
