"""Usage errors exit 1 (2 is reserved for pending changes) and the help reads cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.cli_support import REPO, isolated_env, run_cli

SCHEMA = json.loads((REPO / "docs" / "json-output.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return isolated_env(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "samples", "--detailed-exitcode", "--horizon-day", "5"], "No such option: --horizon-day"),
        (["plan", "samples", "--format", "xml"], "invalid format 'xml'"),
        (["plan", "samples", "--horizon-days", "many"], "--horizon-days"),
        (["plan", "--detailed-exitcode"], "Missing argument 'PATH'"),
        (["sync", "samples", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_error_exits_one_with_message_on_stderr(env, args, message):
    result = run_cli(args, env)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "samples", "--format", "json", "--bogus"],
        ["plan", "samples", "--format=json", "--horizon-days", "many"],
        ["sync", "--format", "json"],
        ["list", "--format", "JSON", "--namespace"],
    ],
)
def test_usage_error_with_json_format_prints_aborted_document(env, args):
    result = run_cli(args, env)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert document["aborted"] is True
    assert document["command"] == args[0]
    assert document["errors"][0]["message"] in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["plan", "--help"], ["sync", "-h"]])
def test_help_and_version_exit_zero(env, args):
    assert run_cli(args, env).exit_code == 0


@pytest.mark.parametrize("name", ["plan", "sync", "inspect"])
def test_help_shows_path_argument_cleanly(env, name):
    out = run_cli([name, "--help"], env).stdout
    assert f"Usage: ics2conf {name} [OPTIONS] PATH...\n" in out
    assert "  PATH...  " in out
    assert "list[str]" not in out
    assert "{PATH}" not in out
