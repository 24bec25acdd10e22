"""Drafts of schedule parts: dated drafts, joining drafts, and year-field ranges.

A draft is a cron expression with its kind and time zone, before it is
evaluated and numbered into a ``SchedulePart``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .cronexpr import MAX_YEAR, MIN_YEAR
from .dated import dated_expressions
from .dst import needs_utc
from .model import MAX_EXPRESSION_LENGTH
from .rules import format_values


@dataclass(frozen=True)
class Draft:
    """A cron expression for a part; ``kind`` is "e", "y", "d" or "u" as the part keys use."""

    kind: str
    expression: str
    timezone: str


def dated_drafts(instants: list[datetime], tz: ZoneInfo) -> list[Draft]:
    """Return dated drafts for ``instants``: in ``tz`` where the wall time is safe, else in UTC."""
    local_walls, utc_walls = [], []
    for instant in instants:
        if tz.key != "UTC" and needs_utc(instant, tz):
            utc_walls.append(instant.replace(tzinfo=None))
        else:
            local_walls.append(instant.astimezone(tz).replace(tzinfo=None))
    drafts = [Draft("d", text, tz.key) for text in dated_expressions(local_walls)]
    drafts += [Draft("u", text, "UTC") for text in dated_expressions(utc_walls)]
    return drafts


_FIELD_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6), (MIN_YEAR, MAX_YEAR))


def _plain_values(text: str, low: int, high: int) -> set[int] | None:
    """Return the values of a field made of numbers and ranges only, else None."""
    values: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            return None
        values.update(range(int(first), int(last if dash else first) + 1))
    return values if all(low <= v <= high for v in values) else None


def join(first: Draft, second: Draft) -> Draft | None:
    """Return one draft for two that differ in a single plain field, else None.

    Joining is exact because an expression's fires are a product over
    minute, hour, day, month and year. Both drafts combine their day fields
    the same way, so listing the differing field's values together fires
    exactly at the union.
    """
    if first.timezone != second.timezone:
        return None
    a, b = first.expression.split(), second.expression.split()
    if len(a) != len(b):
        return None
    differing = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differing) != 1:
        return None
    index = differing[0]
    low, high = _FIELD_BOUNDS[index]
    values_a, values_b = _plain_values(a[index], low, high), _plain_values(b[index], low, high)
    if values_a is None or values_b is None:
        return None
    joined = a.copy()
    joined[index] = format_values(values_a | values_b, low, high)
    other_day_field = {2: 4, 4: 2}.get(index)
    if other_day_field is not None and joined[index] == "*" and joined[other_day_field] not in ("*", "?"):
        return None  # a day field turning into '*' beside a restricted one would change the OR rule
    text = " ".join(joined)
    if len(text) > MAX_EXPRESSION_LENGTH:
        return None
    kind = "y" if "y" in (first.kind, second.kind) else first.kind
    return Draft(kind, text, first.timezone)


def join_all(drafts: list[Draft]) -> list[Draft]:
    """Join drafts pairwise until no two differ in a single plain field."""
    drafts = list(dict.fromkeys(drafts))
    joined_any = True
    while joined_any:
        joined_any = False
        for i in range(len(drafts)):
            for j in range(i + 1, len(drafts)):
                joined = join(drafts[i], drafts[j])
                if joined is not None:
                    drafts = [d for k, d in enumerate(drafts) if k not in (i, j)] + [joined]
                    joined_any = True
                    break
            if joined_any:
                break
    return drafts


def range_fields(
    months: tuple[int, ...], first: tuple[int, int], last: tuple[int, int] | None
) -> list[tuple[tuple[int, ...], str]]:
    """Split the months ``first`` .. ``last`` (None: no end) into (months, year field) pairs."""
    y0, m0 = first
    y1, m1 = (MAX_YEAR, 12) if last is None else last
    if (y0, m0) > (y1, m1):
        return []

    if y0 == y1:
        chosen = tuple(m for m in months if m0 <= m <= m1)
        return [(chosen, str(y0))] if chosen else []

    # Months of the first year, whole years, then months of the last year.
    result: list[tuple[tuple[int, ...], str]] = []
    head = tuple(m for m in months if m >= m0)
    first_full = y0
    if head != months:
        first_full = y0 + 1
        if head:
            result.append((head, str(y0)))

    tail = tuple(m for m in months if m <= m1)
    last_full = y1
    tail_part = None
    if tail != months:
        last_full = y1 - 1
        if tail:
            tail_part = (tail, str(y1))

    if first_full <= last_full:
        years = str(first_full) if first_full == last_full else f"{first_full}-{last_full}"
        result.append((months, years))
    if tail_part:
        result.append(tail_part)
    return result
