"""Count the EasyCron requests of three syncs against the local server, beside their minimum.

1. First sync into an empty account: the minimum is one create per job plus
   one list request (an empty account still needs one page to prove it).
2. Second sync of the same input: the minimum is the list pages and zero
   writes. Listing pages until a short page takes ``jobs // 500 + 1``
   requests of 500 jobs, which equals ceil(jobs / 500) unless the job count
   is a multiple of 500 (then one more, empty page ends the list).
3. Sync after moving one meeting by an hour: the minimum is the list pages
   plus one write per job of that meeting (before and after the edit).

Each sync runs the real CLI (``ics2conf sync``) as a child process against a
FakeEasyCron server started in this process.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ics2conf.model import parse_job_name, uid_hash
from tests.easycron_server import FakeEasyCron

from .measure import Sample, ics2conf_command, plan_environment, run_measured
from .plan_cost import BENCH_KOOKOO_KEY

API_KEY = "bench-easycron-key"
PAGE_SIZE = 500
WRITE_OPERATIONS = ("create", "update", "delete")


def list_pages(jobs: int) -> int:
    """Return the list requests needed to read ``jobs`` jobs, paging until a short page."""
    return jobs // PAGE_SIZE + 1


@dataclass
class Phase:
    """The requests of one sync beside their minimum."""

    name: str
    counts: dict[str, int]
    min_list: int
    min_writes: int
    sample: Sample
    note: str = ""

    @property
    def writes(self) -> int:
        return sum(self.counts.get(op, 0) for op in WRITE_OPERATIONS)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def minimum(self) -> int:
        return self.min_list + self.min_writes

    def to_dict(self) -> dict:
        return {
            "phase": self.name,
            "requests": self.counts,
            "writes": self.writes,
            "total": self.total,
            "min_list": self.min_list,
            "min_writes": self.min_writes,
            "minimum": self.minimum,
            "wall_s": round(self.sample.wall, 2),
            "exit": self.sample.returncode,
            "note": self.note,
        }


@dataclass
class ApiEconomy:
    label: str
    jobs: int = 0
    edited_uid: str = ""
    phases: list[Phase] = field(default_factory=list)
    command: str = ""


def edit_one_meeting(ics_text: str, job_count: Callable[[str], int]) -> tuple[str, str]:
    """Move one open-ended Asia/Kolkata series one hour later; return the new text and its UID.

    ``job_count(uid)`` returns how many jobs the account holds for a
    meeting. Of the candidates, the meeting with the most jobs is moved.
    The series chosen has no EXDATE and no RECURRENCE-ID override, so moving
    DTSTART and DTEND changes every occurrence and nothing else. Its SEQUENCE
    goes up by one, as a calendar client's edit would do.
    """
    blocks = re.split(r"(?=BEGIN:VEVENT\r\n)", ics_text)
    uid_counts = Counter(re.search(r"\r\nUID:(.+?)\r\n", b).group(1) for b in blocks if b.startswith("BEGIN:VEVENT"))
    candidates = []
    for index, block in enumerate(blocks):
        if not block.startswith("BEGIN:VEVENT"):
            continue
        uid = re.search(r"\r\nUID:(.+?)\r\n", block).group(1)
        if (uid_counts[uid] == 1 and "\r\nRRULE:" in block and "UNTIL=" not in block and "COUNT=" not in block
                and "\r\nEXDATE" not in block and "DTSTART;TZID=Asia/Kolkata:" in block and job_count(uid)):
            candidates.append((job_count(uid), index, uid))
    if not candidates:
        raise ValueError("the export has no open-ended Asia/Kolkata series without exceptions to edit")
    _, index, uid = max(candidates)
    edited = re.sub(r"((?:DTSTART|DTEND);TZID=Asia/Kolkata:\d{8}T)(\d\d)",
                    lambda m: f"{m.group(1)}{int(m.group(2)) + 1:02d}", blocks[index])
    blocks[index] = re.sub(r"\r\nSEQUENCE:(\d+)", lambda m: f"\r\nSEQUENCE:{int(m.group(1)) + 1}", edited)
    return "".join(blocks), uid


def _names_of(server: FakeEasyCron, uid: str) -> dict[str, dict]:
    wanted = uid_hash(uid)
    jobs = {}
    for job in server.jobs():
        key = parse_job_name(job.get("cron_job_name", ""))
        if key is not None and key.uid_hash == wanted:
            jobs[job["cron_job_name"]] = job
    return jobs


def measure_api_economy(label: str, ics: Path, directory: Path, now: str, out_dir: Path,
                        progress=print) -> ApiEconomy:
    """Run the three syncs of one export and return their request counts."""
    result = ApiEconomy(label)
    edited_path = out_dir / f"export-{label}-edited.ics"
    with FakeEasyCron(api_key=API_KEY) as server:
        env = plan_environment(
            EASYCRON_API_KEY=API_KEY,
            EASYCRON_API_URL=server.url,
            KOOKOO_API_KEY=BENCH_KOOKOO_KEY,
            ICS2CONF_STATE_DIR=str(out_dir / "state"),
        )

        def sync(path: Path, name: str) -> tuple[dict[str, int], Sample]:
            command = [*ics2conf_command(), "sync", str(path), "--directory", str(directory), "--now", now,
                       "--format", "json"]
            result.command = " ".join(command[1:])
            server.reset_counters()
            sample = run_measured(command, env=env, stdout_path=out_dir / f"sync-{label}-{name}.json",
                                  stderr_path=out_dir / f"sync-{label}-{name}.err")
            counts = {op: n for op, n in sorted(server.counts.items()) if n}
            progress(f"  {name}: exit {sample.returncode}, {sample.wall:.1f} s, requests {counts}")
            return counts, sample

        counts, sample = sync(ics, "first")
        result.jobs = len(server.jobs())
        result.phases.append(Phase("first sync (empty account)", counts, 1, result.jobs, sample))

        counts, sample = sync(ics, "unchanged")
        result.phases.append(Phase("unchanged re-sync", counts, list_pages(result.jobs), 0, sample))

        keys = [parse_job_name(job["cron_job_name"]) for job in server.jobs()]
        jobs_per_uid_hash = Counter(key.uid_hash for key in keys if key is not None)
        edited_text, uid = edit_one_meeting(ics.read_bytes().decode("utf-8"),
                                            lambda u: jobs_per_uid_hash[uid_hash(u)])
        edited_path.write_bytes(edited_text.encode("utf-8"))
        result.edited_uid = uid
        before = _names_of(server, uid)
        others_before = {j["cron_job_id"]: j for j in server.jobs() if j["cron_job_name"] not in before}
        jobs_before = len(server.jobs())
        counts, sample = sync(edited_path, "one-meeting-edited")
        after = _names_of(server, uid)
        others_after = {j["cron_job_id"]: j for j in server.jobs() if j["cron_job_name"] not in after}
        touched_others = sum(1 for job_id, job in others_before.items() if others_after.get(job_id) != job)
        note = (f"meeting {uid}: {len(before)} jobs before, {len(after)} after;"
                f" jobs of other meetings changed: {touched_others}")
        result.phases.append(Phase("one meeting moved by 1 h", counts, list_pages(jobs_before),
                                   len(set(before) | set(after)), sample, note))
    return result
