"""Run a command as a child process and measure its wall time and peak RSS."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The floor of ``plan``: the same interpreter reading the same file with icalendar alone.
BARE_PARSE_CODE = (
    "import sys\n"
    "from icalendar import Calendar\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    Calendar.from_ical(f.read())\n"
)


@dataclass(frozen=True)
class Sample:
    """One run: wall seconds, peak resident set size in MiB and the exit status."""

    wall: float
    peak_rss_mib: float
    returncode: int


def run_measured(command: list[str], *, env: dict[str, str] | None = None,
                 stdout_path: Path | None = None, stderr_path: Path | None = None) -> Sample:
    """Run ``command`` to completion and return its wall time and peak RSS.

    ``os.wait4`` returns the resource usage of this one child (its
    ``ru_maxrss`` in KiB on Linux), so earlier children do not leak into the
    figure as they would with ``getrusage(RUSAGE_CHILDREN)``. Output goes to
    files, never to pipes, so a large JSON document cannot stall the child.
    """
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    stderr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        for handle in (stdout, stderr):
            if handle is not subprocess.DEVNULL:
                handle.close()
    return Sample(wall, usage.ru_maxrss / 1024, process.returncode)


def median(values: list[float]) -> float:
    return statistics.median(values)


def bare_parse_command(ics_path: Path) -> list[str]:
    return [sys.executable, "-c", BARE_PARSE_CODE, str(ics_path)]


def ics2conf_command() -> list[str]:
    """Return the command that starts the ics2conf CLI from this interpreter's environment."""
    script = Path(sys.executable).parent / "ics2conf"
    if script.exists():
        return [str(script)]
    found = shutil.which("ics2conf")
    if found:
        return [found]
    return [sys.executable, "-c", "from ics2conf.cli import main; main()"]


def plan_environment(**extra: str) -> dict[str, str]:
    """Return the environment of a ``plan`` run with no EasyCron account.

    Both API keys are removed so no run can reach a real account; callers
    add back what a scenario needs (for example a local EASYCRON_API_URL).
    """
    env = {k: v for k, v in os.environ.items() if k not in {"EASYCRON_API_KEY", "KOOKOO_API_KEY"}}
    env.update(extra)
    return env
