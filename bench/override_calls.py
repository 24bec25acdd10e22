"""Compare, per event, who the plan's jobs ring and when with the calls the export requests.

Expected calls are computed without ics2conf's calendar code:
recurring-ical-events expands each series with its RECURRENCE-ID
overrides, and each occurrence rings the attendees on its own ATTENDEE
list who did not decline or delegate, are not the organizer, not
non-participants, not rooms or resources, and have a number in the
directory. Calls between 21:00 and 09:00 IST are dropped, as the plan
drops them by default. The plan's side is every job's fires in
``[now, now + horizon)``, evaluated with ``ics2conf.cronexpr.fire_times``.
Both sides are multisets of (UTC minute, attendee email) per event UID.

    .venv/bin/python -m bench.override_calls [--ics FILE] [--directory FILE] [--now ISO]
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from ics2conf.config import Settings
from ics2conf.cronexpr import fire_times
from ics2conf.pipeline import build_desired

OUT = Path(__file__).parent / "out"
DEFAULT_NOW = "2027-01-04T09:00:00+05:30"
IST = ZoneInfo("Asia/Kolkata")
SKIPPED_PARTSTATS = {"DECLINED", "DELEGATED"}


def _in_quiet_hours(instant: datetime) -> bool:
    local = instant.astimezone(IST).time()
    return local >= time(21, 0) or local < time(9, 0)


def _email(value) -> str:
    text = str(value).strip()
    return text[len("mailto:"):].lower() if text.lower().startswith("mailto:") else text.lower()


def expected_calls(ics: Path, phones: set[str], now: datetime, end: datetime) -> dict[str, Counter]:
    """Return, per UID, the (UTC minute, email) calls the export's occurrences request."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = icalendar.Calendar.from_ical(ics.read_bytes())
        occurrences = recurring_ical_events.of(calendar).between(now, end)
    calls: dict[str, Counter] = {}
    for occurrence in occurrences:
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = occurrence.decoded("DTSTART")
        if not isinstance(start, datetime) or not now <= start < end:
            continue
        minute = start.astimezone(UTC).replace(second=0, microsecond=0)
        if _in_quiet_hours(minute):
            continue
        organizer = _email(occurrence.get("ORGANIZER", ""))
        attendees = occurrence.get("ATTENDEE") or []
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            params = attendee.params
            email = _email(attendee)
            if str(params.get("PARTSTAT", "")).upper() in SKIPPED_PARTSTATS:
                continue
            if str(params.get("ROLE", "")).upper() == "NON-PARTICIPANT":
                continue
            if str(params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE"):
                continue
            if email == organizer or email not in phones:
                continue
            calls.setdefault(str(occurrence["UID"]), Counter())[(minute, email)] += 1
    return calls


def planned_calls(ics: Path, directory: Path, now: datetime, end: datetime) -> dict[str, Counter]:
    """Return, per UID, the (UTC minute, email) fires of the plan's jobs in ``[now, end)``."""
    settings = Settings(directories=(str(directory),), now=now)
    state = build_desired([str(ics)], settings, now=now)
    fires: dict[str, Counter] = {}
    for job in state.jobs:
        for instant in fire_times(job.spec.cron_expression, job.spec.timezone, now, end).instants:
            fires.setdefault(job.event_uid, Counter())[(instant.astimezone(UTC), job.callee.key)] += 1
    return fires


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ics", type=Path, default=OUT / "export-10k.ics")
    parser.add_argument("--directory", type=Path, default=OUT / "directory-10k.csv")
    parser.add_argument("--now", default=DEFAULT_NOW)
    parser.add_argument("--horizon-days", type=int, default=30)
    args = parser.parse_args(argv)

    now = datetime.fromisoformat(args.now)
    end = now + timedelta(days=args.horizon_days)
    with args.directory.open(encoding="utf-8") as handle:
        phones = {row["email"].strip().lower() for row in csv.DictReader(handle) if row.get("phone")}
    expected = expected_calls(args.ics, phones, now, end)
    planned = planned_calls(args.ics, args.directory, now, end)

    mismatched = 0
    missed = extra = 0
    for uid in sorted(set(expected) | set(planned)):
        want, got = expected.get(uid, Counter()), planned.get(uid, Counter())
        if want == got:
            continue
        mismatched += 1
        missed += sum((want - got).values())
        extra += sum((got - want).values())
    print(
        f"events with calls: {len(expected)}, with fires: {len(planned)};"
        f" calls {sum(sum(c.values()) for c in expected.values())},"
        f" fires {sum(sum(c.values()) for c in planned.values())}"
    )
    print(f"events where fires != calls: {mismatched} (missed calls {missed}, extra calls {extra})")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
