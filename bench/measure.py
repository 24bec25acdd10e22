"""Run a command as a child process and measure its wall time and peak RSS."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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


# Forks and execs the measured command, waits for it with os.wait4 and
# writes "wall_seconds maxrss_kib" to the file named by its first argument.
LAUNCHER_CODE = (
    "import os, sys, time\n"
    "result_path, command = sys.argv[1], sys.argv[2:]\n"
    "started = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(command[0], command)\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "wall = time.perf_counter() - started\n"
    "with open(result_path, 'w') as f:\n"
    "    f.write(f'{wall} {usage.ru_maxrss}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)\n"
)


def run_measured(command: list[str], *, env: dict[str, str] | None = None,
                 stdout_path: Path | None = None, stderr_path: Path | None = None) -> Sample:
    """Run ``command`` to completion and return its wall time and peak RSS.

    Linux carries the high-water mark of the forking process's address
    space through exec, so a child's ``ru_maxrss`` is at least the size of
    the process it was forked from. This process may hold a generated
    export, so a small launcher interpreter forks the command instead and
    reports its ``os.wait4`` usage. Output goes to files, never to pipes, so a large
    JSON document cannot stall the child.
    """
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    stderr = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    with tempfile.NamedTemporaryFile("r", suffix=".measure", delete=False) as result_file:
        result_path = Path(result_file.name)
    try:
        completed = subprocess.run([sys.executable, "-c", LAUNCHER_CODE, str(result_path), *command],
                                   env=env, stdout=stdout, stderr=stderr, check=False)
        wall, maxrss_kib = result_path.read_text().split()
    finally:
        result_path.unlink(missing_ok=True)
        for handle in (stdout, stderr):
            if handle is not subprocess.DEVNULL:
                handle.close()
    return Sample(float(wall), int(maxrss_kib) / 1024, completed.returncode)


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
