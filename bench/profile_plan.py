"""Profile one ``ics2conf plan`` run with cProfile and print its top functions as a Markdown table.

    python -m bench.profile_plan --size 10k --top 15
"""

from __future__ import annotations

import argparse
import io
import pstats
import subprocess
import sys
from pathlib import Path

from .generate import DEFAULT_NOW, DEFAULT_OUT, export_paths
from .measure import plan_environment
from .plan_cost import BENCH_KOOKOO_KEY


def profile_plan(ics: Path, directory: Path, now: str, profile_path: Path) -> int:
    """Run plan under cProfile in a child process, writing the stats to ``profile_path``."""
    command = [sys.executable, "-m", "cProfile", "-o", str(profile_path), "-m", "ics2conf", "plan", str(ics),
               "--directory", str(directory), "--now", now, "--format", "json"]
    completed = subprocess.run(command, env=plan_environment(KOOKOO_API_KEY=BENCH_KOOKOO_KEY),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return completed.returncode


def short_location(filename: str, line: int, function: str) -> str:
    """Return ``package/module.py:line(function)`` without the site-packages prefix."""
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({function})"


def top_functions(profile_path: Path, top: int, sort: str = "tottime", only: str | None = None) -> str:
    """Return a Markdown table of the ``top`` functions by ``sort`` (tottime or cumulative).

    ``only`` keeps the functions whose location contains it, for example
    ``"ics2conf/"`` to see where the tool's own stages spend their time.
    """
    stats = pstats.Stats(str(profile_path), stream=io.StringIO())
    total = stats.total_tt
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():
        where = short_location(filename, line, function)
        if only is None or only in where:
            rows.append((tottime, cumtime, calls, where))
    rows.sort(key=lambda row: row[0] if sort == "tottime" else row[1], reverse=True)
    lines = [
        f"Total {total:.1f} s (under cProfile, which slows Python code down), top {top}"
        f" {'of ' + only + ' ' if only else ''}by {sort}:",
        "",
        "| own time s | own % | cumulative s | calls | function |",
        "|---:|---:|---:|---:|---|",
    ]
    for tottime, cumtime, calls, where in rows[:top]:
        lines.append(f"| {tottime:.2f} | {100 * tottime / total:.1f} | {cumtime:.2f} | {calls} | `{where}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_plan", description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="10k", help="export label in bench/out (default %(default)s)")
    parser.add_argument("--now", default=DEFAULT_NOW)
    parser.add_argument("--top", type=int, default=15, help="rows of the table (default %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    ics, directory = export_paths(args.size, args.out)
    if not ics.exists():
        parser.error(f"{ics} does not exist; run python -m bench.generate first")
    profile_path = args.out / f"plan-{args.size}.prof"
    code = profile_plan(ics, directory, args.now, profile_path)
    if code != 0:
        print(f"plan exited with {code}", file=sys.stderr)
    print(top_functions(profile_path, args.top, "tottime"))
    print()
    print(top_functions(profile_path, args.top, "cumulative", only="ics2conf/"))


if __name__ == "__main__":
    main()
