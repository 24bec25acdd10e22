"""Reading inputs: encodings, file structure, folders, stdin and feeds over HTTP."""

from __future__ import annotations

import http.server
import io
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from ics2conf import sources
from ics2conf.calendar import load_events

DATA = Path(__file__).parent / "data"
WINDOW = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


# (file, {uid: (summary, [call instants in UTC])}, warning substring or None)
STRUCTURE_CASES = [
    ("utf8_bom.ics", {"utf8-bom@example.com": ("Réunion d’équipe", ["2027-01-08T05:00Z"])}, None),
    ("utf16le_bom.ics", {"utf16le-bom@example.com": ("Réunion d’équipe", ["2027-01-08T05:00Z"])}, None),
    ("utf16be_bom.ics", {"utf16be-bom@example.com": ("Réunion d’équipe", ["2027-01-08T05:00Z"])}, None),
    ("utf32le_bom.ics", {"utf32le-bom@example.com": ("Réunion d’équipe", ["2027-01-08T05:00Z"])}, None),
    ("lf_only.ics", {"lf-only@example.com": ("Line feeds only", ["2027-01-08T05:00Z"])}, None),
    ("cp1252.ics", {"cp1252@example.com": ("Café – Müller’s review", ["2027-01-08T05:00Z"])}, "Windows-1252"),
    (
        "folded_multibyte.ics",
        {"folded-multibyte@example.com": ("Quarterly € review for हिंदी team", ["2027-01-08T05:00Z"])},
        None,
    ),
    (
        "multiple_vcalendars.ics",
        {
            "first-calendar@example.com": ("First calendar", ["2027-01-08T05:00Z"]),
            "second-calendar@example.com": ("Second calendar", ["2027-01-09T05:00Z"]),
        },
        None,
    ),
    (
        "missing_end_between_events.ics",
        {"complete@example.com": ("Complete event", ["2027-01-10T04:30Z"])},
        "END:VCALENDAR",
    ),
    ("empty.ics", {}, "empty"),
]


@pytest.mark.parametrize(("file", "expected", "warning"), STRUCTURE_CASES, ids=[c[0] for c in STRUCTURE_CASES])
def test_encoding_and_structure(file, expected, warning):
    result = load_events([str(DATA / file)])
    got = {e.uid: (e.summary, e.occurrences(*WINDOW)) for e in result.events}
    assert got == {uid: (summary, [utc(t) for t in times]) for uid, (summary, times) in expected.items()}
    messages = [p.message for p in result.problems]
    if warning is None:
        assert messages == []
    else:
        assert len(messages) == 1
        assert warning in messages[0]
        assert result.problems[0].level == "warning"
        assert str(DATA / file) in messages[0]


def test_cp1252_attendee_name_decoded():
    event = load_events([str(DATA / "cp1252.ics")]).events[0]
    assert event.attendees[0].name == "José Müller"


def test_cr_only_line_endings():
    text, problems = sources.decode_calendar_bytes(b"BEGIN:VCALENDAR\rVERSION:2.0\rEND:VCALENDAR\r", "x")
    assert text == "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    assert problems == []


def test_not_a_calendar_is_error(tmp_path):
    path = tmp_path / "notes.ics"
    path.write_text("just some notes\n")
    result = load_events([str(path)])
    assert result.events == []
    assert result.problems[0].level == "error"
    assert str(path) in result.problems[0].message


def test_truncated_inside_first_event_keeps_nothing():
    blocks, problems = sources.split_calendars(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n", "cut.ics"
    )
    assert blocks == ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"]
    assert "cut.ics" in problems[0].message


def test_folder_is_read_recursively(tmp_path):
    (tmp_path / "team" / "2027").mkdir(parents=True)
    (tmp_path / "team" / "2027" / "a.ICS").write_bytes((DATA / "lf_only.ics").read_bytes())
    (tmp_path / "b.ics").write_bytes((DATA / "utf8_bom.ics").read_bytes())
    (tmp_path / "readme.txt").write_text("not a calendar")
    result = load_events([str(tmp_path)])
    assert sorted(e.uid for e in result.events) == ["lf-only@example.com", "utf8-bom@example.com"]
    assert len(result.sources) == 2
    assert result.problems == []


def test_empty_folder_is_warning(tmp_path):
    result = load_events([str(tmp_path)])
    assert result.problems[0].level == "warning"
    assert str(tmp_path) in result.problems[0].message


def test_missing_path_is_error_and_others_still_read(tmp_path):
    missing = str(tmp_path / "missing.ics")
    result = load_events([missing, str(DATA / "lf_only.ics")])
    assert [e.uid for e in result.events] == ["lf-only@example.com"]
    assert result.problems[0].level == "error"
    assert missing in result.problems[0].message


def test_stdin_dash():
    stdin = io.BytesIO((DATA / "utf8_bom.ics").read_bytes())
    result = load_events(["-"], stdin=stdin)
    assert [e.uid for e in result.events] == ["utf8-bom@example.com"]
    assert result.sources == ["<stdin>"]


def test_stdin_dash_without_stream_is_error():
    result = load_events(["-"])
    assert result.problems[0].level == "error"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("webcal://calendar.example.com/team.ics", "https://calendar.example.com/team.ics"),
        ("WEBCAL://calendar.example.com/team.ics", "https://calendar.example.com/team.ics"),
        ("webcals://calendar.example.com/team.ics", "https://calendar.example.com/team.ics"),
        ("https://calendar.example.com/team.ics", "https://calendar.example.com/team.ics"),
        ("http://127.0.0.1:8080/team.ics", "http://127.0.0.1:8080/team.ics"),
    ],
)
def test_feed_request_url(url, expected):
    assert sources.feed_request_url(url) == expected


# --- feeds over a local HTTP server ---------------------------------------


class _FeedHandler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.requests.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/flaky.ics" and len(self.server.requests) == 1:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body = self.routes.get(self.path, (404, b"not found"))
        if self.path == "/slow.ics":
            self.server.release.wait(5)
        self.send_response(status)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@dataclass
class FeedServer:
    url: str
    requests: list[tuple[str, str]]  # (path, User-Agent) of every request received


@pytest.fixture
def feed_server():
    _FeedHandler.routes = {
        "/team.ics": (200, (DATA / "outlook_windows_zone.ics").read_bytes()),
        "/big.ics": (200, b"X" * 5000),
        "/gone.ics": (410, b"gone"),
        "/slow.ics": (200, b""),
        "/flaky.ics": (200, (DATA / "lf_only.ics").read_bytes()),
        "/always-busy.ics": (503, b"busy"),
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    server.release = threading.Event()
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield FeedServer(f"http://127.0.0.1:{server.server_address[1]}", server.requests)
    server.release.set()
    server.shutdown()
    server.server_close()


def test_feed_is_fetched(feed_server):
    with requests.Session() as session:
        result = load_events([feed_server.url + "/team.ics"], session=session)
    assert len(result.events) == 1
    assert result.events[0].occurrences(*WINDOW)[0] == utc("2027-01-04T04:30Z")
    assert result.sources == [feed_server.url + "/team.ics"]


def test_feed_http_error_names_url(feed_server):
    result = load_events([feed_server.url + "/gone.ics", str(DATA / "lf_only.ics")])
    assert [e.uid for e in result.events] == ["lf-only@example.com"]
    assert "HTTP 410" in result.problems[0].message
    assert feed_server.url + "/gone.ics" in result.problems[0].message


def test_feed_size_limit(feed_server):
    with pytest.raises(sources.FeedError, match="limit"):
        sources.fetch_feed(feed_server.url + "/big.ics", max_bytes=1000)


def test_feed_timeout(feed_server):
    with pytest.raises(sources.FeedError, match="timed out"):
        sources.fetch_feed(feed_server.url + "/slow.ics", timeout=(2.0, 0.2))


def test_feed_connection_refused():
    # A port that was just free: bound, then closed, so nothing listens on it.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(sources.FeedError, match="failed"):
        sources.fetch_feed(
            f"http://127.0.0.1:{port}/none.ics", timeout=(1.0, 1.0), session=sources.feed_session(backoff_factor=0)
        )


def test_stdin_text_stream():
    stdin = io.StringIO((DATA / "utf8_bom.ics").read_text(encoding="utf-8-sig"))
    result = load_events(["-"], stdin=stdin)
    assert [e.summary for e in result.events] == ["Réunion d’équipe"]


def test_unclosed_event_before_end_vcalendar():
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nEND:VCALENDAR\r\n"
    )
    blocks, problems = sources.split_calendars(text, "open.ics")
    assert blocks == ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"]
    assert len(problems) == 1
    assert "BEGIN:VEVENT has no matching END:VEVENT" in problems[0].message


def test_feed_retried_after_503(feed_server):
    data = sources.fetch_feed(feed_server.url + "/flaky.ics")
    assert b"lf-only@example.com" in data
    assert [path for path, _ in feed_server.requests] == ["/flaky.ics", "/flaky.ics"]
    assert feed_server.requests[0][1].startswith("ics2conf/")


def test_feed_gives_up_with_status(feed_server):
    with pytest.raises(sources.FeedError, match="HTTP 503"):
        sources.fetch_feed(feed_server.url + "/always-busy.ics", session=sources.feed_session(backoff_factor=0))
    assert len(feed_server.requests) == 1 + sources.FEED_RETRIES


def test_unreadable_stdin_is_error():
    class BrokenStream(io.RawIOBase):
        def read(self, *args):
            raise OSError(5, "Input/output error")

    result = load_events(["-", str(DATA / "lf_only.ics")], stdin=BrokenStream())
    assert [e.uid for e in result.events] == ["lf-only@example.com"]
    assert result.problems[0].level == "error"
    assert "<stdin>" in result.problems[0].message
    assert "Input/output error" in result.problems[0].message


def test_file_given_twice_is_read_once(tmp_path):
    (tmp_path / "a.ics").write_bytes((DATA / "lf_only.ics").read_bytes())
    result = load_events([str(tmp_path / "a.ics"), str(tmp_path), str(tmp_path / "." / "a.ics")])
    assert result.sources == [str(tmp_path / "a.ics")]
    assert len(result.events) == 1


# (lines between VERSION and END:VCALENDAR, UIDs kept, warning)
REPAIRS = [
    ("BEGIN:VTODO\r\nUID:t\r\nEND:VTOOD\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT", "read END:VTOOD as END:VTODO"),
    ("BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\nEND:VALARM", "ignored END:VALARM, which has no matching BEGIN"),
]


@pytest.mark.parametrize(("lines", "warning"), REPAIRS)
def test_split_repairs_end_lines(lines, warning):
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{lines}\r\nEND:VCALENDAR\r\n"
    blocks, problems = sources.split_calendars(text, "typo.ics")
    assert len(blocks) == 1
    assert "BEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n" in blocks[0]
    assert [p.message for p in problems] == [f"typo.ics: {warning}"]


def test_repeated_repairs_reported_once():
    text = "BEGIN:VCALENDAR\r\n" + "BEGIN:VTODO\r\nEND:VTOOD\r\n" * 3 + "END:VCALENDARD\r\n"
    _, problems = sources.split_calendars(text, "typo.ics")
    assert [p.message for p in problems] == [
        "typo.ics: read END:VTOOD as END:VTODO (3 times)",
        "typo.ics: read END:VCALENDARD as END:VCALENDAR",
    ]


def test_stray_line_outside_events_is_dropped(tmp_path):
    path = tmp_path / "stray.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:stray@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T100000Z\r\nEND:VEVENT\r\nX\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    assert [e.uid for e in result.events] == ["stray@example.com"]
    assert [p.message for p in result.problems] == [f"{path}: ignored line 'X' that cannot be parsed"]


def test_unparsable_alarm_is_dropped_not_the_file(tmp_path):
    path = tmp_path / "alarm.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:alarm@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20270105T100000Z\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:garbage\r\nEND:VALARM\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:other@example.com\r\nDTSTAMP:20261201T090000Z\r\nDTSTART:20270106T100000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    assert sorted(e.uid for e in result.events) == ["alarm@example.com", "other@example.com"]
    assert [p.message for p in result.problems] == [
        f"{path}: ignored 1 VALARM reminder(s) that cannot be parsed (Expected time, got: garbage);"
        " reminders do not change calls"
    ]


def test_tzid_property_of_an_event_defines_no_zone(tmp_path):
    path = tmp_path / "stray-tzid.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:old@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART:20261105T100000Z\r\nTZID:asia/kolkata\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:live@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=asia/kolkata:20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    live = [e for e in result.events if e.uid == "live@example.com"]
    assert [p.level for p in result.problems] == ["warning"]
    assert live[0].occurrences(*WINDOW) == [utc("2027-01-05T04:30Z")]


def test_broken_iana_vtimezone_is_dropped(tmp_path):
    path = tmp_path / "prague.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Prague\r\nBEGIN:STANDARD\r\n"
        "DTSTART:18500101T000000\r\nTZOFFSETFROM:+5744\r\nTZOFFSETTO:+5744\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:prague@example.com\r\nDTSTAMP:20261201T090000Z\r\n"
        "DTSTART;TZID=Europe/Prague:20270105T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = load_events([str(path)])
    assert result.events[0].occurrences(*WINDOW) == [utc("2027-01-05T09:00Z")]
    assert "Europe/Prague" in result.problems[0].message
    assert result.problems[0].level == "warning"


@pytest.mark.parametrize(
    ("file", "uid"), [("missing_end.ics", "cut-off@example.com"), ("missing_end_before_uid.ics", None)]
)
def test_event_cut_by_end_of_file_is_error(file, uid):
    path = DATA / file
    result = load_events([str(path)])
    assert [e.uid for e in result.events] == ["complete@example.com"]
    [problem] = result.problems
    assert problem.level == "error"
    assert problem.uid == uid
    assert problem.source == str(path)
    assert str(path) in problem.message
    assert "END:VCALENDAR" in problem.message
    if uid is not None:
        assert uid in problem.message


def test_google_sample_cut_inside_second_event(tmp_path):
    sample = Path(__file__).parents[1] / "samples" / "google-calendar.ics"
    cut = tmp_path / "cut.ics"
    cut.write_bytes(b"".join(sample.read_bytes().splitlines(keepends=True)[:60]))
    result = load_events([str(cut)])
    errors = [p for p in result.problems if p.level == "error"]
    assert [p.uid for p in errors] == ["1v9tq8mb2kq0f4r7i3u6c5a8ho@google.com"]
    assert "1v9tq8mb2kq0f4r7i3u6c5a8ho@google.com" not in [e.uid for e in result.events]


def test_unclosed_event_before_end_vcalendar_is_error():
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nEND:VCALENDAR\r\n"
    )
    _, problems = sources.split_calendars(text, "open.ics")
    assert problems[0].level == "error"
    assert problems[0].uid == "b"


def test_utf16_with_invalid_bytes_is_warning():
    data = b"\xff\xfe" + "BEGIN:VCALENDAR\r\n".encode("utf-16-le") + b"\x00\xd8"  # a lone surrogate
    text, problems = sources.decode_calendar_bytes(data, "wide.ics")
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    [problem] = problems
    assert "UTF-16-LE" in problem.message
    assert "wide.ics" in problem.message
