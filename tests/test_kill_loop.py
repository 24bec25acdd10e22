"""Crash safety: syncs killed with SIGKILL at random moments, then one sync converges.

The fake EasyCron server runs in its own process with a per-request latency,
which widens the window in which a kill lands between sending a request and
reading its answer. Each sync runs in a child process that takes the
namespace lock, lists, diffs and applies, exactly as the CLI does, towards a
randomly chosen generation of the desired jobs. After each kill the test
waits until the server has answered every request already sent (as a later
sync, started minutes later by cron, would find it) and counts duplicates.
Finally one sync runs to completion and the account must hold exactly the
desired jobs, with foreign jobs untouched.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from ics2conf.easycron import EasyCronClient
from ics2conf.lock import namespace_lock
from ics2conf.model import parse_job_name
from ics2conf.plan import changed_fields, diff
from ics2conf.sync import apply
from tests.job_factory import desired_job, desired_set

REPO = Path(__file__).resolve().parents[1]
API_KEY = "kill-loop-easycron-key"
NAMESPACE = "default"
JOB_COUNT = 30
GENERATIONS = 5
MIN_KILLS = 50
MAX_RUNS = 250
LATENCY_MS = 15
SEED = 20261204


def run_sync(url: str, generation: int, concurrency: int) -> None:
    """Sync the namespace to ``generation`` of the test jobs, as ``ics2conf sync`` would."""
    client = EasyCronClient(url, API_KEY, backoff_base_seconds=0.01)
    with namespace_lock(NAMESPACE, 30):
        plan = diff(desired_set(JOB_COUNT, generation=generation), client.list_jobs(), NAMESPACE)
        apply(plan, client, concurrency=concurrency)


@pytest.fixture
def server_process():
    """Start the fake server as a separate process; yield its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.easycron_server", "--port", "0", "--api-key", API_KEY,
         "--latency-ms", str(LATENCY_MS)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(5)


def server_state(url: str) -> dict:
    return requests.get(f"{url}/_fake/state", headers={"X-API-Key": API_KEY}, timeout=5).json()


def wait_until_idle(url: str) -> None:
    """Wait until the server has answered every request it received."""
    deadline = time.monotonic() + 10
    while server_state(url)["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.005)


def _process_context() -> multiprocessing.context.BaseContext:
    # Forking is fast and safe while this process runs no other thread;
    # otherwise each child starts a fresh interpreter.
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def test_random_kills_then_converge(server_process, tmp_path, monkeypatch):
    url = server_process
    monkeypatch.setenv("ICS2CONF_STATE_DIR", str(tmp_path))
    client = EasyCronClient(url, API_KEY)

    # Foreign jobs and another namespace's job must survive every kill untouched.
    for number in range(4):
        client.create(desired_job(f"x{number}@example.com").spec.__class__(
            name=f"backup {number}", url=f"https://example.com/backup/{number}",
            cron_expression="0 3 * * *", timezone="UTC"))
    other = desired_job("other@example.com", namespace="team-b")
    apply(diff([other], client.list_jobs(), "team-b"), client)
    foreign_before = {job.id: job.raw for job in client.list_jobs()}

    rng = random.Random(SEED)
    context = _process_context()
    kills = kills_after_writes = completed = transient_duplicates = 0
    for _ in range(MAX_RUNS):
        if kills >= MIN_KILLS:
            break
        writes_before = _writes(server_state(url))
        child = context.Process(target=run_sync, args=(url, rng.randrange(GENERATIONS), rng.choice((1, 2, 4))))
        child.start()
        child.join(rng.uniform(0.0, 0.25))
        if child.is_alive():
            child.kill()  # SIGKILL
            kills += 1
            child.join()
            wait_until_idle(url)
            kills_after_writes += _writes(server_state(url)) > writes_before
        else:
            completed += 1
        names = Counter(job.name for job in client.list_jobs() if _ours(job.name))
        transient_duplicates += sum(n - 1 for n in names.values())

    final_generation = GENERATIONS  # a generation no killed run was heading for
    run_sync(url, final_generation, 4)

    desired = {job.spec.name: job for job in desired_set(JOB_COUNT, generation=final_generation)}
    remote = client.list_jobs()
    names = Counter(job.name for job in remote if _ours(job.name))
    duplicates = sum(n - 1 for n in names.values())
    lost = len(set(desired) - set(names))
    orphans = len(set(names) - set(desired))
    stale = sum(1 for job in remote if job.name in desired and changed_fields(desired[job.name].spec, job))
    foreign_after = {job.id: job.raw for job in remote if job.id in foreign_before}
    foreign_touched = sum(1 for job_id, raw in foreign_before.items() if foreign_after.get(job_id) != raw)
    print(
        f"\nkill loop: {kills} kills ({kills_after_writes} after at least one write), {completed} runs"
        f" completed; final sync: {duplicates} duplicates, {lost} lost, {orphans} orphans,"
        f" {stale} stale, {foreign_touched} foreign touched; duplicates seen after kills:"
        f" {transient_duplicates}"
    )

    assert kills >= MIN_KILLS
    assert duplicates == 0
    assert lost == 0
    assert orphans == 0
    assert stale == 0
    assert foreign_touched == 0
    assert transient_duplicates == 0
    before = _writes(server_state(url))
    run_sync(url, final_generation, 4)
    assert _writes(server_state(url)) == before


def _ours(name: str) -> bool:
    key = parse_job_name(name)
    return key is not None and key.namespace == NAMESPACE


def _writes(state: dict) -> int:
    counts = state["counts"]
    return sum(counts.get(op, 0) for op in ("create", "update", "delete"))
