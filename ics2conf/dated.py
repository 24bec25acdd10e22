"""Dated cron expressions: the fewest exact expressions for a set of wall times.

Each dated expression pins the year, so it fires only at the listed times:
``minutes hours days months * years``, the product of five value sets.
Wall times are grouped by merging groups that agree on four fields and
differ in the fifth; the product of the merged sets is then still exactly
the union of the groups' times. Merging repeats until no two groups agree on
four fields, so no two emitted expressions can be joined by listing one
field's values together.
"""

from __future__ import annotations

from datetime import datetime

from .cronexpr import MAX_YEAR, MIN_YEAR
from .model import MAX_EXPRESSION_LENGTH
from .rules import format_values

# Field order in a group: years, months, days, hours, minutes.
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE = range(5)
_MERGE_ORDER = (_DAY, _MONTH, _MINUTE, _HOUR, _YEAR)

Group = tuple[frozenset[int], frozenset[int], frozenset[int], frozenset[int], frozenset[int]]


def group_wall_times(times: list[datetime]) -> list[Group]:
    """Group naive wall times into products of value sets, merged until stable."""
    groups: set[Group] = {
        (
            frozenset({t.year}),
            frozenset({t.month}),
            frozenset({t.day}),
            frozenset({t.hour}),
            frozenset({t.minute}),
        )
        for t in times
    }
    changed = True
    while changed:
        changed = False
        for index in _MERGE_ORDER:
            buckets: dict[tuple, set[int]] = {}
            for group in groups:
                key = group[:index] + group[index + 1:]
                buckets.setdefault(key, set()).update(group[index])
            if len(buckets) < len(groups):
                changed = True
                groups = {
                    key[:index] + (frozenset(values),) + key[index:] for key, values in buckets.items()
                }
    return sorted(groups, key=_group_order)


def _group_order(group: Group) -> tuple:
    return tuple(min(values) for values in group)


def render_group(group: Group) -> list[str]:
    """Render a group as dated expressions, split when one would pass EasyCron's length limit."""
    years, months, days, hours, minutes = group
    text = " ".join(
        [
            format_values(minutes, 0, 59),
            format_values(hours, 0, 23),
            format_values(days, 1, 31),
            format_values(months, 1, 12),
            "*",
            format_values(years, MIN_YEAR, MAX_YEAR),
        ]
    )
    if len(text) <= MAX_EXPRESSION_LENGTH:
        return [text]
    # Split the largest value set in two; each half is again an exact product.
    index = max(range(5), key=lambda i: len(group[i]))
    values = sorted(group[index])
    half = len(values) // 2
    result = []
    for piece in (values[:half], values[half:]):
        result.extend(render_group(group[:index] + (frozenset(piece),) + group[index + 1:]))
    return result


def dated_expressions(times: list[datetime]) -> list[str]:
    """Return dated expressions whose fires are exactly the naive wall times ``times``."""
    result: list[str] = []
    for group in group_wall_times(times):
        result.extend(render_group(group))
    return result
