"""Leave out meetings that ended before a cutoff date, reading them only as text.

A calendar export of several years is mostly past meetings, and parsing a
VEVENT with icalendar costs far more than reading its lines. ``plan`` and
``sync`` only need meetings that can still ring someone. So before parsing,
every VEVENT is checked on its unfolded text, and all VEVENTs of a UID are
dropped when each of them is certainly over before the cutoff.

A VEVENT directly inside the VCALENDAR is certainly over when:

- it has exactly one UID and one DTSTART, and the DTSTART's date is before
  the cutoff, and at most one RECURRENCE-ID;
- every RRULE has an UNTIL before the cutoff and no COUNT, and it has no RDATE;
- its RECURRENCE-ID, if any, is before the cutoff and has no RANGE parameter
  (RANGE=THISANDFUTURE changes later occurrences too);
- it contains no component other than VALARM.

The properties that decide it are split with icalendar's own content-line
parser and RRULE reader, and UIDs are unescaped as icalendar does, so both
read the same values. A UID is kept when any line with that UID lies outside
a VEVENT that is certainly over, at any depth and in any block. Anything this
check cannot read keeps the UID, and icalendar parses it as before.

When any line of the input is not plain (``NAME[;PARAMETERS]:VALUE`` with an
ASCII name, and BEGIN or END lines with nothing else on them), nothing is
dropped. icalendar reads such lines leniently, so its UIDs and nesting could
differ from the ones seen here. Calendar clients write plain lines, so their
exports are still checked.

The caller picks a cutoff days before now, so a UTC offset (at most 24 hours
in RFC 5545) cannot move a dropped occurrence past it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from icalendar.parser import Contentline
from icalendar.prop import vDDDTypes, vRecur, vText

from .sources import BOUNDARY_LINE

_DATE_VALUE = re.compile(r"\d{8}(?:T\d{6}Z?)?")
_PLAIN_LINE = re.compile(r"[A-Za-z0-9-]+[;:]")
_NAME = re.compile(r"([A-Za-z0-9-]+)[;:]")
_JUDGED_PROPERTIES = frozenset({"UID", "DTSTART", "RRULE", "RECURRENCE-ID", "RDATE"})


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
    """One VEVENT directly inside the VCALENDAR that is certainly over: its line range and UID."""

    first: int
    last: int  # index of its END:VEVENT line
    uid: str


def drop_past_events(texts: list[str], cutoff: date) -> tuple[list[str], PastEvents]:
    """Return ``texts`` (unfolded VCALENDAR blocks) without the meetings certainly over before ``cutoff``.

    A UID is dropped only when every line with that UID, in every block, lies
    in a VEVENT that is certainly over, because another version or an
    override could move the meeting into the future.
    """
    split = [text.split("\r\n") for text in texts]
    uid_lines: Counter[str] = Counter()  # UID value -> lines with it, anywhere in the input
    over_spans: list[list[_Span]] = []
    for lines in split:
        block_uids, spans, certain = _read_block(lines, cutoff)
        if not certain:
            # A UID this check cannot see could be a live version of a dropped meeting.
            return list(texts), PastEvents(event_numbers=[None] * len(texts))
        uid_lines.update(block_uids)
        over_spans.append(spans)

    over_counts = Counter(span.uid for spans in over_spans for span in spans)
    dropped_uids = {uid for uid, count in over_counts.items() if uid_lines[uid] == count}

    result = PastEvents(uids=dropped_uids)
    kept_texts: list[str] = []
    for text, lines, spans in zip(texts, split, over_spans):
        dropped = [span for span in spans if span.uid in dropped_uids]
        if not dropped:
            kept_texts.append(text)
            result.event_numbers.append(None)
            continue
        kept_texts.append(_without_spans(lines, dropped))
        result.event_numbers.append(_kept_event_numbers(lines, dropped))
        result.vevents += len(dropped)
    return kept_texts, result


def _read_block(lines: list[str], cutoff: date) -> tuple[list[str], list[_Span], bool]:
    """Return a block's UID values, its VEVENTs that are certainly over, and whether all its lines are plain.

    The VEVENTs judged are those directly inside the VCALENDAR. icalendar also
    reads lines that are not plain: a name with spaces or a non-ASCII letter in
    it (it removes the spaces and upper-cases with ``str.upper``), leading
    whitespace, a BEGIN or END with parameters or trailing whitespace. Its
    nesting and UIDs can then differ from what is read here.
    """
    uids: list[str] = []
    spans: list[_Span] = []
    depth = 0
    start = -1
    certain = True
    last = len(lines) - 1
    for index, line in enumerate(lines):
        if not _PLAIN_LINE.match(line):
            if index != last or line:  # the text ends with CRLF, so the last item is empty
                certain = False
            continue
        head = line[:5].upper()
        if head.startswith(("BEGIN", "END")):
            named = _NAME.match(line)
            if named[1].upper() not in ("BEGIN", "END"):
                continue  # a property such as ENDTIME, not a boundary
            if not BOUNDARY_LINE.fullmatch(line):
                certain = False
                continue
            upper = line.upper()
            if upper.startswith("BEGIN:"):
                depth += 1
                if depth == 2 and upper == "BEGIN:VEVENT":
                    start = index
            else:
                if depth == 2 and start >= 0 and upper == "END:VEVENT":
                    span = _judge(lines, start, index, cutoff)
                    if span is not None:
                        spans.append(span)
                start = -1 if depth == 2 else start
                depth -= 1
        elif head.startswith("UID"):
            uid = _uid_of(line)
            if uid is not None:
                uids.append(uid)
    return uids, spans, certain


def _judge(lines: list[str], first: int, last: int, cutoff: date) -> _Span | None:
    """Return the VEVENT between ``first`` and ``last`` as a span when it is certainly over, else None."""
    uids: list[str] = []
    starts: list[date | None] = []
    recurrences = 0
    nested = 0
    for line in lines[first + 1 : last]:
        named = _NAME.match(line)
        if named is None or ":" not in line:
            return None
        name = named[1].upper()
        if name == "BEGIN":
            nested += 1
            if line.upper().rstrip() != "BEGIN:VALARM":
                return None
            continue
        if name == "END":
            nested -= 1
            if nested < 0:
                return None  # an END that closes more than this VEVENT opened
            continue
        if nested or name not in _JUDGED_PROPERTIES:
            continue  # a VALARM's TRIGGER, an ATTENDEE or a DESCRIPTION cannot make it ring later
        if name == "UID":
            uid = _uid_of(line)
            if uid is None:
                return None
            uids.append(uid)
            continue
        parts = _parts(line)
        if parts is None:
            return None
        parameters, value = parts
        if name == "DTSTART":
            starts.append(_date_of(value, parameters))
        elif name == "RRULE":
            if not _rule_ends_before(value, cutoff):
                return None
        elif name == "RECURRENCE-ID":
            recurrences += 1
            recurrence = _date_of(value, parameters)
            if "RANGE" in parameters or recurrence is None or recurrence >= cutoff:
                return None
        else:  # RDATE adds occurrences that no UNTIL bounds
            return None
    if len(uids) != 1 or not uids[0] or len(starts) != 1 or starts[0] is None or starts[0] >= cutoff:
        return None
    if recurrences > 1:
        return None  # an error for the reader, which must report it as without skipping
    return _Span(first, last, uids[0])


def _parts(line: str) -> tuple[dict, str] | None:
    """Split a content line with icalendar's parser into (parameters, value), or None when it fails."""
    try:
        _, parameters, value = Contentline(line).parts()
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return {key.upper(): item for key, item in parameters.items()}, value


def _uid_of(line: str) -> str | None:
    """Return the value of a UID line as icalendar reads it, or None for another property."""
    if line[:4].upper() == "UID:" and "\\" not in line:
        return line[4:].strip()  # nothing to unescape, and no parameters to read
    named = _NAME.match(line)
    if named is None or named[1].upper() != "UID":
        return None
    parts = _parts(line)
    if parts is None:
        return None
    return str(vText.from_ical(parts[1])).strip()


def _date_of(value: str, parameters: dict) -> date | None:
    """Return the date of a DATE or DATE-TIME value that icalendar can read, else None."""
    if str(parameters.get("VALUE", "DATE-TIME")).upper() not in ("DATE", "DATE-TIME"):
        return None
    value = value.strip()
    if not _DATE_VALUE.fullmatch(value):
        return None
    try:
        moment = vDDDTypes.from_ical(value)
    except (ValueError, TypeError):
        return None
    if isinstance(moment, datetime):
        return moment.date()
    return moment if isinstance(moment, date) else None


def _rule_ends_before(value: str, cutoff: date) -> bool:
    """Return True when icalendar reads the RRULE with one UNTIL before ``cutoff`` and no COUNT."""
    try:
        rule = vRecur.from_ical(value)
    except (ValueError, TypeError, KeyError):
        return False
    until = rule.get("UNTIL")
    if "COUNT" in rule or not isinstance(until, list) or len(until) != 1:
        return False
    end = until[0]
    if isinstance(end, datetime):
        end = end.date()
    return isinstance(end, date) and end < cutoff


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
