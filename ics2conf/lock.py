"""One sync per namespace at a time on this machine.

The lock is a ``filelock`` file in the user's state directory
(``platformdirs.user_state_dir("ics2conf")``, or ``$ICS2CONF_STATE_DIR``).
It only serialises runs on one machine. Runs on several machines that share
an EasyCron account must be serialised by whatever schedules them (one cron
host, a CI concurrency group), because EasyCron has no lock of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import filelock
import platformdirs

from .errors import LockTimeoutError
from .model import NAMESPACE_PATTERN

STATE_DIR_VARIABLE = "ICS2CONF_STATE_DIR"


def state_dir() -> Path:
    """Return the directory for ics2conf's state files, creating it if needed."""
    configured = os.environ.get(STATE_DIR_VARIABLE)
    path = Path(configured) if configured else Path(platformdirs.user_state_dir("ics2conf"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def lock_path(namespace: str) -> Path:
    """Return the lock file of a namespace."""
    if not NAMESPACE_PATTERN.match(namespace):
        raise ValueError(f"invalid namespace {namespace!r}")
    return state_dir() / "locks" / f"{namespace}.lock"


@contextmanager
def namespace_lock(
    namespace: str, timeout_seconds: float, *, on_wait: Callable[[str | None], None] | None = None
) -> Iterator[Path]:
    """Hold the namespace's lock for the body, waiting up to ``timeout_seconds`` for it.

    When the lock is taken and there is time to wait, ``on_wait`` is called once first with
    the holder's process id (None when unknown), so the caller can say why it pauses.
    Raises LockTimeoutError naming the process that holds the lock, when
    known. The lock is released when the body ends or the process dies.
    """
    path = lock_path(namespace)
    path.parent.mkdir(parents=True, exist_ok=True)
    # filelock truncates the lock file itself when acquiring, so the holder is
    # recorded in a separate file next to it.
    holder_path = path.with_suffix(".holder")
    lock = filelock.FileLock(str(path), timeout=max(0.0, timeout_seconds))
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if timeout_seconds <= 0:
                raise
            if on_wait is not None:
                on_wait(holder_pid(holder_path))
            lock.acquire()
    except filelock.Timeout:
        raise LockTimeoutError(
            f"Another ics2conf sync of namespace {namespace!r} is running{_describe_holder(holder_path)};"
            f" waited {timeout_seconds:g} s for the lock file {path}. Let that sync finish, or"
            " give it longer with --lock-timeout SECONDS."
        ) from None
    try:
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        holder_path.write_text(f"{os.getpid()} {started}\n", encoding="utf-8")
        yield path
    finally:
        try:
            holder_path.unlink(missing_ok=True)
        finally:
            lock.release()


def holder_pid(holder_path: Path) -> str | None:
    """Return the process id recorded in a lock's holder file, or None when there is none."""
    try:
        pid = holder_path.read_text(encoding="utf-8").split(" ", 1)[0].strip()
    except OSError:
        return None
    return pid or None


def _describe_holder(holder_path: Path) -> str:
    try:
        pid, started = holder_path.read_text(encoding="utf-8").split(" ", 1)
    except (OSError, ValueError):
        return ""
    return f" (process {pid}, started {started.strip()})"

