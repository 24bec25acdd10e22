"""Every file of the public calendar corpus loads without an exception escaping.

The corpus holds real exports and deliberately broken files from the
icalendar and recurring-ical-events projects. It lives next to the
repository, and the test is skipped when it is absent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ics2conf.calendar import load_events
from ics2conf.errors import CalendarError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.ics")) if CORPUS.is_dir() else []
WINDOW = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))

pytestmark = pytest.mark.skipif(not FILES, reason=f"calendar corpus not found at {CORPUS}")


def test_corpus_loads_and_expands_without_exceptions():
    counts = {"files": 0, "events": 0, "problems": 0, "errors": 0, "unexpandable": 0}
    unnamed = []
    for path in FILES:
        result = load_events([str(path)])
        counts["files"] += 1
        counts["events"] += len(result.events)
        counts["problems"] += len(result.problems)
        for problem in result.problems:
            counts["errors"] += problem.level == "error"
            if str(path) not in (problem.source or "") + problem.message:
                unnamed.append((path.name, problem.message))

        for event in result.events:
            try:
                instants = event.occurrences(*WINDOW)
            except CalendarError as error:
                # The only exception occurrences() may raise; it names the UID.
                counts["unexpandable"] += 1
                assert event.uid in str(error)
                continue
            assert instants == sorted(instants), (path.name, event.uid)
            assert all(WINDOW[0] <= t < WINDOW[1] for t in instants), (path.name, event.uid)
            assert all(t.tzinfo is not None for t in instants), (path.name, event.uid)

    print(f"corpus sweep: {counts}")
    assert counts["files"] == len(FILES)
    assert unnamed == []
