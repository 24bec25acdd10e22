"""End to end through the CLI against the local fake EasyCron v1 server (real HTTP)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from ics2conf import plan as planner
from ics2conf.lock import namespace_lock
from ics2conf.model import make_job_key
from ics2conf.output import Output
from ics2conf.pipeline import build_desired
from ics2conf.runs import make_client
from ics2conf.settings_loader import load_settings
from ics2conf.syncing import apply_with_progress
from tests.cli_support import (
    EASYCRON_KEY,
    KOOKOO_KEY,
    REPO,
    isolated_env,
    run_cli,
    server_env,
    vevent,
    write_calendar,
)

NOW = "2027-01-04T08:00+05:30"  # a Monday
SCHEMA = json.loads((REPO / "docs" / "json-output.schema.json").read_text(encoding="utf-8"))

STANDUP = vevent(
    "standup-1@example.com",
    "Stand-up",
    "20270104T100000",
    rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    attendees=(("Asha Rao", "tel:+919876543210"), ("Vikram Iyer", "tel:+919876543211")),
)
REVIEW = vevent("review-1@example.com", "Design review", "20270106T150000")
REVIEW_MOVED = vevent("review-1@example.com", "Design review", "20270107T163000", sequence=1)


@pytest.fixture
def calendars(tmp_path: Path) -> Path:
    folder = tmp_path / "calendars"
    write_calendar(folder / "standup.ics", STANDUP)
    write_calendar(folder / "review.ics", REVIEW)
    return folder


@pytest.fixture
def env(tmp_path, easycron_server) -> dict:
    return server_env(tmp_path, easycron_server)


def sync(folder: Path, env: dict, *extra: str):
    return run_cli(["sync", str(folder), "--now", NOW, *extra], env)


def managed(server) -> list[dict]:
    return [job for job in server.jobs() if job["cron_job_name"].startswith("ics2conf.default.")]


def test_first_sync_creates_jobs(calendars, env, easycron_server):
    result = sync(calendars, env)
    assert result.exit_code == 0, result.stderr
    assert "Plan: 3 to create, 0 to update, 0 to delete." in result.stdout
    assert "Applied: 3 created, 0 updated, 0 deleted; 0 failed, 0 not attempted." in result.stdout
    jobs = managed(easycron_server)
    assert len(jobs) == 3
    assert {job["timezone"] for job in jobs} == {"Asia/Kolkata"}
    assert all(easycron_server.timezone_from(job["cron_job_id"]) == 2 for job in jobs)


def test_second_sync_writes_nothing(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    easycron_server.reset_counters()
    result = sync(calendars, env)
    assert result.exit_code == 0
    assert easycron_server.writes == 0
    assert "No changes." in result.stdout


def test_moved_meeting_updates_in_place(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    before = {job["cron_job_id"]: job for job in managed(easycron_server)}
    write_calendar(calendars / "review.ics", REVIEW_MOVED)

    plan = run_cli(["plan", str(calendars), "--now", NOW, "--detailed-exitcode"], env)
    assert plan.exit_code == 2
    assert "~ update" in plan.stdout
    assert "schedule  0 15 6 1 * 2027 -> 30 16 7 1 * 2027" in plan.stdout

    easycron_server.reset_counters()
    result = sync(calendars, env)
    assert result.exit_code == 0
    after = {job["cron_job_id"]: job for job in managed(easycron_server)}
    assert after.keys() == before.keys()
    assert easycron_server.count("create") == 0
    assert easycron_server.count("delete") == 0
    assert easycron_server.count("update") == 1
    changed = [job_id for job_id in after if after[job_id] != before[job_id]]
    assert [after[job_id]["cron_expression"] for job_id in changed] == ["30 16 7 1 * 2027"]


def test_removed_meeting_is_deleted(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    (calendars / "review.ics").unlink()
    result = sync(calendars, env)
    assert result.exit_code == 0
    assert "- delete" in result.stdout
    assert "Plan: 0 to create, 0 to update, 1 to delete." in result.stdout
    assert len(managed(easycron_server)) == 2


def test_foreign_jobs_untouched(calendars, env, easycron_server):
    foreign_id = easycron_server.add_job(cron_job_name="nightly backup", url="https://example.com/backup")
    other_name = make_job_key("other", "standup-1@example.com", "tel:+919876543210", "e0").name
    other_id = easycron_server.add_job(cron_job_name=other_name, url="https://example.com/other")
    foreign_before = easycron_server.job(foreign_id)
    other_before = easycron_server.job(other_id)

    assert sync(calendars, env).exit_code == 0
    for path in calendars.iterdir():
        path.unlink()
    write_calendar(calendars / "empty.ics")
    assert sync(calendars, env).exit_code == 0

    assert easycron_server.job(foreign_id) == foreign_before
    assert easycron_server.job(other_id) == other_before
    assert managed(easycron_server) == []


def test_listing_pages_past_500_jobs(calendars, env, easycron_server):
    for number in range(520):
        easycron_server.add_job(cron_job_name=f"foreign {number}")
    assert sync(calendars, env).exit_code == 0
    assert len(managed(easycron_server)) == 3

    easycron_server.reset_counters()
    result = sync(calendars, env)
    assert result.exit_code == 0
    assert easycron_server.count("list") >= 2
    assert easycron_server.writes == 0


def test_plan_detailed_exitcode_against_account(calendars, env, easycron_server):
    assert run_cli(["plan", str(calendars), "--now", NOW, "--detailed-exitcode"], env).exit_code == 2
    assert sync(calendars, env).exit_code == 0
    unchanged = run_cli(["plan", str(calendars), "--now", NOW, "--detailed-exitcode"], env)
    assert unchanged.exit_code == 0
    assert "3 jobs unchanged" not in unchanged.stdout  # counted per meeting
    assert "= 2 jobs unchanged" in unchanged.stdout
    (calendars / "junk.ics").write_text("not a calendar", encoding="utf-8")
    assert run_cli(["plan", str(calendars), "--now", NOW, "--detailed-exitcode"], env).exit_code == 1


def test_plan_never_writes(calendars, env, easycron_server):
    run_cli(["plan", str(calendars), "--now", NOW], env)
    run_cli(["sync", str(calendars), "--now", NOW, "--dry-run"], env)
    assert easycron_server.writes == 0
    assert managed(easycron_server) == []


def test_sync_dry_run_behaves_as_plan(calendars, env, easycron_server):
    result = sync(calendars, env, "--dry-run", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["dry_run"] is True
    assert document["result"] is None
    assert document["summary"]["create"] == 3


def test_sync_without_kookoo_key_names_variable(calendars, tmp_path, easycron_server):
    env = server_env(tmp_path, easycron_server, kookoo=False)
    result = sync(calendars, env)
    assert result.exit_code == 1
    assert "KOOKOO_API_KEY" in result.stderr
    assert easycron_server.writes == 0


def test_sync_json_matches_schema_and_reports_result(calendars, env, easycron_server):
    result = sync(calendars, env, "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["result"]["applied"] == {"create": 3, "update": 0, "delete": 0}
    assert {change["status"] for change in document["changes"]} == {"applied"}
    ids = {job["cron_job_id"] for job in managed(easycron_server)}
    assert {change["job_id"] for change in document["changes"]} == ids


def test_bad_input_holds_deletes_and_exits_one(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    (calendars / "review.ics").write_text("truncated garbage", encoding="utf-8")
    result = sync(calendars, env)
    assert result.exit_code == 1
    assert "review.ics" in result.stderr
    assert "1 job not deleted because the input had errors" in result.stderr
    assert len(managed(easycron_server)) == 3


def test_mass_delete_guard_stops_sync(tmp_path, env, easycron_server):
    folder = tmp_path / "many"
    attendees = tuple((f"Person {n}", f"tel:+9198765432{n:02d}") for n in range(8))
    write_calendar(folder / "all-hands.ics", vevent("allhands@example.com", "All hands", "20270105T110000", attendees=attendees))
    assert sync(folder, env).exit_code == 0
    assert len(managed(easycron_server)) == 8

    write_calendar(folder / "all-hands.ics")
    result = sync(folder, env)
    assert result.exit_code == 1
    assert "--allow-mass-delete" in result.stderr
    assert len(managed(easycron_server)) == 8

    result = sync(folder, env, "--allow-mass-delete")
    assert result.exit_code == 0
    assert managed(easycron_server) == []


def test_list_shows_managed_jobs(calendars, env, easycron_server):
    easycron_server.add_job(cron_job_name="nightly backup")
    assert sync(calendars, env).exit_code == 0
    result = run_cli(["list"], env)
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("3 jobs in namespace default.")
    assert "nightly backup" not in result.stdout

    document = json.loads(run_cli(["list", "--format", "json"], env).stdout)
    jsonschema.validate(document, SCHEMA)
    assert sorted(job["phone"] for job in document["jobs"]) == ["09876543210", "09876543210", "09876543211"]


def test_namespaces_are_separate(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    assert sync(calendars, env, "--namespace", "team-b").exit_code == 0
    assert len(easycron_server.jobs()) == 6
    result = run_cli(["purge", "--namespace", "team-b", "--yes"], env)
    assert result.exit_code == 0
    assert len(managed(easycron_server)) == 3
    assert len(easycron_server.jobs()) == 3


def test_purge_without_yes_off_terminal_refuses(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    result = run_cli(["purge", "--namespace", "default"], env)
    assert result.exit_code == 1
    assert "--yes" in result.stderr
    assert len(managed(easycron_server)) == 3


def test_rejected_key_is_one_line(calendars, env, easycron_server):
    result = sync(calendars, {**env, "EASYCRON_API_KEY": "wrong-key"})
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "wrong-key" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_log_file_has_one_line_per_action(calendars, env, easycron_server, tmp_path):
    log_file = tmp_path / "sync.log"
    result = run_cli(["sync", str(calendars), "--now", NOW, "--log-file", str(log_file)], env, log_file=log_file)
    assert result.exit_code == 0
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert sum(" created job ics2conf.default." in line for line in lines) == 3
    assert "sync of namespace default: applied 3 of 3 changes" in lines[-1]


def test_verbose_logs_requests_without_key(calendars, env, easycron_server):
    result = sync(calendars, env, "--verbose")
    assert result.exit_code == 0
    assert "GET /cron-jobs?page=1" in result.stderr
    assert "POST /cron-jobs -> 201" in result.stderr
    assert EASYCRON_KEY not in result.stderr
    assert KOOKOO_KEY not in result.stderr


def test_quiet_prints_no_warnings(tmp_path, env, easycron_server):
    folder = tmp_path / "quiet"
    write_calendar(
        folder / "one.ics",
        vevent("q-1@example.com", "Q", "20270105T110000", attendees=(("Nobody", "mailto:nobody@example.com"),)),
    )
    result = sync(folder, env, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_isolated_env_has_no_keys(tmp_path):
    env = isolated_env(tmp_path)
    assert env["EASYCRON_API_KEY"] is None
    assert env["KOOKOO_API_KEY"] is None


def test_lock_timeout_is_one_line(calendars, env, easycron_server, monkeypatch):
    monkeypatch.setenv("ICS2CONF_STATE_DIR", env["ICS2CONF_STATE_DIR"])
    with namespace_lock("default", 1):
        result = sync(calendars, env, "--lock-timeout", "0")
    assert result.exit_code == 1
    assert "Another ics2conf sync of namespace 'default' is running" in result.stderr
    assert "--lock-timeout" in result.stderr
    assert easycron_server.writes == 0


class TerminalBuffer(io.StringIO):
    """A text buffer that claims to be a terminal, so rich draws the progress bar into it."""

    def isatty(self) -> bool:
        return True


def progress_run(tmp_path, easycron_server, monkeypatch, *, jobs: int, quiet: bool = False) -> str:
    attendees = tuple((f"Person {n}", f"tel:+9198765432{n:02d}") for n in range(jobs))
    path = write_calendar(tmp_path / "big.ics", vevent("big@example.com", "Big", "20270105T110000", attendees=attendees))
    env = server_env(tmp_path, easycron_server)
    settings = load_settings({}, env={k: v for k, v in env.items() if v is not None}, cwd=tmp_path).settings
    state = build_desired([str(path)], settings, now=datetime.fromisoformat(NOW))
    plan = planner.diff(state.jobs, [], "default")

    buffer = TerminalBuffer()
    monkeypatch.setattr("sys.stderr", buffer)
    output = Output(settings.secrets(), quiet=quiet)
    report = apply_with_progress(plan, make_client(settings), settings, output)
    assert report.ok
    return buffer.getvalue()


def test_progress_bar_on_terminal_for_large_sync(tmp_path, easycron_server, monkeypatch):
    drawn = progress_run(tmp_path, easycron_server, monkeypatch, jobs=25)
    assert "applying" in drawn
    assert "25/25" in drawn


def test_progress_bar_silent_when_quiet(tmp_path, easycron_server, monkeypatch):
    assert progress_run(tmp_path, easycron_server, monkeypatch, jobs=25, quiet=True) == ""


def test_progress_bar_silent_for_small_sync(tmp_path, easycron_server, monkeypatch):
    assert progress_run(tmp_path, easycron_server, monkeypatch, jobs=5) == ""


def test_plan_without_kookoo_key_ignores_key(calendars, env, tmp_path, easycron_server):
    assert sync(calendars, env).exit_code == 0
    keyless = server_env(tmp_path, easycron_server, kookoo=False)
    result = run_cli(["plan", str(calendars), "--now", NOW, "--detailed-exitcode"], keyless)
    assert "KOOKOO_API_KEY is not set: call URLs in this plan carry a placeholder key" in result.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete." in result.stdout
    assert result.exit_code == 0


def test_purge_lists_jobs_under_namespace(calendars, env, easycron_server):
    assert sync(calendars, env).exit_code == 0
    result = run_cli(["purge", "--namespace", "default", "--yes"], env)
    assert "Jobs of namespace default" in result.stdout
    assert "Plan: 0 to create, 0 to update, 3 to delete." in result.stdout
    assert "Applied: 0 created, 0 updated, 3 deleted; 0 failed, 0 not attempted." in result.stdout


@pytest.mark.parametrize(("answer", "remaining"), [("n\n", 3), ("y\n", 0)])
def test_purge_asks_on_terminal(calendars, env, easycron_server, monkeypatch, answer, remaining):
    assert sync(calendars, env).exit_code == 0
    monkeypatch.setattr("ics2conf.cli.stdin_is_terminal", lambda: True)
    result = run_cli(["purge", "--namespace", "default"], env, stdin=answer)
    assert "Delete all 3 jobs of namespace 'default'?" in result.stderr
    assert len(managed(easycron_server)) == remaining
    assert result.exit_code == (1 if remaining else 0)


def test_failed_write_named_others_applied(calendars, env, easycron_server):
    easycron_server.inject("status", "create", status=400)
    result = sync(calendars, env, "--concurrency", "1")
    assert result.exit_code == 1
    assert "Applied: 2 created, 0 updated, 0 deleted; 1 failed, 0 not attempted." in result.stdout
    assert "ics2conf.default." in result.stderr
    assert "      FAILED: EasyCron rejected job ics2conf.default." in result.stdout
    assert len(managed(easycron_server)) == 2

    easycron_server.reset_counters()
    retry = sync(calendars, env)
    assert retry.exit_code == 0
    assert easycron_server.count("create") == 1
    assert len(managed(easycron_server)) == 3


def test_failed_write_in_json_result(calendars, env, easycron_server):
    easycron_server.inject("status", "create", status=400)
    document = json.loads(sync(calendars, env, "--format", "json").stdout)
    jsonschema.validate(document, SCHEMA)
    assert document["result"]["failed_count"] == 1
    failed = document["result"]["failed"][0]
    assert failed["action"] == "create"
    assert failed["job_name"].startswith("ics2conf.default.")
    assert failed["message"]
    statuses = sorted(change["status"] for change in document["changes"])
    assert statuses == ["applied", "applied", "failed"]
