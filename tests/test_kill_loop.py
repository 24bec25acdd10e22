"""Crash safety: syncs killed with SIGKILL at random moments, then one sync converges.

The fake EasyCron server runs in its own process with a per-request latency,
which widens the window in which a kill lands between sending a request and
reading its response. Each sync runs in a child process that takes the
namespace lock, lists, diffs and applies, exactly as the CLI does, towards a
randomly chosen generation of the desired jobs. After each kill the test
waits until the server has responded to every request already sent (as a later
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from ics2conf.easycron import EasyCronClient
from ics2conf.lock import namespace_lock
from ics2conf.model import JobSpec, parse_job_name
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


def run_sync(url: str, generation: int, concurrency: int, ready=None) -> None:
    """Sync the namespace to ``generation`` of the test jobs, as ``ics2conf sync`` would.

    ``ready``, a multiprocessing event, is set once the process has started,
    so that the random kill delay measures time spent syncing.
    """
    if ready is not None:
        ready.set()
    client = EasyCronClient(url, API_KEY, backoff_base_seconds=0.01)
    with namespace_lock(NAMESPACE, 30):
        plan = diff(desired_set(JOB_COUNT, generation=generation), client.list_jobs(), NAMESPACE)
        apply(plan, client, concurrency=concurrency)


@contextmanager
def server_process(latency_ms: int) -> Iterator[str]:
    """Run the fake server as a separate process with the given latency; yield its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.easycron_server", "--port", "0", "--api-key", API_KEY,
         "--latency-ms", str(latency_ms)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(5)


def seed_foreign_jobs(client: EasyCronClient) -> dict[int, dict]:
    """Create jobs without an ics2conf name and one of another namespace; return them by id."""
    for number in range(4):
        client.create(JobSpec(name=f"backup {number}", url=f"https://example.com/backup/{number}",
                              cron_expression="0 3 * * *", timezone="UTC"))
    other = desired_job("other@example.com", namespace="team-b")
    apply(diff([other], client.list_jobs(), "team-b"), client)
    return {job.id: job.raw for job in client.list_jobs()}


def count_foreign_touched(before: dict[int, dict], remote) -> int:
    after = {job.id: job.raw for job in remote}
    return sum(1 for job_id, raw in before.items() if after.get(job_id) != raw)


def server_state(url: str) -> dict:
    return requests.get(f"{url}/_fake/state", headers={"X-API-Key": API_KEY}, timeout=5).json()


def wait_until_idle(url: str) -> None:
    """Wait until the server has responded to every request it received.

    A request still in a socket buffer is not counted yet, so the server must
    also stay quiet (no new request counted) for a short while.
    """
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        before = server_state(url)
        time.sleep(0.03)
        after = server_state(url)
        if before["in_flight"] == 0 and after["in_flight"] == 0 and before["counts"] == after["counts"]:
            return


def _process_context() -> multiprocessing.context.BaseContext:
    # Forking is fast and safe while this process runs no other thread;
    # otherwise each child starts a fresh interpreter.
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def test_random_kills_then_converge(tmp_path, monkeypatch):
    with server_process(LATENCY_MS) as url:
        _kill_loop(url, tmp_path, monkeypatch)


def _kill_loop(url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ICS2CONF_STATE_DIR", str(tmp_path))
    client = EasyCronClient(url, API_KEY)
    foreign_before = seed_foreign_jobs(client)

    rng = random.Random(SEED)
    context = _process_context()
    kills = kills_after_writes = completed = transient_duplicates = 0
    for _ in range(MAX_RUNS):
        if kills >= MIN_KILLS:
            break
        writes_before = _writes(server_state(url))
        ready = context.Event()
        child = context.Process(
            target=run_sync, args=(url, rng.randrange(GENERATIONS), rng.choice((1, 2, 4)), ready)
        )
        child.start()
        ready.wait(30)
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
    foreign_touched = count_foreign_touched(foreign_before, remote)
    print(
        f"\nkill loop: {kills} kills ({kills_after_writes} after at least one write), {completed} runs"
        f" completed; final sync: {duplicates} duplicates, {lost} lost, {orphans} orphans,"
        f" {stale} stale, {foreign_touched} foreign touched; duplicates seen after kills:"
        f" {transient_duplicates}"
    )

    assert kills >= MIN_KILLS
    assert kills_after_writes >= MIN_KILLS // 5  # the kills really land in the middle of syncs
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


# --- the same through the installed ``ics2conf sync`` command -----------------------------

CLI = Path(sys.executable).with_name("ics2conf")
SAMPLES = REPO / "samples"
CLI_CALENDARS = (SAMPLES / "apple-calendar.ics", SAMPLES / "outlook-invite.ics")
KOOKOO_KEY = "kill-loop-kookoo-key"
# Each "now" puts other occurrences of the sample meetings in the horizon, so
# consecutive runs create, update and delete jobs.
CLI_NOWS = ("2026-01-05T08:00+05:30", "2026-01-20T08:00+05:30", "2026-02-10T08:00+05:30")
# Every CLI run pays for interpreter start-up and calendar parsing, so the
# default is a few kills; set ICS2CONF_CLI_KILLS=50 for a full run.
CLI_KILLS = int(os.environ.get("ICS2CONF_CLI_KILLS", "3"))
CLI_LATENCY_MS = 40


def cli_environment(url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ICS2CONF_", "EASYCRON_", "KOOKOO_"))}
    env.update(
        EASYCRON_API_URL=url, EASYCRON_API_KEY=API_KEY, KOOKOO_API_KEY=KOOKOO_KEY,
        ICS2CONF_STATE_DIR=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    return env


def cli_command(command: str, now: str, *options: str) -> list[str]:
    return [str(CLI), command, *map(str, CLI_CALENDARS), "--directory", str(SAMPLES / "directory.csv"), "--now", now,
            "--namespace", NAMESPACE, *options]


def cli_sync_command(now: str, concurrency: int) -> list[str]:
    return cli_command("sync", now, "--concurrency", str(concurrency), "--allow-mass-delete")


@pytest.mark.skipif(not CLI.exists(), reason="the ics2conf command is not installed in this environment")
def test_cli_random_kills_then_converge(tmp_path):
    with server_process(CLI_LATENCY_MS) as url:
        env = cli_environment(url, tmp_path)
        client = EasyCronClient(url, API_KEY)
        foreign_before = seed_foreign_jobs(client)
        rng = random.Random(SEED)
        kills = runs = 0
        while kills < CLI_KILLS and runs < 4 * CLI_KILLS:
            runs += 1
            lists_before = server_state(url)["counts"].get("list", 0)
            process = subprocess.Popen(
                cli_sync_command(rng.choice(CLI_NOWS), rng.choice((1, 4))), cwd=tmp_path, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            # Start-up and parsing take most of a run: kill only once it has listed the account.
            while process.poll() is None and server_state(url)["counts"].get("list", 0) == lists_before:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.3))
            if process.poll() is None:
                process.kill()
                kills += 1
            process.wait()
            wait_until_idle(url)

        final = subprocess.run(cli_sync_command(CLI_NOWS[-1], 4), cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
        check = subprocess.run(cli_command("plan", CLI_NOWS[-1], "--detailed-exitcode"), cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
        remote = client.list_jobs()
        names = Counter(job.name for job in remote if _ours(job.name))
        duplicates = sum(n - 1 for n in names.values())
        foreign_touched = count_foreign_touched(foreign_before, remote)
        print(f"\nCLI kill loop: {kills} kills in {runs} runs; final sync: {duplicates} duplicates,"
              f" {foreign_touched} foreign touched; plan afterwards exit code {check.returncode}")

    assert kills >= CLI_KILLS
    assert final.returncode == 0, final.stderr
    assert check.returncode == 0, check.stdout  # 0: no changes pending, so nothing lost or orphaned
    assert duplicates == 0
    assert foreign_touched == 0
    for output in (final.stdout, final.stderr, check.stdout, check.stderr):
        assert API_KEY not in output
        assert KOOKOO_KEY not in output
