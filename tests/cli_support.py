"""Run the CLI in tests, isolated from the developer's environment, and keep every output.

``run_cli`` records stdout, stderr and any log file of every run in ``CLI_OUTPUTS``; the
secret scan reads them to prove neither API key ever reaches the user.
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from typer.testing import CliRunner, Result

from ics2conf.cli import app
from ics2conf.config import Settings
from ics2conf.settings_loader import env_var_name

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"

# Distinctive keys, so a leak in any output is found by a plain substring search.
EASYCRON_KEY = "ec-test-key-3f9a61d2"
KOOKOO_KEY = "kk-test-key-8b27c4e5"
SECRETS = (EASYCRON_KEY, KOOKOO_KEY)

# (label, text) of every stdout, stderr and log file produced through run_cli.
CLI_OUTPUTS: list[tuple[str, str]] = []


def record_output(label: str, text: str | None) -> None:
    """Keep ``text`` for the secret scan."""
    if text:
        CLI_OUTPUTS.append((label, text))


def isolated_env(tmp_path: Path, extra: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    """Return an environment with no ics2conf or service variables and private state folders."""
    env: dict[str, str | None] = {env_var_name(f.name): None for f in dataclasses.fields(Settings)}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        ICS2CONF_STATE_DIR=str(tmp_path / "state"),
        NO_COLOR="1",
        COLUMNS="200",
    )
    env.update(extra or {})
    return env


def server_env(tmp_path: Path, server, *, kookoo: bool = True) -> dict[str, str | None]:
    """Return an isolated environment pointing at the fake EasyCron server with test keys."""
    server.api_key = EASYCRON_KEY
    extra = {"EASYCRON_API_KEY": EASYCRON_KEY, "EASYCRON_API_URL": server.url}
    if kookoo:
        extra["KOOKOO_API_KEY"] = KOOKOO_KEY
    return isolated_env(tmp_path, extra)


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str | None],
    *,
    stdin: str | bytes | None = None,
    log_file: Path | None = None,
) -> Result:
    """Invoke ``ics2conf ARGS`` in-process; re-raise any exception other than an exit."""
    runner = CliRunner()
    cwd = os.getcwd()
    try:
        os.chdir(REPO)  # the config file search looks in the working folder
        result = runner.invoke(app, list(args), env=dict(env), input=stdin)
    finally:
        os.chdir(cwd)
    label = "ics2conf " + " ".join(args)
    record_output(label + " [stdout]", result.stdout)
    record_output(label + " [stderr]", result.stderr)
    if log_file is not None and log_file.exists():
        record_output(label + " [log file]", log_file.read_text(encoding="utf-8"))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# --- calendars ------------------------------------------------------------------------------


def vevent(
    uid: str,
    summary: str,
    start: str,
    *,
    zone: str = "Asia/Kolkata",
    rrule: str | None = None,
    attendees: Sequence[tuple[str, str]] = (("Asha Rao", "tel:+919876543210"),),
    sequence: int = 0,
    extra: str = "",
) -> str:
    """Return one VEVENT; ``start`` is local ``YYYYMMDDTHHMMSS`` in ``zone``."""
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{summary}",
        f"DTSTART;TZID={zone}:{start}",
        "DURATION:PT30M",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    for name, address in attendees:
        lines.append(f"ATTENDEE;CN={name};PARTSTAT=ACCEPTED:{address}")
    if extra:
        lines.extend(textwrap.dedent(extra).strip().splitlines())
    lines.append("END:VEVENT")
    return "\n".join(lines)


def calendar(*events: str) -> str:
    """Return a VCALENDAR holding ``events``."""
    body = "\n".join(events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//ics2conf tests//EN\n{body}\nEND:VCALENDAR\n"


def write_calendar(path: Path, *events: str) -> Path:
    """Write a VCALENDAR with ``events`` to ``path`` (CRLF line endings) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(calendar(*events).replace("\n", "\r\n").encode("utf-8"))
    return path
