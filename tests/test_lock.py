"""The per-namespace sync lock in the state directory."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ics2conf.easycron import EasyCronClient
from ics2conf.errors import LockTimeoutError
from ics2conf.lock import lock_path, namespace_lock
from ics2conf.plan import diff
from ics2conf.sync import apply
from tests.job_factory import desired_set
from tests.test_kill_loop import API_KEY, JOB_COUNT, run_sync, server_process, server_state

REPO = Path(__file__).resolve().parents[1]

HOLDER = """
import sys
from ics2conf.lock import namespace_lock
with namespace_lock(sys.argv[1], 5):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ICS2CONF_STATE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def holder():
    """Start a process that holds a namespace's lock until its stdin closes; return a starter."""
    processes: list[subprocess.Popen] = []

    def start(namespace: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, namespace], cwd=REPO, env=os.environ.copy(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        processes.append(process)
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_lock_file_in_state_dir(state_dir):
    with namespace_lock("default", 1) as path:
        assert path == state_dir / "locks" / "default.lock"
        assert path.exists()


def test_lock_is_reusable_after_release():
    with namespace_lock("default", 1):
        pass
    with namespace_lock("default", 1):
        pass


def test_timeout_names_holder_and_option(holder):
    process = holder("default")
    with pytest.raises(LockTimeoutError) as caught:
        with namespace_lock("default", 0.2):
            pass
    message = str(caught.value)
    assert "Another ics2conf sync of namespace 'default' is running" in message
    assert f"process {process.pid}" in message
    assert "--lock-timeout" in message
    assert str(lock_path("default")) in message


def test_other_namespace_not_blocked(holder):
    holder("default")
    with namespace_lock("team-b", 0.2):
        pass


def test_lock_released_when_holder_killed(holder):
    process = holder("default")
    process.send_signal(signal.SIGKILL)
    process.wait()
    with namespace_lock("default", 5):
        pass


def test_waiting_sync_finds_nothing_to_do(easycron_server):
    desired = desired_set(12)
    reports = []
    first_has_lock = threading.Event()
    release_first = threading.Event()

    def run(hold: bool) -> None:
        client = EasyCronClient(easycron_server.url, easycron_server.api_key)
        with namespace_lock("default", 10):
            if hold:
                first_has_lock.set()
                release_first.wait(5)
            reports.append(apply(diff(desired, client.list_jobs(), "default"), client))

    first = threading.Thread(target=run, args=(True,))
    first.start()
    first_has_lock.wait(5)
    second = threading.Thread(target=run, args=(False,))
    second.start()
    release_first.set()
    first.join()
    second.join()

    assert [len(report.results) for report in reports] == [12, 0]
    assert easycron_server.writes == 12


def test_invalid_namespace_rejected():
    with pytest.raises(ValueError, match="invalid namespace"):
        with namespace_lock("../etc", 1):
            pass


def test_two_sync_processes_write_once(tmp_path):
    """Two syncs started together: one writes every job, the other waits and writes nothing."""
    with server_process(latency_ms=5) as url:
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
        children = [context.Process(target=run_sync, args=(url, 0, 4)) for _ in range(2)]
        for child in children:
            child.start()
        for child in children:
            child.join(60)
        assert [child.exitcode for child in children] == [0, 0]
        state = server_state(url)
        jobs = EasyCronClient(url, API_KEY).list_jobs()
    assert state["counts"].get("create", 0) == JOB_COUNT
    assert state["counts"]["list"] == 2
    assert sorted(job.name for job in jobs) == sorted(job.spec.name for job in desired_set(JOB_COUNT))


def test_wait_notice_names_holder_once(holder):
    process = holder("default")
    waits: list[str | None] = []
    with pytest.raises(LockTimeoutError):
        with namespace_lock("default", 0.3, on_wait=waits.append):
            pass
    assert waits == [str(process.pid)]


@pytest.mark.parametrize("timeout", [0, 1])
def test_no_wait_notice_when_lock_is_free_or_no_wait_allowed(holder, timeout):
    waits: list[str | None] = []
    if timeout == 0:
        holder("default")
        with pytest.raises(LockTimeoutError):
            with namespace_lock("default", timeout, on_wait=waits.append):
                pass
    else:
        with namespace_lock("default", timeout, on_wait=waits.append):
            pass
    assert waits == []
