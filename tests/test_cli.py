"""The command line without an EasyCron account: plan, inspect, config, errors, JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ics2conf import __version__
from tests.cli_support import (
    EASYCRON_KEY,
    KOOKOO_KEY,
    REPO,
    SAMPLES,
    isolated_env,
    run_cli,
    vevent,
    write_calendar,
)

NOW = "2027-01-04T08:00+05:30"  # a Monday
SCHEMA = json.loads((REPO / "docs" / "json-output.schema.json").read_text(encoding="utf-8"))


def validate(document: dict) -> None:
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return isolated_env(tmp_path)


@pytest.fixture
def standup(tmp_path: Path) -> Path:
    return write_calendar(
        tmp_path / "cal" / "standup.ics",
        vevent(
            "standup-1@example.com",
            "Stand-up",
            "20270104T100000",
            rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            attendees=(("Asha Rao", "tel:+919876543210"), ("Vikram Iyer", "tel:+919876543211")),
        ),
    )


def sample_args(*extra: str) -> list[str]:
    return ["plan", str(SAMPLES), "--directory", str(SAMPLES / "directory.csv"), "--now", NOW, *extra]


def test_version(env):
    result = run_cli(["--version"], env)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ics2conf {__version__}"


def test_no_arguments_shows_help(env):
    result = run_cli([], env)
    assert "plan" in result.stdout + result.stderr
    assert "sync" in result.stdout + result.stderr


def test_plan_without_key_plans_against_empty_account(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW], env)
    assert result.exit_code == 0
    assert "EASYCRON_API_KEY is not set" in result.stderr
    assert "EASYCRON_API_KEY" not in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == "Plan: 2 to create, 0 to update, 0 to delete."


def test_plan_text_groups_by_meeting(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW], env)
    out = result.stdout
    assert 'Meeting "Stand-up"' in out
    assert "UID standup-1@example.com  zone Asia/Kolkata" in out
    assert "+ create Asha Rao <tel:+919876543210>  09876543210" in out
    assert "0 10 * * 1-5  (At 10:00, Monday through Friday, Asia/Kolkata)" in out
    assert "next run  Mon 2027-01-04 10:00 IST" in out
    assert "exact with no further sync" in out


def test_plan_text_has_no_colour_codes_off_terminal(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW], {**env, "NO_COLOR": None})
    assert "\x1b[" not in result.stdout


def test_plan_detailed_exitcode_two_with_changes(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW, "--detailed-exitcode"], env)
    assert result.exit_code == 2


def test_plan_detailed_exitcode_zero_without_changes(env, tmp_path):
    empty = write_calendar(tmp_path / "empty.ics")
    result = run_cli(["plan", str(empty), "--now", NOW, "--detailed-exitcode"], env)
    assert result.exit_code == 0
    assert "Nothing to schedule: no calls in the window." in result.stdout


def test_plan_detailed_exitcode_one_on_error(env, tmp_path):
    missing = tmp_path / "missing.ics"
    result = run_cli(["plan", str(missing), "--now", NOW, "--detailed-exitcode"], env)
    assert result.exit_code == 1
    assert str(missing) in result.stderr


def test_bad_file_named_while_others_processed(env, standup):
    bad = standup.parent / "broken.ics"
    bad.write_bytes(b"this is not an iCalendar file\r\n")
    result = run_cli(["plan", str(standup.parent), "--now", NOW], env)
    assert result.exit_code == 1
    assert "broken.ics" in result.stderr
    assert 'Meeting "Stand-up"' in result.stdout
    assert "Plan: 2 to create" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_plan_json_matches_schema(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW, "--format", "json"], env)
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    validate(document)
    assert document["format_version"] == 1
    assert document["summary"] == {"create": 2, "update": 0, "delete": 0, "unchanged": 0}
    change = document["changes"][0]
    assert change["action"] == "create"
    assert change["cron_expression"] == "0 10 * * 1-5"
    assert change["timezone"] == "Asia/Kolkata"
    assert change["phone"] == "09876543210"
    assert change["event_uid"] == "standup-1@example.com"
    assert change["next_run"] == "2027-01-04T10:00:00+05:30"
    assert document["meetings"][0]["exact_until"] is None
    assert document["meetings"][0]["exact_forever"] is True


def test_plan_json_of_samples_matches_schema(env):
    result = run_cli([*sample_args("--format", "json")], env)
    document = json.loads(result.stdout)
    validate(document)
    assert document["summary"]["create"] > 0
    assert document["warnings"], "the samples include a guest without a phone number"


def test_plan_json_reports_input_errors(env, tmp_path):
    missing = tmp_path / "missing.ics"
    result = run_cli(["plan", str(missing), "--now", NOW, "--format", "json"], env)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    validate(document)
    assert document["errors"][0]["source"] == str(missing)


def test_plan_dated_meeting_shows_exact_until(env, tmp_path):
    path = write_calendar(
        tmp_path / "review.ics",
        vevent("review-1@example.com", "Review", "20270106T150000", rrule="FREQ=WEEKLY;INTERVAL=2"),
    )
    result = run_cli(["plan", str(path), "--now", NOW], env)
    assert "exact until 2027-02-03 08:00 IST: run sync again before then" in result.stdout


def test_plan_shows_meeting_zone_and_ist(env, tmp_path):
    path = write_calendar(
        tmp_path / "berlin.ics",
        vevent("berlin-1@example.com", "Berlin sync", "20270105T100000", zone="Europe/Berlin"),
    )
    result = run_cli(["plan", str(path), "--now", NOW], env)
    assert "next run  Tue 2027-01-05 10:00 CET (14:30 IST)" in result.stdout


def test_inspect_text_lists_occurrences_and_skipped(env, tmp_path):
    path = write_calendar(
        tmp_path / "team.ics",
        vevent(
            "team-1@example.com",
            "Team call",
            "20270105T110000",
            zone="Europe/Berlin",
            attendees=(("Asha Rao", "tel:+919876543210"), ("Ravi", "mailto:ravi@example.com")),
            extra="ATTENDEE;CN=Board room;CUTYPE=ROOM:mailto:room@example.com",
        ),
    )
    result = run_cli(["inspect", str(path), "--now", NOW], env)
    out = result.stdout
    assert 'Meeting "Team call"' in out
    assert "Tue 2027-01-05 11:00 CET (15:30 IST)" in out
    assert "Asha Rao <tel:+919876543210> -> 09876543210" in out
    assert "attendees skipped (2):" in out
    assert "Board room <room@example.com>" in out


def test_inspect_json_matches_schema(env):
    result = run_cli(
        ["inspect", str(SAMPLES), "--directory", str(SAMPLES / "directory.csv"), "--now", NOW, "--format", "json"],
        env,
    )
    document = json.loads(result.stdout)
    validate(document)
    assert document["command"] == "inspect"
    assert len(document["meetings"]) >= 3
    for meeting in document["meetings"]:
        for occurrence in meeting["occurrences"]:
            assert occurrence["start_ist"].endswith("+05:30")


def test_inspect_needs_no_key(env, standup):
    result = run_cli(["inspect", str(standup), "--now", NOW], env)
    assert result.exit_code == 0
    assert "EASYCRON_API_KEY" not in result.stderr


def test_sync_without_easycron_key_names_variable(env, standup):
    result = run_cli(["sync", str(standup), "--now", NOW], env)
    assert result.exit_code == 1
    assert "EASYCRON_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_without_key_names_variable(env):
    result = run_cli(["list"], env)
    assert result.exit_code == 1
    assert "EASYCRON_API_KEY" in result.stderr


def test_purge_requires_namespace(env):
    result = run_cli(["purge", "--yes"], env)
    assert result.exit_code != 0
    assert "--namespace" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--namespace", "Bad Name"], "invalid namespace 'Bad Name'"),
        (["--horizon-days", "0"], "invalid value 0 for horizon_days"),
        (["--now", "next tuesday"], "invalid time 'next tuesday'"),
        (["--default-timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (["--default-region", "XX"], "unknown region 'XX'"),
        (["--format", "yaml"], "invalid format 'yaml'"),
    ],
)
def test_invalid_option_is_one_line(env, standup, args, expected):
    result = run_cli(["plan", str(standup), *args], env)
    assert result.exit_code in (1, 2)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_config_masks_secrets(env):
    result = run_cli(["config"], {**env, "EASYCRON_API_KEY": EASYCRON_KEY, "KOOKOO_API_KEY": KOOKOO_KEY})
    assert result.exit_code == 0
    assert "easycron_api_key = ****  (env EASYCRON_API_KEY)" in result.stdout
    assert EASYCRON_KEY not in result.stdout
    assert KOOKOO_KEY not in result.stdout
    assert "namespace = default  (default)" in result.stdout


def test_config_json_shows_sources(env, tmp_path):
    config = tmp_path / "team.toml"
    config.write_text('namespace = "team"\nhorizon_days = 14\n', encoding="utf-8")
    result = run_cli(
        ["config", "--config", str(config), "--format", "json"],
        {**env, "ICS2CONF_HORIZON_DAYS": "21"},
    )
    document = json.loads(result.stdout)
    validate(document)
    assert document["settings"]["namespace"] == "team"
    assert document["sources"]["namespace"] == "file"
    assert document["settings"]["horizon_days"] == 21
    assert document["sources"]["horizon_days"] == "env"
    assert document["config_file"] == str(config)


def test_missing_config_file_is_error(env, tmp_path):
    result = run_cli(["config", "--config", str(tmp_path / "nope.toml")], env)
    assert result.exit_code == 1
    assert "nope.toml not found" in result.stderr


def test_stdin_input(env):
    ics = (REPO / "samples" / "google-calendar.ics").read_bytes()
    result = run_cli(["plan", "-", "--directory", str(SAMPLES / "directory.csv"), "--now", NOW], env, stdin=ics)
    assert result.exit_code == 0
    assert 'Meeting "Platform stand-up"' in result.stdout


def test_python_module_entry_point():
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-m", "ics2conf", "--version"], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"ics2conf {__version__}"


# --- calling rules and dialling options -------------------------------------------------------


@pytest.fixture
def late_call(tmp_path: Path) -> Path:
    return write_calendar(
        tmp_path / "late.ics",
        vevent(
            "late@example.com",
            "Late call",
            "20270105T220000",
            attendees=(("Asha Rao", "tel:+919876543210"), ("Vikram Iyer", "tel:+919876543211")),
        ),
    )


def test_quiet_hours_call_dropped_with_warning(env, late_call):
    result = run_cli(["plan", str(late_call), "--now", NOW], env)
    assert result.exit_code == 0
    expected = (
        f'Warning: {late_call}: Event "Late call" (UID late@example.com): 1 call falls in the quiet'
        " hours 21:00-09:00 IST and will not be scheduled: 2027-01-05 22:00 IST. Move the meeting or"
        " pass --allow-quiet-hours."
    )
    assert expected in result.stderr.splitlines()
    assert "(no jobs: every call falls in the quiet hours)" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == "Plan: 0 to create, 0 to update, 0 to delete."


def test_allow_quiet_hours_schedules_call(env, late_call):
    result = run_cli(["plan", str(late_call), "--now", NOW, "--allow-quiet-hours"], env)
    assert "quiet hours" not in result.stderr
    assert "next run  Tue 2027-01-05 22:00 IST" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] == "Plan: 2 to create, 0 to update, 0 to delete."


def test_daily_call_limit_warns(env, late_call):
    result = run_cli(["plan", str(late_call), "--now", NOW, "--allow-quiet-hours", "--daily-call-limit", "1"], env)
    assert result.exit_code == 0
    expected = (
        "Warning: 2027-01-05 (IST): 2 calls planned, more than the daily limit of 1. KooKoo may reject"
        " the calls over the account's daily cap; raise --daily-call-limit if your account allows more."
    )
    assert expected in result.stderr.splitlines()


def test_lead_and_redial_options(env, late_call):
    args = ["plan", str(late_call), "--now", NOW, "--allow-quiet-hours",
            "--lead-minutes", "2", "--redial", "1", "--redial-after", "3"]
    out = run_cli(args, env).stdout
    assert "next run  Tue 2027-01-05 21:58 IST" in out
    assert "+ create Asha Rao <tel:+919876543210>  09876543210  (redial 1 of 1)" in out
    assert "next run  Tue 2027-01-05 22:01 IST" in out
    assert out.rstrip().splitlines()[-1] == "Plan: 4 to create, 0 to update, 0 to delete."


def test_international_number_needs_flag(env, tmp_path):
    path = write_calendar(
        tmp_path / "london.ics",
        vevent("london@example.com", "London sync", "20270105T110000", attendees=(("Tom", "tel:+442079460000"),)),
    )
    rejected = run_cli(["plan", str(path), "--now", NOW], env)
    assert rejected.exit_code == 1
    assert "+442079460000" in rejected.stderr
    allowed = run_cli(["plan", str(path), "--now", NOW, "--allow-international"], env)
    assert allowed.exit_code == 0
    assert "+ create Tom <tel:+442079460000>  00442079460000" in allowed.stdout


def test_call_organizer_flag(env, tmp_path):
    path = write_calendar(
        tmp_path / "org.ics",
        vevent(
            "org@example.com",
            "Organised",
            "20270105T110000",
            extra="ORGANIZER;CN=Meera Nair:tel:+919876543212",
        ),
    )
    without = run_cli(["plan", str(path), "--now", NOW], env).stdout
    assert "09876543212" not in without
    with_organizer = run_cli(["plan", str(path), "--now", NOW, "--call-organizer"], env).stdout
    assert "+ create Meera Nair <tel:+919876543212>  09876543212" in with_organizer


def test_greeting_accepted(env, standup):
    result = run_cli(["plan", str(standup), "--now", NOW, "--greeting", "Joining <stand-up> & demo"], env)
    assert result.exit_code == 0
    assert "Plan: 2 to create" in result.stdout


def test_internal_error_is_one_redacted_line(env, standup, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"boom near http://example.com/?api_key={KOOKOO_KEY}")

    monkeypatch.setattr("ics2conf.runs.build_desired", broken)
    result = run_cli(["plan", str(standup), "--now", NOW], {**env, "KOOKOO_API_KEY": KOOKOO_KEY})
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: internal error: RuntimeError: boom near")
    assert "This is a bug in ics2conf" in lines[-1]
    assert KOOKOO_KEY not in result.stderr
    assert "Traceback" not in result.stderr


def test_json_warns_when_schedule_needs_future_sync(env, tmp_path):
    path = write_calendar(
        tmp_path / "review.ics",
        vevent("review-1@example.com", "Review", "20270106T150000", rrule="FREQ=WEEKLY;INTERVAL=2"),
    )
    document = json.loads(run_cli(["plan", str(path), "--now", NOW, "--format", "json"], env).stdout)
    expected = (
        'Event "Review" (UID review-1@example.com): its jobs are exact only until 2027-02-03 08:00 IST;'
        " run sync again before then, for example from a scheduled run."
    )
    assert [w["message"] for w in document["warnings"]] == [expected]
    assert [w["message"] for w in document["meetings"][0]["warnings"]] == [expected]
    assert document["meetings"][0]["exact_forever"] is False


def test_json_no_future_sync_warning_for_evergreen(env, standup):
    document = json.loads(run_cli(["plan", str(standup), "--now", NOW, "--format", "json"], env).stdout)
    assert document["warnings"] == []


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "samples/", "--format", "json"],
        ["list", "--format", "json"],
        ["plan", "samples/", "--format", "json", "--now", "yesterday"],
    ],
)
def test_json_aborted_document_on_fatal_error(env, args):
    result = run_cli(args, env)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    validate(document)
    assert document["aborted"] is True
    assert document["command"] == args[0]
    assert document["errors"][0]["message"] in result.stderr
