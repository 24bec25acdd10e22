"""Resolve the time zones of calendar values to IANA zone names.

icalendar already turns a TZID into a ``tzinfo``: IANA names, Windows names
(``India Standard Time``), vendor-prefixed ids (``/mozilla.org/.../Europe/
Berlin``) and VTIMEZONE definitions under any name. This module adds what a
scheduler needs on top: an IANA name for the jobs, found by comparing a
custom definition's offsets with the IANA zones, a clear error for a TZID
nothing resolves, and Google's ``X-WR-TIMEZONE``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import icalendar
import x_wr_timezone
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

UTC_ZONE = "UTC"

# Offsets of a custom zone are compared with IANA zones at these instants:
# the 1st and 15th of every month at 12:00 UTC. Transitions found between two
# samples are then located to the minute and compared too.
_SAMPLE_YEARS = range(2020, 2046)
_SAMPLES = tuple(
    datetime(year, month, day, 12, tzinfo=UTC) for year in _SAMPLE_YEARS for month in range(1, 13) for day in (1, 15)
)
_PREFILTER = (datetime(2030, 1, 15, 12, tzinfo=UTC), datetime(2030, 7, 15, 12, tzinfo=UTC))


class UnknownTimezoneError(ValueError):
    """A TZID that neither IANA, the Windows table nor a VTIMEZONE resolves."""

    def __init__(self, tzid: str):
        super().__init__(tzid)
        self.tzid = tzid


def zone_info(name: str) -> ZoneInfo:
    """Return the ZoneInfo of an IANA name, raising UnknownTimezoneError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezoneError(name) from None


@functools.cache
def _link_targets() -> dict[str, str]:
    """Map backward-compatible IANA link names (Asia/Calcutta) to their zones (Asia/Kolkata)."""
    links: dict[str, str] = {}
    try:
        import tzdata

        table = Path(tzdata.__file__).parent / "zoneinfo" / "tzdata.zi"
        for line in table.read_text(encoding="utf-8").splitlines():
            # "L <target> <link name>" lines of the zic input format
            if line.startswith("L "):
                _, target, link = line.split()
                links[link] = target
    except (ImportError, OSError, ValueError):
        pass
    return links


def canonical_zone(name: str) -> str:
    """Return the canonical IANA name for a zone or link name (Asia/Calcutta -> Asia/Kolkata)."""
    if name in ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Z", "Etc/Zulu", "Zulu", "Etc/Universal", "Universal"):
        return UTC_ZONE
    links = _link_targets()
    seen = set()
    while name in links and name not in seen:
        seen.add(name)
        name = links[name]
    return name


@functools.cache
def _canonical_zone_names() -> tuple[str, ...]:
    links = _link_targets()
    names = sorted(
        name
        for name in available_timezones()
        if name not in links and "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return tuple(names)


def zone_name_hints(tzid: str | None) -> list[str]:
    """Return IANA names a TZID suggests: a Windows name's zone, or an IANA name inside a prefixed id."""
    if not tzid:
        return []
    cleaned = tzid.strip().strip('"').strip("/")
    hints = []
    if cleaned in WINDOWS_TO_OLSON:
        hints.append(WINDOWS_TO_OLSON[cleaned])
    parts = cleaned.split("/")
    for start in range(len(parts)):
        hints.append("/".join(parts[start:]))
    return [h for h in hints if _is_zone_name(h)]


def _is_zone_name(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def iana_name(tz: tzinfo | None, *, tzid: str | None = None, default_timezone: str = "Asia/Kolkata") -> str | None:
    """Return the IANA zone name jobs should use for values in ``tz``, or None when none matches.

    A ZoneInfo keeps its own key. Any other tzinfo (a VTIMEZONE definition,
    a fixed offset) maps to the first IANA zone whose offsets agree with it
    at every sample from 2020 to 2045 and at each of its transitions; names
    the TZID suggests are tried first, then ``default_timezone``.
    """
    if tz is None:
        return None
    if isinstance(tz, ZoneInfo):
        return canonical_zone(tz.key)
    if tz is UTC or tz == UTC:
        return UTC_ZONE
    return _match_custom_zone(_OffsetProbe(tz), tuple(zone_name_hints(tzid)), default_timezone)


class _OffsetProbe:
    """A tzinfo with a cached offset signature; hashable by identity for the match cache."""

    def __init__(self, tz: tzinfo):
        self.tz = tz

    def offset_at(self, instant: datetime) -> timedelta | None:
        try:
            return instant.astimezone(self.tz).utcoffset()
        except (ValueError, OverflowError, TypeError):
            return None

    @functools.cached_property
    def signature(self) -> tuple[timedelta | None, ...]:
        return tuple(self.offset_at(t) for t in _SAMPLES)

    @functools.cached_property
    def transitions(self) -> tuple[datetime, ...]:
        return _transitions(self.offset_at, self.signature)


def _transitions(offset_at, signature) -> tuple[datetime, ...]:
    """Locate, to the minute, each offset change between consecutive samples."""
    found = []
    for index in range(1, len(_SAMPLES)):
        if signature[index] == signature[index - 1]:
            continue
        low, high = _SAMPLES[index - 1], _SAMPLES[index]
        before = signature[index - 1]
        while high - low > timedelta(minutes=1):
            middle = low + (high - low) / 2
            middle = middle.replace(second=0, microsecond=0)
            if middle <= low:
                break
            if offset_at(middle) == before:
                low = middle
            else:
                high = middle
        found.append(high)
    return tuple(found)


_match_cache: dict[tuple[int, tuple[str, ...], str], str | None] = {}


def _match_custom_zone(probe: _OffsetProbe, hints: tuple[str, ...], default_timezone: str) -> str | None:
    key = (id(probe.tz), hints, default_timezone)
    if key in _match_cache:
        return _match_cache[key]
    result = None
    signature = probe.signature
    if all(offset is not None for offset in signature):
        for name in _candidates(hints, default_timezone):
            zone = ZoneInfo(name)
            if any(probe.offset_at(t) != t.astimezone(zone).utcoffset() for t in _PREFILTER):
                continue
            if tuple(t.astimezone(zone).utcoffset() for t in _SAMPLES) != signature:
                continue
            if _same_transitions(probe, zone):
                result = canonical_zone(name)
                break
    # The tzinfo object lives as long as icalendar's cache, so its id is stable.
    _match_cache[key] = result
    return result


def _same_transitions(probe: _OffsetProbe, zone: ZoneInfo) -> bool:
    for instant in probe.transitions:
        for moment in (instant - timedelta(minutes=1), instant):
            if probe.offset_at(moment) != moment.astimezone(zone).utcoffset():
                return False
    return True


def _candidates(hints: Iterable[str], default_timezone: str) -> Iterable[str]:
    seen: set[str] = set()
    for name in (*hints, default_timezone, UTC_ZONE, *_canonical_zone_names()):
        if name not in seen and _is_zone_name(name):
            seen.add(name)
            yield name


# --- reading values -------------------------------------------------------


def unknown_tzid(prop) -> str | None:
    """Return the TZID of a date-time property that icalendar could not resolve, else None.

    icalendar leaves such a value naive, which would otherwise read as a
    floating time; RFC 5545 section 3.2.19 makes a TZID without a matching
    VTIMEZONE an error, so it is reported instead of guessed.
    """
    values = prop if isinstance(prop, list) else [prop]
    for value in values:
        params = getattr(value, "params", None)
        tzid = params.get("TZID") if params is not None else None
        if not tzid:
            continue
        for item in _datetimes_of(value):
            if isinstance(item, datetime) and item.tzinfo is None:
                return str(tzid)
    return None


def _datetimes_of(value) -> list:
    dt = getattr(value, "dt", None)
    if dt is not None:
        return [dt[0] if isinstance(dt, tuple) else dt]
    dts = getattr(value, "dts", None)
    if dts is not None:
        return [d.dt[0] if isinstance(d.dt, tuple) else d.dt for d in dts]
    return []


def apply_x_wr_timezone(calendar: icalendar.Calendar) -> icalendar.Calendar:
    """Return the calendar with Google's X-WR-TIMEZONE applied to its UTC times.

    Google writes events in UTC and the calendar's zone in X-WR-TIMEZONE;
    a weekly meeting must repeat at the same local time across DST changes,
    which the ``x-wr-timezone`` package restores.
    """
    if "X-WR-TIMEZONE" not in calendar:
        return calendar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return x_wr_timezone.to_standard(calendar)


def reset_vtimezone_cache() -> None:
    """Forget VTIMEZONE definitions icalendar cached from previously parsed files.

    icalendar caches a VTIMEZONE by TZID for the whole process and keeps the
    first definition it sees, so two files defining the same custom TZID
    differently would otherwise share the first file's rules.
    """
    # NOTE: relies on icalendar 7's private cache attribute; without it the
    # first definition of a TZID wins for the rest of the process.
    cache = getattr(tzp, "_TZP__tz_cache", None)
    if isinstance(cache, dict):
        cache.clear()
        _match_cache.clear()


def as_aware(value: date | datetime, default_zone: tzinfo) -> datetime:
    """Return a date or floating date-time as an aware datetime in ``default_zone``."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=default_zone)
    if value.tzinfo is None:
        return value.replace(tzinfo=default_zone)
    return value
