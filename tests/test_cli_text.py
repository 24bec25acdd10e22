"""Text output neutralises calendar text: control characters, line breaks, very long values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ics2conf.model import make_job_key
from ics2conf.render_text import printable
from tests.cli_support import calendar, isolated_env, run_cli, server_env, vevent

NOW = "2027-01-04T08:00+05:30"
EVIL_SUMMARY = "\x1b[2J\x1b[31mRED\x00"
EVIL_UID = "esc\x1b]0;pwned\x07@x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[2J\x1b[31mRED", "\\x1b[2J\\x1b[31mRED"),
        ("esc\x1b]0;pwned\x07@x", "esc\\x1b]0;pwned\\x07@x"),
        ("a\x00b", "a\\x00b"),
        ("line one\nline two\r\nthree\tfour", "line one line two three four"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("del\x7f", "del\\x7f"),
        ("sep\u2028x", "sep x"),
        ("Café ☕ [b]", "Café ☕ [b]"),
        (None, ""),
    ],
)
def test_printable(text, expected):
    assert printable(text) == expected


def test_printable_cuts_long_text():
    cut = printable("x" * 10_000)
    assert len(cut) == 200
    assert cut.endswith("…")
    assert printable("x" * 200) == "x" * 200


def test_printable_keeps_newlines_when_asked():
    assert printable("a\nb\x1b", None, newlines=True) == "a\nb\\x1b"


def _evil_calendar(tmp_path: Path) -> Path:
    long_summary = "L" * 5000
    text = calendar(
        vevent(EVIL_UID, EVIL_SUMMARY, "20270105T100000"),
        vevent("long@example.com", long_summary, "20270105T110000"),
        vevent("lines@example.com", "first\\nsecond", "20270105T120000"),
    )
    path = tmp_path / "evil.ics"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


def _assert_clean(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\x00" not in text
    assert "L" * 300 not in text


@pytest.mark.parametrize("command", ["plan", "inspect"])
def test_text_output_escapes_calendar_text(tmp_path, command):
    path = _evil_calendar(tmp_path)
    result = run_cli([command, str(path), "--now", NOW], isolated_env(tmp_path))
    _assert_clean(result.stdout)
    _assert_clean(result.stderr)
    assert 'Meeting "\\x1b[2J\\x1b[31mRED\\x00"' in result.stdout
    assert "UID esc\\x1b]0;pwned\\x07@x" in result.stdout
    assert 'Meeting "first second"' in result.stdout
    assert "L" * 199 + "…" in result.stdout


def test_json_output_keeps_calendar_text_exact(tmp_path):
    path = _evil_calendar(tmp_path)
    result = run_cli(["inspect", str(path), "--now", NOW, "--format", "json"], isolated_env(tmp_path))
    document = json.loads(result.stdout)
    summaries = {meeting["summary"] for meeting in document["meetings"]}
    assert EVIL_SUMMARY in summaries
    assert "L" * 5000 in summaries
    assert "first\nsecond" in summaries


def test_list_escapes_job_text(tmp_path, easycron_server):
    env = server_env(tmp_path, easycron_server)
    easycron_server.add_job(
        cron_job_name=make_job_key("default", "evil@example.com", "tel:+919876543210", "p0").name,
        description="evil \x1b]0;pwned\x07 job\nsecond line",
    )
    result = run_cli(["list"], env)
    _assert_clean(result.stdout)
    assert "evil \\x1b]0;pwned\\x07 job second line" in result.stdout


def test_console_log_lines_escape_control_characters(tmp_path):
    import logging

    from ics2conf.output import Output

    output = Output(())
    output.setup_logging(None)
    try:
        record = logging.LogRecord("ics2conf.sync", logging.WARNING, __file__, 1, "job %s failed", ("a\x1b]0;x\x07",), None)
        text = output._handlers[0].format(record)
    finally:
        output.close()
    assert text == "WARNING: job a\\x1b]0;x\\x07 failed"
