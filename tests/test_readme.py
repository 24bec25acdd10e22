"""The README's shell examples run, and every documented command line uses real options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from ics2conf.cli import app
from tests.cli_support import REPO, isolated_env, run_cli

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
NEEDS_ACCOUNT = {"sync", "list", "purge"}
EXCERPT_NOW = "2027-01-04T08:00+05:30"
GROUP = typer.main.get_command(app)


def blocks(path: Path, lang: str) -> list[str]:
    return [m["body"] for m in FENCE.finditer(path.read_text(encoding="utf-8")) if m["lang"] == lang]


def commands(path: Path, langs: tuple[str, ...] = ("sh", "bash", "crontab", "ini", "yaml")) -> list[list[str]]:
    """Return the ics2conf command lines (arguments after the program) in the code blocks of ``path``."""
    found = []
    for lang in langs:
        for body in blocks(path, lang):
            for line in body.replace("\\\n", " ").splitlines():
                if "ics2conf " not in line or line.lstrip().startswith("#"):
                    continue
                words = shlex.split(line, comments=True)
                for index, word in enumerate(words):
                    program = word.split("=")[-1]
                    if (program == "ics2conf" or program.endswith("bin/ics2conf")) and index + 1 < len(words):
                        found.append(words[index + 1:])
                        break
    return found


README_COMMANDS = commands(README, ("sh",))
# Commands that need no account and no files of the reader's own: those on samples/ and
# those without paths (config, --version).
OFFLINE = [
    args
    for args in README_COMMANDS
    if args[0] not in NEEDS_ACCOUNT and (args[0] not in ("plan", "inspect") or "samples/" in args)
]


def test_readme_has_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make install\nmake test" in text
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)


def test_readme_has_offline_examples():
    assert ["plan", "samples/", "--directory", "samples/directory.csv"] in OFFLINE


@pytest.mark.parametrize("args", OFFLINE, ids=[" ".join(args) for args in OFFLINE])
def test_readme_offline_command_runs(args, tmp_path):
    result = run_cli(args, isolated_env(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_readme_plan_excerpt_matches_output(tmp_path):
    args = ["plan", "samples/", "--directory", "samples/directory.csv", "--now", EXCERPT_NOW]
    output = run_cli(args, isolated_env(tmp_path)).stdout
    excerpt = blocks(README, "text")[0]
    for line in excerpt.splitlines():
        if line.strip() and line.strip() != "...":
            assert line in output.splitlines(), f"README line not in the plan output: {line!r}"


DOCUMENTED = [(path.name, args) for path in [README, *DOCS] for args in commands(path)]


@pytest.mark.parametrize(("doc", "args"), DOCUMENTED, ids=[f"{d}: {' '.join(a)}" for d, a in DOCUMENTED])
def test_documented_options_exist(doc, args):
    command = GROUP.commands.get(args[0])
    if command is None:
        assert args[0] in {opt for param in GROUP.params for opt in param.opts}, f"{doc}: unknown command {args[0]}"
        return
    declared = {opt for param in command.params for opt in param.opts} | {"--help", "-h"}
    used = [word.split("=")[0] for word in args[1:] if word.startswith("--")]
    unknown = [option for option in used if option not in declared]
    assert unknown == [], f"{doc}: ics2conf {args[0]} has no option {unknown}"


def test_docs_links_exist():
    for path in [README, *DOCS]:
        for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.(?:md|json))\)", path.read_text(encoding="utf-8")):
            base = REPO if path == README else path.parent
            assert (base / target).exists(), f"{path.name} links to missing {target}"



def test_readme_first_run_through_console_script(tmp_path):
    import os
    import subprocess
    import sys

    script = Path(sys.executable).parent / "ics2conf"
    if not script.exists():
        pytest.skip("the ics2conf console script is not installed next to this Python")
    first = next(args for args in OFFLINE if args[0] == "plan")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EASYCRON_", "KOOKOO_", "ICS2CONF_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    completed = subprocess.run(
        [str(script), *first], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.rstrip().splitlines()[-1].startswith("Plan: ")
    assert "EASYCRON_API_KEY is not set" in completed.stderr


def test_json_doc_examples_match_schema():
    import json

    import jsonschema

    schema = json.loads((REPO / "docs" / "json-output.schema.json").read_text(encoding="utf-8"))
    examples = [json.loads(body) for body in blocks(REPO / "docs" / "json-output.md", "json")]
    checked = [doc for doc in examples if doc["command"] != "config"]  # config's example is abridged
    assert len(checked) >= 4
    for document in checked:
        jsonschema.validate(document, schema)
