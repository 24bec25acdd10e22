"""Neither API key ever reaches stdout, stderr, JSON, logs or --verbose traces.

The runs here cover the paths where a key is closest to the output: job URLs that carry the
KooKoo key, HTTP traces, API errors, a rejected key, and event text that contains a key. The
last test scans every CLI output recorded in the session so far; conftest repeats that scan
when the session ends, so runs from later test files are covered too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import (
    EASYCRON_KEY,
    KOOKOO_KEY,
    SAMPLES,
    SECRETS,
    run_cli,
    server_env,
    vevent,
    write_calendar,
)

NOW = "2027-01-04T08:00+05:30"


def assert_no_secret(result, log_file: Path | None = None) -> None:
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    if log_file is not None and log_file.exists():
        texts["log file"] = log_file.read_text(encoding="utf-8")
    for where, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, f"API key found in {where}"


@pytest.fixture
def env(tmp_path, easycron_server) -> dict:
    return server_env(tmp_path, easycron_server)


@pytest.fixture
def calendars(tmp_path) -> Path:
    folder = tmp_path / "calendars"
    write_calendar(
        folder / "team.ics",
        vevent(
            "team@example.com",
            f"Key review {KOOKOO_KEY} and {EASYCRON_KEY}",
            "20270105T110000",
            attendees=(("Asha Rao", "tel:+919876543210"), (KOOKOO_KEY, "mailto:nobody@example.com")),
        ),
    )
    return folder


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_sync_verbose_with_log_file(env, calendars, tmp_path, fmt):
    log_file = tmp_path / "sync.log"
    args = ["sync", str(calendars), "--now", NOW, "--verbose", "--format", fmt, "--log-file", str(log_file)]
    result = run_cli(args, env, log_file=log_file)
    assert result.exit_code == 0
    assert_no_secret(result, log_file)


@pytest.mark.parametrize("command", ["plan", "inspect"])
def test_plan_and_inspect(env, calendars, command):
    for fmt in ("text", "json"):
        result = run_cli([command, str(calendars), str(SAMPLES), "--now", NOW, "--format", fmt, "--greeting", KOOKOO_KEY], env)
        assert_no_secret(result)


def test_api_errors_and_retries(env, calendars, easycron_server, tmp_path):
    easycron_server.inject("status", "create", status=503)
    easycron_server.inject("status", "list", status=500)
    log_file = tmp_path / "faults.log"
    result = run_cli(["sync", str(calendars), "--now", NOW, "--verbose", "--log-file", str(log_file)], env, log_file=log_file)
    assert_no_secret(result, log_file)


def test_rejected_key(env, calendars):
    result = run_cli(["sync", str(calendars), "--now", NOW, "--verbose"], {**env, "EASYCRON_API_KEY": KOOKOO_KEY})
    assert result.exit_code == 1
    assert_no_secret(result)


def test_list_purge_and_config(env, calendars):
    assert run_cli(["sync", str(calendars), "--now", NOW], env).exit_code == 0
    for args in (["list"], ["list", "--format", "json"], ["config"], ["config", "--format", "json"],
                 ["purge", "--namespace", "default", "--yes", "--verbose"]):
        assert_no_secret(run_cli(args, env))


def test_base_url_containing_key(env, calendars, easycron_server):
    env = {**env, "EASYCRON_API_URL": f"{easycron_server.url}/{EASYCRON_KEY}"}
    for args in (["list", "--verbose"], ["sync", str(calendars), "--now", NOW, "--verbose"]):
        assert_no_secret(run_cli(args, env))


def test_all_recorded_cli_output(cli_outputs):
    assert cli_outputs, "no CLI output was recorded"
    leaks = [label for label, text in cli_outputs if any(secret in text for secret in SECRETS)]
    assert leaks == []
