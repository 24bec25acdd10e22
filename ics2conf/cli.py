"""The ``ics2conf`` command line: parse options, call the core, render, choose the exit code.

Exit code 0 means success. Exit code 1 means any error, including a usage error (an unknown
option or an invalid value) and an input error reported after the rest of the input was
processed. ``plan --detailed-exitcode`` exits 2 when changes are pending, and only then. Results go to stdout, and messages, warnings and logs to stderr. Every line written
passes through the secret redaction in ``output``.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from ics2conf import __version__, render, render_text, runs
from ics2conf.cli_options import (
    AllowInternationalOpt,
    CallLimitOpt,
    CallOrganizerOpt,
    ConcurrencyOpt,
    ConfigOpt,
    DirectoryOpt,
    FormatOpt,
    GreetingOpt,
    HorizonOpt,
    LeadOpt,
    LockTimeoutOpt,
    LogFileOpt,
    MassDeleteOpt,
    NamespaceOpt,
    NowOpt,
    Paths,
    QuietHoursOpt,
    QuietOpt,
    RedialAfterOpt,
    RedialOpt,
    RegionOpt,
    VerboseOpt,
    ZoneOpt,
)
from ics2conf.errors import ConfigError, Ics2confError
from ics2conf.model import Problem
from ics2conf.output import Output
from ics2conf.settings_loader import (
    LoadedSettings,
    default_config_paths,
    env_var_name,
    load_settings,
    masked_settings,
)
from ics2conf.syncing import run_purge, run_sync

COMMANDS = ("plan", "sync", "purge", "inspect", "list", "config")


class Ics2confGroup(TyperGroup):
    """The command group, with usage errors exiting 1 so that 2 stays "changes pending".

    Click exits 2 on a usage error, which ``plan --detailed-exitcode`` uses for pending
    changes. With ``--format json`` among the arguments, a usage error also prints the
    ``aborted`` document on stdout, like any other error that stops a command.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as error:  # Click's usage errors, as Typer bundles Click
            show = getattr(error, "show", None)
            if show is not None:
                show()
            else:
                typer.echo(f"Error: {error.format_message()}", err=True)
            if _wants_json(argv) and not type(error).__name__ == "NoArgsIsHelpError":
                command = next((arg for arg in argv if arg in COMMANDS), None)
                if command is not None:
                    document = render.aborted_document(command, error.format_message())
                    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
            sys.exit(EXIT_ERROR)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(EXIT_ERROR)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


class ListArgument(TyperArgument):
    """A variadic argument shown as ``PATH...`` in usage and help.

    Typer would show ``{PATH}...`` in the usage line and ``PATH <list[str]>`` in the help.
    """

    def _usage_display_name(self) -> str:
        return f"{self.display_name_raw}..." if self.required else f"[{self.display_name_raw}]..."

    def _rich_display_name(self) -> str:
        return f"{self.display_name_raw}..."

    def display_type_rich(self, ctx) -> str | None:
        return None


class Ics2confCommand(TyperCommand):
    """A command whose variadic arguments read ``PATH...`` in its usage line and help."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument and param.nargs != 1:
                param.__class__ = ListArgument


def _wants_json(argv: list[str]) -> bool:
    """Return whether ``--format json`` (or ``--format=json``) is among the arguments."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return False
        if arg.lower() == "--format=json":
            return True
        if arg == "--format" and index + 1 < len(argv) and argv[index + 1].strip().lower() == "json":
            return True
    return False


app = typer.Typer(
    name="ics2conf",
    cls=Ics2confGroup,
    help=(
        "Schedule KooKoo conference calls on EasyCron from calendar invites (.ics). "
        "At each meeting's start, every attendee's phone rings and joins one conference room."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold the API keys
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

log = logging.getLogger("ics2conf.cli")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2




@dataclass
class Run:
    """The settings and output of one command run."""

    loaded: LoadedSettings
    output: Output
    fmt: str

    @property
    def settings(self):
        return self.loaded.settings


def _check_format(fmt: str) -> str:
    value = fmt.strip().lower()
    if value not in ("text", "json"):
        raise typer.BadParameter(f"invalid format {fmt!r}: use text or json", param_hint="--format")
    return value


@contextmanager
def command_run(
    command: str,
    flags: dict[str, Any],
    *,
    fmt: str = "text",
    config: Path | None = None,
    quiet: bool = False,
    verbose: bool = False,
    log_file: Path | None = None,
) -> Iterator[Run]:
    """Load the settings and set up output; turn every ics2conf error into one line and exit 1.

    With ``--format json`` such an error also becomes a JSON document on stdout (``aborted``),
    so a scheduled run always leaves valid JSON behind.
    """
    fmt = _check_format(fmt)
    output = Output((), quiet=quiet, verbose=verbose)
    try:
        loaded = load_settings(flags, config_path=config)
        output = Output(loaded.settings.secrets(), quiet=quiet, verbose=verbose)
        output.setup_logging(log_file)
        yield Run(loaded, output, fmt)
    except Ics2confError as error:
        _abort(output, command, fmt, str(error))
    except OSError as error:
        # A log file or input that cannot be opened: the message names the path.
        _abort(output, command, fmt, f"{error.strerror or error}: {error.filename}" if error.filename else str(error))
    except KeyboardInterrupt:
        output.error("interrupted; run the same command again to finish")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as error:  # noqa: BLE001 - a bug: report it in one redacted line
        # The traceback goes through the redacting log filter, shown with --verbose, because
        # a traceback printed by Typer could contain a job URL with the KooKoo key.
        log.debug("traceback of the internal error:\n%s", traceback.format_exc())
        _abort(
            output,
            command,
            fmt,
            f"internal error: {type(error).__name__}: {error}. This is a bug in ics2conf;"
            " please report it with the command you ran (--verbose shows the traceback).",
        )
    finally:
        output.close()


def _abort(output: Output, command: str, fmt: str, message: str) -> None:
    """Report an error that ends the command, on stderr and, for JSON, on stdout; exit 1."""
    output.error(message)
    if fmt == "json":
        document = render.aborted_document(command, message)
        output.write_json(json.dumps(document, indent=2, ensure_ascii=False))
    raise typer.Exit(EXIT_ERROR)


def _plan_flags(**values: Any) -> dict[str, Any]:
    """Map option values to Settings field names, dropping options not given."""
    renames = {
        "directory": "directories",
        "redial_after": "redial_after_minutes",
        "lock_timeout": "lock_timeout_seconds",
    }
    flags = {}
    for name, value in values.items():
        if value is None or value == []:
            continue
        if name == "directory":
            value = tuple(value)
        flags[renames.get(name, name)] = value
    return flags


def _print_problems(run: Run, problems: list) -> None:
    """Print warnings and errors on stderr (text format only: JSON carries them)."""
    if run.fmt != "text":
        return
    for problem in problems:
        where = problem.source or ""
        prefix = f"{where}: " if where and where not in problem.message else ""
        text = render_text.printable(prefix + problem.message, render_text.MESSAGE_LIMIT)
        if problem.level == "error":
            run.output.error(text)
        else:
            run.output.message(f"Warning: {text}", style="yellow")


def _has_errors(problems: list) -> bool:
    return any(problem.level == "error" for problem in problems)


# --- commands -------------------------------------------------------------------------------


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ics2conf {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", help="Print the version and exit.", callback=_version_callback, is_eager=True),
    ] = None,
) -> None:
    """Schedule KooKoo conference calls on EasyCron from calendar invites (.ics)."""


@app.command(cls=Ics2confCommand)
def plan(
    paths: Paths,
    directory: DirectoryOpt = None,
    namespace: NamespaceOpt = None,
    now: NowOpt = None,
    horizon_days: HorizonOpt = None,
    fmt: FormatOpt = "text",
    default_region: RegionOpt = None,
    default_timezone: ZoneOpt = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 0 when nothing would change, 2 when changes are pending, 1 on error."),
    ] = False,
    allow_international: AllowInternationalOpt = None,
    call_organizer: CallOrganizerOpt = None,
    lead_minutes: LeadOpt = None,
    redial: RedialOpt = None,
    redial_after: RedialAfterOpt = None,
    greeting: GreetingOpt = None,
    allow_quiet_hours: QuietHoursOpt = None,
    daily_call_limit: CallLimitOpt = None,
    allow_mass_delete: MassDeleteOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Show the changes a sync would make to the EasyCron jobs; writes nothing.

    Without EASYCRON_API_KEY the plan is made against an empty account.
    """
    flags = _plan_flags(
        directory=directory, namespace=namespace, now=now, horizon_days=horizon_days,
        default_region=default_region, default_timezone=default_timezone,
        allow_international=allow_international, call_organizer=call_organizer,
        lead_minutes=lead_minutes, redial=redial, redial_after=redial_after, greeting=greeting,
        allow_quiet_hours=allow_quiet_hours, daily_call_limit=daily_call_limit,
        allow_mass_delete=allow_mass_delete,
    )
    with command_run("plan", flags, fmt=fmt, config=config, quiet=quiet, verbose=verbose) as run:
        code = _plan_command(run, paths, command="plan")
    if code == EXIT_CHANGES and not detailed_exitcode:
        code = EXIT_OK
    raise typer.Exit(code)


def _plan_command(run: Run, paths: list[str], *, command: str, dry_run: bool = False) -> int:
    """Plan and render; return 1 on error, 2 when changes are pending, else 0."""
    settings = run.settings
    client = None
    if settings.easycron_api_key:
        client = runs.make_client(settings)
        if not settings.kookoo_api_key:
            run.output.message(
                f"{runs.KOOKOO_KEY_VAR} is not set: call URLs in this plan carry a placeholder key,"
                " and the key is left out when comparing them with the account's jobs."
            )
    else:
        run.output.message(
            f"{runs.EASYCRON_KEY_VAR} is not set: planning against an empty EasyCron account,"
            " so every job shows as a create."
        )
    prepared = runs.prepare_plan(paths, settings, client=client)
    problems = list(prepared.problems)
    guard = runs.mass_delete_problem(prepared.plan, settings.allow_mass_delete)
    if guard is not None:
        # A plan only warns: the same check stops the sync.
        problems.append(Problem("warning", "sync would stop: " + guard.message))
    _render_plan(run, prepared, problems, command=command, dry_run=dry_run, account_listed=client is not None)
    if _has_errors(problems):
        return EXIT_ERROR
    return EXIT_CHANGES if prepared.plan.has_changes else EXIT_OK


def _render_plan(run: Run, prepared: runs.PreparedPlan, problems: list, *, command: str,
                 dry_run: bool = False, result: dict | None = None,
                 statuses: dict | None = None, account_listed: bool = True) -> None:
    meetings = prepared.state.meetings
    if run.fmt == "json":
        document = render.plan_document(
            prepared.plan, meetings, problems, command=command, now=prepared.now,
            dry_run=dry_run, result=result, statuses=statuses, past_uids=prepared.state.past_uids,
        )
        run.output.write_json(json.dumps(document, indent=2, ensure_ascii=False))
        return
    _print_problems(run, problems)
    if command == "purge":
        orphan_title = f"Jobs of namespace {prepared.plan.namespace}"
    else:
        orphan_title = "Jobs of meetings no longer in the input"
    no_changes = render_text.no_changes_line(
        account_listed=account_listed,
        input_errors=_has_errors(problems),
        has_jobs=bool(prepared.state.jobs),
        purge=command == "purge",
    )
    render_text.render_plan(
        run.output.console, prepared.plan, meetings, orphan_title=orphan_title, statuses=statuses,
        no_changes=no_changes, names=prepared.names, past_uids=prepared.state.past_uids,
    )
    if result is None:
        return
    render_text.render_result(run.output.console, result)
    skipped = result["not_attempted"]
    if skipped:
        first = render_text.printable(skipped[0]["message"], render_text.MESSAGE_LIMIT)
        run.output.error(f"{len(skipped)} changes were not attempted: {first}")


@app.command(cls=Ics2confCommand)
def sync(
    paths: Paths,
    directory: DirectoryOpt = None,
    namespace: NamespaceOpt = None,
    now: NowOpt = None,
    horizon_days: HorizonOpt = None,
    fmt: FormatOpt = "text",
    default_region: RegionOpt = None,
    default_timezone: ZoneOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show the changes, like plan; write nothing.")] = False,
    allow_international: AllowInternationalOpt = None,
    call_organizer: CallOrganizerOpt = None,
    lead_minutes: LeadOpt = None,
    redial: RedialOpt = None,
    redial_after: RedialAfterOpt = None,
    greeting: GreetingOpt = None,
    allow_quiet_hours: QuietHoursOpt = None,
    daily_call_limit: CallLimitOpt = None,
    concurrency: ConcurrencyOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    allow_mass_delete: MassDeleteOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
) -> None:
    """Create, update and delete EasyCron jobs so they match the calendars; never prompts.

    Needs EASYCRON_API_KEY, and KOOKOO_API_KEY when there are calls to schedule.
    """
    flags = _plan_flags(
        directory=directory, namespace=namespace, now=now, horizon_days=horizon_days,
        default_region=default_region, default_timezone=default_timezone,
        allow_international=allow_international, call_organizer=call_organizer,
        lead_minutes=lead_minutes, redial=redial, redial_after=redial_after, greeting=greeting,
        allow_quiet_hours=allow_quiet_hours, daily_call_limit=daily_call_limit,
        concurrency=concurrency, lock_timeout=lock_timeout, allow_mass_delete=allow_mass_delete,
    )
    with command_run("sync", flags, fmt=fmt, config=config, quiet=quiet, verbose=verbose, log_file=log_file) as run:
        if dry_run:
            code = _plan_command(run, paths, command="sync", dry_run=True)
            code = EXIT_ERROR if code == EXIT_ERROR else EXIT_OK
        else:
            outcome = run_sync(run.settings, paths, output=run.output)
            _render_plan(
                run, outcome.prepared, outcome.problems, command="sync",
                result=outcome.result, statuses=outcome.statuses,
            )
            code = EXIT_ERROR if outcome.failed else EXIT_OK
    raise typer.Exit(code)


@app.command("list", cls=Ics2confCommand)
def list_jobs(
    namespace: NamespaceOpt = None,
    fmt: FormatOpt = "text",
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List the jobs this tool manages in the EasyCron account for one namespace."""
    flags = _plan_flags(namespace=namespace)
    with command_run("list", flags, fmt=fmt, config=config, quiet=quiet, verbose=verbose) as run:
        settings = run.settings
        client = runs.make_client(settings)
        jobs = runs.managed_jobs(client.list_jobs(), settings.namespace)
        if run.fmt == "json":
            document = render.list_document(jobs, namespace=settings.namespace)
            run.output.write_json(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            render_text.render_list(run.output.console, jobs, namespace=settings.namespace)
    raise typer.Exit(EXIT_OK)


@app.command(cls=Ics2confCommand)
def inspect(
    paths: Paths,
    directory: DirectoryOpt = None,
    now: NowOpt = None,
    horizon_days: HorizonOpt = None,
    fmt: FormatOpt = "text",
    default_region: RegionOpt = None,
    default_timezone: ZoneOpt = None,
    allow_international: AllowInternationalOpt = None,
    call_organizer: CallOrganizerOpt = None,
    lead_minutes: LeadOpt = None,
    redial: RedialOpt = None,
    redial_after: RedialAfterOpt = None,
    allow_quiet_hours: QuietHoursOpt = None,
    daily_call_limit: CallLimitOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Explain each meeting: occurrences in its zone and IST, who is called at which number,
    who is skipped and why, and every warning. Contacts no EasyCron account."""
    flags = _plan_flags(
        directory=directory, now=now, horizon_days=horizon_days, default_region=default_region,
        default_timezone=default_timezone, allow_international=allow_international,
        call_organizer=call_organizer, lead_minutes=lead_minutes, redial=redial,
        redial_after=redial_after, allow_quiet_hours=allow_quiet_hours,
        daily_call_limit=daily_call_limit,
    )
    with command_run("inspect", flags, fmt=fmt, config=config, quiet=quiet) as run:
        settings = run.settings
        moment = runs.resolve_now(settings)
        state = runs.build_desired(paths, settings, now=moment, stdin=runs.stdin_bytes(), skip_past=False)
        if run.fmt == "json":
            document = render.inspect_document(
                state.meetings, state.problems, now=moment, horizon_days=settings.horizon_days
            )
            run.output.write_json(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            in_meeting = {id(p) for m in state.meetings for p in m.problems}
            _print_problems(run, [p for p in state.problems if id(p) not in in_meeting])
            render_text.render_inspect(
                run.output.console, state.meetings, now=moment, horizon_days=settings.horizon_days,
                names=runs.directory_names(settings),
            )
        code = EXIT_ERROR if _has_errors(state.problems) else EXIT_OK
    raise typer.Exit(code)


@app.command(cls=Ics2confCommand)
def purge(
    namespace: Annotated[
        str,
        typer.Option("--namespace", help="Namespace whose jobs are all deleted; required, so a typo cannot purge the default namespace.", metavar="NAME"),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking; required when standard input is not a terminal.")] = False,
    fmt: FormatOpt = "text",
    concurrency: ConcurrencyOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    log_file: LogFileOpt = None,
) -> None:
    """Delete every job of a namespace from the EasyCron account; jobs of other namespaces stay."""
    flags = _plan_flags(namespace=namespace, concurrency=concurrency, lock_timeout=lock_timeout)
    with command_run("purge", flags, fmt=fmt, config=config, quiet=quiet, verbose=verbose, log_file=log_file) as run:
        outcome = run_purge(run.settings, output=run.output, confirm=_confirm_purge(yes))
        if outcome is None:
            _abort(run.output, "purge", run.fmt, "purge cancelled at the prompt; nothing was deleted")
        else:
            _render_plan(
                run, outcome.prepared, outcome.problems, command="purge",
                result=outcome.result, statuses=outcome.statuses,
            )
            code = EXIT_ERROR if outcome.failed else EXIT_OK
    raise typer.Exit(code)


def stdin_is_terminal() -> bool:
    """Return whether standard input is a terminal, where purge may ask for confirmation."""
    return sys.stdin is not None and sys.stdin.isatty()


def _confirm_purge(yes: bool):
    """Return the confirmation step of purge: ask on a terminal, require --yes elsewhere."""

    def confirm(count: int, namespace: str) -> bool:
        if yes:
            return True
        if not stdin_is_terminal():
            raise ConfigError(
                f"purge would delete {count} jobs of namespace {namespace!r}: pass --yes to"
                " confirm when standard input is not a terminal"
            )
        return typer.confirm(f"Delete all {count} jobs of namespace {namespace!r}?", default=False, err=True)

    return confirm


@app.command("config", cls=Ics2confCommand)
def show_config(
    fmt: FormatOpt = "text",
    config: ConfigOpt = None,
    namespace: NamespaceOpt = None,
) -> None:
    """Show the effective configuration, where each value comes from, with secrets masked."""
    flags = _plan_flags(namespace=namespace)
    with command_run("config", flags, fmt=fmt, config=config) as run:
        shown = masked_settings(run.loaded)
        file = str(run.loaded.config_file) if run.loaded.config_file else None
        if run.fmt == "json":
            document = {
                "format_version": render.FORMAT_VERSION,
                "command": "config",
                "config_file": file,
                "settings": shown,
                "sources": run.loaded.sources,
            }
            run.output.write_json(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            console = run.output.console
            if file is None:
                searched = ", ".join(str(path) for path in default_config_paths())
                console.print(f"config file: none found (searched {searched})")
            else:
                console.print(f"config file: {file}")
            for name, value in shown.items():
                source = run.loaded.sources[name]
                if source == "env":
                    source = f"env {env_var_name(name)}"
                console.print(f"{name} = {_show_value(value)}  ({source})")
    raise typer.Exit(EXIT_OK)


def _show_value(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, (list, bool, int, float)):
        return json.dumps(value)
    return str(value)


def main() -> None:
    """Run the ics2conf command line."""
    app()


if __name__ == "__main__":
    main()
