"""What the CLI tells the user: the no-changes sentence, lock waits, guard and directory notices."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ics2conf.lock import namespace_lock
from tests.cli_support import isolated_env, run_cli, server_env, vevent, write_calendar

NOW = "2027-01-04T08:00+05:30"
MATCHED = "No changes. The account matches the calendars."


@pytest.mark.parametrize(
    ("args", "stdin", "expected", "code"),
    [
        (["plan", "/nonexistent/calendar.ics"], None, "No changes planned, but the input had errors (see above).", 1),
        (["plan", "-"], "", "Nothing to schedule: no calls in the window.", 0),
    ],
)
def test_no_changes_sentence_without_account(tmp_path, args, stdin, expected, code):
    result = run_cli([*args, "--now", NOW], isolated_env(tmp_path), stdin=stdin)
    assert result.exit_code == code
    assert expected in result.stdout
    assert MATCHED not in result.stdout


def test_no_changes_sentence_after_matching_account(tmp_path, easycron_server):
    env = server_env(tmp_path, easycron_server)
    calendar = write_calendar(tmp_path / "cal" / "review.ics", vevent("review@example.com", "Review", "20270106T150000"))
    assert run_cli(["sync", str(calendar), "--now", NOW], env).exit_code == 0
    result = run_cli(["plan", str(calendar), "--now", NOW], env)
    assert MATCHED in result.stdout


def test_no_changes_sentence_with_account_and_input_error(tmp_path, easycron_server):
    env = server_env(tmp_path, easycron_server)
    result = run_cli(["plan", str(tmp_path / "missing.ics"), "--now", NOW], env)
    assert result.exit_code == 1
    assert "No changes planned, but the input had errors (see above)." in result.stdout
    assert MATCHED not in result.stdout


@pytest.mark.parametrize("quiet", [False, True])
def test_sync_waiting_for_lock_says_so_once(tmp_path, easycron_server, monkeypatch, quiet):
    env = server_env(tmp_path, easycron_server)
    monkeypatch.setenv("ICS2CONF_STATE_DIR", env["ICS2CONF_STATE_DIR"])
    calendar = write_calendar(tmp_path / "cal" / "review.ics", vevent("review@example.com", "Review", "20270106T150000"))
    extra = ["--quiet"] if quiet else []
    with namespace_lock("default", 1):
        result = run_cli(["sync", str(calendar), "--now", NOW, "--lock-timeout", "0.3", *extra], env)
    assert result.exit_code == 1
    notice = (
        f"Waiting for the lock of namespace default, held by process {os.getpid()} (another ics2conf sync);"
        " up to 0.3 s, see --lock-timeout."
    )
    assert result.stderr.count(notice) == (0 if quiet else 1)
    assert "Another ics2conf sync of namespace 'default' is running" in result.stderr


def test_mass_delete_guard_message_shown_once(tmp_path, easycron_server):
    env = server_env(tmp_path, easycron_server)
    log_file = tmp_path / "sync.log"
    attendees = tuple((f"Person {n}", f"tel:+9198765432{n:02d}") for n in range(8))
    calendar = write_calendar(
        tmp_path / "cal" / "all-hands.ics", vevent("allhands@example.com", "All hands", "20270105T110000", attendees=attendees)
    )
    assert run_cli(["sync", str(calendar), "--now", NOW], env).exit_code == 0
    write_calendar(calendar)
    result = run_cli(["sync", str(calendar), "--now", NOW, "--log-file", str(log_file)], env, log_file=log_file)
    assert result.exit_code == 1
    assert result.stderr.count("--allow-mass-delete") == 1
    assert "--allow-mass-delete" in log_file.read_text(encoding="utf-8")


def test_directory_conflict_is_a_warning_on_stderr(tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email,phone\nbob@example.com,+91 98765 43230\nBOB@example.com,+91 98765 43231\n")
    calendar = write_calendar(
        tmp_path / "cal" / "sync.ics",
        vevent("sync@example.com", "Sync", "20270106T150000", attendees=(("Bob", "mailto:bob@example.com"),)),
    )
    result = run_cli(["plan", str(calendar), "--directory", str(people), "--now", NOW], isolated_env(tmp_path))
    assert result.exit_code == 0
    assert "Warning: directory lists bob@example.com with different numbers" in result.stderr
    assert "09876543230" in result.stdout


@pytest.mark.parametrize("command", ["plan", "inspect"])
@pytest.mark.parametrize("cn", [None, "meera.nair@example.com"])
def test_directory_name_shown_when_invite_has_no_name(tmp_path, command, cn):
    people = tmp_path / "people.csv"
    people.write_text("email,phone,name\nmeera.nair@example.com,09876543212,Meera Nair\n")
    attendee = (f"ATTENDEE;CN={cn}:mailto:meera.nair@example.com" if cn else "ATTENDEE:mailto:meera.nair@example.com")
    calendar = write_calendar(
        tmp_path / "cal" / "review.ics",
        vevent("review@example.com", "Review", "20270106T150000", attendees=(), extra=attendee),
    )
    result = run_cli([command, str(calendar), "--directory", str(people), "--now", NOW], isolated_env(tmp_path))
    assert result.exit_code == 0
    assert "Meera Nair <meera.nair@example.com>" in result.stdout


def test_invite_name_wins_over_directory_name(tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email,phone,name\nmeera.nair@example.com,09876543212,Meera Nair\n")
    calendar = write_calendar(
        tmp_path / "cal" / "review.ics",
        vevent("review@example.com", "Review", "20270106T150000", attendees=(("Dr. Meera", "mailto:meera.nair@example.com"),)),
    )
    result = run_cli(["inspect", str(calendar), "--directory", str(people), "--now", NOW], isolated_env(tmp_path))
    assert "Dr. Meera <meera.nair@example.com>" in result.stdout
