"""Leave out meetings that ended before a cutoff date, reading them only as text.

A calendar export of several years is mostly past meetings, and parsing a
VEVENT with icalendar costs far more than reading its lines. ``plan`` and
``sync`` only need meetings that can still ring someone. So before parsing,
every VEVENT is checked on its unfolded text, and all VEVENTs of a UID are
dropped when each of them is certainly over before the cutoff.

A VEVENT is certainly over when:

- it has exactly one non-empty UID and one DTSTART, and the DTSTART's date is
  before the cutoff;
- every RRULE has an UNTIL before the cutoff and no COUNT, and it has no RDATE;
- its RECURRENCE-ID, if any, is before the cutoff and has no RANGE parameter
  (RANGE=THISANDFUTURE changes later occurrences too);
- it contains no component other than VALARM.

Anything else, including a line this check cannot read, keeps the UID, and
icalendar parses it as before. The caller picks a cutoff days before now, so
a time zone offset (at most 24 hours in RFC 5545) cannot move a dropped
occurrence past it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_DATE_VALUE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})(?:T\d{6}Z?)?\s*")
_UNTIL = re.compile(r"(?:^|;)UNTIL=(\d{4})(\d{2})(\d{2})", re.IGNORECASE)
_COUNT = re.compile(r"(?:^|;)COUNT=", re.IGNORECASE)
_OPEN_ENDED_PROPERTIES = frozenset({"RDATE"})
_JUDGED_PROPERTIES = frozenset({"UID", "DTSTART", "RRULE", "RECURRENCE-ID"}) | _OPEN_ENDED_PROPERTIES
_NAME = re.compile(r"\s*([A-Za-z0-9-]+)\s*[;:]")


@dataclass
class PastEvents:
    """The meetings ``drop_past_events`` left out: their UIDs, the VEVENT count and per-block numbering."""

    uids: set[str] = field(default_factory=set)
    vevents: int = 0
    # Per block of the input: the original number (0-based, in document order) of
    # each VEVENT left in the text, so messages can still name "event #N".
    event_numbers: list[list[int] | None] = field(default_factory=list)


@dataclass
class _Span:
    """One top-level VEVENT of a block: its line range and whether it is certainly over."""

    first: int
    last: int  # index of its END:VEVENT line
    uid: str | None
    over: bool


def drop_past_events(texts: list[str], cutoff: date) -> tuple[list[str], PastEvents]:
    """Return ``texts`` (unfolded VCALENDAR blocks) without the meetings certainly over before ``cutoff``.

    A UID is dropped only when every VEVENT with that UID, in every block, is
    certainly over, because another version or an override could move the
    meeting into the future.
    """
    split = [text.split("\r\n") for text in texts]
    spans = [_vevent_spans(lines, cutoff) for lines in split]

    live_uids: set[str] = set()
    candidate_uids: set[str] = set()
    for block_spans in spans:
        for span in block_spans:
            if span.uid is None:
                continue
            if span.over:
                candidate_uids.add(span.uid)
            else:
                live_uids.add(span.uid)
    dropped_uids = candidate_uids - live_uids

    result = PastEvents(uids=dropped_uids)
    kept_texts: list[str] = []
    for text, lines, block_spans in zip(texts, split, spans):
        dropped = [span for span in block_spans if span.uid in dropped_uids]
        if not dropped:
            kept_texts.append(text)
            result.event_numbers.append(None)
            continue
        kept_texts.append(_without_spans(lines, dropped))
        result.event_numbers.append(_kept_event_numbers(lines, dropped))
        result.vevents += len(dropped)
    return kept_texts, result


def _vevent_spans(lines: list[str], cutoff: date) -> list[_Span]:
    """Find the VEVENTs directly inside the VCALENDAR and judge each one."""
    spans: list[_Span] = []
    depth = 0
    start = -1
    for index, line in enumerate(lines):
        upper = line.upper()
        if upper.startswith("BEGIN:"):
            depth += 1
            if depth == 2 and upper.rstrip() == "BEGIN:VEVENT":
                start = index
        elif upper.startswith("END:"):
            if depth == 2 and start >= 0:
                if upper.rstrip() == "END:VEVENT":
                    spans.append(_judge(lines, start, index, cutoff))
                start = -1
            depth -= 1
    return spans


def _judge(lines: list[str], first: int, last: int, cutoff: date) -> _Span:
    uids: list[str] = []
    starts: list[date | None] = []
    over = True
    nested = 0
    for line in lines[first + 1 : last]:
        upper = line.upper()
        if upper.startswith("BEGIN:"):
            nested += 1
            if upper.rstrip() != "BEGIN:VALARM":
                over = False
            continue
        if upper.startswith("END:"):
            nested -= 1
            continue
        if nested:
            continue  # a VALARM's own TRIGGER or REPEAT does not ring anyone
        named = _NAME.match(line)
        if named is None or ":" not in line:
            over = False
            continue
        if named[1].upper() not in _JUDGED_PROPERTIES:
            continue
        name, parameters, value = _split_line(line)
        if name is None:
            over = False
        elif name == "UID":
            uids.append(value.strip())
        elif name == "DTSTART":
            starts.append(_date_of(value))
        elif name == "RRULE":
            untils = [_to_date(parts) for parts in _UNTIL.findall(value)]
            if len(untils) != 1 or untils[0] is None or untils[0] >= cutoff or _COUNT.search(value):
                over = False
        elif name == "RECURRENCE-ID":
            recurrence = _date_of(value)
            if "RANGE=" in parameters.upper() or recurrence is None or recurrence >= cutoff:
                over = False
        elif name in _OPEN_ENDED_PROPERTIES:
            over = False
    uid = uids[0] if len(uids) == 1 and uids[0] else None
    if uid is None or len(starts) != 1 or starts[0] is None or starts[0] >= cutoff:
        over = False
    return _Span(first, last, uid, over)


def _split_line(line: str) -> tuple[str | None, str, str]:
    """Split a content line into (upper-case name, parameters, value); name is None when unreadable.

    The value starts at the first colon outside a quoted parameter value
    (RFC 5545 section 3.1), so a TZID such as ``"Eastern: US"`` does not end it.
    """
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            head, value = line[:index], line[index + 1 :]
            name, _, parameters = head.partition(";")
            name = name.strip().upper()
            return (name or None), parameters, value
    return None, "", ""


def _date_of(value: str) -> date | None:
    match = _DATE_VALUE.fullmatch(value)
    return _to_date(match.groups()) if match else None


def _to_date(parts: tuple[str, ...]) -> date | None:
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _without_spans(lines: list[str], dropped: list[_Span]) -> str:
    kept: list[str] = []
    position = 0
    for span in dropped:
        kept.extend(lines[position : span.first])
        position = span.last + 1
    kept.extend(lines[position:])
    return "\r\n".join(kept)


def _kept_event_numbers(lines: list[str], dropped: list[_Span]) -> list[int]:
    """Return the document-order numbers of the VEVENTs (at any depth) left in the block."""
    dropped_ranges = [(span.first, span.last) for span in dropped]
    numbers: list[int] = []
    number = 0
    next_range = 0
    for index, line in enumerate(lines):
        if line.upper().rstrip() != "BEGIN:VEVENT":
            continue
        while next_range < len(dropped_ranges) and dropped_ranges[next_range][1] < index:
            next_range += 1
        inside = next_range < len(dropped_ranges) and dropped_ranges[next_range][0] <= index
        if not inside:
            numbers.append(number)
        number += 1
    return numbers
