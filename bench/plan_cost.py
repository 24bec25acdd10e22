"""Measure ``ics2conf plan`` against its floor, parsing the same file with icalendar alone.

Both run as separate child processes of the same interpreter, alternating
(bare, plan, bare, plan, ...) so that a slow phase of the machine hits both
sides. ``plan`` runs with no EASYCRON_API_KEY, so it plans against an empty
account and never opens a connection.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .measure import Sample, bare_parse_command, ics2conf_command, median, plan_environment, run_measured

# Maximum ratios of plan to bare parse, checked on the 10k and 50k exports.
MAX_WALL_RATIO = 1.5
MAX_RSS_RATIO = 2.0
TARGET_LABELS = ("10k", "50k")
# A KooKoo key is set so that job URLs are built the way a real run builds
# them; it is an invented value and plan never sends it anywhere.
BENCH_KOOKOO_KEY = "bench-kookoo-key"


@dataclass
class PlanCost:
    """The samples of one export and their medians."""

    label: str
    bare: list[Sample] = field(default_factory=list)
    plan: list[Sample] = field(default_factory=list)
    plan_json: Path | None = None
    plan_command: str = ""
    bare_command: str = ""

    @property
    def bare_wall(self) -> float:
        return median([s.wall for s in self.bare])

    @property
    def plan_wall(self) -> float:
        return median([s.wall for s in self.plan])

    @property
    def bare_rss(self) -> float:
        return median([s.peak_rss_mib for s in self.bare])

    @property
    def plan_rss(self) -> float:
        return median([s.peak_rss_mib for s in self.plan])

    @property
    def wall_ratio(self) -> float:
        return self.plan_wall / self.bare_wall

    @property
    def rss_ratio(self) -> float:
        return self.plan_rss / self.bare_rss

    @property
    def has_target(self) -> bool:
        return self.label in TARGET_LABELS

    @property
    def failed_runs(self) -> int:
        return sum(1 for s in self.plan + self.bare if s.returncode != 0)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "bare_command": self.bare_command,
            "plan_command": self.plan_command,
            "bare_wall_s": [round(s.wall, 3) for s in self.bare],
            "plan_wall_s": [round(s.wall, 3) for s in self.plan],
            "bare_rss_mib": [round(s.peak_rss_mib, 1) for s in self.bare],
            "plan_rss_mib": [round(s.peak_rss_mib, 1) for s in self.plan],
            "plan_returncodes": [s.returncode for s in self.plan],
            "median_bare_wall_s": round(self.bare_wall, 3),
            "median_plan_wall_s": round(self.plan_wall, 3),
            "median_bare_rss_mib": round(self.bare_rss, 1),
            "median_plan_rss_mib": round(self.plan_rss, 1),
            "wall_ratio": round(self.wall_ratio, 3),
            "rss_ratio": round(self.rss_ratio, 3),
        }


def plan_command(ics: Path, directory: Path, now: str) -> list[str]:
    return [*ics2conf_command(), "plan", str(ics), "--directory", str(directory), "--now", now,
            "--format", "json"]


def measure_plan_cost(label: str, ics: Path, directory: Path, now: str, runs: int, out_dir: Path,
                      progress=print) -> PlanCost:
    """Run bare parse and plan ``runs`` times each on one export and return the samples.

    The last plan's JSON document is kept as ``plan-LABEL.json`` (stderr as
    ``plan-LABEL.err``) for the jobs-per-call report.
    """
    env = plan_environment(KOOKOO_API_KEY=BENCH_KOOKOO_KEY)
    bare = bare_parse_command(ics)
    plan = plan_command(ics, directory, now)
    result = PlanCost(label, plan_command=shlex.join(plan), bare_command=shlex.join(bare))
    result.plan_json = out_dir / f"plan-{label}.json"
    stderr_path = out_dir / f"plan-{label}.err"
    for run in range(1, runs + 1):
        result.bare.append(run_measured(bare, env=env))
        result.plan.append(run_measured(plan, env=env, stdout_path=result.plan_json, stderr_path=stderr_path))
        bare_sample, plan_sample = result.bare[-1], result.plan[-1]
        progress(
            f"  {label} run {run}/{runs}: bare parse {bare_sample.wall:.2f} s {bare_sample.peak_rss_mib:.0f} MiB,"
            f" plan {plan_sample.wall:.2f} s {plan_sample.peak_rss_mib:.0f} MiB (exit {plan_sample.returncode})"
        )
    return result


def read_plan(path: Path) -> dict | None:
    """Return the plan's JSON document, or None when the run printed none."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
