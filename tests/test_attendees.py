"""Who is rung for a meeting, and who is skipped with which reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ics2conf.attendees import resolve_callees
from ics2conf.calendar import load_events
from ics2conf.directory import load_directory
from ics2conf.model import Address, Event

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def event():
    return load_events([str(DATA / "attendees.ics")]).events[0]


@pytest.fixture(scope="module")
def directory():
    return load_directory([str(DATA / "directory.csv"), str(DATA / "directory.vcf")])


def make_event(*attendees: Address, organizer: Address | None = None) -> Event:
    return Event(
        uid="made@example.com",
        summary="Made",
        source="made.ics",
        zone="Asia/Kolkata",
        start=datetime(2027, 1, 5, 4, 30, tzinfo=UTC),
        rrule=None,
        all_day=False,
        organizer=organizer,
        attendees=attendees,
    )


def test_callees_without_organizer(event, directory):
    callees, _, _ = resolve_callees(event, directory)
    assert [(c.key, c.phone, c.phone_e164) for c in callees] == [
        ("anand.iyer@example.com", "09876543210", "+919876543210"),  # directory, case-insensitive
        ("tel:+919876543211", "09876543211", "+919876543211"),  # tel: with brackets and dashes
        ("tel:+919876543212", "09876543212", "+919876543212"),  # tel: percent-encoded national form
        ("zoe.nunez@example.com", "09876543214", "+919876543214"),
    ]


def test_names_come_through_intact(event, directory):
    callees, _, _ = resolve_callees(event, directory)
    assert [c.name for c in callees] == [
        "Iyer, Anand",
        'O\'Brien "Ob" Das',
        "Meera",
        "Dr. Zoë Ñúñez-Øster, Jr. — Sales Ω, Pune office, long name that is folded",
    ]


# (address, reason) for every attendee not rung, without --call-organizer
SKIPPED = [
    ("mailto:neha.sharma@example.com", "organizer (rung only with --call-organizer)"),
    ("mailto:anand.iyer@example.com", "same person as mailto:Anand.Iyer@Example.com, rung once"),
    ("tel:+919876543212", "same person as tel:098765%2043212, rung once"),
    ("mailto:declined@example.com", "declined"),
    ("mailto:observer@example.com", "non-participant"),
    ("mailto:room4@example.com", "room"),
    ("mailto:projector@example.com", "resource"),
    ("mailto:nophone@example.com", "no phone number"),
    ("tel:12345", "invalid phone number '12345'"),
    ("tel:+44 20 7946 0018", "number '+44 20 7946 0018' is outside India and international calls are not allowed"),
]


def test_skipped_with_reasons(event, directory):
    _, skipped, _ = resolve_callees(event, directory)
    assert [(s.address, s.reason) for s in skipped] == SKIPPED


def test_problems_name_event_and_address(event, directory):
    _, _, problems = resolve_callees(event, directory)
    assert [(p.level, p.address) for p in problems] == [
        ("warning", "mailto:nophone@example.com"),
        ("error", "tel:12345"),
        ("error", "tel:+44 20 7946 0018"),
    ]
    for problem in problems:
        assert problem.uid == "attendees@example.com"
        assert "attendees@example.com" in problem.message
        assert problem.address in problem.message
        assert problem.source == event.source
    assert "'12345'" in problems[1].message
    assert "Bad Number" in problems[1].message


def test_organizer_called_once_when_asked(event, directory):
    callees, skipped, _ = resolve_callees(event, directory, call_organizer=True)
    keys = [c.key for c in callees]
    assert keys[0] == "neha.sharma@example.com"
    assert callees[0].phone == "09876543213"
    assert keys.count("neha.sharma@example.com") == 1
    assert not any("organizer" in s.reason for s in skipped)


def test_international_allowed(event, directory):
    callees, skipped, problems = resolve_callees(event, directory, allow_international=True)
    assert callees[-1].phone == "00442079460018"
    assert callees[-1].key == "tel:+442079460018"
    assert [p.address for p in problems if p.level == "error"] == ["tel:12345"]


def test_tel_address_wins_over_directory():
    directory = load_directory([str(DATA / "directory.csv")])
    event = make_event(Address("tel:+91 98765 43226", name="Anand"))
    callees, _, _ = resolve_callees(event, directory)
    assert callees[0].phone == "09876543226"


def test_same_number_by_email_and_tel_rung_once():
    directory = load_directory([str(DATA / "directory.csv")])
    event = make_event(
        Address("mailto:anand.iyer@example.com"),
        Address("tel:+919876543210", name="Anand by phone"),
    )
    callees, skipped, _ = resolve_callees(event, directory)
    assert [c.key for c in callees] == ["anand.iyer@example.com"]
    assert skipped[0].reason == "same person as mailto:anand.iyer@example.com, rung once"


def test_organizer_only_in_organizer_property():
    organizer = Address("mailto:priya.rao@example.com", name="Priya")
    event = make_event(Address("tel:+91 98765 43227"), organizer=organizer)
    directory = load_directory([])
    assert [c.key for c in resolve_callees(event, directory)[0]] == ["tel:+919876543227"]
    callees, skipped, problems = resolve_callees(event, directory, call_organizer=True)
    assert [c.key for c in callees] == ["tel:+919876543227"]
    assert skipped[0].reason == "no phone number"
    assert problems[0].address == "mailto:priya.rao@example.com"


def test_event_without_attendees():
    assert resolve_callees(make_event(), load_directory([])) == ([], [], [])


def test_declined_organizer_not_rung_even_when_asked():
    organizer = Address("mailto:priya.rao@example.com", name="Priya")
    event = make_event(
        Address("mailto:priya.rao@example.com", partstat="DECLINED"),
        Address("tel:+91 98765 43229"),
        organizer=organizer,
    )
    directory = load_directory([str(DATA / "directory.csv")])
    callees, skipped, _ = resolve_callees(event, directory, call_organizer=True)
    assert [c.key for c in callees] == ["tel:+919876543229"]
    assert [(s.address, s.reason) for s in skipped] == [("mailto:priya.rao@example.com", "declined")]


def test_delegated_attendee_skipped_delegate_rung():
    event = make_event(
        Address("tel:+91 98765 43232", name="Boss", partstat="DELEGATED"),
        Address("tel:+91 98765 43233", name="Deputy", partstat="ACCEPTED"),
    )
    callees, skipped, _ = resolve_callees(event, load_directory([]))
    assert [c.name for c in callees] == ["Deputy"]
    assert [s.reason for s in skipped] == ["delegated to another attendee"]
