"""Time zone handling: every kind of TZID resolves to the right instants and job zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ics2conf import timezones
from ics2conf.calendar import load_events

DATA = Path(__file__).parent / "data"
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def event_by_uid(files: list[str], uid: str, **kwargs):
    load = load_events([str(DATA / f) for f in files], **kwargs)
    matches = [e for e in load.events if e.uid == uid]
    assert len(matches) == 1, (uid, [p.message for p in load.problems])
    return matches[0]


# (file, uid, job zone, expected call instants in UTC)
CASES = [
    # Outlook "India Standard Time" without VTIMEZONE: 10:00 IST is 04:30Z.
    ("outlook_windows_zone.ics", "040000008200E00074C5B7101A82E00800000000-outlook-ist@example.com",
     "Asia/Kolkata", ["2027-01-04T04:30Z", "2027-01-11T04:30Z", "2027-01-18T04:30Z", "2027-01-25T04:30Z"]),
    # Outlook "W. Europe Standard Time" with its VTIMEZONE: 09:00 local across
    # the DST change of 2027-03-28.
    ("outlook_vtimezone.ics", "outlook-vtimezone-berlin@example.com",
     "Europe/Berlin", ["2027-03-22T08:00Z", "2027-03-29T07:00Z", "2027-04-05T07:00Z"]),
    # A custom VTIMEZONE under an invented name with Central European rules.
    ("custom_vtimezone.ics", "custom-head-office@example.com",
     "Europe/Berlin", ["2027-10-25T07:30Z", "2027-11-01T08:30Z"]),
    # A custom VTIMEZONE (+05:17) that no IANA zone matches: jobs use UTC.
    ("custom_vtimezone.ics", "custom-plant@example.com", "UTC", ["2027-01-05T05:00Z"]),
    ("prefixed_and_quoted_tzid.ics", "mozilla-prefixed@example.com", "Europe/Berlin", ["2027-07-06T12:00Z"]),
    ("prefixed_and_quoted_tzid.ics", "quoted-tzid@example.com", "Asia/Kolkata", ["2027-07-06T08:30Z"]),
    # Google: UTC times with X-WR-TIMEZONE keep 10:00 London time after the
    # switch to BST on 2027-03-28.
    ("google_x_wr_timezone.ics", "google-xwr-london@example.com",
     "Europe/London", ["2027-03-18T10:00Z", "2027-03-25T10:00Z", "2027-04-01T09:00Z"]),
    ("floating_and_utc.ics", "floating@example.com", "Asia/Kolkata", ["2027-01-05T04:00Z"]),
    ("floating_and_utc.ics", "utc@example.com", "UTC", ["2027-01-05T09:30Z"]),
    ("until_forms.ics", "until-utc@example.com",
     "Asia/Kolkata", ["2027-01-04T04:30Z", "2027-01-05T04:30Z", "2027-01-06T04:30Z"]),
    # A date UNTIL under a timed DTSTART includes that whole day.
    ("until_forms.ics", "until-date@example.com",
     "Asia/Kolkata", ["2027-01-04T04:30Z", "2027-01-05T04:30Z", "2027-01-06T04:30Z"]),
    # A local-time UNTIL (not RFC 5545, but written by some tools) is read in DTSTART's zone.
    ("until_forms.ics", "until-local@example.com",
     "Asia/Kolkata", ["2027-01-04T04:30Z", "2027-01-05T04:30Z", "2027-01-06T04:30Z"]),
]


@pytest.mark.parametrize(("file", "uid", "zone", "expected"), CASES, ids=[c[1].split("@")[0] for c in CASES])
def test_zone_kinds_call_instants(file, uid, zone, expected):
    event = event_by_uid([file], uid)
    assert event.zone == zone
    assert event.occurrences(*WINDOW) == [utc(t) for t in expected]


@pytest.mark.parametrize(("file", "uid", "zone", "expected"), CASES, ids=[c[1].split("@")[0] for c in CASES])
def test_occurrences_are_in_utc(file, uid, zone, expected):
    event = event_by_uid([file], uid)
    for instant in event.occurrences(*WINDOW):
        assert instant.tzinfo is UTC


def test_floating_time_uses_default_timezone():
    event = event_by_uid(["floating_and_utc.ics"], "floating@example.com", default_timezone="Europe/Berlin")
    assert event.zone == "Europe/Berlin"
    assert event.occurrences(*WINDOW) == [utc("2027-01-05T08:30Z")]


def test_utc_event_ignores_default_timezone():
    event = event_by_uid(["floating_and_utc.ics"], "utc@example.com", default_timezone="Europe/Berlin")
    assert event.occurrences(*WINDOW) == [utc("2027-01-05T09:30Z")]


def test_unknown_tzid_is_error_naming_it():
    load = load_events([str(DATA / "unknown_tzid.ics")])
    assert [e.uid for e in load.events] == ["known-zone@example.com"]
    errors = [p for p in load.problems if p.level == "error"]
    assert len(errors) == 1
    assert "Mars Standard Time" in errors[0].message
    assert errors[0].uid == "unknown-zone@example.com"
    assert errors[0].source.endswith("unknown_tzid.ics")


def test_unknown_tzid_in_exdate_is_error(tmp_path):
    path = tmp_path / "exdate_zone.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:exdate-zone@example.com\r\n"
        "DTSTAMP:20261201T090000Z\r\nDTSTART;TZID=Asia/Kolkata:20270105T100000\r\nRRULE:FREQ=DAILY;COUNT=3\r\n"
        "EXDATE;TZID=Atlantis/Capital:20270106T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    load = load_events([str(path)])
    assert load.events == []
    assert "Atlantis/Capital" in load.problems[0].message


def test_same_custom_tzid_differs_between_files(tmp_path):
    def write(name: str, offset: str) -> str:
        path = tmp_path / name
        path.write_text(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Office\r\n"
            f"BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\n"
            "END:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\n"
            f"UID:{name}@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
            "DTSTART;TZID=Office:20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        return str(path)

    load = load_events([write("india.ics", "+0530"), write("dubai.ics", "+0400")])
    by_uid = {e.uid: e for e in load.events}
    assert by_uid["india.ics@example.com"].occurrences(*WINDOW) == [utc("2027-01-05T04:30Z")]
    assert by_uid["dubai.ics@example.com"].occurrences(*WINDOW) == [utc("2027-01-05T06:00Z")]
    assert by_uid["india.ics@example.com"].zone == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Etc/UTC", "UTC"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Europe/Berlin", "Europe/Berlin"),
    ],
)
def test_canonical_zone(name, expected):
    assert timezones.canonical_zone(name) == expected


@pytest.mark.parametrize(
    ("tz", "tzid", "expected"),
    [
        (ZoneInfo("Asia/Calcutta"), None, "Asia/Kolkata"),
        (UTC, None, "UTC"),
        (timezone(timedelta(hours=5, minutes=30)), None, "Asia/Kolkata"),
        (timezone(timedelta(hours=5, minutes=17)), None, None),
    ],
)
def test_iana_name(tz, tzid, expected):
    assert timezones.iana_name(tz, tzid=tzid) == expected


def test_zone_name_hints():
    assert timezones.zone_name_hints("India Standard Time") == ["Asia/Calcutta"]
    assert "Europe/Berlin" in timezones.zone_name_hints("/mozilla.org/20070129_1/Europe/Berlin")
    assert timezones.zone_name_hints("Head Office Time") == []


def test_invalid_default_timezone_is_config_error():
    from ics2conf.errors import ConfigError

    with pytest.raises(ConfigError, match="Mars/Base"):
        load_events([], default_timezone="Mars/Base")


def test_x_wr_timezone_single_and_floating_events(tmp_path):
    path = tmp_path / "google.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-TIMEZONE:Asia/Kolkata\r\n"
        "BEGIN:VEVENT\r\nUID:single-utc@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T043000Z\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:single-floating@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    load = load_events([str(path)], default_timezone="Europe/Berlin")
    by_uid = {e.uid: e for e in load.events}
    assert by_uid["single-utc@example.com"].zone == "Asia/Kolkata"
    assert by_uid["single-utc@example.com"].occurrences(*WINDOW) == [utc("2027-01-05T04:30Z")]
    # Floating times follow the calendar's X-WR-TIMEZONE, not the default.
    assert by_uid["single-floating@example.com"].zone == "Asia/Kolkata"
    assert by_uid["single-floating@example.com"].occurrences(*WINDOW) == [utc("2027-01-05T04:30Z")]


def test_unknown_x_wr_timezone_is_warning(tmp_path):
    path = tmp_path / "google.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nX-WR-TIMEZONE:Moon/Base\r\n"
        "BEGIN:VEVENT\r\nUID:moon@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T043000Z\r\nRRULE:FREQ=DAILY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    load = load_events([str(path)])
    assert load.events[0].zone == "UTC"
    assert load.events[0].occurrences(*WINDOW) == [utc("2027-01-05T04:30Z"), utc("2027-01-06T04:30Z")]
    assert "Moon/Base" in load.problems[0].message


def test_defined_zone_follows_its_own_dst_rules(tmp_path):
    # Central European rules shifted by 7 minutes: no IANA zone matches, so
    # the jobs use UTC and the instants follow the definition across DST.
    path = tmp_path / "shifted.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Shifted\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0207\r\nTZOFFSETTO:+0107\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0107\r\nTZOFFSETTO:+0207\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:shifted@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=Shifted:20270322T090000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    event = load_events([str(path)]).events[0]
    assert event.zone == "UTC"
    assert event.occurrences(*WINDOW) == [utc("2027-03-22T07:53Z"), utc("2027-03-29T06:53Z")]


def shifted_cet_table():
    import icalendar

    from ics2conf.vtimezone import offset_table

    component = icalendar.Timezone.from_ical(
        "BEGIN:VTIMEZONE\r\nTZID:Shifted\r\n"
        "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0207\r\nTZOFFSETTO:+0107\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0107\r\nTZOFFSETTO:+0207\r\n"
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    )
    return offset_table(component)


# (local wall time on DST days of 2027, fold, expected UTC offset)
DEFINED_ZONE_CASES = [
    (datetime(2027, 3, 28, 1, 59), 0, timedelta(hours=1, minutes=7)),
    (datetime(2027, 3, 28, 2, 30), 0, timedelta(hours=1, minutes=7)),  # in the gap: offset before it
    (datetime(2027, 3, 28, 3, 0), 0, timedelta(hours=2, minutes=7)),
    (datetime(2027, 10, 31, 2, 30), 0, timedelta(hours=2, minutes=7)),  # ambiguous: first
    (datetime(2027, 10, 31, 2, 30), 1, timedelta(hours=1, minutes=7)),  # ambiguous: second
    (datetime(2027, 10, 31, 3, 30), 0, timedelta(hours=1, minutes=7)),
]


@pytest.mark.parametrize(("wall", "fold", "offset"), DEFINED_ZONE_CASES)
def test_defined_zone_utcoffset(wall, fold, offset):
    from ics2conf.vtimezone import DefinedZone

    zone = DefinedZone("Shifted", shifted_cet_table())
    assert wall.replace(tzinfo=zone, fold=fold).utcoffset() == offset


def test_defined_zone_round_trip_fall_back():
    from ics2conf.vtimezone import DefinedZone

    zone = DefinedZone("Shifted", shifted_cet_table())
    start = datetime(2027, 10, 30, 20, 0, tzinfo=UTC)
    for hour in range(12):
        instant = start + timedelta(hours=hour)
        local = instant.astimezone(zone)
        assert local.astimezone(UTC) == instant


def test_offset_table_of_outlook_definition():
    table = shifted_cet_table()
    transitions = table.transitions_between(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    # Local 02:00 at +01:07 and 03:00 at +02:07 are both 00:53 UTC.
    assert transitions == (datetime(2027, 3, 28, 0, 53, tzinfo=UTC), datetime(2027, 10, 31, 0, 53, tzinfo=UTC))


# (TZID as written without a VTIMEZONE, zone it is read as; None: an error)
ALIASES = [
    ("asia/kolkata", "Asia/Kolkata"),
    ("india standard time", "Asia/Kolkata"),
    ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
    ("(GMT+05.30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
    ("(UTC) Dublin, Edinburgh, Lisbon, London", "Europe/Dublin"),
    ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Amsterdam"),
    ("(UTC-05:00) Eastern Time (US & Canada)", None),
    ("(UTC+09:00) Kolkata", None),  # the offset contradicts the city
]


@pytest.mark.parametrize(("tzid", "zone"), ALIASES)
def test_loose_tzid_names(tmp_path, tzid, zone):
    path = tmp_path / "loose.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:loose@example.com\r\n"
        f'DTSTAMP:20261201T090000Z\r\nDTSTART;TZID="{tzid}":20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
    )
    load = load_events([str(path)])
    if zone is None:
        assert load.events == []
        assert tzid in load.problems[0].message
        assert load.problems[0].level == "error"
        return
    assert load.events[0].zone == zone
    assert load.events[0].occurrences(*WINDOW) == [
        datetime(2027, 1, 5, 10, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    ]
    assert load.problems[0].level == "warning"
    assert tzid in load.problems[0].message


def test_broken_vtimezone_spares_other_events(tmp_path):
    path = tmp_path / "broken_zone.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTIMEZONE\r\nTZID:Broken Zone\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:broken@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=Broken Zone:20270105T100000\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:fine@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    load = load_events([str(path)])
    assert [e.uid for e in load.events] == ["fine@example.com"]
    assert [p.level for p in load.problems] == ["warning", "error"]
    assert "VTIMEZONE 'Broken Zone' is invalid" in load.problems[0].message
    assert load.problems[1].uid == "broken@example.com"


# (UID in system_zone_files.ics, TZID written, IANA zone read or None for an error)
SYSTEM_ZONE_FILES = [
    ("localtime@example.com", "localtime", None),
    ("posixrules@example.com", "posixrules", None),
    ("factory@example.com", "Factory", None),
    ("right@example.com", "right/Asia/Kolkata", "Asia/Kolkata"),
    ("posix@example.com", "posix/Asia/Kolkata", "Asia/Kolkata"),
    ("etc-localtime@example.com", "/etc/localtime", None),
    ("dotdot@example.com", "/usr/share/zoneinfo/../../../etc/localtime", None),
    ("posix-unknown@example.com", "posix/Nowhere/City", None),
]


@pytest.mark.parametrize(("uid", "tzid", "zone"), SYSTEM_ZONE_FILES, ids=[c[1] for c in SYSTEM_ZONE_FILES])
def test_system_zone_file_tzid(uid, tzid, zone):
    result = load_events([str(DATA / "system_zone_files.ics")])
    events = {e.uid: e for e in result.events}
    errors = {p.uid: p.message for p in result.problems if p.level == "error"}
    if zone is None:
        assert uid not in events
        assert "unknown time zone" in errors[uid]
        assert repr(tzid) in errors[uid]
    else:
        assert uid not in errors
        assert events[uid].zone == zone
        assert events[uid].occurrences(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)) == [
            utc("2027-01-05T04:30Z")
        ]


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "posix/Asia/Kolkata", "right/UTC"])
def test_zone_info_rejects_system_files(name):
    with pytest.raises(timezones.UnknownTimezoneError):
        timezones.zone_info(name)


def test_iana_zone_names_excludes_system_files():
    names = timezones.iana_zone_names()
    assert "Asia/Kolkata" in names
    assert "UTC" in names
    assert not {"localtime", "posixrules", "Factory"} & names
    assert not [n for n in names if n.startswith(("posix/", "right/"))]
