"""Run every benchmark and print each figure beside its target (``make bench``).

    python -m bench.run                      # all exports, 5 runs each
    python -m bench.run --sizes 1k --runs 5  # a quick pass
    python -m bench.run --only plan          # one benchmark: plan, api, throughput

Exports are generated into bench/out/ when missing or when the generator,
seed or ``--now`` changed. Results go to bench/out/results.json and, as
Markdown tables, bench/out/results.md (``--results NAME`` renames both).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path

from . import generate
from .jobs_report import JobsPerCall, jobs_per_call
from .plan_cost import MAX_RSS_RATIO, MAX_WALL_RATIO, PlanCost, measure_plan_cost, read_plan

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = ("plan", "api", "throughput")
HORIZON_DAYS = 30  # ics2conf's default --horizon-days; plan runs without the option


def machine() -> dict[str, str]:
    """Describe the machine, interpreter and versions the figures come from."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=False).stdout.strip()
    return {
        "cpu": cpu,
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "icalendar": metadata.version("icalendar"),
        "recurring-ical-events": metadata.version("recurring-ical-events"),
        "commit": commit or "unknown",
    }


def ensure_exports(labels: list[str], seed: int, now: str, out_dir: Path, progress=print) -> dict[str, dict]:
    """Generate the exports that are missing or stale and return each one's counts."""
    manifest_path = out_dir / "manifest.json"
    source_hash = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:16]
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    for label in labels:
        ics, directory = generate.export_paths(label, out_dir)
        wanted = {"events": generate.SIZES[label], "seed": seed, "now": now, "generator": source_hash}
        entry = manifest.get(label, {})
        if ics.exists() and directory.exists() and entry.get("key") == wanted:
            continue
        started = time.perf_counter()
        _, _, export = generate.write_export(generate.SIZES[label], label, seed, now, out_dir)
        manifest[label] = {"key": wanted, "counts": dict(export.counts), "calls_by_uid": dict(export.calls_by_uid),
                           "bytes": ics.stat().st_size}
        progress(f"generated {ics.name} ({ics.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
        manifest_path.write_text(json.dumps(manifest))
    return manifest


def run_plan_benchmark(labels, manifest, args, progress) -> tuple[list[PlanCost], list[JobsPerCall]]:
    costs, reports = [], []
    now = datetime.fromisoformat(args.now)
    for label in labels:
        ics, directory = generate.export_paths(label, args.out)
        progress(f"plan cost, {label} export ({args.runs} runs of bare parse and plan):")
        cost = measure_plan_cost(label, ics, directory, args.now, args.runs, args.out, progress)
        costs.append(cost)
        plan = read_plan(cost.plan_json)
        if plan is None:
            progress(f"  plan printed no JSON document; see {cost.plan_json.with_suffix('.err')}")
            continue
        entry = manifest[label]
        reports.append(jobs_per_call(label, plan, entry["counts"], entry["calls_by_uid"], now, HORIZON_DAYS))
    return costs, reports


def verdict(measured: float, limit: float) -> str:
    return "met" if measured <= limit else "MISSED"


def render_markdown(info, costs, reports, economy, throughput, backoff=None) -> str:
    """Return the results as Markdown tables, the form docs/benchmarks.md uses."""
    lines = ["| machine | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in info.items()]
    if costs:
        lines += ["", "### Plan cost against bare parse (medians)", "",
                  "| export | bare parse s | plan s | wall ratio (target ≤ 1.5 on 10k/50k) |"
                  " bare RSS MiB | plan RSS MiB | RSS ratio (target ≤ 2.0 on 10k/50k) | runs |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for cost in costs:
            wall = f"{cost.wall_ratio:.2f}" + (f" {verdict(cost.wall_ratio, MAX_WALL_RATIO)}" if cost.has_target else "")
            rss = f"{cost.rss_ratio:.2f}" + (f" {verdict(cost.rss_ratio, MAX_RSS_RATIO)}" if cost.has_target else "")
            lines.append(f"| {cost.label} | {cost.bare_wall:.2f} | {cost.plan_wall:.2f} | {wall} | {cost.bare_rss:.0f}"
                         f" | {cost.plan_rss:.0f} | {rss} | {len(cost.plan)} |")
    if reports:
        lines += ["", "### Jobs per (occurrence × attendee) in the 30-day horizon", "",
                  "| export | events with jobs | occurrences | calls | jobs | jobs per call |"
                  " job fires in horizon | events where fires ≠ calls |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for report in reports:
            lines.append(f"| {report.label} | {report.events_with_jobs} | {report.occurrences} | {report.calls}"
                         f" | {report.jobs} | {report.jobs_per_call:.3f} | {report.fires} | {len(report.mismatched)} |")
    if economy:
        lines += ["", f"### API economy ({economy.label} export, {economy.jobs} jobs)", "",
                  "| sync | requests | writes | minimum (list + writes) | total | verdict |",
                  "|---|---|---:|---:|---:|---|"]
        for phase in economy.phases:
            counts = ", ".join(f"{op} {n}" for op, n in phase.counts.items())
            lines.append(f"| {phase.name} | {counts} | {phase.writes} | {phase.min_list} + {phase.min_writes}"
                         f" = {phase.minimum} | {phase.total} | {verdict(phase.total, phase.minimum)} |")
        for phase in economy.phases:
            if phase.note:
                lines.append(f"\n{phase.name}: {phase.note}")
    if throughput:
        limit = MAX_WALL_RATIO * throughput.floor
        lines += ["", "### Sync throughput", "",
                  "| changes | latency | concurrency | requests (median) | floor s | limit s (1.5 × floor) |"
                  " wall s (median) | ratio | verdict |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
                  f"| {throughput.changes} | {throughput.latency_ms:.0f} ms | {throughput.concurrency}"
                  f" | {sorted(throughput.requests)[len(throughput.requests) // 2]} | {throughput.floor:.1f}"
                  f" | {limit:.1f} | {throughput.wall:.1f} | {throughput.ratio:.2f} | {verdict(throughput.wall, limit)} |"]
    if backoff:
        lines += ["", f"One more run with three creates rejected with 429 (Retry-After {backoff.retry_after_s:g} s):"
                  f" {backoff.rate_limited} responses with 429, {backoff.sent_during_pause} requests sent during a"
                  f" pause, {backoff.requests} requests, {backoff.wall:.1f} s, {backoff.failed} actions not applied."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement; the median is reported (default 5)")
    parser.add_argument("--sizes", default="1k,10k,50k", help="exports for the plan benchmark (default %(default)s)")
    parser.add_argument("--api-size", default="10k", help="export for the API economy benchmark (default %(default)s)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="benchmarks to run: plan, api, throughput")
    parser.add_argument("--now", default=generate.DEFAULT_NOW, help="the moment plan and sync treat as now")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED, help="generator seed (default %(default)s)")
    parser.add_argument("--concurrency", type=int, default=4, help="sync workers for the throughput run (default 4)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server latency per request (default 50)")
    parser.add_argument("--out", type=Path, default=generate.DEFAULT_OUT, help="output folder (default bench/out)")
    parser.add_argument("--results", default="results",
                        help="name of the result files in the output folder, without suffix (default %(default)s)")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(message, flush=True)

    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; use {', '.join(BENCHMARKS)}")
    labels = [label.strip() for label in args.sizes.split(",") if label.strip()]
    for label in [*labels, args.api_size]:
        if label not in generate.SIZES:
            parser.error(f"unknown export size {label!r}; use one of {', '.join(generate.SIZES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    started = time.perf_counter()
    info = machine()
    info["load average at the start (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    needed = (labels if "plan" in only else []) + ([args.api_size] if "api" in only else [])
    manifest = ensure_exports(sorted(set(needed), key=lambda l: generate.SIZES[l]), args.seed, args.now, args.out,
                              progress)

    costs, reports, economy, throughput, backoff = [], [], None, None, None

    def save() -> str:
        """Write the results gathered so far, so a long run that is stopped keeps them."""
        info["bench duration"] = str(timedelta(seconds=round(time.perf_counter() - started)))
        info["load average at the end (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        results = {
            "machine": info,
            "now": args.now,
            "seed": args.seed,
            "plan_cost": [cost.to_dict() for cost in costs],
            "jobs_per_call": [report.to_dict() for report in reports],
            "api_economy": None if economy is None else {
                "label": economy.label, "jobs": economy.jobs, "edited_uid": economy.edited_uid,
                "command": economy.command, "phases": [phase.to_dict() for phase in economy.phases]},
            "throughput": None if throughput is None else throughput.to_dict(),
            "backoff": None if backoff is None else backoff.to_dict(),
        }
        (args.out / f"{args.results}.json").write_text(json.dumps(results, indent=2))
        markdown = render_markdown(info, costs, reports, economy, throughput, backoff)
        (args.out / f"{args.results}.md").write_text(markdown)
        return markdown

    # The short benchmarks run first and the largest export last, so a run
    # stopped early still has most figures.
    if "api" in only:
        from .api_economy import measure_api_economy

        progress(f"API economy, {args.api_size} export:")
        ics, directory = generate.export_paths(args.api_size, args.out)
        economy = measure_api_economy(args.api_size, ics, directory, args.now, args.out, progress)
        save()
    if "throughput" in only:
        from .throughput import measure_backoff, measure_throughput

        progress(f"sync throughput ({args.runs} runs, {args.latency_ms:.0f} ms latency,"
                 f" concurrency {args.concurrency}):")
        throughput = measure_throughput(args.runs, args.concurrency, args.latency_ms, progress)
        backoff = measure_backoff(args.concurrency, args.latency_ms, progress=progress)
        save()
    if "plan" in only:
        for label in sorted(labels, key=lambda l: generate.SIZES[l]):
            new_costs, new_reports = run_plan_benchmark([label], manifest, args, progress)
            costs += new_costs
            reports += new_reports
            save()

    print()
    print(save())
    return 0


if __name__ == "__main__":
    sys.exit(main())
