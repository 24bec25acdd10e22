"""Options shared by the ``ics2conf`` commands, as Typer parameter types.

Settings options default to None, so ``cli`` passes only the options given on the command line
to the settings loader, and the environment and the config file fill in the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

Paths = Annotated[
    list[str],
    typer.Argument(
        metavar="PATH",
        help="Calendar files (.ics), folders searched recursively for *.ics, https:// or"
        " webcal:// feed URLs, or - for standard input.",
        show_default=False,
    ),
]
DirectoryOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--directory",
        help="Phone directory: CSV with header email,phone[,name] or a vCard (.vcf) file. Repeat to merge several.",
        metavar="FILE",
        show_default=False,
    ),
]
NamespaceOpt = Annotated[
    Optional[str],
    typer.Option(
        "--namespace",
        help="Namespace of the managed jobs; syncs of different namespaces never touch each other's jobs. [default: default]",
        metavar="NAME",
        show_default=False,
    ),
]
NowOpt = Annotated[
    Optional[str],
    typer.Option(
        "--now",
        help="The moment treated as now, ISO-8601 (2026-01-05T09:00+05:30); without an offset it is read in --default-timezone. [default: the clock]",
        metavar="ISO-8601",
        show_default=False,
    ),
]
HorizonOpt = Annotated[
    Optional[int],
    typer.Option("--horizon-days", help="Days ahead that dated jobs cover; open-ended rules that cron expresses exactly need no horizon. [default: 30]", metavar="N", show_default=False),
]
FormatOpt = Annotated[
    str,
    typer.Option("--format", help="Output format on stdout: text or json.", metavar="text|json"),
]
RegionOpt = Annotated[
    Optional[str],
    typer.Option("--default-region", help="Country code for phone numbers written without one. [default: IN]", metavar="CC", show_default=False),
]
ZoneOpt = Annotated[
    Optional[str],
    typer.Option("--default-timezone", help="IANA time zone for floating times in invites. [default: Asia/Kolkata]", metavar="ZONE", show_default=False),
]
ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", help="TOML config file to read instead of ./ics2conf.toml or the user config folder.", metavar="PATH", show_default=False),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no progress, notices or warnings on stderr; errors are still printed.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Log each HTTP request to EasyCron (method, path, status, duration) on stderr.")]
LogFileOpt = Annotated[
    Optional[Path],
    typer.Option("--log-file", help="Append one line per applied action and per run to this file.", metavar="PATH", show_default=False),
]
AllowInternationalOpt = Annotated[Optional[bool], typer.Option("--allow-international", help="Call numbers outside India, in KooKoo's 00 international form.", show_default=False)]
CallOrganizerOpt = Annotated[Optional[bool], typer.Option("--call-organizer", help="Call the organizer too (once, even if also an attendee).", show_default=False)]
LeadOpt = Annotated[Optional[int], typer.Option("--lead-minutes", help="Ring this many minutes before each start. [default: 0]", metavar="MIN", show_default=False)]
RedialOpt = Annotated[
    Optional[int],
    typer.Option("--redial", help="Extra call attempts per attendee and occurrence; they ring whether or not the first call was answered. [default: 0]", metavar="N", show_default=False),
]
RedialAfterOpt = Annotated[Optional[int], typer.Option("--redial-after", help="Minutes between call attempts. [default: 5]", metavar="MIN", show_default=False)]
GreetingOpt = Annotated[Optional[str], typer.Option("--greeting", help="Text KooKoo speaks before joining the room.", metavar="TEXT", show_default=False)]
QuietHoursOpt = Annotated[
    Optional[bool],
    typer.Option("--allow-quiet-hours", help="Schedule calls between 21:00 and 09:00 IST too (KooKoo rejects commercial calls then).", show_default=False),
]
CallLimitOpt = Annotated[Optional[int], typer.Option("--daily-call-limit", help="Warn when a day (IST) has more planned calls than this. [default: 50]", metavar="N", show_default=False)]
ConcurrencyOpt = Annotated[Optional[int], typer.Option("--concurrency", help="EasyCron requests sent in parallel. [default: 4]", metavar="N", show_default=False)]
LockTimeoutOpt = Annotated[
    Optional[float],
    typer.Option("--lock-timeout", help="Seconds to wait for another sync of the namespace on this machine. [default: 60]", metavar="SECONDS", show_default=False),
]
MassDeleteOpt = Annotated[
    Optional[bool],
    typer.Option("--allow-mass-delete", help="Allow a sync that deletes more than half of the namespace's jobs (and more than 5).", show_default=False),
]
