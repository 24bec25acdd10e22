"""Every command and every option has help text, and --help works for each command."""

from __future__ import annotations

import click
import pytest
import typer.main

from ics2conf.cli import app
from tests.cli_support import isolated_env, run_cli

GROUP = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)


def test_expected_commands():
    assert COMMANDS == ["config", "inspect", "list", "plan", "purge", "sync"]


def test_group_options_have_help():
    for param in GROUP.params:
        assert (getattr(param, "help", None) or "").strip(), f"ics2conf {param.opts} has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name):
    command = GROUP.commands[name]
    assert (command.help or "").strip(), f"ics2conf {name} has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_parameter_has_help(name):
    command = GROUP.commands[name]
    for param in command.params:
        text = (getattr(param, "help", None) or "").strip()
        kind = "option" if isinstance(param, click.Option) else "argument"
        assert text, f"ics2conf {name}: {kind} {param.opts or param.name} has no help text"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_option_prints_usage(name, tmp_path):
    result = run_cli([name, "--help"], isolated_env(tmp_path))
    assert result.exit_code == 0
    assert f"Usage: ics2conf {name}" in result.stdout.replace("root ", "")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("plan", ["--directory", "--namespace", "--now", "--horizon-days", "--format", "--default-region",
                  "--default-timezone", "--detailed-exitcode", "--allow-international", "--call-organizer",
                  "--lead-minutes", "--redial", "--redial-after", "--greeting", "--allow-quiet-hours",
                  "--daily-call-limit", "--config", "--quiet", "--verbose"]),
        ("sync", ["--directory", "--namespace", "--now", "--horizon-days", "--format", "--default-region",
                  "--default-timezone", "--dry-run", "--concurrency", "--lock-timeout", "--allow-mass-delete",
                  "--log-file", "--config", "--quiet", "--verbose"]),
        ("list", ["--namespace", "--format", "--config", "--verbose"]),
        ("inspect", ["--directory", "--now", "--horizon-days", "--format", "--default-region", "--default-timezone"]),
        ("purge", ["--namespace", "--yes", "--format", "--log-file"]),
        ("config", ["--format", "--config"]),
    ],
)
def test_contract_options_exist(name, options):
    command = GROUP.commands[name]
    declared = {opt for param in command.params for opt in param.opts}
    missing = [option for option in options if option not in declared]
    assert missing == []


def test_completion_is_offered():
    declared = {opt for param in GROUP.params for opt in param.opts}
    assert "--install-completion" in declared
    assert "--show-completion" in declared


def test_show_completion_prints_script(tmp_path):
    result = run_cli(["--show-completion", "bash"], isolated_env(tmp_path))
    assert result.exit_code == 0
    assert "_ics2conf_completion" in result.stdout
