"""Pure diff of desired jobs against remote jobs, ownership rules and the mass-delete guard."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ics2conf.errors import PlanError
from ics2conf.model import Create, Delete, RemoteJob, Update, make_job_key, parse_job_name
from ics2conf.plan import check_mass_delete, diff, is_duplicate_delete, is_expired, normalize_url
from tests.job_factory import desired_job, desired_set


NOW = datetime(2026, 2, 1, 0, 0, tzinfo=timezone.utc)


def remote_of(job, job_id: int, **changes) -> RemoteJob:
    """Return the remote job EasyCron would list after creating ``job``, with ``changes`` applied."""
    spec = job.spec
    fields = dict(
        id=job_id, name=spec.name, url=spec.url, cron_expression=spec.cron_expression,
        timezone=spec.timezone, description=spec.description, http_method=spec.http_method,
        success_criterion=spec.success_criterion, failure_regexp=spec.failure_regexp, status=spec.status,
    )
    fields.update(changes)
    return RemoteJob(**fields)


def foreign(job_id: int, name: str) -> RemoteJob:
    return RemoteJob(id=job_id, name=name, url="https://example.com/backup", cron_expression="0 3 * * *",
                     timezone="UTC")


def test_missing_jobs_are_created():
    desired = desired_set(6)
    plan = diff(desired, [], "default")
    assert [type(a) for a in plan.actions] == [Create] * 6
    assert plan.managed_count == 0
    assert plan.unchanged == ()


def test_matching_jobs_are_unchanged():
    desired = desired_set(6)
    remote = [remote_of(job, 100 + n) for n, job in enumerate(desired)]
    plan = diff(desired, remote, "default")
    assert plan.actions == ()
    assert len(plan.unchanged) == 6
    assert plan.managed_count == 6


@pytest.mark.parametrize(
    ("field", "remote_value"),
    [
        ("url", "http://kookoo.test/outbound/outbound.php?api_key=old"),
        ("cron_expression", "0 9 15 1 * 2027"),
        ("timezone", "UTC"),
        ("http_method", "POST"),
        ("success_criterion", 1),
        ("failure_regexp", ""),
        ("status", 0),
        ("description", "edited by hand"),
    ],
)
def test_changed_field_is_updated(field, remote_value):
    job = desired_job("standup@example.com")
    plan = diff([job], [remote_of(job, 7, **{field: remote_value})], "default")
    assert plan.actions == (Update(remote_of(job, 7, **{field: remote_value}), job, (field,)),)


EXTRA = "%3Cresponse%3E%3Cconference%3E4711%3C%2Fconference%3E%3C%2Fresponse%3E"
WANTED_URL = f"http://kookoo.test/o.php?api_key=K&phone_no=09876543210&outbound_version=2&extra_data={EXTRA}"


@pytest.mark.parametrize(
    "remote_url",
    [
        f"http://kookoo.test/o.php?phone_no=09876543210&api_key=K&outbound_version=2&extra_data={EXTRA}",
        f"HTTP://KOOKOO.TEST/o.php?api_key=K&phone_no=09876543210&outbound_version=2&extra_data={EXTRA}",
        f"http://kookoo.test/o.php?api_key=K&phone_no=09876543210&outbound_version=2&extra_data={EXTRA} ",
        f"http://kookoo.test/o.php?api_key=K&phone_no=09876543210&outbound_version=2&extra_data={EXTRA.lower()}",
        "http://kookoo.test/o.php?api_key=K&phone_no=09876543210&outbound_version=2"
        "&extra_data=<response><conference>4711</conference></response>",
    ],
)
def test_url_reencoding_is_not_a_change(remote_url):
    assert normalize_url(WANTED_URL) == normalize_url(remote_url)


@pytest.mark.parametrize(
    "remote_url",
    [
        WANTED_URL.replace("4711", "4712"),
        WANTED_URL.replace("api_key=K", "api_key=L"),
        WANTED_URL + "&caller_id=0801234567",
        WANTED_URL.replace("http://", "https://"),
        WANTED_URL.replace("/o.php", "/p.php"),
    ],
)
def test_url_difference_is_a_change(remote_url):
    assert normalize_url(WANTED_URL) != normalize_url(remote_url)


def test_ignored_url_param_is_not_compared():
    desired = desired_set(2)
    remote = [
        remote_of(job, 100 + n, url=job.spec.url.replace("api_key=", "api_key=REAL"))
        for n, job in enumerate(desired)
    ]
    assert len(diff(desired, remote, "default").updates) == 2
    plan = diff(desired, remote, "default", ignored_url_params=frozenset({"api_key"}))
    assert plan.actions == ()
    assert len(plan.unchanged) == 2


def test_plus_and_percent_20_compare_equal():
    assert normalize_url("http://x.test/?a=b+c") == normalize_url("http://x.test/?a=b%20c")
    assert normalize_url("http://x.test/?a=b") != normalize_url("http://x.test/?a=c")


def test_expression_whitespace_is_not_a_change():
    job = desired_job("standup@example.com", cron_expression="30 9 15 1 * 2027")
    plan = diff([job], [remote_of(job, 7, cron_expression="30  9 15 1 *\t2027 ")], "default")
    assert plan.actions == ()


def test_fields_not_returned_are_not_compared():
    job = desired_job("standup@example.com")
    remote = remote_of(job, 7, success_criterion=None, failure_regexp=None, status=None)
    assert diff([job], [remote], "default").actions == ()


def test_undesired_managed_job_is_deleted():
    job = desired_job("old@example.com")
    plan = diff([], [remote_of(job, 7)], "default")
    assert plan.actions == (Delete(remote_of(job, 7), "no longer in the calendar"),)


def test_part_dropped_from_planned_meeting_says_so():
    kept = desired_job("standup@example.com", part="p0")
    dropped = desired_job("standup@example.com", part="y0", cron_expression="30 9 * * 1 2028-2099")
    plan = diff([kept], [remote_of(kept, 7), remote_of(dropped, 8)], "default")
    assert plan.actions == (Delete(remote_of(dropped, 8), "its meeting no longer needs it"),)


@pytest.mark.parametrize(
    "name",
    [
        "nightly backup",
        "",
        make_job_key("other", "standup@example.com", "a@example.com", "p0").name,  # another namespace
        "ICS2CONF.default.0123456789ab.0123456789.p0",  # not our exact marker
        "ics2conf.default.0123456789ab.0123456789.p0 ",  # trailing space
        "ics2conf.default.0123456789ab.0123456789.p0.x",
        "ics2conf.default.short.0123456789.p0",
        "prefix ics2conf.default.0123456789ab.0123456789.p0",
    ],
)
def test_unmanaged_jobs_never_touched(name):
    desired = desired_set(3)
    remote = [foreign(5, name), *(remote_of(job, 10 + n) for n, job in enumerate(desired))]
    plan = diff(desired, remote, "default")
    assert plan.actions == ()
    assert plan.managed_count == 3
    # Even with nothing desired, only the namespace's own jobs are deleted.
    emptied = diff([], remote, "default")
    assert {a.remote.id for a in emptied.actions} == {10, 11, 12}


def test_duplicates_keep_lowest_id():
    job = desired_job("standup@example.com")
    remote = [remote_of(job, 30), remote_of(job, 10, timezone="UTC"), remote_of(job, 20)]
    plan = diff([job], remote, "default")
    updates = plan.updates
    deletes = plan.deletes
    assert [u.remote.id for u in updates] == [10]
    assert updates[0].changed == ("timezone",)
    assert sorted(d.remote.id for d in deletes) == [20, 30]
    assert all(is_duplicate_delete(d) for d in deletes)
    assert deletes[0].reason == "duplicate of job 10"


def test_duplicates_of_unchanged_job():
    job = desired_job("standup@example.com")
    plan = diff([job], [remote_of(job, 10), remote_of(job, 11)], "default")
    assert plan.unchanged == (job,)
    assert [(d.remote.id, d.reason) for d in plan.deletes] == [(11, "duplicate of job 10")]


def test_order_is_stable():
    desired = desired_set(20, generation=1)
    remote = [remote_of(job, 100 + n) for n, job in enumerate(desired_set(20))]
    expected = diff(desired, remote, "default")
    for seed in range(5):
        shuffled_desired, shuffled_remote = list(desired), list(remote)
        random.Random(seed).shuffle(shuffled_desired)
        random.Random(seed).shuffle(shuffled_remote)
        assert diff(shuffled_desired, shuffled_remote, "default") == expected
    uids = [a.desired.event_uid for a in expected.actions if not isinstance(a, Delete)]
    assert uids == sorted(uids)


def test_desired_job_of_other_namespace_rejected():
    job = desired_job("standup@example.com", namespace="other")
    with pytest.raises(PlanError, match="not an ics2conf job name of namespace 'default'"):
        diff([job], [], "default")


def test_conflicting_desired_jobs_rejected():
    first = desired_job("standup@example.com")
    second = replace(first, event_uid="other@example.com", spec=replace(first.spec, timezone="UTC"))
    with pytest.raises(PlanError, match="same job name"):
        diff([first, second], [], "default")


# --- mass-delete guard ----------------------------------------------------


@pytest.mark.parametrize(
    ("managed", "kept", "raises"),
    [
        (12, 6, False),  # exactly half
        (12, 5, True),  # 7 of 12
        (10, 0, True),  # everything
        (5, 0, False),  # five is not more than five
        (6, 0, True),
        (100, 51, False),
        (100, 49, True),
    ],
)
def test_mass_delete_guard(managed, kept, raises):
    jobs = [desired_job(f"m{n}@example.com") for n in range(managed)]
    remote = [remote_of(job, n) for n, job in enumerate(jobs)]
    plan = diff(jobs[:kept], remote, "default")
    check_mass_delete(plan, allow=True)
    if raises:
        with pytest.raises(PlanError) as caught:
            check_mass_delete(plan, allow=False)
        message = str(caught.value)
        assert f"delete {managed - kept} of the {managed} jobs" in message
        assert "--allow-mass-delete" in message
        assert "namespace 'default'" in message
    else:
        check_mass_delete(plan, allow=False)


def test_mass_delete_guard_ignores_duplicates():
    jobs = [desired_job(f"m{n}@example.com") for n in range(4)]
    remote = [remote_of(job, n * 10 + copy) for n, job in enumerate(jobs) for copy in range(4)]
    plan = diff(jobs, remote, "default")
    assert len(plan.deletes) == 12
    check_mass_delete(plan, allow=False)


@pytest.mark.parametrize(
    ("expression", "zone", "expired"),
    [
        ("30 9 15 1 * 2026", "Asia/Kolkata", True),  # 2026-01-15 04:00 UTC, before now
        ("30 9 15 1 * 2025", "UTC", True),
        ("30 9 15 1,6 * 2026", "Asia/Kolkata", False),  # June is still ahead
        ("0 9 * * 1", "Asia/Kolkata", False),  # no year field: fires forever
        ("30 9 15 1 * 2026-2027", "UTC", False),
        ("30 9 15 1 * 2030", "UTC", False),
        ("0 12 1 2 * 2026", "Pacific/Kiritimati", True),  # 2026-02-01 12:00 +14 is 2026-01-31 22:00 UTC
        ("0 20 31 1 * 2026", "America/Los_Angeles", False),  # 2026-01-31 20:00 -08 is after now
        ("not a cron expression", "UTC", False),
        ("30 9 15 1 * 2025", "Mars/Olympus_Mons", False),
    ],
)
def test_is_expired(expression, zone, expired):
    job = RemoteJob(id=1, name="n", url="https://example.com", cron_expression=expression, timezone=zone)
    assert is_expired(job, NOW) is expired


def test_expired_deletes_labelled_and_not_guarded():
    jobs = [desired_job(f"m{n}@example.com", cron_expression="30 9 15 1 * 2026") for n in range(10)]
    remote = [remote_of(job, n) for n, job in enumerate(jobs)]
    plan = diff([], remote, "default", now=NOW)
    assert {d.reason for d in plan.deletes} == {"its last run has passed"}
    check_mass_delete(plan, allow=False)
    # Without a now the same deletes look like a truncated export.
    with pytest.raises(PlanError):
        check_mass_delete(diff([], remote, "default"), allow=False)


# --- property: applying a plan yields exactly the desired jobs -----------------


def apply_in_memory(plan, remote):
    """Apply ``plan`` to a list of remote jobs the way EasyCron would."""
    jobs = {job.id: job for job in remote}
    next_id = max(jobs, default=0) + 1
    for action in plan.actions:
        if isinstance(action, Delete):
            del jobs[action.remote.id]
        elif isinstance(action, Update):
            jobs[action.remote.id] = remote_of(action.desired, action.remote.id)
        else:
            jobs[next_id] = remote_of(action.desired, next_id)
            next_id += 1
    return list(jobs.values())


@settings(max_examples=60, deadline=None)
@given(
    before=st.integers(0, 30), after=st.integers(0, 30),
    generation=st.integers(0, 4), copies=st.lists(st.integers(1, 3), max_size=30),
    foreign_count=st.integers(0, 3),
)
def test_plan_converges(before, after, generation, copies, foreign_count):
    remote = [foreign(1000 + n, f"backup {n}") for n in range(foreign_count)]
    job_id = 1
    for n, job in enumerate(desired_set(before)):
        for _ in range(copies[n] if n < len(copies) else 1):
            remote.append(remote_of(job, job_id))
            job_id += 1
    desired = desired_set(after, generation=generation)
    result = apply_in_memory(diff(desired, remote, "default"), remote)

    assert diff(desired, result, "default").actions == ()
    managed = sorted(job.name for job in result if parse_job_name(job.name))
    assert managed == sorted(job.spec.name for job in desired)
    assert [job for job in result if not parse_job_name(job.name)] == remote[:foreign_count]
