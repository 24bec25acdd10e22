"""Inputs and checks shared by the tests that plan the same input with and without the past check."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ics2conf.config import Settings
from ics2conf.pipeline import build_desired

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=IST)  # the cutoff is 2027-01-01
PAST = "20261201T100000Z"  # a start well before the cutoff
LIVE = "20270110T100000Z"  # a start inside the 30-day window
LIVE_CRON = "0 10 10 1 * 2027"  # the job schedule of a single event at LIVE


def vevent(uid: str | None, start: str, *extra: str) -> str:
    lines = ["BEGIN:VEVENT"]
    if uid is not None:
        lines.append(f"UID:{uid}")
    lines += [
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{start}",
        "SUMMARY:Review",
        "ATTENDEE;CN=Asha Rao:mailto:asha@example.com",
        *extra,
        "END:VEVENT",
    ]
    return "\r\n".join(lines)


def calendar(*components: str, head: tuple[str, ...] = ()) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *head, *components, "END:VCALENDAR", ""])


@pytest.fixture
def people(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("email,phone\nasha@example.com,+919876543210\nvikram@example.com,+919876543211\n")
    return path


def settings_for(people: Path, **overrides) -> Settings:
    return Settings(directories=(str(people),), allow_quiet_hours=True, **overrides)


def job_table(state) -> list[tuple[str, str, str, str]]:
    return sorted((j.spec.name, j.spec.cron_expression, j.spec.timezone, j.spec.url) for j in state.jobs)


def both(inputs: list[str], settings: Settings, now: datetime = NOW):
    return (
        build_desired(inputs, settings, now=now, skip_past=True),
        build_desired(inputs, settings, now=now, skip_past=False),
    )


def crons(state) -> list[str]:
    return sorted(job.spec.cron_expression for job in state.jobs)
