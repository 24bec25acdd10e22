"""Generate realistic calendar exports and their attendee directory for the benchmarks.

An export reads like a corporate calendar exported after years of use:

* 70% single events in the past, 20% recurring series, 10% single events in
  the future (exact counts, shuffled);
* recurring series are weekly or daily. Most ended before ``now`` (with
  UNTIL or COUNT) and the rest are still running. Some have EXDATEs or
  occurrences moved by RECURRENCE-ID overrides;
* every event has 2-12 ``mailto:`` attendees with CN (mostly small
  meetings), including the organizer, and 15% of invitations are declined;
* events are in Asia/Kolkata, Europe/Berlin, America/New_York,
  Asia/Singapore (each with a VTIMEZONE block) and UTC (``Z`` times), at
  local hours that fall inside 09:00-21:00 IST.

The directory CSV (``email,phone,name``) lists every attendee with a valid,
invented Indian mobile number in mixed spellings. Everything follows from
``seed`` and ``now``: the same arguments give byte-identical files.

    python -m bench.generate --events 10000 --seed 7 --now 2027-01-04T09:00:00+05:30
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
from dateutil.rrule import DAILY, WEEKLY, rrule, weekdays
from icalendar import Timezone

DEFAULT_NOW = "2027-01-04T09:00:00+05:30"
DEFAULT_SEED = 7
DEFAULT_OUT = Path(__file__).parent / "out"
SIZES = {"1k": 1_000, "10k": 10_000, "50k": 50_000}

PAST_SHARE = 0.70
RECURRING_SHARE = 0.20  # the rest are future single events
ONGOING_SHARE = 0.20  # of recurring series: still running at ``now``
HISTORY_DAYS = 3 * 365  # how far back the export reaches
FUTURE_DAYS = 180  # how far ahead future single events are spread
HORIZON_DAYS = 30  # ics2conf's default horizon: overrides and EXDATEs are put inside it

# Zone -> (share of events, earliest and latest local start as minutes after
# midnight). The windows keep every start inside 09:00-21:00 IST, where
# commercial calls to Indian numbers are allowed, in summer and in winter.
ZONES: dict[str, tuple[float, int, int]] = {
    "Asia/Kolkata": (0.50, 9 * 60, 19 * 60 + 30),
    "Europe/Berlin": (0.15, 8 * 60, 15 * 60 + 30),
    "America/New_York": (0.10, 8 * 60, 10 * 60),
    "Asia/Singapore": (0.10, 12 * 60, 18 * 60),
    "UTC": (0.15, 4 * 60, 14 * 60),
}
# Attendees per event, organizer included: most meetings are small (mean 4.9).
GROUP_SIZES = tuple(zip("2 3 4 5 6 7 8 9 10 11 12".split(),
                        (0.20, 0.18, 0.15, 0.12, 0.09, 0.07, 0.06, 0.04, 0.03, 0.03, 0.03)))
PARTSTATS = (("ACCEPTED", 0.55), ("NEEDS-ACTION", 0.20), ("TENTATIVE", 0.10), ("DECLINED", 0.15))

FIRST_NAMES = (
    "Aarav Aditi Ananya Arjun Deepa Divya Farhan Gaurav Ishaan Kavya Kiran Lakshmi Manish Meera "
    "Naveen Neha Pooja Priya Rahul Ravi Rohan Sanjay Shreya Sneha Suresh Tanvi Vikram Zoya "
    "Anna Jonas Lena Lukas Emma Noah Olivia Liam Wei Mei Hui Jun"
).split()
LAST_NAMES = (
    "Agarwal Banerjee Chatterjee Desai Gupta Iyer Joshi Kapoor Khan Krishnan Kumar Menon Mehta "
    "Nair Patel Pillai Rao Reddy Shah Sharma Singh Srinivasan Verma Yadav "
    "Becker Fischer Schmidt Weber Miller Johnson Brown Tan Lim Ng"
).split()
DOMAINS = ("example.com", "example.org", "example.net")
TOPICS = (
    "Standup", "Sprint planning", "Design review", "Customer sync", "1:1", "Release checklist",
    "Budget review", "Hiring panel", "Vendor call", "Ops review", "Architecture forum",
    "Retro", "Quarterly planning", "Incident review", "Sales pipeline", "Partner update",
)


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    phone: str  # as the directory writes it


@dataclass
class Export:
    """A generated export: the .ics text, the directory CSV text and what they contain."""

    ics: str
    directory_csv: str
    counts: Counter = field(default_factory=Counter)
    calls_by_uid: Counter = field(default_factory=Counter)  # calls in the horizon per event UID


# --- text helpers -----------------------------------------------------------


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 section 3.1); lines here are ASCII."""
    if len(line) <= 75:
        return line
    parts = [line[:75]]
    rest = line[75:]
    while rest:
        parts.append(" " + rest[:74])
        rest = rest[74:]
    return "\r\n".join(parts)


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 section 3.3.11)."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def format_local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def format_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def date_time_property(name: str, local: datetime, zone: str) -> str:
    """Write DTSTART/DTEND/RECURRENCE-ID/EXDATE for a naive local time in ``zone``."""
    if zone == "UTC":
        return f"{name}:{format_local(local)}Z"
    return f"{name};TZID={zone}:{format_local(local)}"


# --- people -------------------------------------------------------------------


def indian_mobile(rng: random.Random, used: set[str]) -> str:
    """Return a new valid Indian mobile number in E.164 (invented: random digits)."""
    while True:
        national = str(rng.choice("6789")) + "".join(rng.choice("0123456789") for _ in range(9))
        e164 = "+91" + national
        if e164 in used:
            continue
        number = phonenumbers.parse(e164)
        if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE:
            used.add(e164)
            return e164


def spell_phone(e164: str, rng: random.Random) -> str:
    """Write a number the way people type them into a directory."""
    national = e164[3:]
    style = rng.random()
    if style < 0.4:
        return e164
    if style < 0.7:
        return f"+91 {national[:5]} {national[5:]}"
    if style < 0.85:
        return "0" + national
    return national


def make_people(count: int, rng: random.Random) -> list[Person]:
    people = []
    used_emails: set[str] = set()
    used_phones: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}@{rng.choice(DOMAINS)}".lower()
        suffix = 2
        while email in used_emails:
            local, domain = email.split("@")
            email = f"{local.rstrip('0123456789')}{suffix}@{domain}"
            suffix += 1
        used_emails.add(email)
        phone = spell_phone(indian_mobile(rng, used_phones), rng)
        people.append(Person(email, f"{first} {last}", phone))
    return people


def attendee_lines(people: list[Person], organizer: Person, rng: random.Random,
                   counts: Counter) -> tuple[list[str], int]:
    """Return the ORGANIZER and ATTENDEE lines and how many attendees are to be called.

    ics2conf rings an attendee who did not decline, except the organizer
    (rung only with --call-organizer), who is listed among the attendees as
    Google Calendar exports do.
    """
    callable_count = 0
    lines = [f"ORGANIZER;CN={organizer.name}:mailto:{organizer.email}"]
    for person in people:
        if person is organizer:
            partstat, role = "ACCEPTED", "REQ-PARTICIPANT"
        else:
            partstat = weighted(rng, PARTSTATS)
            role = "OPT-PARTICIPANT" if rng.random() < 0.15 else "REQ-PARTICIPANT"
        counts["attendees"] += 1
        if partstat == "DECLINED":
            counts["declined"] += 1
        elif person is not organizer:
            callable_count += 1
        lines.append(
            f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE={role};PARTSTAT={partstat};CN={person.name}"
            f";X-NUM-GUESTS=0:mailto:{person.email}"
        )
    return lines, callable_count


def weighted(rng: random.Random, choices) -> str:
    roll = rng.random()
    for value, share in choices:
        roll -= share
        if roll < 0:
            return value
    return choices[-1][0]


# --- events -------------------------------------------------------------------


class _Builder:
    """Write the VEVENTs of one export; one instance per ``generate_export`` call."""

    def __init__(self, events: int, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.now = now
        self.counts: Counter = Counter()
        self.calls_by_uid: Counter = Counter()
        self.people = make_people(max(40, events // 10), self.rng)
        self.used: set[str] = set()
        self.zones_used: set[str] = set()
        self.lines: list[str] = []
        self.stamp = format_utc(now)
        self.horizon_end = now + timedelta(days=HORIZON_DAYS)
        self.zone_choices = tuple((zone, spec[0]) for zone, spec in ZONES.items())

    def uid(self) -> str:
        return f"{self.rng.getrandbits(96):024x}@example.com"

    def pick_zone(self) -> str:
        zone = weighted(self.rng, self.zone_choices)
        self.zones_used.add(zone)
        return zone

    def local_start(self, zone: str, day: date) -> datetime:
        _, first, last = ZONES[zone]
        minute = self.rng.randrange(first, last + 1, 30)
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60)

    def local_now(self, zone: str) -> datetime:
        return self.now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)

    def attendees(self) -> tuple[Person, list[Person]]:
        size = int(weighted(self.rng, GROUP_SIZES))
        group = self.rng.sample(self.people, size)
        self.used.update(p.email for p in group)
        return group[0], group

    def emit(self, uid: str, zone: str, start: datetime, minutes: int, summary: str,
             organizer: Person, group: list[Person], extra: list[str], sequence: int = 0) -> int:
        """Append one VEVENT and return how many of its attendees are to be called."""
        people_lines, callable_count = attendee_lines(group, organizer, self.rng, self.counts)
        lines = [
            "BEGIN:VEVENT",
            date_time_property("DTSTART", start, zone),
            date_time_property("DTEND", start + timedelta(minutes=minutes), zone),
            f"DTSTAMP:{self.stamp}",
            f"UID:{uid}",
            *extra,
            f"CREATED:{self.stamp}",
            f"DESCRIPTION:{escape_text(f'Agenda for {summary}. Join by phone, dial-in follows.')}",
            f"LAST-MODIFIED:{self.stamp}",
            f"LOCATION:{escape_text('Conference bridge, ' + zone)}",
            f"SEQUENCE:{sequence}",
            "STATUS:CONFIRMED",
            f"SUMMARY:{escape_text(summary)}",
            "TRANSP:OPAQUE",
            *people_lines,
            "END:VEVENT",
        ]
        self.lines.extend(fold(line) for line in lines)
        return callable_count

    def count_calls(self, uid: str, zone: str, starts: list[datetime], callable_count: int) -> None:
        """Add the occurrences in ``[now, now + HORIZON_DAYS)`` and their calls to the counts."""
        tz = ZoneInfo(zone)
        inside = sum(1 for start in starts if self.now <= start.replace(tzinfo=tz) < self.horizon_end)
        self.counts["occurrences_in_horizon"] += inside
        self.counts["calls_in_horizon"] += inside * callable_count
        if inside and callable_count:
            self.calls_by_uid[uid] += inside * callable_count

    def summary(self) -> str:
        return f"{self.rng.choice(TOPICS)} #{self.rng.randint(1, 999)}"

    def single(self, future: bool) -> None:
        zone = self.pick_zone()
        today = self.local_now(zone).date()
        if future:
            day = today + timedelta(days=self.rng.randint(1, FUTURE_DAYS))
            self.counts["future_single"] += 1
            if (day - today).days < HORIZON_DAYS:
                self.counts["future_single_in_horizon"] += 1
        else:
            day = today - timedelta(days=self.rng.randint(1, HISTORY_DAYS))
            self.counts["past_single"] += 1
        organizer, group = self.attendees()
        start = self.local_start(zone, day)
        uid = self.uid()
        callable_count = self.emit(uid, zone, start, self.rng.choice((30, 45, 60)), self.summary(),
                                   organizer, group, [])
        self.count_calls(uid, zone, [start], callable_count)

    def recurring(self) -> None:
        rng = self.rng
        zone = self.pick_zone()
        local_now = self.local_now(zone)
        ongoing = rng.random() < ONGOING_SHARE
        first_day = local_now.date() - timedelta(days=rng.randint(30, HISTORY_DAYS))
        start = self.local_start(zone, first_day)

        if rng.random() < 0.65:
            freq, interval = WEEKLY, rng.choice((1, 1, 1, 2))
            byday = sorted(rng.sample(range(5), rng.choice((1, 1, 2))))
            # DTSTART must be an occurrence: move it to the first chosen weekday.
            start += timedelta(days=(byday[0] - start.weekday()) % 7)
            rule = {"freq": freq, "interval": interval, "byweekday": [weekdays[d] for d in byday]}
            text = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(('MO', 'TU', 'WE', 'TH', 'FR')[d] for d in byday)}"
            self.counts["recurring_weekly"] += 1
        else:
            while start.weekday() >= 5:
                start += timedelta(days=1)
            rule = {"freq": DAILY, "interval": 1, "byweekday": [weekdays[d] for d in range(5)]}
            text = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"
            self.counts["recurring_daily"] += 1

        # One day past the horizon, so a DST change between the zone and UTC
        # cannot drop an occurrence at the horizon's end; count_calls cuts exactly.
        window_end = local_now + timedelta(days=HORIZON_DAYS + 1)
        if ongoing:
            self.counts["recurring_ongoing"] += 1
            until = None
            if rng.random() < 0.3:
                until = datetime.combine(window_end.date() + timedelta(days=rng.randint(1, 365)),
                                         datetime.max.time().replace(microsecond=0))
                text += f";UNTIL={format_utc(until.replace(tzinfo=ZoneInfo(zone)))}"
            occurrences = list(rrule(dtstart=start, until=min(until or window_end, window_end), **rule))
        else:
            self.counts["recurring_ended"] += 1
            if rng.random() < 0.5:
                last_day = local_now.date() - timedelta(days=rng.randint(1, max(1, (local_now.date() - first_day).days - 7)))
                until = datetime.combine(last_day, datetime.max.time().replace(microsecond=0))
                if until <= start:
                    until = start
                text += f";UNTIL={format_utc(until.replace(tzinfo=ZoneInfo(zone)))}"
                occurrences = list(rrule(dtstart=start, until=until, **rule))
            else:
                # COUNT: cut so that the last occurrence is still before now.
                candidates = list(rrule(dtstart=start, until=local_now - timedelta(days=1), **rule))
                count = rng.randint(1, max(1, min(len(candidates), 60)))
                text += f";COUNT={count}"
                occurrences = candidates[:count]

        uid, summary = self.uid(), self.summary()
        minutes = rng.choice((15, 30, 60))
        organizer, group = self.attendees()
        # EXDATEs and overrides: for running series, inside the horizon where
        # they change what is called; for ended ones, anywhere in the past.
        pool = [o for o in occurrences if o > local_now] if ongoing else occurrences[1:]
        exdates: list[datetime] = []
        moved: list[datetime] = []
        if pool and rng.random() < 0.5:
            exdates = sorted(rng.sample(pool, min(len(pool), rng.randint(1, 3))))
        rest = [o for o in pool if o not in exdates]
        if rest and rng.random() < 0.3:
            moved = sorted(rng.sample(rest, min(len(rest), rng.randint(1, 2))))
        extra = [f"RRULE:{text}"]
        extra += [date_time_property("EXDATE", ex, zone) for ex in exdates]
        self.counts["exdates"] += len(exdates)
        callable_count = self.emit(uid, zone, start, minutes, summary, organizer, group, extra)
        kept = set(occurrences) - set(exdates)
        for original in moved:
            new_start = self.moved_start(zone, original)
            if new_start is None:
                continue
            self.counts["overrides"] += 1
            kept.discard(original)
            moved_callable = self.emit(uid, zone, new_start, minutes, summary + " (moved)", organizer, group,
                                       [date_time_property("RECURRENCE-ID", original, zone)], sequence=1)
            self.count_calls(uid, zone, [new_start], moved_callable)
        self.count_calls(uid, zone, sorted(kept), callable_count)

    def moved_start(self, zone: str, original: datetime) -> datetime | None:
        """Return a new start on the same day within the zone's window, or None.

        The same day keeps a moved occurrence from landing on another
        occurrence of a daily series.
        """
        _, first, last = ZONES[zone]
        shifts = [60, 120, -60, 30, -30]
        self.rng.shuffle(shifts)
        for shift in shifts:
            moved = original + timedelta(minutes=shift)
            if moved.date() == original.date() and first <= moved.hour * 60 + moved.minute <= last:
                return moved
        return None

    def vtimezones(self) -> list[str]:
        first = (self.now - timedelta(days=HISTORY_DAYS + 60)).date()
        last = (self.now + timedelta(days=FUTURE_DAYS + 400)).date()
        lines = []
        for zone in sorted(self.zones_used - {"UTC"}):
            block = Timezone.from_tzid(zone, first_date=first, last_date=last).to_ical().decode()
            lines.extend(line for line in block.split("\r\n") if line)
        return lines


def generate_export(events: int, seed: int = DEFAULT_SEED, now: datetime | str = DEFAULT_NOW) -> Export:
    """Build an export of ``events`` events and the directory of its attendees.

    ``events`` counts VEVENT series and single events; RECURRENCE-ID
    overrides come on top of it and are counted in ``counts["overrides"]``.
    """
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    if now.tzinfo is None:
        raise ValueError(f"now must carry a UTC offset, got {now.isoformat()}")
    past = round(events * PAST_SHARE)
    recurring = round(events * RECURRING_SHARE)
    kinds = ["past"] * past + ["recurring"] * recurring + ["future"] * (events - past - recurring)
    builder = _Builder(events, seed, now)
    builder.rng.shuffle(kinds)
    for kind in kinds:
        if kind == "recurring":
            builder.recurring()
        else:
            builder.single(future=kind == "future")

    header = [
        "BEGIN:VCALENDAR",
        "PRODID:-//ics2conf benchmarks//generated export//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Team calendar (generated)",
    ]
    ics = "\r\n".join(header + builder.vtimezones() + builder.lines + ["END:VCALENDAR", ""])

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("email", "phone", "name"))
    for person in builder.people:
        if person.email in builder.used:
            writer.writerow((person.email, person.phone, person.name))
    builder.counts["people"] = len(builder.used)
    return Export(ics, out.getvalue(), builder.counts, builder.calls_by_uid)


def export_paths(label: str, out_dir: Path = DEFAULT_OUT) -> tuple[Path, Path]:
    """Return the (.ics, directory CSV) paths of the export called ``label``."""
    return out_dir / f"export-{label}.ics", out_dir / f"directory-{label}.csv"


def write_export(events: int, label: str, seed: int = DEFAULT_SEED, now: str = DEFAULT_NOW,
                 out_dir: Path = DEFAULT_OUT) -> tuple[Path, Path, Export]:
    """Generate an export and write it as ``export-LABEL.ics`` and ``directory-LABEL.csv``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    export = generate_export(events, seed, now)
    ics_path, csv_path = export_paths(label, out_dir)
    ics_path.write_bytes(export.ics.encode("utf-8"))
    csv_path.write_text(export.directory_csv, encoding="utf-8")
    return ics_path, csv_path, export


def label_for(events: int) -> str:
    return f"{events // 1000}k" if events % 1000 == 0 else str(events)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, action="append",
                        help="number of events; repeat for several exports (default: 1000, 10000, 50000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--now", default=DEFAULT_NOW, help="ISO-8601 instant that splits past from future")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/out)")
    args = parser.parse_args(argv)
    for events in args.events or list(SIZES.values()):
        ics_path, csv_path, export = write_export(events, label_for(events), args.seed, args.now, args.out)
        summary = ", ".join(f"{key}={value}" for key, value in sorted(export.counts.items()))
        print(f"{ics_path} ({ics_path.stat().st_size / 1e6:.1f} MB), {csv_path}: {summary}")


if __name__ == "__main__":
    main()
